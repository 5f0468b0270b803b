//! S3 locations as Bedrock takes them for batch input and output (CreateModelInvocationJob's
//! S3Uri pattern, and S3's bucket naming rules).

use std::sync::OnceLock;

use regex::Regex;

use super::pattern::re;

/// Bedrock's S3Uri pattern for batch input and output (CreateModelInvocationJob).
pub const BEDROCK_S3_URI_PATTERN: &str = r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/[-!_*'().a-zA-Z0-9]+)*/?";

/// An S3 location: a bucket and a key that is a folder (prefix) or, for input, one `.jsonl` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub uri: String,
    pub bucket: String,
    /// The key as written, without a leading slash.
    pub key: String,
    /// True when the key names one `.jsonl` object rather than a folder.
    pub is_object: bool,
}

impl S3Location {
    pub fn parse(uri: &str) -> std::result::Result<Self, String> {
        static RE: OnceLock<Regex> = OnceLock::new();
        let full = re(&RE, &format!("^{BEDROCK_S3_URI_PATTERN}$"));
        if uri.len() > 1024 {
            return Err(format!("longer than Bedrock's limit of 1024 characters ({} characters)", uri.len()));
        }
        let Some(rest) = uri.strip_prefix("s3://") else {
            return Err("must start with s3:// (Bedrock's S3Uri pattern)".into());
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if !full.is_match(uri) {
            return Err(explain_s3_uri(bucket, key));
        }
        if bucket.contains("..") || bucket.split('.').count() == 4 && bucket.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return Err(format!("bucket name {bucket:?} breaks S3's bucket naming rules (no '..', not an IP address)"));
        }
        Ok(S3Location { uri: uri.to_string(), bucket: bucket.to_string(), key: key.to_string(), is_object: key.ends_with(".jsonl") })
    }

    /// The folder the location names, with a trailing slash, or "" for the bucket root.
    /// For an object, its parent folder.
    pub fn folder(&self) -> String {
        if self.is_object {
            match self.key.rfind('/') {
                Some(i) => self.key[..=i].to_string(),
                None => String::new(),
            }
        } else if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        }
    }

    /// The key pattern of the objects the location covers: the object itself, or `folder*`.
    pub fn object_pattern(&self) -> String {
        if self.is_object {
            self.key.clone()
        } else {
            format!("{}*", self.folder())
        }
    }

    /// The `s3:prefix` pattern a ListBucket on this location uses, or None for the whole bucket.
    pub fn list_prefix_pattern(&self) -> Option<String> {
        if self.is_object {
            Some(self.key.clone())
        } else if self.folder().is_empty() {
            None
        } else {
            Some(format!("{}*", self.folder()))
        }
    }
}

fn explain_s3_uri(bucket: &str, key: &str) -> String {
    let rule = format!("rejected by Bedrock's S3Uri pattern {BEDROCK_S3_URI_PATTERN}");
    if bucket.len() < 3 || bucket.len() > 63 {
        return format!("{rule}: the bucket name must be 3 to 63 characters");
    }
    if let Some(c) = bucket.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.')) {
        return format!("{rule}: the bucket name may hold only lowercase letters, digits, '-' and '.', not {c:?}");
    }
    if bucket.starts_with(['-', '.']) || bucket.ends_with(['-', '.']) {
        return format!("{rule}: the bucket name must start and end with a letter or digit");
    }
    if key.contains("//") {
        return format!("{rule}: the key has an empty path segment ('//')");
    }
    if let Some(c) = key.chars().find(|c| !(c.is_ascii_alphanumeric() || "-!_*'()./".contains(*c))) {
        return format!("{rule}: the key may hold only letters, digits and -!_*'()./, not {c:?}");
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_location_forms() {
        let l = S3Location::parse("s3://my-batch-in/jobs/in/").unwrap();
        assert_eq!(l.folder(), "jobs/in/");
        assert_eq!(l.object_pattern(), "jobs/in/*");
        assert_eq!(l.list_prefix_pattern().as_deref(), Some("jobs/in/*"));
        let l = S3Location::parse("s3://my-batch-in/jobs/in").unwrap();
        assert_eq!(l.folder(), "jobs/in/");
        let l = S3Location::parse("s3://my-batch-in/jobs/in/a.jsonl").unwrap();
        assert!(l.is_object);
        assert_eq!(l.folder(), "jobs/in/");
        assert_eq!(l.object_pattern(), "jobs/in/a.jsonl");
        let l = S3Location::parse("s3://my-batch-in").unwrap();
        assert_eq!(l.list_prefix_pattern(), None);
        assert_eq!(l.object_pattern(), "*");
        assert!(S3Location::parse("s3://My-Bucket/x").unwrap_err().contains("lowercase"));
        assert!(S3Location::parse("s3://bucket/has space/x").unwrap_err().contains("' '"));
        assert!(S3Location::parse("https://bucket/x").is_err());
    }
}

//! AWS regions: the known list, the partition a region belongs to, the nearest known region for
//! a typo, and the region the AWS configuration falls back on (the one setting the environment
//! may supply).

use super::low::Source;

/// Regions of the aws, aws-cn and aws-us-gov partitions.
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
];

/// The region the AWS configuration would use when no setting names one: AWS_REGION,
/// AWS_DEFAULT_REGION, then the profile's `region` in the AWS config file. Never asks the
/// instance metadata service.
pub async fn fallback_region(profile: Option<&str>) -> Option<(String, Source)> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return Some((v, Source::Environment(if var == "AWS_REGION" { "AWS_REGION" } else { "AWS_DEFAULT_REGION" })));
            }
        }
    }
    let mut builder = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        builder = builder.profile_name(p);
    }
    use aws_config::meta::region::ProvideRegion;
    builder.build().region().await.map(|r| (r.to_string(), Source::Profile))
}

pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The region if AWS has it; else the rule, with the nearest known region when one is close.
pub fn check_region(value: &str) -> std::result::Result<String, String> {
    if KNOWN_REGIONS.contains(&value) {
        return Ok(value.to_string());
    }
    let nearest = KNOWN_REGIONS.iter().min_by_key(|r| edit_distance(r, value)).copied().unwrap_or("us-east-1");
    let hint = if edit_distance(nearest, value) <= 3 { format!(" (did you mean {nearest}?)") } else { String::new() };
    Err(format!("not a known AWS region; expected one like us-east-1{hint}"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_suggests() {
        assert_eq!(edit_distance("us-east-1", "us-esat-1"), 2);
    }
}

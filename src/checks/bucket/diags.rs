//! Buckets and input: the buckets exist in the job's region and belong to the account, and the
//! input URI holds `.jsonl` objects (AWS's "Format and upload your batch inference data").

use crate::findings::Finding;

crate::family_codes! { "bucket", "Buckets and input";
    BucketMissing = "bucket-missing", Error, "A configured bucket does not exist.";
    BucketWrongRegion = "bucket-wrong-region", Error, "A bucket is in another region than the jobs.";
    BucketOtherAccount = "bucket-other-account", Error, "A bucket belongs to another account.";
    InputObjectMissing = "input-object-missing", Error, "No .jsonl input object exists at the input URI.";
}

pub fn missing(bucket: &str, region: &str) -> Finding {
    Finding::new(
        Code::BucketMissing,
        format!("s3://{bucket}"),
        format!("HeadBucket: no bucket {bucket} (404)"),
        format!(
            "aws s3api create-bucket --bucket {bucket} --region {region}{} (or bedbatch-doctor apply)",
            if region == "us-east-1" { String::new() } else { format!(" --create-bucket-configuration LocationConstraint={region}") }
        ),
    )
}

pub fn other_account(bucket: &str, account: &str) -> Finding {
    Finding::new(
        Code::BucketOtherAccount,
        format!("s3://{bucket}"),
        format!("HeadBucket with ExpectedBucketOwner = {account} was refused; without it the bucket answers"),
        "use a bucket of this account, or have the owner grant the role in the bucket policy and set s3BucketOwner on the job",
    )
}

pub fn wrong_region(bucket: &str, bucket_region: &str, region: &str) -> Finding {
    Finding::new(
        Code::BucketWrongRegion,
        format!("s3://{bucket}"),
        format!("the bucket is in {bucket_region}; the jobs run in {region}"),
        format!("use a bucket in {region}, or set region = \"{bucket_region}\""),
    )
}

pub fn input_missing(input_uri: &str, is_object: bool) -> Finding {
    Finding::new(
        Code::InputObjectMissing,
        input_uri,
        format!("no .jsonl object at {input_uri}"),
        format!("aws s3 cp input.jsonl {input_uri}{}", if is_object || input_uri.ends_with('/') { "" } else { "/" }),
    )
}

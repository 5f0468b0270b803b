//! Each configured bucket exists (HeadBucket), is in the job's region (GetBucketLocation) and
//! belongs to the account (HeadBucket with ExpectedBucketOwner); the input URI holds `.jsonl`.

pub mod diags;
pub use diags::Code;

use super::outcome::Outcome;
use crate::desired::Desired;
use crate::snapshot::{Known, Snapshot};

const F: &str = Code::FAMILY;

pub fn check(snap: &Snapshot, desired: &Desired, out: &mut Outcome) {
    let region = desired.rctx.region.as_str();
    for b in &snap.buckets {
        let exists_name = format!("s3://{} exists", b.name);
        match &b.exists {
            Known::Unknown(e) => {
                out.unknown(F, exists_name, &[Code::BucketMissing.into()], format!("HeadBucket: {e}"));
                continue;
            }
            Known::Value(false) => {
                out.check(F, exists_name, &[Code::BucketMissing.into()], vec![diags::missing(&b.name, region)]);
                continue;
            }
            Known::Value(true) => out.check(F, exists_name, &[Code::BucketMissing.into()], vec![]),
        }
        let owner_name = format!("s3://{} belongs to the account", b.name);
        match &b.owned_by_account {
            Known::Unknown(e) => out.unknown(F, owner_name, &[Code::BucketOtherAccount.into()], e.to_string()),
            Known::Value(false) => {
                out.check(F, owner_name, &[Code::BucketOtherAccount.into()], vec![diags::other_account(&b.name, &snap.account_id)])
            }
            Known::Value(true) => out.check(F, owner_name, &[Code::BucketOtherAccount.into()], vec![]),
        }
        let region_name = format!("s3://{} is in {region}", b.name);
        match &b.region {
            Known::Unknown(e) => out.unknown(F, region_name, &[Code::BucketWrongRegion.into()], format!("GetBucketLocation: {e}")),
            Known::Value(None) => out.unknown(F, region_name, &[Code::BucketWrongRegion.into()], "GetBucketLocation was not read"),
            Known::Value(Some(r)) => {
                let f = if r != region { vec![diags::wrong_region(&b.name, r, region)] } else { vec![] };
                out.check(F, region_name, &[Code::BucketWrongRegion.into()], f);
            }
        }
    }
    let Ok(input) = desired.settings.input() else { return };
    let holds = format!("{} holds .jsonl input", input.uri);
    match snap.bucket(&input.bucket).map(|b| &b.exists) {
        // The bucket's own line says why: a missing bucket holds nothing, an unknown one is unknown.
        Some(Known::Value(false)) => {}
        Some(Known::Unknown(e)) => out.unknown(F, holds, &[Code::InputObjectMissing.into()], format!("HeadBucket: {e}")),
        _ => match &snap.input_objects {
            Known::Unknown(e) => out.unknown(F, holds, &[Code::InputObjectMissing.into()], format!("the input objects could not be listed: {e}")),
            Known::Value(objects) => {
                let f = if objects.is_empty() { vec![diags::input_missing(&input.uri, input.is_object)] } else { vec![] };
                out.check(F, holds, &[Code::InputObjectMissing.into()], f);
            }
        },
    }
}

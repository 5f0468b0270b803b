//! Properties of plan's normalise and merge, over generated policies (proptest): merging our
//! statements is idempotent, every foreign statement survives byte for byte, normalising is
//! idempotent and order-blind, and the diff of a document with itself is empty.

use bedbatch_doctor::plan::{diff, merge_by_sid, normalise, same};
use proptest::prelude::*;
use serde_json::{json, Value};

fn one_or_many(items: Vec<String>) -> Value {
    if items.len() == 1 {
        json!(items[0])
    } else {
        json!(items)
    }
}

/// A statement: optional Sid from a small set (so ours and theirs collide), actions, resources,
/// sometimes a condition and a principal.
fn statement(sids: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        proptest::option::of(proptest::sample::select(sids)),
        proptest::sample::select(&["Allow", "Deny"][..]),
        proptest::collection::vec(
            proptest::sample::select(&["s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "bedrock:InvokeModel"][..]),
            1..4,
        ),
        proptest::collection::vec("[a-z]{1,8}", 1..3),
        proptest::option::of(("[a-z]{1,6}", "[a-z0-9]{1,6}")),
        any::<bool>(),
    )
        .prop_map(|(sid, effect, actions, buckets, cond, principal)| {
            let mut st = serde_json::Map::new();
            if let Some(s) = sid {
                st.insert("Sid".into(), json!(s));
            }
            st.insert("Effect".into(), json!(effect));
            if principal {
                st.insert("Principal".into(), json!({"AWS": "arn:aws:iam::123456789012:role/R"}));
            }
            st.insert("Action".into(), one_or_many(actions.into_iter().map(String::from).collect()));
            st.insert("Resource".into(), one_or_many(buckets.into_iter().map(|b| format!("arn:aws:s3:::{b}/*")).collect()));
            if let Some((k, v)) = cond {
                st.insert("Condition".into(), json!({"StringEquals": {format!("aws:{k}"): v}}));
            }
            Value::Object(st)
        })
}

const OURS: &[&str] = &["BedrockBatchListInput", "BedrockBatchReadInput", "BedrockBatchWriteOutput"];
const THEIRS: &[&str] = &["TeamRead", "Audit", "BedrockBatchReadInput"];

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A live policy as AWS stores one: Sids unique within it (IAM User Guide, "IAM JSON policy
/// elements: Sid": "In IAM, the Sid value must be unique within a JSON policy").
fn live() -> impl Strategy<Value = Vec<Value>> {
    proptest::collection::vec(statement(THEIRS), 0..6).prop_map(|sts| {
        let mut seen = Vec::new();
        sts.into_iter()
            .map(|mut s| {
                if let Some(sid) = s.get("Sid").cloned() {
                    if seen.contains(&sid) {
                        s.as_object_mut().unwrap().remove("Sid");
                    } else {
                        seen.push(sid);
                    }
                }
                s
            })
            .collect()
    })
}

/// Our statements each carry one of our Sids, once.
fn ours() -> impl Strategy<Value = Value> {
    proptest::collection::vec(statement(&["x"]), 1..4).prop_map(|sts| {
        doc(sts
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                s["Sid"] = json!(OURS[i % OURS.len()]);
                s
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Vec::new(), |mut acc: Vec<Value>, s| {
                if !acc.iter().any(|a| a["Sid"] == s["Sid"]) {
                    acc.push(s);
                }
                acc
            }))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn merging_is_idempotent(live in live(), ours in ours()) {
        let live = doc(live);
        let once = merge_by_sid(Some(&live), &ours);
        let twice = merge_by_sid(Some(&once), &ours);
        prop_assert_eq!(&once, &twice);
        prop_assert!(diff(Some(&once), Some(&twice), "x").is_empty());
    }

    #[test]
    fn foreign_statements_survive_byte_for_byte(live in live(), ours in ours()) {
        let live_doc = doc(live.clone());
        let merged = merge_by_sid(Some(&live_doc), &ours);
        let our_sids: Vec<&Value> = ours["Statement"].as_array().unwrap().iter().map(|s| &s["Sid"]).collect();
        let out = merged["Statement"].as_array().unwrap();
        for st in live.iter().filter(|s| !our_sids.contains(&&s["Sid"])) {
            let text = serde_json::to_string(st).unwrap();
            prop_assert!(out.iter().any(|o| serde_json::to_string(o).unwrap() == text), "lost {}", text);
        }
        // Every one of ours is there exactly once.
        for sid in &our_sids {
            prop_assert_eq!(out.iter().filter(|o| &&o["Sid"] == sid).count(), 1);
        }
    }

    #[test]
    fn normalising_is_idempotent_and_order_blind(sts in proptest::collection::vec(statement(THEIRS), 1..5)) {
        let d = doc(sts.clone());
        let n = normalise(&d);
        prop_assert_eq!(&normalise(&n), &n);
        prop_assert!(diff(Some(&d), Some(&d), "x").is_empty());
        // Reordering lists inside statements is no change.
        let mut shuffled = sts.clone();
        for s in &mut shuffled {
            if let Some(Value::Array(a)) = s.get_mut("Action") {
                a.reverse();
            }
        }
        prop_assert!(same(&d, &doc(shuffled)));
    }
}

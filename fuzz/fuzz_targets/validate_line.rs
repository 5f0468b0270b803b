//! Any bytes, fed to the line validator of every model family: it must never panic, and the
//! fast path must report exactly what serde_json alone reports (problems, lines, counts).
#![no_main]

use bedbatch_doctor::families::Family;
use bedbatch_doctor::validate::{feed_buffer, Limits, Validator};
use libfuzzer_sys::fuzz_target;

fn validate(v: Validator, data: &[u8]) -> String {
    let mut v = v;
    v.feed(data);
    let rest = feed_buffer(&mut v, data);
    if rest > 0 {
        v.feed(&data[data.len() - rest..]);
    }
    serde_json::to_string(&v.finish("fuzz", Some("fuzz.jsonl"))).expect("a report serialises")
}

fuzz_target!(|data: &[u8]| {
    for family in Family::ALL {
        let limits = || Limits { max_output_tokens: Some(4096), forbids_temperature_with_top_p: true, ..Limits::default() };
        let fast = validate(Validator::new(family, limits(), 3), data);
        let slow = validate(Validator::new(family, limits(), 3).serde_only(), data);
        assert_eq!(fast, slow, "{family:?}");
    }
});

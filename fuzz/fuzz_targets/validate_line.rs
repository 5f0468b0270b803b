//! Any bytes, fed to the line validator of every model family: it must never panic.
#![no_main]

use bedbatch_doctor::jsonl::{feed_buffer, Family, Limits, Validator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for family in Family::ALL {
        let limits = Limits { max_output_tokens: Some(4096), forbids_temperature_with_top_p: true, ..Limits::default() };
        let mut v = Validator::new(family, limits, 3);
        v.feed(data);
        let rest = feed_buffer(&mut v, data);
        if rest > 0 {
            v.feed(&data[data.len() - rest..]);
        }
        let _ = v.finish("fuzz", Some("fuzz.jsonl"));
    }
});

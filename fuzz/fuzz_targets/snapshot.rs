//! Any text as a snapshot file: what parses is checked by every check family and reported.
//! Nothing may panic.
#![no_main]

use bedbatch_doctor::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(snap) = Snapshot::from_json(text) {
        if let Ok(outcome) = bedbatch_doctor::checks::run_snapshot(&snap) {
            let _ = bedbatch_doctor::report::text(&outcome);
            let _ = bedbatch_doctor::report::json(&outcome);
        }
        let _ = snap.redact();
    }
});

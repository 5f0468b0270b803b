//! Any text as a pasted AWS error message: mapped to codes. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = bedbatch_doctor::checks::codes_for_message(&text);
});

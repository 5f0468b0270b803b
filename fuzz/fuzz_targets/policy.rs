//! Any text as a policy document, plain or URL-encoded, of either kind; what parses is
//! evaluated (with trace, and decision only) for a few requests. Nothing may panic, and the two
//! evaluations must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    bedbatch_doctor::policy::selfcheck::evaluate_agrees_with_decide(text);
});

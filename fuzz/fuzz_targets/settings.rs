//! Any text as bedbatch.toml: parsed, then resolved and validated. Nothing may panic.
#![no_main]

use bedbatch_doctor::settings::{parse_file, resolve, Overrides};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("bedbatch.toml");
    if let Ok(file) = parse_file(text, path) {
        if let Ok(s) = resolve(file, Some(path.to_path_buf()), &Overrides::default(), None) {
            let _ = (s.region(), s.model(), s.input().map(|i| (i.folder(), i.object_pattern(), i.list_prefix_pattern())), s.output(), s.role_name());
        }
    }
});

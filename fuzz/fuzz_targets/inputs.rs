//! The small parsers of user input: `simulate --context KEY=VALUE` lines, S3 URIs, principal
//! ARNs, model ids and ARNs, role names and paths, and run manifests (with their report).
//! Nothing may panic.
#![no_main]

use bedbatch_doctor::settings::{validate_role_name, validate_role_path, ModelRef, PrincipalArn, S3Location};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let _ = bedbatch_doctor::commands::simulate::parse_context(&lines);
    for l in &lines {
        if let Ok(loc) = S3Location::parse(l) {
            let _ = (loc.folder(), loc.object_pattern(), loc.list_prefix_pattern());
        }
        let _ = PrincipalArn::parse(l);
        if let Ok(m) = ModelRef::parse(l) {
            let _ = (m.names_job_model(l), m.is_profile());
        }
        let _ = (validate_role_name(l), validate_role_path(l));
        let _ = bedbatch_doctor::run::shard::record_id(l.as_bytes());
    }
    if let Ok(m) = bedbatch_doctor::run::manifest::RunManifest::from_json(&text, "fuzz") {
        let _ = bedbatch_doctor::run::report(&m, &serde_json::json!({"models": {}}));
    }
});

//! Validating any text as identity.toml must never panic: it yields a
//! configuration or problems, and a problem's line is inside the text;
//! and the fast validation path, whenever it answers, answers as the full
//! one does.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tollgate::{Overrides, check, validation_paths_agree};

fuzz_target!(|text: &str| {
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let report = check(text, Path::new("identity.toml"), Overrides::None, now);
    assert_eq!(report.config.is_some(), report.errors.is_empty());
    let lines = text.split('\n').count();
    for p in report.errors.iter().chain(&report.warnings) {
        if let Some(line) = p.line {
            assert!(line >= 1 && line <= lines, "line {line} of {lines}");
        }
    }
    if let Err((fast, full)) = validation_paths_agree(text, Path::new("identity.toml"), now) {
        panic!("the validation paths disagree:\nfast: {fast}\nfull: {full}");
    }
});

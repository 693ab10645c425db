//! The bodies of the fuzz targets, shared with `tests/fuzz_regressions.rs`
//! (which runs every saved input through them as a normal test).
//!
//! Both must never panic, whatever the bytes.
#![allow(dead_code)]

use kready::engine::ActiveRule;
use kready::inventory::Mode;
use kready::scan::{self, Selection};
use kready::settings::Settings;
use kready::source::files::load_bytes;
use kready::yaml::Limits;
use std::sync::Arc;

/// Small limits so the fuzzer explores them instead of timing out.
pub fn fuzz_limits() -> Limits {
    Limits {
        max_depth: 64,
        max_alias_nodes: 10_000,
        ..Limits::default()
    }
}

/// Bytes → objects with positions. Checks that every object and every
/// diagnostic points inside the input.
pub fn loader(data: &[u8]) {
    let limits = fuzz_limits();
    let helm = data.first().is_some_and(|b| b & 1 == 1);
    let out = load_bytes(Arc::from("fuzz.yaml"), data, &limits, helm);
    let lines = yaml_lines(data) + 1;
    for d in &out.diagnostics {
        if let Some(p) = d.pos {
            assert!(
                p.line >= 1 && p.line <= lines,
                "{d:?} outside {lines} lines"
            );
        }
    }
    for o in &out.objects {
        assert!(o.root.pos.line >= 1 && o.root.pos.line <= lines);
    }
    assert_eq!(out.stats.objects, out.objects.len());
}

/// Lines as libyaml counts them: `\n`, `\r\n`, a lone `\r`, NEL, LS, PS.
fn yaml_lines(b: &[u8]) -> u32 {
    let text = String::from_utf8_lossy(b);
    let mut n = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => n += 1,
            _ => {}
        }
    }
    n
}

/// Bytes → report, rendered in every format.
pub fn pipeline(data: &[u8]) {
    let settings = Settings::default();
    let Ok(rules) = scan::select_rules(&Selection::default(), &settings) else {
        return;
    };
    let rules: Vec<ActiveRule> = rules;
    let source = load_bytes(Arc::from("fuzz.yaml"), data, &fuzz_limits(), false);
    let scan = scan::evaluate(source, Mode::Static, &settings, rules);
    let report = scan.report(&settings);
    let _ = kready::report::json::render(&report);
    let _ = kready::report::sarif::render(&report);
    let _ = kready::report::markdown::render(&report);
    let _ = kready::report::table::render(&report, false);
    let _ = kready::report::table::render(&report, true);
    for d in &report.diagnostics {
        let text = scan
            .texts()
            .get(&d.file)
            .map(|t| kready::diagnostic::SourceText::new(t.clone()));
        let _ = kready::diagnostic::render(d, text.as_ref(), false);
    }
}

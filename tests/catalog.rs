//! The catalog, the implementations and the fixtures match one to one, and
//! every rule RULES.md requires exists.

mod common;
use common::*;
use kready::catalog;
use std::collections::BTreeSet;

#[test]
fn catalog_parses() {
    // The docs part of every rule too: it is parsed only when first used.
    for m in catalog::parse_all().unwrap() {
        m.parse_docs().unwrap();
    }
}

#[test]
fn catalog_implementations_and_fixtures_match() {
    let cat: BTreeSet<String> = catalog::catalog().iter().map(|m| m.id.clone()).collect();
    let imps: Vec<&str> = kready::rules::all().iter().map(|r| r.id).collect();
    let imp_set: BTreeSet<String> = imps.iter().map(|s| s.to_string()).collect();
    assert_eq!(imps.len(), imp_set.len(), "a rule is registered twice");
    let fixtures: BTreeSet<String> = std::fs::read_dir(repo_root().join("fixtures/rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let no_impl: Vec<_> = cat.difference(&imp_set).collect();
    let no_meta: Vec<_> = imp_set.difference(&cat).collect();
    let no_fixture: Vec<_> = cat.difference(&fixtures).collect();
    let stray_fixture: Vec<_> = fixtures.difference(&cat).collect();
    assert!(no_impl.is_empty() && no_meta.is_empty() && no_fixture.is_empty() && stray_fixture.is_empty(),
        "catalog without implementation: {no_impl:?}\nimplementation without catalog: {no_meta:?}\nwithout fixtures: {no_fixture:?}\nfixtures without rule: {stray_fixture:?}");
}

#[test]
fn every_rule_has_words() {
    for m in catalog::catalog() {
        let d = m.docs();
        assert!(
            !m.title.is_empty() && !d.rationale.trim().is_empty(),
            "{}: title and rationale",
            m.id
        );
        assert!(
            !d.remediation.snippet.trim().is_empty(),
            "{}: remediation snippet",
            m.id
        );
        assert!(!d.references.is_empty(), "{}: references", m.id);
        assert!(
            m.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: kebab-case",
            m.id
        );
    }
}

/// Every rule ID that ../shared/RULES.md requires exists in the catalog.
#[test]
fn every_rule_of_the_specification_exists() {
    let spec = std::fs::read_to_string(shared().join("RULES.md")).expect("../shared/RULES.md");
    let required: BTreeSet<String> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("| ").and_then(|r| r.split(" |").next()))
        .filter(|id| {
            id.contains('-')
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .map(str::to_string)
        .collect();
    assert!(
        required.len() >= 100,
        "parsed {} IDs from RULES.md",
        required.len()
    );
    let missing: Vec<_> = required
        .iter()
        .filter(|id| catalog::find(id).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "rules required by RULES.md but missing: {missing:?}"
    );
}

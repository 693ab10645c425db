//! Helpers shared by integration tests.
#![allow(dead_code)]

use kready::catalog::{self, Scope};
use kready::engine::ActiveRule;
use kready::report::Report;
use kready::scan::{self, Selection};
use kready::settings::{KubeVersion, PssLevel, Settings, Thresholds};
use kready::yaml::{de::from_node, Limits};
use serde::Deserialize;
use std::path::Path;

/// Optional `settings.yaml` beside a rule's fixtures.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureSettings {
    pub kubernetes_version: Option<KubeVersion>,
    pub pss_level: Option<PssLevel>,
    pub pss_version: Option<KubeVersion>,
    pub cluster_profile: Option<bool>,
    pub live: Option<bool>,
    /// Whether rules may read `status` (defaults to `live`: a live scan does).
    pub read_status: Option<bool>,
    pub thresholds: Option<Thresholds>,
}

pub fn fixture_settings(dir: &Path, rule: &str) -> Settings {
    let mut s = Settings::default();
    let scope = catalog::find(rule).map(|m| m.scope);
    s.cluster_profile = scope == Some(Scope::Cluster);
    let f = dir.join("settings.yaml");
    if let Ok(text) = std::fs::read_to_string(&f) {
        let doc = kready::yaml::load(&text, &Limits::default())
            .docs
            .remove(0)
            .root;
        let fs: FixtureSettings = from_node(&doc)
            .unwrap_or_else(|e| panic!("{}: {} at {}", f.display(), e.message, e.pos));
        if let Some(v) = fs.kubernetes_version {
            s.kubernetes_version = v;
        }
        if let Some(v) = fs.pss_level {
            s.pss_level = v;
        }
        s.pss_version = fs.pss_version;
        if let Some(v) = fs.cluster_profile {
            s.cluster_profile = v;
        }
        if let Some(v) = fs.live {
            s.live = v;
        }
        s.read_status = fs.read_status.unwrap_or(s.live);
        if let Some(t) = fs.thresholds {
            s.thresholds = t;
        }
    }
    s
}

pub fn only(rule: &str, settings: &Settings) -> Vec<ActiveRule> {
    scan::select_rules(
        &Selection {
            only: vec![rule.to_string()],
            skip: vec![],
        },
        settings,
    )
    .expect("rule exists")
}

/// Scans paths with the given rules and returns the report.
pub fn scan_report(paths: &[String], settings: &Settings, rules: Vec<ActiveRule>) -> Report {
    scan::scan_paths(paths, settings, rules, &Limits::default()).report(settings)
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn shared() -> std::path::PathBuf {
    repo_root().join("../shared")
}

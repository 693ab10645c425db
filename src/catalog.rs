//! The rule catalog as data: `rules/<id>.yaml`, embedded at build time.
//! The words (title, rationale, remediation, references, aliases) live
//! here; the logic lives in `rules/`. Docs are generated from this, never
//! written twice.

use crate::yaml::{self, de::from_node, Limits};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
#[clap(rename_all = "kebab-case")]
pub enum Pillar {
    Security,
    Reliability,
    Observability,
    DisasterRecovery,
    Performance,
}

impl Pillar {
    pub const ALL: [Pillar; 5] = [
        Pillar::Security,
        Pillar::Reliability,
        Pillar::Observability,
        Pillar::DisasterRecovery,
        Pillar::Performance,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Pillar::Security => "security",
            Pillar::Reliability => "reliability",
            Pillar::Observability => "observability",
            Pillar::DisasterRecovery => "disaster-recovery",
            Pillar::Performance => "performance",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Pillar::Security => "Security",
            Pillar::Reliability => "Reliability",
            Pillar::Observability => "Observability",
            Pillar::DisasterRecovery => "Disaster recovery",
            Pillar::Performance => "Performance",
        }
    }
    pub fn parse(s: &str) -> Option<Pillar> {
        Pillar::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Pillar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered from least to most severe so `>=` compares gates.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Weight in the pillar score (DESIGN.md).
    pub fn weight(self) -> f64 {
        match self {
            Severity::Critical => 10.0,
            Severity::High => 6.0,
            Severity::Medium => 3.0,
            Severity::Low => 1.0,
            Severity::Info => 0.0,
        }
    }
    /// GitHub code scanning's `security-severity` (0.0–10.0).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "0.0",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Object,
    Relation,
    Namespace,
    Cluster,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Object => "object",
            Scope::Relation => "relation",
            Scope::Namespace => "namespace",
            Scope::Cluster => "cluster",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// What to change, in a sentence or two.
    pub text: String,
    /// A YAML snippet showing the fix.
    pub snippet: String,
}

/// Mapping to the Pod Security Standards reference implementation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PssMapping {
    pub level: crate::settings::PssLevel,
    /// Check name(s) of the reference implementation.
    pub checks: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    pub pillar: Pillar,
    pub severity: Severity,
    pub scope: Scope,
    pub title: String,
    pub rationale: String,
    pub remediation: Remediation,
    pub references: Vec<String>,
    /// IDs of the same check in other tools (polaris, kube-score, kube-linter, checkov, trivy, pss).
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss: Option<PssMapping>,
    /// Off unless configured (e.g. an allow-list is needed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in: bool,
}

impl RuleMeta {
    /// Where the rule's docs live (SARIF helpUri).
    pub fn help_uri(&self) -> String {
        format!(
            "https://github.com/kready/kready/blob/main/docs/rules.md#{}",
            self.id
        )
    }
}

/// Parses every embedded catalog file. Errors name the file and line: a
/// broken catalog is a build defect the catalog test catches.
pub fn parse_all() -> Result<Vec<RuleMeta>, String> {
    use rayon::prelude::*;
    // On every core: parsing the catalog is most of kready's start-up,
    // and a pre-commit run on a few files is mostly start-up.
    let mut out = embedded::FILES
        .par_iter()
        .map(|(name, text)| parse_one(name, text))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn parse_one(name: &str, text: &str) -> Result<RuleMeta, String> {
    let loaded = yaml::load(text, &Limits::default());
    if let Some(p) = loaded.problems.first() {
        return Err(format!("rules/{name}:{}: {}", p.pos, p.message));
    }
    let doc = loaded
        .docs
        .first()
        .ok_or_else(|| format!("rules/{name}: empty"))?;
    let meta: RuleMeta = from_node(&doc.root)
        .map_err(|e| format!("rules/{name}:{}: {} (at {})", e.pos, e.message, e.path))?;
    if format!("{}.yaml", meta.id) != *name {
        return Err(format!(
            "rules/{name}: id `{}` does not match the file name",
            meta.id
        ));
    }
    Ok(meta)
}

/// The embedded text of a data file, `rules/data/<name>` (e.g. `components.yaml`).
pub fn data_file(name: &str) -> Option<&'static str> {
    embedded::DATA
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// The catalog, parsed once.
pub fn catalog() -> &'static [RuleMeta] {
    static CATALOG: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        parse_all().unwrap_or_else(|e| panic!("embedded rule catalog is invalid: {e}"))
    })
}

pub fn find(id: &str) -> Option<&'static RuleMeta> {
    catalog().iter().find(|m| m.id == id)
}

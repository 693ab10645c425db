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
mod split;

use split::{part, Part};

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

/// A rule's words. The catalog is read at every start, and a pre-commit
/// run on a few files is mostly start-up: the fields a scan reads (ID,
/// pillar, severity, scope, title, PSS mapping) come compiled to JSON by
/// the build script; the long texts (`RuleDocs`, 89 % of the catalog's
/// bytes) are parsed from the YAML when first asked for (`docs()`: SARIF,
/// `kready rules`, `kready explain`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    pub pillar: Pillar,
    pub severity: Severity,
    pub scope: Scope,
    pub title: String,
    #[serde(default)]
    pub pss: Option<PssMapping>,
    /// Off unless configured (e.g. an allow-list is needed).
    #[serde(default)]
    pub opt_in: bool,
    #[serde(skip)]
    docs: LazyDocs,
}

/// The long texts of a rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDocs {
    pub rationale: String,
    pub remediation: Remediation,
    pub references: Vec<String>,
    /// IDs of the same check in other tools (polaris, kube-score, kube-linter, checkov, trivy, pss).
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
}

/// The docs part of a catalog file, parsed on first use.
#[derive(Clone, Debug, Default)]
struct LazyDocs {
    file: &'static str,
    /// The whole file.
    source: &'static str,
    parsed: OnceLock<RuleDocs>,
}

/// `kready rules -f json` lists every field, in the file's order.
impl Serialize for RuleMeta {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            id: &'a str,
            pillar: Pillar,
            severity: Severity,
            scope: Scope,
            title: &'a str,
            rationale: &'a str,
            remediation: &'a Remediation,
            references: &'a [String],
            aliases: &'a BTreeMap<String, Vec<String>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pss: &'a Option<PssMapping>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            opt_in: bool,
        }
        let d = self.docs();
        Out {
            id: &self.id,
            pillar: self.pillar,
            severity: self.severity,
            scope: self.scope,
            title: &self.title,
            rationale: &d.rationale,
            remediation: &d.remediation,
            references: &d.references,
            aliases: &d.aliases,
            pss: &self.pss,
            opt_in: self.opt_in,
        }
        .serialize(s)
    }
}

impl RuleMeta {
    /// Rationale, remediation, references and aliases.
    pub fn docs(&self) -> &RuleDocs {
        self.docs.parsed.get_or_init(|| {
            self.parse_docs()
                .unwrap_or_else(|e| panic!("embedded rule catalog is invalid: {e}"))
        })
    }

    /// Parses the docs part (the catalog test calls it for every rule).
    pub fn parse_docs(&self) -> Result<RuleDocs, String> {
        let file = self.docs.file;
        parse_yaml(file, &part(file, self.docs.source, Part::Docs)?)
    }

    /// Where the rule's docs live (SARIF helpUri).
    pub fn help_uri(&self) -> String {
        format!(
            "https://github.com/kready/kready/blob/main/docs/rules.md#{}",
            self.id
        )
    }
}

/// Reads every embedded catalog file's head. Errors name the file: a
/// broken catalog is a build defect the catalog test catches (a YAML
/// error already stops the build, with its line).
pub fn parse_all() -> Result<Vec<RuleMeta>, String> {
    // Serially: the compiled heads read in a fraction of a millisecond,
    // less than handing them to other threads costs.
    let mut out = embedded::FILES
        .iter()
        .map(|(name, text, head)| parse_one(name, text, head))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// A rule from its head, compiled to JSON by the build script (the
/// catalog test holds it to the YAML: `heads_compile_to_the_yaml`).
fn parse_one(
    name: &'static str,
    text: &'static str,
    head: &'static str,
) -> Result<RuleMeta, String> {
    let mut meta: RuleMeta =
        serde_json::from_str(head).map_err(|e| format!("rules/{name}: {e}"))?;
    if format!("{}.yaml", meta.id) != *name {
        return Err(format!(
            "rules/{name}: id `{}` does not match the file name",
            meta.id
        ));
    }
    meta.docs = LazyDocs {
        file: name,
        source: text,
        parsed: OnceLock::new(),
    };
    Ok(meta)
}

fn parse_yaml<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    let loaded = yaml::load(text, &Limits::default());
    if let Some(p) = loaded.problems.first() {
        return Err(format!("rules/{name}:{}: {}", p.pos, p.message));
    }
    let doc = loaded
        .docs
        .first()
        .ok_or_else(|| format!("rules/{name}: empty"))?;
    from_node(&doc.root)
        .map_err(|e| format!("rules/{name}:{}: {} (at {})", e.pos, e.message, e.path))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Map, Node};
    use split::DOCS_KEYS;

    fn root(text: &str) -> Map {
        let loaded = yaml::load(text, &Limits::default());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        loaded.docs[0].root.as_map().cloned().unwrap_or_default()
    }

    /// The two parts hold every entry of the file, each once, with the
    /// file's own values and positions (block scalars, nested mappings
    /// and sequences at column 0 included).
    #[test]
    fn split_keeps_every_entry_and_position() {
        let mut files: Vec<(&str, &str)> = embedded::FILES.iter().map(|f| (f.0, f.1)).collect();
        files.push((
            "shapes.yaml",
            "id: x\nrationale: |\n  a\n\n  b\nreferences:\n- https://a\n- https://b\n# note\ntitle: T\naliases:\n  kube-score: [y]\nremediation:\n  text: t\n  snippet: |\n    kind: Pod\n",
        ));
        for (name, text) in files {
            let head = part(name, text, Part::Head).unwrap();
            let docs = part(name, text, Part::Docs).unwrap();
            assert_eq!(head.lines().count(), text.lines().count(), "{name}");
            let whole = root(text);
            let (head, docs) = (root(&head), root(&docs));
            assert_eq!(
                head.entries.len() + docs.entries.len(),
                whole.entries.len(),
                "{name}"
            );
            for (k, v) in &whole.entries {
                let part = if DOCS_KEYS.contains(&k.text.as_str()) {
                    &docs
                } else {
                    &head
                };
                let found: Option<&(crate::yaml::Key, Node)> =
                    part.entries.iter().find(|(pk, _)| pk.text == k.text);
                assert_eq!(found, Some(&(k.clone(), v.clone())), "{name}: {}", k.text);
            }
        }
    }

    #[test]
    fn a_file_of_another_shape_is_an_error() {
        for text in ["---\nid: x\n", "\"id\": x\n", "{id: x}\n"] {
            let e = part("odd.yaml", text, Part::Head).unwrap_err();
            assert!(e.starts_with("rules/odd.yaml:1: "), "{e}");
        }
    }

    /// What the build script compiled is what the YAML says: each head,
    /// read from its YAML by kready's own loader, equals the JSON one.
    #[test]
    fn heads_compile_to_the_yaml() {
        assert!(embedded::FILES.len() > 100);
        for (name, text, head) in embedded::FILES {
            let from_yaml: RuleMeta = parse_yaml(name, &part(name, text, Part::Head).unwrap())
                .unwrap_or_else(|e| panic!("{e}"));
            let compiled: RuleMeta = serde_json::from_str(head).unwrap();
            assert_eq!(format!("{from_yaml:?}"), format!("{compiled:?}"), "{name}");
            assert!(!compiled.id.is_empty(), "{name}");
        }
    }

    #[test]
    fn docs_are_parsed_on_first_use() {
        let m = parse_all().unwrap().remove(0);
        assert!(m.docs.parsed.get().is_none());
        assert!(!m.docs().references.is_empty());
        assert!(m.docs.parsed.get().is_some());
    }
}

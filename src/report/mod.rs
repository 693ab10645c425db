//! One result set, rendered in every format. `Report` is the JSON schema
//! (`kready.report/v1`, see `schemas/kready-report-v1.schema.json`); the
//! other renderers read the same struct and decide nothing themselves.

pub mod json;
pub mod markdown;
pub mod policyreport;
pub mod sarif;
pub mod table;

use crate::catalog::{Pillar, Severity};
use crate::diagnostic::Diagnostic;
use crate::engine::{Results, Subject};
use crate::inventory::prehashed::PrehashedMap;
use crate::inventory::Inventory;
use crate::score;
use crate::settings::Settings;
use crate::source::{Skipped, Stats};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const SCHEMA: &str = "kready.report/v1";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub scan: ScanInfo,
    pub summary: Summary,
    pub score: ScoreOut,
    pub coverage: Coverage,
    pub rules: Vec<RuleOut>,
    pub findings: Vec<FindingOut>,
    pub diagnostics: Vec<Diagnostic>,
    pub skipped: Vec<Skipped>,
    /// Passing checks per namespace, for PolicyReport summaries; not in
    /// the JSON report (its per-rule counts hold the same passes).
    #[serde(skip)]
    pub passes: PassCounts,
}

/// Passing checks by where their subject lives.
#[derive(Debug, Default)]
pub struct PassCounts {
    pub by_namespace: BTreeMap<String, usize>,
    /// Cluster-scoped objects and cluster-wide checks.
    pub cluster: usize,
}

impl PassCounts {
    fn of(results: &Results, inv: &Inventory) -> PassCounts {
        let passes = &results.passes;
        let namespaces = passes
            .namespaces
            .iter()
            .map(|(ns, n)| (Some(ns.as_str()), *n));
        let objects = passes.objects.iter().map(|(i, n)| {
            let ns = inv.objects.get(*i).and_then(|o| o.effective_namespace());
            (ns, *n)
        });
        let mut out = PassCounts {
            cluster: passes.cluster,
            ..Default::default()
        };
        for (ns, n) in namespaces.chain(objects) {
            match ns {
                Some(ns) => match out.by_namespace.get_mut(ns) {
                    Some(c) => *c += n,
                    None => {
                        out.by_namespace.insert(ns.to_string(), n);
                    }
                },
                None => out.cluster += n,
            }
        }
        out
    }
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanInfo {
    /// `static` or `live`.
    pub mode: &'static str,
    pub kubernetes_version: String,
    pub pss_level: crate::settings::PssLevel,
    pub pss_version: String,
    pub cluster_profile: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(flatten)]
    pub input: Stats,
    /// Unsuppressed findings.
    pub findings: usize,
    pub suppressed: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    /// Input diagnostics by level.
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreOut {
    /// Mean of the pillar scores that exist; null when nothing was evaluated.
    pub overall: Option<f64>,
    pub grade: Option<&'static str>,
    pub pillars: Vec<PillarOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PillarOut {
    pub pillar: Pillar,
    pub score: Option<f64>,
    pub grade: Option<&'static str>,
    /// Rules of this pillar that evaluated at least one subject.
    pub rules_evaluated: usize,
    pub rules_enabled: usize,
    pub findings: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub rules_enabled: usize,
    /// Rules that evaluated at least one subject.
    pub rules_evaluated: usize,
    /// Rules with some subjects not evaluated, and why.
    pub not_evaluated: Vec<NotEvaluatedOut>,
    /// Live scans and snapshots: kinds that could not be listed (forbidden,
    /// failed, timed out), so their objects were not judged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unlisted: Vec<UnlistedOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlistedOut {
    pub kind: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotEvaluatedOut {
    pub rule: String,
    pub reason: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOut {
    pub id: String,
    pub title: String,
    pub pillar: Pillar,
    pub severity: Severity,
    pub scope: crate::catalog::Scope,
    pub passed: usize,
    pub failed: usize,
    pub suppressed: usize,
    pub not_evaluated: usize,
    pub score: Option<f64>,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LocationOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Field path inside the object (`spec.template.spec.containers[0].image`).
    pub path: String,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct FindingOut {
    /// Borrowed from the catalog, and the object reference shared by the
    /// findings of one object: a cluster scan can have 100,000 findings.
    pub rule_id: &'static str,
    pub title: &'static str,
    pub pillar: Pillar,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Arc<ObjectRef>>,
    /// For namespace-scope findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub location: LocationOut,
    /// Stable across unrelated edits: rule, object and field, not line.
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<SuppressionOut>,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SuppressionOut {
    /// `annotation`, `config`, `default-exemption` or `baseline`.
    pub kind: String,
    pub justification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Suppression decisions per finding index (filled by the config stage).
pub type Suppressions = HashMap<usize, SuppressionOut>;

pub struct BuildInput<'a> {
    pub results: &'a Results,
    pub inv: &'a Inventory,
    pub settings: &'a Settings,
    pub stats: Stats,
    pub diagnostics: Vec<Diagnostic>,
    pub skipped: Vec<Skipped>,
    pub suppressions: &'a Suppressions,
}

pub fn build(input: BuildInput) -> Report {
    let BuildInput {
        results,
        inv,
        settings,
        stats,
        diagnostics,
        skipped,
        suppressions,
    } = input;

    // A failed subject whose findings are all suppressed does not count.
    // Only rules with a suppressed finding can have one: the findings of
    // the others are not looked at (a large scan has 100,000 of them and
    // a handful of suppressions).
    let mut suppressed_rule = vec![false; results.rules.len()];
    for f in suppressions
        .keys()
        .filter_map(|fi| results.findings.get(*fi))
    {
        suppressed_rule[f.rule] = true;
    }
    let mut open_per_subject: HashMap<(usize, &Subject), (usize, usize)> = HashMap::new();
    for (fi, f) in results.findings.iter().enumerate() {
        if !suppressed_rule[f.rule] {
            continue;
        }
        let e = open_per_subject.entry((f.rule, &f.subject)).or_default();
        e.0 += 1;
        if suppressions.contains_key(&fi) {
            e.1 += 1;
        }
    }
    let mut suppressed_subjects = vec![0usize; results.rules.len()];
    for ((rule, _), (total, supp)) in &open_per_subject {
        if total == supp {
            suppressed_subjects[*rule] += 1;
        }
    }

    let mut rules_out = Vec::new();
    let mut score_inputs = Vec::new();
    let mut not_evaluated = Vec::new();
    for (ri, r) in results.rules.iter().enumerate() {
        let t = &results.tallies[ri];
        let failed = t.failed - suppressed_subjects[ri];
        let evaluated = t.passed + failed;
        score_inputs.push(score::RuleScoreInput {
            pillar: r.meta.pillar,
            severity: r.severity,
            passed: t.passed,
            evaluated,
        });
        for (reason, count) in &t.not_evaluated {
            not_evaluated.push(NotEvaluatedOut {
                rule: r.meta.id.clone(),
                reason: reason.clone(),
                count: *count,
            });
        }
        rules_out.push(RuleOut {
            id: r.meta.id.clone(),
            title: r.meta.title.clone(),
            pillar: r.meta.pillar,
            severity: r.severity,
            scope: r.meta.scope,
            passed: t.passed,
            failed,
            suppressed: suppressed_subjects[ri],
            not_evaluated: t.not_evaluated_count(),
            score: score::rule_score(t.passed, evaluated).map(score::round1),
        });
    }

    let refs = ObjectRefs::new(results, inv);
    // One pass per finding, on every core: its path rendered once (for
    // the report and the fingerprint), hashed, and its output built.
    let (mut findings, digests): (Vec<FindingOut>, Vec<[u8; 16]>) = results
        .findings
        .par_iter()
        .enumerate()
        .map(|(fi, f)| {
            let rule = &results.rules[f.rule];
            let meta = rule.meta;
            let path = f.path.render();
            let d = digest(results, &refs, f, &path);
            let out = FindingOut {
                rule_id: &meta.id,
                title: &meta.title,
                pillar: meta.pillar,
                severity: rule.severity,
                message: f.message.clone(),
                object: refs.get(f).cloned(),
                namespace: finding_namespace(f).map(str::to_string),
                location: LocationOut {
                    file: f.file.clone(),
                    line: f.pos.is_known().then_some(f.pos.line),
                    column: f.pos.is_known().then_some(f.pos.col),
                    path,
                },
                fingerprint: hex(&d),
                suppression: suppressions.get(&fi).cloned(),
            };
            (out, d)
        })
        .unzip();
    number_repeats(&digests, findings.iter_mut().map(|f| &mut f.fingerprint));

    // Open findings by severity and by pillar, in one pass over them.
    let mut by_severity: Vec<(Severity, usize)> = Vec::new();
    let mut by_pillar = [0usize; Pillar::ALL.len()];
    let mut unsuppressed = 0;
    for f in findings.iter().filter(|f| f.suppression.is_none()) {
        unsuppressed += 1;
        match by_severity.iter_mut().find(|(s, _)| *s == f.severity) {
            Some((_, n)) => *n += 1,
            None => by_severity.push((f.severity, 1)),
        }
        if let Some(i) = Pillar::ALL.iter().position(|p| *p == f.pillar) {
            by_pillar[i] += 1;
        }
    }
    let pillars: Vec<PillarOut> = Pillar::ALL
        .iter()
        .zip(by_pillar)
        .map(|(&p, open)| {
            let s = score::pillar_score(p, &score_inputs);
            PillarOut {
                pillar: p,
                score: s.map(score::round1),
                grade: s.map(score::grade),
                rules_evaluated: score_inputs
                    .iter()
                    .filter(|r| r.pillar == p && r.evaluated > 0)
                    .count(),
                rules_enabled: score_inputs.iter().filter(|r| r.pillar == p).count(),
                findings: open,
            }
        })
        .collect();
    let overall = score::overall(&pillars.iter().map(|p| p.score).collect::<Vec<_>>());
    let errors = diagnostics
        .iter()
        .filter(|d| d.level == crate::diagnostic::Level::Error)
        .count();
    Report {
        schema: SCHEMA,
        tool: Tool {
            name: "kready",
            version: env!("CARGO_PKG_VERSION"),
        },
        scan: ScanInfo {
            mode: if settings.live { "live" } else { "static" },
            kubernetes_version: settings.kubernetes_version.to_string(),
            pss_level: settings.pss_level,
            pss_version: settings.pss_version().to_string(),
            cluster_profile: settings.cluster_profile,
            server_version: inv.server_version.clone(),
        },
        summary: Summary {
            input: stats,
            findings: unsuppressed,
            suppressed: findings.len() - unsuppressed,
            by_severity: by_severity.into_iter().collect(),
            errors,
            warnings: diagnostics.len() - errors,
        },
        score: ScoreOut {
            overall: overall.map(score::round1),
            grade: overall.map(score::grade),
            pillars,
        },
        coverage: Coverage {
            rules_enabled: rules_out.len(),
            rules_evaluated: rules_out
                .iter()
                .filter(|r| r.passed + r.failed + r.suppressed > 0)
                .count(),
            not_evaluated,
            unlisted: {
                let mut u: Vec<UnlistedOut> = inv
                    .unavailable
                    .iter()
                    .map(|(kind, reason)| UnlistedOut {
                        kind: kind.clone(),
                        reason: reason.clone(),
                    })
                    .collect();
                u.sort_by(|a, b| a.kind.cmp(&b.kind));
                u
            },
        },
        rules: rules_out,
        findings,
        diagnostics,
        skipped,
        passes: PassCounts::of(results, inv),
    }
}

/// The reference of every object that has a finding, built once per
/// object and shared by its findings.
struct ObjectRefs {
    refs: Vec<Option<Arc<ObjectRef>>>,
    display: Vec<String>,
}

impl ObjectRefs {
    fn new(results: &Results, inv: &Inventory) -> ObjectRefs {
        // Marked serially (cheap), built in parallel (four strings and a
        // display name per object with findings).
        let mut wanted = vec![false; inv.objects.len()];
        for i in results.findings.iter().filter_map(|f| f.object) {
            if let Some(w) = wanted.get_mut(i) {
                *w = true;
            }
        }
        let (refs, display) = inv
            .objects
            .par_iter()
            .zip(wanted)
            .map(|(o, wanted)| {
                if !wanted {
                    return (None, String::new());
                }
                let r = ObjectRef {
                    api_version: o.api_version.clone(),
                    kind: o.kind.clone(),
                    namespace: o.effective_namespace().map(str::to_string),
                    name: o.name.clone(),
                };
                let display = r.display();
                (Some(Arc::new(r)), display)
            })
            .unzip();
        ObjectRefs { refs, display }
    }

    fn get(&self, f: &crate::engine::Finding) -> Option<&Arc<ObjectRef>> {
        self.refs.get(f.object?)?.as_ref()
    }

    fn display(&self, f: &crate::engine::Finding) -> &str {
        f.object
            .and_then(|i| self.display.get(i))
            .map_or("", String::as_str)
    }
}

fn finding_namespace(f: &crate::engine::Finding) -> Option<&str> {
    match &f.subject {
        Subject::Namespace(ns) => Some(ns),
        _ => None,
    }
}

/// The fingerprint of each finding, in order: a hash of rule, object and
/// field path (never the line), so unrelated edits keep it; `-2`, `-3`
/// suffixes keep two findings on the same field apart. The baseline
/// matches on it.
pub fn fingerprints(results: &Results, inv: &Inventory) -> Vec<String> {
    let refs = ObjectRefs::new(results, inv);
    let (mut fps, digests): (Vec<String>, Vec<[u8; 16]>) = results
        .findings
        .par_iter()
        .map(|f| {
            let d = digest(results, &refs, f, &f.path.render());
            (hex(&d), d)
        })
        .unzip();
    number_repeats(&digests, fps.iter_mut());
    fps
}

/// The hash a fingerprint is the hex of: SHA-256 of rule, object,
/// namespace and field path, first 16 bytes.
fn digest(
    results: &Results,
    refs: &ObjectRefs,
    f: &crate::engine::Finding,
    path: &str,
) -> [u8; 16] {
    // One buffer, hashed at once: `write!` into the hasher made a dozen
    // small updates per finding.
    let text = [
        results.rules[f.rule].meta.id.as_str(),
        refs.display(f),
        finding_namespace(f).unwrap_or(""),
        path,
    ]
    .join("|");
    let hash = Sha256::digest(text.as_bytes());
    let mut d = [0u8; 16];
    d.copy_from_slice(&hash[..16]);
    d
}

/// Appends `-2`, `-3`... to the fingerprints whose digest came before, in
/// order: the only sequential step of the fingerprints.
fn number_repeats<'a>(digests: &[[u8; 16]], fingerprints: impl Iterator<Item = &'a mut String>) {
    let mut seen: PrehashedMap<u128, usize> =
        PrehashedMap::with_capacity_and_hasher(digests.len(), Default::default());
    for (d, fp) in digests.iter().zip(fingerprints) {
        let n = seen.entry(u128::from_le_bytes(*d)).or_insert(0);
        *n += 1;
        if *n > 1 {
            fp.push_str(&format!("-{n}"));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// `n/a` for a missing score, else `87.5`.
pub fn fmt_score(s: Option<f64>) -> String {
    s.map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "n/a".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_digests_are_numbered_in_order() {
        let d = |b: u8| [b; 16];
        let digests = [d(1), d(2), d(1), d(3), d(1), d(2), d(0)];
        let mut fps: Vec<String> = digests.iter().map(|x| hex(x)).collect();
        number_repeats(&digests, fps.iter_mut());
        let suffixes: Vec<&str> = fps
            .iter()
            .map(|f| f.get(32..).unwrap_or_default())
            .collect();
        assert_eq!(suffixes, ["", "", "-2", "", "-3", "-2", ""]);
        assert!(fps[2].starts_with(&hex(&d(1))));
        let mut none: Vec<String> = Vec::new();
        number_repeats(&[], none.iter_mut());
        assert!(none.is_empty());
    }
}

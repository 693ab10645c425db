//! Suppressions: findings a team has accepted stay in the report, marked
//! as suppressed with the reason, and stop counting against the score and
//! the gate. Four sources, tried in this order for each finding:
//!
//! 1. annotations on the object or its pod template (`kready.io/ignore`,
//!    `kready.io/ignore-reason`, `kready.io/ignore-until`), unless
//!    `--no-inline-suppressions`;
//! 2. exemptions in `.kready.yaml`;
//! 3. default exemptions for system components the user cannot change
//!    (`rules/data/default-exemptions.yaml`), unless `--no-default-exemptions`;
//! 4. the baseline (`--baseline old.json`): findings already there.
//!
//! An expired suppression (annotation or exemption) no longer applies, and a
//! warning says so, pointing at the date. A date that does not parse
//! suppresses nothing (fail closed) and is a warning too.

use crate::catalog::{self, Pillar, RuleMeta};
use crate::diagnostic::Diagnostic;
use crate::engine::{Finding, Subject};
use crate::inventory::Inventory;
use crate::object::Object;
use crate::path::FieldPath;
use crate::report::{self, SuppressionOut};
use crate::scan::Scan;
use crate::yaml::{Node, Pos};
use chrono::NaiveDate;
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub const ANNOTATION_IGNORE: &str = "kready.io/ignore";
pub const ANNOTATION_REASON: &str = "kready.io/ignore-reason";
pub const ANNOTATION_UNTIL: &str = "kready.io/ignore-until";

/// Warning: a suppression's date has passed; its findings are back.
pub const CODE_EXPIRED: &str = "suppression-expired";
/// Warning: an annotation names an unknown rule or carries a bad date.
pub const CODE_INVALID: &str = "suppression-invalid";

/// `SuppressionOut.kind` values.
pub mod kind {
    pub const ANNOTATION: &str = "annotation";
    pub const CONFIG: &str = "config";
    pub const DEFAULT: &str = "default-exemption";
    pub const BASELINE: &str = "baseline";
}

/// Which sources apply, and what day it is (for expiry).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Honour `kready.io/ignore` annotations (`--no-inline-suppressions` turns it off).
    pub inline: bool,
    /// Apply the built-in exemptions (`--no-default-exemptions` turns it off).
    pub default_exemptions: bool,
    pub today: NaiveDate,
}

impl Options {
    pub fn new(today: NaiveDate) -> Options {
        Options {
            inline: true,
            default_exemptions: true,
            today,
        }
    }
}

/// Where an exemption was written.
#[derive(Clone, Debug)]
pub enum Origin {
    Config {
        file: Arc<str>,
        /// The exemption's position in the file.
        pos: Pos,
        /// Its `until:` value.
        until_pos: Pos,
    },
    /// Built in (`rules/data/default-exemptions.yaml`).
    Default,
}

/// One rule reference: a pillar, or a glob over rule IDs (a plain ID is a
/// glob matching itself; `*` matches every rule).
#[derive(Clone, Debug)]
pub enum RuleMatcher {
    Pillar(Pillar),
    Glob(Matcher),
}

impl RuleMatcher {
    pub fn parse(s: &str) -> Result<RuleMatcher, String> {
        if let Some(p) = Pillar::parse(s) {
            return Ok(RuleMatcher::Pillar(p));
        }
        Matcher::new(&[s.to_string()])
            .map(RuleMatcher::Glob)
            .map_err(|(_, e)| e)
    }

    pub fn matches(&self, meta: &RuleMeta) -> bool {
        match self {
            RuleMatcher::Pillar(p) => meta.pillar == *p,
            RuleMatcher::Glob(g) => g.is_match(&meta.id),
        }
    }

    /// True when some catalog rule matches (catches typos in IDs).
    pub fn matches_any_rule(&self) -> bool {
        catalog::catalog().iter().any(|m| self.matches(m))
    }
}

/// A set of globs over one field (namespace, kind or name).
///
/// Most globs are a plain name (`kube-system`) or a name and a final `*`
/// (`kube-proxy-*`): those are compared directly, and only the others
/// compiled into a `GlobSet`. Compiling the default exemptions' sixty
/// globs was a tenth of kready's start-up, which is most of a pre-commit
/// run on a few files.
#[derive(Clone, Debug)]
pub struct Matcher {
    exact: Vec<String>,
    prefixes: Vec<String>,
    set: Option<GlobSet>,
}

/// Characters with a meaning in a glob (globset's syntax).
fn has_glob_syntax(s: &str) -> bool {
    s.contains(['*', '?', '[', ']', '{', '}', '\\'])
}

impl Matcher {
    /// Compiles `globs`; on error, the index of the bad glob and why.
    pub fn new(globs: &[String]) -> Result<Matcher, (usize, String)> {
        let mut m = Matcher {
            exact: Vec::new(),
            prefixes: Vec::new(),
            set: None,
        };
        let mut b = GlobSetBuilder::new();
        let mut compiled = 0;
        for (i, g) in globs.iter().enumerate() {
            if !has_glob_syntax(g) {
                m.exact.push(g.clone());
                continue;
            }
            // `*` matches any text, `/` included (no literal separator).
            if let Some(prefix) = g.strip_suffix('*').filter(|p| !has_glob_syntax(p)) {
                m.prefixes.push(prefix.to_string());
                continue;
            }
            let glob = Glob::new(g)
                .map_err(|e| (i, format!("`{g}` is not a valid glob: {}", e.kind())))?;
            b.add(glob);
            compiled += 1;
        }
        if compiled > 0 {
            m.set = Some(b.build().map_err(|e| (0, e.to_string()))?);
        }
        Ok(m)
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.exact.iter().any(|e| e == s)
            || self.prefixes.iter().any(|p| s.starts_with(p.as_str()))
            || self.set.as_ref().is_some_and(|set| set.is_match(s))
    }
}

/// An accepted set of findings: rules × namespace × kind × name.
#[derive(Clone, Debug)]
pub struct Exemption {
    /// Any of these rules; empty matches nothing.
    pub rules: Vec<RuleMatcher>,
    /// `None`: any (including no namespace).
    pub namespace: Option<Matcher>,
    pub kind: Option<Matcher>,
    pub name: Option<Matcher>,
    pub reason: String,
    /// Last day it applies.
    pub until: Option<NaiveDate>,
    pub origin: Origin,
}

/// What a finding is about, for matching: the object it points at, the
/// namespace for namespace-scope findings (as kind `Namespace`), or nothing
/// for cluster-wide findings (matched only by exemptions without namespace,
/// kind or name).
#[derive(Clone, Copy, Debug, Default)]
struct Target<'a> {
    namespace: Option<&'a str>,
    kind: Option<&'a str>,
    name: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn of_object(o: &'a Object) -> Target<'a> {
        Target {
            namespace: o.effective_namespace(),
            kind: Some(&o.kind),
            name: Some(&o.name),
        }
    }

    /// A namespace-scope finding is about the namespace, even when it
    /// points at an object in it (its first workload, for a line to show).
    fn of(inv: &'a Inventory, f: &'a Finding) -> Target<'a> {
        if let Subject::Namespace(ns) = &f.subject {
            return Target {
                namespace: Some(ns),
                kind: Some("Namespace"),
                name: Some(ns),
            };
        }
        match f.object.and_then(|i| inv.objects.get(i)) {
            Some(o) => Target::of_object(o),
            None => Target::default(),
        }
    }
}

impl Exemption {
    fn covers_rule(&self, meta: &RuleMeta) -> bool {
        self.rules.iter().any(|r| r.matches(meta))
    }

    fn covers_target(&self, t: &Target) -> bool {
        let field = |m: &Option<Matcher>, v: Option<&str>| match m {
            None => true,
            Some(m) => v.is_some_and(|v| m.is_match(v)),
        };
        field(&self.namespace, t.namespace)
            && field(&self.kind, t.kind)
            && field(&self.name, t.name)
    }

    fn expired(&self, today: NaiveDate) -> bool {
        self.until.is_some_and(|u| today > u)
    }
}

/// The built-in exemptions for system components, from
/// `rules/data/default-exemptions.yaml` (documented in docs/config.md).
pub fn default_exemptions() -> &'static [Exemption] {
    static DEFAULTS: OnceLock<Vec<Exemption>> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let text = catalog::data_file("default-exemptions.yaml").unwrap_or("");
        let loaded = crate::config::parse(text, Arc::from("rules/data/default-exemptions.yaml"))
            .unwrap_or_else(|e| panic!("embedded default exemptions are invalid: {e}"));
        loaded
            .exemptions
            .into_iter()
            .map(|mut e| {
                e.origin = Origin::Default;
                e
            })
            .collect()
    })
}

/// An annotation-based suppression found on an object or its pod template.
struct Inline<'a> {
    /// Rule IDs, pillars, or `*`.
    rules: Vec<&'a str>,
    reason: Option<&'a str>,
    /// `None`: no date; `Some(Err(text))`: a date that does not parse.
    until: Option<Result<NaiveDate, &'a str>>,
    /// Where the annotations live (`metadata` or `spec.template.metadata`).
    meta_path: FieldPath,
}

impl Inline<'_> {
    fn covers(&self, meta: &RuleMeta) -> bool {
        self.rules
            .iter()
            .any(|r| *r == "*" || *r == meta.id || *r == meta.pillar.as_str())
    }
}

/// The suppressions written on `o`: its own metadata first, then its pod
/// template's.
fn inline_of(o: &Object) -> Vec<Inline<'_>> {
    // Asked for every object: nothing is allocated unless it is annotated.
    let template = crate::rules::pod::pod_spec_location(&o.kind).filter(|t| !t.is_empty());
    let places = [
        Some((&[][..], o.root.get("metadata"))),
        template.map(|t| (t, o.root.at(t).and_then(|h| h.get("metadata")))),
    ];
    places
        .into_iter()
        .flatten()
        .filter_map(|(base, meta)| {
            let ann = meta?.get("annotations")?;
            let ignore = ann.get(ANNOTATION_IGNORE)?.as_str()?;
            let rules = ignore
                .split([',', ' ', '\n', '\t'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let until = ann
                .get(ANNOTATION_UNTIL)
                .and_then(Node::as_str)
                .map(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| s));
            Some(Inline {
                rules,
                reason: ann
                    .get(ANNOTATION_REASON)
                    .and_then(Node::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty()),
                until,
                meta_path: FieldPath::of(base).key("metadata"),
            })
        })
        .collect()
}

/// File and position of an annotation on `o`, for warnings. Live objects
/// have no file: the object itself names the place.
fn annotation_place(o: &Object, meta_path: &FieldPath, key: &str) -> (Arc<str>, Option<Pos>) {
    let (file, pos) = o.locate(&meta_path.keys(&["annotations", key]));
    match file {
        Some(f) => (f, pos.is_known().then_some(pos)),
        None => (Arc::from(o.display().as_str()), None),
    }
}

/// What went wrong with one suppression, gathered over findings so each
/// problem is reported once, naming the rules it concerned.
#[derive(Default)]
struct Lapsed {
    rules: BTreeSet<String>,
    findings: usize,
}

/// Decides suppressions for every finding of `scan` from annotations,
/// `exemptions` (from `.kready.yaml`) and the default exemptions, and adds
/// warnings for expired or malformed suppressions to the scan's diagnostics.
pub fn apply(scan: &mut Scan, exemptions: &[Exemption], opts: &Options) {
    let inv = &scan.inventory;
    let results = &scan.results;
    let defaults: &[Exemption] = if opts.default_exemptions {
        default_exemptions()
    } else {
        &[]
    };
    // (object, place index) → lapsed; (exemption index) → lapsed.
    let mut expired_inline: BTreeMap<(usize, usize), Lapsed> = BTreeMap::new();
    let mut bad_date_inline: BTreeMap<(usize, usize), Lapsed> = BTreeMap::new();
    let mut expired_config: BTreeMap<usize, Lapsed> = BTreeMap::new();
    let mut decided: Vec<(usize, SuppressionOut)> = Vec::new();
    // Globs are matched once per rule and once per object, not per finding
    // (a large live scan has a hundred thousand findings).
    let rule_covered = |list: &[Exemption]| -> Vec<Vec<bool>> {
        let rules = &results.rules;
        rules
            .iter()
            .map(|r| list.iter().map(|e| e.covers_rule(r.meta)).collect())
            .collect()
    };
    let (config_rules, default_rules) = (rule_covered(exemptions), rule_covered(defaults));
    let covered_targets = |t: &Target| -> (Vec<bool>, Vec<bool>) {
        (
            exemptions.iter().map(|e| e.covers_target(t)).collect(),
            defaults.iter().map(|e| e.covers_target(t)).collect(),
        )
    };
    // What depends on the object only (its inline annotations, which
    // exemptions name it) is worked out once per object, in parallel, by
    // object index; the loop over findings below only looks it up.
    let marked = |holders: &mut dyn Iterator<Item = usize>| -> Vec<bool> {
        let mut wanted = vec![false; inv.objects.len()];
        for oi in holders {
            if let Some(w) = wanted.get_mut(oi) {
                *w = true;
            }
        }
        wanted
    };
    let inline_cache: Vec<Vec<Inline>> = if opts.inline {
        let wanted = marked(
            &mut results
                .findings
                .iter()
                .filter_map(|f| inline_holder(inv, f)),
        );
        inv.objects
            .par_iter()
            .zip(wanted)
            .map(|(o, wanted)| if wanted { inline_of(o) } else { Vec::new() })
            .collect()
    } else {
        Vec::new()
    };
    let wanted = marked(
        &mut results
            .findings
            .iter()
            .filter(|f| !matches!(f.subject, Subject::Namespace(_)))
            .filter_map(|f| f.object),
    );
    let object_targets: Vec<Option<(Vec<bool>, Vec<bool>)>> = inv
        .objects
        .par_iter()
        .zip(wanted)
        .map(|(o, wanted)| wanted.then(|| covered_targets(&Target::of_object(o))))
        .collect();

    for (fi, f) in results.findings.iter().enumerate() {
        let meta = results.rules[f.rule].meta;
        if opts.inline {
            if let Some((oi, places)) =
                inline_holder(inv, f).and_then(|oi| Some((oi, inline_cache.get(oi)?)))
            {
                let mut hit = None;
                for (pi, s) in places.iter().enumerate().filter(|(_, s)| s.covers(meta)) {
                    match s.until {
                        Some(Err(_)) => note(&mut bad_date_inline, (oi, pi), &meta.id),
                        Some(Ok(d)) if opts.today > d => {
                            note(&mut expired_inline, (oi, pi), &meta.id)
                        }
                        _ => {
                            hit = Some(SuppressionOut {
                                kind: kind::ANNOTATION.to_string(),
                                justification: s
                                    .reason
                                    .unwrap_or("kready.io/ignore annotation (no kready.io/ignore-reason given)")
                                    .to_string(),
                                until: s.until.and_then(Result::ok).map(|d| d.to_string()),
                            });
                            break;
                        }
                    }
                }
                if let Some(h) = hit {
                    decided.push((fi, h));
                    continue;
                }
            }
        }
        let computed;
        let precomputed = match (&f.subject, f.object) {
            (Subject::Namespace(_), _) | (_, None) => None,
            (_, Some(oi)) => object_targets.get(oi).and_then(Option::as_ref),
        };
        let (config_targets, default_targets) = match precomputed {
            Some(t) => (&t.0, &t.1),
            None => {
                computed = covered_targets(&Target::of(inv, f));
                (&computed.0, &computed.1)
            }
        };
        let mut hit = None;
        for (ei, e) in exemptions.iter().enumerate() {
            if !(config_rules[f.rule][ei] && config_targets[ei]) {
                continue;
            }
            if e.expired(opts.today) {
                note(&mut expired_config, ei, &meta.id);
                continue;
            }
            hit = Some(SuppressionOut {
                kind: kind::CONFIG.to_string(),
                justification: e.reason.clone(),
                until: e.until.map(|d| d.to_string()),
            });
            break;
        }
        if hit.is_none() {
            hit = defaults
                .iter()
                .enumerate()
                .find(|(ei, e)| {
                    default_rules[f.rule][*ei] && default_targets[*ei] && !e.expired(opts.today)
                })
                .map(|(_, e)| e)
                .map(|e| SuppressionOut {
                    kind: kind::DEFAULT.to_string(),
                    justification: format!("system component: {}", e.reason),
                    until: None,
                });
        }
        if let Some(h) = hit {
            decided.push((fi, h));
        }
    }

    let mut warnings = Vec::new();
    for ((oi, pi), l) in &expired_inline {
        let o = &inv.objects[*oi];
        let s = &inline_cache[*oi][*pi];
        let (file, pos) = annotation_place(o, &s.meta_path, ANNOTATION_UNTIL);
        let date = s
            .until
            .and_then(Result::ok)
            .map(|d| d.to_string())
            .unwrap_or_default();
        warnings.push(
            Diagnostic::warning(
                CODE_EXPIRED,
                &file,
                pos,
                format!(
                    "the kready.io/ignore suppression on {} expired on {date}; {} of {} {} no longer suppressed",
                    o.display(),
                    findings(l.findings),
                    list(&l.rules),
                    is_are(l.findings)
                ),
            )
            .with_help("fix the findings, or move kready.io/ignore-until to a later date"),
        );
    }
    for ((oi, pi), l) in &bad_date_inline {
        let o = &inv.objects[*oi];
        let s = &inline_cache[*oi][*pi];
        let (file, pos) = annotation_place(o, &s.meta_path, ANNOTATION_UNTIL);
        let text = match s.until {
            Some(Err(t)) => t,
            _ => "",
        };
        warnings.push(
            Diagnostic::warning(
                CODE_INVALID,
                &file,
                pos,
                format!(
                    "kready.io/ignore-until `{text}` on {} is not a date (YYYY-MM-DD): the suppression of {} does not apply",
                    o.display(),
                    list(&l.rules)
                ),
            )
            .with_help("write the last day the suppression applies, e.g. 2027-01-31"),
        );
    }
    for (ei, l) in &expired_config {
        let e = &exemptions[*ei];
        let (file, pos) = match &e.origin {
            Origin::Config {
                file,
                pos,
                until_pos,
            } => {
                let p = if until_pos.is_known() {
                    *until_pos
                } else {
                    *pos
                };
                (file.clone(), p.is_known().then_some(p))
            }
            Origin::Default => (Arc::from("default exemptions"), None),
        };
        let date = e.until.map(|d| d.to_string()).unwrap_or_default();
        warnings.push(
            Diagnostic::warning(
                CODE_EXPIRED,
                &file,
                pos,
                format!(
                    "the exemption \"{}\" expired on {date}; {} of {} {} no longer suppressed",
                    e.reason,
                    findings(l.findings),
                    list(&l.rules),
                    is_are(l.findings)
                ),
            )
            .with_help("fix the findings, or move `until` to a later date"),
        );
    }
    if opts.inline {
        warnings.extend(unknown_rules_in_annotations(inv));
    }

    scan.suppressions.extend(decided);
    scan.source.diagnostics.extend(warnings);
}

/// The object whose annotations can suppress `f`: for a namespace-scope
/// finding the Namespace object (if it is in the input), never a workload
/// the finding happens to point at; else the object the finding is about.
fn inline_holder(inv: &Inventory, f: &Finding) -> Option<usize> {
    match &f.subject {
        Subject::Namespace(ns) => inv.get("Namespace", "", ns).map(|(i, _)| i),
        _ => f.object,
    }
}

fn note<K: Ord>(m: &mut BTreeMap<K, Lapsed>, k: K, rule: &str) {
    let l = m.entry(k).or_default();
    l.rules.insert(rule.to_string());
    l.findings += 1;
}

fn list(rules: &BTreeSet<String>) -> String {
    rules
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn findings(n: usize) -> String {
    if n == 1 {
        "1 finding".to_string()
    } else {
        format!("{n} findings")
    }
}

fn is_are(n: usize) -> &'static str {
    if n == 1 {
        "is"
    } else {
        "are"
    }
}

/// A warning per annotation naming a rule that does not exist: a typo
/// there would otherwise silently suppress nothing.
fn unknown_rules_in_annotations(inv: &Inventory) -> Vec<Diagnostic> {
    // Every object is read: on every core, in object order.
    inv.objects
        .par_iter()
        .flat_map_iter(unknown_rules_of)
        .collect()
}

fn unknown_rules_of(o: &Object) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in inline_of(o) {
        let unknown: Vec<&str> = s
            .rules
            .iter()
            .copied()
            .filter(|r| *r != "*" && Pillar::parse(r).is_none() && catalog::find(r).is_none())
            .collect();
        if unknown.is_empty() {
            continue;
        }
        let (file, pos) = annotation_place(o, &s.meta_path, ANNOTATION_IGNORE);
        out.push(
            Diagnostic::warning(
                CODE_INVALID,
                &file,
                pos,
                format!(
                    "kready.io/ignore on {} names unknown rule{} {}",
                    o.display(),
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help("use rule IDs from `kready rules`, pillar names, or \"*\""),
        );
    }
    out
}

/// Fingerprints of a previous report: findings there are not new.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The file, as shown in justifications.
    pub file: String,
    pub fingerprints: HashSet<String>,
}

impl Baseline {
    /// Reads a kready JSON report (`-f json`) or a kready SARIF file.
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
        Baseline::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<Baseline, String> {
        let bad = |why: &str| {
            format!("{file} is not a kready report: {why} (write one with `kready scan -f json -o {file}`)")
        };
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(&format!("invalid JSON ({e})")))?;
        let mut fingerprints = HashSet::new();
        if let Some(schema) = v.get("schema").and_then(|s| s.as_str()) {
            if !schema.starts_with("kready.report/") {
                return Err(bad(&format!("its schema is `{schema}`")));
            }
            let findings = v
                .get("findings")
                .and_then(|f| f.as_array())
                .ok_or_else(|| bad("no `findings` array"))?;
            for f in findings {
                let fp = f
                    .get("fingerprint")
                    .and_then(|x| x.as_str())
                    .ok_or_else(|| bad("a finding has no `fingerprint`"))?;
                fingerprints.insert(fp.to_string());
            }
        } else if let Some(runs) = v.get("runs").and_then(|r| r.as_array()) {
            for r in runs.iter().filter(|r| {
                r.pointer("/tool/driver/name").and_then(|n| n.as_str()) == Some("kready")
            }) {
                for res in r
                    .get("results")
                    .and_then(|x| x.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(fp) = res
                        .pointer("/partialFingerprints/kready~1v1")
                        .and_then(|x| x.as_str())
                    {
                        fingerprints.insert(fp.to_string());
                    }
                }
            }
        } else {
            return Err(bad("no `schema` field"));
        }
        Ok(Baseline {
            file: file.to_string(),
            fingerprints,
        })
    }
}

/// Marks findings already in `baseline` (by fingerprint: rule, object and
/// field path, not line) as suppressed, unless something else suppresses
/// them. Returns how many matched.
pub fn apply_baseline(scan: &mut Scan, baseline: &Baseline) -> usize {
    let fps = report::fingerprints(&scan.results, &scan.inventory);
    let mut n = 0;
    for (fi, fp) in fps.iter().enumerate() {
        if baseline.fingerprints.contains(fp) && !scan.suppressions.contains_key(&fi) {
            scan.suppressions.insert(
                fi,
                SuppressionOut {
                    kind: kind::BASELINE.to_string(),
                    justification: format!("already in the baseline {}", baseline.file),
                    until: None,
                },
            );
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_exemptions_load() {
        assert!(!default_exemptions().is_empty());
    }

    /// Names and `name-*` are compared directly: the answers are globset's.
    #[test]
    fn matcher_answers_as_globset() {
        let globs = [
            "kube-system",
            "kube-proxy-*",
            "*",
            "*-system",
            "calico-?ode",
            "{a,b}-x",
            "[ab]c",
            "a\\*b",
            "x/*",
            "",
        ];
        let names = [
            "kube-system",
            "kube-system2",
            "kube-proxy-",
            "kube-proxy-abc",
            "kube-proxy",
            "calico-node",
            "a-x",
            "b-x",
            "ac",
            "a*b",
            "ab",
            "x/y/z",
            "",
        ];
        for g in globs {
            let ours = Matcher::new(&[g.to_string()]).unwrap();
            let theirs = Glob::new(g).unwrap().compile_matcher();
            for n in names {
                assert_eq!(ours.is_match(n), theirs.is_match(n), "glob {g:?} on {n:?}");
            }
        }
        let all: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
        let set = Matcher::new(&all).unwrap();
        assert!(names.iter().all(|n| set.is_match(n)));
        assert_eq!(Matcher::new(&["ok".into(), "[".into()]).unwrap_err().0, 1);
    }

    #[test]
    fn rule_matchers() {
        let m = catalog::find("privileged-container").unwrap();
        assert!(RuleMatcher::parse("*").unwrap().matches(m));
        assert!(RuleMatcher::parse("security").unwrap().matches(m));
        assert!(RuleMatcher::parse("privileged-*").unwrap().matches(m));
        assert!(!RuleMatcher::parse("reliability").unwrap().matches(m));
        assert!(RuleMatcher::parse("[").is_err());
    }

    #[test]
    fn baseline_reads_json_and_sarif() {
        let b = Baseline::parse(
            r#"{"schema":"kready.report/v1","findings":[{"fingerprint":"ab"}]}"#,
            "b.json",
        )
        .unwrap();
        assert!(b.fingerprints.contains("ab"));
        let s = Baseline::parse(
            r#"{"runs":[{"tool":{"driver":{"name":"kready"}},"results":[{"partialFingerprints":{"kready/v1":"cd"}}]}]}"#,
            "b.sarif",
        )
        .unwrap();
        assert!(s.fingerprints.contains("cd"));
        assert!(Baseline::parse("{}", "x").is_err());
        assert!(Baseline::parse("nope", "x").is_err());
    }
}

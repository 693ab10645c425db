//! The pipeline, end to end: sources → inventory → engine → report.

use crate::catalog::{self, Pillar, Severity};
use crate::engine::{self, ActiveRule, Results};
use crate::inventory::{Inventory, Mode};
use crate::report::{self, Report, Suppressions};
use crate::rules;
use crate::settings::{PssLevel, Settings};
use crate::source::{files, SourceOutput};
use crate::yaml::Limits;
use std::collections::HashMap;
use std::sync::Arc;

/// Which rules run: `--only` / `--skip` take rule IDs or pillar names.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

/// What `.kready.yaml` says about rules: which are on or off (by ID or
/// pillar) and severity overrides. The catalog stays immutable: an override
/// lives on the `ActiveRule` of this run.
#[derive(Clone, Debug, Default)]
pub struct RuleOverrides {
    /// Rule IDs or pillars turned on (an ID also turns on an opt-in rule).
    pub enable: Vec<String>,
    /// Rule IDs or pillars turned off.
    pub disable: Vec<String>,
    /// Rule ID → severity for this run (findings, gate and score weight).
    pub severity: HashMap<String, Severity>,
}

impl RuleOverrides {
    /// `Some(true)`: configured on; `Some(false)`: off; `None`: default. An
    /// ID is more specific than a pillar, and `enable` wins over `disable`
    /// at the same level.
    fn decision(&self, meta: &catalog::RuleMeta) -> Option<bool> {
        let has = |l: &[String], x: &str| l.iter().any(|y| y == x);
        if has(&self.enable, &meta.id) {
            Some(true)
        } else if has(&self.disable, &meta.id) {
            Some(false)
        } else if has(&self.enable, meta.pillar.as_str()) {
            Some(true)
        } else if has(&self.disable, meta.pillar.as_str()) {
            Some(false)
        } else {
            None
        }
    }
}

/// Picks the rules for this run. Unknown IDs are a usage error.
pub fn select_rules(sel: &Selection, settings: &Settings) -> Result<Vec<ActiveRule>, String> {
    select_rules_with(sel, &RuleOverrides::default(), settings)
}

/// Picks the rules for this run, with the configuration's overrides.
/// Flags win over the configuration: a rule named in `--only` runs even if
/// the configuration disables it; `--skip` always skips.
pub fn select_rules_with(
    sel: &Selection,
    overrides: &RuleOverrides,
    settings: &Settings,
) -> Result<Vec<ActiveRule>, String> {
    for id in sel.only.iter().chain(&sel.skip) {
        if Pillar::parse(id).is_none() && catalog::find(id).is_none() {
            return Err(unknown_rule(id));
        }
    }
    let matches = |list: &[String], m: &catalog::RuleMeta| {
        list.iter().any(|x| *x == m.id || *x == m.pillar.as_str())
    };
    let impls: HashMap<&str, rules::RuleImpl> =
        rules::all().into_iter().map(|r| (r.id, r)).collect();
    let mut out = Vec::new();
    for meta in catalog::catalog() {
        let Some(imp) = impls.get(meta.id.as_str()) else {
            continue;
        };
        let named_only = sel.only.contains(&meta.id);
        let configured = overrides.decision(meta);
        let explicitly = named_only || overrides.enable.contains(&meta.id);
        if !sel.only.is_empty() && !matches(&sel.only, meta) {
            continue;
        }
        if matches(&sel.skip, meta) {
            continue;
        }
        if configured == Some(false) && !named_only {
            continue;
        }
        // Restricted-only PSS rules run at the restricted level.
        if settings.pss_level == PssLevel::Baseline
            && meta
                .pss
                .as_ref()
                .is_some_and(|p| p.level == PssLevel::Restricted)
            && !explicitly
        {
            continue;
        }
        if meta.opt_in && !explicitly && !opt_in_configured(&meta.id, settings) {
            continue;
        }
        let severity = overrides
            .severity
            .get(&meta.id)
            .copied()
            .unwrap_or(meta.severity);
        out.push(ActiveRule {
            meta,
            imp: *imp,
            severity,
        });
    }
    Ok(out)
}

fn opt_in_configured(id: &str, settings: &Settings) -> bool {
    match id {
        "image-registry-not-allowed" => !settings.thresholds.allowed_registries.is_empty(),
        _ => false,
    }
}

/// `unknown rule or pillar `x` (did you mean `y`?)`: for flags and config alike.
pub fn unknown_rule(id: &str) -> String {
    let hint = closest_rule(id)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!("unknown rule or pillar `{id}`{hint}; `kready rules` lists them")
}

fn closest_rule(id: &str) -> Option<&'static str> {
    catalog::catalog()
        .iter()
        .map(|m| m.id.as_str())
        .filter(|c| c.contains(id) || id.contains(*c) || edit_distance(c, id) <= 3)
        .min_by_key(|c| edit_distance(c, id))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Everything a scan produced, before rendering.
pub struct Scan {
    pub inventory: Inventory,
    pub results: Results,
    pub source: SourceOutput,
    pub suppressions: Suppressions,
    /// The settings the rules ran with: the caller's, adjusted for input
    /// that came from a cluster (a snapshot turns on `read_status`).
    pub settings: Settings,
}

impl Scan {
    pub fn report(&self, settings: &Settings) -> Report {
        report::build(report::BuildInput {
            results: &self.results,
            inv: &self.inventory,
            settings,
            stats: self.source.stats,
            diagnostics: self.source.diagnostics.clone(),
            skipped: self.source.skipped.clone(),
            suppressions: &self.suppressions,
        })
    }

    pub fn texts(&self) -> &HashMap<Arc<str>, crate::diagnostic::SharedText> {
        &self.source.texts
    }
}

/// Runs the rules over what a source produced.
pub fn evaluate(
    mut source: SourceOutput,
    mode: Mode,
    settings: &Settings,
    rules: Vec<ActiveRule>,
) -> Scan {
    let objects = std::mem::take(&mut source.objects);
    let mut inventory = crate::phases::timed("inventory", || Inventory::new(objects, mode));
    inventory.complete = settings.cluster_profile;
    if let Some(facts) = source.cluster.clone() {
        inventory.set_cluster_facts(facts);
    }
    let results = crate::phases::timed("rules", || engine::run(&inventory, settings, rules));
    Scan {
        inventory,
        results,
        source,
        suppressions: Suppressions::new(),
        settings: settings.clone(),
    }
}

/// Static scan of paths (`-` for stdin).
pub fn scan_paths(
    paths: &[String],
    settings: &Settings,
    rules: Vec<ActiveRule>,
    limits: &Limits,
) -> Scan {
    let source = crate::phases::timed("load", || files::load_paths(paths, limits));
    // A `kready snapshot` file is a cluster: judge it as the live scan did.
    let Some(facts) = source.cluster.clone() else {
        return evaluate(source, Mode::Static, settings, rules);
    };
    let mut settings = settings.clone();
    crate::source::live::apply_facts(&mut settings, &facts);
    settings.cluster_profile = true;
    evaluate(source, Mode::Live, &settings, rules)
}

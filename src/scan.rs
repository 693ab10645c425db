//! The pipeline, end to end: sources → inventory → engine → report.

use crate::catalog::{self, Pillar};
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

/// Picks the rules for this run. Unknown IDs are a usage error.
pub fn select_rules(sel: &Selection, settings: &Settings) -> Result<Vec<ActiveRule>, String> {
    for id in sel.only.iter().chain(&sel.skip) {
        if Pillar::parse(id).is_none() && catalog::find(id).is_none() {
            let hint = closest_rule(id)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "unknown rule or pillar `{id}`{hint}; `kready rules` lists them"
            ));
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
        let explicitly = sel.only.contains(&meta.id);
        if !sel.only.is_empty() && !matches(&sel.only, meta) {
            continue;
        }
        if matches(&sel.skip, meta) {
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
        out.push(ActiveRule { meta, imp: *imp });
    }
    Ok(out)
}

fn opt_in_configured(id: &str, settings: &Settings) -> bool {
    match id {
        "image-registry-not-allowed" => !settings.thresholds.allowed_registries.is_empty(),
        _ => false,
    }
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

    pub fn texts(&self) -> &HashMap<Arc<str>, Arc<str>> {
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
    let inventory = Inventory::new(objects, mode);
    let results = engine::run(&inventory, settings, rules);
    Scan {
        inventory,
        results,
        source,
        suppressions: Suppressions::new(),
    }
}

/// Static scan of paths (`-` for stdin).
pub fn scan_paths(
    paths: &[String],
    settings: &Settings,
    rules: Vec<ActiveRule>,
    limits: &Limits,
) -> Scan {
    let source = files::load_paths(paths, limits);
    evaluate(source, Mode::Static, settings, rules)
}

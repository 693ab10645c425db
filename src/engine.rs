//! Runs every enabled rule over the subjects it applies to, in parallel,
//! and gathers results: tallies per rule (for the score) and findings.

use crate::catalog::{RuleMeta, Scope};
use crate::inventory::Inventory;
use crate::path::FieldPath;
use crate::rules::{Check, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::settings::Settings;
use crate::yaml::Pos;
use rayon::prelude::*;
use std::sync::Arc;

/// A rule selected for this run: its words and its logic.
#[derive(Clone, Copy)]
pub struct ActiveRule {
    pub meta: &'static RuleMeta,
    pub imp: RuleImpl,
    /// The severity for this run: the catalog's, or a configured override.
    pub severity: crate::catalog::Severity,
}

/// What a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Object(usize),
    Namespace(String),
    Cluster,
}

/// One failure, located.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Index into the active rules.
    pub rule: usize,
    pub message: String,
    pub subject: Subject,
    /// The object the finding points at, if any.
    pub object: Option<usize>,
    pub path: FieldPath,
    pub file: Option<Arc<str>>,
    pub pos: Pos,
}

/// Per rule: how many subjects passed, failed, and could not be judged.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    /// Failures whose findings are all suppressed (filled in by suppression).
    pub suppressed: usize,
    /// Reasons a subject could not be judged, with counts, in first-seen order.
    pub not_evaluated: Vec<(String, usize)>,
}

impl Tally {
    pub fn evaluated(&self) -> usize {
        self.passed + self.failed
    }
    pub fn not_evaluated_count(&self) -> usize {
        self.not_evaluated.iter().map(|(_, n)| n).sum()
    }
    fn add_reason(&mut self, reason: String) {
        self.add_reasons(reason, 1);
    }
    fn add_reasons(&mut self, reason: String, count: usize) {
        match self.not_evaluated.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += count,
            None => self.not_evaluated.push((reason, count)),
        }
    }
}

pub struct Results {
    pub rules: Vec<ActiveRule>,
    pub tallies: Vec<Tally>,
    /// Passing checks per subject (for reports per namespace).
    pub passes: Passes,
    pub findings: Vec<Finding>,
    /// Per finding's subject, whether the subject failed (for suppression
    /// bookkeeping): (rule, subject) → number of findings.
    pub failed_subjects: Vec<(usize, Subject)>,
}

/// How many checks passed, per subject: objects and namespaces in work
/// order (a subject appears once per share of the work that judged it).
#[derive(Clone, Debug, Default)]
pub struct Passes {
    pub objects: Vec<(usize, usize)>,
    pub namespaces: Vec<(String, usize)>,
    pub cluster: usize,
}

impl Passes {
    fn add(&mut self, subject: &Subject) {
        match subject {
            Subject::Object(i) => match self.objects.last_mut() {
                Some((last, n)) if last == i => *n += 1,
                _ => self.objects.push((*i, 1)),
            },
            Subject::Namespace(ns) => match self.namespaces.last_mut() {
                Some((last, n)) if last == ns => *n += 1,
                _ => self.namespaces.push((ns.clone(), 1)),
            },
            Subject::Cluster => self.cluster += 1,
        }
    }

    fn append(&mut self, other: Passes) {
        self.objects.extend(other.objects);
        self.namespaces.extend(other.namespaces);
        self.cluster += other.cluster;
    }
}

enum Work {
    Object(usize),
    Namespace(String),
    Cluster,
}

/// Runs `rules` over `inv`.
pub fn run(inv: &Inventory, settings: &Settings, rules: Vec<ActiveRule>) -> Results {
    let cx = Ctx { inv, settings };
    let cluster_rules_run = settings.live || settings.cluster_profile;

    let mut work: Vec<Work> = (0..inv.objects.len()).map(Work::Object).collect();
    work.extend(
        inv.workload_namespaces()
            .map(|n| Work::Namespace(n.to_string())),
    );
    work.push(Work::Cluster);

    let workload_set: std::collections::HashSet<usize> =
        inv.workload_indexes().iter().copied().collect();
    // Per kind, the rules that may judge its objects, in rule order:
    // each object then visits only those, instead of every rule
    // comparing its kind list (a hundred rules × every object).
    let object_rules = rules_by_kind(inv, &rules);
    let all_rules: Vec<usize> = (0..rules.len()).collect();

    // Each unit of work is judged into a per-thread accumulator: passes
    // are counted, not stored (a large scan judges a million rule ×
    // subject pairs), failures are located right away. The pieces come
    // back in work order and are joined once (merging them pairwise would
    // copy the findings again at every level), so reasons and findings
    // are in the order a sequential run gives.
    let pieces: Vec<Gathered> = work
        .par_iter()
        .fold(
            || Gathered::new(rules.len()),
            |mut acc, w| {
                // The pod-spec view, built once per object for all pod rules.
                let workload = match w {
                    Work::Object(i) if workload_set.contains(i) => {
                        Workload::of(&inv.objects[*i], *i)
                    }
                    _ => None,
                };
                let candidates = match w {
                    Work::Object(i) => object_rules
                        .get(inv.objects[*i].kind.as_str())
                        .map_or(&[][..], Vec::as_slice),
                    _ => &all_rules,
                };
                for &ri in candidates {
                    let r = &rules[ri];
                    let (subject, outcome) = match (w, r.imp.check) {
                        (Work::Object(i), Check::Object(_, f)) => {
                            (Subject::Object(*i), f(&cx, &inv.objects[*i]))
                        }
                        (Work::Object(i), Check::Pod(f)) => {
                            let Some(wl) = &workload else {
                                continue;
                            };
                            (Subject::Object(*i), f(&cx, wl))
                        }
                        (Work::Namespace(ns), Check::Namespace(f)) => {
                            (Subject::Namespace(ns.clone()), f(&cx, ns))
                        }
                        (Work::Cluster, Check::Cluster(f)) => {
                            if !cluster_rules_run {
                                continue;
                            }
                            // Live: a cluster rule on a partial inventory would guess.
                            match crate::source::live::kinds::cluster_rule_blocker(inv, &r.imp) {
                                Some(reason) => (Subject::Cluster, Outcome::NotEvaluated(reason)),
                                None => (Subject::Cluster, f(&cx)),
                            }
                        }
                        _ => continue,
                    };
                    acc.record(inv, ri, subject, outcome);
                }
                acc
            },
        )
        .collect();
    let Gathered {
        mut tallies,
        mut findings,
        failed_subjects,
        passes,
    } = Gathered::join(rules.len(), pieces);

    // Scope `cluster` rules not run for static input are reported once, so
    // the report says why they are absent instead of hiding them.
    if !cluster_rules_run {
        for (ri, r) in rules.iter().enumerate() {
            if r.meta.scope == Scope::Cluster {
                tallies[ri]
                    .add_reason("cluster rule: runs with --live or --cluster-profile".into());
            }
        }
    }
    // Source order; without positions (a live cluster) by object, so each
    // object's findings stay together and messages are rarely compared.
    findings.par_sort_by(|a, b| {
        // Most comparisons are within one file: the same `Arc`, equal
        // without comparing the path text.
        let file = match (&a.file, &b.file) {
            (Some(x), Some(y)) if Arc::ptr_eq(x, y) => std::cmp::Ordering::Equal,
            (x, y) => x.cmp(y),
        };
        file.then_with(|| (a.pos, a.object, a.rule).cmp(&(b.pos, b.object, b.rule)))
            .then_with(|| a.message.cmp(&b.message))
    });
    Results {
        rules,
        tallies,
        passes,
        findings,
        failed_subjects,
    }
}

/// For each kind in the inventory, the indexes of the rules that apply to
/// its objects: object rules naming the kind (or every kind) and pod rules
/// (which then judge only the objects that carry a pod spec).
fn rules_by_kind<'a>(
    inv: &'a Inventory,
    rules: &[ActiveRule],
) -> std::collections::HashMap<&'a str, Vec<usize>> {
    inv.kinds()
        .map(|kind| {
            let applies = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| match r.imp.check {
                    Check::Object(kinds, _) => kinds.is_empty() || kinds.contains(&kind),
                    Check::Pod(_) => true,
                    _ => false,
                })
                .map(|(ri, _)| ri)
                .collect();
            (kind, applies)
        })
        .collect()
}

/// What a share of the work gathered: tallies per rule, located findings
/// and the subjects that failed, in work order.
struct Gathered {
    tallies: Vec<Tally>,
    findings: Vec<Finding>,
    failed_subjects: Vec<(usize, Subject)>,
    passes: Passes,
}

impl Gathered {
    fn new(rules: usize) -> Gathered {
        Gathered {
            tallies: vec![Tally::default(); rules],
            findings: Vec::new(),
            failed_subjects: Vec::new(),
            passes: Passes::default(),
        }
    }

    fn record(&mut self, inv: &Inventory, ri: usize, subject: Subject, outcome: Outcome) {
        let t = &mut self.tallies[ri];
        match outcome {
            Outcome::Skip => {}
            Outcome::Pass => {
                t.passed += 1;
                self.passes.add(&subject);
            }
            Outcome::NotEvaluated(reason) => t.add_reason(reason),
            Outcome::Fail(vs) => {
                t.failed += 1;
                for v in vs {
                    self.findings.push(locate(inv, ri, &subject, v));
                }
                self.failed_subjects.push((ri, subject));
            }
        }
    }

    /// The pieces in order, as if gathered in one sequence.
    fn join(rules: usize, pieces: Vec<Gathered>) -> Gathered {
        let mut all = Gathered::new(rules);
        all.findings
            .reserve_exact(pieces.iter().map(|p| p.findings.len()).sum());
        all.failed_subjects
            .reserve_exact(pieces.iter().map(|p| p.failed_subjects.len()).sum());
        for p in pieces {
            for (t, l) in all.tallies.iter_mut().zip(p.tallies) {
                t.passed += l.passed;
                t.failed += l.failed;
                t.suppressed += l.suppressed;
                for (reason, n) in l.not_evaluated {
                    t.add_reasons(reason, n);
                }
            }
            all.findings.extend(p.findings);
            all.failed_subjects.extend(p.failed_subjects);
            all.passes.append(p.passes);
        }
        all
    }
}

fn locate(inv: &Inventory, rule: usize, subject: &Subject, v: Violation) -> Finding {
    let object = v.object.or(match subject {
        Subject::Object(i) => Some(*i),
        _ => None,
    });
    let (file, pos) = match object.and_then(|i| inv.objects.get(i)) {
        Some(o) => o.locate(&v.path),
        None => (None, Pos::NONE),
    };
    Finding {
        rule,
        message: v.message,
        subject: subject.clone(),
        object,
        path: v.path,
        file,
        pos,
    }
}

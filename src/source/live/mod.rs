//! Live input: `kready scan --live` lists a running cluster through the
//! Kubernetes API and produces the same `Object`s as files do
//! (`Origin::Live`), plus what only a cluster knows: its version, which
//! kinds were listed and which could not be, and why.
//!
//! Only read requests are sent (see `collect`). Secrets are never listed.

pub mod client;
pub mod collect;
pub mod json;
pub mod kinds;
pub mod snapshot;

use crate::engine::ActiveRule;
use crate::inventory::Mode;
use crate::scan::{self, Scan};
use crate::settings::Settings;
use crate::source::{ClusterFacts, SourceOutput};
use collect::Collected;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Parses `--timeout`: seconds (`30`) or a duration (`30s`, `2m`, `1m30s`, `500ms`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("`{s}` is not a duration (e.g. 30, 30s, 2m, 500ms)");
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let d: jiff::SignedDuration = t.parse().map_err(|_| bad())?;
    let d = Duration::try_from(d).map_err(|_| bad())?;
    if d.is_zero() {
        return Err(bad());
    }
    Ok(d)
}

/// How to reach the cluster and what to list.
#[derive(Clone, Debug)]
pub struct Options {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Namespaces to scan; empty: all namespaces.
    pub namespaces: Vec<String>,
    /// Connect and per-request read timeout.
    pub timeout: Duration,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Objects per list page (`limit`).
    pub page_size: u32,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kubeconfig: None,
            context: None,
            namespaces: Vec::new(),
            timeout: Duration::from_secs(30),
            concurrency: 8,
            page_size: 500,
            progress: false,
        }
    }
}

/// Why a live scan could not start (exit 2). Never carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Connect(String),
    #[error("{0}")]
    Auth(String),
    #[error("{0}")]
    Api(String),
    #[error("{0}")]
    Runtime(String),
}

/// What a live scan produced, and how complete it was.
pub struct LiveScan {
    pub scan: Scan,
    /// Kinds that could not be listed, with the reason.
    pub unavailable: Vec<(String, String)>,
    /// Nothing at all could be listed: the report has no score.
    pub no_access: bool,
    /// Kinds the pre-flight review said may not be listed (already told on stderr).
    pub denied: Vec<String>,
}

impl LiveScan {
    pub fn complete(&self) -> bool {
        self.unavailable.is_empty()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, LiveError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| LiveError::Runtime(format!("cannot start the async runtime: {e}")))
}

/// Lists the `kinds` from the cluster of `opts`.
pub fn collect(opts: &Options, kinds: &BTreeSet<&'static str>) -> Result<Collected, LiveError> {
    runtime()?.block_on(collect_async(opts, kinds))
}

async fn collect_async(
    opts: &Options,
    wanted: &BTreeSet<&'static str>,
) -> Result<Collected, LiveError> {
    let mut namespaces: Vec<String> = Vec::new();
    for ns in &opts.namespaces {
        if !valid_namespace(ns) {
            return Err(LiveError::Config(format!(
                "`{ns}` is not a namespace name (lowercase letters, digits and '-', at most 63)"
            )));
        }
        if !namespaces.contains(ns) {
            namespaces.push(ns.clone());
        }
    }
    let opts = &Options {
        namespaces,
        ..opts.clone()
    };
    let c = client::connect(opts).await?;
    if c.insecure {
        eprintln!(
            "kready: warning: the kubeconfig sets insecure-skip-tls-verify: the identity of {} is not verified",
            c.server
        );
    }
    let server_version = collect::server_version(&c).await?;
    let disc = collect::discover(&c, wanted, opts.concurrency).await?;
    let mut facts = ClusterFacts {
        server_version,
        namespaces: (!opts.namespaces.is_empty()).then(|| opts.namespaces.clone()),
        ..Default::default()
    };
    // An API the server does not serve has no objects: that is known.
    for k in &disc.not_served {
        facts.listed.insert(k.to_string());
    }
    facts.unavailable.extend(disc.failed);

    let tasks = collect::tasks(&disc.resolved, &opts.namespaces);
    let (denied, reviews) = collect::preflight(&c, &tasks, opts.concurrency).await;
    // `/version`, discovery, access reviews; the lists are added below.
    let mut requests = 1 + disc.requests + reviews;
    let mut denied_kinds = BTreeSet::new();
    let mut to_list = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match denied.get(&i) {
            Some(reason) => {
                denied_kinds.insert(t.res.kind.to_string());
                facts
                    .unavailable
                    .entry(t.res.kind.to_string())
                    .or_insert_with(|| reason.clone());
            }
            None => to_list.push(t),
        }
    }
    if !denied_kinds.is_empty() {
        eprintln!(
            "kready: this account may not list {} of the {} kinds this scan reads: {}",
            denied_kinds.len(),
            disc.resolved.len(),
            denied_kinds.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        eprintln!("kready: rules that need them are reported as not evaluated");
    }

    let bar = progress_bar(opts.progress, to_list.len());
    let total = AtomicUsize::new(0);
    let on_done = |_: &collect::Task, n: usize| {
        let sum = total.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &bar {
            b.inc(1);
            b.set_message(format!("{sum} objects"));
        }
    };
    let results = collect::list_all(&c, to_list, opts, &on_done).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    let mut objects = Vec::new();
    let mut ok_kinds: BTreeSet<String> = BTreeSet::new();
    let mut failed_kinds: BTreeSet<String> = BTreeSet::new();
    for (t, r) in results {
        match r {
            Ok((objs, n)) => {
                requests += n;
                ok_kinds.insert(t.res.kind.to_string());
                objects.extend(objs);
            }
            Err(reason) => {
                requests += 1;
                failed_kinds.insert(t.res.kind.to_string());
                let scope = t
                    .namespace
                    .as_deref()
                    .map(|ns| format!(" (namespace {ns})"))
                    .unwrap_or_default();
                facts
                    .unavailable
                    .entry(t.res.kind.to_string())
                    .or_insert_with(|| format!("{reason}{scope}"));
            }
        }
    }
    // A kind is listed when every list of it (one per namespace) worked.
    let listed_from_server = ok_kinds
        .iter()
        .filter(|k| !failed_kinds.contains(*k) && !facts.unavailable.contains_key(*k))
        .count();
    for k in ok_kinds {
        if !facts.unavailable.contains_key(&k) {
            facts.listed.insert(k);
        }
    }
    sort_objects(&mut objects);
    Ok(Collected {
        objects,
        facts,
        denied: denied_kinds.into_iter().collect(),
        listed_from_server,
        requests,
    })
}

/// A DNS-1123 label, as namespace names are.
fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-')
}

/// Stable order: kinds in table order, then namespace, then name.
fn sort_objects(objects: &mut [crate::object::Object]) {
    let rank = |k: &str| {
        kinds::KINDS
            .iter()
            .position(|s| s.kind == k)
            .unwrap_or(usize::MAX)
    };
    objects.sort_by(|a, b| {
        (rank(&a.kind), &a.namespace, &a.name).cmp(&(rank(&b.kind), &b.namespace, &b.name))
    });
}

fn progress_bar(enabled: bool, len: usize) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let b = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} listing {pos}/{len} kinds [{bar:30}] {elapsed} {msg}",
    ) {
        b.set_style(style.progress_chars("=> "));
    }
    b.enable_steady_tick(Duration::from_millis(120));
    Some(b)
}

/// Settings for input that came from a cluster (live or a snapshot):
/// rules may read `status`, and the server's version picks the PSS and
/// deprecation version unless `--kubernetes-version` was given.
pub fn apply_facts(settings: &mut Settings, facts: &ClusterFacts) {
    settings.read_status = true;
    if !settings.kubernetes_version_set {
        if let Some(v) = facts.server_version.as_deref().and_then(|v| v.parse().ok()) {
            settings.kubernetes_version = v;
        }
    }
}

/// `kready scan --live`: list what the rules need, then run them.
pub fn scan(
    opts: &Options,
    mut settings: Settings,
    rules: Vec<ActiveRule>,
) -> Result<LiveScan, LiveError> {
    let wanted = kinds::needed(&rules, !opts.namespaces.is_empty());
    let collected = collect(opts, &wanted)?;
    settings.live = true;
    apply_facts(&mut settings, &collected.facts);
    let unavailable: Vec<(String, String)> = collected
        .facts
        .unavailable
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let no_access = collected.listed_from_server == 0 && !unavailable.is_empty();
    let denied = collected.denied.clone();
    let source = SourceOutput {
        stats: crate::source::Stats {
            objects: collected.objects.len(),
            ..Default::default()
        },
        objects: collected.objects,
        cluster: Some(collected.facts),
        ..Default::default()
    };
    let scan = scan::evaluate(source, Mode::Live, &settings, rules);
    Ok(LiveScan {
        scan,
        unavailable,
        no_access,
        denied,
    })
}

/// `kready snapshot --live`: what a scan with every rule would list, as a
/// `List` document `kready scan` reads back with the same results.
pub fn snapshot(opts: &Options) -> Result<(String, Collected), LiveError> {
    let all: Vec<ActiveRule> = crate::rules::all()
        .into_iter()
        .filter_map(|imp| {
            crate::catalog::find(imp.id).map(|meta| ActiveRule {
                meta,
                severity: meta.severity,
                imp,
            })
        })
        .collect();
    let wanted = kinds::needed(&all, !opts.namespaces.is_empty());
    let collected = collect(opts, &wanted)?;
    let text = snapshot::render(&collected.objects, &collected.facts);
    Ok((text, collected))
}

/// Benchmark helper (`--list-only`): list what a scan with these rules
/// would list, with the same client, and nothing else.
pub fn list_only(opts: &Options, rules: &[ActiveRule]) -> Result<Collected, LiveError> {
    collect(opts, &kinds::needed(rules, !opts.namespaces.is_empty()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn namespace_names() {
        assert!(super::valid_namespace("shop-1"));
        for bad in ["", "Shop", "-a", "a-", "a/b", "a_b"] {
            assert!(!super::valid_namespace(bad), "{bad}");
        }
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(
            super::parse_duration("30").unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            super::parse_duration("2m").unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(
            super::parse_duration("1m30s").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            super::parse_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert!(super::parse_duration("0s").is_err());
        assert!(super::parse_duration("soon").is_err());
    }
}

//! The `kready` command line: parse arguments, call the library, map
//! outcomes to exit codes. No logic of its own.

use clap::{Args, Parser, Subcommand, ValueEnum};
use is_terminal::IsTerminal;
use kready::catalog;
use kready::config::{self, FailOn, LoadedConfig};
use kready::diagnostic::SourceText;
use kready::report::{self, policyreport::PolicyReportApi, Report};
use kready::scan::{self, RuleOverrides, Selection};
use kready::settings::{KubeVersion, PssLevel, Settings};
use kready::suppress::{self, Baseline};
use kready::yaml::Limits;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod cli_rules;

/// Exit codes (README "Exit codes").
const EXIT_OK: u8 = 0;
const EXIT_GATE: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "kready",
    version,
    about = "Audit Kubernetes manifests and clusters for production readiness",
    long_about = "Audit Kubernetes manifests and clusters for production readiness: security, reliability, \
observability, disaster recovery and performance, with a score per pillar."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan manifests (files, folders, or `-` for stdin)
    #[command(after_help = "Examples:
  kready scan k8s/                               scan a folder recursively
  helm template ./chart | kready scan -          scan rendered Helm output
  kustomize build overlays/prod | kready scan -
  kready scan . -f sarif -o kready.sarif         SARIF for GitHub code scanning
  kready scan . -f table -f json -o - -o report.json
                                                 a table on the terminal and JSON in a file
  kready scan . --fail-on medium --min-score 80  gate a CI job
  kready scan . --only security --pss-level baseline
  kready scan . -f json -o baseline.json         record today's findings...
  kready scan . --baseline baseline.json         ...then report and gate only new ones
  kready scan --live                             the cluster of the current kubeconfig context
  kready scan --live -n shop --require-complete  one namespace; exit 3 if something is unreadable
  kready scan --live -f policyreport | kubectl apply -f -
                                                 PolicyReports for in-cluster dashboards

Environment:
  NO_COLOR          no colours on the terminal
  KREADY_PHASES=1   print each phase's wall time, CPU time and memory on stderr (load, rules, report...)")]
    Scan(Box<ScanArgs>),
    /// Write a commented starting configuration (.kready.yaml)
    #[command(after_help = "Examples:
  kready init                    write .kready.yaml in the current folder
  kready init -o - | less        print it instead")]
    Init {
        /// Where to write it (`-` prints it)
        #[arg(short, long, default_value = config::FILE_NAMES[0])]
        output: String,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// List the rule catalog
    #[command(after_help = "Examples:
  kready rules
  kready rules --pillar disaster-recovery
  kready rules --pss                 the Pod Security Standards mapping
  kready rules -f markdown > docs/rules.md")]
    Rules(cli_rules::RulesArgs),
    /// Explain a rule: rationale, remediation, references, aliases in other tools
    #[command(after_help = "Example:\n  kready explain privileged-container")]
    Explain {
        /// Rule ID (see `kready rules`)
        id: String,
    },
    /// Save what a live scan lists as one YAML List, to scan offline later
    #[command(after_help = "Examples:
  kready snapshot --live -o cluster.yaml         everything the rules read (never Secrets)
  kready scan cluster.yaml                       the same findings as `kready scan --live`
  kready snapshot --live --context prod -n shop -o shop.yaml")]
    Snapshot(SnapshotArgs),
}

// ---- live mode (src/source/live): flags shared by `scan` and `snapshot` ----

#[derive(Args, Clone)]
struct LiveArgs {
    /// Scan the cluster of the current kubeconfig context instead of files
    #[arg(long)]
    live: bool,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster config)
    #[arg(long, value_name = "FILE", requires = "live")]
    kubeconfig: Option<std::path::PathBuf>,
    /// Kubeconfig context to use (default: the current context)
    #[arg(long, value_name = "NAME", requires = "live")]
    context: Option<String>,
    /// Only these namespaces (comma-separated or repeated); cluster rules are then not run
    #[arg(
        short = 'n',
        long = "namespace",
        value_delimiter = ',',
        value_name = "NS",
        requires = "live"
    )]
    namespaces: Vec<String>,
    /// All namespaces (the default)
    #[arg(short = 'A', long, conflicts_with = "namespaces", requires = "live")]
    all_namespaces: bool,
    /// Exit 3 when something could not be listed (forbidden, failed, timed out)
    #[arg(long, requires = "live")]
    require_complete: bool,
    /// Connect and per-request timeout (`30`, `30s`, `2m`)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    timeout: std::time::Duration,
    /// Benchmark: list what the scan would list, print counts and timing, do not scan
    #[arg(long, hide = true, requires = "live")]
    list_only: bool,
}

#[derive(Args)]
struct SnapshotArgs {
    #[command(flatten)]
    live: LiveArgs,
    /// Where to write the snapshot (`-` is stdout)
    #[arg(short, long, default_value = "-")]
    output: String,
}

const EXIT_INCOMPLETE: u8 = 3;

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    kready::source::live::parse_duration(s)
}

fn live_options(a: &LiveArgs) -> kready::source::live::Options {
    kready::source::live::Options {
        kubeconfig: a.kubeconfig.clone(),
        context: a.context.clone(),
        namespaces: a.namespaces.clone(),
        timeout: a.timeout,
        progress: std::io::stderr().is_terminal(),
        ..Default::default()
    }
}

/// `scan --live`: the scan, and whether it was incomplete; `Err` is the exit code.
fn live_scan(
    a: &LiveArgs,
    settings: &Settings,
    rules: Vec<kready::engine::ActiveRule>,
) -> Result<(scan::Scan, bool), ExitCode> {
    use kready::source::live;
    let opts = live_options(a);
    if a.list_only {
        let started = std::time::Instant::now();
        return match live::list_only(&opts, &rules) {
            Ok(c) => {
                eprintln!(
                    "kready: listed {} objects of {} kinds in {} requests, {:.3}s",
                    c.objects.len(),
                    c.facts.listed.len(),
                    c.requests,
                    started.elapsed().as_secs_f64()
                );
                // Like a scan, exit without freeing the objects one by one.
                std::mem::forget(c);
                Err(ExitCode::from(EXIT_OK))
            }
            Err(e) => Err(usage_error(&e.to_string())),
        };
    }
    match live::scan(&opts, settings.clone(), rules) {
        Ok(ls) => {
            for (kind, reason) in &ls.unavailable {
                if !ls.denied.contains(kind) {
                    eprintln!("kready: could not list {kind}: {reason}");
                }
            }
            if ls.no_access {
                eprintln!("kready: this account cannot list anything kready reads in this cluster: nothing was evaluated and there is no score");
            }
            let incomplete = !ls.complete();
            Ok((ls.scan, incomplete))
        }
        Err(e) => Err(usage_error(&e.to_string())),
    }
}

fn run_snapshot(args: SnapshotArgs) -> ExitCode {
    if !args.live.live {
        return usage_error("kready snapshot reads a cluster: give --live");
    }
    let opts = live_options(&args.live);
    match kready::source::live::snapshot(&opts) {
        Ok((text, c)) => {
            for (kind, reason) in &c.facts.unavailable {
                if !c.denied.contains(kind) {
                    eprintln!("kready: could not list {kind}: {reason}");
                }
            }
            let written = if args.output == "-" {
                std::io::stdout().lock().write_all(text.as_bytes())
            } else {
                std::fs::write(&args.output, text)
            };
            if let Err(e) = written {
                return usage_error(&format!("cannot write {}: {e}", args.output));
            }
            eprintln!(
                "kready: snapshot of {} objects ({} kinds listed) written to {}",
                c.objects.len(),
                c.facts.listed.len(),
                args.output
            );
            if args.live.require_complete && !c.facts.unavailable.is_empty() {
                return ExitCode::from(EXIT_INCOMPLETE);
            }
            ExitCode::from(EXIT_OK)
        }
        Err(e) => usage_error(&e.to_string()),
    }
}

// ---- end of live mode ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Sarif,
    Markdown,
    /// Kubernetes PolicyReports (YAML; see --policyreport-api)
    Policyreport,
}

#[derive(Args)]
struct ScanArgs {
    /// Files or folders to scan (recursively: .yaml, .yml, .json); `-` reads stdin
    #[arg(default_value = ".")]
    paths: Vec<String>,

    /// Output format; repeat to write several (paired in order with --output)
    #[arg(short, long = "format", value_enum)]
    format: Vec<Format>,

    /// Where to write each format (`-` is stdout); paired in order with --format
    #[arg(short, long = "output")]
    output: Vec<String>,

    /// Fail (exit 1) when a finding has this severity or higher [default: high]
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,

    /// Fail (exit 1) when the overall score is below this (0-100)
    #[arg(long, value_name = "N")]
    min_score: Option<f64>,

    /// Run only these rules or pillars (comma-separated IDs or pillar names)
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    only: Vec<String>,

    /// Skip these rules or pillars (comma-separated IDs or pillar names)
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    skip: Vec<String>,

    /// Target Kubernetes version for deprecations and the PSS policy (e.g. 1.30)
    #[arg(long, value_name = "VERSION")]
    kubernetes_version: Option<KubeVersion>,

    /// Pod Security Standards level to enforce [default: restricted]
    #[arg(long, value_enum)]
    pss_level: Option<PssLevel>,

    /// PSS policy version, when it differs from --kubernetes-version
    #[arg(long, value_name = "VERSION")]
    pss_version: Option<KubeVersion>,

    /// The input is a whole cluster: run cluster-scope rules (nodes, installed components)
    #[arg(long)]
    cluster_profile: bool,

    /// Configuration file [default: the first .kready.yaml in the current folder or its parents]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Report and gate only findings not in this earlier JSON report (or SARIF file)
    #[arg(long, value_name = "REPORT")]
    baseline: Option<PathBuf>,

    /// Ignore kready.io/ignore annotations in the manifests
    #[arg(long)]
    no_inline_suppressions: bool,

    /// Do not exempt system components (control plane, CNI and CSI daemonsets)
    #[arg(long)]
    no_default_exemptions: bool,

    /// API of `-f policyreport` output
    #[arg(long, value_enum, default_value = "openreports.io/v1alpha1")]
    policyreport_api: PolicyReportApi,

    /// Most results in `-f sarif` output (default: all). GitHub code scanning
    /// stores 5,000 per run and rejects a run of over 25,000; over the cap,
    /// open findings are kept before suppressed ones, the most severe first,
    /// and the file and stderr say how many were left out
    #[arg(long, value_name = "N")]
    sarif_max_results: Option<usize>,

    // Input limits (hostile input). Exceeding one is a
    // `manifest-limit-exceeded` error for that document or file; the rest
    // of the input is still scanned.
    /// Deepest nesting of YAML mappings and sequences in a document (1-1000)
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_DEPTH as u64,
          value_parser = clap::value_parser!(u64).range(1..=1000), help_heading = "Input limits")]
    max_depth: u64,

    /// Most nodes YAML aliases (`*name`) may expand to in one file ("billion laughs" guard)
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_ALIAS_NODES as u64,
          help_heading = "Input limits")]
    max_alias_nodes: u64,

    /// Largest file scanned, in bytes (suffixes K, M, G: powers of 1024); larger files are reported, not read
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size,
          help_heading = "Input limits")]
    max_file_size: u64,

    #[command(flatten)]
    live: LiveArgs,
}

/// `1048576`, `512K`, `64M`, `1G` (powers of 1024; a trailing `B` or `iB` is accepted).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{s}` is not a size: use bytes or a number with K, M or G"))
}

fn main() -> ExitCode {
    quiet_parser_panics();
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => run_scan(*args),
        Command::Init { output, force } => run_init(&output, force),
        Command::Rules(args) => cli_rules::run_rules(args),
        Command::Explain { id } => cli_rules::run_explain(&id),
        Command::Snapshot(args) => run_snapshot(args),
    }
}

/// The YAML parser (libyaml-safer) can panic on some malformed input; the
/// loader contains that per file and reports a `manifest-parse-error`, so
/// its panic message would only be noise on stderr. Other panics (bugs in
/// kready) still print as usual.
fn quiet_parser_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .location()
            .is_some_and(|l| l.file().contains("libyaml-safer"))
        {
            return;
        }
        default(info);
    }));
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_ERROR)
}

fn run_init(output: &str, force: bool) -> ExitCode {
    if output == "-" {
        print!("{}", config::TEMPLATE);
        return ExitCode::from(EXIT_OK);
    }
    match config::init(std::path::Path::new(output), force) {
        Ok(()) => {
            eprintln!("wrote {output}: edit it, then run `kready scan`");
            ExitCode::from(EXIT_OK)
        }
        Err(e) => usage_error(&e),
    }
}

/// The configuration given with `--config`, or found from the working folder.
fn load_config(explicit: Option<&PathBuf>) -> Result<Option<LoadedConfig>, ExitCode> {
    let path = match explicit {
        Some(p) if !p.is_file() => {
            return Err(usage_error(&format!(
                "--config {}: no such file",
                p.display()
            )))
        }
        Some(p) => p.clone(),
        None => match std::env::current_dir()
            .ok()
            .and_then(|d| config::discover(&d))
        {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    config::load_file(&path).map(Some).map_err(|e| {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        eprint!("{}", e.render(color));
        eprintln!("kready: the configuration {} is invalid", path.display());
        ExitCode::from(EXIT_ERROR)
    })
}

fn run_scan(args: ScanArgs) -> ExitCode {
    let cfg = match load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Defaults, then the configuration, then flags.
    let mut settings = Settings::default();
    if let Some(c) = &cfg {
        c.apply_settings(&mut settings);
    }
    if let Some(v) = args.pss_level {
        settings.pss_level = v;
    }
    if args.pss_version.is_some() {
        settings.pss_version = args.pss_version;
    }
    if args.cluster_profile {
        settings.cluster_profile = true;
    }
    if let Some(v) = args.kubernetes_version {
        settings.kubernetes_version = v;
        settings.kubernetes_version_set = true;
    }
    let fail_on = args
        .fail_on
        .or(cfg.as_ref().and_then(|c| c.config.fail_on))
        .unwrap_or(FailOn::High);
    let min_score = args
        .min_score
        .or(cfg.as_ref().and_then(|c| c.config.min_score));
    let formats = if args.format.is_empty() {
        vec![Format::Table]
    } else {
        args.format.clone()
    };
    if args.output.len() > formats.len() {
        return usage_error("more --output than --format values: give one --format per --output");
    }
    if let Some(m) = min_score {
        if !(0.0..=100.0).contains(&m) {
            return usage_error("--min-score takes a number from 0 to 100");
        }
    }
    let baseline = match args.baseline.as_deref().map(Baseline::load).transpose() {
        Ok(b) => b,
        Err(e) => return usage_error(&e),
    };
    let selection = Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    let overrides = cfg
        .as_ref()
        .map(LoadedConfig::rule_overrides)
        .unwrap_or_else(RuleOverrides::default);
    let rules = match scan::select_rules_with(&selection, &overrides, &settings) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let (mut scan, incomplete) = if args.live.live {
        if args.paths != ["."] {
            return usage_error("--live scans the cluster: give no paths with it");
        }
        match live_scan(&args.live, &settings, rules) {
            Ok(r) => r,
            Err(code) => return code,
        }
    } else {
        let limits = Limits {
            max_depth: args.max_depth as usize,
            max_alias_nodes: usize::try_from(args.max_alias_nodes).unwrap_or(usize::MAX),
            max_file_size: args.max_file_size,
        };
        let s = scan::scan_paths(&args.paths, &settings, rules, &limits);
        (s, false)
    };

    let opts = suppress::Options {
        inline: !args.no_inline_suppressions,
        default_exemptions: !args.no_default_exemptions,
        today: chrono::Local::now().date_naive(),
    };
    let exemptions = cfg.as_ref().map(|c| c.exemptions.as_slice()).unwrap_or(&[]);
    kready::phases::timed("suppress", || suppress::apply(&mut scan, exemptions, &opts));
    if let Some(c) = &cfg {
        scan.source.texts.insert(c.file.clone(), c.text.clone());
    }
    if let Some(b) = &baseline {
        let n = suppress::apply_baseline(&mut scan, b);
        eprintln!(
            "kready: {n} finding(s) already in the baseline {} are not counted",
            b.file
        );
    }
    let report = kready::phases::timed("report", || scan.report(&scan.settings));

    let color_err = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    kready::phases::timed("messages", || {
        // Each file's text is read and indexed once for all its diagnostics.
        let mut sources: HashMap<Arc<str>, Option<SourceText>> = HashMap::new();
        for d in &report.diagnostics {
            let src = sources.entry(d.file.clone()).or_insert_with(|| {
                let text = scan
                    .texts()
                    .get(&d.file)
                    .cloned()
                    .or_else(|| std::fs::read_to_string(d.file.as_ref()).ok().map(Arc::new));
                text.map(SourceText::new)
            });
            eprint!("{}", kready::diagnostic::render(d, src.as_ref(), color_err));
        }
    });

    for (i, format) in formats.iter().enumerate() {
        let target = args.output.get(i).map(String::as_str).unwrap_or("-");
        let to_stdout = target == "-";
        let color =
            to_stdout && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let written = if to_stdout {
            write_report(
                &report,
                *format,
                color,
                &args,
                &mut std::io::stdout().lock(),
            )
        } else {
            std::fs::File::create(target)
                .and_then(|mut file| write_report(&report, *format, color, &args, &mut file))
        };
        if let Err(e) = written {
            eprintln!("error: cannot write {target}: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    }
    let mut code = gate(&report, fail_on, min_score);
    if incomplete && args.live.require_complete && code != EXIT_ERROR {
        eprintln!("kready: the scan is incomplete (--require-complete)");
        code = EXIT_INCOMPLETE;
    }
    // The process ends here: freeing every object, node and finding one by
    // one would cost a tenth of a large live scan (measured with perf).
    std::mem::forget(report);
    std::mem::forget(scan);
    ExitCode::from(code)
}

fn write_report(
    report: &Report,
    format: Format,
    color: bool,
    args: &ScanArgs,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    kready::phases::timed("output", || {
        let text = match format {
            Format::Json => return report::json::write(report, out),
            Format::Sarif => {
                let omitted = report::sarif::write(report, args.sarif_max_results, out)?;
                if omitted > 0 {
                    eprintln!(
                        "kready: the SARIF report holds {} of {} findings (--sarif-max-results): \
                         open before suppressed, the most severe first",
                        report.findings.len() - omitted,
                        report.findings.len()
                    );
                }
                return Ok(());
            }
            Format::Policyreport => {
                return report::policyreport::write(report, args.policyreport_api, out)
            }
            Format::Table => report::table::render(report, color),
            Format::Markdown => report::markdown::render(report),
        };
        out.write_all(text.as_bytes())
    })
}

/// Exit code: input errors (2) first, then the gate (1).
fn gate(report: &Report, fail_on: FailOn, min_score: Option<f64>) -> u8 {
    if report.summary.errors > 0 {
        eprintln!(
            "kready: {} input error(s); the rest of the input was scanned",
            report.summary.errors
        );
        return EXIT_ERROR;
    }
    let mut failed = false;
    if let Some(sev) = fail_on.severity() {
        let n = report
            .findings
            .iter()
            .filter(|f| f.suppression.is_none() && f.severity >= sev)
            .count();
        if n > 0 {
            eprintln!("kready: gate failed: {n} finding(s) of severity {sev} or higher");
            failed = true;
        }
    }
    if let Some(min) = min_score {
        match report.score.overall {
            Some(s) if s < min => {
                eprintln!("kready: gate failed: score {s:.1} is below {min}");
                failed = true;
            }
            None => {
                eprintln!("kready: gate failed: no score (nothing was evaluated), --min-score {min} cannot be met");
                failed = true;
            }
            _ => {}
        }
    }
    if failed {
        EXIT_GATE
    } else {
        EXIT_OK
    }
}

#[allow(dead_code)]
fn _assert_catalog_loads() {
    let _ = catalog::catalog();
}

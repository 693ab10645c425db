//! The `kready` command line: parse arguments, call the library, map
//! outcomes to exit codes. No logic of its own.

use clap::{Args, Parser, Subcommand, ValueEnum};
use is_terminal::IsTerminal;
use kready::catalog::{self, Severity};
use kready::report::{self, Report};
use kready::scan::{self, Selection};
use kready::settings::{KubeVersion, PssLevel, Settings};
use kready::yaml::Limits;
use std::io::Write;
use std::process::ExitCode;

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
  kready scan . --only security --pss-level baseline")]
    Scan(ScanArgs),
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
    Sarif,
    Markdown,
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

    /// Fail (exit 1) when a finding has this severity or higher
    #[arg(long, value_enum, default_value = "high")]
    fail_on: FailOn,

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

    /// Pod Security Standards level to enforce
    #[arg(long, value_enum, default_value = "restricted")]
    pss_level: PssLevel,

    /// PSS policy version, when it differs from --kubernetes-version
    #[arg(long, value_name = "VERSION")]
    pss_version: Option<KubeVersion>,

    /// The input is a whole cluster: run cluster-scope rules (nodes, installed components)
    #[arg(long)]
    cluster_profile: bool,

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    /// Never fail on findings (the score gate still applies)
    Never,
}

impl FailOn {
    fn severity(self) -> Option<Severity> {
        Some(match self {
            FailOn::Critical => Severity::Critical,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
            FailOn::Never => return None,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Rules(args) => cli_rules::run_rules(args),
        Command::Explain { id } => cli_rules::run_explain(&id),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_ERROR)
}

fn run_scan(args: ScanArgs) -> ExitCode {
    let mut settings = Settings {
        pss_level: args.pss_level,
        pss_version: args.pss_version,
        cluster_profile: args.cluster_profile,
        ..Settings::default()
    };
    if let Some(v) = args.kubernetes_version {
        settings.kubernetes_version = v;
    }
    let formats = if args.format.is_empty() {
        vec![Format::Table]
    } else {
        args.format.clone()
    };
    if args.output.len() > formats.len() {
        return usage_error("more --output than --format values: give one --format per --output");
    }
    if let Some(m) = args.min_score {
        if !(0.0..=100.0).contains(&m) {
            return usage_error("--min-score takes a number from 0 to 100");
        }
    }
    let selection = Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    let rules = match scan::select_rules(&selection, &settings) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let limits = Limits {
        max_depth: args.max_depth as usize,
        max_alias_nodes: usize::try_from(args.max_alias_nodes).unwrap_or(usize::MAX),
        max_file_size: args.max_file_size,
    };
    let scan = scan::scan_paths(&args.paths, &settings, rules, &limits);
    let report = scan.report(&settings);

    let color_err = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in &report.diagnostics {
        let text = scan.texts().get(&d.file).map(|t| t.as_ref());
        eprint!("{}", kready::diagnostic::render(d, text, color_err));
    }

    for (i, format) in formats.iter().enumerate() {
        let target = args.output.get(i).map(String::as_str).unwrap_or("-");
        let to_stdout = target == "-";
        let color =
            to_stdout && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let text = render(&report, *format, color);
        let written = if to_stdout {
            std::io::stdout().lock().write_all(text.as_bytes())
        } else {
            std::fs::write(target, text)
        };
        if let Err(e) = written {
            eprintln!("error: cannot write {target}: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    }
    let code = ExitCode::from(gate(&report, args.fail_on, args.min_score));
    // The process ends here: freeing every parsed tree one by one would
    // only delay the exit (a tenth of a large scan's time).
    std::mem::forget(report);
    std::mem::forget(scan);
    code
}

fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Table => report::table::render(report, color),
        Format::Json => report::json::render(report),
        Format::Sarif => report::sarif::render(report),
        Format::Markdown => report::markdown::render(report),
    }
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

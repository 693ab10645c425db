//! The terminal table: findings grouped by object (file and line order),
//! then the scores per pillar, then what could not be evaluated. Fits 100 columns; colour only on a terminal.

use super::{fmt_score, FindingOut, Report};
use crate::catalog::Severity;
use comfy_table::{
    presets, Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
};
use std::fmt::Write;

pub fn render(report: &Report, color: bool) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let input = match &report.scan.server_version {
        Some(v) if report.scan.mode == "live" => format!("server {v}, {} objects", s.input.objects),
        _ => format!("{} files, {} objects", s.input.files, s.input.objects),
    };
    let _ = writeln!(
        out,
        "kready {} · {} scan · {input} · Kubernetes {} · PSS {:?} {}",
        report.tool.version,
        report.scan.mode,
        report.scan.kubernetes_version,
        report.scan.pss_level,
        report.scan.pss_version,
    );
    let _ = writeln!(out);

    // Findings already in the baseline are counted, not listed: the point
    // of a baseline is to see only what is new.
    let in_baseline = report.findings.iter().filter(|f| is_baseline(f)).count();
    let shown: Vec<&FindingOut> = report.findings.iter().filter(|f| !is_baseline(f)).collect();
    // One block per object (findings are already in file and line order):
    // what a reader fixes together, under one heading that names the file.
    let mut i = 0;
    while i < shown.len() {
        let key = group_key(shown[i]);
        let mut j = i;
        while j < shown.len() && group_key(shown[j]) == key {
            j += 1;
        }
        let group = &shown[i..j];
        let open = group.iter().filter(|f| f.suppression.is_none()).count();
        let _ = writeln!(
            out,
            "{} — {} finding{}{}",
            heading(group[0]),
            open,
            if open == 1 { "" } else { "s" },
            suppressed_note(group.len() - open)
        );
        let mut t = new_table(color);
        t.set_header(vec![
            header("Line", color),
            header("Severity", color),
            header("Rule", color),
            header("Message", color),
        ]);
        for f in group {
            let mut sev = Cell::new(f.severity.as_str());
            if color {
                sev = sev.fg(severity_color(f.severity));
            }
            let message = match &f.suppression {
                Some(sup) => format!("{} [suppressed: {}]", f.message, sup.justification),
                None => f.message.clone(),
            };
            let at = match (f.location.line, f.location.column) {
                (Some(l), Some(c)) => format!("{l}:{c}"),
                _ => f.location.path.clone(),
            };
            t.add_row(vec![
                Cell::new(at),
                sev,
                Cell::new(f.rule_id),
                Cell::new(message),
            ]);
        }
        // Rule IDs and positions are what people copy: never wrap them.
        for col in [0, 1, 2] {
            if let Some(c) = t.column_mut(col) {
                c.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        let _ = writeln!(out, "{t}\n");
        i = j;
    }
    if in_baseline > 0 {
        let _ = writeln!(
            out,
            "{in_baseline} finding(s) already in the baseline are not listed.\n"
        );
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    }

    let mut t = new_table(color);
    t.set_header(vec![
        header("Pillar", color),
        header("Score", color),
        header("Grade", color),
        header("Rules evaluated", color),
        header("Findings", color),
    ]);
    for p in &report.score.pillars {
        t.add_row(vec![
            Cell::new(p.pillar.title()),
            Cell::new(fmt_score(p.score)).set_alignment(CellAlignment::Right),
            Cell::new(p.grade.unwrap_or("-")),
            Cell::new(format!("{}/{}", p.rules_evaluated, p.rules_enabled)),
            Cell::new(p.findings).set_alignment(CellAlignment::Right),
        ]);
    }
    t.add_row(vec![
        Cell::new("Overall").add_attribute(Attribute::Bold),
        Cell::new(fmt_score(report.score.overall))
            .set_alignment(CellAlignment::Right)
            .add_attribute(Attribute::Bold),
        Cell::new(report.score.grade.unwrap_or("-")).add_attribute(Attribute::Bold),
        Cell::new(format!(
            "{}/{}",
            report.coverage.rules_evaluated, report.coverage.rules_enabled
        )),
        Cell::new(report.summary.findings).set_alignment(CellAlignment::Right),
    ]);
    let _ = writeln!(out, "{t}");
    if report.score.overall.is_none() {
        let _ = writeln!(out, "No score: nothing was evaluated (see below).");
    }

    if !report.coverage.not_evaluated.is_empty() {
        let _ = writeln!(
            out,
            "\nNot evaluated ({} rule/reason pairs):",
            report.coverage.not_evaluated.len()
        );
        for n in &report.coverage.not_evaluated {
            let times = if n.count > 1 {
                format!(" ×{}", n.count)
            } else {
                String::new()
            };
            let _ = writeln!(out, "  - {}: {}{}", n.rule, n.reason, times);
        }
    }
    if !report.coverage.unlisted.is_empty() {
        let _ = writeln!(
            out,
            "\nIncomplete: {} kind(s) could not be listed, their objects were not judged:",
            report.coverage.unlisted.len()
        );
        for u in &report.coverage.unlisted {
            let _ = writeln!(out, "  - {}: {}", u.kind, u.reason);
        }
    }
    let i = &report.summary.input;
    let _ = writeln!(
        out,
        "\nInput: {} files, {} documents, {} objects; skipped {} files and {} non-Kubernetes documents; {} errors, {} warnings.",
        i.files, i.documents, i.objects, i.files_skipped, i.documents_skipped, report.summary.errors, report.summary.warnings
    );
    for sk in &report.skipped {
        let _ = writeln!(out, "  skipped {}: {}", sk.file, sk.reason);
    }
    out
}

fn is_baseline(f: &FindingOut) -> bool {
    f.suppression.as_ref().is_some_and(|s| s.kind == "baseline")
}

fn suppressed_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} suppressed)")
    }
}

/// Findings of one object (or namespace, or the cluster) group together.
fn group_key(f: &FindingOut) -> (Option<&str>, Option<String>, Option<&str>) {
    (
        f.location.file.as_deref(),
        f.object.as_ref().map(|o| o.display()),
        f.namespace.as_deref(),
    )
}

/// `deploy/cart.yaml · Deployment/shop/cart`, `Namespace/shop`, `cluster`.
fn heading(f: &FindingOut) -> String {
    let object = f
        .object
        .as_ref()
        .map(|o| o.display())
        .or_else(|| f.namespace.as_ref().map(|n| format!("Namespace/{n}")));
    match (&f.location.file, object) {
        (Some(file), Some(o)) => format!("{file} · {o}"),
        (Some(file), None) => file.to_string(),
        (None, Some(o)) => o,
        (None, None) => "cluster".to_string(),
    }
}

fn new_table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(100);
    if !color {
        t.force_no_tty();
    }
    t
}

fn header(s: &str, color: bool) -> Cell {
    let c = Cell::new(s);
    if color {
        c.add_attribute(Attribute::Bold)
    } else {
        c
    }
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Red,
        Severity::High => Color::DarkRed,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Cyan,
        Severity::Info => Color::Grey,
    }
}

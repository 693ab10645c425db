//! The terminal table: findings grouped by pillar, then the scores, then
//! what could not be evaluated. Fits 100 columns; colour only on a terminal.

use super::{fmt_score, FindingOut, Report};
use crate::catalog::{Pillar, Severity};
use comfy_table::{
    presets, Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
    Width,
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

    for pillar in Pillar::ALL {
        let all: Vec<&FindingOut> = report
            .findings
            .iter()
            .filter(|f| f.pillar == pillar)
            .collect();
        // Findings already in the baseline are counted, not listed: the
        // point of a baseline is to see only what is new.
        let in_baseline = all.iter().filter(|f| is_baseline(f)).count();
        let fs: Vec<&FindingOut> = all.into_iter().filter(|f| !is_baseline(f)).collect();
        if fs.is_empty() && in_baseline == 0 {
            continue;
        }
        let open = fs.iter().filter(|f| f.suppression.is_none()).count();
        let _ = writeln!(
            out,
            "{} — {} finding{}{}{}",
            pillar.title(),
            open,
            if open == 1 { "" } else { "s" },
            suppressed_note(fs.len() - open),
            baseline_note(in_baseline)
        );
        if fs.is_empty() {
            let _ = writeln!(out);
            continue;
        }
        let mut t = new_table(color);
        t.set_header(vec![
            header("Severity", color),
            header("Rule", color),
            header("Where", color),
            header("Message", color),
        ]);
        // Keep `file:line` on one line: it is what editors and terminals link.
        let where_width = fs
            .iter()
            .map(|f| where_(f).lines().map(str::len).max().unwrap_or(0))
            .max()
            .unwrap_or(10)
            .min(48) as u16;
        for f in fs {
            let mut sev = Cell::new(f.severity.as_str());
            if color {
                sev = sev.fg(severity_color(f.severity));
            }
            let message = match &f.suppression {
                Some(sup) => format!("{} [suppressed: {}]", f.message, sup.justification),
                None => f.message.clone(),
            };
            t.add_row(vec![
                sev,
                Cell::new(&f.rule_id),
                Cell::new(where_(f)),
                Cell::new(message),
            ]);
        }
        if let Some(c) = t.column_mut(2) {
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                where_width + 2,
            )));
        }
        let _ = writeln!(out, "{t}\n");
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

fn baseline_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} in the baseline, not shown)")
    }
}

fn suppressed_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} suppressed)")
    }
}

fn where_(f: &FindingOut) -> String {
    let object = f
        .object
        .as_ref()
        .map(|o| o.display())
        .or_else(|| f.namespace.as_ref().map(|n| format!("Namespace/{n}")));
    let file = match (&f.location.file, f.location.line) {
        (Some(file), Some(line)) => Some(format!("{file}:{line}")),
        (Some(file), None) => Some(file.clone()),
        _ => None,
    };
    match (file, object) {
        (Some(file), Some(o)) => format!("{file}\n{o}"),
        (Some(file), None) => file,
        (None, Some(o)) if !f.location.path.is_empty() => format!("{o}\n{}", f.location.path),
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

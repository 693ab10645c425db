//! Markdown for a pull-request comment or a GitHub job summary.

use super::{fmt_score, Report};
use crate::catalog::Pillar;
use std::fmt::Write;

/// Findings listed in full up to this many; the rest are counted.
const MAX_ROWS: usize = 200;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let grade = report
        .score
        .grade
        .map(|g| format!(" ({g})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "## kready: production readiness {}{}\n",
        fmt_score(report.score.overall),
        grade
    );
    let _ = writeln!(
        out,
        "{} scan of {} objects in {} files · Kubernetes {} · PSS {:?} · {} findings ({} suppressed)\n",
        report.scan.mode,
        report.summary.input.objects,
        report.summary.input.files,
        report.scan.kubernetes_version,
        report.scan.pss_level,
        report.summary.findings,
        report.summary.suppressed
    );
    let _ = writeln!(
        out,
        "| Pillar | Score | Grade | Rules evaluated | Findings |\n|---|---:|:---:|---:|---:|"
    );
    for p in &report.score.pillars {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}/{} | {} |",
            p.pillar.title(),
            fmt_score(p.score),
            p.grade.unwrap_or("–"),
            p.rules_evaluated,
            p.rules_enabled,
            p.findings
        );
    }
    let _ = writeln!(out);

    let open: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.suppression.is_none())
        .collect();
    if !open.is_empty() {
        let _ = writeln!(out, "### Findings\n");
        for pillar in Pillar::ALL {
            let fs: Vec<_> = open.iter().filter(|f| f.pillar == pillar).collect();
            if fs.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "<details><summary><b>{}</b>: {} findings</summary>\n",
                pillar.title(),
                fs.len()
            );
            let _ = writeln!(
                out,
                "| Severity | Rule | Where | Message |\n|---|---|---|---|"
            );
            for f in fs.iter().take(MAX_ROWS) {
                let where_ = match (&f.location.file, f.location.line) {
                    (Some(file), Some(l)) => format!("`{file}:{l}`"),
                    _ => f
                        .object
                        .as_ref()
                        .map(|o| format!("`{}`", o.display()))
                        .or_else(|| f.namespace.as_ref().map(|n| format!("`Namespace/{n}`")))
                        .unwrap_or_else(|| "cluster".into()),
                };
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} |",
                    f.severity,
                    f.rule_id,
                    where_,
                    cell(&f.message)
                );
            }
            if fs.len() > MAX_ROWS {
                let _ = writeln!(
                    out,
                    "\n…and {} more (see the JSON or SARIF report).",
                    fs.len() - MAX_ROWS
                );
            }
            let _ = writeln!(out, "\n</details>\n");
        }
    } else {
        let _ = writeln!(out, "No findings.\n");
    }
    if report.summary.suppressed > 0 {
        let _ = writeln!(
            out,
            "<details><summary>Suppressed: {}</summary>\n",
            report.summary.suppressed
        );
        for f in report
            .findings
            .iter()
            .filter_map(|f| f.suppression.as_ref().map(|s| (f, s)))
        {
            let _ = writeln!(
                out,
                "- `{}` {}: {} (_{}: {}_)",
                f.0.rule_id,
                f.0.object.as_ref().map(|o| o.display()).unwrap_or_default(),
                cell(&f.0.message),
                f.1.kind,
                cell(&f.1.justification)
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !report.coverage.not_evaluated.is_empty() {
        let _ = writeln!(out, "<details><summary>Not evaluated: {} rule/reason pairs ({} of {} rules evaluated)</summary>\n", report.coverage.not_evaluated.len(), report.coverage.rules_evaluated, report.coverage.rules_enabled);
        for n in &report.coverage.not_evaluated {
            let _ = writeln!(out, "- `{}`: {} ({}×)", n.rule, cell(&n.reason), n.count);
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !report.coverage.unlisted.is_empty() {
        let _ = writeln!(
            out,
            "**Incomplete scan**: {} kind(s) could not be listed, their objects were not judged:\n",
            report.coverage.unlisted.len()
        );
        for u in &report.coverage.unlisted {
            let _ = writeln!(out, "- `{}`: {}", u.kind, cell(&u.reason));
        }
        let _ = writeln!(out);
    }
    if !report.diagnostics.is_empty() {
        let _ = writeln!(out, "### Input problems\n");
        for d in &report.diagnostics {
            let at = d
                .pos
                .map(|p| format!(":{}:{}", p.line, p.column))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {:?} `{}` `{}{}`: {}",
                d.level,
                d.code,
                d.file,
                at,
                cell(&d.message)
            );
        }
        let _ = writeln!(out);
    }
    let s = &report.summary.input;
    let _ = writeln!(out, "<sub>kready {} · {} documents, {} files skipped, {} non-Kubernetes documents skipped</sub>", report.tool.version, s.documents, s.files_skipped, s.documents_skipped);
    out
}

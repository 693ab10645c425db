//! SARIF 2.1.0 for GitHub code scanning: one run, every rule that ran in
//! `tool.driver.rules`, results located at the exact field with a
//! repository-relative URI, stable `partialFingerprints`.

use super::{json, FindingOut, Report};
use crate::catalog::{self, Severity};
use serde_json::json;
use serde_sarif::sarif;
use std::collections::BTreeMap;
use std::io::Write;

fn level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low | Severity::Info => sarif::ResultLevel::Note,
    }
}

/// GitHub wants URIs relative to the repository root: never absolute, never `file://`.
pub fn relative_uri(file: &str) -> String {
    let f = file.replace('\\', "/");
    let f = f.trim_start_matches("./");
    f.trim_start_matches('/').to_string()
}

fn help_markdown(m: &catalog::RuleMeta) -> String {
    let d = m.docs();
    let refs: String = d.references.iter().map(|r| format!("- <{r}>\n")).collect();
    format!(
        "**{}** ({} · {})\n\n{}\n\n**Fix:** {}\n\n```yaml\n{}```\n\n**References**\n\n{}",
        m.title,
        m.pillar,
        m.severity,
        d.rationale.trim(),
        d.remediation.text.trim(),
        d.remediation.snippet,
        refs
    )
}

/// `tool.driver.rules`: every rule that ran, in the report's order.
fn descriptors(report: &Report) -> Vec<sarif::ReportingDescriptor> {
    report
        .rules
        .iter()
        .filter_map(|r| catalog::find(&r.id).map(|m| (m, r.severity)))
        .map(|(m, severity)| {
            let d = m.docs();
            let mut props = BTreeMap::new();
            props.insert(
                "security-severity".to_string(),
                json!(severity.security_severity()),
            );
            props.insert("precision".to_string(), json!("high"));
            props.insert(
                "tags".to_string(),
                json!([m.pillar.as_str(), m.scope.as_str(), "kubernetes"]),
            );
            sarif::ReportingDescriptor::builder()
                .id(m.id.clone())
                .name(pascal(&m.id))
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(m.title.clone())
                        .build(),
                )
                .full_description(
                    sarif::MultiformatMessageString::builder()
                        .text(d.rationale.trim().to_string())
                        .build(),
                )
                .help(
                    sarif::MultiformatMessageString::builder()
                        .text(format!(
                            "{}\n\n{}",
                            d.remediation.text.trim(),
                            d.remediation.snippet
                        ))
                        .markdown(help_markdown(m))
                        .build(),
                )
                .help_uri(m.help_uri())
                .default_configuration(
                    sarif::ReportingConfiguration::builder()
                        .level(json!(level(severity)))
                        .build(),
                )
                .properties(
                    sarif::PropertyBag::builder()
                        .additional_properties(props)
                        .build(),
                )
                .build()
        })
        .collect()
}

/// Each rule's position in `tool.driver.rules` (a result's `ruleIndex`).
fn rule_indexes(report: &Report) -> BTreeMap<&str, i64> {
    report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as i64))
        .collect()
}

/// One finding as a SARIF result.
fn result(f: &FindingOut, index: &BTreeMap<&str, i64>) -> sarif::Result {
    let mut locations = Vec::new();
    let logical = f
        .object
        .as_ref()
        .map(|o| o.display())
        .or_else(|| f.namespace.as_ref().map(|n| format!("Namespace/{n}")));
    if let Some(file) = &f.location.file {
        let mut region = sarif::Region::builder().build();
        if let (Some(l), Some(c)) = (f.location.line, f.location.column) {
            region = sarif::Region::builder()
                .start_line(l as i64)
                .start_column(c as i64)
                .build();
        }
        let physical = sarif::PhysicalLocation::builder()
            .artifact_location(
                sarif::ArtifactLocation::builder()
                    .uri(relative_uri(file))
                    .build(),
            )
            .region(region)
            .build();
        let mut loc = sarif::Location::builder()
            .physical_location(physical)
            .build();
        if let Some(name) = &logical {
            loc.logical_locations = Some(vec![sarif::LogicalLocation::builder()
                .fully_qualified_name(format!("{name}:{}", f.location.path))
                .kind("object")
                .build()]);
        }
        locations.push(loc);
    } else if let Some(name) = &logical {
        let ll = sarif::LogicalLocation::builder()
            .fully_qualified_name(format!("{name}:{}", f.location.path))
            .kind("object")
            .build();
        locations.push(
            sarif::Location::builder()
                .logical_locations(vec![ll])
                .build(),
        );
    }
    let mut fp = BTreeMap::new();
    fp.insert("kready/v1".to_string(), f.fingerprint.clone());
    let mut r = sarif::Result::builder()
        .rule_id(f.rule_id)
        .level(level(f.severity))
        .message(sarif::Message::builder().text(f.message.clone()).build())
        .locations(locations)
        .partial_fingerprints(fp)
        .build();
    r.rule_index = index.get(f.rule_id).copied();
    if let Some(s) = &f.suppression {
        let kind = if s.kind == "annotation" {
            sarif::SupressionKind::InSource
        } else {
            sarif::SupressionKind::External
        };
        r.suppressions = Some(vec![sarif::Suppression::builder()
            .kind(json!(kind))
            .justification(s.justification.clone())
            .build()]);
    }
    r
}

/// The SARIF document with the given results (all of them, or none when
/// `write` streams them).
/// `omitted`: findings left out by a cap on the results; `index`: see
/// `rule_indexes`.
fn document_with(
    report: &Report,
    results: Vec<sarif::Result>,
    omitted: usize,
    index: &BTreeMap<&str, i64>,
) -> sarif::Sarif {
    let driver = sarif::ToolComponent::builder()
        .name("kready")
        .version(report.tool.version)
        .semantic_version(report.tool.version)
        .information_uri("https://github.com/kready/kready")
        .rules(descriptors(report))
        .build();
    let mut run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    // Said where code scanning shows a tool's own messages (the tool
    // status page): a capped file, and every rule that was not evaluated
    // and why, so a clean file never passes for a complete scan.
    let mut notes = Vec::new();
    if omitted > 0 {
        let text = format!(
            "{omitted} of {} findings are not in this file (--sarif-max-results {}): \
             open findings were kept before suppressed ones, the most severe first; \
             the JSON report has them all",
            report.findings.len(),
            report.findings.len() - omitted
        );
        notes.push(notification(text, sarif::ResultLevel::Warning, None));
    }
    for n in &report.coverage.not_evaluated {
        let times = if n.count > 1 {
            format!(" (×{})", n.count)
        } else {
            String::new()
        };
        let text = format!("{} not evaluated{times}: {}", n.rule, n.reason);
        let rule = sarif::ReportingDescriptorReference::builder().id(n.rule.clone());
        let rule = match index.get(n.rule.as_str()) {
            Some(&i) => rule.index(i).build(),
            None => rule.build(),
        };
        notes.push(notification(text, sarif::ResultLevel::Note, Some(rule)));
    }
    if !notes.is_empty() {
        run.invocations = Some(vec![sarif::Invocation::builder()
            .execution_successful(true)
            .tool_execution_notifications(notes)
            .build()]);
    }
    // The coverage as in the JSON report (rules enabled and evaluated, not
    // evaluated and why), and the kinds a live scan could not list.
    let mut props = BTreeMap::new();
    props.insert("kready/coverage".to_string(), json!(report.coverage));
    if !report.coverage.unlisted.is_empty() {
        props.insert(
            "kready/unlisted".to_string(),
            json!(report.coverage.unlisted),
        );
    }
    run.properties = Some(
        sarif::PropertyBag::builder()
            .additional_properties(props)
            .build(),
    );
    sarif::Sarif::builder()
        .version(json!("2.1.0"))
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .runs(vec![run])
        .build()
}

/// The findings a SARIF file holds when it may hold at most `max`: open
/// findings before suppressed ones, the most severe first, earlier in the
/// report first; kept in the report's order.
pub fn kept(findings: &[FindingOut], max: Option<usize>) -> Vec<&FindingOut> {
    let Some(max) = max.filter(|&m| m < findings.len()) else {
        return findings.iter().collect();
    };
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| {
        let f = &findings[i];
        (f.suppression.is_some(), std::cmp::Reverse(f.severity), i)
    });
    order.truncate(max);
    order.sort_unstable();
    order.into_iter().map(|i| &findings[i]).collect()
}

fn notification(
    text: String,
    level: sarif::ResultLevel,
    rule: Option<sarif::ReportingDescriptorReference>,
) -> sarif::Notification {
    let mut n = sarif::Notification::builder()
        .message(sarif::Message::builder().text(text).build())
        .level(json!(level))
        .build();
    n.associated_rule = rule;
    n
}

/// The whole SARIF document in memory (what `write` streams), with at most
/// `max_results` results.
pub fn document(report: &Report, max_results: Option<usize>) -> sarif::Sarif {
    let index = rule_indexes(report);
    let kept = kept(&report.findings, max_results);
    let omitted = report.findings.len() - kept.len();
    let results = kept.into_iter().map(|f| result(f, &index)).collect();
    document_with(report, results, omitted, &index)
}

/// Where the results go in the text of a document made with none: the
/// only real line break followed by that key at the run's depth (line
/// breaks inside strings are escaped, so no string value can hold it).
const RESULTS: &str = "\n      \"results\": []";

/// Streams the SARIF document to `out`, exactly as
/// `serde_json::to_writer_pretty(&document(report, max_results))` plus a line break
/// would write it (a test holds it to that), with the results made and
/// rendered in parallel batches: a scan with 100,000 findings never holds
/// all their SARIF values or the whole text at once. Returns how many
/// findings the cap left out.
pub fn write(
    report: &Report,
    max_results: Option<usize>,
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    let kept = kept(&report.findings, max_results);
    let omitted = report.findings.len() - kept.len();
    let index = rule_indexes(report);
    let frame = serde_json::to_string_pretty(&document_with(report, Vec::new(), omitted, &index))
        .map_err(std::io::Error::from)?;
    let at = frame
        .find(RESULTS)
        .ok_or_else(|| std::io::Error::other("the SARIF document has no place for its results"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    // Up to `"results": `, then the array in place of `[]`, then the rest.
    let (head, tail) = frame.as_bytes().split_at(at + RESULTS.len());
    out.write_all(&head[..head.len() - "[]".len()])?;
    json::array(&mut out, &kept, 4, |buf, f| {
        json::pretty_at(buf, &result(f, &index), 4)
    })?;
    out.write_all(tail)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(omitted)
}

/// The whole document, every finding a result.
pub fn render(report: &Report) -> String {
    let mut buf = Vec::new();
    match write(report, None, &mut buf) {
        Ok(_) => String::from_utf8(buf).unwrap_or_default(),
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}

fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

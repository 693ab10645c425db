//! SARIF 2.1.0 for GitHub code scanning: one run, every rule that ran in
//! `tool.driver.rules`, results located at the exact field with a
//! repository-relative URI, stable `partialFingerprints`.

use super::Report;
use crate::catalog::{self, Severity};
use serde_json::json;
use serde_sarif::sarif;
use std::collections::BTreeMap;

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

pub fn render(report: &Report) -> String {
    let rules: Vec<sarif::ReportingDescriptor> = report
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
        .collect();
    let index: BTreeMap<&str, i64> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as i64))
        .collect();

    let results: Vec<sarif::Result> = report
        .findings
        .iter()
        .map(|f| {
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
        })
        .collect();

    let driver = sarif::ToolComponent::builder()
        .name("kready")
        .version(report.tool.version)
        .semantic_version(report.tool.version)
        .information_uri("https://github.com/kready/kready")
        .rules(rules)
        .build();
    let mut run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    // Coverage of an incomplete live scan: kinds that could not be listed.
    if !report.coverage.unlisted.is_empty() {
        let mut props = std::collections::BTreeMap::new();
        props.insert(
            "kready/unlisted".to_string(),
            json!(report.coverage.unlisted),
        );
        run.properties = Some(
            sarif::PropertyBag::builder()
                .additional_properties(props)
                .build(),
        );
    }
    let doc = sarif::Sarif::builder()
        .version(json!("2.1.0"))
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .runs(vec![run])
        .build();
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
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

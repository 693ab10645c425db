//! Kubernetes PolicyReports, so findings show up where Kyverno and Trivy
//! operator users already look (Policy Reporter, `kubectl get reports -A`).
//!
//! `openreports.io/v1alpha1` (default): one `Report` per namespace holding
//! findings, and one `ClusterReport` for cluster-scoped objects and
//! cluster-wide findings (always written, so the output is never empty).
//! `wgpolicyk8s.io/v1alpha2` on request: `PolicyReport` and
//! `ClusterPolicyReport` with the same content.
//!
//! Each finding is one result: policy = rule ID, category = pillar,
//! severity, message, the object in `resources`, and `properties` with the
//! field path, file, line and fingerprint. Suppressed findings are
//! `result: skip`, `scored: false`, with the justification. Rules that were
//! not evaluated are `skip` results of the cluster-wide report, the reason
//! as the message and `properties.notEvaluated` (how many subjects), and
//! count in its `summary.skip`. Passing checks
//! are counted in `summary.pass` (per namespace, and cluster-wide for
//! cluster-scoped objects and cluster checks) but not listed one by one: a
//! large cluster passes a million checks. A namespace whose objects all
//! pass still gets its report, with no results.
//!
//! Output is multi-document YAML for `kubectl apply -f -`.

use super::{FindingOut, Report, RuleOut};
use crate::catalog::{Pillar, Severity};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyReportApi {
    /// Report / ClusterReport (the Open Reports project, successor of the WG Policy API)
    #[value(name = "openreports.io/v1alpha1")]
    OpenReports,
    /// PolicyReport / ClusterPolicyReport (Kyverno, Trivy operator, Policy Reporter)
    #[value(name = "wgpolicyk8s.io/v1alpha2")]
    WgPolicyV1Alpha2,
}

impl PolicyReportApi {
    pub fn api_version(self) -> &'static str {
        match self {
            PolicyReportApi::OpenReports => "openreports.io/v1alpha1",
            PolicyReportApi::WgPolicyV1Alpha2 => "wgpolicyk8s.io/v1alpha2",
        }
    }
    fn kinds(self) -> (&'static str, &'static str) {
        match self {
            PolicyReportApi::OpenReports => ("Report", "ClusterReport"),
            PolicyReportApi::WgPolicyV1Alpha2 => ("PolicyReport", "ClusterPolicyReport"),
        }
    }
    /// The severity as the API accepts it. The v1alpha2 CRD published by
    /// the working group allows only high, medium and low: critical is
    /// reported as high and info as low (the exact one is in `properties`).
    fn severity(self, s: Severity) -> &'static str {
        match (self, s) {
            (PolicyReportApi::WgPolicyV1Alpha2, Severity::Critical) => "high",
            (PolicyReportApi::WgPolicyV1Alpha2, Severity::Info) => "low",
            _ => s.as_str(),
        }
    }
}

/// Name of every report kready writes (one per namespace, one cluster-wide).
pub const REPORT_NAME: &str = "kready";

/// The reports as Kubernetes objects: namespaced ones sorted by namespace,
/// then the cluster-wide one.
pub fn build(report: &Report, api: PolicyReportApi) -> Vec<Value> {
    reports(report, api)
        .into_iter()
        .map(|(kind, ns, findings, unevaluated)| {
            let mut doc = head(api, kind, ns, &findings, unevaluated.len(), report);
            let results = findings.iter().map(|f| result(api, f)).chain(unevaluated);
            doc.insert("results".into(), Value::Array(results.collect()));
            Value::Object(doc)
        })
        .collect()
}

/// One report: its kind, namespace, findings, and the results for rules
/// not evaluated (only in the cluster-wide report).
type Parts<'a> = (
    &'static str,
    Option<&'a str>,
    Vec<&'a FindingOut>,
    Vec<Value>,
);

/// Each report's parts, in `build`'s order.
fn reports(report: &Report, api: PolicyReportApi) -> Vec<Parts<'_>> {
    let mut by_ns: BTreeMap<&str, Vec<&FindingOut>> = report
        .passes
        .by_namespace
        .keys()
        .map(|ns| (ns.as_str(), Vec::new()))
        .collect();
    let mut cluster = Vec::new();
    for f in &report.findings {
        match namespace_of(f) {
            Some(ns) => by_ns.entry(ns).or_default().push(f),
            None => cluster.push(f),
        }
    }
    let (kind, cluster_kind) = api.kinds();
    let mut out: Vec<_> = by_ns
        .into_iter()
        .map(|(ns, fs)| (kind, Some(ns), fs, Vec::new()))
        .collect();
    out.push((cluster_kind, None, cluster, not_evaluated(report, api)));
    out
}

/// Rules not evaluated, with the reason as the message: `skip` results of
/// the cluster-wide report, `properties.notEvaluated` the number of
/// subjects, so the reports never pass for a complete scan.
fn not_evaluated(report: &Report, api: PolicyReportApi) -> Vec<Value> {
    let rules: BTreeMap<&str, &RuleOut> = report.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    report
        .coverage
        .not_evaluated
        .iter()
        .map(|n| {
            let rule = rules.get(n.rule.as_str());
            let mut r = entry(
                api,
                &n.rule,
                rule.map(|r| (r.pillar, r.severity)),
                true,
                &n.reason,
            );
            let mut props = Map::new();
            if let Some(rule) = rule {
                props.insert("title".into(), json!(rule.title));
            }
            props.insert("notEvaluated".into(), json!(n.count.to_string()));
            r.insert("properties".into(), Value::Object(props));
            Value::Object(r)
        })
        .collect()
}

/// What every result starts with, in this order: source, policy, the
/// rule's pillar and severity (when known), `skip` (not scored) or `fail`,
/// and the message.
fn entry(
    api: PolicyReportApi,
    policy: &str,
    rule: Option<(Pillar, Severity)>,
    skip: bool,
    message: &str,
) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("source".into(), json!("kready"));
    r.insert("policy".into(), json!(policy));
    if let Some((pillar, severity)) = rule {
        r.insert("category".into(), json!(pillar.as_str()));
        r.insert("severity".into(), json!(api.severity(severity)));
    }
    r.insert("result".into(), json!(if skip { "skip" } else { "fail" }));
    r.insert("scored".into(), json!(!skip));
    r.insert("message".into(), json!(message));
    r
}

/// A namespace-scope finding belongs to its namespace's report, even when
/// it points at the (cluster-scoped) Namespace object.
fn namespace_of(f: &FindingOut) -> Option<&str> {
    f.namespace
        .as_deref()
        .or_else(|| f.object.as_ref().and_then(|o| o.namespace.as_deref()))
}

/// A report without its `results` (the last key, added by the caller).
fn head(
    api: PolicyReportApi,
    kind: &str,
    ns: Option<&str>,
    findings: &[&FindingOut],
    unevaluated: usize,
    report: &Report,
) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert("name".into(), json!(REPORT_NAME));
    if let Some(ns) = ns {
        meta.insert("namespace".into(), json!(ns));
    }
    meta.insert(
        "labels".into(),
        json!({
            "app.kubernetes.io/managed-by": "kready",
            "app.kubernetes.io/version": report.tool.version,
        }),
    );
    let skipped = findings.iter().filter(|f| f.suppression.is_some()).count();
    let passed = match ns {
        Some(ns) => report.passes.by_namespace.get(ns).copied().unwrap_or(0),
        None => report.passes.cluster,
    };
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), json!(api.api_version()));
    doc.insert("kind".into(), json!(kind));
    doc.insert("metadata".into(), Value::Object(meta));
    if api == PolicyReportApi::OpenReports {
        doc.insert("source".into(), json!("kready"));
    }
    if let Some(ns) = ns {
        doc.insert(
            "scope".into(),
            json!({"apiVersion": "v1", "kind": "Namespace", "name": ns}),
        );
    }
    doc.insert(
        "summary".into(),
        json!({
            "pass": passed,
            "fail": findings.len() - skipped,
            "warn": 0,
            "error": 0,
            "skip": skipped + unevaluated,
        }),
    );
    doc
}

fn result(api: PolicyReportApi, f: &FindingOut) -> Value {
    let mut props = Map::new();
    let mut prop = |k: &str, v: String| {
        props.insert(k.into(), Value::String(v));
    };
    prop("title", f.title.to_string());
    if !f.location.path.is_empty() {
        prop("path", f.location.path.clone());
    }
    if let Some(file) = &f.location.file {
        prop("file", file.to_string());
    }
    if let Some(l) = f.location.line {
        prop("line", l.to_string());
    }
    if let Some(c) = f.location.column {
        prop("column", c.to_string());
    }
    prop("fingerprint", f.fingerprint.clone());
    if api.severity(f.severity) != f.severity.as_str() {
        prop("kreadySeverity", f.severity.as_str().to_string());
    }
    if let Some(s) = &f.suppression {
        prop("suppression", s.kind.clone());
        prop("justification", s.justification.clone());
        if let Some(u) = &s.until {
            prop("until", u.clone());
        }
    }
    let skip = f.suppression.is_some();
    let mut r = entry(
        api,
        f.rule_id,
        Some((f.pillar, f.severity)),
        skip,
        &f.message,
    );
    let resource = match (&f.object, &f.namespace) {
        (Some(o), _) => {
            let mut m = Map::new();
            m.insert("apiVersion".into(), json!(o.api_version));
            m.insert("kind".into(), json!(o.kind));
            m.insert("name".into(), json!(o.name));
            if let Some(ns) = &o.namespace {
                m.insert("namespace".into(), json!(ns));
            }
            Some(Value::Object(m))
        }
        (None, Some(ns)) => Some(json!({"apiVersion": "v1", "kind": "Namespace", "name": ns})),
        (None, None) => None,
    };
    if let Some(res) = resource {
        r.insert("resources".into(), json!([res]));
    }
    r.insert("properties".into(), Value::Object(props));
    Value::Object(r)
}

/// Text written out at a time: the reports' values and text are never
/// held whole (a cluster scan can have 100,000 findings).
const BATCH: usize = 1 << 16;

/// Streams multi-document YAML, one report per document: the YAML of
/// `build`'s values (a test holds it to that), each result made, emitted
/// and dropped in turn.
pub fn write(report: &Report, api: PolicyReportApi, out: &mut dyn Write) -> std::io::Result<()> {
    let mut text = String::new();
    for (kind, ns, findings, unevaluated) in reports(report, api) {
        text.push_str("---\n");
        let head = head(api, kind, ns, &findings, unevaluated.len(), report);
        emit_block(&Value::Object(head), 0, &mut text);
        if findings.is_empty() && unevaluated.is_empty() {
            emit_entry("results", &Value::Array(Vec::new()), 0, &mut text);
            continue;
        }
        // A sequence under a key sits at the key's indent: each result is
        // emitted as a one-item sequence at 0.
        text.push_str("results:\n");
        let results = findings.iter().map(|f| result(api, f)).chain(unevaluated);
        for r in results {
            emit_block(&Value::Array(vec![r]), 0, &mut text);
            if text.len() >= BATCH {
                out.write_all(text.as_bytes())?;
                text.clear();
            }
        }
    }
    out.write_all(text.as_bytes())?;
    out.flush()
}

pub fn render(report: &Report, api: PolicyReportApi) -> String {
    let mut buf = Vec::new();
    match write(report, api, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(e) => format!("# error: {e}\n"),
    }
}

/// True when YAML (1.1, as go-yaml reads it) cannot read `s` written plain
/// as anything but that string: it starts with a letter, holds only
/// letters, digits, spaces and `_./()-`, does not end in a space, and is not
/// a boolean or null word. Anything else is double-quoted.
fn plain_ok(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !s.ends_with(' ')
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '/' | '-' | '_' | '(' | ')')
        })
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

fn key(k: &str) -> String {
    scalar(&Value::String(k.to_string()))
}

/// A scalar (or empty collection) in flow form; JSON escapes are valid in
/// YAML double-quoted strings.
fn scalar(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::String(s) if plain_ok(s) => s.clone(),
        _ => serde_json::to_string(v).unwrap_or_else(|_| "null".into()),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// Writes a mapping or sequence at `indent` (each line starts there).
fn emit_block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                out.push_str(&pad);
                emit_entry(k, val, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // First entry on the dash line, the rest aligned under it.
                        for (i, (k, val)) in m.iter().enumerate() {
                            if i > 0 {
                                out.push_str(&" ".repeat(indent + 2));
                            }
                            emit_entry(k, val, indent + 2, out);
                        }
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        emit_block(item, indent + 2, out);
                    }
                    _ => {
                        out.push_str(&scalar(item));
                        out.push('\n');
                    }
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

/// `key: value` where the key is already indented to `indent`.
fn emit_entry(k: &str, val: &Value, indent: usize, out: &mut String) {
    out.push_str(&key(k));
    out.push(':');
    if is_block(val) {
        out.push('\n');
        let child = match val {
            Value::Array(_) => indent,
            _ => indent + 2,
        };
        emit_block(val, child, out);
    } else {
        out.push(' ');
        out.push_str(&scalar(val));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load, Limits};

    #[test]
    fn yaml_reads_back_as_the_same_json() {
        let v = json!({
            "a": 1, "b": "x: y", "true": "yes", "n": "No", "s": "two words", "t": "trail ",
            "num": "40", "f": "1.5", "e": "1e3", "x": "0x1F", "d": "2027-01-31", "p": "(a/b)", "null": "~", "c": {"d": [1, "2", {"e": [], "f": {}}], "g": null},
            "h": [[1, 2], {"i": "multi\nline \"quoted\" \\ tab\t"}], "app.kubernetes.io/name": "k",
            "j": [{"k": {"l": 1}, "m": [3]}]
        });
        let mut s = String::new();
        emit_block(&v, 0, &mut s);
        let loaded = load(&s, &Limits::default());
        assert!(loaded.problems.is_empty(), "{s}");
        assert_eq!(loaded.docs[0].root.to_json(), v, "{s}");
    }
}

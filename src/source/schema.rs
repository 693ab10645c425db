//! `manifest-schema-invalid`: a built-in kind that the API server would
//! refuse to decode. Each object of a kind k8s-openapi knows, at exactly
//! the apiVersion it knows, is read into its k8s-openapi type with
//! `from_node_kubernetes` (the API server's JSON rules: strings only where
//! strings go, integers where integers go, no unknown fields, `null` as the
//! zero value). The first failure is reported with its field path and
//! position; the object still goes to the rules.
//!
//! Other apiVersions (`extensions/v1beta1`, CRDs' kinds) are not checked:
//! there is no type to check them against.

use crate::diagnostic::{code, Diagnostic};
use crate::object::{Object, Origin};
use crate::yaml::de::{from_node_kubernetes, TypedError};
use crate::yaml::{Node, Resolved, Value};
use k8s_openapi::api::{
    admissionregistration::v1 as admission, apps::v1 as apps, autoscaling::v1 as autoscaling1,
    autoscaling::v2 as autoscaling2, batch::v1 as batch, core::v1 as core,
    discovery::v1 as discovery, networking::v1 as networking, node::v1 as node,
    policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling, storage::v1 as storage,
};
use k8s_openapi::Resource;
use serde::de::DeserializeOwned;

type Checker = fn(&Node) -> Result<(), TypedError>;

fn check<T: DeserializeOwned>(n: &Node) -> Result<(), TypedError> {
    from_node_kubernetes::<T>(n).map(drop)
}

macro_rules! kinds {
    ($($t:ty),* $(,)?) => {
        &[$((<$t as Resource>::API_VERSION, <$t as Resource>::KIND, check::<$t> as Checker)),*]
    };
}

/// The kinds checked: what manifests commonly hold.
static KINDS: &[(&str, &str, Checker)] = kinds![
    core::Pod,
    core::Service,
    core::ServiceAccount,
    core::Namespace,
    core::PersistentVolumeClaim,
    core::PersistentVolume,
    core::ReplicationController,
    core::LimitRange,
    core::ResourceQuota,
    core::Endpoints,
    apps::Deployment,
    apps::StatefulSet,
    apps::DaemonSet,
    apps::ReplicaSet,
    batch::Job,
    batch::CronJob,
    networking::Ingress,
    networking::IngressClass,
    networking::NetworkPolicy,
    policy::PodDisruptionBudget,
    autoscaling1::HorizontalPodAutoscaler,
    autoscaling2::HorizontalPodAutoscaler,
    rbac::Role,
    rbac::ClusterRole,
    rbac::RoleBinding,
    rbac::ClusterRoleBinding,
    storage::StorageClass,
    storage::CSIDriver,
    scheduling::PriorityClass,
    node::RuntimeClass,
    discovery::EndpointSlice,
    admission::ValidatingWebhookConfiguration,
    admission::MutatingWebhookConfiguration,
    admission::ValidatingAdmissionPolicy,
    admission::ValidatingAdmissionPolicyBinding,
];

/// Whether objects of this apiVersion and kind are checked.
pub fn is_checked(api_version: &str, kind: &str) -> bool {
    checker(api_version, kind).is_some()
}

fn checker(api_version: &str, kind: &str) -> Option<Checker> {
    match (api_version, kind) {
        ("v1", "Secret") => return Some(check_secret),
        ("v1", "ConfigMap") => return Some(check_config_map),
        _ => {}
    }
    KINDS
        .iter()
        .find(|(a, k, _)| *k == kind && *a == api_version)
        .map(|(_, _, f)| *f)
}

/// Secrets: `data` is checked as Go decodes base64 (line breaks are
/// skipped, which k8s-openapi's decoder does not do), the rest typed.
fn check_secret(n: &Node) -> Result<(), TypedError> {
    let copy = blank_values(n, &[("data", true), ("stringData", false)])?;
    check::<core::Secret>(&copy)
}

/// ConfigMaps: values are checked in place (they can be large dashboards:
/// no copy into the typed object), the rest typed.
fn check_config_map(n: &Node) -> Result<(), TypedError> {
    let copy = blank_values(n, &[("data", false), ("binaryData", true)])?;
    check::<core::ConfigMap>(&copy)
}

/// A copy of `n` whose maps `fields` have their string values checked
/// (as base64 when flagged) and emptied. Non-string values stay, for the
/// typed read to report.
fn blank_values(n: &Node, fields: &[(&str, bool)]) -> Result<Node, TypedError> {
    let Value::Map(m) = &n.value else {
        return Ok(n.clone());
    };
    let mut entries = Vec::with_capacity(m.entries.len());
    for (k, v) in &m.entries {
        let Some((_, base64)) = fields.iter().find(|(f, _)| *f == k.text) else {
            entries.push((k.clone(), v.clone()));
            continue;
        };
        let mut v2 = Node {
            pos: v.pos,
            value: Value::Map(Default::default()),
        };
        let Value::Map(vm) = &v.value else {
            entries.push((k.clone(), v.clone()));
            continue;
        };
        let mut out = Vec::with_capacity(vm.entries.len());
        for (dk, dv) in &vm.entries {
            match dv.resolved() {
                Some(Resolved::Str(t)) => {
                    if *base64 && !go_base64(t) {
                        return Err(TypedError {
                            message: "not valid base64 (encode the value, or use stringData)"
                                .into(),
                            pos: dv.pos,
                            path: format!("{}.{}", k.text, dk.text),
                        });
                    }
                    out.push((dk.clone(), Node::scalar("", false, dv.pos)));
                }
                _ => out.push((dk.clone(), dv.clone())),
            }
        }
        v2.value = Value::Map(crate::yaml::Map { entries: out });
        entries.push((k.clone(), v2));
    }
    Ok(Node {
        pos: n.pos,
        value: Value::Map(crate::yaml::Map { entries }),
    })
}

/// Whether Go's `base64.StdEncoding` accepts `s` (it skips `\r` and `\n`).
fn go_base64(s: &str) -> bool {
    let b: Vec<u8> = s.bytes().filter(|c| *c != b'\r' && *c != b'\n').collect();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// The `manifest-schema-invalid` error for `obj`, if it has one.
pub fn validate(obj: &Object) -> Option<Diagnostic> {
    let f = checker(&obj.api_version, &obj.kind)?;
    let e = f(&obj.root).err()?;
    let Origin::File { file, line_offset } = &obj.origin else {
        return None;
    };
    let mut pos = e.pos;
    if pos.is_known() {
        pos.line = pos.line.saturating_sub(*line_offset).max(1);
    }
    let field = if e.path.is_empty() || e.path == "." {
        String::new()
    } else {
        format!("`{}`: ", e.path)
    };
    Some(
        Diagnostic::error(
            code::SCHEMA_INVALID,
            file,
            Some(pos),
            format!(
                "{} {} is not a valid {} {}: {field}{}",
                obj.kind, obj.name, obj.api_version, obj.kind, e.message
            ),
        )
        .with_help(
            "the API server would reject this object; the other rules still judge what they can",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::files::load_bytes;
    use crate::yaml::Limits;
    use std::sync::Arc;

    fn diags(text: &str) -> Vec<Diagnostic> {
        let o = load_bytes(
            Arc::from("t.yaml"),
            text.as_bytes(),
            &Limits::default(),
            false,
        );
        o.diagnostics
            .into_iter()
            .filter(|d| d.code == code::SCHEMA_INVALID)
            .collect()
    }

    const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  creationTimestamp: null
  annotations: {a: b}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 0.5}}
        livenessProbe: {httpGet: {port: http, path: /}}
        env: [{name: A, value: ENV}]
status: {}
";

    #[test]
    fn valid_deployment_passes() {
        let t = DEPLOY.replace("REPLICAS", "3").replace("ENV", "\"8080\"");
        assert!(diags(&t).is_empty(), "{:?}", diags(&t));
    }

    #[test]
    fn replicas_as_a_word_is_reported_with_path_and_position() {
        let t = DEPLOY.replace("REPLICAS", "\"three\"").replace("ENV", "x");
        let d = diags(&t);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("`spec.replicas`"), "{}", d[0].message);
        assert!(d[0].message.contains("three"), "{}", d[0].message);
        let p = d[0].pos.unwrap();
        assert_eq!((p.line, p.column), (8, 13));
    }

    #[test]
    fn number_for_a_string_field_is_reported() {
        let t = DEPLOY.replace("REPLICAS", "1").replace("ENV", "8080");
        let d = diags(&t);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("env[0].value"), "{}", d[0].message);
    }

    #[test]
    fn unknown_field_is_reported_at_its_key() {
        let t = DEPLOY.replace("REPLICAS", "1").replace("ENV", "x").replace(
            "        image:",
            "        imagePullPolicys: Always\n        image:",
        );
        let d = diags(&t);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("imagePullPolicys"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].pos.unwrap().line, 15);
    }

    #[test]
    fn containers_as_a_map_is_reported_and_the_object_kept() {
        let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    name: a\n    image: b\n";
        let o = load_bytes(Arc::from("t.yaml"), t.as_bytes(), &Limits::default(), false);
        assert_eq!(o.objects.len(), 1);
        let d: Vec<_> = o
            .diagnostics
            .iter()
            .filter(|d| d.code == code::SCHEMA_INVALID)
            .collect();
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("spec.containers"), "{}", d[0].message);
        assert_eq!(d[0].pos.unwrap().line, 6);
    }

    #[test]
    fn secrets_take_base64_as_go_does() {
        let ok = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: |\n    aGVsbG8g\n    d29ybGQ=\n  b: \"\"\nstringData: {c: plain}\n";
        assert!(diags(ok).is_empty(), "{:?}", diags(ok));
        let bad = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: \"...base64 encoded data...\"\n";
        let d = diags(bad);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("`data.a`"), "{}", d[0].message);
        assert_eq!(d[0].pos.unwrap().line, 5);
    }

    #[test]
    fn config_map_values_must_be_strings() {
        let ok = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\", b: x}\n";
        assert!(diags(ok).is_empty());
        let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  port: 8080\n";
        let d = diags(bad);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("`data.port`"), "{}", d[0].message);
    }

    #[test]
    fn other_api_versions_and_custom_kinds_are_not_checked() {
        assert!(is_checked("apps/v1", "Deployment"));
        assert!(!is_checked("extensions/v1beta1", "Deployment"));
        assert!(!is_checked("example.com/v1", "Widget"));
        let t = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {replicas: three}\n";
        assert!(diags(t).is_empty());
    }
}

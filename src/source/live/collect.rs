//! Listing a cluster: discovery decides where each wanted kind is served,
//! a pre-flight access review says which lists the account may not make,
//! then lists run concurrently (a bounded number in flight), page by page,
//! and each page becomes `Object`s before the next one is fetched.
//!
//! Requests sent: `GET /version`, discovery `GET`s, `POST`s of
//! `SelfSubjectAccessReview` (a question about the caller's own rights:
//! nothing is stored), and `GET` lists. Nothing else.

use super::client::{chain, Connected};
use super::json::JsonNode;
use super::kinds::{self, KindSpec};
use super::{LiveError, Options};
use crate::object::{Object, Origin};
use crate::source::ClusterFacts;
use crate::yaml::{Key, Map, Node, Pos, Scalar, Value};
use futures::stream::{self, StreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::api::{ListParams, PostParams};
use kube::core::Request;
use kube::Api;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where a kind is served.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub kind: &'static str,
    pub group: String,
    pub version: String,
    /// Plural resource name (`deployments`).
    pub resource: String,
    pub namespaced: bool,
}

impl Resolved {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn url(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.resource),
            None => format!("{base}/{}", self.resource),
        }
    }
}

/// What listing produced.
pub struct Collected {
    pub objects: Vec<Object>,
    pub facts: ClusterFacts,
    /// Kinds the pre-flight review says the account may not list.
    pub denied: Vec<String>,
    /// Kinds actually listed from the server (not counting unserved ones).
    pub listed_from_server: usize,
    pub requests: usize,
}

#[derive(Deserialize)]
struct RawList {
    #[serde(default)]
    metadata: RawListMeta,
    #[serde(default)]
    items: Vec<JsonNode>,
}

#[derive(Deserialize, Default)]
struct RawListMeta {
    #[serde(default, rename = "continue")]
    continue_: Option<String>,
}

/// The server version, e.g. `v1.20.2`. `Ok(None)` when `/version` is
/// forbidden (the server answered, so it is reachable).
pub async fn server_version(c: &Connected) -> Result<Option<String>, LiveError> {
    match c.client.apiserver_version().await {
        Ok(info) => Ok(Some(info.git_version)),
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(None),
        Err(e) => Err(classify(c, &e)),
    }
}

/// Turns a failed first request into a user-facing error (exit 2).
pub fn classify(c: &Connected, e: &kube::Error) -> LiveError {
    let detail = c.redactor.redact(&chain(e));
    match e {
        kube::Error::Api(s) if s.code == 401 => LiveError::Auth(format!(
            "the API server at {} rejected the credentials (401 Unauthorized): check the token, \
             certificate or exec plugin of the kubeconfig user",
            c.server
        )),
        kube::Error::Api(s) => LiveError::Api(format!(
            "the API server at {} answered {} {}: {}",
            c.server,
            s.code,
            s.reason,
            c.redactor.redact(&s.message)
        )),
        kube::Error::Auth(_) => {
            LiveError::Auth(format!("cannot get credentials for {}: {detail}", c.server))
        }
        _ => LiveError::Connect(format!(
            "cannot reach the API server at {}: {detail}{}",
            c.server,
            hint(&detail, c.timeout)
        )),
    }
}

/// Plain words for the usual connection failures.
fn hint(detail: &str, timeout: std::time::Duration) -> String {
    let d = detail.to_ascii_lowercase();
    if d.contains("connection refused") {
        " (nothing listens there: is the cluster up, and is this the right context?)".into()
    } else if d.contains("certificate") || d.contains("unknownissuer") || d.contains("tls") {
        " (TLS verification failed: the server's certificate is not signed by the kubeconfig's \
         certificate-authority, or does not name this address; kready never skips verification \
         unless the kubeconfig says insecure-skip-tls-verify)"
            .into()
    } else if d.contains("deadline has elapsed") || d.contains("timed out") {
        format!(" (no answer within --timeout {}s)", timeout.as_secs_f64())
    } else if d.contains("dns error") || d.contains("failed to lookup") {
        " (the server's host name does not resolve)".into()
    } else {
        String::new()
    }
}

/// Discovery: for each wanted kind, the first of its group/versions the
/// server serves. Kinds whose API is not served are returned apart: the
/// cluster has none of them. Discovery of a group that fails (an
/// aggregated API that is down) makes its kinds unavailable, not the scan.
pub async fn discover(
    c: &Connected,
    wanted: &BTreeSet<&'static str>,
    concurrency: usize,
) -> Result<DiscoveryResult, LiveError> {
    let groups = c
        .client
        .list_api_groups()
        .await
        .map_err(|e| classify(c, &e))?;
    let mut served: HashMap<String, (Vec<String>, Option<String>)> = HashMap::new();
    for g in groups.groups {
        let versions = g.versions.iter().map(|v| v.version.clone()).collect();
        let preferred = g.preferred_version.map(|p| p.version);
        served.insert(g.name, (versions, preferred));
    }
    served.insert(String::new(), (vec!["v1".into()], Some("v1".into())));

    // Which group/versions to ask about, per kind, in preference order.
    let specs: Vec<&'static KindSpec> = wanted.iter().filter_map(|k| kinds::spec(k)).collect();
    let mut candidates: Vec<(&'static KindSpec, Vec<(String, String)>)> = Vec::new();
    let mut gvs: BTreeSet<(String, String)> = BTreeSet::new();
    for spec in specs {
        let mut cands = Vec::new();
        for (group, versions) in spec.sources {
            let Some((served_versions, preferred)) = served.get(*group) else {
                continue;
            };
            let order: Vec<String> = if versions.is_empty() {
                preferred
                    .iter()
                    .cloned()
                    .chain(served_versions.iter().cloned())
                    .collect()
            } else {
                versions
                    .iter()
                    .filter(|v| served_versions.iter().any(|s| s == *v))
                    .map(|v| v.to_string())
                    .collect()
            };
            for v in order {
                if !cands.contains(&(group.to_string(), v.clone())) {
                    cands.push((group.to_string(), v));
                }
            }
        }
        gvs.extend(cands.iter().cloned());
        candidates.push((spec, cands));
    }

    let fetched: Vec<((String, String), Result<APIResourceList, String>)> =
        stream::iter(gvs.into_iter().map(|(g, v)| async move {
            let res = if g.is_empty() {
                c.client.list_core_api_resources(&v).await
            } else {
                c.client.list_api_group_resources(&format!("{g}/{v}")).await
            };
            ((g, v), res.map_err(|e| c.redactor.redact(&chain(&e))))
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let fetched: HashMap<(String, String), Result<APIResourceList, String>> =
        fetched.into_iter().collect();

    let mut out = DiscoveryResult {
        requests: 1 + fetched.len(),
        ..Default::default()
    };
    for (spec, cands) in candidates {
        let mut errors = Vec::new();
        let mut found = None;
        for (g, v) in &cands {
            match fetched.get(&(g.clone(), v.clone())) {
                Some(Ok(list)) => {
                    if let Some(r) = list.resources.iter().find(|r| {
                        r.kind == spec.kind
                            && !r.name.contains('/')
                            && r.verbs.iter().any(|v| v == "list")
                    }) {
                        found = Some(Resolved {
                            kind: spec.kind,
                            group: g.clone(),
                            version: v.clone(),
                            resource: r.name.clone(),
                            namespaced: r.namespaced,
                        });
                        break;
                    }
                }
                Some(Err(e)) => errors.push(format!("discovery of {}: {e}", gv(g, v))),
                None => {}
            }
        }
        match (found, errors.is_empty()) {
            (Some(r), _) => out.resolved.push(r),
            (None, true) => out.not_served.push(spec.kind),
            (None, false) => {
                out.failed.insert(spec.kind.to_string(), errors.join("; "));
            }
        }
    }
    Ok(out)
}

fn gv(g: &str, v: &str) -> String {
    if g.is_empty() {
        v.to_string()
    } else {
        format!("{g}/{v}")
    }
}

#[derive(Default)]
pub struct DiscoveryResult {
    pub resolved: Vec<Resolved>,
    /// Kinds whose API the server does not serve: none exist.
    pub not_served: Vec<&'static str>,
    /// Kinds whose discovery failed, with the reason.
    pub failed: BTreeMap<String, String>,
    /// Discovery requests sent.
    pub requests: usize,
}

/// One list to make: a kind, in all namespaces or in one.
#[derive(Clone)]
pub struct Task {
    pub res: Resolved,
    pub namespace: Option<String>,
}

/// The lists to make: namespaced kinds in each namespace of `-n` (or all
/// namespaces at once), cluster-scoped kinds only for cluster-wide scans.
pub fn tasks(resolved: &[Resolved], namespaces: &[String]) -> Vec<Task> {
    let mut out = Vec::new();
    for r in resolved {
        if namespaces.is_empty() {
            out.push(Task {
                res: r.clone(),
                namespace: None,
            });
        } else if r.namespaced {
            for ns in namespaces {
                out.push(Task {
                    res: r.clone(),
                    namespace: Some(ns.clone()),
                });
            }
        }
    }
    out
}

/// Pre-flight: asks the server, with one `SelfSubjectAccessReview` per
/// list, whether this account may make it. Returns the denied tasks'
/// indexes with the reason. A review that fails says nothing: the list
/// is tried anyway and its own error counts.
pub async fn preflight(
    c: &Connected,
    tasks: &[Task],
    concurrency: usize,
) -> (BTreeMap<usize, String>, usize) {
    let api: Api<SelfSubjectAccessReview> = Api::all(c.client.clone());
    let results: Vec<(usize, Option<String>)> =
        stream::iter(tasks.iter().enumerate().map(|(i, t)| {
            let api = api.clone();
            async move {
                let review = SelfSubjectAccessReview {
                    spec: SelfSubjectAccessReviewSpec {
                        resource_attributes: Some(ResourceAttributes {
                            verb: Some("list".into()),
                            group: Some(t.res.group.clone()),
                            version: Some(t.res.version.clone()),
                            resource: Some(t.res.resource.clone()),
                            namespace: t.namespace.clone(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let denied = match api.create(&PostParams::default(), &review).await {
                    Ok(r) => r.status.filter(|s| !s.allowed).map(|s| {
                        let scope = match &t.namespace {
                            Some(ns) => format!(" in namespace {ns}"),
                            None if t.res.namespaced => " in all namespaces".to_string(),
                            None => String::new(),
                        };
                        let why = s
                            .reason
                            .filter(|r| !r.is_empty())
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default();
                        format!(
                            "forbidden: this account may not list {}{scope} (pre-flight access review){why}",
                            resource_name(&t.res)
                        )
                    }),
                    Err(_) => None,
                };
                (i, denied)
            }
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let n = results.len();
    (
        results
            .into_iter()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .collect(),
        n,
    )
}

fn resource_name(r: &Resolved) -> String {
    if r.group.is_empty() {
        r.resource.clone()
    } else {
        format!("{}.{}", r.resource, r.group)
    }
}

/// Lists one task, page by page, converting each page before the next.
pub async fn list_task(
    c: &Connected,
    t: &Task,
    page_size: u32,
) -> Result<(Vec<Object>, usize), String> {
    let url = t.res.url(t.namespace.as_deref());
    let api_version = t.res.api_version();
    let mut objects = Vec::new();
    let mut continue_token: Option<String> = None;
    let mut requests = 0;
    let mut restarted = false;
    loop {
        let lp = ListParams {
            limit: Some(page_size),
            continue_token: continue_token.clone(),
            ..Default::default()
        };
        let req = Request::new(url.clone())
            .list(&lp)
            .map_err(|e| e.to_string())?;
        requests += 1;
        let page: RawList = match c.client.request(req).await {
            Ok(p) => p,
            // The continue token expired (a long list on a busy cluster):
            // start over once, as kubectl's pager does.
            Err(kube::Error::Api(s)) if s.code == 410 && !restarted => {
                restarted = true;
                continue_token = None;
                objects.clear();
                continue;
            }
            // The API went away since discovery (a CRD deleted): none left.
            Err(kube::Error::Api(s)) if s.code == 404 && continue_token.is_none() => {
                return Ok((Vec::new(), requests));
            }
            Err(e) => return Err(list_error(c, &e)),
        };
        objects.reserve(page.items.len());
        for JsonNode(item) in page.items {
            if let Some(o) = to_object(item, &api_version, t.res.kind) {
                objects.push(o);
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => continue_token = Some(token),
            None => break,
        }
    }
    Ok((objects, requests))
}

fn list_error(c: &Connected, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => {
            format!("forbidden (403): {}", c.redactor.redact(&s.message))
        }
        kube::Error::Api(s) => format!(
            "the server answered {} {}: {}",
            s.code,
            s.reason,
            c.redactor.redact(&s.message)
        ),
        other => {
            let t = c.redactor.redact(&chain(other));
            if t.to_ascii_lowercase().contains("timed out") || t.contains("deadline") {
                format!("timed out after {}s: {t}", c.timeout.as_secs_f64())
            } else {
                t
            }
        }
    }
}

/// An item of a list response as an `Object`. List items carry no
/// `apiVersion`/`kind`: they are set from the list. `managedFields` and
/// the `last-applied-configuration` annotation (a second copy of the
/// object) are dropped: no rule reads them and they double memory use.
pub fn to_object(item: Node, api_version: &str, kind: &str) -> Option<Object> {
    let Value::Map(map) = item.value else {
        return None;
    };
    let mut entries = Vec::with_capacity(map.entries.len() + 2);
    let text = |t: &str| Node {
        pos: Pos::NONE,
        value: Value::Scalar(Scalar {
            text: t.into(),
            plain: false,
        }),
    };
    let key = |t: &str| Key {
        text: t.into(),
        pos: Pos::NONE,
    };
    entries.push((key("apiVersion"), text(api_version)));
    entries.push((key("kind"), text(kind)));
    for (k, mut v) in map.entries {
        match k.text.as_str() {
            "apiVersion" | "kind" => continue,
            "metadata" => strip_metadata(&mut v),
            _ => {}
        }
        entries.push((k, v));
    }
    let root = Node {
        pos: Pos::NONE,
        value: Value::Map(Map { entries }),
    };
    let meta = root.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("<unnamed>")
        .to_string();
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .map(str::to_string);
    Some(Object {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name,
        namespace,
        root,
        origin: Origin::Live,
    })
}

fn strip_metadata(meta: &mut Node) {
    let Value::Map(m) = &mut meta.value else {
        return;
    };
    m.entries.retain(|(k, _)| k.text != "managedFields");
    for (k, v) in m.entries.iter_mut() {
        if k.text == "annotations" {
            if let Value::Map(ann) = &mut v.value {
                ann.entries
                    .retain(|(k, _)| k.text != "kubectl.kubernetes.io/last-applied-configuration");
            }
        }
    }
}

/// Lists every task with a bounded number in flight, calling `on_done`
/// after each (for the progress bar).
pub async fn list_all(
    c: &Connected,
    tasks: Vec<Task>,
    opts: &Options,
    on_done: &(dyn Fn(&Task, usize) + Sync),
) -> Vec<(Task, Result<(Vec<Object>, usize), String>)> {
    stream::iter(tasks.into_iter().map(|t| async move {
        let r = list_task(c, &t, opts.page_size).await;
        on_done(&t, r.as_ref().map(|(o, _)| o.len()).unwrap_or(0));
        (t, r)
    }))
    .buffer_unordered(opts.concurrency.max(1))
    .collect()
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_get_kind_and_lose_managed_fields() {
        let item: JsonNode = serde_json::from_str(
            r#"{"metadata":{"name":"web","namespace":"shop","managedFields":[{"manager":"kubectl"}],
            "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}","keep":"me"}},
            "spec":{"replicas":2}}"#,
        )
        .unwrap();
        let o = to_object(item.0, "apps/v1", "Deployment").unwrap();
        assert_eq!(
            (o.kind.as_str(), o.name.as_str(), o.namespace.as_deref()),
            ("Deployment", "web", Some("shop"))
        );
        let json = o.root.to_json();
        assert_eq!(
            json,
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "annotations": {"keep": "me"}},
                "spec": {"replicas": 2}})
        );
        let keys: Vec<&str> = o.root.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
    }
}

//! Security rules: RBAC. Roles are read rule by rule and matched the way the
//! API server's RBAC authorizer matches a request (`*` matches everything,
//! `*/exec` matches the `exec` subresource of any resource, but `pods/*`
//! matches nothing special), so a finding names a permission that really is
//! granted.
//!
//! Two kinds of ClusterRoles are not judged by the role rules:
//! - the API server's own roles (label `kubernetes.io/bootstrapping:
//!   rbac-defaults`: `cluster-admin`, `admin`, `edit`, `system:*`): they are
//!   reconciled at every API server start, a user cannot fix them; what
//!   matters is who they are bound to (`rbac-cluster-admin-binding`);
//! - aggregated ClusterRoles (`aggregationRule`): their `rules` are written
//!   by the controller from the roles they aggregate, which are judged
//!   themselves (judging both would report every grant twice).
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Check, Ctx, Outcome, RuleImpl, Violation};
use crate::settings::KubeVersion;
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "rbac-cluster-admin-binding",
        check: Check::Object(
            &["ClusterRoleBinding", "RoleBinding"],
            cluster_admin_binding,
        ),
    },
    RuleImpl {
        id: "rbac-wildcard",
        check: Check::Object(&["Role", "ClusterRole"], wildcard),
    },
    RuleImpl {
        id: "rbac-secrets-access",
        check: Check::Object(&["Role", "ClusterRole"], secrets_access),
    },
    RuleImpl {
        id: "rbac-pod-exec",
        check: Check::Object(&["Role", "ClusterRole"], pod_exec),
    },
    RuleImpl {
        id: "rbac-escalation-verbs",
        check: Check::Object(&["Role", "ClusterRole"], escalation_verbs),
    },
    RuleImpl {
        id: "rbac-binding-to-default-sa",
        check: Check::Object(
            &["ClusterRoleBinding", "RoleBinding"],
            binding_to_default_sa,
        ),
    },
];

/// One entry of a Role's `rules`.
struct PolicyRule<'a> {
    index: usize,
    groups: Vec<&'a str>,
    resources: Vec<&'a str>,
    verbs: Vec<&'a str>,
    names: Vec<&'a str>,
}

fn strings(n: Option<&Node>) -> Vec<&str> {
    n.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

impl<'a> PolicyRule<'a> {
    fn path(&self) -> FieldPath {
        FieldPath::of(&["rules"]).idx(self.index)
    }

    fn field(&self, key: &str) -> FieldPath {
        self.path().key(key)
    }

    fn group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| *g == "*" || *g == group)
    }

    /// RBAC's ResourceMatches: `*`, the exact `resource[/sub]`, or `*/sub`.
    fn resource(&self, resource: &str) -> bool {
        let sub = resource.split_once('/').map(|(_, s)| s);
        self.resources.iter().any(|r| {
            *r == "*" || *r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
        })
    }

    fn verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| *v == "*" || *v == verb)
    }

    fn grants(&self, group: &str, resource: &str, verb: &str) -> bool {
        self.group(group) && self.resource(resource) && self.verb(verb)
    }

    /// Verbs among `wanted` that this rule grants, as written (`*` once).
    fn verbs_among(&self, wanted: &[&'a str]) -> Vec<&'a str> {
        if self.verbs.contains(&"*") {
            return vec!["*"];
        }
        wanted
            .iter()
            .copied()
            .filter(|w| self.verbs.contains(w))
            .collect()
    }

    /// ` (via verbs "*")`-style note when a wildcard is what grants it.
    fn via_wildcard(&self, resource: &str) -> String {
        let mut how = Vec::new();
        if self.verbs.contains(&"*") {
            how.push("verbs \"*\"");
        }
        if !self.resources.contains(&resource) && self.resources.iter().any(|r| r.starts_with('*'))
        {
            how.push("resources \"*\"");
        }
        if how.is_empty() {
            String::new()
        } else {
            format!(" (through {})", how.join(" and "))
        }
    }
}

/// The resource rules of a Role/ClusterRole (non-resource URL rules apart).
fn policy_rules(o: &Object) -> Vec<PolicyRule<'_>> {
    o.root
        .get("rules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(index, r)| PolicyRule {
            index,
            groups: strings(r.get("apiGroups")),
            resources: strings(r.get("resources")),
            verbs: strings(r.get("verbs")),
            names: strings(r.get("resourceNames")),
        })
        .collect()
}

/// Built-in API server roles and aggregated ClusterRoles are not judged
/// (see the module documentation).
fn role_not_judged(o: &Object) -> bool {
    o.label("kubernetes.io/bootstrapping") == Some("rbac-defaults")
        || (o.kind == "ClusterRole" && o.root.get("aggregationRule").is_some())
}

/// Where a role's grants apply, for messages.
fn role_scope(o: &Object) -> String {
    match o.kind.as_str() {
        "Role" => format!(
            "in namespace {}",
            o.effective_namespace().unwrap_or("default")
        ),
        _ => "in every namespace it is bound in (cluster-wide through a ClusterRoleBinding)"
            .to_string(),
    }
}

/// Runs `judge` on every rule of a judged role.
fn judge_role(o: &Object, judge: impl Fn(&PolicyRule) -> Option<Violation>) -> Outcome {
    if role_not_judged(o) {
        return Outcome::Skip;
    }
    Outcome::from(policy_rules(o).iter().filter_map(judge).collect())
}

// --- bindings -------------------------------------------------------------

/// Broad groups and users whose name starts with `system:` but that are
/// not control-plane identities: binding power to them grants it to
/// everyone (authenticated or not) or to every ServiceAccount.
fn broad_system_subject(name: &str) -> Option<&'static str> {
    match name {
        "system:authenticated" => Some("every authenticated user"),
        "system:unauthenticated" | "system:anonymous" => Some("anonymous requests"),
        "system:serviceaccounts" => Some("every ServiceAccount"),
        n if n.starts_with("system:serviceaccounts:") => {
            Some("every ServiceAccount of that namespace")
        }
        _ => None,
    }
}

/// A binding subject, described for messages: `ServiceAccount ci/deployer`.
fn subject_label(binding: &Object, s: &Node) -> (String, String) {
    let kind = s.get("kind").and_then(Node::as_str).unwrap_or("subject");
    let name = s.get("name").and_then(Node::as_str).unwrap_or("");
    let label = if kind == "ServiceAccount" {
        let ns = s
            .get("namespace")
            .and_then(Node::as_str)
            .or_else(|| binding.effective_namespace())
            .unwrap_or("default");
        format!("ServiceAccount {ns}/{name}")
    } else {
        format!("{kind} {name}")
    };
    (kind.to_string(), label)
}

/// A (Cluster)RoleBinding granting the `cluster-admin` ClusterRole to anyone
/// but the control plane's own `system:` users and groups. ServiceAccounts
/// are flagged (a workload with cluster-admin is one exploit away from the
/// whole cluster), and so are the broad `system:authenticated`-like groups.
fn cluster_admin_binding(_cx: &Ctx, o: &Object) -> Outcome {
    let role_kind = o.root.at(&["roleRef", "kind"]).and_then(Node::as_str);
    let role_name = o.root.at(&["roleRef", "name"]).and_then(Node::as_str);
    if role_kind != Some("ClusterRole") || role_name != Some("cluster-admin") {
        return Outcome::Pass;
    }
    let scope = match o.kind.as_str() {
        "RoleBinding" => format!(
            " in namespace {}",
            o.effective_namespace().unwrap_or("default")
        ),
        _ => " cluster-wide".to_string(),
    };
    let mut v = Vec::new();
    for (i, s) in o
        .root
        .get("subjects")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let (kind, label) = subject_label(o, s);
        let name = s.get("name").and_then(Node::as_str).unwrap_or("");
        let who = match (kind.as_str(), broad_system_subject(name)) {
            (_, Some(who)) => format!(" ({who})"),
            ("User" | "Group", None) if name.starts_with("system:") => continue,
            _ => String::new(),
        };
        v.push(Violation::new(
            FieldPath::of(&["subjects"]).idx(i),
            format!(
                "{} {} grants cluster-admin{scope} to {label}{who}",
                o.kind, o.name
            ),
        ));
    }
    Outcome::from(v)
}

/// A binding whose subject is the `default` ServiceAccount: every pod of
/// that namespace that names no ServiceAccount receives the role.
fn binding_to_default_sa(_cx: &Ctx, o: &Object) -> Outcome {
    let role = o
        .root
        .at(&["roleRef", "name"])
        .and_then(Node::as_str)
        .unwrap_or("?");
    let role_kind = o
        .root
        .at(&["roleRef", "kind"])
        .and_then(Node::as_str)
        .unwrap_or("role");
    let mut v = Vec::new();
    for (i, s) in o
        .root
        .get("subjects")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if s.get("kind").and_then(Node::as_str) != Some("ServiceAccount")
            || s.get("name").and_then(Node::as_str) != Some("default")
        {
            continue;
        }
        let (_, label) = subject_label(o, s);
        v.push(Violation::new(
            FieldPath::of(&["subjects"]).idx(i).key("name"),
            format!("{} {} binds {role_kind} {role} to {label}: every pod of that namespace without its own serviceAccountName gets these permissions", o.kind, o.name),
        ));
    }
    Outcome::from(v)
}

// --- roles ----------------------------------------------------------------

/// `*` in the verbs, resources or apiGroups of a role rule: it grants
/// everything that exists now and every resource or verb added later. One
/// finding per rule, at its first wildcard field, naming all of them.
fn wildcard(_cx: &Ctx, o: &Object) -> Outcome {
    judge_role(o, |r| {
        let fields: Vec<&str> = [
            ("verbs", &r.verbs),
            ("resources", &r.resources),
            ("apiGroups", &r.groups),
        ]
        .into_iter()
        .filter(|(_, list)| list.contains(&"*"))
        .map(|(f, _)| f)
        .collect();
        let first = fields.first()?;
        Some(Violation::new(
            r.field(first),
            format!(
                "{} {} rule {} uses \"*\" in {} (verbs {:?} on resources {:?} in apiGroups {:?})",
                o.kind,
                o.name,
                r.index,
                fields.join(" and "),
                r.verbs,
                r.resources,
                r.groups
            ),
        ))
    })
}

/// get, list or watch on Secrets (directly or through `*`). A rule limited
/// by `resourceNames` to named Secrets is the least-privilege form this rule
/// recommends, so it passes; list/watch on all Secrets is the worst case
/// (every Secret's content, including ServiceAccount tokens).
fn secrets_access(_cx: &Ctx, o: &Object) -> Outcome {
    judge_role(o, |r| {
        if !r.group("") || !r.resource("secrets") || !r.names.is_empty() {
            return None;
        }
        let verbs = r.verbs_among(&["get", "list", "watch"]);
        if verbs.is_empty() {
            return None;
        }
        let reads_all = verbs.iter().any(|v| matches!(*v, "*" | "list" | "watch"));
        let what = if reads_all {
            "the content of every Secret"
        } else {
            "any Secret whose name it knows"
        };
        Some(Violation::new(
            r.field("verbs"),
            format!(
                "{} {} rule {} grants {} on secrets{}: it can read {what} {}",
                o.kind,
                o.name,
                r.index,
                verbs.join(", "),
                r.via_wildcard("secrets"),
                role_scope(o)
            ),
        ))
    })
}

/// Kubernetes version from which a WebSocket exec/attach (an HTTP GET)
/// needs `create` (feature AuthorizePodWebsocketUpgradeCreatePermission,
/// beta and on by default in 1.35). Before it, `get` on pods/exec is enough.
const EXEC_NEEDS_CREATE: KubeVersion = KubeVersion::new(1, 35);

/// create on pods/exec or pods/attach: a shell in any pod the role reaches,
/// with that pod's ServiceAccount token and mounted Secrets. Before 1.35,
/// get is enough too (WebSocket upgrades were authorized as get).
fn pod_exec(cx: &Ctx, o: &Object) -> Outcome {
    let get_counts = cx.settings.kubernetes_version < EXEC_NEEDS_CREATE;
    judge_role(o, |r| {
        let subs: Vec<&str> = ["pods/exec", "pods/attach"]
            .into_iter()
            .filter(|s| r.group("") && r.resource(s))
            .collect();
        if subs.is_empty() {
            return None;
        }
        let create = r.verb("create");
        let get = get_counts && r.verb("get");
        if !create && !get {
            return None;
        }
        let verbs = r.verbs_among(if get { &["create", "get"] } else { &["create"] });
        let note = if !create {
            format!(" (before Kubernetes {EXEC_NEEDS_CREATE}, get is enough to exec through a WebSocket)")
        } else {
            String::new()
        };
        Some(Violation::new(
            r.field("resources"),
            format!(
                "{} {} rule {} grants {} on {}{} {}: it can run commands inside pods{note}",
                o.kind,
                o.name,
                r.index,
                verbs.join(", "),
                subs.join(", "),
                r.via_wildcard(subs[0]),
                role_scope(o)
            ),
        ))
    })
}

/// A verb, the (group, resource) pairs it escalates on, and whether
/// `resourceNames` makes it safe.
type EscalationCheck = (&'static str, &'static [(&'static str, &'static str)], bool);

/// Grants that let a holder obtain more than the role itself gives:
/// escalate (edit roles beyond one's own rights), bind (bind any role),
/// impersonate (act as another user, group or ServiceAccount), and create
/// on serviceaccounts/token (mint a token for any ServiceAccount). bind
/// limited by resourceNames to named roles is the documented safe way to
/// delegate binding, so it does not count.
fn escalation_verbs(_cx: &Ctx, o: &Object) -> Outcome {
    const RBAC: &str = "rbac.authorization.k8s.io";
    let checks: [EscalationCheck; 4] = [
        (
            "escalate",
            &[(RBAC, "roles"), (RBAC, "clusterroles")],
            false,
        ),
        ("bind", &[(RBAC, "roles"), (RBAC, "clusterroles")], true),
        (
            "impersonate",
            &[("", "users"), ("", "groups"), ("", "serviceaccounts")],
            false,
        ),
        ("create", &[("", "serviceaccounts/token")], false),
    ];
    judge_role(o, |r| {
        let mut grants = Vec::new();
        for (verb, targets, names_limit) in checks {
            if names_limit && !r.names.is_empty() {
                continue;
            }
            let on: Vec<&str> = targets
                .iter()
                .filter(|(g, res)| r.grants(g, res, verb))
                .map(|(_, res)| *res)
                .collect();
            if !on.is_empty() {
                grants.push(format!("{verb} on {}", on.join(", ")));
            }
        }
        if grants.is_empty() {
            return None;
        }
        let via = if r.verbs.contains(&"*") {
            " (through verbs \"*\")"
        } else {
            ""
        };
        Some(Violation::new(
            r.field("verbs"),
            format!(
                "{} {} rule {} grants {}{via} {}",
                o.kind,
                o.name,
                r.index,
                grants.join("; "),
                role_scope(o)
            ),
        ))
    })
}

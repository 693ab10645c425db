//! The control plane as the input shows it: kube-apiserver pods (kubeadm
//! static pods in kube-system, their mirror pods when live, or a hosted
//! control plane's Deployment) and their command-line flags. Rules about API
//! server settings (encryption at rest, anonymous auth, audit logging) read
//! flags from here and report not-evaluated when no API server is visible
//! (managed control planes, k3s which runs it in-process, app manifests).

use crate::inventory::Inventory;
use crate::path::FieldPath;
use crate::rules::{ContainerKind, Workload};
use crate::yaml::Node;
use std::sync::Arc;

/// Why API server rules cannot judge when no kube-apiserver is visible.
pub const NOT_VISIBLE: &str = "no kube-apiserver pod in the input (managed control plane, or the static pod manifests were not included): its flags cannot be read";

/// One kube-apiserver container and its flags.
pub struct ApiServer {
    /// Inventory index of the Pod (or workload) running it.
    pub index: usize,
    /// `Pod/kube-system/kube-apiserver-cp1`.
    pub display: String,
    /// Where to point when a flag is missing: the container's `command`
    /// (or `args`, or the container itself).
    pub missing_path: FieldPath,
    flags: Vec<Flag>,
}

/// A `--name[=value]` token.
#[derive(Clone, Debug)]
pub struct Flag {
    pub name: String,
    /// `None` for a bare `--flag`.
    pub value: Option<String>,
    pub path: FieldPath,
}

impl ApiServer {
    /// The last occurrence of `--name` (pflag keeps the last one).
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// The flag's value, `true` for a bare boolean flag.
    pub fn flag_value(&self, name: &str) -> Option<&str> {
        self.flag(name)
            .map(|f| f.value.as_deref().unwrap_or("true"))
    }
}

/// Whether a container runs kube-apiserver: by name, image or binary.
fn runs_apiserver(c: &Node) -> bool {
    let is = |s: &str| {
        let base = s.rsplit('/').next().unwrap_or(s);
        base == "kube-apiserver" || base.starts_with("kube-apiserver:")
    };
    c.get("name").and_then(Node::as_str) == Some("kube-apiserver")
        || c.get("image")
            .and_then(Node::as_str)
            .is_some_and(|i| is(crate::components::image_name(i)))
        || c.get("command")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .any(|s| s.split_whitespace().any(is))
}

/// Flags from `command` then `args`, splitting shell-wrapped strings.
fn parse_flags(container_path: &FieldPath, c: &Node) -> Vec<Flag> {
    let mut tokens: Vec<(String, FieldPath)> = Vec::new();
    for list in ["command", "args"] {
        for (i, item) in c
            .get(list)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let path = container_path.key(list).idx(i);
            for t in item.as_str().unwrap_or("").split_whitespace() {
                tokens.push((
                    t.trim_matches(|ch| ch == '"' || ch == '\'').to_string(),
                    path.clone(),
                ));
            }
        }
    }
    let mut flags = Vec::new();
    let mut it = tokens.into_iter().peekable();
    while let Some((t, path)) = it.next() {
        let Some(body) = t.strip_prefix("--") else {
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            // `--flag value` for non-boolean flags.
            None => {
                let next = it
                    .peek()
                    .filter(|(n, _)| !n.starts_with('-') && !is_bool(body));
                let value = next.map(|(n, _)| n.clone());
                if value.is_some() {
                    it.next();
                }
                (body.to_string(), value)
            }
        };
        flags.push(Flag { name, value, path });
    }
    flags
}

/// kube-apiserver boolean flags this module's users read.
fn is_bool(flag: &str) -> bool {
    matches!(flag, "anonymous-auth" | "profiling" | "allow-privileged")
}

/// Every kube-apiserver container visible in the input, found once per
/// scan for all the rules that read its flags.
pub fn apiservers(inv: &Inventory) -> Arc<ApiServers> {
    inv.derived(|inv| {
        let mut out = Vec::new();
        for w in inv.workloads() {
            collect(&w, &mut out);
        }
        ApiServers(out)
    })
}

/// The kube-apiserver containers of an inventory.
pub struct ApiServers(Vec<ApiServer>);

impl std::ops::Deref for ApiServers {
    type Target = [ApiServer];
    fn deref(&self) -> &[ApiServer] {
        &self.0
    }
}

fn collect(w: &Workload, out: &mut Vec<ApiServer>) {
    for c in w.containers_of(ContainerKind::Regular) {
        if !runs_apiserver(c.node) {
            continue;
        }
        let missing_path = if c.get("command").is_some() {
            c.path().key("command")
        } else if c.get("args").is_some() {
            c.path().key("args")
        } else {
            c.path()
        };
        out.push(ApiServer {
            index: w.index,
            display: w.obj.display(),
            missing_path,
            flags: parse_flags(&c.path(), c.node),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load, Limits};

    #[test]
    fn flags_in_every_form() {
        let c = load(
            "command:\n- kube-apiserver\n- --anonymous-auth=false\n- --audit-log-path /var/log/a.log\n- --profiling\n- --v=2\nargs: [\"--audit-log-path=/x\"]\n",
            &Limits::default(),
        )
        .docs
        .remove(0)
        .root;
        assert!(runs_apiserver(&c));
        let flags = parse_flags(&FieldPath::root(), &c);
        let get = |n: &str| {
            flags
                .iter()
                .rev()
                .find(|f| f.name == n)
                .and_then(|f| f.value.clone())
        };
        assert_eq!(get("anonymous-auth").as_deref(), Some("false"));
        assert_eq!(get("audit-log-path").as_deref(), Some("/x"));
        assert_eq!(get("profiling"), None);
        assert_eq!(get("v").as_deref(), Some("2"));
    }

    #[test]
    fn shell_wrapped_command() {
        let c = load(
            "name: apiserver\ncommand: [/bin/sh, -c, \"exec /usr/local/bin/kube-apiserver --encryption-provider-config=/etc/enc.yaml\"]\n",
            &Limits::default(),
        )
        .docs
        .remove(0)
        .root;
        assert!(runs_apiserver(&c));
        let flags = parse_flags(&FieldPath::root(), &c);
        assert!(flags.iter().any(|f| f.name == "encryption-provider-config"));
    }
}

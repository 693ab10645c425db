//! Security rules: workload hardening beyond the Pod Security Standards
//! (root filesystem, user IDs, service account tokens, images, secrets in
//! plain sight, sensitive host mounts).
use crate::object::Object;
use crate::path::FieldPath;
use crate::rules::{Check, Container, ContainerKind, Ctx, Outcome, RuleImpl, Violation, Workload};
use crate::yaml::Node;

pub const RULES: &[RuleImpl] = &[
    RuleImpl {
        id: "read-only-root-filesystem",
        check: Check::Pod(read_only_root_filesystem),
    },
    RuleImpl {
        id: "low-user-id",
        check: Check::Pod(low_user_id),
    },
    RuleImpl {
        id: "service-account-token-automount",
        check: Check::Pod(service_account_token_automount),
    },
    RuleImpl {
        id: "default-service-account",
        check: Check::Pod(default_service_account),
    },
    RuleImpl {
        id: "image-tag-mutable",
        check: Check::Pod(image_tag_mutable),
    },
    RuleImpl {
        id: "image-registry-not-allowed",
        check: Check::Pod(image_registry_not_allowed),
    },
    RuleImpl {
        id: "secret-in-env-literal",
        check: Check::Pod(secret_in_env_literal),
    },
    RuleImpl {
        id: "secret-in-configmap",
        check: Check::Object(&["ConfigMap"], secret_in_configmap),
    },
    RuleImpl {
        id: "sensitive-host-mount",
        check: Check::Pod(sensitive_host_mount),
    },
];

/// Init and regular containers: what runs from the manifest. Ephemeral
/// containers are ad-hoc debugging sessions, not part of the workload's design.
fn declared_containers<'a>(w: &'a Workload<'a>) -> impl Iterator<Item = Container<'a>> + 'a {
    [ContainerKind::Init, ContainerKind::Regular]
        .into_iter()
        .flat_map(move |k| w.containers_of(k))
}

// ---------------------------------------------------------------------------
// read-only-root-filesystem

/// Every init and regular container should set
/// `securityContext.readOnlyRootFilesystem: true`, so an intruder cannot
/// drop tools or alter binaries. There is no pod-level field. Windows pods
/// are skipped: the field cannot be set for them.
fn read_only_root_filesystem(_cx: &Ctx, w: &Workload) -> Outcome {
    if w.is_windows() {
        return Outcome::Skip;
    }
    let mut v = Vec::new();
    for c in declared_containers(w) {
        let field = c.at(&["securityContext", "readOnlyRootFilesystem"]);
        if field.and_then(Node::as_bool) == Some(true) {
            continue;
        }
        let msg = match field.and_then(Node::as_str) {
            Some(val) => format!(
                "{} sets readOnlyRootFilesystem: {val}: its root filesystem is writable",
                c.label()
            ),
            None => format!(
                "{} does not set readOnlyRootFilesystem: true: its root filesystem is writable",
                c.label()
            ),
        };
        v.push(Violation::new(
            c.path()
                .keys(&["securityContext", "readOnlyRootFilesystem"]),
            msg,
        ));
    }
    Outcome::from(v)
}

// ---------------------------------------------------------------------------
// low-user-id

/// `runAsUser` / `runAsGroup` set explicitly, at pod or container level, to
/// a value below `thresholds.min_user_id` (default 10000): such IDs overlap
/// the host's own users and groups, so a container escape lands as a real
/// host account. Only explicit values are judged: an unset UID means the
/// image decides, which `run-as-non-root` already covers, and flagging it
/// would fire on nearly every workload. `runAsUser: 0` is left to
/// `run-as-root-user` (one finding per problem). Pods with `hostUsers: false`
/// run in a user namespace (container IDs map to unprivileged host IDs) and
/// pass; Windows pods have no UIDs and are skipped.
fn low_user_id(cx: &Ctx, w: &Workload) -> Outcome {
    if w.is_windows() {
        return Outcome::Skip;
    }
    if w.get("hostUsers").and_then(Node::as_bool) == Some(false) {
        return Outcome::Pass;
    }
    let min = cx.settings.thresholds.min_user_id;
    let mut v = Vec::new();
    for field in ["runAsUser", "runAsGroup"] {
        let pod_val = w
            .spec
            .at(&["securityContext", field])
            .and_then(Node::as_i64);
        let mut pod_inherited_by = Vec::new();
        for c in w.all_containers() {
            match c.at(&["securityContext", field]).and_then(Node::as_i64) {
                Some(id) if is_low_id(field, id, min) => v.push(Violation::new(
                    c.path().keys(&["securityContext", field]),
                    format!(
                        "{} sets {field}: {id}, below {min}: {}",
                        c.label(),
                        collision(field, id)
                    ),
                )),
                Some(_) => {}
                None => pod_inherited_by.push(c.label()),
            }
        }
        if let Some(id) = pod_val {
            if is_low_id(field, id, min) && !pod_inherited_by.is_empty() {
                v.push(Violation::new(
                    w.path("securityContext").key(field),
                    format!(
                        "pod securityContext sets {field}: {id}, below {min} (used by {}): {}",
                        pod_inherited_by.join(", "),
                        collision(field, id)
                    ),
                ));
            }
        }
    }
    Outcome::from(v)
}

fn is_low_id(field: &str, id: i64, min: i64) -> bool {
    // UID 0 is run-as-root-user's finding; GID 0 has no other rule.
    let floor = if field == "runAsUser" { 1 } else { 0 };
    id >= floor && id < min
}

/// What the low ID risks.
fn collision(field: &str, id: i64) -> &'static str {
    match (field, id) {
        ("runAsGroup", 0) => "files of the host's root group are writable to it after an escape",
        ("runAsUser", _) => "it can collide with a host user",
        _ => "it can collide with a host group",
    }
}

// ---------------------------------------------------------------------------
// service accounts

/// The ServiceAccount a pod runs as: `serviceAccountName`, else the
/// deprecated `serviceAccount`, else `default`; with the field that says so.
fn service_account<'a>(w: &Workload<'a>) -> (&'a str, Option<&'static str>) {
    for key in ["serviceAccountName", "serviceAccount"] {
        if let Some(name) = w.get(key).and_then(Node::as_str).filter(|s| !s.is_empty()) {
            return (name, Some(key));
        }
    }
    ("default", None)
}

/// Whether the pod gets an API token mounted automatically: the pod's
/// `automountServiceAccountToken` wins, else the ServiceAccount's (when it
/// is in the input), else true (the API server's default).
fn token_automounted(cx: &Ctx, w: &Workload, ns: &str, sa: &str) -> bool {
    if let Some(b) = w
        .get("automountServiceAccountToken")
        .and_then(Node::as_bool)
    {
        return b;
    }
    cx.inv
        .get("ServiceAccount", ns, sa)
        .and_then(|(_, o)| o.root.get("automountServiceAccountToken"))
        .and_then(Node::as_bool)
        .unwrap_or(true)
}

/// Whether a RoleBinding or ClusterRoleBinding in the input grants something
/// to ServiceAccount `sa` of the workload's namespace: as a ServiceAccount
/// subject or as the user `system:serviceaccount:<ns>:<sa>`. Grants to the
/// groups `system:serviceaccounts[:<ns>]` are blanket grants to every
/// ServiceAccount and say nothing about this pod's needs. When the workload's manifest
/// names no namespace (applied with `kubectl -n`), a ClusterRoleBinding must
/// still name one, so any subject namespace is accepted for a dedicated
/// ServiceAccount.
fn sa_is_bound(cx: &Ctx, w: &Workload, sa: &str) -> bool {
    let written_ns = w.obj.namespace.as_deref();
    // `default` exists in every namespace: its name says nothing, so a
    // namespace-less workload only matches the `default` namespace's.
    let ns_matches = |n: &str| match written_ns {
        Some(w) => w == n,
        None => sa != "default" || n == "default",
    };
    cx.inv
        .service_account_grants(sa)
        .iter()
        .any(|n| n.as_deref().is_none_or(ns_matches))
}

/// A pod that does not call the Kubernetes API should not carry an API
/// token (`automountServiceAccountToken: false`): a stolen token is an
/// authenticated foothold. The pod is taken to need the API when its
/// ServiceAccount is bound by a RoleBinding or ClusterRoleBinding in the
/// input; the ServiceAccount's own `automountServiceAccountToken: false`
/// counts. A dedicated ServiceAccount in an input with no bindings at all
/// is not-evaluated (it was probably created to be bound elsewhere); the
/// `default` ServiceAccount has no permissions unless someone binds it, so
/// its token is judged unneeded even then.
fn service_account_token_automount(cx: &Ctx, w: &Workload) -> Outcome {
    let ns = w.obj.effective_namespace().unwrap_or("default");
    let (sa, _) = service_account(w);
    if !token_automounted(cx, w, ns, sa) || sa_is_bound(cx, w, sa) {
        return Outcome::Pass;
    }
    if sa != "default" {
        if let Err(reason) = cx.inv.related_any(&["RoleBinding", "ClusterRoleBinding"]) {
            return Outcome::NotEvaluated(format!(
                "{reason}: cannot tell whether ServiceAccount {sa} needs API access"
            ));
        }
    }
    let how = match w.get("automountServiceAccountToken") {
        Some(_) => "sets automountServiceAccountToken: true",
        None => "mounts an API token (automountServiceAccountToken is not false)",
    };
    Outcome::fail(
        w.path("automountServiceAccountToken"),
        format!(
            "{} {} {how} but no RoleBinding or ClusterRoleBinding in the input grants ServiceAccount {sa} anything",
            w.obj.kind, w.obj.name
        ),
    )
}

/// Pods should run as a dedicated ServiceAccount: every pod left on
/// `default` shares its identity, so a Role bound to it for one app is
/// granted to all. A pod on `default` that gets no token (automount off
/// at pod or ServiceAccount level, and no projected token volume) has no
/// identity to share and passes.
fn default_service_account(cx: &Ctx, w: &Workload) -> Outcome {
    let ns = w.obj.effective_namespace().unwrap_or("default");
    let (sa, key) = service_account(w);
    if sa != "default" {
        return Outcome::Pass;
    }
    if !token_automounted(cx, w, ns, sa) && !projects_token(w) {
        return Outcome::Pass;
    }
    let (path, how) = match key {
        Some(k) => (w.path(k), format!("sets {k}: default")),
        None => (w.spec_path(), "sets no serviceAccountName".to_string()),
    };
    Outcome::fail(
        path,
        format!(
            "{} {} {how}: it runs as the namespace's shared default ServiceAccount",
            w.obj.kind, w.obj.name
        ),
    )
}

/// Whether a projected volume carries a ServiceAccount token.
fn projects_token(w: &Workload) -> bool {
    w.get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .any(|v| {
            v.at(&["projected", "sources"])
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .any(|s| s.get("serviceAccountToken").is_some())
        })
}

// ---------------------------------------------------------------------------
// images

/// An image reference split into its parts (`registry/path:tag@digest`).
#[derive(Debug, PartialEq)]
struct ImageRef<'a> {
    /// The registry host as written (`None`: Docker Hub).
    registry: Option<&'a str>,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Parses a reference; `None` for what is not one: empty, templated
    /// (`{{ }}`, `${ }`, `$( )`) or a build-tool placeholder (`ko://...`),
    /// which the build resolves (usually to a digest).
    fn parse(image: &'a str) -> Option<ImageRef<'a>> {
        let image = image.trim();
        if image.is_empty()
            || image.contains("://")
            || image.contains("{{")
            || image.contains("${")
            || image.contains("$(")
            || image.contains(char::is_whitespace)
            || image.contains(['<', '>'])
        {
            return None;
        }
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        // The tag is after a colon in the last path component (a colon
        // before the first slash is a registry port).
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, name),
        };
        if path.is_empty() {
            return None;
        }
        Some(ImageRef {
            registry,
            path,
            tag: tag.filter(|t| !t.is_empty()),
            digest: digest.filter(|d| d.contains(':')),
        })
    }

    /// The registry host, lower-cased, Docker Hub's aliases folded into `docker.io`.
    fn registry_host(&self) -> String {
        normalize_registry(self.registry.unwrap_or("docker.io"))
    }

    /// `registry/path`, with Docker Hub's implicit `library/` for official images.
    fn repository(&self) -> String {
        let host = self.registry_host();
        if host == "docker.io" && !self.path.contains('/') {
            format!("docker.io/library/{}", self.path)
        } else {
            format!("{host}/{}", self.path)
        }
    }
}

fn normalize_registry(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => h,
    }
}

/// Tags that, by convention, move to newer builds: as mutable as `latest`.
const FLOATING_TAGS: &[&str] = &[
    "latest", "stable", "main", "master", "edge", "nightly", "dev", "develop", "head", "canary",
    "release", "current", "rolling",
];

/// Images should be pinned by digest (`@sha256:...`): a tag, even a
/// version, can be re-pushed, so two nodes may run different code under the
/// same manifest and a compromised registry can swap it. The message grades
/// the case: no tag (implicit `:latest`), a floating tag (`latest`,
/// `stable`, `main`...), or a version tag without digest. References that
/// are not images yet (templated, `ko://`) are skipped.
fn image_tag_mutable(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    let mut judged = false;
    for c in w.all_containers() {
        let Some(image) = c.get("image").and_then(Node::as_str) else {
            continue;
        };
        let Some(r) = ImageRef::parse(image) else {
            continue;
        };
        judged = true;
        if r.digest.is_some() {
            continue;
        }
        let msg = match r.tag {
            None => format!(
                "{} uses image {image} with no tag: it pulls :latest, which changes under you",
                c.label()
            ),
            Some(t) if FLOATING_TAGS.contains(&t.to_ascii_lowercase().as_str()) => format!(
                "{} uses image {image}: the floating tag :{t} points at a different build over time",
                c.label()
            ),
            Some(t) => format!(
                "{} uses image {image} without a digest: tag {t} can be re-pushed; pin it with @sha256:...",
                c.label()
            ),
        };
        v.push(Violation::new(c.path().key("image"), msg));
    }
    if !judged {
        return Outcome::Skip;
    }
    Outcome::from(v)
}

/// Whether a repository matches one allow-list entry: a registry host
/// (`gcr.io`, `*.dkr.ecr.eu-west-1.amazonaws.com`) or a repository prefix
/// (`ghcr.io/acme`, `docker.io/library`), compared on path boundaries.
fn registry_allowed(r: &ImageRef, entry: &str) -> bool {
    let entry = entry
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    if entry.is_empty() {
        return false;
    }
    let host = r.registry_host();
    match entry.split_once('/') {
        None => {
            let e = normalize_registry(entry);
            match e.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => host == e,
            }
        }
        Some((eh, rest)) => {
            let prefix = format!("{}/{}", normalize_registry(eh), rest);
            let repo = r.repository();
            repo == prefix || repo.starts_with(&format!("{prefix}/"))
        }
    }
}

/// Images must come from a registry in `thresholds.allowedRegistries`
/// (off until that list is set: the rule is opt-in). An image without a
/// registry comes from Docker Hub (`docker.io`), as the container runtime
/// resolves it. Templated references are skipped.
fn image_registry_not_allowed(cx: &Ctx, w: &Workload) -> Outcome {
    let allowed = &cx.settings.thresholds.allowed_registries;
    if allowed.is_empty() {
        return Outcome::NotEvaluated(
            "no allowed registries configured (thresholds.allowedRegistries)".to_string(),
        );
    }
    let mut v = Vec::new();
    let mut judged = false;
    for c in w.all_containers() {
        let Some(image) = c.get("image").and_then(Node::as_str) else {
            continue;
        };
        let Some(r) = ImageRef::parse(image) else {
            continue;
        };
        judged = true;
        if allowed.iter().any(|e| registry_allowed(&r, e)) {
            continue;
        }
        let implicit = if r.registry.is_none() {
            " (no registry: Docker Hub)"
        } else {
            ""
        };
        v.push(Violation::new(
            c.path().key("image"),
            format!(
                "{} uses image {image} from {}{implicit}, which is not in the allowed registries ({})",
                c.label(),
                r.registry_host(),
                allowed.join(", ")
            ),
        ));
    }
    if !judged {
        return Outcome::Skip;
    }
    Outcome::from(v)
}

// ---------------------------------------------------------------------------
// secrets in plain sight

/// Splits an identifier into upper-case words: `dbPassword` → DB PASSWORD,
/// `client-secret.value` → CLIENT SECRET VALUE, `APIKey` → API KEY.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = ch.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(ch.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words that name a secret on their own (`DB_PASSWORD`, `GITHUB_TOKEN`).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "APIKEY",
    "PRIVATEKEY",
    "SECRETKEY",
    "ACCESSKEY",
    "AUTHTOKEN",
    "ACCESSTOKEN",
    "CLIENTSECRET",
    "BEARER",
];

/// Words that name a secret when they follow another word (`DB_PWD`, but
/// not the shell's `PWD`).
const SECRET_SUFFIX_WORDS: &[&str] = &["PWD", "PASS"];

/// Words that make a following `KEY` a secret key (`API_KEY`, `SIGNING_KEY`).
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "ACCESS",
    "SECRET",
    "PRIVATE",
    "SIGNING",
    "ENCRYPTION",
    "ENCRYPT",
    "CRYPT",
    "MASTER",
    "AUTH",
    "CLIENT",
    "SESSION",
    "HMAC",
    "JWT",
    "ACCOUNT",
    "STORAGE",
    "SHARED",
    "COOKIE",
    "APP",
    "LICENSE",
    "SSH",
    "TLS",
    "SERVICE",
];

/// Words that, before `SECRET`, make the name a reference to a Kubernetes
/// Secret object (`TS_KUBE_SECRET: tailscale-auth`, `existingSecret`,
/// `credentialsSecret`, `tlsSecret`), not a secret value.
const SECRET_REF_QUALIFIERS: &[&str] = &[
    "KUBE",
    "K8S",
    "KUBERNETES",
    "EXISTING",
    "CREDENTIALS",
    "CREDENTIAL",
    "TLS",
    "CERT",
    "CERTIFICATE",
    "CA",
    "PULL",
    "REF",
];

/// Words that may follow the secret word without changing what the name
/// holds (`PASSWORD_VALUE`, `SECRET_KEY_BASE`, `TOKEN_B64`). Anything else
/// after it (`_FILE`, `_PATH`, `_NAME`, `_URL`, `_TTL`, `_ENABLED`...) means
/// the variable is about the secret, not the secret itself.
const TRAILING_OK: &[&str] = &[
    "VALUE",
    "DATA",
    "STR",
    "STRING",
    "B64",
    "BASE64",
    "RAW",
    "PLAIN",
    "PLAINTEXT",
    "HASH",
    "BASE",
    "KEY",
    "HEX",
];

/// Pieces one of which every secret word contains (`PASSWORD`, `PWD`,
/// `APIKEY`...): a name without any (most names) cannot look secret, and
/// is not split into words. A test holds every word list to it.
const SECRET_WORD_PIECES: &[&str] = &["PASS", "PWD", "SECRET", "TOKEN", "CRED", "KEY", "BEARER"];

/// Whether `text` contains a secret word piece, in any case: a config
/// text without one holds no secret-named key either.
fn may_name_secret(text: &str) -> bool {
    secret_pieces().is_none_or(|ac| ac.is_match(text))
}

/// A searcher for `SECRET_WORD_PIECES`, in any case (`None` only if it
/// cannot be built: then every text may name a secret).
fn secret_pieces() -> Option<&'static aho_corasick::AhoCorasick> {
    static PIECES: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(SECRET_WORD_PIECES)
                .ok()
        });
    PIECES.as_ref()
}

/// The lines of `text` (as `str::lines` gives them) that hold a secret
/// word piece, in order: the only lines whose key can look secret. One
/// search over the text jumps from such line to such line, instead of
/// splitting every line of a large config file into key and value.
fn lines_naming_secret(text: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    let Some(ac) = secret_pieces() else {
        return Box::new(text.lines());
    };
    let bytes = text.as_bytes();
    let mut from = 0;
    Box::new(std::iter::from_fn(move || {
        let m = ac.find(aho_corasick::Input::new(text).span(from..text.len()))?;
        let start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        let line = match memchr::memchr(b'\n', &bytes[m.end()..]) {
            Some(i) => {
                let end = m.end() + i;
                from = end + 1;
                let line = &text[start..end];
                line.strip_suffix('\r').unwrap_or(line)
            }
            None => {
                from = text.len();
                &text[start..]
            }
        };
        Some(line)
    }))
}

/// Whether a variable or key name says it holds a secret.
fn name_looks_secret(name: &str) -> bool {
    if !may_name_secret(name) {
        return false;
    }
    let w = words(name);
    if w.iter()
        .any(|x| x == "PUBLIC" || x == "PUB" || x.starts_with("PUBKEY"))
    {
        return false;
    }
    let is_secret_at = |i: usize| {
        let x = w[i].as_str();
        if SECRET_WORDS.contains(&x) || (i > 0 && SECRET_SUFFIX_WORDS.contains(&x)) {
            return true;
        }
        // Compounds without separators: `githubtoken`, `dbpassword`, `apikey`.
        if x.len() > 6 && (x.ends_with("PASSWORD") || x.ends_with("TOKEN") || x.ends_with("SECRET"))
        {
            return true;
        }
        x == "KEY" && i > 0 && KEY_QUALIFIERS.contains(&w[i - 1].as_str())
    };
    let Some(last) = (0..w.len()).rev().find(|&i| is_secret_at(i)) else {
        return false;
    };
    if matches!(w[last].as_str(), "SECRET" | "SECRETS")
        && last > 0
        && SECRET_REF_QUALIFIERS.contains(&w[last - 1].as_str())
    {
        return false;
    }
    // `api-token-secret-key`, `PASSWORD_SECRET_KEY`: the key inside the
    // Secret that holds the token, not a secret key.
    if w[last] == "KEY" && last >= 2 && w[last - 1] == "SECRET" && is_secret_at(last - 2) {
        return false;
    }
    w[last + 1..]
        .iter()
        .all(|x| TRAILING_OK.contains(&x.as_str()) || x.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a literal value is not a secret in itself: a reference the runtime
/// expands (`$(VAR)`, `${VAR}`), an unrendered template, a file path, a
/// boolean, or a URL without credentials.
fn value_not_secret(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty()
        || v.contains("$(")
        || v.contains("${")
        || v.contains("{{")
        || (v.starts_with('<') && v.ends_with('>'))
    {
        return true;
    }
    if (v.starts_with('/') || v.starts_with("./") || v.starts_with("~/"))
        && !v.contains(char::is_whitespace)
    {
        return true;
    }
    if matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "enabled" | "disabled" | "none" | "null"
    ) {
        return true;
    }
    if let Some((_, rest)) = v.split_once("://") {
        // A URL is a secret only when it embeds credentials (user:pass@host).
        let authority = rest.split('/').next().unwrap_or("");
        return !authority
            .split_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    }
    false
}

/// Values that are obviously placeholders for a real secret, as found in
/// config templates and examples (`changeme`, `<password>`, `xxxx`,
/// `INSERT_TOKEN`, `YOUR_KEY_HERE`). A weak literal (`password`, `admin`)
/// is not a placeholder: it is a real, bad credential.
fn is_placeholder(value: &str) -> bool {
    let v = value
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    let compact: String = v.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    v.is_empty()
        || (v.starts_with('<') && v.ends_with('>'))
        || v.chars()
            .all(|c| matches!(c, 'x' | '*' | '.' | '-' | '_' | '#'))
        || matches!(
            compact.as_str(),
            "redacted" | "todo" | "tbd" | "placeholder" | "dummy" | "none"
        )
        || [
            "changeme",
            "replaceme",
            "insert",
            "replace",
            "your",
            "enter",
            "example",
        ]
        .iter()
        .any(|p| compact.starts_with(p))
        || compact.ends_with("here")
        || compact.contains("example")
}

/// A placeholder, or a value that repeats the variable's name
/// (`GOOGLE_API_KEY: GOOGLE_API_KEY_VAL`): a slot for a secret, not one.
fn is_placeholder_for(name: &str, value: &str) -> bool {
    let compact = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    // Short names (`token`, `password`) would excuse real values.
    let n = compact(name);
    is_placeholder(value) || (n.len() >= 9 && compact(value).contains(&n))
}

/// Token prefixes of well-known credentials: (prefix, length of the rest
/// at least, what it is).
const TOKEN_PREFIXES: &[(&str, usize, &str)] = &[
    ("AKIA", 16, "an AWS access key ID"),
    ("ASIA", 16, "an AWS access key ID"),
    ("ghp_", 36, "a GitHub token"),
    ("gho_", 36, "a GitHub token"),
    ("ghs_", 36, "a GitHub token"),
    ("github_pat_", 40, "a GitHub token"),
    ("glpat-", 20, "a GitLab token"),
    ("xoxb-", 20, "a Slack token"),
    ("xoxp-", 20, "a Slack token"),
    ("AIza", 35, "a Google API key"),
    ("sk_live_", 24, "a Stripe secret key"),
];

/// A credential recognised by its shape, anywhere in a value: PEM private
/// key blocks, URLs with an embedded password, AWS access key IDs, and
/// well-known token formats (GitHub, GitLab, Slack, Google API keys, Stripe
/// live keys).
fn credential_in_text(text: &str) -> Option<&'static str> {
    // Every needle the checks below look for, in one pass: nearly all
    // config values hold none, and a `find` per check and value was the
    // costliest part of the secret rules. Only the checks whose needle
    // occurs then run (a config full of URLs used to be searched for every
    // token prefix too). Without the automaton, which cannot fail to build
    // for these needles, every check runs.
    static NEEDLES: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            let needles = ["-----BEGIN ", "://"]
                .into_iter()
                .chain(TOKEN_PREFIXES.iter().map(|(p, _, _)| *p));
            aho_corasick::AhoCorasick::new(needles).ok()
        });
    let mut seen = [true; 2 + TOKEN_PREFIXES.len()];
    if let Some(ac) = NEEDLES.as_ref() {
        seen = [false; 2 + TOKEN_PREFIXES.len()];
        for m in ac.find_overlapping_iter(text) {
            seen[m.pattern().as_usize()] = true;
        }
        if !seen.contains(&true) {
            return None;
        }
    }
    if seen[0] && pem_private_key(text) {
        return Some("a PEM private key");
    }
    if seen[1] && url_with_password(text) {
        return Some("a URL with an embedded password");
    }
    TOKEN_PREFIXES
        .iter()
        .zip(&seen[2..])
        .find(|((prefix, min_len, _), &seen)| seen && token_with_prefix(text, prefix, *min_len))
        .map(|((_, _, what), _)| *what)
}

/// `-----BEGIN ... PRIVATE KEY-----` followed by a real body (an elided
/// example such as `...` is not a key).
fn pem_private_key(text: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find("-----BEGIN ") {
        let after = &rest[i + 11..];
        let Some(end) = after.find("-----") else {
            return false;
        };
        let label = &after[..end];
        let body = &after[end + 5..];
        let body = body.split("-----END").next().unwrap_or("");
        let body_len = body
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
            .count();
        if label.contains("PRIVATE KEY") && body_len >= 64 {
            return true;
        }
        rest = body;
    }
    false
}

/// A URL whose user info carries a literal password (`postgres://app:pw@db`);
/// references (`$(DB_PASSWORD)`, `${PASS}`) and placeholders do not count.
fn url_with_password(text: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let Some((userinfo, _host)) = authority.rsplit_once('@') else {
            continue;
        };
        let Some((_user, password)) = userinfo.split_once(':') else {
            continue;
        };
        if !password.is_empty() && !value_not_secret(password) && !is_placeholder(password) {
            return true;
        }
    }
    false
}

/// Whether `text` holds `prefix` followed by at least `min_len` token
/// characters, at a word boundary, and not a documented example (`...EXAMPLE`).
fn token_with_prefix(text: &str, prefix: &str, min_len: usize) -> bool {
    let is_tok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let start = from + i;
        let before_ok = text[..start].chars().next_back().is_none_or(|c| !is_tok(c));
        let tail: String = text[start + prefix.len()..]
            .chars()
            .take_while(|&c| is_tok(c))
            .collect();
        let upper_alnum = prefix.starts_with("AKIA") || prefix.starts_with("ASIA");
        let shape_ok = if upper_alnum {
            tail.len() == min_len
                && tail
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        } else {
            tail.len() >= min_len
        };
        if before_ok && shape_ok && !tail.to_ascii_uppercase().contains("EXAMPLE") {
            return true;
        }
        from = start + prefix.len();
    }
    false
}

/// Env vars whose name says they hold a secret (`DB_PASSWORD`, `API_KEY`,
/// `AWS_SECRET_ACCESS_KEY`) must not carry it as a literal `value`: it is
/// then readable by anyone who can read the workload (and lands in git).
/// Names about a secret (`PASSWORD_FILE`, `TOKEN_PATH`, `SECRET_NAME`,
/// `PUBLIC_KEY`, `KEYCLOAK_URL`) and values that are not secrets (empty,
/// `$(VAR)` references, paths, booleans, URLs without credentials) do not
/// fire. A value holding a recognisable credential (PEM private key, AWS
/// key...) fires whatever the name. The value is never echoed.
fn secret_in_env_literal(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for c in w.all_containers() {
        for (i, e) in c
            .get("env")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let (Some(name), Some(value)) = (
                e.get("name").and_then(Node::as_str),
                e.get("value").and_then(Node::as_str),
            ) else {
                continue;
            };
            let what = match credential_in_text(value) {
                Some(what) => format!("holds {what} as a literal value"),
                None if name_looks_secret(name)
                    && !value_not_secret(value)
                    && !is_placeholder_for(name, value) =>
                {
                    "is set to a literal value".to_string()
                }
                None => continue,
            };
            v.push(Violation::new(
                c.path().key("env").idx(i).key("value"),
                format!(
                    "{} env {name} {what}: read it from a Secret (valueFrom.secretKeyRef)",
                    c.label()
                ),
            ));
        }
    }
    Outcome::from(v)
}

/// A `key: value`, `key = value` or `"key": "value"` line inside a config
/// file carried by a ConfigMap, with the value unquoted.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let l = line
        .trim()
        .trim_start_matches("- ")
        .trim_start_matches("export ");
    if l.starts_with('#') || l.starts_with("//") || l.starts_with(';') {
        return None;
    }
    let colon = l
        .find(": ")
        .or_else(|| l.strip_suffix(':').map(|s| s.len()));
    let eq = l.find('=');
    let at = match (colon, eq) {
        (Some(c), Some(e)) => c.min(e),
        (Some(c), None) => c,
        (None, Some(e)) => e,
        (None, None) => return None,
    };
    let key = l[..at].trim().trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    let mut value = l[at + 1..].trim();
    // Strip a trailing comment and JSON punctuation.
    if let Some(i) = value.find(" #") {
        value = value[..i].trim_end();
    }
    let value = value
        .trim_end_matches(',')
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    Some((key, value))
}

/// Whether a value assigned to a secret-named key is a literal credential:
/// not empty, not a reference or template, not a placeholder, not a nested
/// structure (`{`, `[`, `|`, `>`: the value follows on other lines).
fn literal_credential(name: &str, value: &str) -> bool {
    let v = value.trim();
    !(value_not_secret(v)
        || is_placeholder_for(name, v)
        || v.starts_with(['{', '[', '|', '>', '&', '*', '!', '%'])
        || v.eq_ignore_ascii_case("null")
        || v == "~")
}

/// ConfigMaps are not secret (no encryption at rest option, broad read
/// access, shown by `kubectl describe`): credentials belong in Secrets.
/// Fires on a key named like a credential (`password`, `db.password`,
/// `client-secret`, `api_key`) with a literal value, on a recognisable
/// credential anywhere in a value (PEM private key, AWS access key ID,
/// GitHub/GitLab/Slack tokens), and on `password: x` / `token = x` lines
/// inside embedded config files. Placeholders (`changeme`, `<password>`,
/// `${DB_PASSWORD}`, `{{ .Values.x }}`), file references (`password_file`,
/// `/etc/secret/token`), public keys and certificates / CA bundles do not.
/// Values are never echoed.
fn secret_in_configmap(_cx: &Ctx, o: &Object) -> Outcome {
    let mut v = Vec::new();
    for (key, node) in o.root.get("data").into_iter().flat_map(Node::entries) {
        // Knative-style `_example` keys are documentation, never read.
        if key == "_example" {
            continue;
        }
        let Some(value) = node.as_str() else {
            continue;
        };
        let finding = if let Some(what) = credential_in_text(value) {
            Some(format!("key \"{key}\" holds {what}"))
        } else if !value.contains('\n') && name_looks_secret(key) && literal_credential(key, value)
        {
            Some(format!("key \"{key}\" holds a literal credential"))
        } else {
            // Only a line with a secret word piece can assign to a
            // secret-named key.
            lines_naming_secret(value)
                .filter_map(assignment)
                .find(|(k, val)| name_looks_secret(k) && literal_credential(k, val))
                .map(|(k, _)| format!("key \"{key}\" embeds a literal credential ({k})"))
        };
        if let Some(f) = finding {
            v.push(Violation::new(
                FieldPath::of(&["data", key]),
                format!("ConfigMap {} {f}: move it to a Secret", o.name),
            ));
        }
    }
    Outcome::from(v)
}

// ---------------------------------------------------------------------------
// sensitive-host-mount

/// Host paths whose exposure hands over the node, with why. Exact paths,
/// and (`true`) whether everything below them is as sensitive.
const SENSITIVE_PATHS: &[(&str, bool, &str)] = &[
    ("/", false, "the node's whole filesystem"),
    (
        "/var/run/docker.sock",
        true,
        "the Docker socket: full control of the node's containers",
    ),
    (
        "/run/docker.sock",
        true,
        "the Docker socket: full control of the node's containers",
    ),
    (
        "/var/run/cri-dockerd.sock",
        true,
        "the cri-dockerd socket: full control of the node's containers",
    ),
    (
        "/var/run/containerd",
        true,
        "the containerd socket: full control of the node's containers",
    ),
    (
        "/run/containerd",
        true,
        "the containerd socket: full control of the node's containers",
    ),
    (
        "/var/run/crio",
        true,
        "the CRI-O socket: full control of the node's containers",
    ),
    (
        "/run/crio",
        true,
        "the CRI-O socket: full control of the node's containers",
    ),
    (
        "/var/run/dockershim.sock",
        true,
        "the dockershim socket: full control of the node's containers",
    ),
    (
        "/var/run",
        false,
        "the node's runtime sockets (container runtime, kubelet)",
    ),
    (
        "/run",
        false,
        "the node's runtime sockets (container runtime, kubelet)",
    ),
    (
        "/etc",
        false,
        "the node's configuration (credentials, kubelet config)",
    ),
    (
        "/etc/kubernetes",
        true,
        "the node's Kubernetes credentials and static pod manifests",
    ),
    ("/etc/shadow", true, "the node's password hashes"),
    ("/etc/sudoers", true, "the node's sudo rules"),
    (
        "/etc/ssh",
        true,
        "the node's SSH configuration and host keys",
    ),
    (
        "/etc/containerd",
        true,
        "the container runtime's configuration",
    ),
    ("/etc/crio", true, "the container runtime's configuration"),
    ("/etc/docker", true, "the container runtime's configuration"),
    ("/etc/systemd", true, "the node's service definitions"),
    ("/etc/cron.d", true, "the node's scheduled jobs"),
    ("/etc/crontab", true, "the node's scheduled jobs"),
    (
        "/root",
        true,
        "the root user's home (SSH keys, credentials)",
    ),
    (
        "/home",
        true,
        "the node users' homes (SSH keys, credentials)",
    ),
    (
        "/proc",
        true,
        "the host's processes (environment, memory, kernel settings)",
    ),
    ("/sys", false, "the host's kernel and device settings"),
    ("/sys/fs/cgroup", false, "the host's cgroups"),
    ("/sys/kernel", true, "the host's kernel settings"),
    ("/dev", false, "the host's devices"),
    ("/dev/mem", true, "the host's physical memory"),
    ("/dev/kmem", true, "the host's kernel memory"),
    ("/boot", true, "the node's kernel and boot loader"),
    ("/usr", false, "the node's binaries"),
    ("/bin", false, "the node's binaries"),
    ("/sbin", false, "the node's binaries"),
    ("/lib", false, "the node's libraries"),
    (
        "/var/lib/kubelet",
        false,
        "the kubelet's state: every pod's volumes and Secrets, kubelet credentials",
    ),
    ("/var/lib/kubelet/pki", true, "the kubelet's credentials"),
    (
        "/var/lib/kubelet/pods",
        false,
        "every pod's volumes and Secrets",
    ),
    (
        "/var/lib/docker",
        false,
        "the container runtime's storage (every container's filesystem)",
    ),
    (
        "/var/lib/containerd",
        false,
        "the container runtime's storage (every container's filesystem)",
    ),
    (
        "/var/lib/containers",
        false,
        "the container runtime's storage (every container's filesystem)",
    ),
    (
        "/var/lib/etcd",
        true,
        "etcd's data: every object and Secret of the cluster",
    ),
    (
        r"\\.\pipe\docker_engine",
        true,
        "the Docker named pipe: full control of the node's containers",
    ),
    (
        r"\\.\pipe\containerd-containerd",
        true,
        "the containerd named pipe: full control of the node's containers",
    ),
];

/// Normalizes a host path: collapses `//`, drops `.` segments and a trailing
/// slash (Windows paths are compared as written, case-insensitively).
fn normalize_host_path(p: &str) -> String {
    let p = p.trim();
    if !p.starts_with('/') {
        return p.to_ascii_lowercase();
    }
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The sensitive path a host path exposes: itself, or an ancestor marked
/// as sensitive all the way down (`/var/lib/kubelet/pki/x`).
fn sensitive_host_path(path: &str) -> Option<&'static str> {
    let p = normalize_host_path(path);
    let mut best: Option<(usize, &'static str)> = None;
    for &(s, subtree, why) in SENSITIVE_PATHS {
        let s_norm = if s.starts_with('/') {
            s.to_string()
        } else {
            s.to_ascii_lowercase()
        };
        let hit = p == s_norm || (subtree && s_norm != "/" && p.starts_with(&format!("{s_norm}/")));
        if hit && best.is_none_or(|(len, _)| s_norm.len() > len) {
            best = Some((s_norm.len(), why));
        }
    }
    best.map(|(_, why)| why)
}

/// hostPath volumes of paths that give away the node: the root filesystem,
/// container runtime sockets (Docker, containerd, CRI-O), `/etc`,
/// `/proc`, `/sys`, the kubelet's and the runtime's state, home
/// directories, devices. Mounting one read-only does not help for sockets
/// (a socket is used, not written) nor for credentials (they are read), so
/// read-only mounts fire too. Narrower paths (`/var/log`, `/etc/ssl/certs`,
/// `/etc/localtime`, `/opt/cni/bin`) are left to `host-path-volume`.
fn sensitive_host_mount(_cx: &Ctx, w: &Workload) -> Outcome {
    let mut v = Vec::new();
    for (i, vol) in w
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let Some(path) = vol.at(&["hostPath", "path"]).and_then(Node::as_str) else {
            continue;
        };
        let Some(why) = sensitive_host_path(path) else {
            continue;
        };
        let name = vol
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or("<unnamed>");
        v.push(Violation::new(
            w.path("volumes").idx(i).keys(&["hostPath", "path"]),
            format!("volume \"{name}\" mounts host path {path}: {why}"),
        ));
    }
    Outcome::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_image_references() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            (r.registry, r.path, r.tag, r.digest),
            (None, "nginx", None, None)
        );
        assert_eq!(r.repository(), "docker.io/library/nginx");
        let r = ImageRef::parse("localhost:5000/team/app:1.2").unwrap();
        assert_eq!(r.registry, Some("localhost:5000"));
        assert_eq!(r.tag, Some("1.2"));
        let r = ImageRef::parse("registry.example.com:5000/app").unwrap();
        assert_eq!((r.path, r.tag), ("app", None));
        let r = ImageRef::parse("gcr.io/p/app:v1@sha256:abcd").unwrap();
        assert_eq!((r.tag, r.digest), (Some("v1"), Some("sha256:abcd")));
        assert_eq!(
            ImageRef::parse("bitnami/redis:7").unwrap().registry_host(),
            "docker.io"
        );
        assert!(ImageRef::parse("ko://github.com/x/y").is_none());
        assert!(ImageRef::parse("{{ .Values.image }}").is_none());
        assert!(ImageRef::parse("").is_none());
    }

    #[test]
    fn matches_allowed_registries() {
        let r = ImageRef::parse("nginx:1.25").unwrap();
        assert!(registry_allowed(&r, "docker.io"));
        assert!(registry_allowed(&r, "index.docker.io"));
        assert!(registry_allowed(&r, "docker.io/library"));
        assert!(!registry_allowed(&r, "docker.io/bitnami"));
        let r = ImageRef::parse("123.dkr.ecr.eu-west-1.amazonaws.com/app:1").unwrap();
        assert!(registry_allowed(&r, "*.dkr.ecr.eu-west-1.amazonaws.com"));
        let r = ImageRef::parse("ghcr.io/acme-evil/app:1").unwrap();
        assert!(!registry_allowed(&r, "ghcr.io/acme"));
        assert!(registry_allowed(&r, "https://ghcr.io/"));
    }

    #[test]
    fn every_secret_word_contains_a_piece_of_the_prefilter() {
        let all = SECRET_WORDS
            .iter()
            .chain(SECRET_SUFFIX_WORDS)
            .chain(&["KEY", "PASSWORD", "TOKEN", "SECRET"]);
        for w in all {
            assert!(may_name_secret(w), "{w}");
            assert!(may_name_secret(&w.to_lowercase()), "{w}");
        }
        assert!(!may_name_secret("LOG_LEVEL"));
    }

    #[test]
    fn lines_naming_secret_are_the_lines_with_a_piece() {
        for text in [
            "",
            "a: 1\nPassword: x\nb: 2",
            "token = a\r\nother\r\nkey: k\r\n",
            "user: u\npwd: p\r",
            "secret: s, token: t\nsecret\n\ncred\n",
            "no pieces here\njust: config\n",
            "\npass",
        ] {
            let expected: Vec<&str> = text.lines().filter(|l| may_name_secret(l)).collect();
            let found: Vec<&str> = lines_naming_secret(text).collect();
            assert_eq!(found, expected, "{text:?}");
        }
    }

    #[test]
    fn classifies_secret_names() {
        for n in [
            "DB_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "apiKey",
            "GITHUB_TOKEN",
            "client-secret",
            "db.password",
            "SECRET_KEY_BASE",
            "REDIS_PASS",
            "JWT_SECRET",
            "githubtoken",
            "PASSWORD_1",
        ] {
            assert!(name_looks_secret(n), "{n}");
        }
        for n in [
            "PASSWORD_FILE",
            "TOKEN_PATH",
            "KEYCLOAK_URL",
            "SECRET_NAME",
            "PUBLIC_KEY",
            "PWD",
            "KEY",
            "AWS_ACCESS_KEY_ID",
            "TOKEN_TTL",
            "CACHE_KEY_PREFIX",
            "PARTITION_KEY",
            "password_file",
            "tokenUrl",
            "SECRETS_DIR",
            "bearer_token_file",
            "api-token-secret-key",
            "TS_KUBE_SECRET",
            "existingSecret",
        ] {
            assert!(!name_looks_secret(n), "{n}");
        }
    }

    #[test]
    fn recognises_credentials() {
        assert!(credential_in_text("id: AKIAZ7Q3EXAMPLKEY123").is_some());
        assert!(credential_in_text("AKIAIOSFODNN7EXAMPLE").is_none());
        assert!(
            credential_in_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
                .is_none()
        );
        assert!(
            credential_in_text("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----")
                .is_none()
        );
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
            "A".repeat(80)
        );
        assert_eq!(credential_in_text(&key), Some("a PEM private key"));
    }

    #[test]
    fn sensitive_paths() {
        assert!(sensitive_host_path("/").is_some());
        assert!(sensitive_host_path("/var/run/docker.sock").is_some());
        assert!(sensitive_host_path("/run/containerd/containerd.sock").is_some());
        assert!(sensitive_host_path("/etc/kubernetes/pki/").is_some());
        assert!(sensitive_host_path("/etc").is_some());
        assert!(sensitive_host_path("/etc/ssl/certs").is_none());
        assert!(sensitive_host_path("/etc/localtime").is_none());
        assert!(sensitive_host_path("/var/log").is_none());
        assert!(sensitive_host_path("/opt/cni/bin").is_none());
        assert!(sensitive_host_path("/sys/fs/bpf").is_none());
        assert!(sensitive_host_path("//var//run/docker.sock").is_some());
    }
}

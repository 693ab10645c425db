//! Static input: files, folders (recursively) and stdin.
//!
//! Folders are walked with the `ignore` crate (ripgrep's walker): hidden
//! folders and `.git` are skipped and `.gitignore` is honoured inside git
//! repositories. Symbolic links are followed (a loop is reported, not
//! followed forever). Files are parsed in parallel, and a large file is
//! itself split at `---` lines and parsed in parallel; the result keeps
//! input order.
//!
//! Nothing is dropped silently: a file that is too large, unreadable, not
//! text or not Kubernetes is reported as a diagnostic or as skipped with
//! the reason, and counted.

use super::{Skipped, SourceOutput};
use crate::diagnostic::{code, Diagnostic, Level};
use crate::object::{Object, Origin};
use crate::yaml::{self, Limits, Node, Pos, ProblemKind, Value};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const STDIN: &str = "-";
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// At most this many diagnostics of one code are listed per file; the
/// rest are counted in one summary diagnostic (a file with a million
/// broken documents must not flood the report).
pub const MAX_DIAGNOSTICS_PER_CODE: usize = 20;

/// What to read: files found on disk, and whether stdin was asked for.
struct Inputs {
    files: Vec<PathBuf>,
    stdin: bool,
}

/// Reads every path (`-` is stdin). Never fails: problems become diagnostics.
pub fn load_paths(paths: &[String], limits: &Limits) -> SourceOutput {
    let mut out = SourceOutput::default();
    let inputs = discover(paths, &mut out);
    let results: Vec<SourceOutput> = inputs
        .files
        .par_iter()
        .map(|f| load_file(f, limits))
        .collect();
    for r in results {
        out.merge(r);
    }
    if inputs.stdin {
        let name: Arc<str> = Arc::from("<stdin>");
        match read_limited(std::io::stdin().lock(), 0, limits.max_file_size) {
            Ok(buf) => out.merge(load_vec(name, buf, limits, true)),
            Err(e) => out.merge(read_failure(name, e, limits)),
        }
    }
    out
}

/// The benchmark's floor (`examples/parse_only.rs`): finds and reads the
/// files exactly as `load_paths` does and runs them through the YAML
/// parser alone. Returns (files, documents, parser events).
pub fn parse_only(paths: &[String], limits: &Limits) -> (usize, usize, usize) {
    parse_only_with(paths, limits, yaml::load::parse_events)
}

/// Like `parse_only`, with libyaml-safer's own loader building its node
/// trees (`Document::load`): (files, documents).
pub fn parse_documents_only(paths: &[String], limits: &Limits) -> (usize, usize) {
    let (files, docs, _) =
        parse_only_with(paths, limits, |text| (yaml::load::parse_documents(text), 0));
    (files, docs)
}

fn parse_only_with(
    paths: &[String],
    limits: &Limits,
    parse: impl Fn(&str) -> (usize, usize) + Sync,
) -> (usize, usize, usize) {
    let mut out = SourceOutput::default();
    let inputs = discover(paths, &mut out);
    inputs
        .files
        .par_iter()
        .map(|f| {
            let Ok(mut bytes) = open_limited(f, limits.max_file_size) else {
                return (1, 0, 0);
            };
            prepare(&mut bytes);
            // Validated as the scan validates it (`from_utf8`, not the
            // slower lossy decoding); text that is not UTF-8 is not parsed
            // by the scan either.
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return (1, 0, 0);
            };
            let (docs, events) = parse(text);
            (1, docs, events)
        })
        .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
}

fn discover(paths: &[String], out: &mut SourceOutput) -> Inputs {
    let mut inputs = Inputs {
        files: Vec::new(),
        stdin: false,
    };
    for p in paths {
        if p == STDIN {
            inputs.stdin = true;
            continue;
        }
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Err(e) => out.diagnostics.push(Diagnostic::error(
                code::UNREADABLE,
                &Arc::from(p.as_str()),
                None,
                format!("cannot read: {e}"),
            )),
            Ok(m) if m.is_dir() => walk(path, &mut inputs.files, out),
            // Named explicitly: read whatever it is (a pipe from
            // `<(helm template ...)` included), within the size limit.
            Ok(_) => inputs.files.push(path.to_path_buf()),
        }
    }
    inputs
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, out: &mut SourceOutput) {
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .parents(true)
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                let ext_ok = e
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()));
                let Some(t) = e.file_type() else { continue };
                if !ext_ok || t.is_dir() {
                    continue;
                }
                if t.is_file() {
                    files.push(e.into_path());
                } else {
                    // A FIFO or device named *.yaml: reading it could block forever.
                    let file: Arc<str> = Arc::from(display_path(e.path()));
                    out.stats.files_skipped += 1;
                    out.skipped.push(Skipped {
                        file,
                        reason: "not a regular file (pipe, socket or device)".into(),
                    });
                }
            }
            Err(err) => out.diagnostics.push(walk_error(&err, dir)),
        }
    }
}

/// A folder entry the walker could not read. Symlink loops and broken
/// links are warnings (there is nothing to scan behind them); anything
/// else (a folder without read permission) is an error: part of the input
/// was not scanned.
fn walk_error(err: &ignore::Error, dir: &Path) -> Diagnostic {
    let file: Arc<str> = Arc::from(err_path(err).unwrap_or_else(|| display_path(dir)));
    if let Some((ancestor, _)) = find_loop(err) {
        return Diagnostic::warning(
            code::UNREADABLE,
            &file,
            None,
            format!(
                "symbolic link loop (points back to {}); not followed",
                display_path(&ancestor)
            ),
        );
    }
    let not_found = err
        .io_error()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound);
    if not_found {
        return Diagnostic::warning(
            code::UNREADABLE,
            &file,
            None,
            "broken symbolic link (its target does not exist); not scanned",
        );
    }
    Diagnostic::error(
        code::UNREADABLE,
        &file,
        None,
        format!("cannot read: {}", strip_path(&err.to_string())),
    )
    .with_help("the rest of the input was scanned; fix the permissions to scan this too")
}

fn find_loop(err: &ignore::Error) -> Option<(PathBuf, PathBuf)> {
    match err {
        ignore::Error::Loop { ancestor, child } => Some((ancestor.clone(), child.clone())),
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => find_loop(err),
        _ => None,
    }
}

fn err_path(err: &ignore::Error) -> Option<String> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(display_path(path)),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(display_path(child)),
        _ => None,
    }
}

fn strip_path(msg: &str) -> &str {
    msg.rsplit_once(": ").map(|(_, m)| m).unwrap_or(msg)
}

/// The path as reported: relative to the working directory when below it,
/// so SARIF URIs are repository-relative.
pub fn display_path(p: &Path) -> String {
    // Asked once: the working directory does not change during a scan,
    // and a `getcwd` per file cost more than naming the file.
    static CWD: std::sync::LazyLock<Option<PathBuf>> =
        std::sync::LazyLock::new(|| std::env::current_dir().ok());
    let rel = CWD
        .as_deref()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf));
    let p = rel.as_deref().unwrap_or(p);
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

enum ReadError {
    Io(std::io::Error),
    /// Over `--max-file-size`; the size when known.
    TooLarge(Option<u64>),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads at most `limit` bytes (plus one, to tell "too large"), so a huge
/// or endless file (`/dev/zero`) can never exhaust memory.
fn read_limited(r: impl Read, size_hint: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::with_capacity(size_hint.min(limit) as usize + 1);
    r.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge(None));
    }
    Ok(buf)
}

fn open_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > limit {
        return Err(ReadError::TooLarge(Some(len)));
    }
    read_limited(f, len, limit)
}

fn read_failure(name: Arc<str>, e: ReadError, limits: &Limits) -> SourceOutput {
    let mut out = SourceOutput::default();
    out.stats.files = 1;
    let d = match e {
        ReadError::Io(e) => {
            Diagnostic::error(code::UNREADABLE, &name, None, format!("cannot read: {e}"))
        }
        ReadError::TooLarge(size) => {
            let size = size
                .map(|s| format!("{s} bytes"))
                .unwrap_or_else(|| "larger".into());
            Diagnostic::error(
                code::LIMIT_EXCEEDED,
                &name,
                None,
                format!(
                    "file not scanned: {size}, over the limit of {} bytes",
                    limits.max_file_size
                ),
            )
            .with_help("raise the limit with --max-file-size if this file is meant to be scanned")
        }
    };
    out.diagnostics.push(d);
    out
}

fn load_file(path: &Path, limits: &Limits) -> SourceOutput {
    let name: Arc<str> = Arc::from(display_path(path));
    match open_limited(path, limits.max_file_size) {
        Ok(bytes) => load_vec(name, bytes, limits, false),
        Err(e) => read_failure(name, e, limits),
    }
}

/// Parses one input. `helm` turns on `# Source:` attribution (stdin).
pub fn load_bytes(name: Arc<str>, bytes: &[u8], limits: &Limits, helm: bool) -> SourceOutput {
    if bytes.len() as u64 > limits.max_file_size {
        return read_failure(name, ReadError::TooLarge(Some(bytes.len() as u64)), limits);
    }
    load_vec(name, bytes.to_vec(), limits, helm)
}

/// What one document gave: objects, or diagnostics, or nothing (skipped).
#[derive(Default)]
struct Extracted {
    objects: Vec<Object>,
    diagnostics: Vec<Diagnostic>,
    /// Facts recorded in a `kready snapshot` List (server version, listed kinds).
    cluster: Option<super::ClusterFacts>,
}

/// What the parser is given: no byte-order mark, and a final newline
/// (libyaml-safer 0.1 panics on a block scalar that ends the input
/// without one).
fn prepare(bytes: &mut Vec<u8>) {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    if !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
}

fn load_vec(name: Arc<str>, mut bytes: Vec<u8>, limits: &Limits, helm: bool) -> SourceOutput {
    let mut out = SourceOutput::default();
    out.stats.files = 1;
    let skip = |out: &mut SourceOutput, reason: &str| {
        out.stats.files_skipped = 1;
        out.skipped.push(Skipped {
            file: name.clone(),
            reason: reason.to_string(),
        });
    };
    if bytes[..bytes.len().min(8192)].contains(&0) {
        skip(&mut out, "binary file");
        return out;
    }
    prepare(&mut bytes);
    let text: String = match String::from_utf8(bytes) {
        // The text the positions refer to (line ends normalised as the loader does).
        Ok(t) => match yaml::load::crlf_to_lf(&t) {
            std::borrow::Cow::Owned(lf) => lf,
            std::borrow::Cow::Borrowed(_) => t,
        },
        Err(e) => {
            let bytes = e.into_bytes();
            not_utf8(&name, &bytes, &mut out);
            if out.diagnostics.is_empty() {
                skip(&mut out, "not UTF-8 text");
            }
            return out;
        }
    };
    let file_cx = FileCx { name: &name, helm };
    let run = || yaml::load::load_map(&text, limits, &|doc, src| file_cx.document(doc.root, src));
    let mapped = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(m) => m,
        Err(_) => {
            out.diagnostics.push(Diagnostic::error(
                code::PARSE_ERROR,
                &name,
                None,
                "the YAML parser failed on this file (internal error); please report it",
            ));
            return out;
        }
    };
    for p in &mapped.problems {
        out.diagnostics.push(problem_diagnostic(&name, p));
    }
    out.stats.documents = mapped.documents;
    for mut ex in mapped.items {
        if ex.objects.is_empty() && ex.diagnostics.is_empty() {
            out.stats.documents_skipped += 1;
        }
        out.objects.append(&mut ex.objects);
        out.diagnostics.append(&mut ex.diagnostics);
        if ex.cluster.is_some() {
            out.cluster = ex.cluster.take();
        }
    }
    out.stats.objects = out.objects.len();
    if out.objects.is_empty() && out.diagnostics.is_empty() {
        let reason = if mapped.documents == 0 {
            "no YAML document (empty or comments only)"
        } else {
            "no Kubernetes object (no apiVersion and kind)"
        };
        skip(&mut out, reason);
    }
    cap_diagnostics(&name, &mut out.diagnostics);
    if !out.diagnostics.is_empty() {
        out.texts.insert(name.clone(), Arc::new(text));
    }
    out
}

/// Not UTF-8: an error when the text looks like a manifest, else skipped.
fn not_utf8(name: &Arc<str>, bytes: &[u8], out: &mut SourceOutput) {
    let valid_up_to = match std::str::from_utf8(bytes) {
        Err(e) => e.valid_up_to(),
        Ok(_) => return,
    };
    let lossy = String::from_utf8_lossy(bytes);
    if !looks_like_manifest_text(&lossy) {
        return;
    }
    let line = memchr::memchr_iter(b'\n', &bytes[..valid_up_to]).count() as u32 + 1;
    out.diagnostics.push(
        Diagnostic::error(
            code::PARSE_ERROR,
            name,
            Some(Pos { line, col: 1 }),
            format!("not valid UTF-8 (invalid byte at offset {valid_up_to})"),
        )
        .with_help("Kubernetes manifests must be UTF-8 text; re-save the file as UTF-8"),
    );
    out.texts.insert(name.clone(), Arc::new(lossy.into_owned()));
}

fn problem_diagnostic(name: &Arc<str>, p: &yaml::Problem) -> Diagnostic {
    match p.kind {
        ProblemKind::Syntax => Diagnostic::error(
            code::PARSE_ERROR,
            name,
            Some(p.pos),
            format!("invalid YAML: {}", p.message),
        )
        .with_help("the other documents of this file are still scanned"),
        ProblemKind::Limit => {
            Diagnostic::error(code::LIMIT_EXCEEDED, name, Some(p.pos), p.message.clone())
                .with_help("this document was not scanned; see --help for the input limits")
        }
        ProblemKind::DuplicateKey => {
            Diagnostic::warning(code::DUPLICATE_KEY, name, Some(p.pos), p.message.clone())
        }
    }
}

/// Keeps the first `MAX_DIAGNOSTICS_PER_CODE` diagnostics of each code and
/// level, and says how many more there were.
fn cap_diagnostics(name: &Arc<str>, diags: &mut Vec<Diagnostic>) {
    if diags.len() <= MAX_DIAGNOSTICS_PER_CODE {
        return;
    }
    let mut seen: Vec<(&'static str, Level, usize)> = Vec::new();
    diags.retain(|d| {
        let i = match seen
            .iter()
            .position(|(c, l, _)| *c == d.code && *l == d.level)
        {
            Some(i) => i,
            None => {
                seen.push((d.code, d.level, 0));
                seen.len() - 1
            }
        };
        seen[i].2 += 1;
        seen[i].2 <= MAX_DIAGNOSTICS_PER_CODE
    });
    for (c, level, n) in seen {
        if n > MAX_DIAGNOSTICS_PER_CODE {
            let more = n - MAX_DIAGNOSTICS_PER_CODE;
            let msg =
                format!("{more} more `{c}` problems in this file are not listed ({n} in all)");
            diags.push(match level {
                Level::Error => Diagnostic::error(c, name, None, msg),
                Level::Warning => Diagnostic::warning(c, name, None, msg),
            });
        }
    }
}

fn looks_like_manifest_text(t: &str) -> bool {
    t.contains("apiVersion:") || t.contains("kind:") || t.contains("\"apiVersion\"")
}

/// What every document of a file shares (documents of a large file are
/// turned into objects on several threads).
struct FileCx<'a> {
    name: &'a Arc<str>,
    helm: bool,
}

impl FileCx<'_> {
    fn document(&self, root: Node, src: yaml::load::HelmSource<'_>) -> Extracted {
        let (file, line_offset) = match src.filter(|_| self.helm) {
            Some((line, path)) => (Arc::from(path), line),
            None => (self.name.clone(), 0),
        };
        let mut ex = Extracted::default();
        extract(root, &file, line_offset, &mut ex);
        for o in &ex.objects {
            ex.diagnostics.extend(super::schema::validate(o));
        }
        ex
    }
}

/// Turns a document into objects: one, the items of a `List`, or none.
/// The tree is moved into the object, never copied.
fn extract(root: Node, file: &Arc<str>, line_offset: u32, ex: &mut Extracted) {
    let Value::Map(_) = &root.value else { return };
    let api = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    match (api, kind) {
        (Some(api), Some(kind)) => {
            if kind.ends_with("List") && root.get("items").and_then(Node::as_seq).is_some() {
                if let Some(facts) = super::live::snapshot::facts_from_list(&root) {
                    ex.cluster = Some(facts);
                }
                let Value::Map(m) = root.value else { return };
                let items = m.entries.into_iter().rev().find(|(k, _)| k.text == "items");
                if let Some((
                    _,
                    Node {
                        value: Value::Seq(items),
                        ..
                    },
                )) = items
                {
                    for item in items {
                        if item.get("apiVersion").is_some()
                            || item.get("kind").is_some()
                            || item.get("metadata").is_some()
                        {
                            extract(item, file, line_offset, ex);
                        }
                    }
                }
                return;
            }
            let (api_version, kind) = (api.to_string(), kind.to_string());
            let meta = root.get("metadata");
            let name = meta
                .and_then(|m| {
                    m.get("name")
                        .and_then(Node::as_str)
                        .map(str::to_string)
                        .or_else(|| {
                            m.get("generateName")
                                .and_then(Node::as_str)
                                .map(|g| format!("{g}*"))
                        })
                })
                .unwrap_or_else(|| "<unnamed>".to_string());
            let namespace = meta
                .and_then(|m| m.get("namespace"))
                .and_then(Node::as_str)
                .map(str::to_string);
            // Most documents are one object: no spare capacity per document.
            ex.objects.reserve_exact(1);
            ex.objects.push(Object {
                api_version,
                kind,
                name,
                namespace,
                root,
                origin: Origin::File {
                    file: file.clone(),
                    line_offset,
                },
            });
        }
        (None, None) => {
            // Valid YAML that is not a Kubernetes object, unless it has
            // the unmistakable shape of one (metadata.name plus a body).
            let has_meta_name = root.at(&["metadata", "name"]).is_some();
            let has_body = ["spec", "data", "rules", "subjects", "roleRef", "stringData"]
                .iter()
                .any(|k| root.get(k).is_some());
            if has_meta_name && has_body {
                ex.diagnostics.push(Diagnostic::error(code::NOT_KUBERNETES, file, Some(root.pos), "this looks like a Kubernetes object but has neither `apiVersion` nor `kind`")
                    .with_help("add `apiVersion:` and `kind:`, e.g. `apiVersion: apps/v1` and `kind: Deployment`"));
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            let missing = if api.is_none() { "apiVersion" } else { "kind" };
            ex.diagnostics.push(
                Diagnostic::error(
                    code::NOT_KUBERNETES,
                    file,
                    Some(root.pos),
                    format!("Kubernetes object without `{missing}`"),
                )
                .with_help("every Kubernetes object needs both `apiVersion` and `kind`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> SourceOutput {
        load_bytes(Arc::from("t.yaml"), s.as_bytes(), &Limits::default(), false)
    }

    #[test]
    fn the_floor_reads_files_as_the_scan_does() {
        // A block scalar at the end of a file without a final newline made
        // libyaml-safer panic in the benchmark's floor (the scan already
        // added the newline); with a byte-order mark too.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cm.yaml");
        std::fs::write(&file, "\u{feff}kind: ConfigMap\ndata:\n  a: |\n    x").unwrap();
        let paths = [file.to_string_lossy().into_owned()];
        let (files, docs, _) = parse_only(&paths, &Limits::default());
        let (_, docs_tree) = parse_documents_only(&paths, &Limits::default());
        assert_eq!((files, docs, docs_tree), (1, 1, 1));
    }

    #[test]
    fn expands_lists_and_counts_documents() {
        let o = load("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n");
        assert_eq!(o.objects.len(), 2);
        assert_eq!(o.objects[1].kind, "ConfigMap");
        assert_eq!(
            o.stats,
            crate::source::Stats {
                files: 1,
                documents: 1,
                objects: 2,
                documents_skipped: 0,
                files_skipped: 0
            }
        );
    }

    #[test]
    fn values_file_is_skipped_not_an_error() {
        let o = load("replicaCount: 2\nimage:\n  tag: latest\n");
        assert!(o.diagnostics.is_empty());
        assert_eq!(o.skipped.len(), 1);
        assert_eq!(o.stats.documents_skipped, 1);
    }

    #[test]
    fn missing_kind_is_an_error_with_position() {
        let o = load("apiVersion: v1\nmetadata:\n  name: x\n");
        assert_eq!(o.diagnostics.len(), 1);
        assert_eq!(o.diagnostics[0].code, code::NOT_KUBERNETES);
        assert!(o.objects.is_empty());
    }

    #[test]
    fn bom_crlf_and_missing_final_newline() {
        let o = load("\u{feff}apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: x\r\ndata:\r\n  a: |\r\n    b");
        assert!(o.diagnostics.is_empty(), "{:?}", o.diagnostics);
        assert_eq!(o.objects.len(), 1);
        // A final newline is appended before parsing (libyaml-safer 0.1
        // panics without one), so the clipped block scalar keeps it.
        assert_eq!(
            o.objects[0].root.at(&["data", "a"]).unwrap().as_str(),
            Some("b\n")
        );
    }

    #[test]
    fn binary_is_skipped() {
        let o = load_bytes(
            Arc::from("x.yaml"),
            b"\x00\x01\x02",
            &Limits::default(),
            false,
        );
        assert_eq!(o.skipped[0].reason, "binary file");
    }

    #[test]
    fn helm_output_names_the_template() {
        let s = "---\n# Source: app/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n";
        let o = load_bytes(Arc::from("<stdin>"), s.as_bytes(), &Limits::default(), true);
        let (file, pos) = o.objects[0].locate(&crate::path::FieldPath::of(&["metadata", "name"]));
        assert_eq!(file.as_deref(), Some("app/templates/svc.yaml"));
        assert_eq!(pos.line, 4);
    }
}

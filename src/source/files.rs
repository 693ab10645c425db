//! Static input: files, folders (recursively) and stdin.
//!
//! Folders are walked with the `ignore` crate (ripgrep's walker): hidden
//! folders and `.git` are skipped and `.gitignore` is honoured inside git
//! repositories. Files are parsed in parallel; the result keeps input order.

use super::{Skipped, SourceOutput};
use crate::diagnostic::{code, Diagnostic};
use crate::object::{Object, Origin};
use crate::yaml::{self, Limits, Node, Pos, ProblemKind, Value};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const STDIN: &str = "-";
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads every path (`-` is stdin). Never fails: problems become diagnostics.
pub fn load_paths(paths: &[String], limits: &Limits) -> SourceOutput {
    let mut out = SourceOutput::default();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut read_stdin = false;
    for p in paths {
        if p == STDIN {
            read_stdin = true;
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
            Ok(m) if m.is_file() => files.push(path.to_path_buf()),
            Ok(_) => walk(path, &mut files, &mut out),
        }
    }
    let results: Vec<SourceOutput> = files.par_iter().map(|f| load_file(f, limits)).collect();
    for r in results {
        out.merge(r);
    }
    if read_stdin {
        let mut buf = Vec::new();
        let name: Arc<str> = Arc::from("<stdin>");
        match std::io::stdin().lock().read_to_end(&mut buf) {
            Ok(_) => out.merge(load_bytes(name, &buf, limits, true)),
            Err(e) => out.diagnostics.push(Diagnostic::error(
                code::UNREADABLE,
                &name,
                None,
                format!("cannot read stdin: {e}"),
            )),
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, out: &mut SourceOutput) {
    let walker = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .parents(true)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                let ext_ok = e
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()));
                if is_file && ext_ok {
                    files.push(e.into_path());
                }
            }
            Err(err) => {
                let file: Arc<str> =
                    Arc::from(err_path(&err).unwrap_or_else(|| dir.display().to_string()));
                out.diagnostics.push(Diagnostic::error(
                    code::UNREADABLE,
                    &file,
                    None,
                    format!("cannot read: {}", strip_path(&err.to_string())),
                ));
            }
        }
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
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    let p = rel.as_deref().unwrap_or(p);
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn load_file(path: &Path, limits: &Limits) -> SourceOutput {
    let name: Arc<str> = Arc::from(display_path(path));
    match std::fs::read(path) {
        Ok(bytes) => load_bytes(name, &bytes, limits, false),
        Err(e) => {
            let mut out = SourceOutput::default();
            out.diagnostics.push(Diagnostic::error(
                code::UNREADABLE,
                &name,
                None,
                format!("cannot read: {e}"),
            ));
            out
        }
    }
}

/// Parses one input. `helm` turns on `# Source:` attribution (stdin).
pub fn load_bytes(name: Arc<str>, bytes: &[u8], limits: &Limits, helm: bool) -> SourceOutput {
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
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let lossy = String::from_utf8_lossy(bytes);
            if looks_like_manifest_text(&lossy) {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u32
                    + 1;
                out.diagnostics.push(
                    Diagnostic::error(
                        code::PARSE_ERROR,
                        &name,
                        Some(Pos { line, col: 1 }),
                        format!(
                            "not valid UTF-8 (invalid byte at offset {})",
                            e.valid_up_to()
                        ),
                    )
                    .with_help(
                        "Kubernetes manifests must be UTF-8 text; re-save the file as UTF-8",
                    ),
                );
                out.texts.insert(name.clone(), Arc::from(lossy.as_ref()));
            } else {
                skip(&mut out, "not UTF-8 text");
            }
            return out;
        }
    };
    // libyaml-safer 0.1 panics on a block scalar that ends the input
    // without a final newline: give it one.
    let owned;
    let text = if text.ends_with('\n') {
        text
    } else {
        owned = format!("{text}\n");
        owned.as_str()
    };
    let loaded = match std::panic::catch_unwind(|| yaml::load(text, limits)) {
        Ok(l) => l,
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
    for p in &loaded.problems {
        let d = match p.kind {
            ProblemKind::Syntax => Diagnostic::error(
                code::PARSE_ERROR,
                &name,
                Some(p.pos),
                format!("invalid YAML: {}", p.message),
            )
            .with_help("the other documents of this file are still scanned"),
            ProblemKind::Limit => {
                Diagnostic::error(code::LIMIT_EXCEEDED, &name, Some(p.pos), p.message.clone())
                    .with_help("this document was not scanned; see --help for the input limits")
            }
            ProblemKind::DuplicateKey => {
                Diagnostic::warning(code::DUPLICATE_KEY, &name, Some(p.pos), p.message.clone())
            }
        };
        out.diagnostics.push(d);
    }
    out.stats.documents = loaded.docs.len();
    for doc in &loaded.docs {
        let (file, line_offset) = match loaded.helm_source(doc).filter(|_| helm) {
            Some(src) => {
                let comment_line = loaded
                    .sources
                    .iter()
                    .rev()
                    .find(|(l, s)| s == src && *l <= doc.root.pos.line)
                    .map(|(l, _)| *l)
                    .unwrap_or(0);
                (Arc::from(src), comment_line)
            }
            None => (name.clone(), 0),
        };
        let before = out.objects.len();
        extract(&doc.root, &file, line_offset, &mut out);
        if out.objects.len() == before
            && !out
                .diagnostics
                .iter()
                .any(|d| d.pos.is_some_and(|p| p.line == doc.root.pos.line))
        {
            out.stats.documents_skipped += 1;
        }
    }
    out.stats.objects = out.objects.len();
    if out.objects.is_empty() && out.diagnostics.is_empty() {
        let reason = if loaded.docs.is_empty() {
            "no YAML document (empty or comments only)"
        } else {
            "no Kubernetes object (no apiVersion and kind)"
        };
        skip(&mut out, reason);
    }
    if !out.diagnostics.is_empty() {
        out.texts.insert(name.clone(), Arc::from(text));
    }
    out
}

fn looks_like_manifest_text(t: &str) -> bool {
    t.contains("apiVersion:") || t.contains("kind:") || t.contains("\"apiVersion\"")
}

/// Turns a document into objects: one, the items of a `List`, or none.
fn extract(root: &Node, file: &Arc<str>, line_offset: u32, out: &mut SourceOutput) {
    let Value::Map(_) = &root.value else { return };
    let api = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    match (api, kind) {
        (Some(api), Some(kind)) => {
            if kind.ends_with("List") {
                if let Some(facts) = super::live::snapshot::facts_from_list(root) {
                    out.cluster = Some(facts);
                }
                if let Some(items) = root.get("items").and_then(Node::as_seq) {
                    for item in items {
                        if item.get("apiVersion").is_some()
                            || item.get("kind").is_some()
                            || item.get("metadata").is_some()
                        {
                            extract(item, file, line_offset, out);
                        }
                    }
                    return;
                }
            }
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
            out.objects.push(Object {
                api_version: api.to_string(),
                kind: kind.to_string(),
                name,
                namespace,
                root: root.clone(),
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
                out.diagnostics.push(Diagnostic::error(code::NOT_KUBERNETES, file, Some(root.pos), "this looks like a Kubernetes object but has neither `apiVersion` nor `kind`")
                    .with_help("add `apiVersion:` and `kind:`, e.g. `apiVersion: apps/v1` and `kind: Deployment`"));
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            let missing = if api.is_none() { "apiVersion" } else { "kind" };
            out.diagnostics.push(
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

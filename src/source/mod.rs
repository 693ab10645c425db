//! Sources turn input into `Object`s: files and folders, stdin, or (in
//! `live`) a running cluster. Nothing after this stage knows which.

pub mod files;
pub mod live;
pub mod schema;

use crate::diagnostic::Diagnostic;
use crate::object::Object;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Everything a source produced: objects, what it could not read, what it
/// deliberately skipped, and counts so nothing disappears silently.
#[derive(Debug, Default)]
pub struct SourceOutput {
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
    /// Texts of the inputs that have diagnostics, for code frames.
    pub texts: HashMap<Arc<str>, crate::diagnostic::SharedText>,
    /// What the input knows about the cluster it came from: set by the
    /// live source and by `kready snapshot` files.
    pub cluster: Option<ClusterFacts>,
}

/// Facts about a cluster beyond its objects (live scans and snapshots).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterFacts {
    /// Kinds listed successfully (an empty list counts; so does a kind
    /// whose API the server does not serve: there are none).
    pub listed: BTreeSet<String>,
    /// Kinds that could not be listed, with the reason (403, timeout...).
    pub unavailable: BTreeMap<String, String>,
    /// `v1.20.2`.
    pub server_version: Option<String>,
    /// The namespaces a `-n` scan was limited to; `None`: all.
    pub namespaces: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub file: Arc<str>,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Files (and stdin) read.
    pub files: usize,
    /// Non-empty YAML/JSON documents found.
    pub documents: usize,
    /// Kubernetes objects (items of `List` documents count one each).
    pub objects: usize,
    /// Documents that are valid YAML but not Kubernetes objects (Helm values, CI configs).
    pub documents_skipped: usize,
    /// Files skipped as a whole (binary, not UTF-8 text, no Kubernetes object).
    pub files_skipped: usize,
}

impl SourceOutput {
    pub fn merge(&mut self, mut other: SourceOutput) {
        self.objects.append(&mut other.objects);
        self.diagnostics.append(&mut other.diagnostics);
        self.skipped.append(&mut other.skipped);
        self.texts.extend(other.texts);
        if let Some(theirs) = other.cluster {
            match &mut self.cluster {
                None => self.cluster = Some(theirs),
                Some(mine) => {
                    mine.listed.extend(theirs.listed);
                    mine.unavailable.extend(theirs.unavailable);
                    if mine.server_version.is_none() {
                        mine.server_version = theirs.server_version;
                    }
                    match (&mut mine.namespaces, theirs.namespaces) {
                        (Some(a), Some(b)) => a.extend(b),
                        (a @ Some(_), None) => *a = None,
                        _ => {}
                    }
                }
            }
        }
        let (a, b) = (&mut self.stats, other.stats);
        a.files += b.files;
        a.documents += b.documents;
        a.objects += b.objects;
        a.documents_skipped += b.documents_skipped;
        a.files_skipped += b.files_skipped;
    }
}

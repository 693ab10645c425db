//! Turns YAML/JSON text into positioned documents.
//!
//! libyaml-safer is a port of libyaml, the parser go-yaml (and so kubectl)
//! derives from: it accepts what Kubernetes accepts. We drive its event API
//! and build our own tree so every node keeps its line and column.
//!
//! Failure handling: a syntax error ends the current document; parsing
//! resumes at the next `---` line so one broken document never hides the
//! others in a multi-document file. Budgets (nesting depth, alias
//! expansion) turn hostile input into a clear error instead of a hang.

use super::node::{Key, Map, Node, Pos, Scalar, Text, Value};
use super::unkept;
use libyaml_safer::{EventData, Parser, ScalarStyle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bounds on what one file may make the loader do. Each is a command-line
/// flag of `kready scan` (`--max-depth`, `--max-alias-nodes`,
/// `--max-file-size`); exceeding one is a `manifest-limit-exceeded` error
/// for that document or file, and the rest of the input is still scanned.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences (default 256; real
    /// manifests stay under 30, CRD schemas under 60).
    pub max_depth: usize,
    /// Most nodes that alias (`*name`) expansion may create in one file
    /// (default 1,000,000): bounds "billion laughs" documents.
    pub max_alias_nodes: usize,
    /// Largest file read, in bytes (default 256 MiB). Larger files are not
    /// read at all: they are reported, never silently skipped.
    pub max_file_size: u64,
}

impl Limits {
    pub const DEFAULT_MAX_DEPTH: usize = 256;
    pub const DEFAULT_MAX_ALIAS_NODES: usize = 1_000_000;
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_alias_nodes: Self::DEFAULT_MAX_ALIAS_NODES,
            max_file_size: Self::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

#[derive(Debug)]
pub struct Document {
    pub root: Node,
    /// Line of the document's `---` marker or first token (1-based).
    pub start_line: u32,
    /// Position among the non-empty documents of its file (0-based) in
    /// `load`'s output; `load_map` callbacks see the position within the
    /// piece of the file being parsed.
    pub index: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// Syntax error: the document it occurred in is lost.
    Syntax,
    /// A key repeated in one mapping: the last value is used.
    DuplicateKey,
    /// A budget was exceeded: the document is dropped.
    Limit,
}

#[derive(Clone, Debug)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub pos: Pos,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub docs: Vec<Document>,
    pub problems: Vec<Problem>,
    /// Lines `# Source: path` (Helm template output): (line, path).
    pub sources: Vec<(u32, String)>,
    /// (document index, index into `sources`) for documents rendered from
    /// a Helm template, by document index.
    doc_sources: Vec<(usize, usize)>,
}

impl Loaded {
    /// The Helm template a document was rendered from, from the
    /// `# Source:` comment between the previous document and this one.
    pub fn helm_source(&self, doc: &Document) -> Option<&str> {
        let i = self
            .doc_sources
            .binary_search_by_key(&doc.index, |(d, _)| *d)
            .ok()?;
        let (_, s) = self.doc_sources.get(i)?;
        self.sources.get(*s).map(|(_, p)| p.as_str())
    }
}

/// What `load_map` produced: the callback's results in document order,
/// and the problems met.
#[derive(Debug)]
pub struct Mapped<T> {
    pub items: Vec<T>,
    pub problems: Vec<Problem>,
    /// Non-empty documents found.
    pub documents: usize,
}

/// The Helm template comment a document follows: (its line, the path).
pub type HelmSource<'a> = Option<(u32, &'a str)>;

/// Parses every document of `text`.
pub fn load(text: &str, limits: &Limits) -> Loaded {
    let sources = helm_sources(text);
    let mapped = map_documents(text, &sources, limits, false, &|doc, src| {
        (doc, src.map(|(line, _)| line))
    });
    let mut out = Loaded {
        problems: mapped.problems,
        ..Default::default()
    };
    for (i, (mut doc, src_line)) in mapped.items.into_iter().enumerate() {
        doc.index = i;
        if let Some(line) = src_line {
            if let Ok(i) = sources.binary_search_by_key(&line, |(l, _)| *l) {
                out.doc_sources.push((doc.index, i));
            }
        }
        out.docs.push(doc);
    }
    out.sources = sources;
    out
}

/// Parses every document of `text` and hands each to `f` as soon as it is
/// complete, so a caller can keep what it needs (objects) and drop the
/// rest. For manifests: unlike `load`, CRD schemas are parsed but not
/// kept (`unkept`). Large inputs are split at `---` lines and parsed in parallel
/// (positions are those of the whole text); `f` may run on several
/// threads, and the results come back in document order.
pub fn load_map<T: Send>(
    text: &str,
    limits: &Limits,
    f: &(dyn Fn(Document, HelmSource<'_>) -> T + Sync),
) -> Mapped<T> {
    let sources = helm_sources(text);
    map_documents(text, &sources, limits, true, f)
}

/// Files below this size are parsed in one piece.
const SPLIT_FROM: usize = 512 * 1024;
/// Target size of the pieces of a larger file.
const PIECE: usize = 256 * 1024;

fn map_documents<T: Send>(
    text: &str,
    sources: &[(u32, String)],
    limits: &Limits,
    trim: bool,
    f: &(dyn Fn(Document, HelmSource<'_>) -> T + Sync),
) -> Mapped<T> {
    use rayon::prelude::*;
    let text = &*crlf_to_lf(text);
    let starts = doc_starts(text);
    let budget = AtomicUsize::new(0);
    let cx = RunCx {
        text,
        starts: &starts,
        sources,
        limits,
        budget: &budget,
        trim,
        f,
    };
    let pieces = pieces(text, &starts);
    let parts: Vec<Part<T>> = if pieces.len() == 1 {
        pieces.iter().map(|r| cx.piece(r.clone())).collect()
    } else {
        pieces.par_iter().map(|r| cx.piece(r.clone())).collect()
    };
    let mut out = Mapped {
        items: Vec::new(),
        problems: Vec::new(),
        documents: 0,
    };
    for mut p in parts {
        out.items.append(&mut p.items);
        out.documents += p.documents;
        out.problems.append(&mut p.problems);
    }
    out
}

/// The benchmark's floor: runs libyaml-safer's event parser over `text`,
/// split and parallelised exactly as `load_map` does, without building
/// anything. Returns (documents, events).
pub fn parse_events(text: &str) -> (usize, usize) {
    parse_pieces(text, |parser| {
        let (mut docs, mut events) = (0, 0);
        while let Ok(ev) = parser.parse() {
            events += 1;
            match ev.data {
                EventData::StreamEnd => break,
                EventData::DocumentEnd { .. } => docs += 1,
                _ => {}
            }
        }
        (docs, events)
    })
}

/// The benchmark's second floor: libyaml-safer's own loader
/// (`Document::load`, a node tree per document, what a YAML library's
/// `load` gives its users) over the same pieces. Returns the documents.
pub fn parse_documents(text: &str) -> usize {
    let (docs, _) = parse_pieces(text, |parser| {
        let mut docs = 0;
        while let Ok(mut doc) = libyaml_safer::Document::load(parser) {
            if doc.get_root_node().is_none() {
                break;
            }
            docs += 1;
        }
        (docs, 0)
    });
    docs
}

/// Runs `each` with a parser over every piece of `text` (split and
/// parallelised as `load_map` does) and sums what it counts.
fn parse_pieces(text: &str, each: impl Fn(&mut Parser) -> (usize, usize) + Sync) -> (usize, usize) {
    use rayon::prelude::*;
    let text = &*crlf_to_lf(text);
    let starts = doc_starts(text);
    let pieces = pieces(text, &starts);
    pieces
        .par_iter()
        .map(|r| {
            let start = starts[r.start].0;
            let end = starts.get(r.end).map(|(b, _)| *b).unwrap_or(text.len());
            let mut input = Chunked::new(&text.as_bytes()[start..end]);
            let mut parser = Parser::new();
            parser.set_input(&mut input);
            each(&mut parser)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// The parser's input, handed over a few kilobytes at a time.
///
/// libyaml-safer decodes whatever its reader offers into a buffer of
/// `char`s (4 bytes each) before scanning. Given the whole text (a plain
/// `&[u8]` offers all of it), it decodes a whole file or piece up front:
/// a buffer four times the text, grown by doubling (each growth a copy),
/// in fresh memory (a 10 MB single-document file would take 40 MB more).
/// Offered in chunks, the buffer stays small. Chunks may end inside a
/// UTF-8 sequence: the reader keeps the incomplete tail for the next one.
/// (`std::io::BufReader` with a 64 KB capacity would do the same with one
/// more copy of every input byte; this hands out slices of the text.)
struct Chunked<'a> {
    rest: &'a [u8],
}

impl<'a> Chunked<'a> {
    const CHUNK: usize = 64 * 1024;
    fn new(bytes: &'a [u8]) -> Self {
        Chunked { rest: bytes }
    }
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

impl std::io::BufRead for Chunked<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.rest[..self.rest.len().min(Self::CHUNK)])
    }
    fn consume(&mut self, n: usize) {
        self.rest = &self.rest[n.min(self.rest.len())..];
    }
}

/// `\r\n` line ends as `\n`. libyaml-safer 0.1 counts a CRLF as two lines
/// (every position below the first CRLF would be wrong); YAML normalises
/// line breaks in scalars anyway, and a `\r` before a `\n` moves no column,
/// so lines, columns and values are unchanged.
pub fn crlf_to_lf(text: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_some() && text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Byte offset and 1-based line of every line that starts a document
/// (`---` followed by a space or the end of the line), plus the start of
/// the text when it does not begin with one.
fn doc_starts(text: &str) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    if !is_marker(text) {
        out.push((0, 1));
    }
    let bytes = text.as_bytes();
    let mut line = 1u32;
    let mut last = 0usize;
    for nl in memchr::memchr_iter(b'\n', bytes) {
        let at = nl + 1;
        if bytes.get(at) != Some(&b'-') {
            continue;
        }
        if is_marker(&text[at..]) {
            line += count_lines(&bytes[last..at]);
            last = at;
            out.push((at, line));
        }
    }
    if out.first().is_some_and(|(b, _)| *b != 0) || out.is_empty() {
        out.insert(0, (0, 1));
    }
    out
}

/// Line breaks in `b`, counted as libyaml counts them (so positions of
/// pieces agree with the parser's): `\n`, `\r\n`, a lone `\r`, and the
/// Unicode breaks NEL, LS and PS.
fn count_lines(b: &[u8]) -> u32 {
    if memchr::memchr3(b'\r', 0xC2, 0xE2, b).is_none() {
        return memchr::memchr_iter(b'\n', b).count() as u32;
    }
    let mut n = 0u32;
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1), b.get(i + 2)) {
            (b'\n', ..) => n += 1,
            (b'\r', Some(b'\n'), _) => {}
            (b'\r', ..) => n += 1,
            (0xC2, Some(0x85), _) => n += 1,
            (0xE2, Some(0x80), Some(0xA8 | 0xA9)) => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

fn is_marker(s: &str) -> bool {
    s.starts_with("---")
        && s.as_bytes()
            .get(3)
            .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Groups document starts into pieces of about `PIECE` bytes: ranges of
/// indexes into `starts`.
fn pieces(text: &str, starts: &[(usize, u32)]) -> Vec<std::ops::Range<usize>> {
    if text.len() < SPLIT_FROM || starts.len() < 2 {
        return std::iter::once(0..starts.len()).collect();
    }
    let mut out = Vec::new();
    let mut first = 0;
    for i in 1..starts.len() {
        if starts[i].0 - starts[first].0 >= PIECE {
            out.push(first..i);
            first = i;
        }
    }
    out.push(first..starts.len());
    out
}

struct RunCx<'a, T> {
    text: &'a str,
    starts: &'a [(usize, u32)],
    sources: &'a [(u32, String)],
    limits: &'a Limits,
    budget: &'a AtomicUsize,
    /// CRD schemas are not kept (`unkept`).
    trim: bool,
    f: &'a (dyn Fn(Document, HelmSource<'_>) -> T + Sync),
}

struct Part<T> {
    items: Vec<T>,
    problems: Vec<Problem>,
    documents: usize,
}

impl<T> RunCx<'_, T> {
    /// Byte range of the documents `range` (indexes into `starts`).
    fn bytes(&self, range: &std::ops::Range<usize>) -> (usize, usize, u32) {
        let (start, line) = self.starts[range.start];
        let end = self
            .starts
            .get(range.end)
            .map(|(b, _)| *b)
            .unwrap_or(self.text.len());
        (start, end, line)
    }

    /// Parses one piece in a single run; after a syntax error, the rest of
    /// the piece document by document, so an unclosed bracket can never
    /// make the parser swallow (and re-read) the documents that follow.
    fn piece(&self, range: std::ops::Range<usize>) -> Part<T> {
        let mut part = Part {
            items: Vec::new(),
            problems: Vec::new(),
            documents: 0,
        };
        let (start, end, line) = self.bytes(&range);
        let Err(broken_at) = self.run(start, end, line, &mut part) else {
            return part;
        };
        // The first document starting after the broken one.
        let mut next =
            range.start + self.starts[range.clone()].partition_point(|(_, l)| *l <= broken_at);
        while next < range.end {
            let (s, e, l) = self.bytes(&(next..next + 1));
            let _ = self.run(s, e, l, &mut part);
            next += 1;
        }
        part
    }

    /// Parses `text[start..end]` (which begins on line `line`). On a syntax
    /// error or an exceeded limit, records it and returns the line where
    /// the broken document started.
    fn run(&self, start: usize, end: usize, line: u32, part: &mut Part<T>) -> Result<(), u32> {
        let mut b = Builder {
            limits: self.limits,
            budget: self.budget,
            stack: Vec::new(),
            items: Vec::new(),
            entries: Vec::new(),
            anchors: HashMap::new(),
            created: 0,
            root: None,
            problems: Vec::new(),
            no_anchor: None,
        };
        let mut st = RunState {
            line_base: line - 1,
            doc_start: line,
            prev_end: line,
        };
        let r = self.events(&self.text[start..end], &mut b, &mut st, part);
        part.problems.append(&mut b.problems);
        r.map_err(|p| {
            part.problems.push(p);
            st.doc_start
        })
    }
}

struct RunState {
    line_base: u32,
    doc_start: u32,
    prev_end: u32,
}

/// An open collection. Its children wait in the builder's shared scratch
/// stacks (`items`, `entries`) from `start` on, and move into a Vec of
/// exactly their number when it closes: no Vec per collection grows by
/// doubling (each growth a copy) and is shrunk again at the end.
struct Frame {
    pos: Pos,
    start: usize,
    anchor: Option<String>,
    created_at: usize,
    /// `Some` for a mapping.
    map: Option<MapState>,
    /// A collection whose content is not kept (`unkept`): its children
    /// are read (keys checked for duplicates, depth counted) and dropped.
    skip: bool,
}

#[derive(Default)]
struct MapState {
    /// The key read, waiting for its value.
    key: Option<Key>,
    /// Key index, built once a mapping grows past a few entries, so
    /// duplicate detection stays linear on mappings with many keys
    /// (indexes relative to the frame's `start`). Boxed: few mappings
    /// need one, and every frame is moved onto the stack (8 bytes here
    /// instead of 48).
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Text, usize>>>,
    merges: Vec<Node>,
}

struct Builder<'l> {
    limits: &'l Limits,
    /// Nodes created by alias expansion in the whole file (all pieces).
    budget: &'l AtomicUsize,
    stack: Vec<Frame>,
    /// Items of the open sequences, innermost last.
    items: Vec<Node>,
    /// Entries of the open mappings, innermost last.
    entries: Vec<(Key, Node)>,
    anchors: HashMap<String, (Node, usize)>,
    /// Nodes created so far in the document (for anchor sizes).
    created: usize,
    root: Option<Node>,
    problems: Vec<Problem>,
    /// Whether the current document surely defines no anchor (computed
    /// once per document, when a schema is about to be skipped).
    no_anchor: Option<bool>,
}

fn pos_of(m: libyaml_safer::Mark, line_base: u32) -> Pos {
    Pos {
        line: (m.line as u32).saturating_add(1).saturating_add(line_base),
        col: (m.column as u32).saturating_add(1),
    }
}

impl<T> RunCx<'_, T> {
    fn events(
        &self,
        text: &str,
        b: &mut Builder,
        st: &mut RunState,
        part: &mut Part<T>,
    ) -> Result<(), Problem> {
        let line_base = st.line_base;
        let mut input = Chunked::new(text.as_bytes());
        let mut parser = Parser::new();
        parser.set_input(&mut input);
        loop {
            // Destructured as it comes: the event is not moved as a whole
            // (a copy of it cost a few percent of loading).
            let libyaml_safer::Event {
                data, start_mark, ..
            } = match parser.parse() {
                Ok(ev) => ev,
                Err(e) => return Err(syntax_problem(&e, line_base)),
            };
            let pos = pos_of(start_mark, line_base);
            match data {
                EventData::StreamStart { .. } => {}
                EventData::StreamEnd => return Ok(()),
                EventData::DocumentStart { .. } => {
                    st.doc_start = pos.line;
                    b.anchors.clear();
                    b.created = 0;
                    b.no_anchor = None;
                }
                EventData::DocumentEnd { .. } => {
                    let lo = st.prev_end;
                    st.prev_end = pos.line;
                    let Some(mut root) = b.root.take() else {
                        continue;
                    };
                    if root.is_null() {
                        continue;
                    }
                    if self.trim && root.get("kind").and_then(Node::as_str) == Some(unkept::KIND) {
                        unkept::trim(&mut root);
                    }
                    // Source comments sit between the previous document and this root.
                    let hi = root.pos.line;
                    // The last one at or above the root, if it is below `lo`
                    // (binary search: a rendered chart has one per document).
                    let at = self.sources.partition_point(|(l, _)| *l <= hi);
                    let src = at
                        .checked_sub(1)
                        .and_then(|i| self.sources.get(i))
                        .filter(|(l, _)| *l >= lo)
                        .map(|(l, p)| (*l, p.as_str()));
                    let doc = Document {
                        root,
                        start_line: st.doc_start,
                        index: part.documents,
                    };
                    part.documents += 1;
                    part.items.push((self.f)(doc, src));
                }
                EventData::Alias { anchor } => {
                    let Some((node, size)) = b.anchors.get(&anchor) else {
                        return Err(Problem {
                            kind: ProblemKind::Syntax,
                            message: format!("unknown anchor `*{anchor}`"),
                            pos,
                        });
                    };
                    let total = b.budget.fetch_add(*size, Ordering::Relaxed) + size;
                    if total > self.limits.max_alias_nodes {
                        return Err(Problem {
                            kind: ProblemKind::Limit,
                            message: format!(
                                "alias expansion creates more than {} nodes in this file (a \"billion laughs\" document?)",
                                self.limits.max_alias_nodes
                            ),
                            pos,
                        });
                    }
                    let (node, size) = (node.clone(), *size);
                    b.created += size;
                    b.push(node, None, size);
                }
                EventData::Scalar {
                    anchor,
                    tag,
                    value,
                    style,
                    ..
                } => {
                    if b.in_skipped_value() {
                        // Not kept: no text conversion, a placeholder in the parent.
                        b.created += 1;
                        b.push(Node::scalar(Text::const_new(""), false, pos), anchor, 1);
                        continue;
                    }
                    let plain = style == ScalarStyle::Plain
                        && tag.as_deref().is_none_or(|t| t != "tag:yaml.org,2002:str");
                    // Short texts go inline in `Text`; long ones keep
                    // their buffer, without slack (trees live to the end).
                    let mut value = value;
                    if value.len() > 24 && value.capacity() - value.len() >= 16 {
                        value.shrink_to_fit();
                    }
                    b.created += 1;
                    b.push(Node::scalar(value, plain, pos), anchor, 1);
                }
                EventData::SequenceStart { anchor, .. } => {
                    let skip = self.skips_here(b, st.doc_start);
                    b.open(pos, anchor, false, skip)?
                }
                EventData::MappingStart { anchor, .. } => {
                    let skip = self.skips_here(b, st.doc_start);
                    b.open(pos, anchor, true, skip)?
                }
                EventData::SequenceEnd | EventData::MappingEnd => b.close(pos)?,
            }
        }
    }
}

impl<T> RunCx<'_, T> {
    /// Whether the collection about to open is a CRD schema that need not
    /// be kept: the path and kind say so, and the document (which starts
    /// on line `doc_line`) defines no anchor an alias could need.
    fn skips_here(&self, b: &mut Builder, doc_line: u32) -> bool {
        if !self.trim || !b.opens_schema() {
            return false;
        }
        *b.no_anchor.get_or_insert_with(|| {
            let i = self
                .starts
                .partition_point(|(_, l)| *l <= doc_line)
                .saturating_sub(1);
            let start = self.starts.get(i).map_or(0, |(b, _)| *b);
            let end = self.starts.get(i + 1).map_or(self.text.len(), |(b, _)| *b);
            !unkept::may_have_anchor(&self.text.as_bytes()[start..end])
        })
    }
}

fn syntax_problem(e: &libyaml_safer::Error, line_base: u32) -> Problem {
    let pos = e
        .problem_mark()
        .or(e.context_mark())
        .map(|m| pos_of(m, line_base))
        .unwrap_or(Pos {
            line: line_base + 1,
            col: 1,
        });
    let mut message = e.problem().to_string();
    if let Some(c) = e.context() {
        message = format!("{message} {c}");
        // Where the unclosed construct began is usually what to fix.
        if let Some(m) = e.context_mark().filter(|m| Some(*m) != e.problem_mark()) {
            let p = pos_of(m, line_base);
            message = format!("{message} (started at line {}, column {})", p.line, p.col);
        }
    }
    Problem {
        kind: ProblemKind::Syntax,
        message,
        pos,
    }
}

fn helm_sources(text: &str) -> Vec<(u32, String)> {
    // Found with memmem (SIMD) and lines counted with memchr between hits,
    // not line by line: every byte of every input passes through here, and
    // a large file on a single core (a 50 MB `helm template` output).
    const MARK: &[u8] = b"# Source: ";
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut line, mut counted) = (1u32, 0usize);
    for at in memchr::memmem::find_iter(bytes, MARK) {
        if at > 0 && bytes[at - 1] != b'\n' {
            continue;
        }
        line += memchr::memchr_iter(b'\n', &bytes[counted..at]).count() as u32;
        counted = at;
        let rest = &text[at + MARK.len()..];
        let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
        out.push((line, rest[..end].trim().to_string()));
    }
    out
}

/// Applies `<<` merge keys: merged entries never override explicit ones.
fn apply_merges(entries: &mut Vec<(Key, Node)>, merges: Vec<Node>) {
    for merged in merges {
        let maps: Vec<&Map> = match &merged.value {
            Value::Map(mm) => vec![mm],
            Value::Seq(s) => s.iter().filter_map(Node::as_map).collect(),
            Value::Scalar(_) => vec![],
        };
        for mm in maps {
            // A set of the keys present: `<<: *big` on a large mapping
            // stays linear.
            let mut present: std::collections::HashSet<Text> =
                entries.iter().map(|(k, _)| k.text.clone()).collect();
            for (k, v) in &mm.entries {
                if present.insert(k.text.clone()) {
                    entries.push((k.clone(), v.clone()));
                }
            }
        }
    }
    entries.shrink_to_fit();
}

/// Moves `scratch[start..]` into a Vec of exactly that size with one
/// copy (a `drain(start..).collect()` moved the children one by one); the
/// scratch stack keeps its capacity for the next collection.
fn take_from<T>(scratch: &mut Vec<T>, start: usize) -> Vec<T> {
    if start == 0 {
        // `split_off(0)` would hand over the scratch buffer, slack and all.
        let mut out = Vec::with_capacity(scratch.len());
        out.append(scratch);
        out
    } else {
        scratch.split_off(start)
    }
}

impl Builder<'_> {
    fn close(&mut self, pos: Pos) -> Result<(), Problem> {
        // The frame is read where it lies and dropped there: moving it out
        // whole (over a hundred bytes) was a memcpy call per collection.
        let Some(frame) = self.stack.last_mut() else {
            return Err(Problem {
                kind: ProblemKind::Syntax,
                message: "unbalanced collection end".into(),
                pos,
            });
        };
        let (at, start, created_at, skip) = (frame.pos, frame.start, frame.created_at, frame.skip);
        let anchor = frame.anchor.take();
        let merges = frame.map.as_mut().map(|m| std::mem::take(&mut m.merges));
        self.stack.truncate(self.stack.len() - 1);
        // Trees live until the end of the scan: exactly sized, no slack.
        let value = match merges {
            // Not kept: the children are dropped, an empty collection stays.
            Some(_) if skip => {
                self.entries.truncate(start);
                Value::Map(Map::default())
            }
            None if skip => {
                self.items.truncate(start);
                Value::Seq(Vec::new())
            }
            None => Value::Seq(take_from(&mut self.items, start)),
            Some(merges) => {
                let mut entries = take_from(&mut self.entries, start);
                if !merges.is_empty() {
                    apply_merges(&mut entries, merges);
                }
                Value::Map(Map { entries })
            }
        };
        self.created += 1;
        let size = self.created - created_at;
        let node = Node { pos: at, value };
        self.push(node, anchor, size);
        Ok(())
    }

    fn open(
        &mut self,
        pos: Pos,
        anchor: Option<String>,
        map: bool,
        skip: bool,
    ) -> Result<(), Problem> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Problem {
                kind: ProblemKind::Limit,
                message: format!("nesting deeper than {} levels", self.limits.max_depth),
                pos,
            });
        }
        let (start, map) = if map {
            (self.entries.len(), Some(MapState::default()))
        } else {
            (self.items.len(), None)
        };
        let skip = skip || self.stack.last().is_some_and(|f| f.skip);
        self.stack.push(Frame {
            pos,
            start,
            anchor,
            created_at: self.created,
            map,
            skip,
        });
        Ok(())
    }

    /// Whether the next node is a value inside a collection not kept.
    fn in_skipped_value(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|f| f.skip && f.map.as_ref().is_none_or(|m| m.key.is_some()))
    }

    /// Whether the collection about to open is the schema of a CRD:
    /// `unkept::is_schema_path` for the keys pending on the stack, and the
    /// root mapping read so far has `kind: CustomResourceDefinition`.
    fn opens_schema(&self) -> bool {
        let n = self.stack.len();
        if !(n == 2 || n == 4) || self.stack[n - 1].skip {
            return false;
        }
        let mut keys: [Option<&str>; 4] = [None; 4];
        for (slot, f) in keys.iter_mut().zip(&self.stack) {
            *slot = match &f.map {
                None => None,
                Some(m) => match &m.key {
                    Some(k) => Some(k.text.as_str()),
                    None => return false,
                },
            };
        }
        if !unkept::is_schema_path(&keys[..n]) {
            return false;
        }
        // The root's own entries end where the next open mapping's begin.
        let (root, next) = (&self.stack[0], &self.stack[1]);
        self.entries[root.start..next.start.min(self.entries.len())]
            .iter()
            .rev()
            .find(|(k, _)| k.text == "kind")
            .is_some_and(|(_, v)| v.as_str() == Some(unkept::KIND))
    }

    /// Places a finished node into its parent (or as the document root).
    fn push(&mut self, node: Node, anchor: Option<String>, size: usize) {
        if let Some(a) = anchor {
            self.anchors.insert(a, (node.clone(), size));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        let Some(m) = frame.map.as_mut() else {
            self.items.push(node);
            return;
        };
        match m.key.take() {
            None => {
                let text = match node.value {
                    Value::Scalar(Scalar { text, .. }) => text,
                    // Complex keys never occur in Kubernetes objects;
                    // keep the entry under a visible placeholder.
                    _ => "<complex key>".into(),
                };
                m.key = Some(Key {
                    text,
                    pos: node.pos,
                });
            }
            Some(key) if key.text == "<<" => m.merges.push(node),
            Some(key) => {
                let start = frame.start;
                insert_entry(m, &mut self.entries, start, key, node, &mut self.problems)
            }
        }
    }
}

/// Adds `key: node` to the open mapping whose entries are `all[start..]`.
fn insert_entry(
    m: &mut MapState,
    all: &mut Vec<(Key, Node)>,
    start: usize,
    key: Key,
    node: Node,
    problems: &mut Vec<Problem>,
) {
    const INDEX_FROM: usize = 16;
    let entries = &mut all[start..];
    let existing = match &m.index {
        Some(ix) => ix.get(&key.text).copied(),
        None => entries.iter().position(|(k, _)| k.text == key.text),
    };
    if let Some(i) = existing {
        problems.push(Problem {
            kind: ProblemKind::DuplicateKey,
            message: format!(
                "duplicate key `{}` (first at line {}); the last value is used",
                key.text, entries[i].0.pos.line
            ),
            pos: key.pos,
        });
        entries[i] = (key, node);
        return;
    }
    let len = entries.len();
    if let Some(ix) = &mut m.index {
        ix.insert(key.text.clone(), len);
    } else if len >= INDEX_FROM {
        let mut ix: HashMap<Text, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.text.clone(), i))
            .collect();
        ix.insert(key.text.clone(), len);
        m.index = Some(Box::new(ix));
    }
    all.push((key, node));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let l = load(text, &Limits::default());
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(l.docs.len(), 1);
        l.docs.into_iter().next().unwrap().root
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let n = one("a:\n  b: 1\n  c:\n  - x: true\n");
        let m = n.get("a").unwrap().as_map().unwrap();
        assert_eq!(m.key_pos("c"), Some(Pos { line: 3, col: 3 }));
        let x = n.at(&["a", "c"]).unwrap().items()[0].get("x").unwrap();
        assert_eq!(x.pos, Pos { line: 4, col: 8 });
        assert_eq!(x.as_bool(), Some(true));
    }

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let l = load(
            "---\n# only a comment\n---\na: 1\n---\nb: 2\n",
            &Limits::default(),
        );
        assert_eq!(l.docs.len(), 2);
        assert_eq!(l.docs[0].root.get("a").unwrap().pos.line, 4);
    }

    #[test]
    fn duplicate_key_is_a_problem_and_last_wins() {
        let l = load("a: 1\nb: 2\na: 3\n", &Limits::default());
        assert_eq!(l.docs.len(), 1);
        assert_eq!(l.problems.len(), 1);
        assert_eq!(l.problems[0].kind, ProblemKind::DuplicateKey);
        assert_eq!(l.problems[0].pos.line, 3);
        assert_eq!(l.docs[0].root.get("a").unwrap().as_i64(), Some(3));
        assert_eq!(l.docs[0].root.as_map().unwrap().entries.len(), 2);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let n = one("base: &b\n  x: 1\n  y: 2\nother:\n  <<: *b\n  y: 3\nref: *b\n");
        assert_eq!(n.at(&["other", "x"]).unwrap().as_i64(), Some(1));
        assert_eq!(n.at(&["other", "y"]).unwrap().as_i64(), Some(3));
        assert_eq!(n.at(&["ref", "y"]).unwrap().as_i64(), Some(2));
    }

    #[test]
    fn resumes_after_a_broken_document() {
        let l = load("a: 1\n---\nb: [1, 2\n---\nc: 3\n", &Limits::default());
        assert_eq!(l.problems.len(), 1);
        assert_eq!(l.problems[0].kind, ProblemKind::Syntax);
        let keys: Vec<_> = l
            .docs
            .iter()
            .map(|d| d.root.as_map().unwrap().entries[0].0.text.clone())
            .collect();
        assert_eq!(keys, ["a", "c"]);
        assert_eq!(l.docs[1].root.get("c").unwrap().pos.line, 5);
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let l = load(&s, &Limits::default());
        assert!(l.problems.iter().any(|p| p.kind == ProblemKind::Limit));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = "[".repeat(100_000);
        let l = load(&s, &Limits::default());
        assert!(l.problems.iter().any(|p| p.kind == ProblemKind::Limit));
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
";

    /// The documents as a scan loads them (`load_map`), and the problems.
    fn scanned(text: &str, limits: &Limits) -> (Vec<Node>, Vec<Problem>) {
        let m = load_map(text, limits, &|doc, _| doc.root);
        (m.items, m.problems)
    }

    fn scanned_one(text: &str) -> Node {
        let (mut docs, problems) = scanned(text, &Limits::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn crd_schemas_are_parsed_but_not_kept() {
        let root = scanned_one(CRD);
        let v = root.at(&["spec", "versions"]).unwrap().items()[0].clone();
        assert_eq!(v.get("name").and_then(Node::as_str), Some("v1"));
        let schema = v.get("schema").unwrap();
        assert!(matches!(&schema.value, Value::Map(m) if m.entries.is_empty()));
        assert_eq!(schema.pos, Pos { line: 11, col: 7 });
        assert_eq!(
            root.at(&["spec", "group"]).and_then(Node::as_str),
            Some("example.com")
        );
        // `load` (YAML as a library) keeps everything; other kinds keep the path.
        let whole = one(CRD);
        assert!(whole.at(&["spec", "versions"]).unwrap().items()[0]
            .at(&["schema", "openAPIV3Schema", "type"])
            .is_some());
        let other = CRD.replace("CustomResourceDefinition", "Widget");
        assert_eq!(
            scanned_one(&other).to_json()["spec"],
            whole.to_json()["spec"]
        );
    }

    #[test]
    fn crd_tree_does_not_depend_on_key_order() {
        // `kind` after `spec`: built whole, then trimmed to the same tree.
        let late = CRD.replace("kind: CustomResourceDefinition\n", "")
            + "kind: CustomResourceDefinition\n";
        let (a, b) = (scanned_one(CRD).to_json(), scanned_one(&late).to_json());
        assert_eq!(a["spec"], b["spec"]);
        assert_eq!(a["spec"]["versions"][0]["schema"], serde_json::json!({}));
    }

    #[test]
    fn problems_inside_a_crd_schema_are_still_found() {
        let dup = CRD.replace(
            "        type: object\n",
            "        type: object\n        type: array\n",
        );
        let (_, problems) = scanned(&dup, &Limits::default());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::DuplicateKey);
        assert_eq!(problems[0].pos.line, 13);
        let limits = Limits {
            max_depth: 6,
            ..Limits::default()
        };
        let (_, problems) = scanned(CRD, &limits);
        assert!(
            problems.iter().any(|p| p.kind == ProblemKind::Limit),
            "{problems:?}"
        );
    }

    #[test]
    fn crd_schema_anchors_keep_their_content_for_aliases() {
        let text = CRD.replace("openAPIV3Schema:", "openAPIV3Schema: &s") + "  extra: *s\n";
        let root = scanned_one(&text);
        assert_eq!(
            root.at(&["spec", "extra", "type"]).and_then(Node::as_str),
            Some("object")
        );
        let v = root.at(&["spec", "versions"]).unwrap().items()[0].clone();
        assert!(v.get("schema").unwrap().is_empty());
    }

    #[test]
    fn helm_source_comments_name_the_template() {
        let s = "---\n# Source: chart/templates/a.yaml\na: 1\n---\n# Source: chart/templates/b.yaml\nb: 1\n";
        let l = load(s, &Limits::default());
        assert_eq!(l.helm_source(&l.docs[0]), Some("chart/templates/a.yaml"));
        assert_eq!(l.helm_source(&l.docs[1]), Some("chart/templates/b.yaml"));
    }

    #[test]
    fn characters_split_between_input_chunks_are_read_whole() {
        // Values of multi-byte characters laid so that some of them cross
        // every chunk boundary the parser's input is cut at.
        let mut text = String::new();
        let mut n = 0;
        while text.len() < 3 * Chunked::CHUNK {
            text.push_str(&format!("k{n}: \"é€𝄞{}\"\n", "é".repeat(n % 7)));
            n += 1;
        }
        text.push_str("last: end\n");
        let root = one(&text);
        let Value::Map(m) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(m.entries.len(), n + 1);
        for (i, (k, v)) in m.entries.iter().take(n).enumerate() {
            assert_eq!(k.text, format!("k{i}"));
            assert_eq!(
                k.pos,
                Pos {
                    line: i as u32 + 1,
                    col: 1
                }
            );
            assert_eq!(
                v.as_str(),
                Some(format!("é€𝄞{}", "é".repeat(i % 7)).as_str())
            );
        }
        assert_eq!(
            m.entries[n].1.pos,
            Pos {
                line: n as u32 + 1,
                col: 7
            }
        );
    }

    #[test]
    fn helm_sources_are_the_lines_that_start_with_the_comment() {
        let text = "# Source: a.yaml\nx: 1\n  # Source: not-at-start\nb: \"# Source: in a value\"\n\n# Source: c/d.yaml \r\n---\n# Source: e.yaml";
        let by_line: Vec<(u32, String)> = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                l.strip_prefix("# Source: ")
                    .map(|p| (i as u32 + 1, p.trim().to_string()))
            })
            .collect();
        assert_eq!(helm_sources(text), by_line);
        assert_eq!(by_line.len(), 3);
        assert_eq!(helm_sources("no comment\n"), []);
    }

    #[test]
    fn crlf_lines_are_counted_once() {
        let l = load("a: 1\r\nb: |\r\n  x\r\n  y\r\nc: 3\r\n", &Limits::default());
        let n = &l.docs[0].root;
        assert_eq!(n.get("c").unwrap().pos.line, 5);
        assert_eq!(n.get("b").unwrap().as_str(), Some("x\ny\n"));
    }

    #[test]
    fn flow_sequence_closed_at_parent_indentation() {
        let n = one("spec:\n  args: [\n    \"a\",\n    \"b\"\n  ]\n");
        assert_eq!(n.at(&["spec", "args"]).unwrap().items().len(), 2);
    }
}

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

use super::node::{Key, Map, Node, Pos, Scalar, Value};
use libyaml_safer::{EventData, Parser, ScalarStyle};
use std::collections::HashMap;

/// Bounds on what one file may make the loader do.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes that alias (`*name`) expansion may create in one file.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            max_alias_nodes: 1_000_000,
        }
    }
}

#[derive(Debug)]
pub struct Document {
    pub root: Node,
    /// Line of the document's `---` marker or first token (1-based).
    pub start_line: u32,
    /// Index of the document in its file (0-based, counting empty ones).
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
    /// End line of each document, by document index, for Source matching.
    doc_bounds: Vec<(u32, u32)>,
}

impl Loaded {
    /// The Helm template a document was rendered from, from the
    /// `# Source:` comment between the previous document and this one.
    pub fn helm_source(&self, doc: &Document) -> Option<&str> {
        let (lo, hi) = *self.doc_bounds.get(doc.index)?;
        self.sources
            .iter()
            .rev()
            .find(|(l, _)| *l >= lo && *l <= hi)
            .map(|(_, p)| p.as_str())
    }
}

/// Parses every document of `text`.
pub fn load(text: &str, limits: &Limits) -> Loaded {
    let mut out = Loaded {
        sources: helm_sources(text),
        ..Default::default()
    };
    let mut offset = 0usize; // byte offset where the current parse run starts
    let mut line_base = 0u32; // lines before `offset`
    let mut prev_end = 1u32;
    loop {
        let chunk = &text[offset..];
        match parse_run(chunk, line_base, limits, &mut out, &mut prev_end) {
            Ok(()) => break,
            Err((p, doc_start)) => {
                out.problems.push(p);
                // Resume at the first `---` after the start of the broken
                // document: libyaml may report the error far below it (an
                // unclosed flow sequence swallows the following documents).
                match next_doc_marker(text, doc_start.max(line_base + 1)) {
                    Some((byte, line)) => {
                        offset = byte;
                        line_base = line - 1;
                        prev_end = line;
                    }
                    None => break,
                }
            }
        }
    }
    out
}

/// Byte offset and 1-based line of the first `---` line after `line`.
fn next_doc_marker(text: &str, line: u32) -> Option<(usize, u32)> {
    let mut byte = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let n = i as u32 + 1;
        if n > line
            && l.starts_with("---")
            && l[3..].chars().next().is_none_or(|c| c.is_whitespace())
        {
            return Some((byte, n));
        }
        byte += l.len();
    }
    None
}

fn helm_sources(text: &str) -> Vec<(u32, String)> {
    if !text.contains("# Source: ") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            l.strip_prefix("# Source: ")
                .map(|p| (i as u32 + 1, p.trim().to_string()))
        })
        .collect()
}

enum Frame {
    Seq {
        pos: Pos,
        items: Vec<Node>,
        anchor: Option<String>,
        created_at: usize,
    },
    Map(MapFrame),
}

struct MapFrame {
    pos: Pos,
    entries: Vec<(Key, Node)>,
    key: Option<Key>,
    anchor: Option<String>,
    created_at: usize,
    /// Key index, built once a mapping grows past a few entries, so
    /// duplicate detection stays linear on mappings with many keys.
    index: Option<HashMap<String, usize>>,
    merges: Vec<Node>,
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<String, (Node, usize)>,
    /// Nodes created so far (for anchor sizes).
    created: usize,
    /// Nodes created by alias expansion in the current document.
    alias_created: usize,
    root: Option<Node>,
    problems: Vec<Problem>,
}

fn pos_of(m: libyaml_safer::Mark, line_base: u32) -> Pos {
    Pos {
        line: m.line as u32 + 1 + line_base,
        col: m.column as u32 + 1,
    }
}

/// On error, also returns the line where the broken document started.
fn parse_run(
    text: &str,
    line_base: u32,
    limits: &Limits,
    out: &mut Loaded,
    prev_end: &mut u32,
) -> Result<(), (Problem, u32)> {
    let mut b = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        created: 0,
        alias_created: 0,
        root: None,
        problems: Vec::new(),
    };
    let mut doc_start = line_base + 1;
    let r = run_events(text, line_base, &mut b, out, prev_end, &mut doc_start);
    out.problems.append(&mut b.problems);
    r.map_err(|p| (p, doc_start))
}

fn run_events(
    text: &str,
    line_base: u32,
    b: &mut Builder,
    out: &mut Loaded,
    prev_end: &mut u32,
    doc_start: &mut u32,
) -> Result<(), Problem> {
    let mut bytes = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut bytes);
    let limits = b.limits;
    loop {
        let ev = parser.parse().map_err(|e| {
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
        })?;
        let pos = pos_of(ev.start_mark, line_base);
        match ev.data {
            EventData::StreamStart { .. } => {}
            EventData::StreamEnd => return Ok(()),
            EventData::DocumentStart { .. } => {
                *doc_start = pos.line;
                b.anchors.clear();
                b.alias_created = 0;
            }
            EventData::DocumentEnd { .. } => {
                let index = out.doc_bounds.len();
                let mut bounds = (*prev_end, (*doc_start).max(*prev_end));
                *prev_end = pos.line;
                if let Some(root) = b.root.take() {
                    if !root.is_null() {
                        // Source comments sit between the previous document and this root.
                        bounds.1 = root.pos.line;
                        out.docs.push(Document {
                            root,
                            start_line: *doc_start,
                            index,
                        });
                    }
                }
                out.doc_bounds.push(bounds);
            }
            EventData::Alias { anchor } => {
                let Some((node, size)) = b.anchors.get(&anchor) else {
                    return Err(Problem {
                        kind: ProblemKind::Syntax,
                        message: format!("unknown anchor `*{anchor}`"),
                        pos,
                    });
                };
                b.alias_created += size;
                if b.alias_created > limits.max_alias_nodes {
                    return Err(Problem {
                        kind: ProblemKind::Limit,
                        message: format!(
                            "alias expansion creates more than {} nodes (a \"billion laughs\" document?)",
                            limits.max_alias_nodes
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
                let plain = style == ScalarStyle::Plain
                    && tag.as_deref().is_none_or(|t| t != "tag:yaml.org,2002:str");
                b.created += 1;
                b.push(Node::scalar(value, plain, pos), anchor, 1);
            }
            EventData::SequenceStart { anchor, .. } => {
                b.open(
                    Frame::Seq {
                        pos,
                        items: Vec::new(),
                        anchor,
                        created_at: b.created,
                    },
                    pos,
                )?;
            }
            EventData::MappingStart { anchor, .. } => {
                let frame = Frame::Map(MapFrame {
                    pos,
                    entries: Vec::new(),
                    key: None,
                    anchor,
                    created_at: b.created,
                    index: None,
                    merges: Vec::new(),
                });
                b.open(frame, pos)?;
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                let Some(frame) = b.stack.pop() else {
                    return Err(Problem {
                        kind: ProblemKind::Syntax,
                        message: "unbalanced collection end".into(),
                        pos,
                    });
                };
                let (node, anchor, created_at) = match frame {
                    Frame::Seq {
                        pos,
                        items,
                        anchor,
                        created_at,
                    } => (
                        Node {
                            pos,
                            value: Value::Seq(items),
                        },
                        anchor,
                        created_at,
                    ),
                    Frame::Map(m) => {
                        let (anchor, created_at) = (m.anchor.clone(), m.created_at);
                        (finish_map(m), anchor, created_at)
                    }
                };
                b.created += 1;
                let size = b.created - created_at;
                b.push(node, anchor, size);
            }
        }
    }
}

/// Applies `<<` merge keys: merged entries never override explicit ones.
fn finish_map(m: MapFrame) -> Node {
    let mut entries = m.entries;
    for merged in m.merges {
        let maps: Vec<&Map> = match &merged.value {
            Value::Map(mm) => vec![mm],
            Value::Seq(s) => s.iter().filter_map(Node::as_map).collect(),
            Value::Scalar(_) => vec![],
        };
        for mm in maps {
            for (k, v) in &mm.entries {
                if !entries.iter().any(|(ek, _)| ek.text == k.text) {
                    entries.push((k.clone(), v.clone()));
                }
            }
        }
    }
    Node {
        pos: m.pos,
        value: Value::Map(Map { entries }),
    }
}

impl Builder<'_> {
    fn open(&mut self, frame: Frame, pos: Pos) -> Result<(), Problem> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Problem {
                kind: ProblemKind::Limit,
                message: format!("nesting deeper than {} levels", self.limits.max_depth),
                pos,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Places a finished node into its parent (or as the document root).
    fn push(&mut self, node: Node, anchor: Option<String>, size: usize) {
        if let Some(a) = anchor {
            self.anchors.insert(a, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map(m)) => match m.key.take() {
                None => {
                    let text = match node.value {
                        Value::Scalar(Scalar { text, .. }) => text,
                        // Complex keys never occur in Kubernetes objects;
                        // keep the entry under a visible placeholder.
                        _ => "<complex key>".to_string(),
                    };
                    m.key = Some(Key {
                        text,
                        pos: node.pos,
                    });
                }
                Some(key) => {
                    if key.text == "<<" {
                        m.merges.push(node);
                        return;
                    }
                    insert_entry(m, key, node, &mut self.problems);
                }
            },
        }
    }
}

fn insert_entry(m: &mut MapFrame, key: Key, node: Node, problems: &mut Vec<Problem>) {
    const INDEX_FROM: usize = 16;
    let existing = match &m.index {
        Some(ix) => ix.get(&key.text).copied(),
        None => m.entries.iter().position(|(k, _)| k.text == key.text),
    };
    if let Some(i) = existing {
        problems.push(Problem {
            kind: ProblemKind::DuplicateKey,
            message: format!(
                "duplicate key `{}` (first at line {}); the last value is used",
                key.text, m.entries[i].0.pos.line
            ),
            pos: key.pos,
        });
        m.entries[i] = (key, node);
        return;
    }
    if let Some(ix) = &mut m.index {
        ix.insert(key.text.clone(), m.entries.len());
    } else if m.entries.len() >= INDEX_FROM {
        m.index = Some(
            m.entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.text.clone(), i))
                .collect(),
        );
        if let Some(ix) = &mut m.index {
            ix.insert(key.text.clone(), m.entries.len());
        }
    }
    m.entries.push((key, node));
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

    #[test]
    fn helm_source_comments_name_the_template() {
        let s = "---\n# Source: chart/templates/a.yaml\na: 1\n---\n# Source: chart/templates/b.yaml\nb: 1\n";
        let l = load(s, &Limits::default());
        assert_eq!(l.helm_source(&l.docs[0]), Some("chart/templates/a.yaml"));
        assert_eq!(l.helm_source(&l.docs[1]), Some("chart/templates/b.yaml"));
    }

    #[test]
    fn flow_sequence_closed_at_parent_indentation() {
        let n = one("spec:\n  args: [\n    \"a\",\n    \"b\"\n  ]\n");
        assert_eq!(n.at(&["spec", "args"]).unwrap().items().len(), 2);
    }
}

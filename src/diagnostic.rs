//! Input hygiene: problems with the input itself (not findings about the
//! cluster). Errors make the exit code 2; the rest of the input is still
//! scanned. Rendered with miette (file, line and code frame) on stderr.

use crate::yaml::Pos;
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// The stable codes of input diagnostics (documented in RULES.md's "Input hygiene").
pub mod code {
    pub const PARSE_ERROR: &str = "manifest-parse-error";
    pub const NOT_KUBERNETES: &str = "manifest-not-kubernetes";
    pub const SCHEMA_INVALID: &str = "manifest-schema-invalid";
    pub const DUPLICATE_KEY: &str = "manifest-duplicate-key";
    pub const LIMIT_EXCEEDED: &str = "manifest-limit-exceeded";
    pub const UNREADABLE: &str = "input-unreadable";
}

#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub level: Level,
    pub message: String,
    pub file: Arc<str>,
    /// Absent when the problem is about the whole file (unreadable, not UTF-8).
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub pos: Option<LineCol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl From<Pos> for LineCol {
    fn from(p: Pos) -> Self {
        LineCol {
            line: p.line,
            column: p.col,
        }
    }
}

impl Diagnostic {
    pub fn error(
        code: &'static str,
        file: &Arc<str>,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            level: Level::Error,
            message: message.into(),
            file: file.clone(),
            pos: pos.map(Into::into),
            help: None,
        }
    }

    pub fn warning(
        code: &'static str,
        file: &Arc<str>,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, file, pos, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Byte offset of a 1-based line and (character) column in `text`.
pub fn byte_offset(text: &str, line: u32, column: u32) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u32 + 1 == line {
            let col = column.saturating_sub(1) as usize;
            return offset
                + l.char_indices()
                    .nth(col)
                    .map(|(b, _)| b)
                    .unwrap_or(l.trim_end_matches(['\n', '\r']).len());
        }
        offset += l.len();
    }
    text.len()
}

/// A few lines of a source file, for miette, keeping their line numbers.
struct Window {
    name: String,
    text: String,
    /// Lines of the file before the window.
    first_line: usize,
}

impl Window {
    const CONTEXT: u32 = 3;

    fn around(name: String, src: &SourceText, line: u32) -> Window {
        let first = line.saturating_sub(Self::CONTEXT + 1);
        let start = src.line_start(first);
        let end = src.line_start(first + Self::CONTEXT * 2 + 1).max(start);
        Window {
            name,
            text: src.text[start..end].to_string(),
            first_line: first as usize,
        }
    }
}

/// Source text shared by a scan and its diagnostics: `Arc<String>` rather
/// than `Arc<str>` because a file's text becomes shared without a copy (a
/// 50 MB file would be copied once more, on one core, for nothing).
pub type SharedText = Arc<String>;

/// A file's text and where every `STRIDE`th line starts, computed once: a
/// 50 MB file with a hundred diagnostics is not rescanned per diagnostic,
/// and its index is a few hundred KB, not one word per line.
pub struct SourceText {
    text: SharedText,
    checkpoints: Vec<usize>,
}

impl SourceText {
    const STRIDE: usize = 64;

    pub fn new(text: impl Into<SharedText>) -> SourceText {
        let text = text.into();
        let checkpoints = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .step_by(Self::STRIDE)
            .collect();
        SourceText { text, checkpoints }
    }

    /// Byte offset where the line after the first `n` lines starts (the
    /// end of the text past the last line).
    fn line_start(&self, n: u32) -> usize {
        let n = n as usize;
        let Some(&from) = self.checkpoints.get(n / Self::STRIDE) else {
            return self.text.len();
        };
        // Fewer than STRIDE lines to skip from the checkpoint.
        let skip = n % Self::STRIDE;
        if skip == 0 {
            return from;
        }
        memchr::memchr_iter(b'\n', &self.text.as_bytes()[from..])
            .nth(skip - 1)
            .map(|i| from + i + 1)
            .unwrap_or(self.text.len())
    }
}

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let c = self.text.as_bytes().read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            *c.span(),
            c.line() + self.first_line,
            c.column(),
            c.line_count(),
        )))
    }
}

/// Renders one diagnostic the way miette does: message, file:line:col and a
/// code frame with the offending spot labelled.
pub fn render(d: &Diagnostic, source: Option<&SourceText>, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, Severity};
    let severity = match d.level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
    };
    let mut diag = MietteDiagnostic::new(d.message.clone())
        .with_code(d.code)
        .with_severity(severity);
    if let Some(h) = &d.help {
        diag = diag.with_help(h.clone());
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    match (source, d.pos) {
        (Some(src), Some(p)) => {
            // Only the lines around the spot are handed to miette: it
            // scans its source from the start for every diagnostic, and a
            // 50 MB file with a few diagnostics must not take seconds.
            let window = Window::around(d.file.to_string(), src, p.line);
            let local_line = p.line.saturating_sub(window.first_line as u32);
            let at = byte_offset(&window.text, local_line, p.column);
            let len = window.text[at..]
                .chars()
                .next()
                .map(|c| c.len_utf8())
                .unwrap_or(0)
                .min(window.text.len() - at);
            diag = diag.with_label(LabeledSpan::at(at..at + len, "here"));
            let report = miette::Report::new(diag).with_source_code(window);
            let _ = handler.render_report(&mut out, report.as_ref());
        }
        _ => {
            let where_ = match d.pos {
                Some(p) => format!("{}:{}:{}", d.file, p.line, p.column),
                None => d.file.to_string(),
            };
            diag = MietteDiagnostic {
                message: format!("{where_}: {}", d.message),
                ..diag
            };
            let _ = handler.render_report(&mut out, &diag);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters() {
        let t = "a: 1\nbé: [x\n";
        assert_eq!(byte_offset(t, 2, 1), 5);
        assert_eq!(byte_offset(t, 2, 3), 8);
        assert_eq!(byte_offset(t, 9, 1), t.len());
    }

    #[test]
    fn renders_a_code_frame_with_file_and_line() {
        let file: Arc<str> = Arc::from("deploy.yaml");
        let d = Diagnostic::error(
            code::PARSE_ERROR,
            &file,
            Some(Pos { line: 2, col: 5 }),
            "did not find expected node content",
        );
        let s = render(
            &d,
            Some(&SourceText::new("a: 1\nb: [x\n".to_string())),
            false,
        );
        assert!(s.contains("deploy.yaml:2:5"), "{s}");
        assert!(s.contains("b: [x"), "{s}");
        assert!(s.contains("manifest-parse-error"), "{s}");
    }

    #[test]
    fn code_frame_of_a_far_line_keeps_its_line_number() {
        let file: Arc<str> = Arc::from("big.yaml");
        let mut text = String::new();
        for i in 1..=5000 {
            text.push_str(&format!("k{i}: v\n"));
        }
        let d = Diagnostic::error(
            code::PARSE_ERROR,
            &file,
            Some(Pos { line: 4000, col: 1 }),
            "x",
        );
        let s = render(&d, Some(&SourceText::new(text)), false);
        assert!(s.contains("big.yaml:4000:1"), "{s}");
        assert!(s.contains("k4000: v"), "{s}");
        assert!(s.contains("3999"), "{s}");
        assert!(!s.contains("k10: v"), "{s}");
    }

    #[test]
    fn sparse_line_index_finds_every_line_start() {
        // Lines of varied lengths, around and across the checkpoints, with
        // and without a final newline.
        for text in [
            (0..300)
                .map(|i| "x".repeat(i % 7) + "\n")
                .collect::<String>(),
            (0..130).map(|i| format!("line {i}\n")).collect::<String>() + "last",
            String::new(),
        ] {
            let src = SourceText::new(text.clone());
            let mut starts = vec![0];
            starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
            for n in 0..starts.len() + 3 {
                let want = starts.get(n).copied().unwrap_or(text.len());
                assert_eq!(src.line_start(n as u32), want, "line {n}");
            }
        }
    }
}

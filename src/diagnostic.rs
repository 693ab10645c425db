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

/// Renders one diagnostic the way miette does: message, file:line:col and a
/// code frame with the offending spot labelled.
pub fn render(d: &Diagnostic, source: Option<&str>, color: bool) -> String {
    use miette::{
        GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource,
        Severity,
    };
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
        (Some(text), Some(p)) => {
            let at = byte_offset(text, p.line, p.column);
            let len = text[at..]
                .chars()
                .next()
                .map(|c| c.len_utf8())
                .unwrap_or(0)
                .min(text.len() - at);
            diag = diag.with_label(LabeledSpan::at(at..at + len, "here"));
            let report = miette::Report::new(diag)
                .with_source_code(NamedSource::new(&d.file, text.to_string()));
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
        let s = render(&d, Some("a: 1\nb: [x\n"), false);
        assert!(s.contains("deploy.yaml:2:5"), "{s}");
        assert!(s.contains("b: [x"), "{s}");
        assert!(s.contains("manifest-parse-error"), "{s}");
    }
}

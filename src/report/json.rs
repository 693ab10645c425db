//! JSON: the `Report` itself, schema `kready.report/v1`.
//!
//! The output is exactly `serde_json::to_writer_pretty(report)` (a test
//! holds it to that), written field by field so the findings, which are
//! nearly all of a large report, are rendered on every core in batches
//! and streamed: the report is never held twice in memory, and the writing
//! is not the one serial step left at the end of a large scan.
use super::Report;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;

/// Findings rendered per parallel task, and per batch written out (the
/// extra memory is one batch of text, not the whole report).
const CHUNK: usize = 256;
const BATCH: usize = 16 * CHUNK;

/// Streams the report to `out`.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    // The fields in the order of `Report` (what the derive writes).
    let r = report;
    out.write_all(b"{")?;
    field(&mut out, "schema", &r.schema, true)?;
    field(&mut out, "tool", &r.tool, false)?;
    field(&mut out, "scan", &r.scan, false)?;
    field(&mut out, "summary", &r.summary, false)?;
    field(&mut out, "score", &r.score, false)?;
    field(&mut out, "coverage", &r.coverage, false)?;
    field(&mut out, "rules", &r.rules, false)?;
    out.write_all(b",\n  \"findings\": ")?;
    findings(&mut out, &r.findings)?;
    field(&mut out, "diagnostics", &r.diagnostics, false)?;
    field(&mut out, "skipped", &r.skipped, false)?;
    out.write_all(b"\n}\n")?;
    out.flush()
}

/// `"key": value` one level deep.
fn field(
    out: &mut dyn Write,
    key: &str,
    value: &impl Serialize,
    first: bool,
) -> std::io::Result<()> {
    out.write_all(if first { b"\n  \"" } else { b",\n  \"" })?;
    out.write_all(key.as_bytes())?;
    out.write_all(b"\": ")?;
    let text = serde_json::to_vec_pretty(value)?;
    indented(out, &text, b"\n  ")
}

/// The findings array, two levels deep, rendered in parallel.
fn findings<T: Serialize + Sync>(out: &mut dyn Write, all: &[T]) -> std::io::Result<()> {
    if all.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (b, batch) in all.chunks(BATCH).enumerate() {
        let texts: Vec<std::io::Result<Vec<u8>>> = batch
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut buf = Vec::with_capacity(chunk.len() * 512);
                for (i, f) in chunk.iter().enumerate() {
                    let first = b == 0 && c == 0 && i == 0;
                    buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    let text = serde_json::to_vec_pretty(f)?;
                    indented(&mut buf, &text, b"\n    ")?;
                }
                Ok(buf)
            })
            .collect();
        for t in texts {
            out.write_all(&t?)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// Writes pretty JSON rendered at depth 0 as if it were `indent` deeper:
/// every line break gets the indent (JSON strings never hold a raw one).
fn indented(out: &mut dyn Write, text: &[u8], indent: &[u8]) -> std::io::Result<()> {
    let mut from = 0;
    for nl in memchr::memchr_iter(b'\n', text) {
        out.write_all(&text[from..nl])?;
        out.write_all(indent)?;
        from = nl + 1;
    }
    out.write_all(&text[from..])
}

pub fn render(report: &Report) -> String {
    let mut buf = Vec::new();
    match write(report, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nested values, empty and non-empty arrays, strings with escaped
    /// line breaks: the indentation trick must give serde_json's own text.
    #[test]
    fn findings_render_as_serde_json_pretty_does() {
        let items: Vec<serde_json::Value> = (0..BATCH + CHUNK + 3)
            .map(|i| {
                serde_json::json!({
                    "i": i,
                    "message": "two\nlines \"quoted\"",
                    "nested": {"list": [1, {"a": []}], "empty": {}},
                })
            })
            .collect();
        for n in [0, 1, CHUNK, items.len()] {
            let mut got = b"{\n  \"findings\": ".to_vec();
            findings(&mut got, &items[..n]).unwrap();
            got.extend_from_slice(b"\n}");
            let want =
                serde_json::to_vec_pretty(&serde_json::json!({"findings": &items[..n]})).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }
}

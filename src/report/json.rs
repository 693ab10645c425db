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
    // Rendered into a buffer: the serializer writes token by token, and
    // `out` is behind a `dyn`.
    let mut text = Vec::new();
    pretty_at(&mut text, value, 1)?;
    out.write_all(&text)
}

/// Writes `value` as `serde_json::to_writer_pretty` would, as if it sat
/// `level` levels deep in the document.
pub(super) fn pretty_at<W: Write>(
    out: W,
    value: &impl Serialize,
    level: usize,
) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Pretty::at(level));
    value.serialize(&mut ser).map_err(std::io::Error::from)
}

/// The findings array, two levels deep, rendered in parallel.
fn findings<T: Serialize + Sync>(out: &mut dyn Write, all: &[T]) -> std::io::Result<()> {
    array(out, all, 2, |buf, f| pretty_at(buf, f, 2))
}

/// A large array, the value of a key `level - 1` levels deep (its items
/// `level` deep), as `serde_json::to_writer_pretty` would write it. `item`
/// renders one element at `level` (with `pretty_at`), after the line break
/// and indent written here. Elements are rendered on every core in batches,
/// each batch written before the next is made, so neither the values made
/// for the output nor their text are ever held whole.
pub(super) fn array<F: Sync>(
    out: &mut dyn Write,
    all: &[F],
    level: usize,
    item: impl Fn(&mut Vec<u8>, &F) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    if all.is_empty() {
        return out.write_all(b"[]");
    }
    let pad = "  ".repeat(level);
    out.write_all(b"[")?;
    for (b, batch) in all.chunks(BATCH).enumerate() {
        let texts: Vec<std::io::Result<Vec<u8>>> = batch
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut buf = Vec::with_capacity(chunk.len() * 512);
                for (i, f) in chunk.iter().enumerate() {
                    let first = b == 0 && c == 0 && i == 0;
                    buf.extend_from_slice(if first { b"\n" } else { b",\n" });
                    buf.extend_from_slice(pad.as_bytes());
                    item(&mut buf, f)?;
                }
                Ok(buf)
            })
            .collect();
        for t in texts {
            out.write_all(&t?)?;
        }
    }
    out.write_all(b"\n")?;
    out.write_all("  ".repeat(level.saturating_sub(1)).as_bytes())?;
    out.write_all(b"]")
}

/// serde_json's `PrettyFormatter` (two-space indent) starting `level`
/// levels deep: each finding is rendered straight into place, instead of
/// at depth 0 and then copied line by line to add the indent (that copy
/// was a third of the output phase).
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    fn at(level: usize) -> Pretty {
        Pretty {
            level,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, w: &mut W) -> std::io::Result<()> {
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
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

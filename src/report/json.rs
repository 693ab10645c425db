//! JSON: the `Report` itself, schema `kready.report/v1`.
use super::Report;
use std::io::Write;

/// Streams the report to `out`: a cluster scan's report can be tens of
/// megabytes, never held twice in memory.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.flush()
}

pub fn render(report: &Report) -> String {
    let mut buf = Vec::new();
    match write(report, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}

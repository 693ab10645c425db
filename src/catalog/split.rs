//! Splits a catalog file into what a scan reads (the head) and the long
//! texts (the docs). Std only: the build script uses it too (it compiles
//! the heads into the binary), through `#[path]`.

/// The top-level keys of a catalog file that hold its docs.
pub const DOCS_KEYS: [&str; 4] = ["rationale", "remediation", "references", "aliases"];

/// The two parts of a catalog file.
#[derive(Clone, Copy, PartialEq)]
pub enum Part {
    /// What a scan reads.
    Head,
    /// `DOCS_KEYS`.
    Docs,
}

/// One part of a catalog file: its entries, with the other part's lines
/// blank, so positions stay the file's. A catalog file is one flat
/// mapping whose keys start at column 0: an entry runs from its key's
/// line to the next such line (block scalars and nested mappings are
/// indented; items of a top-level sequence may sit at column 0 but start
/// with `-`). A file of another shape is an error, as the catalog test
/// would report any other defect.
pub fn part(name: &str, text: &str, want: Part) -> Result<String, String> {
    let mut out = String::with_capacity(if want == Part::Docs { text.len() } else { 512 });
    let mut current = Part::Head;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let shape_error = || {
            Err(format!(
                "rules/{name}:{}: a catalog file is one mapping with plain keys at column 0",
                i + 1
            ))
        };
        if line.starts_with("---") || line.starts_with("...") {
            return shape_error();
        }
        let first = line.as_bytes()[0];
        if !matches!(first, b' ' | b'\t' | b'\n' | b'\r' | b'#' | b'-') {
            let key = line.split_once(':').map_or("", |(k, _)| k);
            if key.is_empty()
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return shape_error();
            }
            current = if DOCS_KEYS.contains(&key) {
                Part::Docs
            } else {
                Part::Head
            };
        }
        if current == want {
            out.push_str(line);
        } else if line.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

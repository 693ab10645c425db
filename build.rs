//! Embeds the rule catalog (`rules/*.yaml`, one file per rule) and its data
//! files (`rules/data/*.yaml`: components, API deprecations...) in the
//! binary: one binary, no files to ship.
//!
//! The fields a scan reads (the head of each catalog file: ID, pillar,
//! severity, scope, title, PSS mapping) are also compiled here into JSON,
//! which starts faster than YAML: parsing them was most of a scan's
//! start-up, and a pre-commit run on a few files is mostly start-up. The
//! catalog test holds the compiled heads to the YAML.
use std::fmt::Write;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/catalog/split.rs"]
mod split;

/// The `.yaml` files of `dir`, sorted. A missing or empty folder stops the
/// build: a binary without its catalog would run no rule and pass
/// everything.
fn list(dir: &Path) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the rule catalog at {}: {e}", dir.display()));
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    assert!(
        !names.is_empty(),
        "no .yaml files in {}: the rule catalog is missing",
        dir.display()
    );
    names.sort();
    names
}

/// `static NAME: &[(file name, text)]`, or with `heads`, `(file name,
/// text, head as JSON)`.
fn emit(out: &mut String, name: &str, files: &[PathBuf], heads: bool) {
    let row = if heads {
        "(&str, &str, &str)"
    } else {
        "(&str, &str)"
    };
    writeln!(out, "pub static {name}: &[{row}] = &[").unwrap();
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let file = p.file_name().unwrap().to_string_lossy().to_string();
        let include = format!("include_str!({:?})", p.display().to_string());
        if heads {
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let head =
                split::part(&file, &text, split::Part::Head).unwrap_or_else(|e| panic!("{e}"));
            let json = head_json(&file, &head).unwrap_or_else(|e| panic!("{e}"));
            writeln!(out, "    ({file:?}, {include}, {json:?}),").unwrap();
        } else {
            writeln!(out, "    ({file:?}, {include}),").unwrap();
        }
    }
    out.push_str("];\n");
}

/// The head of a catalog file (one YAML document) as JSON. Scalars are
/// typed as kready's loader types them for its lenient reading: `true`,
/// `false` and the other YAML 1.1 booleans are booleans, null is null,
/// everything else is a string (the heads hold no numbers).
fn head_json(file: &str, head: &str) -> Result<String, String> {
    use libyaml_safer::{EventData, Parser, ScalarStyle};
    use serde_json::Value;
    let mut input = head.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    // Open collections, innermost last; a mapping holds its pending key.
    enum Open {
        Seq(Vec<Value>),
        Map(serde_json::Map<String, Value>, Option<String>),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root = None;
    loop {
        let event = parser.parse().map_err(|e| format!("rules/{file}: {e}"))?;
        let value = match event.data {
            EventData::StreamEnd => break,
            EventData::SequenceStart { .. } => {
                stack.push(Open::Seq(Vec::new()));
                continue;
            }
            EventData::MappingStart { .. } => {
                stack.push(Open::Map(serde_json::Map::new(), None));
                continue;
            }
            EventData::SequenceEnd | EventData::MappingEnd => match stack.pop() {
                Some(Open::Seq(items)) => Value::Array(items),
                Some(Open::Map(map, _)) => Value::Object(map),
                None => return Err(format!("rules/{file}: unbalanced collection")),
            },
            EventData::Scalar { value, style, .. } => {
                let plain = style == ScalarStyle::Plain;
                match value.as_str() {
                    "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y"
                    | "Y"
                        if plain =>
                    {
                        Value::Bool(true)
                    }
                    "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
                    | "n" | "N"
                        if plain =>
                    {
                        Value::Bool(false)
                    }
                    "" | "~" | "null" | "Null" | "NULL" if plain => Value::Null,
                    _ => Value::String(value),
                }
            }
            EventData::Alias { .. } => {
                return Err(format!("rules/{file}: aliases are not used in the catalog"))
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Open::Seq(items)) => items.push(value),
            Some(Open::Map(map, key)) => match key.take() {
                None => match value {
                    Value::String(k) => *key = Some(k),
                    other => {
                        return Err(format!("rules/{file}: a key that is not a string: {other}"))
                    }
                },
                Some(k) => {
                    map.insert(k, value);
                }
            },
        }
    }
    let root = root.ok_or_else(|| format!("rules/{file}: empty"))?;
    Ok(root.to_string())
}

fn main() {
    // Read when the script runs, not `env!` (fixed when the script was
    // compiled): checkouts sharing a CARGO_TARGET_DIR share this script's
    // binary, and `env!` would list the first checkout's rules (or none,
    // once that checkout is gone) for all of them.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let rules = Path::new(&manifest_dir).join("rules");
    println!("cargo:rerun-if-changed=src/catalog/split.rs");
    let mut out = String::new();
    emit(&mut out, "FILES", &list(&rules), true);
    emit(&mut out, "DATA", &list(&rules.join("data")), false);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog_files.rs");
    std::fs::write(dest, out).unwrap();
}

//! Embeds the rule catalog (`rules/*.yaml`, one file per rule) and its data
//! files (`rules/data/*.yaml`: components, API deprecations...) in the
//! binary: one binary, no files to ship.
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn list(dir: &Path) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn emit(out: &mut String, name: &str, files: &[PathBuf]) {
    writeln!(out, "pub static {name}: &[(&str, &str)] = &[").unwrap();
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let file = p.file_name().unwrap().to_string_lossy().to_string();
        writeln!(
            out,
            "    ({file:?}, include_str!({:?})),",
            p.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
}

fn main() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut out = String::new();
    emit(&mut out, "FILES", &list(&rules));
    emit(&mut out, "DATA", &list(&rules.join("data")));
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog_files.rs");
    std::fs::write(dest, out).unwrap();
}

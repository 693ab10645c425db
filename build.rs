//! Embeds the rule catalog (`rules/*.yaml`, one file per rule) and its data
//! files (`rules/data/*.yaml`: components, API deprecations...) in the
//! binary: one binary, no files to ship.
use std::fmt::Write;
use std::path::{Path, PathBuf};

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
    // Read when the script runs, not `env!` (fixed when the script was
    // compiled): checkouts sharing a CARGO_TARGET_DIR share this script's
    // binary, and `env!` would list the first checkout's rules (or none,
    // once that checkout is gone) for all of them.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let rules = Path::new(&manifest_dir).join("rules");
    let mut out = String::new();
    emit(&mut out, "FILES", &list(&rules));
    emit(&mut out, "DATA", &list(&rules.join("data")));
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog_files.rs");
    std::fs::write(dest, out).unwrap();
}

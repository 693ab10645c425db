//! Every input the fuzzers ever crashed on (`fuzz/regressions/<target>/`)
//! goes through the same target body (`fuzz/targets.rs`) as a normal test.
//! The fuzz targets themselves build with `cargo fuzz build` (see
//! fuzz/README.md).

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

fn run_all(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("regressions folder") {
        let path = e.expect("entry").path();
        let data = std::fs::read(&path).expect("readable");
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(
            r.is_ok(),
            "{} panics in the {target} target",
            path.display()
        );
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn loader_regressions() {
    run_all("loader", targets::loader);
}

#[test]
fn pipeline_regressions() {
    run_all("pipeline", targets::pipeline);
}

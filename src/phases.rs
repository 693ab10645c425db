//! `KREADY_PHASES=1` prints how long each phase of a scan took on stderr
//! (load, inventory, rules, report, output): where time goes on a large
//! input, without a profiler. Off by default; the report is unchanged.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("KREADY_PHASES").is_some_and(|v| v != "0"))
}

/// Runs `f`, and reports its wall time under `name` when enabled.
pub fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let started = Instant::now();
    let out = f();
    eprintln!(
        "kready: phase {name:<10} {:>8.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    out
}

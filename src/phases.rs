//! `KREADY_PHASES=1` prints how long each phase of a scan took on stderr
//! (load, inventory, rules, report, output) and the memory in use after
//! it: where time and memory go on a large input, without a profiler. Off by default; the report is unchanged.

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
        "kready: phase {name:<10} {:>8.1} ms   rss {} MB, peak {} MB",
        started.elapsed().as_secs_f64() * 1e3,
        status_mb("VmRSS:"),
        status_mb("VmHWM:"),
    );
    out
}

/// A memory figure of this process from /proc/self/status, in MB (`?`
/// where there is no /proc).
fn status_mb(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(field))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some((kb * 1024 / 1_000_000).to_string())
        })
        .unwrap_or_else(|| "?".into())
}

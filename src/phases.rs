//! `KREADY_PHASES=1` prints how long each phase of a scan took on stderr
//! (load, inventory, rules, suppress, report, messages, output), the CPU
//! time of all threads in it, and the memory in use after it: where time
//! and memory go on a large input, and how parallel each phase is,
//! without a profiler. Off by default; the report is unchanged.

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
    let cpu_before = cpu_ms();
    let out = f();
    let wall = started.elapsed().as_secs_f64() * 1e3;
    // CPU time of all threads: cpu / wall is how parallel the phase was.
    let cpu = match (cpu_before, cpu_ms()) {
        (Some(a), Some(b)) => format!("{:>5} ms", b.saturating_sub(a)),
        _ => "    ? ms".into(),
    };
    eprintln!(
        "kready: phase {name:<10} {wall:>8.1} ms   cpu {cpu}   rss {} MB, peak {} MB",
        status_mb("VmRSS:"),
        status_mb("VmHWM:"),
    );
    out
}

/// User + system CPU time of the whole process so far, in ms (from
/// /proc/self/stat, in clock ticks of 10 ms).
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces), from field 3.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10)
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

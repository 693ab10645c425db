#!/usr/bin/env python3
"""Times `kready scan` against the parse-only floor (and checkov when asked).

Run through bench/run.sh, which builds the binaries and generates the
inputs. Every figure is whole-process: wall time from start to exit and the
peak resident set size reported by the kernel for that process (wait4).
"""
import argparse
import shlex
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs `cmd`; returns (wall seconds, peak RSS bytes, exit code, CPU seconds)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return wall, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status), cpu


def input_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if f.lower().endswith((".yaml", ".yml", ".json")):
                total += os.path.getsize(os.path.join(root, f))
    return total


def measure_all(cmds, runs):
    """Runs every command `runs` times, interleaved: round k runs each
    command once, so a machine that slows down or speeds up during the
    benchmark (shared cores) weighs on every figure alike, and the ratios
    compare runs made side by side. One warm-up run each (page cache)."""
    for cmd in cmds.values():
        run(cmd)
    results = {key: [] for key in cmds}
    for _ in range(runs):
        for key, cmd in cmds.items():
            results[key].append(run(cmd))
    out = {}
    for key, rs in results.items():
        walls = [w for w, _, _, _ in rs]
        out[key] = {
            "median": statistics.median(walls),
            "min": min(walls),
            "max": max(walls),
            "cpu": statistics.median(c for _, _, _, c in rs),
            "rss": max(r for _, r, _, _ in rs),
            "codes": sorted({c for _, _, c, _ in rs}),
            "walls": walls,
        }
    return out


def documents(kready, path):
    # The report is parsed in a child process: loaded here, the parent's
    # memory would be inherited by the next measured processes (Linux
    # carries the peak RSS of the forked parent into the exec'd child).
    pipeline = (
        f"{shlex.quote(kready)} scan {shlex.quote(path)} -f json -o - --fail-on never 2>/dev/null"
        " | python3 -c 'import json,sys; s=json.load(sys.stdin)[\"summary\"];"
        " print(s[\"documents\"], s[\"objects\"])'"
    )
    out = subprocess.run(pipeline, shell=True, stdout=subprocess.PIPE, text=True, check=True)
    docs, objs = out.stdout.split()
    return int(docs), int(objs)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem}, {platform.system()} {platform.release()}; "
        f"{rustc}; load average at start {load[0]:.2f}"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kready", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--checkov", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    inputs = [
        ("corpus", a.corpus),
        ("tree-10k", os.path.join(a.data, "tree-10k")),
        ("tree-20k", os.path.join(a.data, "tree-20k")),
        ("file-25mb", os.path.join(a.data, "file-25mb.yaml")),
        ("file-50mb", os.path.join(a.data, "file-50mb.yaml")),
    ]
    lines = [
        "# kready benchmark",
        "",
        f"Machine: {machine()}.",
        f"Each figure: median of {a.runs} runs after one warm-up run (wall time of the whole process),"
        " runs interleaved (each round runs every command on every input once, so drift in the"
        " machine's speed weighs on all figures alike);",
        "peak RSS is the largest of the runs. Scan: `kready scan INPUT -f json -o /dev/null"
        " --fail-on never` (all rules, JSON report). Floor: `parse_only INPUT` (same file discovery"
        " and reading, libyaml-safer events only, same parallelism). Document floor:"
        " `parse_only --document` (the same, plus libyaml-safer's own node tree per document:"
        " what loading YAML with that library costs). Loader: `parse_only --tree`"
        " (kready's positioned trees and objects, schema check included, no rules).",
        "",
        "| input | bytes | documents | scan (s) | docs/s | floor (s) | scan / floor | document floor (s) | scan / document floor | loader (s) | peak RSS (MB) | RSS / input |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    cmds = {}
    for name, path in inputs:
        cmds[(name, "scan")] = [a.kready, "scan", path, "-f", "json", "-o", "/dev/null", "--fail-on", "never"]
        cmds[(name, "floor")] = [a.floor, path]
        cmds[(name, "document")] = [a.floor, "--document", path]
        cmds[(name, "loader")] = [a.floor, "--tree", path]
    measured = measure_all(cmds, a.runs)
    res = {}
    for name, path in inputs:
        size = input_bytes(path)
        docs, _objs = documents(a.kready, path)
        scan, floor, document, loader = (
            measured[(name, what)] for what in ("scan", "floor", "document", "loader")
        )
        # A floor that crashed measured nothing: no figure rather than a wrong one.
        for what, m in [("floor", floor), ("document floor", document), ("loader", loader)]:
            if m["codes"] != [0]:
                sys.exit(f"{what} on {name} exited with {m['codes']}: no figure")
        if not set(scan["codes"]) <= {0, 1, 2}:
            sys.exit(f"kready scan on {name} exited with {scan['codes']}")
        res[name] = dict(size=size, docs=docs, scan=scan, floor=floor, document=document, loader=loader)
        ratio = scan["median"] / floor["median"]
        dratio = scan["median"] / document["median"]
        lines.append(
            f"| {name} | {size:,} | {docs:,} | {scan['median']:.3f} | {docs / scan['median']:,.0f} | "
            f"{floor['median']:.3f} | {ratio:.2f} | {document['median']:.3f} | {dratio:.2f} | "
            f"{loader['median']:.3f} | "
            f"{scan['rss'] / 1e6:.0f} | {scan['rss'] / size:.2f} |"
        )
        print(lines[-1], flush=True)

    # The scan and its floor run back to back in each round: the spread of
    # their ratio over the rounds shows how much of a difference between
    # two benchmark runs is the machine (the target is judged on the
    # ratio of the medians above, as before).
    lines += ["", "Scan / floor per round (scan and floor run back to back): median, lowest-highest:", ""]
    for name, _ in inputs:
        r = [s / f for s, f in zip(res[name]["scan"]["walls"], res[name]["floor"]["walls"])]
        lines.append(f"- {name}: {statistics.median(r):.2f}, {min(r):.2f}-{max(r):.2f}")

    lines += ["", "Scaling (doubling the input):", ""]
    for small, big in [("tree-10k", "tree-20k"), ("file-25mb", "file-50mb")]:
        t = res[big]["scan"]["median"] / res[small]["scan"]["median"]
        c = res[big]["scan"]["cpu"] / res[small]["scan"]["cpu"]
        s = res[big]["size"] / res[small]["size"]
        d = res[big]["docs"] / res[small]["docs"]
        lines.append(
            f"- {small} → {big}: input ×{s:.2f} ({d:.2f}× the documents), scan time ×{t:.2f} "
            f"(CPU time of all threads ×{c:.2f}: the work done, less sensitive to a shared machine)"
        )

    checkov_line = "checkov: not run (pass --checkov with checkov installed)"
    if a.checkov and shutil.which("checkov"):
        wall, rss, code, _ = run(
            ["checkov", "-d", a.corpus, "--framework", "kubernetes", "-o", "json"]
        )
        kr = res["corpus"]["scan"]["median"]
        ver = subprocess.run(["checkov", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
        checkov_line = (
            f"checkov {ver} on the corpus (one run): {wall:.1f} s, peak RSS {rss / 1e6:.0f} MB "
            f"(exit {code}); kready is {wall / kr:.0f}× faster"
        )
        res["checkov"] = dict(wall=wall, rss=rss)
    lines += ["", checkov_line, ""]

    targets = []
    worst = max(r["scan"]["median"] / r["floor"]["median"] for r in res.values() if "scan" in r)
    targets.append(("full scan within 1.5× of the parse-only floor on every input", worst <= 1.5, f"worst {worst:.2f}×"))
    dworst = max(r["scan"]["median"] / r["document"]["median"] for r in res.values() if "scan" in r)
    targets.append(("(for reference) within 1.5× of the document floor on every input", dworst <= 1.5, f"worst {dworst:.2f}×"))
    if "checkov" in res:
        x = res["checkov"]["wall"] / res["corpus"]["scan"]["median"]
        targets.append(("≥100× faster than checkov on the corpus", x >= 100, f"{x:.0f}×"))
    t = res["tree-20k"]["scan"]["median"]
    targets.append(("20,000-document tree under 2 s", t < 2, f"{t:.2f} s"))
    t = res["file-50mb"]["scan"]["median"]
    targets.append(("50 MB file under 3 s", t < 3, f"{t:.2f} s"))
    m = max(res[n]["scan"]["rss"] / res[n]["size"] for n in ["tree-20k", "file-50mb"])
    targets.append(("peak memory below 4× the input on the large inputs", m < 4, f"worst {m:.2f}×"))
    lin = max(
        res[b]["scan"]["median"] / res[s]["scan"]["median"]
        for s, b in [("tree-10k", "tree-20k"), ("file-25mb", "file-50mb")]
    )
    targets.append(("doubling the input at most doubles the time", lin <= 2, f"worst ×{lin:.2f}"))
    lines += ["| target | met | measured |", "|---|---|---|"]
    for what, ok, val in targets:
        lines.append(f"| {what} | {'yes' if ok else 'NO'} | {val} |")
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())

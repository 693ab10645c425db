#!/usr/bin/env bash
# The kready benchmark, one command:
#
#   bench/run.sh [--checkov] [--runs N]
#
# Builds kready and the parse-only floor (examples/parse_only.rs) in
# release mode, generates the inputs from ../shared/corpus into bench/out/
# (a 10k- and a 20k-document tree, a 25 MB and a 50 MB file), times them
# and writes bench/out/results.md. With --checkov, also times checkov on
# the corpus once (`pip install checkov` first; it takes about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=5
CHECKOV=()
while [ $# -gt 0 ]; do
  case "$1" in
    --checkov) CHECKOV=(--checkov) ;;
    --runs) RUNS="$2"; shift ;;
    *) echo "usage: bench/run.sh [--checkov] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
CORPUS=${KREADY_CORPUS:-../shared/corpus}
[ -d "$CORPUS" ] || { echo "corpus not found at $CORPUS (set KREADY_CORPUS)" >&2; exit 2; }
OUT=bench/out
mkdir -p "$OUT/bin"
# Copy the binaries: other builds sharing the target folder cannot swap them mid-run.
cargo build --release --bin kready --example parse_only --message-format=json-render-diagnostics \
  | python3 -c 'import json,sys
for l in sys.stdin:
    j = json.loads(l)
    if j.get("executable"): print(j["executable"])' \
  | while read -r exe; do cp "$exe" "$OUT/bin/"; done
# The generated inputs are kept between runs, keyed by the generator's hash:
# a changed gen.py regenerates them.
KEY=$(sha256sum bench/gen.py | cut -c1-16)
if [ "$(cat "$OUT/data/.done" 2>/dev/null)" != "$KEY" ]; then
  rm -rf "$OUT/data"
  python3 bench/gen.py "$CORPUS" "$OUT/data"
  echo "$KEY" > "$OUT/data/.done"
fi
python3 bench/bench.py --kready "$OUT/bin/kready" --floor "$OUT/bin/parse_only" \
  --corpus "$CORPUS" --data "$OUT/data" --runs "$RUNS" "${CHECKOV[@]}" --out "$OUT/results.md"

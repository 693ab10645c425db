#!/usr/bin/env bash
# The shell logic of the kready GitHub Action (action.yml), kept here so it
# can be run and tested outside GitHub (tests/action.sh). Subcommands:
#
#   install  put kready on PATH: $KREADY_BIN if set, else a kready already
#            on PATH (of version INPUT_VERSION when given), else build it
#            with cargo: INPUT_VERSION empty builds the action's own source
#            (the ref the workflow pinned), else the git tag v$INPUT_VERSION
#   scan     run the scan, write SARIF and Markdown, append the Markdown to
#            $GITHUB_STEP_SUMMARY, set outputs; never fails on the gate, so
#            the SARIF upload that follows always happens
#   gate     fail the job if the scan's gate failed (exit 1) or input could
#            not be read (exit 2)
#
# Inputs come as INPUT_* environment variables (never interpolated into the
# script, so no injection through inputs).
set -euo pipefail

log() { echo "kready-action: $*" >&2; }

# Appends `name=value` to a GitHub file command ($GITHUB_OUTPUT, $GITHUB_ENV...).
github_file() {
  local file="$1" line="$2"
  if [ -n "$file" ]; then
    printf '%s\n' "$line" >> "$file"
  fi
}

kready_bin() {
  if [ -n "${KREADY_BIN:-}" ]; then
    echo "$KREADY_BIN"
  else
    command -v kready || true
  fi
}

cmd_install() {
  local want="${INPUT_VERSION:-}"
  want="${want#v}"
  if [ -n "${KREADY_BIN:-}" ]; then
    [ -x "$KREADY_BIN" ] || { log "KREADY_BIN=$KREADY_BIN is not executable"; exit 2; }
    log "using $KREADY_BIN ($("$KREADY_BIN" --version))"
    return
  fi
  local have
  have="$(command -v kready >/dev/null 2>&1 && kready --version | awk '{print $2}' || true)"
  if [ -n "$have" ] && { [ -z "$want" ] || [ "$have" = "$want" ]; }; then
    log "using kready $have from PATH"
    return
  fi
  command -v cargo >/dev/null 2>&1 || { log "cargo is needed to build kready (actions/setup-rust or dtolnay/rust-toolchain)"; exit 2; }
  local root="${RUNNER_TEMP:-/tmp}/kready"
  if [ -z "$want" ]; then
    local src="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
    log "building kready from $src"
    cargo install --locked --quiet --path "$src" --root "$root"
  else
    local repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_ACTION_REPOSITORY:-kready/kready}"
    log "building kready $want from $repo (tag v$want)"
    cargo install --locked --quiet --git "$repo" --tag "v$want" --root "$root" kready
  fi
  github_file "${GITHUB_PATH:-}" "$root/bin"
  github_file "${GITHUB_ENV:-}" "KREADY_BIN=$root/bin/kready"
  log "installed $("$root/bin/kready" --version)"
}

# The value of a top-level-ish JSON number field (jq if present).
json_field() {
  local file="$1" filter="$2"
  if command -v jq >/dev/null 2>&1; then
    jq -r "$filter // empty" "$file" 2>/dev/null || true
  elif command -v python3 >/dev/null 2>&1; then
    python3 - "$file" "$filter" <<'PY' 2>/dev/null || true
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].lstrip(".").split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)
PY
  fi
}

cmd_scan() {
  local bin
  bin="$(kready_bin)"
  [ -n "$bin" ] || { log "kready is not installed (run the install step first)"; exit 2; }
  local out_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
  local sarif="${INPUT_SARIF_FILE:-kready.sarif}"
  local markdown="$out_dir/kready-summary.md"
  local json="$out_dir/kready-report.json"
  local format="${INPUT_FORMAT:-table}"
  rm -f "$sarif" "$markdown" "$json"
  mkdir -p "$(dirname "$sarif")"

  local -a args=(scan)
  local -a paths=()
  # Paths: separated by spaces or newlines (a YAML block scalar works).
  read -r -d '' -a paths <<< "${INPUT_PATHS:-.}" || true
  [ "${#paths[@]}" -gt 0 ] || paths=(.)
  args+=("${paths[@]}")
  [ -z "${INPUT_CONFIG:-}" ] || args+=(--config "$INPUT_CONFIG")
  [ -z "${INPUT_FAIL_ON:-}" ] || args+=(--fail-on "$INPUT_FAIL_ON")
  [ -z "${INPUT_MIN_SCORE:-}" ] || args+=(--min-score "$INPUT_MIN_SCORE")
  # A limit in `args` wins over the input's default (kready refuses the flag twice).
  if [ -n "${INPUT_SARIF_MAX_RESULTS:-}" ] && ! [[ "${INPUT_ARGS:-}" =~ (^|[[:space:]])--sarif-max-results ]]; then
    args+=(--sarif-max-results "$INPUT_SARIF_MAX_RESULTS")
  fi
  if [ -n "${INPUT_ARGS:-}" ]; then
    local -a extra=()
    read -r -d '' -a extra <<< "$INPUT_ARGS" || true
    args+=("${extra[@]}")
  fi
  args+=(-f "$format" -o - -f sarif -o "$sarif" -f markdown -o "$markdown" -f json -o "$json")

  log "kready ${args[*]}"
  local code=0
  "$bin" "${args[@]}" || code=$?

  github_file "${GITHUB_OUTPUT:-}" "exit-code=$code"
  if [ -s "$sarif" ]; then
    github_file "${GITHUB_OUTPUT:-}" "sarif-file=$sarif"
  else
    log "no SARIF was written (exit $code)"
    github_file "${GITHUB_OUTPUT:-}" "sarif-file="
  fi
  if [ -s "$json" ]; then
    github_file "${GITHUB_OUTPUT:-}" "score=$(json_field "$json" .score.overall)"
    github_file "${GITHUB_OUTPUT:-}" "findings=$(json_field "$json" .summary.findings)"
  fi
  if [ -s "$markdown" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$markdown" >> "$GITHUB_STEP_SUMMARY"
  fi
  case "$code" in
    0) log "gate passed" ;;
    1) log "gate failed; the job fails after the SARIF upload" ;;
    *) log "kready exited $code; the job fails after the SARIF upload" ;;
  esac
  return 0
}

cmd_gate() {
  local code="${KREADY_EXIT_CODE:-}"
  case "$code" in
    0) log "gate passed" ;;
    1) echo "::error title=kready::the gate failed: findings at or above --fail-on, or the score below --min-score (see the job summary)"
       exit 1 ;;
    "") echo "::error title=kready::the scan did not run"
       exit 2 ;;
    *) echo "::error title=kready::kready exited $code: input that could not be read, or a usage or configuration error (see the scan step)"
       exit "$code" ;;
  esac
}

case "${1:-}" in
  install) cmd_install ;;
  scan) cmd_scan ;;
  gate) cmd_gate ;;
  *) echo "usage: $0 install|scan|gate" >&2; exit 2 ;;
esac

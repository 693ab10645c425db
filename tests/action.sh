#!/usr/bin/env bash
# Tests the GitHub Action locally: runs action.yml's steps the way the
# runner does for a composite action (inputs and step outputs substituted,
# `if:` conditions evaluated, GITHUB_* files in place), with the `uses:`
# step (upload-sarif) recorded instead of run. Checks that the SARIF is
# written and uploaded even when the gate fails, that the job summary gets
# the Markdown report, and that the job fails only at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

(cd "$ROOT" && cargo build --quiet --bin kready)
export KREADY_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kready"
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyyaml

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The runner: executes action.yml with the given inputs (NAME=VALUE args) in
# the current folder; prints a JSON record of what happened.
cat > "$WORK/runner.py" <<'PY'
import json, os, re, subprocess, sys, tempfile, yaml

root, record_path = sys.argv[1], sys.argv[2]
given = dict(a.split("=", 1) for a in sys.argv[3:])
action = yaml.safe_load(open(os.path.join(root, "action.yml")))
inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
unknown = set(given) - set(inputs)
assert not unknown, f"unknown inputs {unknown}"
inputs.update(given)

tmp = tempfile.mkdtemp()
files = {k: os.path.join(tmp, k.lower()) for k in
         ["GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"]}
for f in files.values():
    open(f, "w").close()
steps_out = {}
record = {"steps": [], "uploads": [], "failed": False}

def value(expr):
    expr = expr.strip()
    m = re.fullmatch(r"inputs\.([\w-]+)", expr)
    if m:
        return inputs[m.group(1)]
    m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
    if m:
        return steps_out.get(m.group(1), {}).get(m.group(2), "")
    if expr == "github.action_path":
        return root
    raise ValueError(f"unsupported expression {expr!r}")

def subst(s):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: value(m.group(1)), str(s))

def condition(cond):
    if cond is None:
        return not record["failed"]
    c = cond.strip()
    c = re.sub(r"^\$\{\{(.*)\}\}$", r"\1", c)
    has_always = "always()" in c
    c = c.replace("always()", "True").replace("success()", str(not record["failed"]))
    c = c.replace("failure()", str(record["failed"]))
    c = re.sub(r"(inputs\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+)",
               lambda m: repr(value(m.group(1))), c)
    c = c.replace("&&", " and ").replace("||", " or ").replace("!", " not ").replace(" not =", "!=")
    ok = bool(eval(c, {"__builtins__": {}}, {"True": True, "False": False}))
    return ok and (has_always or not record["failed"])

def read_kv(path):
    out = {}
    for line in open(path).read().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out

for step in action["runs"]["steps"]:
    name = step["name"]
    if not condition(step.get("if")):
        record["steps"].append({"name": name, "ran": False})
        continue
    if "uses" in step:
        w = {k: subst(v) for k, v in step.get("with", {}).items()}
        record["uploads"].append({"uses": step["uses"], "with": w})
        record["steps"].append({"name": name, "ran": True, "code": 0})
        continue
    env = dict(os.environ)
    env.update(files)
    env.update(read_kv(files["GITHUB_ENV"]))
    env["GITHUB_ACTION_PATH"] = root
    env["RUNNER_TEMP"] = tmp
    env["GITHUB_WORKSPACE"] = os.getcwd()
    env.update({k: subst(v) for k, v in step.get("env", {}).items()})
    open(files["GITHUB_OUTPUT"], "w").close()
    p = subprocess.run([step["shell"], "-c", subst(step["run"])], env=env,
                       capture_output=True, text=True)
    steps_out[step.get("id", name)] = read_kv(files["GITHUB_OUTPUT"])
    record["steps"].append({"name": name, "ran": True, "code": p.returncode,
                            "stdout": p.stdout, "stderr": p.stderr})
    if p.returncode != 0:
        record["failed"] = True
record["outputs"] = {k: subst(v["value"]) for k, v in action.get("outputs", {}).items()}
record["summary"] = open(files["GITHUB_STEP_SUMMARY"]).read()
json.dump(record, open(record_path, "w"), indent=1)
PY

# A sample repository (the workspace).
SAMPLE="$WORK/repo"
mkdir -p "$SAMPLE/k8s"
cp "$ROOT/fixtures/precommit/bad.yaml" "$SAMPLE/k8s/bad.yaml"
cp "$ROOT/fixtures/precommit/good.yaml" "$SAMPLE/k8s/good.yaml"
cp "$ROOT/fixtures/precommit/kready.yaml" "$SAMPLE/.kready.yaml"

run() { # run RECORD INPUT=VALUE...
  local rec="$1"
  shift
  (cd "$SAMPLE" && python3 "$WORK/runner.py" "$ROOT" "$rec" "$@")
}
# `contains TEXT` on stdin (no `grep -q`, whose early exit breaks pipes).
contains() { local all; all="$(cat)"; [[ "$all" == *"$1"* ]]; }
q() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
step_code() { q "$1" "[s.get('code','skipped') for s in r['steps'] if s['name']=='$2'][0]"; }

# 1. A bad manifest: the gate fails, but only after the SARIF upload.
R="$WORK/r1.json"
run "$R" paths=k8s/bad.yaml
[ "$(step_code "$R" Scan)" = 0 ] && ok "the scan step succeeds although the gate fails" || bad "scan step failed"
[ "$(q "$R" "r['outputs']['exit-code']")" = 1 ] && ok "exit-code output is 1" || bad "exit-code output"
SARIF="$(q "$R" "r['outputs']['sarif-file']")"
if [ "$SARIF" = kready.sarif ] && [ -s "$SAMPLE/kready.sarif" ] \
  && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['version']=='2.1.0' and d['runs'][0]['results']; assert all(not l['physicalLocation']['artifactLocation']['uri'].startswith('/') for x in d['runs'][0]['results'] for l in x['locations'])" "$SAMPLE/kready.sarif"; then
  ok "SARIF written, with results and relative URIs"
else
  bad "SARIF missing or wrong"
fi
[ "$(q "$R" "[(u['uses'].split('@')[0], u['with']['sarif_file'], u['with']['category']) for u in r['uploads']]")" = "[('github/codeql-action/upload-sarif', 'kready.sarif', 'kready')]" ] \
  && ok "SARIF uploaded with upload-sarif" || bad "no upload: $(q "$R" "r['uploads']")"
[ "$(q "$R" "[s['name'] for s in r['steps'] if s['ran']]")" = "['Install kready', 'Scan', 'Upload SARIF to code scanning', 'Gate']" ] \
  && ok "steps ran in order, upload before gate" || bad "step order: $(q "$R" "r['steps']")"
[ "$(step_code "$R" Gate)" = 1 ] && ok "the gate step fails the job" || bad "gate step code $(step_code "$R" Gate)"
q "$R" "r['summary']" | contains "privileged-container" && ok "the job summary has the Markdown report" || bad "summary: $(q "$R" "r['summary'][:300]")"
q "$R" "[s for s in r['steps'] if s['name']=='Scan'][0]['stdout']" | contains "privileged-container" \
  && ok "the table is printed in the log" || bad "no table in the log"
# The findings output counts the unsuppressed findings (those of the SARIF written).
OPEN="$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for x in d['runs'][0]['results'] if not x.get('suppressions')))" "$SAMPLE/kready.sarif")"
[ "$(q "$R" "r['outputs']['findings']")" = "$OPEN" ] && [ "$OPEN" -ge 1 ] && ok "findings output" || bad "findings output: $(q "$R" "r['outputs']") vs $OPEN open in the SARIF"
q "$R" "[s for s in r['steps'] if s['name']=='Gate'][0]['stdout']" | contains "::error" && ok "the gate prints an error annotation" || bad "no ::error"

# 2. A clean manifest passes; the score output is set.
R="$WORK/r2.json"
run "$R" paths=k8s/good.yaml
[ "$(step_code "$R" Gate)" = 0 ] && ok "a clean manifest passes the gate" || bad "clean manifest: gate $(step_code "$R" Gate)"
[ -n "$(q "$R" "r['outputs']['score']")" ] && ok "score output: $(q "$R" "r['outputs']['score']")" || bad "no score output"

# 3. Inputs reach kready: fail-on, min-score, format, config, args, several paths.
R="$WORK/r3.json"
run "$R" paths=k8s/bad.yaml fail-on=never
[ "$(step_code "$R" Gate)" = 0 ] && ok "fail-on: never" || bad "fail-on never: $(step_code "$R" Gate)"
R="$WORK/r4.json"
run "$R" "paths=k8s/good.yaml
k8s/bad.yaml" fail-on=never min-score=100 format=json sarif-file=out/k.sarif
[ "$(step_code "$R" Gate)" = 1 ] && ok "min-score 100 fails" || bad "min-score: $(step_code "$R" Gate)"
q "$R" "[s for s in r['steps'] if s['name']=='Scan'][0]['stdout']" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['summary']['files'] == 2" 2>/dev/null \
  && ok "format json in the log; newline-separated paths" || bad "format/paths"
[ -s "$SAMPLE/out/k.sarif" ] && ok "sarif-file in a new folder" || bad "sarif-file out/k.sarif not written"
printf 'failOn: never\n' > "$SAMPLE/other-config.yaml"
R="$WORK/r5.json"
run "$R" paths=k8s/bad.yaml config=other-config.yaml "args=--only privileged-container"
[ "$(step_code "$R" Gate)" = 0 ] && ok "config input" || bad "config input: $(step_code "$R" Gate)"

# 4. A broken configuration: exit 2, no SARIF, no upload, the job fails.
printf 'failOn: sometimes\n' > "$SAMPLE/broken.yaml"
R="$WORK/r6.json"
run "$R" paths=k8s/good.yaml config=broken.yaml
[ "$(q "$R" "r['outputs']['exit-code']")" = 2 ] && ok "broken config: exit-code 2" || bad "broken config exit-code"
[ "$(q "$R" "len(r['uploads'])")" = 0 ] && ok "nothing to upload" || bad "uploaded without SARIF"
[ "$(step_code "$R" Gate)" = 2 ] && ok "the job fails with 2" || bad "broken config gate $(step_code "$R" Gate)"
q "$R" "[s for s in r['steps'] if s['name']=='Scan'][0]['stderr']" | contains "broken.yaml:1:9" \
  && ok "the config error is in the log with its position" || bad "config error position"

# 5. upload-sarif: false skips the upload.
R="$WORK/r7.json"
run "$R" paths=k8s/bad.yaml upload-sarif=false
[ "$(q "$R" "len(r['uploads'])")" = 0 ] && ok "upload-sarif: false" || bad "uploaded anyway"

# 6. sarif-max-results: the SARIF holds the most severe findings and says
# how many it left out; the default (5,000) leaves this sample whole.
N="$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['runs'][0]; assert all(n['level'] != 'warning' for i in r.get('invocations', []) for n in i['toolExecutionNotifications']); print(len(r['results']))" "$SAMPLE/kready.sarif")"
R="$WORK/r8.json"
run "$R" paths=k8s/bad.yaml fail-on=never sarif-max-results=1
if python3 -c "
import json,sys
r = json.load(open(sys.argv[1]))['runs'][0]
assert len(r['results']) == 1 and r['results'][0]['level'] == 'error', r['results']
text = r['invocations'][0]['toolExecutionNotifications'][0]['message']['text']
assert text.startswith(sys.argv[2] + ' of '), text" "$SAMPLE/kready.sarif" "$((N - 1))"; then
  ok "sarif-max-results keeps the most severe and says how many were left out"
else
  bad "sarif-max-results"
fi
q "$R" "[s for s in r['steps'] if s['name']=='Scan'][0]['stderr']" | contains "holds 1 of $N findings" \
  && ok "the log says the SARIF was capped" || bad "no cap message in the log"
[ "$N" -gt 1 ] && [ "$N" -lt 5000 ] && ok "the default leaves $N results whole" || bad "default cap: $N results"
R="$WORK/r9.json"
run "$R" paths=k8s/bad.yaml fail-on=never "args=--sarif-max-results 2"
[ "$(step_code "$R" Scan)" = 0 ] && python3 -c "import json,sys; assert len(json.load(open(sys.argv[1]))['runs'][0]['results']) == 2" "$SAMPLE/kready.sarif" \
  && ok "a limit in args wins over the input" || bad "sarif-max-results in args: $(q "$R" "[s for s in r['steps'] if s['name']=='Scan'][0]['stderr']")"

# 7. install: builds from the action's source when no kready is given.
if [ -n "${KREADY_TEST_INSTALL:-}" ]; then
  out="$(env -u KREADY_BIN PATH="/usr/bin:/bin:$HOME/.cargo/bin" RUNNER_TEMP="$WORK" GITHUB_ACTION_PATH="$ROOT" \
    GITHUB_PATH="$WORK/path" GITHUB_ENV="$WORK/env" "$ROOT/scripts/action.sh" install 2>&1)" \
    && grep -q "KREADY_BIN=$WORK/kready/bin/kready" "$WORK/env" && ok "install builds kready" || { bad "install"; echo "$out"; }
fi

echo "action: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

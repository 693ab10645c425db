#!/usr/bin/env bash
# Tests .pre-commit-hooks.yaml with the real pre-commit (from PyPI) on a
# sample git repository:
#   1. `pre-commit try-repo <this repo> <hook>` on a staged bad manifest
#      fails and prints the finding; on a clean one it passes;
#   2. through installed hooks, `git commit` of a bad manifest is refused
#      with the finding printed, and a clean commit goes through.
#
# KREADY_HOOK=kready-system (default) uses the kready built by cargo here
# (put on PATH); KREADY_HOOK=kready makes pre-commit build kready itself
# with `cargo install` (language: rust; slow: a release build).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HOOK="${KREADY_HOOK:-kready-system}"
FIX="$ROOT/fixtures/precommit"
pass=0
fail=0

ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

if ! command -v pre-commit >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pre-commit
fi
pre-commit --version

if [ "$HOOK" = kready-system ]; then
  (cd "$ROOT" && cargo build --quiet --bin kready)
  export PATH="${CARGO_TARGET_DIR:-$ROOT/target}/debug:$PATH"
  command -v kready
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Keep pre-commit's cache (cloned hook repos, built environments) out of ~.
export PRE_COMMIT_HOME="${PRE_COMMIT_HOME:-$WORK/cache}"
export NO_COLOR=1

# try-repo needs the hook repository's files committed or staged; a work tree
# with uncommitted changes is copied by pre-commit as it is.
REPO="$WORK/sample"
mkdir -p "$REPO/deploy"
cd "$REPO"
git init --quiet
git config user.email test@example.com
git config user.name test
git config commit.gpgsign false
cp "$FIX/kready.yaml" .kready.yaml
git add .kready.yaml
git commit --quiet --no-verify -m "kready config"

# 1. try-repo
cp "$FIX/bad.yaml" deploy/api.yaml
git add deploy/api.yaml
if out="$(pre-commit try-repo "$ROOT" "$HOOK" --color never 2>&1)"; then
  bad "try-repo passed a bad manifest"
  echo "$out"
else
  echo "$out" | tail -n 30
  if echo "$out" | grep -q "privileged-container" && echo "$out" | grep -q "deploy/api.yaml"; then
    ok "try-repo refuses a bad manifest and prints the finding"
  else
    bad "try-repo failed without printing the finding"
  fi
fi
cp "$FIX/good.yaml" deploy/api.yaml
git add deploy/api.yaml
if out="$(pre-commit try-repo "$ROOT" "$HOOK" --color never 2>&1)"; then
  ok "try-repo passes a clean manifest"
else
  bad "try-repo refused a clean manifest"
  echo "$out"
fi

# 2. a real commit through installed hooks
REV="$(git -C "$ROOT" rev-parse HEAD)"
cat > .pre-commit-config.yaml <<EOF
repos:
  - repo: $ROOT
    rev: $REV
    hooks:
      - id: $HOOK
EOF
if ! git -C "$ROOT" diff --quiet HEAD -- .pre-commit-hooks.yaml 2>/dev/null; then
  echo "note: .pre-commit-hooks.yaml has uncommitted changes; the commit test uses $REV"
fi
pre-commit install --install-hooks >/dev/null
cp "$FIX/bad.yaml" deploy/api.yaml
git add .pre-commit-config.yaml deploy/api.yaml
if out="$(git commit -m "bad manifest" 2>&1)"; then
  bad "a commit with a bad manifest went through"
  echo "$out"
else
  if echo "$out" | grep -q "privileged-container"; then
    ok "git commit of a bad manifest is refused with the finding printed"
  else
    bad "commit refused without the finding"
    echo "$out"
  fi
fi
cp "$FIX/good.yaml" deploy/api.yaml
git add deploy/api.yaml
if out="$(git commit -m "clean manifest" 2>&1)"; then
  ok "a clean commit goes through"
else
  bad "a clean commit was refused"
  echo "$out"
fi
# Non-Kubernetes YAML alone (CI config, Helm values) passes.
mkdir -p .github/workflows
printf 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: [{run: "true"}]\n' > .github/workflows/ci.yaml
git add .github/workflows/ci.yaml
if out="$(git commit -m "workflow" 2>&1)"; then
  ok "a commit of non-Kubernetes YAML goes through"
else
  bad "non-Kubernetes YAML was refused"
  echo "$out"
fi

echo "precommit ($HOOK): $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Live-mode benchmark (not a timed test): starts its own test API server
# (../shared/tools/k8s-apiserver), creates about 10,000 objects, then times
#   1. listing what a scan lists, with kready's client and nothing else
#      (`kready scan --live --list-only`: discovery, access review, paginated
#      lists, conversion to objects), and
#   2. the whole `kready scan --live` (the same, plus inventory, rules, report),
# each run several times, with peak memory from /usr/bin/time -v. The scan
# should add less than 50% on top of listing.
#
# Usage: bench/live.sh [RUNS]          (default 3 runs of each)
# Env:   BENCH_KEEP=1       keep the cluster afterwards (prints how to stop it)
#        KREADY_K8S_TOOLS  folder of up.sh/down.sh (default ../shared/tools/k8s-apiserver)
#        BENCH_BARE=1       Pods without owners, so every one is judged on its own with
#                           its dozen findings (the worst case: 126,000 findings); by
#                           default Pods are owned by ReplicaSets owned by the
#                           Deployments (one ReplicaSet per Deployment), as controllers
#                           make them
#        BENCH_DEPLOYMENTS, BENCH_PODS, BENCH_SERVICES, BENCH_CONFIGMAPS (default 2000/6000/1000/1000)
#        KREADY             the kready binary (default: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${1:-3}
T=${KREADY_K8S_TOOLS:-$ROOT/../shared/tools/k8s-apiserver}
DEPLOYMENTS=${BENCH_DEPLOYMENTS:-2000}
PODS=${BENCH_PODS:-6000}
SERVICES=${BENCH_SERVICES:-1000}
CONFIGMAPS=${BENCH_CONFIGMAPS:-1000}
NAMESPACES=20
# Pods are owned through ReplicaSets unless BENCH_BARE=1.
BENCH_OWNED=${BENCH_OWNED-1}
[ -n "${BENCH_BARE:-}" ] && BENCH_OWNED=

if [ -z "${KREADY:-}" ]; then
  cargo build --release --quiet
  KREADY=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/kready
fi
[ -x "$KREADY" ] || { echo "no kready binary at $KREADY" >&2; exit 2; }

bash "$T/build.sh" >&2
source "$(bash "$T/up.sh" --print-env)"
trap 'bash "$T/down.sh" "$KREADY_K8S_RUN_DIR" >&2' EXIT
KUBECTL=${KUBECTL:-${KREADY_K8S_CACHE:-$HOME/.cache/kready-k8s}/bin/kubectl}
WORK=$(mktemp -d)
if [ -n "${BENCH_KEEP:-}" ]; then
  trap 'rm -rf "$WORK"; echo "cluster kept: source $KREADY_K8S_RUN_DIR/env.sh; stop it with bash $T/down.sh $KREADY_K8S_RUN_DIR" >&2' EXIT
else
  trap 'bash "$T/down.sh" "$KREADY_K8S_RUN_DIR" >&2; rm -rf "$WORK"' EXIT
fi

# --- populate -------------------------------------------------------------
echo "creating $DEPLOYMENTS Deployments${BENCH_OWNED:+ with their ReplicaSets}, $PODS Pods, $SERVICES Services, $CONFIGMAPS ConfigMaps in $NAMESPACES namespaces" >&2
gen() { # gen KIND COUNT CHUNK: writes $WORK/KIND-CHUNK.yaml files of 500 objects
  local kind=$1 count=$2 i ns f
  for ((i = 0; i < count; i++)); do
    ns=bench-$((i % NAMESPACES))
    f=$WORK/$kind-$((i / 500)).yaml
    case $kind in
      deploy) printf -- '---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%d, namespace: %s, labels: {app: app-%d, team: t%d}}
spec:
  replicas: %d
  selector: {matchLabels: {app: app-%d}}
  template:
    metadata: {labels: {app: app-%d, team: t%d}}
    spec:
      serviceAccountName: default
      containers:
      - name: app
        image: registry.example.com/team/app-%d:1.%d.0
        ports: [{containerPort: 8080, name: http}]
        env: [{name: MODE, value: production}, {name: PORT, value: "8080"}]
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5}
        livenessProbe: {httpGet: {path: /live, port: http}, periodSeconds: 10}
        securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
' "$i" "$ns" "$i" $((i % 7)) $((1 + i % 3)) "$i" "$i" $((i % 7)) "$i" $((i % 9)) >>"$f" ;;
      rs) printf -- '---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: app-%d-h%d
  namespace: %s
  labels: {app: app-%d}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: app-%d, uid: 00000000-0000-0000-0000-%012d, controller: true}]
spec:
  replicas: 3
  selector: {matchLabels: {app: app-%d}}
  template:
    metadata: {labels: {app: app-%d}}
    spec:
      containers: [{name: app, image: registry.example.com/team/app-%d:1.0.0}]
' "$i" "$i" "$ns" "$i" "$i" "$i" "$i" "$i" "$i" >>"$f" ;;
      pod) owner=""
        if [ -n "${BENCH_OWNED:-}" ]; then
          d=$((i % DEPLOYMENTS))
          owner="
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: app-$d-h$d, uid: 00000000-0000-0000-0001-$(printf %012d "$d"), controller: true}]"
          ns=bench-$((d % NAMESPACES))
        fi
        printf -- '---
apiVersion: v1
kind: Pod
metadata:
  name: pod-%d
  namespace: %s
  labels: {app: app-%d, pod-template-hash: h%d}%s
spec:
  nodeName: node-%d
  containers:
  - name: app
    image: registry.example.com/team/app-%d:1.%d.0
    ports: [{containerPort: 8080, name: http}]
    env: [{name: MODE, value: production}, {name: PORT, value: "8080"}]
    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
    readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5}
    securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
  - name: sidecar
    image: registry.example.com/infra/proxy:2.4.1
    resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}
' "$i" "$ns" $((i % DEPLOYMENTS)) $((i % 97)) "$owner" $((i % 50)) $((i % DEPLOYMENTS)) $((i % 9)) >>"$f" ;;
      svc) printf -- '---
apiVersion: v1
kind: Service
metadata: {name: svc-%d, namespace: %s}
spec:
  clusterIP: None
  selector: {app: app-%d}
  ports: [{name: http, port: 80, targetPort: http}]
' "$i" "$ns" "$i" >>"$f" ;;
      cm) printf -- '---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm-%d, namespace: %s}
data:
  settings.yaml: "log: info\\nfeature: %d\\n"
  LOG_LEVEL: info
' "$i" "$ns" "$i" >>"$f" ;;
    esac
  done
}
started=$(date +%s)
for ((n = 0; n < NAMESPACES; n++)); do printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: bench-%d}\n' "$n"; done |
  "$KUBECTL" create -f - >/dev/null
gen deploy "$DEPLOYMENTS"
[ -n "${BENCH_OWNED:-}" ] && gen rs "$DEPLOYMENTS"
gen pod "$PODS"
gen svc "$SERVICES"
gen cm "$CONFIGMAPS"
# Four creators in parallel: one POST per object. (Services are headless:
# the test server's service range has only 254 addresses.)
ls "$WORK"/*.yaml | xargs -P 4 -I{} "$KUBECTL" create -f {} -o name >/dev/null
echo "created in $(($(date +%s) - started)) s" >&2
total=$("$KUBECTL" get deployments,replicasets,pods,services,configmaps -A --no-headers | wc -l)
echo "objects in the cluster (deployments, pods, services, configmaps): $total" >&2

# --- measure ----------------------------------------------------------------
once() { # once LABEL ARGS...: one timed run, prints "LABEL wall_s rss_mb"
  local label=$1
  shift
  /usr/bin/time -v -o "$WORK/time" "$KREADY" "$@" >/dev/null 2>"$WORK/err" || true
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident set size' "$WORK/time" | awk '{print int($NF/1024)}')
  echo "$label: ${wall}s, peak RSS ${rss} MB $(grep -o 'listed [0-9]* objects.*' "$WORK/err" | head -1)" >&2
  echo "$label $wall $rss"
}
# Interleaved, so drift on a shared machine hits both alike.
for ((i = 0; i < RUNS; i++)); do
  once list scan --live -A --list-only
  once scan scan --live -A -f json -o /dev/null --fail-on never
done >"$WORK/results"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
lw=$(awk '$1=="list"{print $2}' "$WORK/results" | median)
sw=$(awk '$1=="scan"{print $2}' "$WORK/results" | median)
lr=$(awk '$1=="list"{print $3}' "$WORK/results" | median)
sr=$(awk '$1=="scan"{print $3}' "$WORK/results" | median)
kt0=$(date +%s.%N)
"$KUBECTL" get deployments,pods,services,configmaps -A -o json >/dev/null
kt=$(echo "$(date +%s.%N) - $kt0" | bc)
echo
"$KREADY" scan --live -A --list-only 2>&1 >/dev/null | grep -o 'listed [0-9]* objects of [0-9]* kinds' >"$WORK/listed" || true
"$KREADY" scan --live -A -f json -o "$WORK/report.json" --fail-on never 2>/dev/null || true
findings=$(grep -c '"ruleId"' "$WORK/report.json" || true)
echo
echo "cluster: $total objects; the scan $(cat "$WORK/listed") (the kinds the enabled rules read) and reports $findings findings"
echo "| what (median of $RUNS runs) | wall time | peak RSS |"
echo "|---|---|---|"
echo "| kready: list only (same kinds, same client) | ${lw} s | ${lr} MB |"
echo "| kready scan --live -A (list + rules + JSON report) | ${sw} s | ${sr} MB |"
echo "| scan overhead on top of listing | $(echo "scale=1; ($sw - $lw) * 100 / $lw" | bc) % | |"
echo "| for reference: kubectl 1.20 get deployments,pods,services,configmaps -A -o json | $(printf '%.2f' "$kt") s | |"

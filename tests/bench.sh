#!/usr/bin/env bash
# Benchmarks of the SCIM cluster (issue 6). NOT part of the normal test run (tests/run.sh runs only --smoke).
#
# Usage: tests/bench.sh [--smoke] [--topology]
#   (no flag)  full run: every scenario at full size; writes artifacts/bench/<date>/ (results.json, report.md,
#              logs) and puts the dated report at the top of the results in docs/benchmarks.md. The cluster is the
#              split topology (silos + gateway processes: CPU per role), BENCH_SILOS silos and BENCH_GATEWAYS gateways;
#              BENCH_TOPOLOGY=cohosted runs the same steps on BENCH_SILOS silos that serve HTTP themselves (the tool
#              drives silo 0's; the silo-restart step kills the last silo).
#   --smoke    tiny sizes, 1 s warm-up / 2 s measurements: checks that every scenario runs, produces numbers
#              and sees zero errors; no assertion on speed; writes only artifacts/bench/<date>-smoke/.
#   --topology only the comparison of the two topologies (issue 15): two clusters of BENCH_SILOS (default 1) silos,
#              split (plus one gateway) and co-hosted, each with its own Azurite, GET and filter alternated with the
#              bare-Kestrel ceiling; the report goes into docs/benchmarks.md too (with --smoke: tiny, not recorded).
#
# It installs wrk from Debian if missing, publishes the hosts and builds tests/Cluster.Benchmarks, starts
# deploy/local/run.sh on non-default ports with a temp DATA_DIR, runs the tool, and stops everything.
#
# Environment (all optional; defaults: full / smoke):
#   BENCH_SILOS (2) BENCH_GATEWAYS (1)          cluster shape
#   BENCH_TOPOLOGY (split)                      split or cohosted (not with --topology, which runs both)
#   BENCH_CONNECTIONS (32)                      wrk connections = Entra-cycle and raw-write concurrency
#   BENCH_WARMUP (5/1) BENCH_DURATION (15/2)    seconds per wrk warm-up / measurement
#   BENCH_WARMUP_MAX (90/1)                     longest warm-up: it goes on in BENCH_WARMUP steps until two in a row
#                                               find the cluster's processes spending at most 2 % of a core in the JIT
#   BENCH_ROUNDS (3/1)                          rounds of the read scenarios + baselines (alternated; best kept)
#   BENCH_SMALL_USERS (1000/20)                 users of the small tenant (GET, filter, PATCH, POST)
#   BENCH_LARGE_USERS (100000/50)               users of the large tenant (tenant-size flatness)
#   BENCH_ENTRA_TENANTS (200/3) BENCH_ENTRA_USERS (200/8)      Entra cycle simulation
#   BENCH_RESTART_TENANTS (20/2) BENCH_RESTART_USERS (50/10)   Entra cycle while a silo is killed + restarted
#   BENCH_TENANTS (100000/20)                   tenants created for the tenant-scale scenario
#   BENCH_ACTIVE_USERS (10000/100)              users activated for the memory-per-user scenario
#   BENCH_WEBHOOK_RATE (100/20) BENCH_LATENCY_TENANTS (10/2)   webhook latency: PATCH/s (open loop) over that many tenants
#   BENCH_REDELIVER_EVENTS (10000/200)          delivery throughput of one tenant: its last this many events again
#   BENCH_PORT_BASE (26000)                     ports used (all must be free): +80.. gateway(s), +180/+181 tool
#                                               baselines, +182 webhook receiver, +200..+202 Azurite, +300.. silos,
#                                               +400.. silo gateways, +500.. silo HTTP; --topology's co-hosted
#                                               cluster: +90.. its silos' HTTP, +210..+212 its Azurite, +600.. +700..
#   BENCH_KEEP_DATA (0)                         1 = keep the temp DATA_DIR (Azurite data, logs)
#   BENCH_ONLY                                  only the steps whose names contain one of these comma-separated words
#                                               (seeding always runs), e.g. "provisioning log,portal"; the partial report
#                                               is not put into docs/benchmarks.md
#   AZURITE_IN_MEMORY (0)                       1 = Azurite keeps its data in memory only (use it for the 100,000
#                                               sizes: its disk store rewrites its whole file every 5 s)
#   THREADPOOL_SPIN_LIMIT (0)                   thread-pool spinning of the cluster and of this tool's baselines
#                                               (see deploy/local/run.sh)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"
ROOT="$(repo_root)"
cd "$ROOT"

SMOKE=0 TOPOLOGY_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --topology) TOPOLOGY_ONLY=1 ;;
    -h | --help) sed -n '2,46p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: tests/bench.sh [--smoke] [--topology])" ;;
  esac
done

if ((SMOKE)); then d=(1 2 20 50 3 8 2 10 20 100 1 1); else d=(5 15 1000 100000 200 200 20 50 100000 10000 3 90); fi
WARMUP=${BENCH_WARMUP:-${d[0]}} DURATION=${BENCH_DURATION:-${d[1]}} WARMUP_MAX=${BENCH_WARMUP_MAX:-${d[11]}}
SMALL=${BENCH_SMALL_USERS:-${d[2]}} LARGE=${BENCH_LARGE_USERS:-${d[3]}}
ENTRA_T=${BENCH_ENTRA_TENANTS:-${d[4]}} ENTRA_U=${BENCH_ENTRA_USERS:-${d[5]}}
RESTART_T=${BENCH_RESTART_TENANTS:-${d[6]}} RESTART_U=${BENCH_RESTART_USERS:-${d[7]}}
TENANTS=${BENCH_TENANTS:-${d[8]}} ACTIVE=${BENCH_ACTIVE_USERS:-${d[9]}}
ROUNDS=${BENCH_ROUNDS:-${d[10]}}
if ((SMOKE)); then w=(20 2 200); else w=(100 10 10000); fi
WEBHOOK_RATE=${BENCH_WEBHOOK_RATE:-${w[0]}} LATENCY_TENANTS=${BENCH_LATENCY_TENANTS:-${w[1]}} REDELIVER=${BENCH_REDELIVER_EVENTS:-${w[2]}}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
P=${BENCH_PORT_BASE:-26000}
if ((TOPOLOGY_ONLY)); then export SILOS=${BENCH_SILOS:-1} GATEWAYS=1; else export SILOS=${BENCH_SILOS:-2} GATEWAYS=${BENCH_GATEWAYS:-1}; fi
export TOPOLOGY=${BENCH_TOPOLOGY:-split}
case "$TOPOLOGY" in
  split) HTTP_ROLE=gateway HTTP_COUNT=$GATEWAYS ;;
  cohosted) ((!TOPOLOGY_ONLY)) || die "--topology runs both topologies; unset BENCH_TOPOLOGY"; HTTP_ROLE=silo+gateway HTTP_COUNT=$SILOS ;;
  *) die "BENCH_TOPOLOGY must be split or cohosted, not '$TOPOLOGY'" ;;
esac
export GATEWAY_PORT=$((P + 80)) SILO_PORT=$((P + 300)) SILO_GATEWAY_PORT=$((P + 400)) SILO_HTTP_PORT=$((P + 500))
export AZURITE_BLOB_PORT=$((P + 200)) AZURITE_QUEUE_PORT=$((P + 201)) AZURITE_TABLE_PORT=$((P + 202))
for port in $((P + 180)) $((P + 181)) $((P + 182)) $(seq "$GATEWAY_PORT" $((GATEWAY_PORT + HTTP_COUNT - 1))); do
  ! port_in_use "$port" || die "port $port is in use (another run?); choose other ports with BENCH_PORT_BASE"
done

dotnet_defaults
require_cmd dotnet "Install the .NET SDK 10 (see global.json)."
ensure_wrk

STAMP="$(date -u +%Y-%m-%dT%H%M%SZ)"
OUT="$ROOT/artifacts/bench/$STAMP"
if ((TOPOLOGY_ONLY)); then OUT+="-topology"; fi
if ((SMOKE)); then OUT+="-smoke"; fi
BIN="$ROOT/artifacts/bench/bin"
mkdir -p "$OUT" "$BIN"

# Build: hosts published once into artifacts/bench/bin (incremental), reused by every run with SKIP_BUILD=1.
step() { # step NAME ARGS...
  local name=$1; shift
  log "dotnet $1 $name"
  dotnet "$@" >"$OUT/build-$name.log" 2>&1 || { grep -E 'error' "$OUT/build-$name.log" | sort -u | head -n 40 >&2; die "dotnet $1 $name failed (log: $OUT/build-$name.log)"; }
}
step silo publish src/Cluster.Silo/Cluster.Silo.csproj -c Release -o "$BIN/silo" --nologo
step gateway publish src/Cluster.Gateway.Host/Cluster.Gateway.Host.csproj -c Release -o "$BIN/gateway" --nologo
step tool build tests/Cluster.Benchmarks/Cluster.Benchmarks.csproj -c Release --nologo

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-bench.XXXXXX")"
export DATA_DIR SKIP_BUILD=1
ln -s "$BIN" "$DATA_DIR/bin"
ADMIN_API_KEY="$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"
export ADMIN_API_KEY
RUN_PID=""
# --topology: the co-hosted cluster, beside the split one.
COHOSTED_DATA_DIR="" COHOSTED_PID=""

# stop_run PID: SIGTERM to a run.sh, then wait for it (it stops its children in order).
stop_run() {
  local pid=$1
  [[ -n "$pid" ]] && pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 90))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.5; done
  pid_alive "$pid" && { log "run.sh still alive; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  wait "$pid" 2>/dev/null || true
}

# finish: a full (or --topology) run's report goes into docs/benchmarks.md, newest first, right after the marker line;
# a smoke or partial (BENCH_ONLY) run's does not. Exits with the tool's status.
SMOKE_OR_PARTIAL=$SMOKE
finish() {
  if ((!SMOKE_OR_PARTIAL)) && [[ -f "$OUT/report.md" ]]; then
    local tmp
    tmp="$(mktemp)"
    awk -v report="$OUT/report.md" '{ print } /^<!-- bench:results -->$/ { print ""; while ((getline l < report) > 0) print l }' docs/benchmarks.md >"$tmp"
    mv "$tmp" docs/benchmarks.md
    log "docs/benchmarks.md updated"
  fi
  log "results: $OUT (results.json, report.md)"
  exit "$bench_rc"
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$? extra=()
  trap - EXIT
  trap '' INT TERM HUP
  if [[ -f "$DATA_DIR/bench-extra-pids" ]]; then
    mapfile -t extra <"$DATA_DIR/bench-extra-pids"
    ((${#extra[@]})) && { log "stopping restarted silo(s): ${extra[*]}"; stop_pids 15 "${extra[@]}"; }
  fi
  stop_run "$COHOSTED_PID"
  stop_run "$RUN_PID"
  mkdir -p "$OUT/logs" && cp -r "$DATA_DIR/logs/." "$OUT/logs/" 2>/dev/null || true
  if [[ -n "$COHOSTED_DATA_DIR" ]]; then
    mkdir -p "$OUT/logs/cohosted" && cp -r "$COHOSTED_DATA_DIR/logs/." "$OUT/logs/cohosted/" 2>/dev/null || true
  fi
  if [[ "${BENCH_KEEP_DATA:-0}" != 1 ]]; then rm -rf "$DATA_DIR" "$COHOSTED_DATA_DIR"; else log "kept $DATA_DIR $COHOSTED_DATA_DIR"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

log "starting the cluster ($TOPOLOGY): $SILOS silo(s), $HTTP_COUNT HTTP endpoint(s) from http://127.0.0.1:$GATEWAY_PORT, DATA_DIR $DATA_DIR"
# One tenant at tens of thousands of requests per second is the point of the single-endpoint scenarios, so the
# per-tenant token bucket (a policy, default 200 req/s) is switched off; the limiter still runs in the pipeline. So is
# the per-client limit of the token endpoint (default 1/s), for its requests-per-second scenario, and the per-address
# slots of OAuth requests (every wrk connection comes from 127.0.0.1).
RateLimits__Default__PermitsPerSecond=0 RateLimits__OAuthClient__PermitsPerSecond=0 RateLimits__MaxConcurrentTokenRequestsPerAddress=0 deploy/local/run.sh >"$OUT/run.log" 2>&1 &
RUN_PID=$!
# Ready = run.sh (still alive) has registered every HTTP endpoint's process in $DATA_DIR/pids and each answers /health.
deadline=$((SECONDS + 300))
until [[ -f "$DATA_DIR/pids" ]] && (($(grep -c "^$HTTP_ROLE " "$DATA_DIR/pids" || true) == HTTP_COUNT)); do
  pid_alive "$RUN_PID" || { tail -n 40 "$OUT/run.log" >&2; die "deploy/local/run.sh exited (see $OUT/run.log)"; }
  ((SECONDS < deadline)) || die "the cluster did not start within 300 s (see $OUT/run.log)"
  sleep 1
done
for ((i = 0; i < HTTP_COUNT; i++)); do
  status=0
  wait_for_http "http://127.0.0.1:$((GATEWAY_PORT + i))/health" 240 "$RUN_PID" || status=$?
  ((status == 0)) || { tail -n 40 "$OUT/run.log" >&2; die "the cluster did not start (see $OUT/run.log)"; }
done
log "cluster ready"

if ((TOPOLOGY_ONLY)); then
  COHOSTED_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-bench-cohosted.XXXXXX")"
  ln -s "$BIN" "$COHOSTED_DATA_DIR/bin"
  COHOSTED_PORT=$((P + 90))
  log "starting the co-hosted cluster: $SILOS silo(s), http://127.0.0.1:$COHOSTED_PORT.., DATA_DIR $COHOSTED_DATA_DIR"
  env -u GATEWAYS TOPOLOGY=cohosted DATA_DIR="$COHOSTED_DATA_DIR" GATEWAY_PORT="$COHOSTED_PORT" SILO_PORT=$((P + 600)) SILO_GATEWAY_PORT=$((P + 700)) \
    AZURITE_BLOB_PORT=$((P + 210)) AZURITE_QUEUE_PORT=$((P + 211)) AZURITE_TABLE_PORT=$((P + 212)) \
    RateLimits__Default__PermitsPerSecond=0 RateLimits__OAuthClient__PermitsPerSecond=0 RateLimits__MaxConcurrentTokenRequestsPerAddress=0 deploy/local/run.sh >"$OUT/run-cohosted.log" 2>&1 &
  COHOSTED_PID=$!
  deadline=$((SECONDS + 300))
  until grep -q "SCIM cluster is up" "$OUT/run-cohosted.log" 2>/dev/null; do
    pid_alive "$COHOSTED_PID" || { tail -n 40 "$OUT/run-cohosted.log" >&2; die "the co-hosted run.sh exited (see $OUT/run-cohosted.log)"; }
    ((SECONDS < deadline)) || die "the co-hosted cluster did not start within 300 s (see $OUT/run-cohosted.log)"
    sleep 1
  done
  log "co-hosted cluster ready"
  bench_rc=0
  DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${THREADPOOL_SPIN_LIMIT:-0} \
    dotnet tests/Cluster.Benchmarks/bin/Release/net10.0/Cluster.Benchmarks.dll topology --gateway "http://127.0.0.1:$GATEWAY_PORT" \
    --data-dir "$DATA_DIR" --cohosted "http://127.0.0.1:$COHOSTED_PORT" --cohosted-data-dir "$COHOSTED_DATA_DIR" --admin-key "$ADMIN_API_KEY" \
    --storage "$(azurite_connection_string "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT")" \
    --out "$OUT" --lua-dir "$ROOT/tests/bench" --connections "$CONNECTIONS" --warmup "$WARMUP" --duration "$DURATION" --max-warmup "$WARMUP_MAX" \
    --small-users "$SMALL" --port-base $((P + 180)) --rounds "$ROUNDS" --topology-silos "$SILOS" 2>&1 | tee "$OUT/bench.log" || bench_rc=$?
  finish
fi

CONN="$(azurite_connection_string "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT")"
args=(--gateway "http://127.0.0.1:$GATEWAY_PORT" --admin-key "$ADMIN_API_KEY" --storage "$CONN" --data-dir "$DATA_DIR"
  --out "$OUT" --lua-dir "$ROOT/tests/bench" --connections "$CONNECTIONS" --warmup "$WARMUP" --duration "$DURATION" --max-warmup "$WARMUP_MAX"
  --small-users "$SMALL" --large-users "$LARGE" --entra-tenants "$ENTRA_T" --entra-users "$ENTRA_U"
  --restart-tenants "$RESTART_T" --restart-users "$RESTART_U" --tenants "$TENANTS" --active-users "$ACTIVE"
  --port-base $((P + 180)) --rounds "$ROUNDS"
  --webhook-rate "$WEBHOOK_RATE" --latency-tenants "$LATENCY_TENANTS" --redeliver-events "$REDELIVER")
((SMOKE)) && args+=(--smoke)
[[ -n "${BENCH_ONLY:-}" ]] && args+=(--only "$BENCH_ONLY")
bench_rc=0
# The baselines (bare Kestrel, bare grain call) run in the tool's process: same thread-pool setting as the cluster.
DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${THREADPOOL_SPIN_LIMIT:-0} \
  dotnet tests/Cluster.Benchmarks/bin/Release/net10.0/Cluster.Benchmarks.dll "${args[@]}" 2>&1 | tee "$OUT/bench.log" || bench_rc=$?

if [[ -n "${BENCH_ONLY:-}" ]]; then SMOKE_OR_PARTIAL=1; fi
finish

#!/usr/bin/env bash
# CPU profiles of POST /Users, GET /Users/{id} and PATCH /Users/{id} (issue 15), summarised: where a co-hosted silo's CPU goes.
# NOT part of tests/run.sh. docs/benchmarks.md ("CPU profiles") holds what the last run said.
#
# Usage: tests/profile.sh
#
# Starts deploy/local/run.sh (TOPOLOGY=cohosted, 1 silo that serves HTTP, temp DATA_DIR, non-default ports, the
# per-tenant rate limit off as in tests/bench.sh), creates a tenant, then for POST, GET and PATCH: wrk -t1 -c32 warm-up,
# and while wrk runs again, `dotnet-trace collect-linux --profile cpu-sampling` on the silo process (kernel perf
# samples of every thread, native frames and the JIT included). Each trace is summarised by
# `Cluster.Benchmarks cpu-profile` (tests/Cluster.Benchmarks/CpuProfile.cs) into artifacts/profile/<date>/{post,get,patch}.md,
# beside the .nettrace files and the wrk output. Installs wrk (Debian) and dotnet-trace (as a tool in
# artifacts/tools) if missing. collect-linux needs root (perf events).
#
# With PROFILE_LARGE_SECONDS=N (N > 0) it then profiles the userName filter of a large tenant against a small one in
# the same silo (docs/benchmarks.md, "The 100,000-user filter"): a tenant seeded by N seconds of wrk POSTs and one by
# 8 seconds, numbered userNames (tests/bench/post.lua with BENCH_NUMBERED=1), then filter-small-1, filter-large-1,
# filter-small-2, filter-large-2 (.md). For that run the silo keeps idle grains 60 minutes (no collection during the
# traces) and Azurite keeps no disk store (AZURITE_IN_MEMORY=1), as in the benchmark's full-size runs.
#
# Environment (all optional):
#   PROFILE_WARMUP (30)      seconds of wrk before each trace (the JIT's tiers settle)
#   PROFILE_SECONDS (20)     seconds traced (wrk runs 10 s longer, around the trace)
#   PROFILE_LARGE_SECONDS (0) seconds of POSTs that seed the large tenant (540 gave 72,310 users); 0: no filter profiles
#   PROFILE_PORT_BASE (29000) ports: +80 the silo's HTTP, +200..+202 Azurite, +300 silo, +400 silo gateway
#   CONFIGURATION (Release)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"
ROOT="$(repo_root)"
cd "$ROOT"
[[ $# -eq 0 ]] || { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0; }

WARMUP=${PROFILE_WARMUP:-30} SECONDS_TRACED=${PROFILE_SECONDS:-20} P=${PROFILE_PORT_BASE:-29000}
LARGE_SECONDS=${PROFILE_LARGE_SECONDS:-0}
LARGE_ENV=()
((LARGE_SECONDS > 0)) && LARGE_ENV=(AZURITE_IN_MEMORY=1 Cluster__CollectionAgeMinutes=60)
TRACE_VERSION=10.0.750501
((EUID == 0)) || die "dotnet-trace collect-linux needs root (perf events); run as root"
dotnet_defaults
require_cmd dotnet "Install the .NET SDK 10 (see global.json)."
ensure_wrk
TOOLS="$ROOT/artifacts/tools"
if [[ ! -x "$TOOLS/dotnet-trace" ]]; then
  log "installing dotnet-trace $TRACE_VERSION into $TOOLS"
  dotnet tool install --tool-path "$TOOLS" dotnet-trace --version "$TRACE_VERSION" >/dev/null || die "could not install dotnet-trace"
fi

OUT="$ROOT/artifacts/profile/$(date -u +%Y-%m-%dT%H%M%SZ)"
mkdir -p "$OUT"
log "building tests/Cluster.Benchmarks"
dotnet build tests/Cluster.Benchmarks/Cluster.Benchmarks.csproj -c "${CONFIGURATION:-Release}" --nologo >"$OUT/build-tool.log" 2>&1 ||
  die "the build failed (log: $OUT/build-tool.log)"

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-profile.XXXXXX")"
RUN_PID=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT
  if [[ -n "$RUN_PID" ]] && pid_alive "$RUN_PID"; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  mkdir -p "$OUT/logs" && cp -r "$DATA_DIR/logs/." "$OUT/logs/" 2>/dev/null || true
  rm -rf "$DATA_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

URL="http://127.0.0.1:$((P + 80))"
log "starting a co-hosted silo on $URL (DATA_DIR $DATA_DIR)"
env "${LARGE_ENV[@]}" TOPOLOGY=cohosted SILOS=1 DATA_DIR="$DATA_DIR" GATEWAY_PORT=$((P + 80)) SILO_PORT=$((P + 300)) SILO_GATEWAY_PORT=$((P + 400)) \
  AZURITE_BLOB_PORT=$((P + 200)) AZURITE_QUEUE_PORT=$((P + 201)) AZURITE_TABLE_PORT=$((P + 202)) \
  RateLimits__Default__PermitsPerSecond=0 deploy/local/run.sh >"$OUT/run.log" 2>&1 &
RUN_PID=$!
wait_for_http "$URL/health" 600 "$RUN_PID" || { tail -n 40 "$OUT/run.log" >&2; die "the silo did not start (see $OUT/run.log)"; }
SILO_PID="$(awk '$1 == "silo+gateway" { print $2 }' "$DATA_DIR/pids")"
[[ -n "$SILO_PID" ]] || die "no silo+gateway line in $DATA_DIR/pids"

# use_tenant NAME: creates a tenant and points the wrk scripts at it (BENCH_PREFIX, BENCH_TOKEN).
use_tenant() {
  local tenant
  tenant="$(curl -fsS -X POST "$URL/admin/tenants" -H "Authorization: Bearer $(cat "$DATA_DIR/admin-key")" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$1\"}")" || die "could not create a tenant"
  BENCH_PREFIX="/scim/v2/tenants/$(sed -E 's/.*"tenantId":"([^"]+)".*/\1/' <<<"$tenant")/Users"
  BENCH_TOKEN="$(sed -E 's/.*"secret":"([^"]+)".*/\1/' <<<"$tenant")"
  export BENCH_PREFIX BENCH_TOKEN
}
export BENCH_LUA_DIR="$ROOT/tests/bench"
use_tenant Profile

# profile NAME SCRIPT: warm-up, then a trace while wrk runs; the summary goes to $OUT/NAME.md.
profile() {
  local name=$1 script=$2
  log "$name: wrk warm-up ${WARMUP}s"
  BENCH_RUN="warm-$name-$$" wrk -t1 -c32 -d"${WARMUP}s" -s "tests/bench/$script" "$URL" >"$OUT/$name-warmup.txt"
  log "$name: tracing silo $SILO_PID for ${SECONDS_TRACED}s under wrk"
  BENCH_RUN="trace-$name-$$" wrk -t1 -c32 -d"$((SECONDS_TRACED + 10))s" -s "tests/bench/$script" "$URL" >"$OUT/$name-wrk.txt" &
  local wrk_pid=$!
  sleep 5
  "$TOOLS/dotnet-trace" collect-linux -p "$SILO_PID" --profile cpu-sampling --duration "00:00:00:$SECONDS_TRACED" \
    -o "$OUT/$name.nettrace" >"$OUT/$name-trace.log" 2>&1 || die "dotnet-trace failed (see $OUT/$name-trace.log)"
  wait "$wrk_pid"
  grep -q '"non2xx3xx":0,\|"non2xx3xx":0}' "$OUT/$name-wrk.txt" || die "$name: wrk saw errors (see $OUT/$name-wrk.txt)"
  {
    echo "$name under wrk -c32: $(grep -h 'Requests/sec' "$OUT/$name-wrk.txt" | tr -s ' ') (while traced)"
    echo
    dotnet tests/Cluster.Benchmarks/bin/Release/net10.0/Cluster.Benchmarks.dll cpu-profile "$OUT/$name.nettrace" "$SILO_PID"
  } >"$OUT/$name.md"
  log "$name: $OUT/$name.md"
}

profile post post.lua
# The users POST created are what GET reads: their ids, a page of them.
curl -fsS -H "Authorization: Bearer $BENCH_TOKEN" "$URL$BENCH_PREFIX?count=500&attributes=userName" |
  grep -oE '"id":"[^"]+"' | sed -E 's/"id":"([^"]+)"/\1/' >"$OUT/ids.txt"
[[ -s "$OUT/ids.txt" ]] || die "no user ids to GET"
BENCH_LINES="$OUT/ids.txt" profile get get.lua
BENCH_LINES="$OUT/ids.txt" profile patch patch.lua

if ((LARGE_SECONDS > 0)); then
  # seed NAME SECONDS: a tenant of numbered users (NAME-1@bench.example.com ...); its userNames go to $OUT/NAME-names.txt
  # (all but the last 50 requests', which may still have been in flight when wrk stopped), its prefix and token to
  # PREFIX[NAME] and TOKEN[NAME].
  declare -A PREFIX TOKEN
  seed() {
    local name=$1 seconds=$2 created
    use_tenant "$name"
    log "seeding tenant $name: ${seconds}s of POSTs"
    BENCH_RUN="$name" BENCH_NUMBERED=1 wrk -t1 -c32 -d"${seconds}s" -s tests/bench/post.lua "$URL" >"$OUT/seed-$name.txt"
    grep -q '"non2xx3xx":0[,}]' "$OUT/seed-$name.txt" || die "seeding $name: wrk saw errors (see $OUT/seed-$name.txt)"
    created="$(grep -oE '"requests":[0-9]+' "$OUT/seed-$name.txt" | cut -d: -f2)"
    seq 1 $((created - 50)) | sed "s/^/$name-/; s/\$/@bench.example.com/" >"$OUT/$name-names.txt"
    log "tenant $name: $created users"
    PREFIX[$name]=$BENCH_PREFIX TOKEN[$name]=$BENCH_TOKEN
  }
  seed small 8
  seed large "$LARGE_SECONDS"
  for round in 1 2; do
    for name in small large; do
      BENCH_PREFIX="${PREFIX[$name]}" BENCH_TOKEN="${TOKEN[$name]}" BENCH_LINES="$OUT/$name-names.txt" profile "filter-$name-$round" filter.lua
    done
  done
fi
log "done: $OUT (post.md, get.md, patch.md$( ((LARGE_SECONDS > 0)) && echo ", filter-{small,large}-{1,2}.md"))"

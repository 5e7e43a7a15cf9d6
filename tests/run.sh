#!/usr/bin/env bash
# Runs EVERY test of the solution (all test projects in Cluster.sln, Release) against a private,
# throw-away Azurite, then prints the totals as one line: "N passed, M failed[, K skipped]".
#
# Usage: tests/run.sh [--filter EXPRESSION]
#   --filter X   passed to `dotnet test --filter X` (e.g. --filter "FullyQualifiedName~Scim").
#
# Environment (all optional):
#   TEST_AZURITE_BLOB_PORT / TEST_AZURITE_QUEUE_PORT / TEST_AZURITE_TABLE_PORT
#                  ports of the private Azurite (default 10100 / 10101 / 10102; must be free).
#   TEST_RESULTS_DIR  keep the .trx files there (default: a temp dir, deleted on exit).
#   SKIP_BENCH_SMOKE  1 = do not run `tests/bench.sh --smoke` after the tests.
#   FUZZ_SECONDS   total time of the fuzzing harness (tests/Cluster.Fuzz.Tests), shared between its surfaces
#                  (default 45, so the project takes about a minute). A failure prints the command that replays it.
#
# Exported to the tests:
#   SCIM_TEST_STORAGE_CONNECTION_STRING  explicit connection string of the private Azurite.
#
# Then, unless --filter is given, runs tests/chaos.sh (CHAOS=0 skips it) and `tests/bench.sh --smoke` (SKIP_BENCH_SMOKE=1
# skips it), each counted as one test in the totals; the totals line is printed last.
#
# Exit status: non-zero if `dotnet test` failed, if any test failed (the chaos test included), or if no test ran at all.
# Each test run has a hang guard (--blame-hang-timeout 5m).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"

ROOT="$(repo_root)"
cd "$ROOT"

filter=""
while (($#)); do
  case "$1" in
    --filter)
      (($# >= 2)) || die "--filter needs a value"
      filter=$2
      shift 2
      ;;
    --filter=*)
      filter=${1#--filter=}
      shift
      ;;
    -h | --help)
      sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      die "unknown argument '$1' (usage: tests/run.sh [--filter EXPRESSION])"
      ;;
  esac
done

BLOB_PORT=${TEST_AZURITE_BLOB_PORT:-10100}
QUEUE_PORT=${TEST_AZURITE_QUEUE_PORT:-10101}
TABLE_PORT=${TEST_AZURITE_TABLE_PORT:-10102}

require_cmd dotnet "Install the .NET SDK 10 (see global.json)."
require_cmd node "Install Node.js 20+ (needed for Azurite, the Azure Storage emulator)."
require_cmd curl ""

dotnet_defaults

TMP_DIR=""
AZURITE_PID=""
CHILD_PID=""
CHILD_NAME=""
CHILD_GRACE=10
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP PIPE # cleanup is bounded (a few minutes at worst); finish it, terminal or pipe gone or not
  if [[ -n "$CHILD_PID" ]] && group_alive "$CHILD_PID"; then
    log "stopping $CHILD_NAME"
    stop_group "$CHILD_PID" "$CHILD_GRACE"
  fi
  # Azurite last: whatever still uses it must be gone first.
  if [[ -n "$AZURITE_PID" ]]; then
    stop_pid "$AZURITE_PID" 10
  fi
  if [[ -n "$TMP_DIR" && -d "$TMP_DIR" ]]; then
    rm -rf "$TMP_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM
trap 'log "hangup"; exit 129' HUP

# run_step NAME GRACE COMMAND...: runs COMMAND in its own process group (setsid) in the background and waits for it, so
# that a signal interrupts our `wait` at once and cleanup stops the whole step, allowing it GRACE seconds after SIGTERM
# before SIGKILL (in the foreground, bash would only react after the command finished on its own). What the command
# leaves running when it exits (a test host's child process: a silo a test started, Chromium) is stopped too. Returns
# the command's exit status.
run_step() {
  CHILD_NAME=$1 CHILD_GRACE=$2
  shift 2
  local rc=0
  # shellcheck disable=SC2046 # $(_detach_cmd) is empty or "setsid"
  $(_detach_cmd) "$@" &
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  if group_alive "$CHILD_PID"; then
    log "stopping what $CHILD_NAME left running"
    stop_group "$CHILD_PID" 10
  fi
  CHILD_PID=""
  return "$rc"
}

ensure_azurite
ensure_chromium
ensure_promtool

for port in "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT"; do
  if port_in_use "$port"; then
    die "port $port is already in use; pick free ports with TEST_AZURITE_BLOB_PORT/TEST_AZURITE_QUEUE_PORT/TEST_AZURITE_TABLE_PORT"
  fi
done

TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/scim-tests.XXXXXX")"
RESULTS_DIR=${TEST_RESULTS_DIR:-$TMP_DIR/results}
mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd -P)"
# Only count the .trx files of this run (TEST_RESULTS_DIR may hold older ones).
TRX_PREFIX="r$(date +%Y%m%d%H%M%S)$$"

start_azurite "$TMP_DIR/azurite" "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT" >/dev/null
for port in "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT"; do
  if ! wait_for_port "$port" 60 "$AZURITE_PID"; then
    tail -n 40 "$TMP_DIR/azurite/azurite.log" >&2 || true
    die "Azurite did not start listening on 127.0.0.1:$port"
  fi
done
log "Azurite (pid $AZURITE_PID) listening on 127.0.0.1:$BLOB_PORT/$QUEUE_PORT/$TABLE_PORT"

SCIM_TEST_STORAGE_CONNECTION_STRING="$(azurite_connection_string "$BLOB_PORT" "$QUEUE_PORT" "$TABLE_PORT")"
export SCIM_TEST_STORAGE_CONNECTION_STRING

test_args=(test "$ROOT/Cluster.sln" -c Release
  --logger "trx;LogFilePrefix=$TRX_PREFIX"
  --results-directory "$RESULTS_DIR"
  --blame-hang-timeout 5m --blame-hang-dump-type none)
if [[ -n "$filter" ]]; then
  test_args+=(--filter "$filter")
fi

log "dotnet ${test_args[*]}"
test_rc=0
run_step "the test run (dotnet test, MSBuild and test hosts)" 10 dotnet "${test_args[@]}" || test_rc=$?

# Sum the <Counters .../> of every .trx of this run (one per test project and target framework).
passed=0 failed=0 skipped=0 total=0 files=0
attr() { # attr NAME COUNTERS_ELEMENT -> value or 0
  local v
  v="$(printf '%s\n' "$2" | sed -n "s/.*[[:space:]]$1=\"\([0-9]*\)\".*/\1/p")"
  echo "${v:-0}"
}
while IFS= read -r -d '' trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)"
  [[ -n "$counters" ]] || { log "WARNING: no <Counters> in $trx"; continue; }
  files=$((files + 1))
  total=$((total + $(attr total "$counters")))
  passed=$((passed + $(attr passed "$counters")))
  failed=$((failed + $(attr failed "$counters") + $(attr error "$counters") + $(attr timeout "$counters") + $(attr aborted "$counters")))
  # xunit's skipped tests are "NotExecuted" results but the notExecuted counter stays 0: use total - executed.
  not_run=$(($(attr total "$counters") - $(attr executed "$counters")))
  ((not_run > 0)) && skipped=$((skipped + not_run))
done < <(find "$RESULTS_DIR" -maxdepth 1 -name "${TRX_PREFIX}*.trx" -print0)

# The process-level chaos test (tests/chaos.sh) on the Release build just made; its failure fails the run.
# Skipped with --filter (a partial run) or CHAOS=0.
chaos_status=skipped
if [[ -z "$filter" && "${CHAOS:-1}" != 0 && "$test_rc" == 0 ]]; then
  log "tests/chaos.sh (3 silos$([[ "${CHAOS_TOPOLOGY:-cohosted}" == split ]] && echo ', 2 gateways'), ${CHAOS_TOPOLOGY:-cohosted}; SIGTERM and kill -9 under load)"
  # chaos.sh and bench.sh stop their clusters on SIGTERM, one bounded stop after another (run.sh's ordered stop alone may
  # take 2 × STOP_GRACE + 10 s): they get 240 s before SIGKILL would orphan what they started in groups of their own.
  if run_step tests/chaos.sh 240 env CHAOS_SKIP_BUILD=1 "$ROOT/tests/chaos.sh"; then
    chaos_status=passed
    passed=$((passed + 1))
  else
    chaos_status=failed
    failed=$((failed + 1))
  fi
fi

# Benchmark smoke run (tiny sizes, no speed assertions: the tool works, not how fast), counted as one test.
# Only after everything above passed; skipped with --filter or SKIP_BENCH_SMOKE=1.
bench_status=skipped
if [[ -z "$filter" && "${SKIP_BENCH_SMOKE:-0}" != 1 && "$test_rc" == 0 ]] && ((failed == 0)); then
  if run_step "tests/bench.sh --smoke" 240 "$ROOT/tests/bench.sh" --smoke; then
    bench_status=passed
    passed=$((passed + 1))
  else
    bench_status=failed
    failed=$((failed + 1))
  fi
fi

status=0
if ((test_rc != 0)); then
  log "FAIL: dotnet test exited with status $test_rc"
  status=1
fi
if ((failed > 0)); then
  log "FAIL: $failed test(s) failed"
  status=1
fi
if ((passed + failed == 0)); then
  log "FAIL: no test ran ($files result file(s), $total test(s) discovered)"
  status=1
fi

# The totals are the last line printed.
echo
echo "chaos test: $chaos_status; benchmark smoke: $bench_status"
summary="$passed passed, $failed failed"
if ((skipped > 0)); then summary+=", $skipped skipped"; fi
echo "$summary"
exit "$status"

#!/usr/bin/env bash
# Runs the SCIM provisioning cluster locally, everything bound to 127.0.0.1, in one of two topologies
# (Cluster:Topology; docs/architecture.md, "Topologies"):
#   cohosted (default): Azurite (Azure Storage emulator: clustering + grain storage) -> SILOS Orleans silos
#                       that also serve SCIM, the admin API, OAuth and the portal over HTTP;
#   split:              Azurite -> SILOS Orleans silos -> GATEWAYS HTTP gateways (Orleans clients).
# Stays in the foreground; Ctrl-C (or SIGTERM to this script) stops gateways, then silos, then Azurite,
# and exits 0.
#
# Usage: deploy/local/run.sh
#
# Environment (all optional):
#   TOPOLOGY            cohosted (default: measured faster on one machine, docs/benchmarks.md) or split
#   SILOS               number of silos (default 2)
#   GATEWAYS            split: number of HTTP gateways (default 1); cohosted: ignored (every silo serves HTTP)
#   GATEWAY_PORT        HTTP port of the first SCIM endpoint (default 8080): split, gateway i listens on
#                       GATEWAY_PORT+i; cohosted, silo i serves HTTP (SCIM and its /health, /metrics) on GATEWAY_PORT+i
#   SILO_PORT           Orleans silo-to-silo port of silo 0 (default 11111); silo i uses SILO_PORT+i
#   SILO_GATEWAY_PORT   Orleans client gateway port of silo 0 (default 30000); silo i uses +i
#   SILO_HTTP_PORT      split: HTTP port (health, metrics) of silo 0 (default 7100); silo i uses +i
#   AZURITE_BLOB_PORT / AZURITE_QUEUE_PORT / AZURITE_TABLE_PORT
#                       Azurite ports (default 10000 / 10001 / 10002)
#   AZURITE_IN_MEMORY   1 = Azurite keeps its data in memory only (--inMemoryPersistence), not in $DATA_DIR/azurite:
#                       all of it is lost when Azurite stops, as it does when this script stops (default 0: on disk)
#   DATA_DIR            state directory (default <repo>/.data): azurite/ (storage, kept across restarts unless
#                       AZURITE_IN_MEMORY=1; azurite.log), logs/ (build-*.log, silo-<i>.log, gateway-<i>.log),
#                       bin/{silo,gateway}/ (published hosts), admin-key, events-key, pids, run.pid
#   ADMIN_API_KEY       admin API key of the gateways; default: read from $DATA_DIR/admin-key, or
#                       generated (32 random bytes, hex) and saved there with mode 600
#   EVENTS_SECRET_KEY   Events:SecretKey of the silos (encrypts webhook secrets at rest; base64 of 32 bytes);
#                       default: read from $DATA_DIR/events-key, or generated and saved there with mode 600.
#                       Silos and gateways also get Events:AllowInsecureWebhooks=true (http and loopback
#                       webhook receivers, for development on this machine; only silos read it)
#   CONFIGURATION       build configuration (default Release)
#   SKIP_BUILD          1 = do not build/publish, reuse $DATA_DIR/bin and the CLI build (default 0)
#   START_TIMEOUT       seconds allowed to each start-up wait, one after another (120): every silo's GET /alive,
#                       then, cohosted, every silo's GET /health; split, every gateway's GET /health
#   STOP_GRACE          seconds between SIGTERM and SIGKILL when stopping silos/gateways (35: more than their drain
#                       time, Cluster:ShutdownTimeoutSeconds, 30 by default)
#   PROBE_TIMEOUT_SECONDS / MISSED_PROBES_LIMIT / DEATH_VOTES / TABLE_REFRESH_SECONDS
#                       silo failure detection (Cluster:ProbeTimeoutSeconds, NumMissedProbesLimit,
#                       NumVotesForDeathDeclaration, TableRefreshSeconds); faster than the production
#                       defaults on loopback: 1 / 2 / 2 / 10 (a killed silo is declared dead in ~3-5 s)
#   THREADPOOL_SPIN_LIMIT
#                       .NET thread-pool spinning of silos and gateways (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit;
#                       default 0 here, the runtime's own default elsewhere): idle workers spin before they sleep,
#                       which on a small machine shared by several processes burns the CPU the others need
#                       (measured: silo CPU per request -30 %, see docs/benchmarks.md)
#   RESPONSE_TIMEOUT_SECONDS
#                       grain-call response timeout of silos and gateways (Cluster:ResponseTimeoutSeconds;
#                       default 10 here, 30 in production): how long a call in flight to a killed silo waits
#                       before the gateway retries it
#   WEBHOOK_TIMEOUT_SECONDS
#                       limit of one webhook delivery attempt (Events:WebhookTimeoutSeconds; default 3 here, 10 in
#                       production): an admin call on a webhook waits behind a send in progress, so 2 x this + 2 s
#                       must stay under RESPONSE_TIMEOUT_SECONDS (docs/operations.md)
#
# Any other host setting is passed on (those this script sets itself win, with a warning): silos and gateways inherit
# this script's environment, so e.g.
#   Scim__Extensions__0__Schema=urn:ietf:params:scim:schemas:extension:acme:2.0:User \
#   Scim__Extensions__0__Attributes__0__Name=site deploy/local/run.sh
# gives every silo and gateway the same extension schema (they must all have the same Scim:Extensions).
#
# Files written while running:
#   $DATA_DIR/pids      one line "role pid port" per running process: "azurite <pid> <table port>",
#                       "silo <pid> <silo port>", "gateway <pid> <http port>", and in the co-hosted
#                       topology "silo+gateway <pid> <silo port>" (a silo that serves HTTP on GATEWAY_PORT+i);
#                       lines of processes that exit are removed; the file is removed on shutdown
#   $DATA_DIR/run.pid   pid of this script (`kill $(cat .data/run.pid)` stops the cluster cleanly)
#
# A child that exits (e.g. a silo you kill to test fail-over) is logged; the script keeps running
# until Ctrl-C, or until no child is left.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(repo_root)"
cd "$ROOT"

TOPOLOGY=${TOPOLOGY:-cohosted}
SILOS=${SILOS:-2}
GATEWAYS_GIVEN=${GATEWAYS:+1}
GATEWAYS=${GATEWAYS:-1}
GATEWAY_PORT=${GATEWAY_PORT:-8080}
SILO_PORT=${SILO_PORT:-11111}
SILO_GATEWAY_PORT=${SILO_GATEWAY_PORT:-30000}
SILO_HTTP_PORT=${SILO_HTTP_PORT:-7100}
AZURITE_BLOB_PORT=${AZURITE_BLOB_PORT:-10000}
AZURITE_QUEUE_PORT=${AZURITE_QUEUE_PORT:-10001}
AZURITE_TABLE_PORT=${AZURITE_TABLE_PORT:-10002}
DATA_DIR=${DATA_DIR:-$ROOT/.data}
CONFIGURATION=${CONFIGURATION:-Release}
SKIP_BUILD=${SKIP_BUILD:-0}

CLUSTER_ID=scim-local
SERVICE_ID=scim
PROBE_TIMEOUT_SECONDS=${PROBE_TIMEOUT_SECONDS:-1}
MISSED_PROBES_LIMIT=${MISSED_PROBES_LIMIT:-2}
DEATH_VOTES=${DEATH_VOTES:-2}
TABLE_REFRESH_SECONDS=${TABLE_REFRESH_SECONDS:-10}
RESPONSE_TIMEOUT_SECONDS=${RESPONSE_TIMEOUT_SECONDS:-10}
WEBHOOK_TIMEOUT_SECONDS=${WEBHOOK_TIMEOUT_SECONDS:-3}
THREADPOOL_SPIN_LIMIT=${THREADPOOL_SPIN_LIMIT:-0}
START_TIMEOUT=${START_TIMEOUT:-120} # seconds, per silo / gateway
STOP_GRACE=${STOP_GRACE:-35}        # seconds between SIGTERM and SIGKILL (> Cluster:ShutdownTimeoutSeconds, 30)

for var in SILOS GATEWAYS START_TIMEOUT STOP_GRACE GATEWAY_PORT SILO_PORT SILO_GATEWAY_PORT SILO_HTTP_PORT \
  AZURITE_BLOB_PORT AZURITE_QUEUE_PORT AZURITE_TABLE_PORT THREADPOOL_SPIN_LIMIT; do
  [[ "${!var}" =~ ^[0-9]+$ ]] || die "$var must be a non-negative integer (got '${!var}')"
done
((SILOS >= 1)) || die "SILOS must be at least 1"
case "$TOPOLOGY" in
  cohosted)
    # Every silo serves HTTP on GATEWAY_PORT+i: there is no gateway process, and no separate silo HTTP port.
    if [[ -n "$GATEWAYS_GIVEN" ]]; then log "TOPOLOGY=cohosted: GATEWAYS=$GATEWAYS ignored (every silo serves HTTP)"; fi
    GATEWAYS=0
    SILO_ROLE=silo+gateway
    ;;
  split)
    ((GATEWAYS >= 1)) || die "TOPOLOGY=split needs GATEWAYS of at least 1 (the gateways serve SCIM; the silos only grains)"
    SILO_ROLE=silo
    ;;
  *) die "TOPOLOGY must be cohosted or split (got '$TOPOLOGY')" ;;
esac
# silo_http_port I: where silo I serves HTTP (cohosted: the SCIM endpoint too).
silo_http_port() { if [[ "$TOPOLOGY" == cohosted ]]; then echo $((GATEWAY_PORT + $1)); else echo $((SILO_HTTP_PORT + $1)); fi; }

# ---------------------------------------------------------------------------------------------
# Prerequisites

command -v dotnet >/dev/null 2>&1 \
  || die "'dotnet' not found. Install the .NET SDK 10 (https://dot.net; version pinned in global.json)."
command -v node >/dev/null 2>&1 \
  || die "'node' not found. Install Node.js 20+ (needed for Azurite, the Azure Storage emulator)."
require_cmd curl "Install curl (used to wait for the health endpoints)."
dotnet_defaults

mkdir -p "$DATA_DIR"
DATA_DIR="$(cd "$DATA_DIR" && pwd -P)"
LOG_DIR="$DATA_DIR/logs"
PIDS_FILE="$DATA_DIR/pids"
RUN_PID_FILE="$DATA_DIR/run.pid"
KEY_FILE="$DATA_DIR/admin-key"
EVENTS_KEY_FILE="$DATA_DIR/events-key"
mkdir -p "$LOG_DIR" "$DATA_DIR/azurite"

# Refuse to start twice on the same DATA_DIR; clean up after a run that was killed with SIGKILL.
if [[ -f "$PIDS_FILE" ]]; then
  leftovers=()
  while read -r role pid _port; do
    if [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid"; then leftovers+=("$pid($role)"); fi
  done <"$PIDS_FILE"
  if ((${#leftovers[@]})); then
    die "processes from an earlier run are still alive: ${leftovers[*]} (see $PIDS_FILE). Stop that run with Ctrl-C (or: kill \$(cat $RUN_PID_FILE)); if its script is gone, kill those pids: gateways, then silos, then Azurite."
  fi
  rm -f "$PIDS_FILE"
fi

# key_from_file FILE WHAT GENERATOR: print the key saved in FILE; without one, make one with GENERATOR, save it
# there (mode 600) and print it. Keys are kept across restarts, like the storage they protect.
key_from_file() {
  local file=$1 what=$2 generator=$3 key
  if [[ -s "$file" ]]; then
    key="$(tr -d ' \t\r\n' <"$file")"
  else
    key="$("$generator")"
    (umask 077 && printf '%s\n' "$key" >"$file")
    chmod 600 "$file"
    log "generated a new $what in $file"
  fi
  [[ -n "$key" ]] || die "empty $what (check $file)"
  printf '%s' "$key"
}
hex_key() { head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }
base64_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# Admin API key; Events:SecretKey (the silos must read back the webhook secrets they stored).
[[ -n "${ADMIN_API_KEY:-}" ]] || ADMIN_API_KEY="$(key_from_file "$KEY_FILE" "admin API key" hex_key)"
[[ -n "${EVENTS_SECRET_KEY:-}" ]] || EVENTS_SECRET_KEY="$(key_from_file "$EVENTS_KEY_FILE" "events secret key" base64_key)"

# Every port must be free before anything starts (a silo dies on a busy port).
check_port_free() { # check_port_free PORT WHAT VARIABLE
  if port_in_use "$1"; then
    die "port $1 ($2) is already in use on 127.0.0.1; free it or choose another base port with $3=..."
  fi
}
check_port_free "$AZURITE_BLOB_PORT" "Azurite blob" AZURITE_BLOB_PORT
check_port_free "$AZURITE_QUEUE_PORT" "Azurite queue" AZURITE_QUEUE_PORT
check_port_free "$AZURITE_TABLE_PORT" "Azurite table" AZURITE_TABLE_PORT
for ((i = 0; i < SILOS; i++)); do
  check_port_free $((SILO_PORT + i)) "silo $i silo-to-silo" SILO_PORT
  check_port_free $((SILO_GATEWAY_PORT + i)) "silo $i client gateway" SILO_GATEWAY_PORT
  if [[ "$TOPOLOGY" == cohosted ]]; then
    check_port_free "$(silo_http_port "$i")" "silo $i HTTP (SCIM)" GATEWAY_PORT
  else
    check_port_free "$(silo_http_port "$i")" "silo $i HTTP" SILO_HTTP_PORT
  fi
done
for ((i = 0; i < GATEWAYS; i++)); do
  check_port_free $((GATEWAY_PORT + i)) "gateway $i HTTP" GATEWAY_PORT
done

# ---------------------------------------------------------------------------------------------
# Build

SILO_DIR="$DATA_DIR/bin/silo"
GATEWAY_DIR="$DATA_DIR/bin/gateway"
CLI_DLL="src/Cluster.Cli/bin/$CONFIGURATION/net10.0/scim-admin.dll"

# dotnet_step NAME ARGS...: run `dotnet ARGS...` quietly; on failure show the errors and exit.
dotnet_step() {
  local name=$1
  shift
  local logf="$LOG_DIR/build-$name.log"
  log "dotnet $1 $name ..."
  if ! dotnet "$@" >"$logf" 2>&1; then
    log "dotnet $1 of $name FAILED; errors (full log: $logf):"
    { grep -E ': error [A-Z]*[0-9]*:|error :|^error|Build FAILED' "$logf" | sort -u | head -n 60 || tail -n 40 "$logf"; } >&2
    exit 1
  fi
}

if [[ "$SKIP_BUILD" == 1 ]]; then
  log "SKIP_BUILD=1: using the hosts in $DATA_DIR/bin as they are"
else
  require_cmd dotnet ""
  # Publish into DATA_DIR so a rebuild of src/ never swaps DLLs under running processes.
  rm -rf "$SILO_DIR" "$GATEWAY_DIR"
  dotnet_step silo publish src/Cluster.Silo/Cluster.Silo.csproj -c "$CONFIGURATION" -o "$SILO_DIR" --nologo
  dotnet_step gateway publish src/Cluster.Gateway.Host/Cluster.Gateway.Host.csproj -c "$CONFIGURATION" -o "$GATEWAY_DIR" --nologo
  dotnet_step cli build src/Cluster.Cli/Cluster.Cli.csproj -c "$CONFIGURATION" --nologo
fi
[[ -f "$SILO_DIR/Cluster.Silo.dll" ]] || die "$SILO_DIR/Cluster.Silo.dll is missing (build first: drop SKIP_BUILD)"
[[ -f "$GATEWAY_DIR/Cluster.Gateway.Host.dll" ]] || die "$GATEWAY_DIR/Cluster.Gateway.Host.dll is missing (build first: drop SKIP_BUILD)"

ensure_azurite

# ---------------------------------------------------------------------------------------------
# Process bookkeeping and shutdown

declare -A ROLE=() PORT=() # by pid
GATEWAY_PIDS=() SILO_PIDS=()
AZURITE_PID=""
SLEEP_PID=""
STOPPING=0

write_pids_file() {
  local tmp="$PIDS_FILE.tmp" pid
  : >"$tmp"
  # Fixed order: azurite, silos, gateways.
  for pid in $AZURITE_PID "${SILO_PIDS[@]}" "${GATEWAY_PIDS[@]}"; do
    if [[ -n "${ROLE[$pid]:-}" ]]; then
      printf '%s %s %s\n' "${ROLE[$pid]}" "$pid" "${PORT[$pid]}" >>"$tmp"
    fi
  done
  mv -f "$tmp" "$PIDS_FILE"
}

track() { # track ROLE PID PORT
  ROLE[$2]=$1
  PORT[$2]=$3
  write_pids_file
}

# Living pids among the arguments.
alive_of() {
  local pid
  for pid in "$@"; do
    if [[ -n "${ROLE[$pid]:-}" ]] && pid_alive "$pid"; then printf '%s ' "$pid"; fi
  done
}

shutdown() {
  local rc=$1 pids
  ((STOPPING)) && return 0
  STOPPING=1
  trap '' INT TERM HUP # a second Ctrl-C must not cut the ordered shutdown short (at most about 2 x STOP_GRACE + 10 s)
  trap '' PIPE # nor a closed terminal or pipe (the children run in their own sessions: only this stops them)
  if [[ -n "$SLEEP_PID" ]]; then kill "$SLEEP_PID" 2>/dev/null || true; wait "$SLEEP_PID" 2>/dev/null || true; fi
  # Gateways, then silos (while their storage is still up), then Azurite.
  read -r -a pids <<<"$(alive_of "${GATEWAY_PIDS[@]}")"
  if ((${#pids[@]})); then
    log "stopping gateway(s): ${pids[*]}"
    stop_pids "$STOP_GRACE" "${pids[@]}"
  fi
  read -r -a pids <<<"$(alive_of "${SILO_PIDS[@]}")"
  if ((${#pids[@]})); then
    log "stopping silo(s): ${pids[*]}"
    stop_pids "$STOP_GRACE" "${pids[@]}"
  fi
  if [[ -n "$AZURITE_PID" ]] && pid_alive "$AZURITE_PID"; then
    log "stopping Azurite: $AZURITE_PID"
    stop_pid "$AZURITE_PID" 10
  fi
  rm -f "$PIDS_FILE" "$PIDS_FILE.tmp"
  if [[ -f "$RUN_PID_FILE" && "$(cat "$RUN_PID_FILE" 2>/dev/null)" == "$$" ]]; then rm -f "$RUN_PID_FILE"; fi
  log "stopped"
  exit "$rc"
}
# shellcheck disable=SC2317 # invoked by traps
on_signal() {
  trap '' PIPE
  printf '\n' >&2 2>/dev/null || true
  log "received SIG$1, shutting down"
  shutdown 0
}
# shellcheck disable=SC2317 # invoked by the EXIT trap (errors during start-up land here)
on_exit() {
  local rc=$?
  shutdown "$rc"
}
trap on_exit EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

echo "$$" >"$RUN_PID_FILE"

# start_host LOG WORKDIR DLL NAME=VALUE...: start `dotnet DLL` in WORKDIR (its content root, so its
# appsettings*.json are found) with extra environment; sets STARTED_PID to the dotnet process itself.
start_host() {
  local logf=$1 dir=$2 dll=$3 detach
  shift 3
  detach="$(_detach_cmd)"
  {
    printf '\n===== %s starting %s\n' "$(date '+%F %T')" "$dll"
  } >>"$logf"
  (
    cd "$dir"
    for kv in "$@"; do export "${kv?}"; done
    # exec: no wrapper shell; setsid (own session) keeps the terminal's Ctrl-C away from the
    # child, so that this script decides the stop order.
    # shellcheck disable=SC2086
    exec $detach dotnet "$dll"
  ) </dev/null >>"$logf" 2>&1 &
  STARTED_PID=$!
}

# fail_start WHAT PID LOG STATUS: report a process that did not come up, then exit (-> shutdown).
fail_start() {
  local what=$1 pid=$2 logf=$3 status=$4
  if ((status == 2)); then
    log "$what (pid $pid) exited during start-up. Last 40 lines of $logf:"
  else
    log "$what (pid $pid) did not become ready within ${START_TIMEOUT}s. Last 40 lines of $logf:"
  fi
  tail -n 40 "$logf" >&2 || true
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Azurite

CONN="$(azurite_connection_string "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT")"
start_azurite "$DATA_DIR/azurite" "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT" >/dev/null
track azurite "$AZURITE_PID" "$AZURITE_TABLE_PORT"
for port in "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT"; do
  status=0
  wait_for_port "$port" 60 "$AZURITE_PID" || status=$?
  ((status == 0)) || fail_start "Azurite" "$AZURITE_PID" "$DATA_DIR/azurite/azurite.log" "$status"
done
log "Azurite pid $AZURITE_PID on 127.0.0.1:$AZURITE_BLOB_PORT/$AZURITE_QUEUE_PORT/$AZURITE_TABLE_PORT (data: $DATA_DIR/azurite)"

# ---------------------------------------------------------------------------------------------
# Silos (all started at once, then each awaited on GET /alive)

# What every silo and gateway gets: cluster identity, membership, storage, operator key, environment. The silos also get
# Cluster__Kubernetes=false: unless told, the silo host turns on Orleans' Kubernetes hosting (silo identity from the pod,
# Orleans ports on every address) whenever KUBERNETES_SERVICE_HOST is set, as in any pod (a CI runner's too).
HOST_ENV=(
  "Cluster__ClusterId=$CLUSTER_ID"
  "Cluster__ServiceId=$SERVICE_ID"
  "Cluster__Membership=AzureTable"
  "Cluster__ResponseTimeoutSeconds=$RESPONSE_TIMEOUT_SECONDS"
  "Cluster__Topology=$TOPOLOGY"
  "Storage__Provider=AzureTable"
  "Storage__ConnectionString=$CONN"
  "Admin__ApiKey=$ADMIN_API_KEY"
  "Events__AllowInsecureWebhooks=true"
  "Events__WebhookTimeoutSeconds=$WEBHOOK_TIMEOUT_SECONDS"
  "DOTNET_ENVIRONMENT=Production"
  "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=$THREADPOOL_SPIN_LIMIT"
  "ASPNETCORE_ENVIRONMENT=Production"
)

# The settings this script gives its processes win over the same ones in its environment: say so, rather than drop the
# caller's value without a word (set them through this script's variables, listed at its top).
for name in "${HOST_ENV[@]%%=*}" Cluster__SiloPort Cluster__GatewayPort Cluster__AdvertisedIP Cluster__Kubernetes \
  Events__SecretKey Cluster__ProbeTimeoutSeconds Cluster__NumMissedProbesLimit Cluster__NumVotesForDeathDeclaration \
  Cluster__TableRefreshSeconds ASPNETCORE_URLS; do
  if [[ -n "${!name+set}" ]]; then
    log "warning: $name from the environment is ignored: run.sh sets it itself (see the variables at the top of $0)"
  fi
done

for ((i = 0; i < SILOS; i++)); do
  start_host "$LOG_DIR/silo-$i.log" "$SILO_DIR" Cluster.Silo.dll "${HOST_ENV[@]}" \
    "Cluster__SiloPort=$((SILO_PORT + i))" \
    "Cluster__GatewayPort=$((SILO_GATEWAY_PORT + i))" \
    "Cluster__AdvertisedIP=127.0.0.1" \
    "Cluster__Kubernetes=false" \
    "Events__SecretKey=$EVENTS_SECRET_KEY" \
    "Cluster__ProbeTimeoutSeconds=$PROBE_TIMEOUT_SECONDS" \
    "Cluster__NumMissedProbesLimit=$MISSED_PROBES_LIMIT" \
    "Cluster__NumVotesForDeathDeclaration=$DEATH_VOTES" \
    "Cluster__TableRefreshSeconds=$TABLE_REFRESH_SECONDS" \
    "ASPNETCORE_URLS=http://127.0.0.1:$(silo_http_port "$i")"
  SILO_PIDS+=("$STARTED_PID")
  track "$SILO_ROLE" "$STARTED_PID" $((SILO_PORT + i))
  log "silo $i ($SILO_ROLE): pid $STARTED_PID, silo port $((SILO_PORT + i)), gateway port $((SILO_GATEWAY_PORT + i)), http://127.0.0.1:$(silo_http_port "$i") (log: $LOG_DIR/silo-$i.log)"
done
# wait_silos PATH WHAT: every silo answers GET PATH on its HTTP port (else report it and exit).
wait_silos() {
  local path=$1 what=$2 i status
  for ((i = 0; i < SILOS; i++)); do
    status=0
    wait_for_http "http://127.0.0.1:$(silo_http_port "$i")$path" "$START_TIMEOUT" "${SILO_PIDS[$i]}" || status=$?
    ((status == 0)) || fail_start "silo $i" "${SILO_PIDS[$i]}" "$LOG_DIR/silo-$i.log" "$status"
    log "silo $i is $what"
  done
}
wait_silos /alive alive
# Co-hosted: a silo's SCIM endpoint is ready once /health (silo active, and a grain call answers) says so.
if [[ "$TOPOLOGY" == cohosted ]]; then wait_silos /health "healthy (serving SCIM)"; fi

# ---------------------------------------------------------------------------------------------
# Gateways (Orleans clients; they only listen once a silo gateway was found)

for ((i = 0; i < GATEWAYS; i++)); do
  start_host "$LOG_DIR/gateway-$i.log" "$GATEWAY_DIR" Cluster.Gateway.Host.dll "${HOST_ENV[@]}" \
    "ASPNETCORE_URLS=http://127.0.0.1:$((GATEWAY_PORT + i))"
  GATEWAY_PIDS+=("$STARTED_PID")
  track gateway "$STARTED_PID" $((GATEWAY_PORT + i))
  log "gateway $i: pid $STARTED_PID, http://127.0.0.1:$((GATEWAY_PORT + i)) (log: $LOG_DIR/gateway-$i.log)"
done
for ((i = 0; i < GATEWAYS; i++)); do
  status=0
  wait_for_http "http://127.0.0.1:$((GATEWAY_PORT + i))/health" "$START_TIMEOUT" "${GATEWAY_PIDS[$i]}" || status=$?
  ((status == 0)) || fail_start "gateway $i" "${GATEWAY_PIDS[$i]}" "$LOG_DIR/gateway-$i.log" "$status"
  log "gateway $i is healthy"
done

# ---------------------------------------------------------------------------------------------
# Ready

URL="http://127.0.0.1:$GATEWAY_PORT"
{
  echo
  if [[ "$TOPOLOGY" == cohosted ]]; then
    echo "SCIM cluster is up (co-hosted): $SILOS silo(s) serving SCIM, Azurite. Ctrl-C stops everything."
    for ((i = 0; i < SILOS; i++)); do
      echo "  silo $i:     http://127.0.0.1:$(silo_http_port "$i")  (SCIM, admin, portal, /health, /metrics, /dashboard/)"
    done
  else
    echo "SCIM cluster is up (split): $SILOS silo(s), $GATEWAYS gateway(s), Azurite. Ctrl-C stops everything."
    for ((i = 0; i < GATEWAYS; i++)); do
      echo "  gateway $i:  http://127.0.0.1:$((GATEWAY_PORT + i))"
    done
    for ((i = 0; i < SILOS; i++)); do
      echo "  silo $i:     http://127.0.0.1:$(silo_http_port "$i")  (/health, /metrics, /dashboard/)"
    done
  fi
  echo "  admin key:  $ADMIN_API_KEY   (saved in $KEY_FILE unless ADMIN_API_KEY was given)"
  echo "  logs:       $LOG_DIR    pids: $PIDS_FILE"
  echo "  dashboard:  $URL/dashboard/   (browser: any user name, the admin key as password)"
  echo "  metrics:    curl -s $URL/metrics | grep '^scim_'"
  echo
  echo "Create a tenant with curl:"
  echo "  curl -s -X POST $URL/admin/tenants -H \"Authorization: Bearer $ADMIN_API_KEY\" -H 'Content-Type: application/json' -d '{\"name\":\"Contoso\"}'"
  echo "or with the CLI:"
  echo "  dotnet $CLI_DLL --url $URL --key $ADMIN_API_KEY tenants create --name Contoso"
  echo
}

# ---------------------------------------------------------------------------------------------
# Foreground: report children that exit, keep running until a signal (or until none is left).

while :; do
  for pid in $AZURITE_PID "${SILO_PIDS[@]}" "${GATEWAY_PIDS[@]}"; do
    [[ -n "${ROLE[$pid]:-}" ]] || continue
    if ! pid_alive "$pid"; then
      status=0
      wait "$pid" 2>/dev/null || status=$?
      log "${ROLE[$pid]} pid $pid (port ${PORT[$pid]}) exited with status $status; the rest keeps running (Ctrl-C to stop)"
      unset "ROLE[$pid]" "PORT[$pid]"
      write_pids_file
    fi
  done
  if ((${#ROLE[@]} == 0)); then
    log "no process left running"
    exit 1
  fi
  # `wait` on a background sleep returns at once when a trapped signal arrives.
  sleep 1 &
  SLEEP_PID=$!
  wait "$SLEEP_PID" 2>/dev/null || true
  SLEEP_PID=""
done

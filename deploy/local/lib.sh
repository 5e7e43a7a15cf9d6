# shellcheck shell=bash
# Shared helpers for deploy/local/run.sh and tests/run.sh. Source it, don't run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Functions:
#   repo_root                             print the absolute repository root
#   log MSG...                            print "[HH:MM:SS] MSG" on stderr
#   die MSG...                            log MSG and exit 1
#   require_cmd CMD HINT                  exit with HINT if CMD is not on PATH
#   ensure_azurite                        npm ci deploy/ if deploy/node_modules/.bin/azurite is missing
#   ensure_wrk                            apt-get install wrk if it is missing (exits if it cannot)
#   ensure_chromium                       apt-get install Debian's chromium if /usr/bin/chromium is missing
#                                         (the dashboard browser test drives it headless); warns if it can't
#   ensure_promtool                       unpack promtool from Debian's prometheus package into .tools/ (nothing is
#                                         installed or started) unless $PROMTOOL is set; exports PROMTOOL; warns if it can't
#   ensure_apt_package PKG BINARY WHY     apt-get install PKG unless BINARY exists; warns if it can't
#   start_azurite DIR BLOB QUEUE TABLE    start Azurite (127.0.0.1, data in DIR, log DIR/azurite.log);
#                                         echoes the pid of the node process and sets AZURITE_PID
#   azurite_connection_string BLOB QUEUE TABLE
#                                         print the explicit devstoreaccount1 connection string
#   port_in_use PORT                      true if something accepts TCP connections on 127.0.0.1:PORT
#   wait_for_port PORT TIMEOUT_S [PID]    wait until 127.0.0.1:PORT accepts connections
#   wait_for_http URL TIMEOUT_S [PID]     wait until `curl -fsS URL` succeeds
#                                         (both give up early, status 2, if PID is given and dies)
#   pid_alive PID                         true if PID exists and is not a zombie (reads its state with ps)
#   stop_pid PID [GRACE_S]                SIGTERM, wait up to GRACE_S (default 10) s, then SIGKILL
#   stop_group PGID [GRACE_S]             the same for a whole process group (a child started with setsid)
#   stop_pids GRACE_S PID...              stop_pid for several processes in parallel
#   dotnet_defaults                       export settings that keep dotnet from leaving build servers
#                                         behind (unless the caller set them) and silence first-run noise
#
# Processes are started with `setsid` (when available) so that a Ctrl-C in the terminal reaches
# only the controlling script, which then stops its children in the right order (silos before
# Azurite: a silo whose storage is gone hangs 80+ s on stop). setsid execs in place, so $! is
# still the pid of the real process.

# Guard against double sourcing.
if [[ -n "${__SCIM_LIB_SH:-}" ]]; then return 0; fi
__SCIM_LIB_SH=1

# Well-known Azurite development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT_NAME=devstoreaccount1
AZURITE_ACCOUNT_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

repo_root() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
  # deploy/local/lib.sh -> repo root is two levels up.
  (cd "$here/../.." && pwd -P)
}

log() {
  # Never fails: a log line must not end a shutdown whose terminal or pipe is gone (set -e; SIGHUP, `| tee` on Ctrl-C).
  printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2 2>/dev/null || true
}

die() {
  log "ERROR: $*"
  exit 1
}

require_cmd() {
  local cmd=$1 hint=${2:-}
  if ! command -v "$cmd" >/dev/null 2>&1; then
    die "'$cmd' was not found on PATH.${hint:+ $hint}"
  fi
}

# The command prefix used to detach a child into its own session (empty if setsid is missing).
dotnet_defaults() {
  export DOTNET_CLI_TELEMETRY_OPTOUT=${DOTNET_CLI_TELEMETRY_OPTOUT:-1}
  export DOTNET_NOLOGO=${DOTNET_NOLOGO:-1}
  export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=${DOTNET_SKIP_FIRST_TIME_EXPERIENCE:-1}
  # No MSBuild worker nodes / MSBuild server / Roslyn compiler server left running after a build.
  export MSBUILDDISABLENODEREUSE=${MSBUILDDISABLENODEREUSE:-1}
  export DOTNET_CLI_USE_MSBUILD_SERVER=${DOTNET_CLI_USE_MSBUILD_SERVER:-0}
  export UseSharedCompilation=${UseSharedCompilation:-false}
}

_detach_cmd() {
  if command -v setsid >/dev/null 2>&1; then echo setsid; fi
}

# pid_alive and group_alive tell a running process from an exited one by its state in ps (kill -0 also succeeds on a
# zombie: a child that exited and was not reaped yet). Every script that sources this file uses one of them; without
# ps they would take every process for exited.
require_cmd ps "Install procps (ps tells running processes from exited ones)."

ensure_azurite() {
  local root
  root="$(repo_root)"
  if [[ -x "$root/deploy/node_modules/.bin/azurite" && -f "$root/deploy/node_modules/azurite/dist/src/azurite.js" ]]; then
    return 0
  fi
  require_cmd node "Install Node.js (20 or newer) to run Azurite, the Azure Storage emulator."
  require_cmd npm "Install npm (it comes with Node.js) to install Azurite."
  log "Installing Azurite into deploy/node_modules (npm ci, about a minute on first run)..."
  local out
  # Azurite 3.37 declares Node 22+ but runs on Node 20 (what CI runs it on): an npm set to engine-strict must not refuse it.
  if ! out="$(npm ci --prefix "$root/deploy" --no-audit --no-fund --engine-strict=false 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "npm ci in deploy/ failed (see above)."
  fi
  [[ -f "$root/deploy/node_modules/azurite/dist/src/azurite.js" ]] \
    || die "npm ci succeeded but deploy/node_modules/azurite/dist/src/azurite.js is missing."
}

# ensure_wrk: the HTTP load generator of tests/bench.sh and tests/profile.sh, from Debian if missing; as root, or
# through `sudo -n` (never a password prompt). Both scripts need it, so it exits when wrk cannot be installed.
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  ensure_apt_package wrk /usr/bin/wrk "the benchmark"
  command -v wrk >/dev/null 2>&1 || die "'wrk' was not found on PATH and could not be installed (see above): install wrk."
}

ensure_chromium() {
  # The browser tests (the Orleans dashboard, the customer portal) use $CHROMIUM when set, else /usr/bin/chromium.
  if [[ -n "${CHROMIUM:-}" && -x "$CHROMIUM" ]]; then
    return 0
  fi
  ensure_apt_package chromium /usr/bin/chromium "the browser tests (dashboard, portal)"
}

ensure_promtool() {
  # The alerting rules' tests (deploy/prometheus/alerts.yml) run Prometheus's promtool: $PROMTOOL when set, else the one
  # unpacked from Debian's prometheus package into .tools/prometheus (apt-get download, dpkg-deb -x: nothing is installed
  # or started; installing the package would enable and start a Prometheus server on a host with systemd). Exports PROMTOOL.
  if [[ -n "${PROMTOOL:-}" && -x "$PROMTOOL" ]]; then
    return 0
  fi
  local dir
  dir="$(repo_root)/.tools/prometheus"
  if [[ ! -x "$dir/usr/bin/promtool" ]]; then
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
      log "WARNING: promtool is missing and apt-get or dpkg-deb is not available: the alerting rules' tests will fail (set PROMTOOL)."
      return 0
    fi
    log "Unpacking promtool from Debian's prometheus package into .tools/prometheus (for the alerting rules' tests)..."
    local tmp out sudo=""
    tmp="$(mktemp -d)"
    if ((EUID != 0)) && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
    # shellcheck disable=SC2086 # $sudo is empty or "sudo -n"
    if ! out="$(cd "$tmp" && { apt-get download -qq prometheus 2>&1 || { $sudo apt-get update -qq 2>&1 && apt-get download -qq prometheus 2>&1; }; } \
      && mkdir -p "$dir" && dpkg-deb -x "$tmp"/prometheus_*.deb "$dir" 2>&1)"; then
      printf '%s\n' "$out" | tail -n 20 >&2
      log "WARNING: unpacking promtool failed (see above): the alerting rules' tests will fail (set PROMTOOL)."
    fi
    rm -rf "$tmp"
  fi
  if [[ -x "$dir/usr/bin/promtool" ]]; then
    export PROMTOOL="$dir/usr/bin/promtool"
  fi
}

# Installs the Debian package $1 with apt-get unless $2 is already there; $3 names what needs it. A failure only warns:
# the tests that need it then fail and say why.
ensure_apt_package() {
  local package=${1:?package} binary=${2:?binary} purpose=${3:?purpose}
  if [[ -x "$binary" ]]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "WARNING: $binary is missing and apt-get is not available: $purpose will fail."
    return 0
  fi
  local sudo=""
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      log "WARNING: $binary is missing and installing it needs root: $purpose will fail."
      return 0
    fi
  fi
  log "Installing $package with apt-get (for $purpose; a few minutes on first run)..."
  local out
  # shellcheck disable=SC2086 # $sudo is empty or "sudo -n"
  if ! out="$($sudo apt-get update -qq 2>&1 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 20 >&2
    log "WARNING: installing $package failed (see above): $purpose will fail."
    return 0
  fi
  [[ -x "$binary" ]] || log "WARNING: apt-get installed $package but $binary is missing."
}

start_azurite() {
  local dir=${1:?start_azurite DIR BLOB_PORT QUEUE_PORT TABLE_PORT} blob=${2:?blob port} queue=${3:?queue port} table=${4:?table port}
  local root detach store=(--location "$dir")
  root="$(repo_root)"
  detach="$(_detach_cmd)"
  mkdir -p "$dir"
  # AZURITE_IN_MEMORY=1: keep the data in memory only (lost on exit; Azurite refuses --location with it). Azurite's
  # on-disk store rewrites its whole database file every 5 s, which takes longer the more it holds; the benchmark's
  # full sizes (hundreds of MB) use this.
  local heap=()
  if [[ "${AZURITE_IN_MEMORY:-0}" == 1 ]]; then
    store=(--inMemoryPersistence)
    # Everything lives in node's heap then: a 100,000-user tenant plus 100,000 tenants outgrow V8's default limit.
    heap=(--max-old-space-size=8192)
  fi
  # No wrapper shell: `&` forks, setsid (if any) and node exec in place, so $! is node's pid.
  # shellcheck disable=SC2086 # $detach is intentionally unquoted (empty or "setsid").
  $detach node "${heap[@]}" "$root/deploy/node_modules/azurite/dist/src/azurite.js" \
    "${store[@]}" \
    --blobHost 127.0.0.1 --blobPort "$blob" \
    --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" \
    --silent --skipApiVersionCheck --loose --disableTelemetry \
    </dev/null >>"$dir/azurite.log" 2>&1 &
  AZURITE_PID=$!
  echo "$AZURITE_PID"
}

azurite_connection_string() {
  local blob=${1:-10000} queue=${2:-10001} table=${3:-10002}
  printf 'DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%s/%s;QueueEndpoint=http://127.0.0.1:%s/%s;TableEndpoint=http://127.0.0.1:%s/%s;\n' \
    "$AZURITE_ACCOUNT_NAME" "$AZURITE_ACCOUNT_KEY" \
    "$blob" "$AZURITE_ACCOUNT_NAME" "$queue" "$AZURITE_ACCOUNT_NAME" "$table" "$AZURITE_ACCOUNT_NAME"
}

port_in_use() {
  local port=${1:?port}
  # bash's /dev/tcp: no dependency on nc/ss. A subshell so the fd is closed right away.
  (exec 3<>"/dev/tcp/127.0.0.1/$port") >/dev/null 2>&1
}

pid_alive() {
  local pid=${1:?pid} state
  kill -0 "$pid" 2>/dev/null || return 1
  # A dead child that has not been reaped yet is a zombie: kill -0 succeeds on it.
  state="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z* ]]
}

wait_for_port() {
  local port=${1:?port} timeout=${2:-30} pid=${3:-}
  local deadline=$((SECONDS + timeout))
  until port_in_use "$port"; do
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then return 2; fi
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}

wait_for_http() {
  local url=${1:?url} timeout=${2:-30} pid=${3:-}
  local deadline=$((SECONDS + timeout))
  until curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then return 2; fi
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.5
  done
}

stop_pid() {
  local pid=${1:?pid} grace=${2:-10}
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while pid_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if pid_alive "$pid"; then
      log "pid $pid still running after ${grace}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      # Reap at once (our child: returns when it is dead; otherwise returns at once): this also
      # keeps bash from printing a "Killed ..." job notice later.
      wait "$pid" 2>/dev/null || true
      local tries=0
      while pid_alive "$pid" && ((tries++ < 20)); do
        sleep 0.1
      done
    fi
  fi
  # Reap it if it is our child (no-op otherwise); never let its exit status trip `set -e`.
  wait "$pid" 2>/dev/null || true
  return 0
}

# True if some non-zombie process is in process group PGID.
group_alive() {
  local pgid=${1:?pgid}
  ps -eo pgid=,stat= 2>/dev/null | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

stop_group() {
  local pgid=${1:?pgid} grace=${2:-10}
  [[ "$pgid" =~ ^[0-9]+$ ]] || return 0
  if group_alive "$pgid"; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while group_alive "$pgid" && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if group_alive "$pgid"; then
      log "process group $pgid still running after ${grace}s, sending SIGKILL"
      kill -KILL -- "-$pgid" 2>/dev/null || true
      local tries=0
      while group_alive "$pgid" && ((tries++ < 20)); do
        sleep 0.1
      done
    fi
  fi
  wait "$pgid" 2>/dev/null || true
  return 0
}

# stop_pids GRACE_S PID...: SIGTERM all of them at once, wait up to GRACE_S for all, SIGKILL the rest.
stop_pids() {
  local grace=${1:?grace} pid
  shift
  (($#)) || return 0
  for pid in "$@"; do
    if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  local deadline=$((SECONDS + grace)) any
  while ((SECONDS < deadline)); do
    any=0
    for pid in "$@"; do
      if pid_alive "$pid"; then any=1; break; fi
    done
    ((any)) || break
    sleep 0.2
  done
  for pid in "$@"; do
    if pid_alive "$pid"; then
      log "pid $pid still running after ${grace}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true # reap at once (see stop_pid)
    fi
  done
  for pid in "$@"; do
    local tries=0
    while pid_alive "$pid" && ((tries++ < 20)); do sleep 0.1; done
    wait "$pid" 2>/dev/null || true # reap our own children
  done
  return 0
}

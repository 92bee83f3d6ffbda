# Sourced (after ROOT is set) by the side-by-side scripts that run one server at a time against an attack
# (emfile.sh, h2-flood.sh): logging, a free port, a run folder, stopping the server's whole
# process group, and cleanup on exit or interrupt. Set SERVER_PID (a setsid'd server) and
# LOAD_PID (the load, in the background) as they start.
# The Quantum binary: QUANTUM, else the release build, else the debug one (never built here).
QUANTUM=${QUANTUM:-}
if [[ -z $QUANTUM ]]; then
  QUANTUM=$ROOT/.build/release/quantum
  [[ -x $QUANTUM ]] || QUANTUM=$ROOT/.build/debug/quantum
fi
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
# A free port: bind port 0 and let the kernel choose (released at once; the server takes it next).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# begin_run NAME: a fresh run folder in $RUN, removed on exit with whatever still runs.
begin_run() {
  RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-$1-run.XXXXXX")
  chmod 755 "$RUN"   # nginx workers run as an unprivileged user when started as root
  SERVER_PID="" LOAD_PID=""
  trap cleanup EXIT
  trap 'log interrupted; exit 130' INT TERM
}
stop_server() {
  [[ -z $SERVER_PID ]] && return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  trap - EXIT
  [[ -n $LOAD_PID ]] && { kill -TERM "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; }
  stop_server
  rm -rf "$RUN"
}

# The lines every run's meta.txt starts with: when, where, which peers (PEERS, QUANTUM).
describe_run() {
  echo "date: $(date -u '+%F %T UTC')"
  echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  [[ $PEERS == *nginx* ]] && echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //')"
  [[ $PEERS == *quantum* ]] && echo "quantum: $QUANTUM ($(stat -c %y "$QUANTUM" | cut -d. -f1)), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- Sources 2>/dev/null || echo ' + uncommitted changes in Sources/')"
  pgrep -f 'swift-build|swift-test|xctest' >/dev/null && echo "note: a swift build/test is running on this machine meanwhile"
  return 0
}

#!/usr/bin/env bash
# Grove quick start on a fresh Debian/Raspberry Pi OS machine, from this checkout: installs what
# is missing, builds Grove, starts a one-node cluster on the embedded defaults (LevelDB, embedded
# MQTT broker, local agent) and runs the example app (busybox httpd on :8080).
set -euo pipefail
cd "$(dirname "$0")/.."
info() { printf '[grove] %s\n' "$*"; }
fatal() { printf '[grove] error: %s\n' "$*" >&2; exit 1; }

DATA_DIR=${GROVE_DATA_DIR:-/var/lib/grove}
LOG_FILE=${GROVE_LOG_FILE:-/var/log/grove-server.log}
PID_FILE=${GROVE_PID_FILE:-/run/grove-server.pid}

bash firmware-scripts/install-deps.sh --example
info "installing npm dependencies and building"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
ln -sf "$PWD/dist/src/cli/grove.js" /usr/local/bin/grove
info "grove $(grove --version) is /usr/local/bin/grove"

# The example image is built locally from Debian's static busybox: no registry needed.
archive=$(mktemp --suffix=.tar)
trap 'rm -f "$archive"' EXIT
bash firmware-scripts/example-image.sh "$archive" >/dev/null
grove --data-dir "$DATA_DIR" ctr import "$archive"

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  info "grove server already running (pid $(cat "$PID_FILE"))"
else
  info "starting grove server (log: $LOG_FILE)"
  nohup grove --data-dir "$DATA_DIR" server >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
fi
for _ in $(seq 1 100); do
  grove --data-dir "$DATA_DIR" get nodes -o json 2>/dev/null | grep -q '"ready": true' && break
  kill -0 "$(cat "$PID_FILE")" 2>/dev/null || fatal "grove server exited; see $LOG_FILE"
  sleep 0.3
done

grove --data-dir "$DATA_DIR" apply -f firmware-scripts/example/hello.yaml
for _ in $(seq 1 100); do
  page=$(busybox wget -q -O - http://127.0.0.1:8080/ 2>/dev/null) && break
  sleep 0.3
done
grove --data-dir "$DATA_DIR" get nodes
grove --data-dir "$DATA_DIR" get pods -o wide
printf '%s\n' "${page:-}" | grep -o '<h1>.*</h1>' || fatal "the example app did not answer on :8080"
info "a one-node cluster is running the example app on http://127.0.0.1:8080/"
info "try: grove get pods; grove describe app hello; grove logs hello; grove delete app hello"
info "stop the server: kill \$(cat $PID_FILE)   (containers keep running; a restart re-adopts them)"

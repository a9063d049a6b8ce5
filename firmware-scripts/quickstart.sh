#!/usr/bin/env bash
# Grove quick start on a fresh Debian/Raspberry Pi OS machine, from this checkout:
# installs what is missing, builds Grove, and runs the example app (busybox httpd on :8080).
set -euo pipefail
cd "$(dirname "$0")/.."
info() { printf '[grove] %s\n' "$*"; }

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
grove ctr import "$archive"

grove ctr rm -f hello >/dev/null 2>&1 || true
grove ctr run -d --name hello --network host --memory 32m --cpus 0.5 --pids 64 grove.local/example/hello:1 >/dev/null
for _ in $(seq 1 50); do
  if page=$(busybox wget -q -O - http://127.0.0.1:8080/ 2>/dev/null); then break; fi
  sleep 0.1
done
grove ctr ps
printf '%s\n' "${page:-}" | grep -o '<h1>.*</h1>' || { echo "example app did not answer on :8080" >&2; exit 1; }
info "the example app answers on http://127.0.0.1:8080/ — try: grove ctr logs hello; grove ctr inspect hello; grove ctr rm -f hello"

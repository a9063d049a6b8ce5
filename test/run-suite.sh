#!/usr/bin/env bash
# The whole suite in two lanes: the five-minute flaky-link soak (it mostly waits) runs beside
# everything else, which runs one file at a time (vitest.config.ts). Both lanes must pass.
set -uo pipefail
cd "$(dirname "$0")/.."
SOAK=test/integration/flaky-link.test.ts
soak_log=$(mktemp /tmp/grove-soak-XXXXXX.log)
trap 'rm -f "$soak_log"' EXIT
npx vitest run "$SOAK" >"$soak_log" 2>&1 &
soak_pid=$!
npx vitest run --exclude "$SOAK" "$@"
main_rc=$?
wait "$soak_pid"
soak_rc=$?
echo "---- $SOAK (ran alongside) ----"
cat "$soak_log"
if [ "$main_rc" -ne 0 ] || [ "$soak_rc" -ne 0 ]; then exit 1; fi

#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: prerequisites, dependencies, build, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash firmware-scripts/install-deps.sh --test
npm ci --no-audit --no-fund
npm test

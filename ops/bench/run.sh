#!/usr/bin/env bash
# `make bench`: make sure the npm peers are installed, then run every benchmark.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT/ops/pouchdb" && { [ -d node_modules/pouchdb-server ] || npm ci --no-audit --no-fund --loglevel=error; }
cd "$ROOT" && exec "${PY:-python3}" -m ops.bench ${QUICK:+--quick} "$@"

#!/usr/bin/env bash
# The test command (README: `make test`): installs what the tests need, starts
# PouchDB Server (a CouchDB-API server) on loopback, runs ruff, mypy and pytest,
# and stops the server by its own PID. See shared/spec/test-environment.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

echo "== installing Python packages"
"$PY" -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "Running pip as the 'root'" || true

echo "== installing Debian packages for browser and PDF tests"
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v pdftotext >/dev/null 2>&1 || need="$need poppler-utils"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need="$need fonts-wqy-microhei"
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need) >/tmp/bangban-apt.log 2>&1 \
      || { echo "apt-get install$need failed:"; tail -20 /tmp/bangban-apt.log; exit 1; }
  else
    echo "missing Debian packages:$need (run as root or install them)"; exit 1
  fi
fi

echo "== installing npm packages (PouchDB Server 4.2.0, PouchDB 9)"
( cd ops/pouchdb && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi ) >/tmp/bangban-npm.log 2>&1 \
  || { echo "npm install failed:"; tail -20 /tmp/bangban-npm.log; exit 1; }

echo "== starting PouchDB Server"
pouch_env="$("$PY" -m ops.pouchdb_server start --shell)" \
  || { echo "PouchDB Server did not start: the CouchDB-backed tests cannot run"; exit 1; }
eval "$pouch_env"
trap '"$PY" -m ops.pouchdb_server stop --pid "$BANGBAN_POUCHDB_PID" --dir "$BANGBAN_POUCHDB_DIR"' EXIT
echo "PouchDB Server pid $BANGBAN_POUCHDB_PID at ${BANGBAN_TEST_COUCHDB_URL//:*@/://***@}"

echo "== ruff"
"$PY" -m ruff check .
echo "== mypy"
"$PY" -m mypy
echo "== pytest"
"$PY" -m pytest "$@"

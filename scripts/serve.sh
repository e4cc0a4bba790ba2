#!/usr/bin/env bash
# Install openrevox into .venv and run the server on 127.0.0.1:8000 (embedded default:
# SQLite file in ./openrevox-data, simulated phone network, sandbox agent).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/openrevox serve "$@"

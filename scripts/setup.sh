#!/usr/bin/env bash
# Creates .venv with gilbench, what its tests need and what examples/ imports (Pillow).
# Idempotent; safe on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${GILBENCH_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.gilbench-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup.sh -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install --quiet -e ".[test,examples]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import gilbench.cli" && touch "$stamp"
fi

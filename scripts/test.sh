#!/usr/bin/env bash
# Quickstart 2: set up everything the tests need, then check style and layers, then run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f scripts/install-chromium.sh ]; then bash scripts/install-chromium.sh; fi
echo "lint: ruff format --check, ruff check, import-linter (pyproject.toml)"
.venv/bin/ruff format --check --quiet src tests benchmarks examples
.venv/bin/ruff check --quiet src tests benchmarks examples
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"

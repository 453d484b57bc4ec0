#!/usr/bin/env bash
# Quickstart 1: set up, then `gilbench run` on its defaults (pass any gilbench run options).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gilbench run "$@"

#!/usr/bin/env bash
# Quickstart 2: set up everything the tests need, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f scripts/install-chromium.sh ]; then bash scripts/install-chromium.sh; fi
exec .venv/bin/python -m pytest "$@"

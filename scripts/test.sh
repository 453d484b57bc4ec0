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
# CPython with and without the GIL, from one source (tests/test_freethreaded.py runs them):
# about 5 minutes the first time on 2 cores, cached afterwards. Both variables set beforehand
# (say, to your own 3.14 and 3.14t) skip the build. A failed build must not lose the whole run:
# say why, loudly, and go on without them (those tests are skipped, naming the reason).
if [ -z "${GILBENCH_TEST_PYTHON:-}" ] || [ -z "${GILBENCH_TEST_PYTHON_FT:-}" ]; then
  echo "interpreters: scripts/build-python.sh (default and free-threaded CPython)"
  if built=$(bash scripts/build-python.sh) && [ "$(wc -l <<<"$built")" -eq 2 ]; then
    GILBENCH_TEST_PYTHON=$(sed -n 1p <<<"$built")
    GILBENCH_TEST_PYTHON_FT=$(sed -n 2p <<<"$built")
  else
    echo "!!! test.sh: scripts/build-python.sh could not build CPython (its reason is above):" \
         "the free-threaded tests will be SKIPPED; fix that and run scripts/test.sh again !!!" >&2
    unset GILBENCH_TEST_PYTHON GILBENCH_TEST_PYTHON_FT
  fi
fi
if [ -n "${GILBENCH_TEST_PYTHON_FT:-}" ]; then
  export GILBENCH_TEST_PYTHON GILBENCH_TEST_PYTHON_FT
  echo "interpreters: $GILBENCH_TEST_PYTHON and $GILBENCH_TEST_PYTHON_FT (free-threaded)"
fi
exec .venv/bin/python -m pytest "$@"

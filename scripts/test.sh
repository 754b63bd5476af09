#!/usr/bin/env bash
# One command: set everything up (packages, demo database, Chromium, LibreOffice) and run the whole suite.
# Extra arguments go to one pytest run instead (e.g. -k survival, or a test file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
if ! scripts/ensure_chromium.sh; then
  # Browser tests are part of the suite: in CI a missing browser fails the run.
  if [ -n "${CI:-}" ]; then echo "test: Chromium unavailable in CI" >&2; exit 1; fi
  echo "test: Chromium unavailable; browser tests will be skipped locally" >&2
fi
if ! scripts/ensure_libreoffice.sh; then
  # The deck test renders every slide with LibreOffice: in CI a missing LibreOffice fails the run.
  if [ -n "${CI:-}" ]; then echo "test: LibreOffice unavailable in CI" >&2; exit 1; fi
  echo "test: LibreOffice unavailable; the deck rendering test will be skipped locally" >&2
fi
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
# The whole suite on two cores: the tests without a browser in two workers (pytest-xdist; the
# reproduce scripts are subprocesses, one core each), then the browser tests in one process that
# shares one app server. Both parts always run; the suite fails if either fails.
status=0
.venv/bin/python -m pytest -n 2 --ignore=tests/e2e || status=$?
.venv/bin/python -m pytest tests/e2e || status=$?
exit "$status"

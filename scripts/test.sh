#!/usr/bin/env bash
# One command: set everything up (packages, demo database, Chromium, LibreOffice) and run the whole suite.
# Extra arguments go to pytest (e.g. -k survival).
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
exec .venv/bin/python -m pytest "$@"

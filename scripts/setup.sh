#!/usr/bin/env bash
# Set up everything the app needs on a fresh machine: a virtual environment with the pinned
# packages and the demo cohort database. Idempotent and quick when nothing changed.
#   scripts/setup.sh          runtime packages (requirements.txt)
#   scripts/setup.sh --dev    plus test packages (requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt
python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating virtual environment .venv"
  "$python" -m venv .venv
fi
# Reinstall only when the requirement files change (stamp = their checksum).
stamp=.venv/.requirements-$(cat requirements.txt "$requirements" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing $requirements"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$requirements"
  rm -f .venv/.requirements-*
  touch "$stamp"
fi
if [ ! -f data/cohort.duckdb ]; then
  .venv/bin/python -m analytics.build --source data/demo_cohort --out data/cohort.duckdb
fi

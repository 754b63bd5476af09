#!/usr/bin/env bash
# One command: set everything up and start the app on the bundled demo cohort.
# Extra arguments go to `streamlit run` (e.g. --server.port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# ui.warm_start = `streamlit run`, with the heavy imports and the cohort file warmed while it starts
exec .venv/bin/python -m ui.warm_start streamlit_app.py "$@"

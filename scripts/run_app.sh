#!/usr/bin/env bash
# One command: set everything up and start the app on the bundled demo cohort.
# Extra arguments go to `streamlit run` (e.g. --server.port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/streamlit run streamlit_app.py "$@"

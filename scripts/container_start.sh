#!/usr/bin/env bash
# Start command of the container image (Dockerfile CMD); also runnable outside Docker with the
# packages on PATH (tests/test_container_start.py does exactly that).
# Builds the demo database when the configured cohort is the (missing) demo file, then serves
# the app on all interfaces. BALL_COHORT_DB, BALL_PUBLIC_DEPLOYMENT, BALL_SMALL_CELL_K and a
# mounted .streamlit/secrets.toml configure it (README "Share with collaborators").
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8501}
if [ -z "${BALL_COHORT_DB:-}" ] && [ ! -f data/cohort.duckdb ]; then
  python -m analytics.build --source data/demo_cohort --out data/cohort.duckdb
fi
# ui.warm_start = `streamlit run`, with the heavy imports, the cohort file and the memory settings of run_app.sh
exec python -m ui.warm_start streamlit_app.py \
  --server.address 0.0.0.0 --server.port "$port" --server.headless true "$@"

# Institutional hosting: one stateless app container serving a read-only cohort file.
#   docker build -t ball-cohort .
#   docker run -p 8501:8501 ball-cohort                                   # the demo cohort
#   docker run -p 8501:8501 -v /srv/cohorts:/cohorts:ro \
#     -e BALL_COHORT_DB=/cohorts/site.duckdb -e BALL_PUBLIC_DEPLOYMENT=1 ball-cohort
# Sign-in gate: mount secrets at /app/.streamlit/secrets.toml (README "Share with collaborators").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=8501
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY streamlit_app.py ./
COPY .streamlit/config.toml .streamlit/config.toml
COPY analytics/ analytics/
COPY pages/ pages/
COPY ui/ ui/
COPY data/demo_cohort/ data/demo_cohort/
COPY data/dictionary.csv data/dictionary.csv
COPY data/published_series.csv data/published_series.csv
COPY scripts/container_start.sh scripts/container_start.sh
# The demo database is built with the pinned DuckDB at image build time (read-only at run time).
RUN python -m analytics.build --source data/demo_cohort --out data/cohort.duckdb \
    && useradd --create-home --uid 10001 app
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8501\")}/_stcore/health', timeout=4)"
CMD ["scripts/container_start.sh"]

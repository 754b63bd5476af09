"""Cohort overview (being split by concept; this step only moves the modules)."""
from analytics.overview.table_one import *  # noqa: F401,F403
from analytics.overview.table_one import _CONTINUOUS_SQL, _fmt  # noqa: F401

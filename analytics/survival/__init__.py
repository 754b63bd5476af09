"""Survival analysis (being split by concept; this step only moves the module)."""
from analytics.survival.km import *  # noqa: F401,F403
from analytics.survival.km import (DAYS_PER_MONTH, _group_expression, _groups, _patient_sql)  # noqa: F401

"""Leukemia kinetics after lenalidomide withdrawal (being split by concept; this step only moves the module)."""
from analytics.withdrawal.kinetics import *  # noqa: F401,F403
from analytics.withdrawal.kinetics import _compare, _fmt, _overview, _therapy_marks  # noqa: F401

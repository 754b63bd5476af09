"""Response to B-ALL therapy (being split by concept; this step only moves the modules)."""
from analytics.response.rates import *  # noqa: F401,F403
from analytics.response.rates import (DAYS_PER_MONTH, _STATUS_SQL, _REL_TOL, _log_table_prob,  # noqa: F401
                                      _margin_const, _mrd_rows)

"""Response to B-ALL therapy: best response (`rates`), comparisons by feature (`comparison`,
with the r x c exact test `analytics.stats.freeman_halton`), MRD (`mrd`), time to CR (`time_to_response`), current
status (`status`), the treatment-flow diagram (`flow`) and the swimmer plot (`swimmer`).

Conventions (stated on the page):

* **Best response** is the best recorded response over all lines (patient_summary.best_response:
  CR > CRi > PR > refractory > not evaluable). The denominator is the treated patients with a
  recorded response assessment; "not evaluable" (e.g. death before assessment) is a recorded
  outcome and stays in the denominator, whereas a treated patient with *no* assessment recorded
  is unknown, shown apart and never counted as a non-response.
* Proportions carry exact (Clopper-Pearson) 95% intervals (`analytics.stats.clopper_pearson`).
* Comparisons of the CR/CRi rate between groups: Fisher's exact test for two groups
  (`analytics.stats.fisher_exact_2x2`, with the conditional MLE odds ratio as R reports it),
  the Freeman-Halton extension for more (`analytics.stats.freeman_halton`). Patients whose feature is not
  evaluated (NULL) are listed in their own row and left out of the test.
* **MRD** among responders and **time to CR/CRi**: see `mrd` and `time_to_response`.

The names other packages use are importable from here: `from analytics import response;
response.best_response_summary(...)`.
"""
from analytics.filters import NOT_EVALUATED
from analytics.response.rates import (AGE_GROUP_CUT, DEFAULT_GROUP, GROUP_FEATURES, IDS_LISTED, NO_ASSESSMENT,
                                      RESPONDER, RESPONSE_COLORS, RESPONSE_LABELS, RESPONSES,
                                      BestResponseSummary, best_response_brief, best_response_chart,
                                      best_response_figure, best_response_summary,
                                      untreated_brief, untreated_patients)
from analytics.response.comparison import GroupComparison, group_rate_chart, group_rate_figure, response_by_group
from analytics.response.time_to_response import TIME_ORIGINS, TimeToCr, time_to_cr, time_to_cr_brief
from analytics.response.mrd import MrdSummary, format_sensitivity, mrd_rows, mrd_summary, responder_table
from analytics.response.status import (ALIVE_NED, PATHWAYS, STATUS_AT_LAST_CONTACT, STATUS_ORDER, STATUS_SQL,
                                       alive_ned_count, current_status, current_status_table, status_counts)
from analytics.response import comparison, flow, mrd, rates, status, swimmer, time_to_response

__all__ = [
    "AGE_GROUP_CUT", "DEFAULT_GROUP", "GROUP_FEATURES", "IDS_LISTED", "NO_ASSESSMENT", "NOT_EVALUATED", "RESPONDER",
    "RESPONSE_COLORS", "RESPONSE_LABELS", "RESPONSES", "BestResponseSummary", "best_response_brief",
    "best_response_chart", "best_response_figure", "best_response_summary",
    "untreated_brief", "untreated_patients",
    "GroupComparison", "group_rate_chart", "group_rate_figure", "response_by_group",
    "TIME_ORIGINS", "TimeToCr", "time_to_cr", "time_to_cr_brief",
    "MrdSummary", "format_sensitivity", "mrd_rows", "mrd_summary", "responder_table",
    "ALIVE_NED", "PATHWAYS", "STATUS_AT_LAST_CONTACT", "STATUS_ORDER", "STATUS_SQL", "alive_ned_count",
    "current_status", "current_status_table", "status_counts",
    "comparison", "flow", "mrd", "rates", "status", "swimmer", "time_to_response",
]

"""The headline results of the current views, for the deck's summary slide and the report.

Each number comes from the view that shows it on its page: n and the genomic headlines from
Table 1 (overview), CR/CRi among treated and alive without B-ALL from the response analytics,
the median of the survival page's current endpoint (whole population of that view) from its
Kaplan-Meier view. Counts below k read "<k" under small-cell suppression.
"""
from __future__ import annotations

import math

import pandas as pd

from analytics import overview, response
from analytics.db import CohortDatabase
from analytics.disclosure import suppress_table_one, suppressed_cells, suppressed_label
from analytics.filters import CohortFilter
from analytics.format import number, percent, percent_range
from analytics.views import survival as survival_views
from analytics.views.result import ViewResult

# (Table 1 characteristic, level, label): the reference study's genomic headlines
TABLE_ONE_HEADLINES = (("TP53", "mutated", "TP53 mutated"),
                       ("Ploidy category", "low hypodiploid", "Low hypodiploid"))


def _fraction(n: int, d: int, k: int, ci: tuple[float, float] | None = None) -> str:
    if d == 0:
        return "none evaluable"
    if suppressed_cells([n, d - n], k)[0]:
        return suppressed_label(n, d, k)
    text = f"{n}/{d} ({percent(n / d, 0)})"
    if ci is not None and not any(math.isnan(x) for x in ci):
        text += f", 95% CI {percent_range(ci[0], ci[1], 0, separator=' to ')}"
    return text


def headline(db: CohortDatabase, cohort_filter: CohortFilter, survival_spec=None,
             small_cell_k: int = 0) -> ViewResult:
    """Headline rows (Characteristic, Value) of the filtered cohort.

    >>> from analytics.build import build_in_memory
    >>> h = headline(build_in_memory("data/demo_cohort"), CohortFilter())
    >>> h.tables["rows"]["Characteristic"].tolist()[:3]
    ['Patients', 'CR or CRi among treated patients with an assessment', 'Median event-free survival']
    """
    k = small_cell_k
    t1 = suppress_table_one(overview.table_one(db, cohort_filter), k)
    n = int(t1.loc[t1["kind"] == "count", "n"].iloc[0])
    rows = [("Patients", t1.loc[t1["kind"] == "count", "display"].iloc[0])]
    best = response.best_response_brief(db, cohort_filter)
    rows.append(("CR or CRi among treated patients with an assessment",
                 _fraction(best.n_responders, best.n_treated_assessed, k, (best.ci_low, best.ci_high))))
    spec = (survival_spec or survival_views.SurvivalPageSpec()).with_(group="", cutoff=None)
    km = survival_views.km(db, cohort_filter, spec, k)
    label = f"Median {km.title.removeprefix('Survival: ').lower()}"
    median = km.numbers.get("median_months")
    if median is None:
        rows.append((label, "no patient analysed"))
    else:
        lo, hi = km.numbers["median_ci_lower_months"], km.numbers["median_ci_upper_months"]
        fmt = (lambda m: "not reached" if math.isinf(m) else number(m, 1, missing="n/a"))
        value = "not reached" if math.isinf(median) else number(median, 1, suffix=" months")
        rows.append((label, f"{value} (95% CI {fmt(lo)} to {fmt(hi)}), "
                            f"{survival_views.survival.POPULATIONS[spec.population].lower()}, "
                            f"from {survival_views.survival.ORIGINS[spec.origin]}"))
    for characteristic, level, text in TABLE_ONE_HEADLINES:
        row = t1[(t1["characteristic"] == characteristic) & (t1["level"] == level)]
        if row.empty:
            continue
        r = row.iloc[0]
        not_evaluated = t1[(t1["characteristic"] == characteristic) & (t1["kind"] == "not evaluated")]
        missing = f"; {not_evaluated['display'].iloc[0].split(' ')[0]} not evaluated" if len(not_evaluated) else ""
        value = r["display"] if k > 1 else _fraction(int(r["n"]), int(r["evaluable"]), 0,
                                                    (r["ci_low"], r["ci_high"]))
        rows.append((f"{text} (of evaluable)", f"{value}{missing}"))
    alive, total = response.alive_ned_count(db, cohort_filter)
    rows.append(("Alive without evidence of B-ALL at last contact", _fraction(alive, total, k)))
    table = pd.DataFrame(rows, columns=["Characteristic", "Value"])
    return ViewResult(page="overview", key="headline", title="Headline results",
                      caption="n / evaluable (%) with exact (Clopper-Pearson) 95% CIs; not evaluated is "
                              "never counted as negative. Median with 95% CI (log(-log) Greenwood).",
                      n_patients=n, tables={"rows": table})

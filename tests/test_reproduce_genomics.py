"""Reproduce in Python, genomics page: each view's script runs in a fresh interpreter without the
app and prints the page's tables and lines word for word (default view and two non-default views
per view, on the demo and a synthetic cohort, filtered cohorts included); its notebook executes."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import reproduce
from analytics.db import CohortDatabase
from analytics.filters import NOT_EVALUATED, CohortFilter
from analytics.views import genomics as views
from tests.reproduce_helpers import execute_notebook, assert_table_printed, provenance, run_view, spec_from, table_lines

SITE_B = CohortFilter(institution=("Site B",))
TP53_MUTATED = CohortFilter(tp53=("mutated",))
TP53_NOT_TESTED = CohortFilter(tp53=(NOT_EVALUATED,))
LOW_HYPODIPLOID = CohortFilter(ploidy=("low hypodiploid",))

# per view: (link parameters, cohort filter) of the default and two non-default views
VIEWS = {
    "frequencies": [({}, CohortFilter()), ({}, SITE_B), ({}, TP53_NOT_TESTED)],
    "oncoprint": [({}, CohortFilter()), ({"onco_sort": "TP53"}, CohortFilter()),
                  ({"onco_sort": "Best response"}, SITE_B)],
    "cooccurrence": [({}, CohortFilter()), ({"co_a": "NRAS", "co_b": "KRAS"}, CohortFilter()),
                     ({"co_a": "BCR::ABL1", "co_b": "Hyperdiploid"}, SITE_B)],
    "cooccurrence_pairs": [({}, CohortFilter()), ({}, SITE_B), ({}, LOW_HYPODIPLOID)],
    "karyotype": [({}, CohortFilter()), ({}, TP53_MUTATED), ({}, SITE_B)],
    "mutations": [({}, CohortFilter()), ({"mut_genes": ["TP53", "NRAS"], "mut_min_vaf": "0.3"}, CohortFilter()),
                  ({"mut_classes": ["Missense_Mutation", "Splice_Site"]}, SITE_B)],
    "tp53": [({}, CohortFilter()), ({}, SITE_B), ({}, TP53_NOT_TESTED)],
    "tp53_vaf": [({}, CohortFilter()), ({}, SITE_B), ({}, LOW_HYPODIPLOID)],
}
CASES = [(name, i) for name, cases in VIEWS.items() for i in range(len(cases))]
# The page's TP53 variant table (pages/genomics.py): these columns, these headers.
TP53_COLUMNS = {"patient_id": "Patient", "protein_change": "Protein change", "variant_class": "Class",
                "vaf": "VAF", "position": "Position", "assay": "Assay"}
# The page's karyotype table (pages/genomics.py): these columns, these headers.
KARYOTYPE_COLUMNS = {"patient_id": "Patient", "karyotype": "Karyotype (ISCN)", "clones": "Clones",
                     "modal_recorded": "Modal (recorded)", "modal_parsed": "Modal (parsed from ISCN)",
                     "category_recorded": "Ploidy category (expert)", "parse_status": "Parser",
                     "masked_hypodiploidy_flag": "Review flag", "tp53_status": "TP53"}


def formatted(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """`frame` with the columns the page formats (st.column_config) as the page shows them."""
    out = frame.copy()
    for column, fmt in formats.items():
        out[column] = [fmt % v if pd.notna(v) else str(v) for v in frame[column]]
    return out.astype(object)


def oncoprint_lines(chart) -> list[str]:
    """The matrix the oncoprint figure draws: a line per row (clinical tracks, ploidy, alterations),
    a cell per drawn patient in the figure's column order (value, and the VAF % a cell shows)."""
    order = chart.vconcat[0].to_dict()["encoding"]["x"]["sort"]
    cells, rows = {}, []
    for part in chart.vconcat[:6]:
        for r in part.data.itertuples():
            cells[(r.track, r.patient_id)] = r.value
            if r.track not in rows:
                rows.append(r.track)
    alterations = chart.vconcat[6].data
    for r in alterations.itertuples():
        cells[(r.feature, r.patient_id)] = r.value + (f" {r.vaf_text}" if r.vaf_text else "")
    rows += chart.vconcat[6].to_dict()["layer"][0]["encoding"]["y"]["sort"]
    return ["\t".join(["Row", *order])] + ["\t".join([row, *(cells[(row, p)] for p in order)]) for row in rows]


def check(name: str, result, printed: list[str], folder) -> None:
    """The page's `result` of view `name` appears in the script's output word for word."""
    if name == "frequencies":
        assert_table_printed(printed, result.tables["Alteration frequencies"])
        for feature, m in result.numbers.items():
            assert (f"{feature} (altered / evaluable): {m['value']}; {m['not_evaluated']} not evaluated · "
                    f"95% CI {m['ci']}") in printed
    elif name == "oncoprint":
        expected = oncoprint_lines(result.figure)
        start = printed.index(expected[0])
        assert printed[start:start + len(expected)] == expected
        assert result.figure.title.text in printed
    elif name == "cooccurrence":
        table = result.tables["2×2 table"]
        assert_table_printed(printed, table.rename_axis("").reset_index())
    elif name == "cooccurrence_pairs":
        table = result.tables["All pairs"]
        if len(table):
            assert_table_printed(printed, formatted(table, {"Fisher p": "%.3g", "BH q": "%.3g"}))
        assert result.caption.split(" Blue = ")[0] in printed
    elif name == "karyotype":
        table = result.tables["Karyotypes"]
        if len(table):
            assert_table_printed(printed, table[list(KARYOTYPE_COLUMNS)].rename(columns=KARYOTYPE_COLUMNS))
        assert result.caption in printed
    elif name == "mutations":
        assert_table_printed(printed, formatted(result.tables["Mutations"], {"vaf": "%.2f"}))
        assert result.caption in printed
    elif name == "tp53":
        table = result.tables["TP53 variants"]
        if len(table):
            assert_table_printed(printed, formatted(table[list(TP53_COLUMNS)].rename(columns=TP53_COLUMNS),
                                                    {"VAF": "%.2f"}))
            unplaced = result.caption.partition("No position could be read for: ")[2]
            assert not unplaced or f"No position could be read for: {unplaced}" in printed
        else:
            assert result.caption in printed
    elif name == "tp53_vaf":
        if result.figure is None:
            assert result.caption in printed
        else:  # the figure's dots (one per variant with a VAF; fewer than the binned figure's threshold)
            dots = result.figure.data[["patient_id", "protein_change", "class_group", "vaf_pct"]]
            assert_table_printed(printed, formatted(dots.set_axis(["Patient", "Protein change", "Class", "VAF %"],
                                                                  axis=1), {"VAF %": "%.0f"}))
    for line in result.lines:
        assert line in printed
    for caveat in result.caveats:
        if caveat.heading != "Link option not used":  # a link's fallback is a comment in the script
            assert caveat.sentence() in printed
    if result.figure is not None:
        assert (folder / f"{result.figure_name}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("cohort,name,case", [
    (cohort, name, case) for cohort in ("demo", "synthetic") for name, case in CASES
    # the TP53 views (a table and a strip of dots): the default view only on the synthetic cohort
    if cohort == "demo" or not name.startswith("tp53") or case == 0], ids=str)
def test_script_prints_the_pages_numbers(reproduce_cohorts, cohort, name, case, tmp_path):
    params, cohort_filter = VIEWS[name][case]
    result, printed = run_view(getattr(views, name), f"genomics.{name}", reproduce_cohorts[cohort], params,
                               tmp_path, cohort_filter)
    assert result.key == f"genomics.{name}"
    check(name, result, printed, tmp_path)


@pytest.mark.parametrize("params,cohort_filter", [
    ({"onco_sort": "del(9p)"}, CohortFilter()),                 # a structural aberration read from ISCN
    ({"onco_sort": "Institution", "co_a": "NRAS", "co_b": "NRAS"}, CohortFilter(sex=("F",))),
])
def test_more_demo_views(reproduce_cohorts, params, cohort_filter, tmp_path):
    """Oncoprint sorts by a karyotype aberration and by an alphabetical track; the same alteration twice."""
    data_file = reproduce_cohorts["demo"]
    result, printed = run_view(views.oncoprint, "genomics.oncoprint", data_file, params, tmp_path, cohort_filter)
    check("oncoprint", result, printed, tmp_path)
    if "co_a" in params:
        result, printed = run_view(views.cooccurrence, "genomics.cooccurrence", data_file, params, tmp_path,
                                   cohort_filter)
        assert printed[-1] == result.lines[0] == "Pick two different alterations."


def test_a_selection_nobody_was_tested_in(reproduce_cohorts, tmp_path):
    """Patients never sequenced, karyotyped or tested for BCR::ABL1: nothing counted, said so."""
    untested = CohortFilter(bcr_abl1=(NOT_EVALUATED,), tp53=(NOT_EVALUATED,), ploidy=(NOT_EVALUATED,))
    result, printed = run_view(views.frequencies, "genomics.frequencies", reproduce_cohorts["synthetic"], {},
                               tmp_path, untested)
    assert result.n_patients >= 1 and result.caveats[0].heading == "Nothing to count"
    check("frequencies", result, printed, tmp_path)


def test_frequency_intervals_are_exact_and_count_only_evaluated_patients(reproduce_cohorts, tmp_path):
    """The script says how it computes: scipy's exact binomial interval over evaluated patients."""
    db = CohortDatabase.open_file(reproduce_cohorts["demo"])
    try:
        text = reproduce.script("genomics.frequencies", db, CohortFilter(), views.GenomicsSpec(),
                                provenance(reproduce_cohorts["demo"]))
    finally:
        db.close()
    assert 'proportion_ci(confidence_level=0.95, method="exact")' in text
    assert 'evaluable = int((status[feature] != NOT_EVALUATED).sum())' in text


def test_links_with_values_the_cohort_lacks_use_the_pages_fallback(reproduce_cohorts, tmp_path):
    """A linked gene the synthetic cohort lacks: page and script both fall back (`checked`)."""
    spec = spec_from("genomics", {"co_a": "del(9p)", "co_b": "NRAS"})  # del(9p) is in the demo only
    result, printed = run_view(views.cooccurrence, "genomics.cooccurrence", reproduce_cohorts["synthetic"], {},
                               tmp_path, spec=spec)
    assert result.lines[0].startswith("TP53 × NRAS: ")
    notice = 'co_a: "del(9p)" is not an alteration of this cohort; TP53 is used.'
    assert f"# Link option not used (as on the page): {notice}" in (tmp_path / "view.py").read_text()
    check("cooccurrence", result, printed, tmp_path)


def test_notebook_executes(reproduce_cohorts, tmp_path):
    import nbformat
    data_file = reproduce_cohorts["demo"]
    db = CohortDatabase.open_file(data_file)
    try:
        script = reproduce.script("genomics.cooccurrence_pairs", db, CohortFilter(), views.GenomicsSpec(),
                                  provenance(data_file))
        result = views.cooccurrence_pairs(db, CohortFilter(), views.GenomicsSpec())
    finally:
        db.close()
    book = nbformat.reads(reproduce.notebook(script), as_version=4)
    assert book.cells[0].cell_type == "markdown" and len(book.cells) >= 5
    outputs = execute_notebook(book, tmp_path)
    assert "\n".join(table_lines(formatted(result.tables["All pairs"], {"Fisher p": "%.3g", "BH q": "%.3g"}))) \
        in outputs
    assert (tmp_path / "cooccurrence.png").exists()


def _script_functions(snippet: str) -> dict:
    """The functions a script snippet defines (run with the imports the scripts have)."""
    namespace: dict = {}
    exec("import math\nimport pandas as pd\nfrom scipy.stats import fisher_exact\n"  # noqa: S102 (our own text)
         "from scipy.stats.contingency import odds_ratio\nNOT_EVALUATED = 'not evaluated'\n" + snippet, namespace)
    return namespace


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=4, max_size=4).filter(lambda cells: sum(cells) > 0))
def test_script_fisher_equals_the_apps(cells):
    """scipy's Fisher p and conditional-MLE odds ratio with exact CI (the scripts) equal the app's own
    computation (analytics.stats) to 1e-6 relative; both give no estimate when a margin is zero."""
    import math

    from analytics.reproduce.genomics import FISHER_CELL
    from analytics.stats import fisher_exact_2x2
    fisher = _script_functions(FISHER_CELL)["fisher"]
    table = [cells[:2], cells[2:]]
    app = fisher_exact_2x2(table)
    for script_value, app_value in zip(fisher(table), (app.p_value, app.conditional_odds_ratio, app.ci_low, app.ci_high)):
        if math.isnan(app_value) or math.isinf(app_value) or app_value == 0:
            assert script_value == app_value or (math.isnan(script_value) and math.isnan(app_value))
        else:
            assert script_value == pytest.approx(app_value, rel=1e-6)

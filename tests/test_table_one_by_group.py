"""Table 1 by group: every column is Table 1 of that group, tests named per row and equal to
scipy on the same counts, not-evaluated patients never tested, Word output."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
from scipy import stats

from analytics import overview
from analytics.overview import by_group
from analytics.filters import NOT_EVALUATED, CohortFilter


def _brute_force_rx2(table) -> float:
    """Independent Freeman-Halton p for an r x 2 table: every table with the same margins,
    its hypergeometric probability, summed over those no more likely than the observed."""
    import itertools
    rows, first = table.sum(axis=1), int(table[:, 0].sum())
    n = int(rows.sum())
    def prob(column):
        return math.prod(math.comb(int(r), int(c)) for r, c in zip(rows, column)) / math.comb(n, first)
    observed = prob(table[:, 0])
    total = 0.0
    for column in itertools.product(*(range(int(r) + 1) for r in rows)):
        if sum(column) == first:
            p = prob(column)
            if p <= observed * (1 + 1e-7):
                total += p
    return total


@pytest.mark.parametrize("grouping", list(by_group.GROUPINGS))
def test_columns_are_table_one_of_each_group(demo_db, grouping):
    result = by_group.table_one_by_group(demo_db, CohortFilter(), grouping)
    overall = overview.table_one(demo_db, CohortFilter())
    assert result.table["Overall"].tolist() == overall["display"].tolist()
    assert sum(n for name, n in result.n_by_column.items() if name != "Overall") == result.n_by_column["Overall"]
    patients = result.table[result.table["kind"] == "count"].iloc[0]
    for column in result.columns:
        assert str(patients[column]) == str(result.n_by_column[column])


def test_categorical_p_values_equal_scipy_on_evaluated_counts(demo_db):
    result = by_group.table_one_by_group(demo_db, CohortFilter(), "tp53_status")
    table = demo_db.query("""SELECT tp53_status, cd20 FROM patient_summary
                             WHERE tp53_status IS NOT NULL AND cd20 IS NOT NULL""")
    counts = table.groupby(["cd20", "tp53_status"]).size().unstack(fill_value=0).to_numpy()
    row = result.table[result.table["characteristic"] == "CD20"].iloc[0]
    assert row["test"] == "Fisher's exact test"
    assert row["p"] == pytest.approx(stats.fisher_exact(counts).pvalue, abs=1e-12)
    ploidy = result.table[result.table["characteristic"] == "Ploidy category"].iloc[0]
    assert ploidy["test"] == "Fisher-Freeman-Halton exact test"
    t = demo_db.query("""SELECT ploidy_category, tp53_status FROM patient_summary
                         WHERE tp53_status IS NOT NULL AND ploidy_category IS NOT NULL""")
    rxc = t.groupby(["ploidy_category", "tp53_status"]).size().unstack(fill_value=0).to_numpy()
    assert ploidy["p"] == pytest.approx(_brute_force_rx2(rxc), abs=1e-9)
    assert result.table.loc[result.table["characteristic"] == "TP53", "test"].iloc[0] == "the grouping itself"


def test_continuous_tests_named_and_equal_scipy(demo_db):
    two = by_group.table_one_by_group(demo_db, CohortFilter(), "sex")
    ages = demo_db.query("SELECT sex, age_at_ball_dx FROM patient_summary")
    row = two.table[two.table["characteristic"] == "Age at B-ALL diagnosis, years"].iloc[0]
    expected = stats.mannwhitneyu(ages.loc[ages["sex"] == "F", "age_at_ball_dx"],
                                  ages.loc[ages["sex"] == "M", "age_at_ball_dx"], alternative="two-sided").pvalue
    assert row["test"] == "Wilcoxon rank-sum test" and row["p"] == pytest.approx(expected, abs=1e-12)
    three = by_group.table_one_by_group(demo_db, CohortFilter(), "first_line_regimen_category")
    row = three.table[three.table["characteristic"] == "Age at B-ALL diagnosis, years"].iloc[0]
    assert row["test"] == "Kruskal-Wallis test"
    data = demo_db.query("SELECT first_line_regimen_category AS g, age_at_ball_dx AS x FROM patient_summary "
                         "WHERE first_line_regimen_category IS NOT NULL")
    assert row["p"] == pytest.approx(stats.kruskal(*[d["x"] for _, d in data.groupby("g")]).pvalue, abs=1e-12)


def test_not_evaluated_group_is_shown_but_never_tested(demo_db):
    result = by_group.table_one_by_group(demo_db, CohortFilter(), "tp53_status")
    assert NOT_EVALUATED in result.columns and result.n_by_column[NOT_EVALUATED] == 13
    row = result.table[result.table["characteristic"] == "CD20"].iloc[0]
    evaluated_only = demo_db.query("""SELECT tp53_status, cd20 FROM patient_summary WHERE cd20 IS NOT NULL""")
    with_ne = evaluated_only.fillna({"tp53_status": "ne"}).groupby(["cd20", "tp53_status"]).size().unstack(fill_value=0)
    assert row["p"] != pytest.approx(stats.fisher_exact(with_ne.to_numpy()).pvalue, abs=1e-9)
    assert any("left out of every test" in note for note in result.notes)


def test_post_baseline_groupings_carry_the_caveat(demo_db):
    for grouping in ("hct", "best_response"):
        notes = " ".join(by_group.table_one_by_group(demo_db, CohortFilter(), grouping).notes)
        assert "known only after treatment started" in notes
    assert not any("after treatment" in n for n in by_group.table_one_by_group(demo_db, CohortFilter(), "sex").notes)


def test_single_patient_and_empty_filters(demo_db):
    one = by_group.table_one_by_group(demo_db, CohortFilter(age=(48, 48)), "sex")
    assert one.n_by_column["Overall"] == 1
    assert all(math.isnan(p) for p in one.table["p"])  # one group: nothing to compare
    empty = by_group.table_one_by_group(demo_db, CohortFilter(tp53=("mutated",), bcr_abl1=("positive",)), "sex")
    assert empty.columns == ["Overall"] and empty.n_by_column == {"Overall": 0}


def test_word_table(demo_db):
    from docx import Document
    result = by_group.table_one_by_group(demo_db, CohortFilter(), "hct")
    document = Document(io.BytesIO(by_group.to_docx(result, "Table 1 by allogeneic HCT", "n / evaluable (%)")))
    table = document.tables[0]
    shown = by_group.display(result)
    assert len(table.rows) == len(shown) + 1 and len(table.columns) == len(shown.columns)
    assert table.rows[0].cells[-1].text == "Test" and "Overall (n = 32)" in table.rows[0].cells[2].text
    text = "\n".join(p.text for p in document.paragraphs)
    assert "known only after treatment started" in text
    assert np.isnan(result.table["p"].iloc[0])


# --- the overview page -------------------------------------------------------------------------------
from tests.apptest_helpers import EMPTY, SINGLE, all_text, run_page  # noqa: E402


def test_overview_page_table_one_by_hct():
    at = run_page("pages/overview.py", {"t1_group": "hct"})
    assert not at.exception
    text = all_text(at)
    assert "Table 1 by Allogeneic HCT" in text and "known only after treatment started" in text
    table = at.dataframe[0].value
    assert list(table.columns)[-2:] == ["p", "Test"] and "Overall (n = 32)" in table.columns
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download Table 1 by group (CSV)" in labels and "Download Table 1 by group (Word)" in labels


@pytest.mark.parametrize("query", [EMPTY, SINGLE])
def test_overview_page_grouped_under_filters(query):
    at = run_page("pages/overview.py", {**query, "t1_group": "sex"})
    assert not at.exception


def test_overview_page_grouped_withheld_under_suppression(monkeypatch):
    monkeypatch.setenv("BALL_SMALL_CELL_K", "5")
    at = run_page("pages/overview.py", {"t1_group": "tp53_status"})
    assert not at.exception
    assert "Table 1 by group is withheld" in all_text(at)


def test_table_one_by_group_on_a_loaded_cohort():
    """A cohort loaded on the upload page (five patients cut from the demo) grouped by sex."""
    from tests.test_import_apptest import XLSX, small_cohort, upload
    at = run_page("pages/upload.py")
    upload(at, ("my_cohort.xlsx", small_cohort(), XLSX))
    at.button(key="upload_load").click().run()
    assert not at.exception
    at.session_state["overview.t1_group"] = "sex"
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "Overall (n = 5)" in table.columns
    assert sum(int(c.split("n = ")[1].rstrip(")")) for c in table.columns if "n = " in c and "Overall" not in c) == 5
    assert "Small groups" in all_text(at)

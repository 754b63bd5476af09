"""CohortFilter: SQL from an allow-list, 'not evaluated' as its own value, URL round trip."""
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import cohort
from analytics.filters import FILTER_COLUMNS, NOT_EVALUATED, CohortFilter

TEXT = st.text(min_size=1, max_size=12).filter(lambda s: "-" not in s)
filters = st.builds(
    CohortFilter,
    institution=st.tuples(TEXT) | st.just(()),
    sex=st.sampled_from([(), ("F",), ("M",), ("F", "M")]),
    age=st.none() | st.tuples(st.integers(18, 110), st.integers(18, 110)).map(lambda t: tuple(sorted(t))),
    tp53=st.sampled_from([(), ("mutated",), (NOT_EVALUATED,), ("wild-type", NOT_EVALUATED)]),
    treated=st.sampled_from([None, True, False]),
    hct=st.sampled_from([None, True, False]),
)


@given(filters)
def test_url_round_trip(cohort_filter):
    assert CohortFilter.from_query_params(cohort_filter.to_query_params()) == cohort_filter


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=20) | st.lists(st.text(max_size=8))))
def test_arbitrary_url_parameters_never_raise(params):
    CohortFilter.from_query_params(params)


@given(st.text(max_size=30))
def test_user_values_are_parameters_never_sql(value):
    where, params = CohortFilter(institution=(value,)).where_sql()
    assert where == "(institution IN (?))"  # the SQL text never depends on the value
    assert params == [value]


@settings(max_examples=60, deadline=None)
@given(filters)
def test_sql_matches_the_same_filter_in_pandas(demo_db, cohort_filter):
    summary = cohort.filtered_summary(demo_db, CohortFilter())
    expected = pd.Series(True, index=summary.index)
    for name in ("institution", "sex", "tp53"):
        chosen = getattr(cohort_filter, name)
        if chosen:
            column = summary[FILTER_COLUMNS[name]]
            expected &= column.isin([v for v in chosen if v != NOT_EVALUATED]) | (
                column.isna() & (NOT_EVALUATED in chosen))
    if cohort_filter.age:
        expected &= summary.age_at_ball_dx.between(*cohort_filter.age)
    for name in ("treated", "hct"):
        if getattr(cohort_filter, name) is not None:
            expected &= summary[name] == getattr(cohort_filter, name)
    assert cohort.count_patients(demo_db, cohort_filter) == int(expected.sum())


def test_not_evaluated_is_never_folded_into_negative(demo_db):
    tested = cohort.count_patients(demo_db, CohortFilter(tp53=("wild-type",)))
    untested = cohort.count_patients(demo_db, CohortFilter(tp53=(NOT_EVALUATED,)))
    mutated = cohort.count_patients(demo_db, CohortFilter(tp53=("mutated",)))
    assert tested + untested + mutated == cohort.count_patients(demo_db, CohortFilter())
    assert untested > 0


def test_filter_options_offer_not_evaluated_only_where_data_are_missing(demo_db):
    options = cohort.filter_options(demo_db)
    assert NOT_EVALUATED in options["tp53"] and NOT_EVALUATED in options["ploidy"]
    assert NOT_EVALUATED not in options["bcr_abl1"]  # everyone was tested in the demo cohort
    assert options["age"] == (48, 81)


def test_patient_order_is_stable_under_filters(demo_db):
    everyone = cohort.patient_order(demo_db)
    subset = cohort.patient_order(demo_db, CohortFilter(tp53=("mutated",)))
    assert [p for p in everyone if p in subset] == subset


def test_describe_is_readable():
    text = CohortFilter(tp53=("mutated",), age=(60, 70), hct=True).describe()
    assert text == "Age at B-ALL diagnosis 60-70 y; TP53: mutated; Allogeneic HCT: yes"
    assert CohortFilter().describe() == "no filters"

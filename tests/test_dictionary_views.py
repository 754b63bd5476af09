"""Dictionary view: the search option in the link, and the searched columns."""
import pytest
from hypothesis import given, settings, strategies as st

from analytics import dictionary
from analytics.filters import CohortFilter
from analytics.views import dictionary as views
from analytics.views.dictionary import DictionarySpec


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(categories=("L", "N", "P", "Zs")), max_size=40))
def test_search_round_trips_through_the_link(text):
    spec = DictionarySpec(search=text).validated()
    text = spec.search
    back, notices = DictionarySpec.from_params(dict(spec.to_params()))
    assert back == spec and notices == []
    assert [key for key, _ in spec.to_params()] == (["dict_search"] if text else [])


@pytest.mark.parametrize("raw", ["x" * 101, "a\x00b"])
def test_invalid_search_falls_back_with_a_notice(raw):
    spec, notices = DictionarySpec.from_params({"dict_search": raw})
    assert spec == DictionarySpec() and len(notices) == 1 and notices[0].startswith("dict_search:")


def test_columns_view_is_the_search(demo_db):
    result = views.columns(demo_db, CohortFilter(), DictionarySpec(search="induction"))
    expected = dictionary.search(dictionary.load_dictionary(), "induction")
    assert result.tables["Columns"].equals(expected) and 0 < len(expected) < 20
    assert result.caption == f"{len(expected)} of {result.numbers['columns']} columns shown (search: 'induction')."
    assert not result.caveats  # the demo database matches the documented schema
    nothing = views.columns(demo_db, CohortFilter(), DictionarySpec(search="zzz-nothing"))
    assert nothing.tables["Columns"].empty and nothing.caption == "No column matches 'zzz-nothing'."
    assert views.slides(demo_db, CohortFilter(), DictionarySpec()) == []

"""Survival page aggregates at registry size: inclusion counts from DuckDB equal the per-patient table."""
import pandas as pd
import pytest

from analytics import survival
from analytics.filters import CohortFilter
from analytics.synthetic import build_synthetic_in_memory


@pytest.fixture(scope="module")
def db():
    return build_synthetic_in_memory(1500, seed=9)


@pytest.mark.parametrize("origin", list(survival.ORIGINS))
@pytest.mark.parametrize("population", list(survival.POPULATIONS))
@pytest.mark.parametrize("endpoint", list(survival.ENDPOINTS))
def test_inclusion_summary_equals_patient_table(db, origin, population, endpoint):
    spec = survival.SurvivalSpec(endpoint=endpoint, origin=origin, population=population)
    f = CohortFilter(sex=("M",))
    table = survival.patient_table(db, f, spec)
    included, excluded, reasons = survival.inclusion_summary(db, f, spec)
    assert included == int(table["included"].sum())
    assert excluded == int((~table["included"]).sum())
    assert reasons == tuple(sorted(set(table["exclusion_reason"].dropna())))
    head = survival.patient_table(db, f, spec, limit=100)
    pd.testing.assert_frame_equal(head, table.head(100))

"""Table 1 and the exposure histogram the per-patient way (pandas/numpy over one row per
patient): the references `analytics.overview` (counted in DuckDB) is compared with."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.overview import Categorical, categorical_rows, continuous_row


def summarise_continuous(values: pd.Series, decimals: int = 1) -> dict:
    """Median and range of the non-missing values, and how many were missing."""
    present = pd.to_numeric(values, errors="coerce").dropna().astype(float).to_numpy()
    if not len(present):
        return continuous_row(0, len(values), np.nan, np.nan, np.nan, decimals)
    return continuous_row(len(present), len(values) - len(present), float(np.median(present)),
                          float(present.min()), float(present.max()), decimals)


def summarise_categorical(values: pd.Series, spec: Categorical) -> list[dict]:
    """`categorical_rows` of a column of values (NULLs counted apart)."""
    present = values.dropna()
    counts = {value: int((present == value).sum()) for value in pd.unique(present)}
    return categorical_rows(counts, int(len(values) - len(present)), spec)


def histogram_bins(months: np.ndarray, high: float) -> pd.DataFrame:
    """Patients per 1-month bin [start, end) on [0, high] (the last bin closed), empty bins dropped."""
    edges = np.arange(0.0, high + 1.0, 1.0)
    counts, _ = np.histogram(months, bins=edges)
    bins = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "patients": counts})
    return bins[bins["patients"] > 0].reset_index(drop=True)

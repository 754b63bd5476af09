"""Published series as cited data: `data/published_series.csv`, read and validated.

The CSV is the one place where published numbers are typed, each with the quote it comes from;
the compare page shows them as "published", beside what the app computes, never mixed with it.
One row is one reported figure of one series: a proportion (numerator of an evaluable
denominator), a count (numerator without a denominator), or a median with its range where
reported ("NR" = not reached). Every error names the file, the line and the column.

Example
-------
>>> table = load_published()
>>> row = table[(table.series_id == "geyer2023") & (table.characteristic == "tp53_mutated")].iloc[0]
>>> (int(row.numerator), int(row.denominator), row.fact)
(9, 19, 'F6')
>>> CHARACTERISTICS["tp53_mutated"].label
'TP53 mutated'
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PUBLISHED_FILE = Path(__file__).resolve().parent.parent / "data" / "published_series.csv"

PROPORTION, COUNT, MEDIAN = "proportion", "count", "median"
NOT_REACHED = "NR"


@dataclass(frozen=True)
class Characteristic:
    key: str
    label: str
    kind: str      # proportion | count | median
    unit: str      # of the value: 'patients', 'institutions', 'years', 'months'


CHARACTERISTICS: dict[str, Characteristic] = {c.key: c for c in (
    Characteristic("patients", "Patients", COUNT, "patients"),
    Characteristic("institutions", "Institutions", COUNT, "institutions"),
    Characteristic("b_lineage", "B-lineage", PROPORTION, "patients"),
    Characteristic("bcr_abl1_positive", "BCR::ABL1 positive", PROPORTION, "patients"),
    Characteristic("cd10_positive", "CD10 positive", PROPORTION, "patients"),
    Characteristic("male", "Male sex", PROPORTION, "patients"),
    Characteristic("tp53_mutated", "TP53 mutated", PROPORTION, "patients"),
    Characteristic("low_hypodiploid", "Low hypodiploid", PROPORTION, "patients"),
    Characteristic("myeloma_auto_hct", "Autologous HCT for myeloma", PROPORTION, "patients"),
    Characteristic("treated", "B-ALL treatment received", PROPORTION, "patients"),
    Characteristic("cr_cri_treated", "CR or CRi among treated patients", PROPORTION, "patients"),
    Characteristic("alive_ned", "Alive without evidence of B-ALL", PROPORTION, "patients"),
    Characteristic("withdrawal_regression", "Regression after lenalidomide withdrawal", COUNT, "patients"),
    Characteristic("age_ball", "Age at B-ALL diagnosis", MEDIAN, "years"),
    Characteristic("age_myeloma", "Age at myeloma diagnosis", MEDIAN, "years"),
    Characteristic("latency_months", "Latency, first lenalidomide exposure to B-ALL", MEDIAN, "months"),
    Characteristic("cumulative_months", "Cumulative lenalidomide exposure before B-ALL", MEDIAN, "months"),
    Characteristic("efs_treated_months", "EFS, treated patients", MEDIAN, "months"),
    Characteristic("efs_hct_months", "EFS, treated patients with allogeneic HCT", MEDIAN, "months"),
)}

SERIES_COLUMNS = ("label", "citation", "reference", "url", "population", "n_patients", "part_of")
COLUMNS = ("series_id", *SERIES_COLUMNS, "fact", "characteristic", "numerator", "denominator", "median",
           "range_low", "range_high", "unit", "source_quote")
_SERIES_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_FACT = re.compile(r"^F[1-9][0-9]?$")


class PublishedSeriesError(ValueError):
    """The published-series file is not valid; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def _int(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError("a whole number >= 0")
    return int(text)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("a number") from None
    if not math.isfinite(value):
        raise ValueError("a finite number")
    return value


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise PublishedSeriesError([f"{path.name}: file not found"]) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise PublishedSeriesError([f"{path.name}: not a readable UTF-8 CSV ({error})"]) from None


def validate(raw: pd.DataFrame, name: str = "published_series.csv") -> pd.DataFrame:
    """The typed table of `raw` (all text), or PublishedSeriesError listing every problem.

    Adds `line` (the file line, header = 1) and `decimals` (of the published median, so a computed
    median is compared at the precision the source reports)."""
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise PublishedSeriesError([f"{name}: missing column(s) {', '.join(missing)}"])
    errors: list[str] = []
    rows: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    series_fields: dict[str, tuple] = {}
    for i, r in enumerate(raw[list(COLUMNS)].itertuples(index=False)):
        line = i + 2
        at = f"{name}, line {line}"
        r = {c: str(v).strip() for c, v in zip(COLUMNS, r)}

        def bad(column: str, problem: str) -> None:
            errors.append(f"{at}, column {column}: {problem}")

        out: dict = {"line": line, **{c: r[c] for c in ("series_id", *SERIES_COLUMNS, "fact", "characteristic",
                                                         "unit", "source_quote")}}
        if not _SERIES_ID.match(r["series_id"]):
            bad("series_id", f'"{r["series_id"][:40]}" is not an id (lower-case letters, digits, _)')
        for column in ("label", "citation", "reference", "population", "source_quote"):
            if not r[column]:
                bad(column, "empty (every figure needs its source)")
        if r["fact"] and not _FACT.match(r["fact"]):
            bad("fact", f'"{r["fact"][:20]}" is not a figure number like F6')
        characteristic = CHARACTERISTICS.get(r["characteristic"])
        if characteristic is None:
            bad("characteristic", f'unknown "{r["characteristic"][:40]}" (known: {", ".join(CHARACTERISTICS)})')
        try:
            out["n_patients"] = _int(r["n_patients"])
            if out["n_patients"] == 0:
                bad("n_patients", "must be at least 1")
        except ValueError as error:
            bad("n_patients", f'"{r["n_patients"][:20]}" is not {error}')
            out["n_patients"] = None
        for column in ("numerator", "denominator"):
            try:
                out[column] = _int(r[column]) if r[column] else None
            except ValueError as error:
                bad(column, f'"{r[column][:20]}" is not {error}')
                out[column] = None
        out["decimals"] = 0
        if r["median"] == NOT_REACHED:
            out["median"] = math.inf
        else:
            try:
                out["median"] = _number(r["median"]) if r["median"] else None
                out["decimals"] = _decimals(r["median"])
            except ValueError as error:
                bad("median", f'"{r["median"][:20]}" is not {error} or {NOT_REACHED}')
                out["median"] = None
        for column in ("range_low", "range_high"):
            try:
                out[column] = _number(r[column]) if r[column] else None
            except ValueError as error:
                bad(column, f'"{r[column][:20]}" is not {error}')
                out[column] = None
        num, den, median = out["numerator"], out["denominator"], out["median"]
        if characteristic is not None:
            if r["unit"] != characteristic.unit:
                bad("unit", f'"{r["unit"][:20]}" but {characteristic.key} is in {characteristic.unit}')
            if characteristic.kind == PROPORTION:
                if num is None or den is None:
                    bad("numerator" if num is None else "denominator",
                        f"{characteristic.key} is a proportion: numerator and denominator are both needed")
            elif characteristic.kind == COUNT and num is None:
                bad("numerator", f"{characteristic.key} is a count: the numerator is needed")
            if characteristic.kind in (PROPORTION, COUNT) and (median is not None or out["range_low"] is not None
                                                               or out["range_high"] is not None):
                bad("median", f"{characteristic.key} is a {characteristic.kind}: no median or range")
            if characteristic.kind == MEDIAN:
                if median is None:
                    bad("median", f"{characteristic.key} is a median: the median is needed")
                if num is not None or den is not None:
                    bad("numerator", f"{characteristic.key} is a median: no numerator or denominator")
        if num is not None and den is not None and num > den:
            bad("numerator", f"{num} is larger than the denominator {den}")
        if den is not None and out["n_patients"] is not None and den > out["n_patients"]:
            bad("denominator", f"{den} is larger than the series' {out['n_patients']} patients")
        low, high = out["range_low"], out["range_high"]
        if (low is None) != (high is None):
            bad("range_low" if low is None else "range_high", "a range needs both ends")
        elif low is not None and (low > high or (median is not None and not low <= median <= high)):
            bad("range_low", f"range {low:g}-{high:g} does not hold the median {median}")
        key = (r["series_id"], r["characteristic"])
        if key in seen:
            bad("characteristic", f"{r['characteristic']} of {r['series_id']} already given on line {seen[key]}")
        seen[key] = line
        fields = tuple(r[c] for c in SERIES_COLUMNS)
        first = series_fields.setdefault(r["series_id"], fields)
        if first != fields:
            changed = [c for c, a, b in zip(SERIES_COLUMNS, first, fields) if a != b]
            bad(changed[0], f"differs from the first row of series {r['series_id']} (one value per series)")
        rows.append(out)
    ids = set(series_fields)
    for out in rows:
        if out["part_of"] and out["part_of"] not in ids:
            errors.append(f"{name}, line {out['line']}, column part_of: unknown series \"{out['part_of'][:40]}\"")
        if out["part_of"] == out["series_id"]:
            errors.append(f"{name}, line {out['line']}, column part_of: a series cannot be part of itself")
    if errors:
        raise PublishedSeriesError(errors)
    table = pd.DataFrame(rows, columns=["line", *COLUMNS, "decimals"])
    for column in ("numerator", "denominator", "n_patients"):
        table[column] = table[column].astype("Int64")
    return table


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> pd.DataFrame:
    return validate(_read(Path(path)), Path(path).name)


def load_published(path: Path | str = PUBLISHED_FILE) -> pd.DataFrame:
    """The validated published-series table (cached until the file changes). Copy before changing it."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise PublishedSeriesError([f"{path.name}: file not found"]) from None
    return _load(str(path), mtime)


def series_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per series: id, label, citation, reference, url, population, patients, part_of."""
    return table.drop_duplicates("series_id")[["series_id", *SERIES_COLUMNS]].reset_index(drop=True)

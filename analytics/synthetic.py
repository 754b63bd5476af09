"""Synthetic cohorts of any size (same schema, all tables), for scale tests and benchmarks.

Deterministic: the same (n_patients, seed) always gives the same database. Patients are
generated with numpy in fixed-size chunks (each chunk has its own random stream derived from
(seed, chunk index)), turned into pandas frames and inserted by DuckDB, so 10^6 patients
(about 7 million events) build in well under a minute with a few hundred MB of memory.

Relations are plausible, not realistic: latency from the first lenalidomide course to B-ALL
(day 0), ploidy consistent with the modal chromosome number and the ISCN text, TP53 mostly in
low-hypodiploid leukaemia and only evaluated in sequenced patients, responses only for treated
patients, relapse only after complete remission, HCT in remission before any relapse, death
hazard higher with TP53 mutation and age, last contact on the day of death or at censoring,
serial marrow measurements for untreated patients after lenalidomide withdrawal. Some values
are NULL ("not evaluated") at realistic rates. Not patient data; `cohort_info.synthetic` is
true.

    python -m analytics.synthetic --patients 100000 --out data/synthetic_100k.duckdb

Examples
--------
>>> db = build_synthetic_in_memory(200, seed=1)
>>> int(db.scalar("SELECT count(*) FROM patients")), db.synthetic
(200, True)
>>> int(db.scalar("SELECT count(*) FROM patient_summary WHERE os_days IS NULL"))
0
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics.build import SCHEMA_SQL, materialize_summary, write_atomically
from analytics.db import CohortDatabase
from analytics.genomics.karyotype import PLOIDY_BANDS, PLOIDY_ORDER

CHUNK = 50_000  # patients per generated chunk (fixed, so the output depends on n and seed only)

INSTITUTIONS = np.array([f"Site {c}" for c in "ABCDEFGH"], dtype=object)
INSTITUTION_P = np.array([0.22, 0.18, 0.15, 0.12, 0.1, 0.09, 0.08, 0.06])
PLOIDY = np.array(PLOIDY_ORDER, dtype=object)
PLOIDY_P = np.array([0.02, 0.18, 0.05, 0.2, 0.45, 0.1])
MAX_SYNTHETIC_MODAL = 60  # hyperdiploid B-ALL is mostly 51-67 chromosomes; the band itself is open
MODAL_RANGE = {k: (low, min(high, MAX_SYNTHETIC_MODAL)) for k, (_, low, high) in enumerate(PLOIDY_BANDS)}
REGIMENS = [  # (regimen, category, probability)
    ("hyper-CVAD", "intensive chemotherapy", 0.35),
    ("mini-hyper-CVD + inotuzumab ozogamicin", "reduced-intensity with inotuzumab", 0.25),
    ("blinatumomab + dexamethasone", "blinatumomab-based", 0.18),
    ("vincristine + dexamethasone", "low-intensity", 0.12),
    ("dasatinib + prednisone", "TKI-based", 0.05),
    ("brexucabtagene autoleucel", "CAR T", 0.03),
    ("clinical trial regimen", "other", 0.02),
]
RESPONSES = np.array(["CR", "CRi", "PR", "refractory", "not evaluable"], dtype=object)
RESPONSE_P = np.array([0.68, 0.12, 0.04, 0.13, 0.03])
OTHER_GENES = [  # (gene, frequency among sequenced patients, protein changes, variant class)
    ("NRAS", 0.12, ["p.G12D", "p.G13D", "p.Q61K"], "Missense_Mutation"),
    ("KRAS", 0.08, ["p.G12V", "p.G12D", "p.G13D"], "Missense_Mutation"),
    ("IKZF1", 0.06, ["p.N159S", "p.R162P"], "Missense_Mutation"),
    ("IKZF2", 0.04, ["p.K120fs", "p.E180fs"], "Frame_Shift_Del"),
    ("PAX5", 0.05, ["p.P80R", "p.R38H"], "Missense_Mutation"),
    ("CREBBP", 0.04, ["p.R1446C", "p.Y1503H"], "Missense_Mutation"),
    ("RB1", 0.03, ["p.R320*", "p.R455*"], "Nonsense_Mutation"),
]
TP53_CHANGES = np.array(["p.R248Q", "p.R273H", "p.Y220C", "p.R175H", "p.G245S", "p.R282W"], dtype=object)
TP53_CLASSES = np.array(["Missense_Mutation"] * 6 + ["Nonsense_Mutation", "Frame_Shift_Del", "Splice_Site"],
                        dtype=object)
FLOW = "multiparameter flow cytometry"


def _obj(values) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _null_where(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[mask] = None
    return out


def _skip_retired_draw(_values) -> None:
    """Draws that once made a retired column are still taken, so every seed keeps giving the same
    cohort as before (tests and benchmarks are pinned to seeded cohorts)."""
    return None


def _patients(rng: np.random.Generator, start: int, n: int, width: int) -> tuple[pd.DataFrame, dict]:
    """One chunk of patients plus the hidden per-patient facts the events are generated from."""
    ids = _obj([f"P{i:0{width}d}" for i in range(start + 1, start + n + 1)])
    inst_idx = rng.choice(len(INSTITUTIONS), n, p=INSTITUTION_P)
    male = rng.random(n) < 0.6
    age_mm = np.clip(np.rint(rng.normal(61, 8, n)), 35, 85).astype(int)
    latency = np.clip(np.rint(rng.lognormal(np.log(1500), 0.45, n)), 200, 6000).astype(int)
    age_ball = np.minimum(age_mm + np.rint(latency / 365.25).astype(int) + 1, 100)
    ploidy_idx = rng.choice(len(PLOIDY), n, p=PLOIDY_P)
    lo = np.array([MODAL_RANGE[k][0] for k in range(6)])[ploidy_idx]
    hi = np.array([MODAL_RANGE[k][1] for k in range(6)])[ploidy_idx]
    modal = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(int)
    karyotype_missing = rng.random(n) < 0.07
    sex_chr = np.where(male, "XY", "XX")
    iscn = _obj([f"{m},{s}[20]" if m == 46 else f"{m},{s},{'+' if m > 46 else '-'}cx[15]/46,{s}[5]"
                 for m, s in zip(modal, sex_chr)])
    iscn[karyotype_missing] = "no analyzable metaphases"
    sequenced = rng.random(n) < 0.8
    low_hypo = ploidy_idx == 1
    tp53 = sequenced & (rng.random(n) < np.where(low_hypo, 0.9, 0.15))
    lines_len = np.where(rng.random(n) < 0.7, 1, np.where(rng.random(n) < 0.8, 2, 3))
    _skip_retired_draw(rng.uniform(0.55, 0.95, n))  # keeps the stream: exposure comes from the courses
    bcr = np.where(rng.random(n) < 0.06, "positive", "negative")
    pos_neg = lambda p: np.where(rng.random(n) < p, "positive", "negative")  # noqa: E731
    cns = rng.choice(np.array(["CNS1", "CNS2", "CNS3"], dtype=object), n, p=[0.9, 0.06, 0.04])
    patients = pd.DataFrame({
        "patient_id": ids,
        "institution": INSTITUTIONS[inst_idx],
        "sex": np.where(male, "M", "F").astype(object),
        "age_at_myeloma_dx": _null_where(age_mm, rng.random(n) < 0.03),
        "age_at_ball_dx": age_ball,
        "myeloma_auto_hct": _null_where(rng.random(n) < 0.7, rng.random(n) < 0.05),
        "myeloma_lines_with_len": _null_where(lines_len, rng.random(n) < 0.03),
        # derived from the lenalidomide courses (patient_summary), not stated beside them
        "len_cumulative_days": _skip_retired_draw(rng.random(n) < 0.05),
        "lineage": np.where(rng.random(n) < 0.995, "B", "T").astype(object),
        "wbc_k_per_ul": _null_where(np.round(rng.lognormal(np.log(4), 0.9, n), 1), rng.random(n) < 0.04),
        "marrow_blast_pct": _null_where(np.round(rng.uniform(20, 97, n)), rng.random(n) < 0.04),
        "cd10": _null_where(pos_neg(0.9), rng.random(n) < 0.05),
        "cd19": _null_where(pos_neg(0.99), rng.random(n) < 0.03),
        "cd20": _null_where(pos_neg(0.45), rng.random(n) < 0.06),
        "cd22": _null_where(pos_neg(0.9), rng.random(n) < 0.08),
        "cns_status": _null_where(cns, rng.random(n) < 0.03),
        "bcr_abl1": _null_where(bcr.astype(object), rng.random(n) < 0.1),
        "karyotype_iscn": iscn,
        "modal_chromosome_number": _null_where(modal, karyotype_missing),
        "ploidy_category": _null_where(PLOIDY[ploidy_idx], karyotype_missing),
        "sequencing_assay": _null_where(_obj([f"Targeted NGS panel, site {s[-1]}" for s in INSTITUTIONS[inst_idx]]),
                                        ~sequenced),
    })
    hidden = {"ids": ids, "latency": latency, "lines_len": lines_len, "tp53": tp53,
              "sequenced": sequenced, "age": age_ball, "bcr": bcr == "positive", "inst": inst_idx}
    return patients, hidden


def _frame(pid: np.ndarray, event_type: str, day: np.ndarray, **cols) -> pd.DataFrame:
    frame = pd.DataFrame({"patient_id": pid, "event_type": event_type, "day": day.astype(np.int64)})
    for name, value in cols.items():
        frame[name] = value
    return frame


def _events(rng: np.random.Generator, h: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids, latency = h["ids"], h["latency"]
    n = len(ids)
    parts = []
    # Lenalidomide: induction (when two or more lines) then maintenance stopping at or before B-ALL.
    two = h["lines_len"] >= 2
    ind_end = -latency + rng.integers(90, 180, n)
    parts.append(_frame(ids[two], "lenalidomide_course", -latency[two], end_day=ind_end[two],
                        regimen="lenalidomide-based induction (RVd)"))
    maint_start = np.where(two, np.minimum(ind_end + rng.integers(60, 240, n), -30), -latency)
    maint_stop = np.minimum(maint_start + latency, np.where(rng.random(n) < 0.7, 0, -rng.integers(1, 400, n)))
    maint_stop = np.maximum(maint_stop, maint_start)
    parts.append(_frame(ids, "lenalidomide_course", maint_start, end_day=maint_stop,
                        regimen=np.where(two, "lenalidomide maintenance",
                                         "lenalidomide-based therapy and maintenance")))
    # Treatment (90%); untreated patients are followed after lenalidomide withdrawal.
    treated = rng.random(n) < 0.9
    reg_idx = rng.choice(len(REGIMENS), n, p=[r[2] for r in REGIMENS])
    reg_idx = np.where(h["bcr"] & (rng.random(n) < 0.8), 4, reg_idx)
    regimen = _obj([r[0] for r in REGIMENS])[reg_idx]
    category = _obj([r[1] for r in REGIMENS])[reg_idx]
    t_start = rng.integers(1, 25, n)
    t_end = t_start + rng.integers(60, 240, n)
    t = treated
    parts.append(_frame(ids[t], "treatment_line", t_start[t], end_day=t_end[t], line=1,
                        regimen=regimen[t], regimen_category=category[t]))
    resp_idx = rng.choice(len(RESPONSES), n, p=RESPONSE_P)
    resp_idx = np.where(h["tp53"] & (resp_idx == 0) & (rng.random(n) < 0.15), 3, resp_idx)
    response = RESPONSES[resp_idx]
    cr = treated & (resp_idx <= 1)
    assess_day = t_start + rng.integers(26, 45, n)
    mrd = np.where(cr, np.where(rng.random(n) < 0.65, "negative", "positive"), None).astype(object)
    parts.append(_frame(ids[t], "response_assessment", assess_day[t], line=1, response=response[t],
                        mrd_status=mrd[t], mrd_method=np.where(cr[t], FLOW, None),
                        mrd_sensitivity=np.where(cr[t], 1e-4, np.nan)))
    # Outcomes: exponential times (days), hazard up with TP53 and age; follow-up censoring.
    age_factor = np.exp(0.03 * (h["age"] - 65))
    death_rate = (1 / 2000) * np.where(h["tp53"], 2.2, 1.0) * age_factor * np.where(treated, 1.0, 2.5)
    death_t = np.ceil(rng.exponential(1 / death_rate)).astype(int) + np.where(cr, assess_day, 0)
    relapse_t = assess_day + np.ceil(rng.exponential(np.where(h["tp53"], 500, 1100))).astype(int)
    relapses = cr & (relapse_t < death_t)
    # relapse shortens survival
    death_t = np.where(relapses, np.minimum(death_t, relapse_t + np.ceil(rng.exponential(300, n)).astype(int)),
                       death_t)
    censor = rng.integers(60, 3000, n)
    died = death_t <= censor
    end = np.where(died, death_t, censor)
    relapses &= relapse_t < end
    hct_day = assess_day + rng.integers(60, 180, n)
    hct = cr & (rng.random(n) < 0.35) & (hct_day < end) & (~relapses | (hct_day < relapse_t))
    parts.append(_frame(ids[hct], "hct", hct_day[hct], regimen="reduced-intensity conditioning",
                        note="allogeneic HCT in first remission"))
    parts.append(_frame(ids[relapses], "relapse", relapse_t[relapses]))
    # Second line after relapse or refractory disease (some patients).
    second = treated & (relapses | (resp_idx == 3)) & (rng.random(n) < 0.6)
    second_day = np.where(relapses, relapse_t, assess_day) + rng.integers(5, 30, n)
    second &= second_day < end
    parts.append(_frame(ids[second], "treatment_line", second_day[second],
                        end_day=second_day[second] + 56, line=2, regimen="blinatumomab",
                        regimen_category="blinatumomab-based"))
    cause = np.where(relapses | (resp_idx >= 2), "B-ALL", np.where(rng.random(n) < 0.5, "infection",
                                                                   "treatment-related")).astype(object)
    parts.append(_frame(ids[died], "death", death_t[died], cause=cause[died]))
    no_contact = rng.random(n) < 0.001  # a few patients without recorded follow-up
    lc = ~no_contact
    status = np.where(relapses | (~treated) | (resp_idx >= 2), "B-ALL present", "no evidence of B-ALL")
    parts.append(_frame(ids[lc], "last_contact", end[lc],
                        disease_status=_null_where(status.astype(object), died)[lc]))
    events = pd.concat(parts, ignore_index=True)
    # Serial marrow measurements for untreated patients after withdrawal (spontaneous regression).
    u = np.flatnonzero(~treated & (rng.random(n) < 0.8))
    k = 5
    pid = np.repeat(ids[u], k)
    step = np.tile(np.arange(k), len(u))
    day = np.array([0, 35, 90, 180, 365])[step] + (step > 0) * rng.integers(-10, 10, len(u) * k)
    start = np.repeat(rng.uniform(10, 60, len(u)), k)
    regress = np.repeat(rng.random(len(u)) < 0.6, k)
    value = np.where(regress, start * np.exp(-1.2 * step), start * np.exp(0.05 * step))
    below = value < 0.05
    measurements = pd.DataFrame({
        "patient_id": pid, "day": day, "specimen": "marrow",
        "analyte": np.where(np.repeat(rng.random(len(u)) < 0.7, k), "b_lymphoblasts_pct", "immature_b_pct"),
        "value": np.where(below, np.nan, np.round(np.minimum(value, 100), 2)), "unit": "%",
        "lower_limit_of_detection": 0.01, "below_detection": below, "method": FLOW})
    # no measurement after death or last contact
    return events, measurements[day <= np.repeat(end[u], k)].reset_index(drop=True)


def _mutations(rng: np.random.Generator, h: dict) -> pd.DataFrame:
    ids, n = h["ids"], len(h["ids"])
    parts = []
    tp = np.flatnonzero(h["tp53"])
    parts.append(pd.DataFrame({
        "patient_id": ids[tp], "gene": "TP53", "protein_change": TP53_CHANGES[rng.integers(0, 6, len(tp))],
        "variant_class": TP53_CLASSES[rng.integers(0, len(TP53_CLASSES), len(tp))],
        "vaf": np.round(rng.uniform(0.3, 0.98, len(tp)), 2)}))
    for gene, freq, changes, vclass in OTHER_GENES:
        hit = np.flatnonzero(h["sequenced"] & (rng.random(n) < freq))
        parts.append(pd.DataFrame({
            "patient_id": ids[hit], "gene": gene,
            "protein_change": _obj(changes)[rng.integers(0, len(changes), len(hit))],
            "variant_class": vclass, "vaf": np.round(rng.uniform(0.05, 0.6, len(hit)), 2)}))
    out = pd.concat(parts, ignore_index=True)
    out["assay"] = _obj([f"Targeted NGS panel, site {s[-1]}" for s in INSTITUTIONS])[
        h["inst"][np.searchsorted(ids, out["patient_id"].to_numpy())]]
    return out


EVENT_COLUMNS = ["event_id", "patient_id", "event_type", "day", "end_day", "line", "regimen",
                 "regimen_category", "response", "mrd_status", "mrd_method", "mrd_sensitivity",
                 "disease_status", "cause", "note"]


def generate(connection: duckdb.DuckDBPyConnection, n_patients: int, seed: int = 0) -> None:
    """Create the schema in `connection` and fill it with `n_patients` synthetic patients."""
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    connection.execute(SCHEMA_SQL.read_text())
    connection.execute(
        "INSERT INTO cohort_info VALUES (?, TRUE, ?)",
        [f"Synthetic scale-test cohort ({n_patients:,} patients, seed {seed})",
         f"{n_patients:,} invented patients generated by analytics.synthetic (seed {seed}) for scale "
         "tests and benchmarks. Plausible relations, not calibrated to any study. Not patient data."])
    width = max(2, len(str(n_patients)))
    next_event_id = 1
    for chunk_index, start in enumerate(range(0, n_patients, CHUNK)):
        rng = np.random.default_rng([seed, chunk_index])
        size = min(CHUNK, n_patients - start)
        patients, hidden = _patients(rng, start, size, width)
        events, measurements = _events(rng, hidden)
        mutations = _mutations(rng, hidden)
        events = events.sort_values(["patient_id", "day", "event_type"], kind="stable", ignore_index=True)
        events["event_id"] = np.arange(next_event_id, next_event_id + len(events))
        next_event_id += len(events)
        events = events.reindex(columns=EVENT_COLUMNS)
        for name, frame in (("patients", patients), ("events", events), ("mutations", mutations),
                            ("measurements", measurements)):
            connection.register("chunk_frame", frame)
            connection.execute(f"INSERT INTO {name} BY NAME SELECT * FROM chunk_frame")
            connection.unregister("chunk_frame")
    materialize_summary(connection)


def build_synthetic_file(n_patients: int, out: str | Path, seed: int = 0) -> Path:
    """Write a synthetic cohort to `out` atomically (temp file beside it, then rename)."""
    return write_atomically(out, lambda connection: generate(connection, n_patients, seed))


def build_synthetic_in_memory(n_patients: int, seed: int = 0) -> CohortDatabase:
    connection = duckdb.connect(":memory:")
    generate(connection, n_patients, seed)
    return CohortDatabase(connection)


def ensure_synthetic_file(n_patients: int, folder: str | Path, seed: int = 0) -> Path:
    """`folder/synthetic_<n>_s<seed>.duckdb`, built once and reused (benchmarks, tests)."""
    path = Path(folder) / f"synthetic_{n_patients}_s{seed}.duckdb"
    if not path.exists():
        build_synthetic_file(n_patients, path, seed)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a synthetic cohort DuckDB file.")
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    path = build_synthetic_file(args.patients, args.out, args.seed)
    print(f"built {path} ({args.patients:,} patients, seed {args.seed}) in "
          f"{time.perf_counter() - t0:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The upload page's mapping step: confirm or correct the suggested mapping of a group's own
spreadsheet or REDCap export, reuse a saved mapping file, download the mapping in use."""
from __future__ import annotations

import hashlib

import streamlit as st
from ui.text import md_escape

from analytics.importing import mapping as mp
from analytics.importing.report import Report

NOT_MAPPED = "(not mapped)"
CHOOSE = "(choose)"
NOT_EVALUATED = "(not evaluated)"
BASE_KEY = "map_base"          # token of the mapping the widgets were last set from
FILE_KEY = "upload_mapping_file"
CURRENT_KEY = "map_current"    # (upload hash, the mapping the widgets said last), kept across pages


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _target_label(key: str) -> str:
    return NOT_MAPPED if key == NOT_MAPPED else f"{mp.TARGETS[key].label} · {key}"


def _value_options(target: mp.Target) -> list[str]:
    return [CHOOSE, NOT_EVALUATED, *(target.allowed or {})]


def _as_option(meaning) -> str:
    return NOT_EVALUATED if meaning is None else CHOOSE if meaning == "" else meaning


def _widget_keys(source: mp.Source):
    for ti, table in enumerate(source.tables):
        for ci, column in enumerate(table.frame.columns):
            yield ti, table, ci, column, f"map_t{ti}_c{ci}"


def _distinct(table, column) -> list[str]:
    return sorted({str(v) for v in table.frame[column]} - {""})


def _set_widgets(source: mp.Source, base: mp.Mapping) -> None:
    state = st.session_state
    for ti, table, ci, column, key in _widget_keys(source):
        chosen = base.tables.get(table.name, {}).get(column, mp.ColumnMapping(None))
        state[key] = chosen.target or NOT_MAPPED
        if chosen.target and mp.TARGETS[chosen.target].kind == "coded":
            for vi, value in enumerate(_distinct(table, column)):
                state[f"{key}_v{vi}"] = _as_option(chosen.values.get(value, ""))
    for name in mp.CONSTANTS:
        state[f"map_const_{name}"] = base.constants.get(name, "")
    state["map_date_order"] = base.date_order
    state["map_cohort_name"] = str(base.cohort.get("cohort_name", ""))
    state["map_cohort_description"] = str(base.cohort.get("description", ""))
    state["map_cohort_synthetic"] = str(base.cohort.get("synthetic")).lower() in ("true", "1")


def _base(result, digest: str) -> mp.Mapping:
    """The saved mapping the user uploaded, else the suggestion; widgets reset when it changes."""
    saved = st.file_uploader("Reuse a saved mapping (.json)", type=["json"], key=FILE_KEY,
                             help="The mapping file downloaded below last time: the columns and codes are "
                                  "set as it says.")
    base = result.mapping
    if saved is not None:
        report = Report()
        loaded = mp.Mapping.from_json(saved.getvalue(), saved.name, report)
        for issue in report.errors:
            st.error(md_escape(issue.text()), icon=":material/error:")
        if loaded is not None:
            base = loaded
            st.success(f"Mapping **{md_escape(saved.name)}** applied; correct it below if needed.",
                       icon=":material/check_circle:")
    token = f"{digest}:{_short_hash(base.to_json())}"
    if st.session_state.get(BASE_KEY) != token:
        _set_widgets(result.source, base)
        st.session_state[BASE_KEY] = token
    elif "map_date_order" not in st.session_state:
        # Back from another page: Streamlit dropped the widgets' state; restore the user's last mapping.
        current = st.session_state.get(CURRENT_KEY)
        last = mp.Mapping.from_json(current[1], "(session)", Report()) if current and current[0] == digest else None
        _set_widgets(result.source, last or base)
    return base


def render(result, digest: str) -> mp.Mapping:
    """Show the mapping step; return the mapping the widgets now say."""
    source: mp.Source = result.source
    st.header("3. Map your columns")
    kind = ("a **REDCap export** (codes decoded with its data dictionary; each repeating instrument is a "
            "table of events)" if source.kind == "redcap" else "a **spreadsheet** with its own column names")
    st.markdown(
        f"These files are {kind}. Each column got a suggested meaning (by its name, type and values): "
        "**confirm or correct it**. Columns left *not mapped* are dropped and never stored. **Calendar dates** "
        "(mapped to a date target) are turned into days relative to each patient's B-ALL diagnosis date in "
        "memory and then discarded: no date is stored. Save the mapping to reuse it next time (here, or with "
        "`python -m analytics.importing --mapping`).")
    base = _base(result, digest)
    targets = [NOT_MAPPED, *mp.TARGETS]
    tables: dict[str, dict[str, mp.ColumnMapping]] = {}
    for ti, table in enumerate(source.tables):
        where = table.file + (f", sheet {table.sheet}" if table.sheet else "")
        with st.expander(f"Table **{md_escape(table.name)}** ({md_escape(where)}; {len(table.frame)} rows)", expanded=True):
            columns: dict[str, mp.ColumnMapping] = {}
            for ci, column in enumerate(table.frame.columns):
                key = f"map_t{ti}_c{ci}"
                label = table.labels.get(column, column)
                target = st.selectbox(md_escape(column) + (f" — {md_escape(label)}" if label != column else ""), targets,
                                      format_func=_target_label, key=key)
                if target == NOT_MAPPED:
                    columns[column] = mp.ColumnMapping(None)
                    continue
                spec = mp.TARGETS[target]
                values: dict[str, str | None] = {}
                if spec.kind == "coded" and len(_distinct(table, column)) > mp.MAX_CODES:
                    st.error(f"'{md_escape(column)}' has {len(_distinct(table, column))} different values: not a column of "
                             f"codes for {spec.label}. Choose another target or leave it not mapped.",
                             icon=":material/error:")
                elif spec.kind == "coded":
                    distinct = _distinct(table, column)
                    suggested = mp.suggest_values(spec, distinct)
                    known = base.tables.get(table.name, {}).get(column)
                    options = _value_options(spec)
                    cells = st.columns(min(4, max(1, len(distinct))))
                    for vi, value in enumerate(distinct):
                        value_key = f"{key}_v{vi}"
                        if st.session_state.get(value_key) not in options:
                            meaning = known.values.get(value, suggested[value]) if known and \
                                known.target == target else suggested[value]
                            st.session_state[value_key] = _as_option(meaning)
                        chosen = cells[vi % len(cells)].selectbox(f"'{md_escape(value)}' means", options, key=value_key)
                        values[value] = None if chosen == NOT_EVALUATED else "" if chosen == CHOOSE else chosen
                columns[column] = mp.ColumnMapping(target, values)
            tables[table.name] = columns
    st.subheader("Values for every patient, and the cohort")
    left, right = st.columns(2)
    constants = {}
    for i, (name, help_text) in enumerate(mp.CONSTANTS.items()):
        value = (left if i % 2 == 0 else right).text_input(name, key=f"map_const_{name}", help=help_text)
        if value.strip():
            constants[name] = value.strip()
    date_order = left.radio("Numeric dates like 03/04/2021 are", mp.DATE_ORDERS, key="map_date_order",
                            format_func=lambda o: {"DMY": "day first (DMY)", "MDY": "month first (MDY)"}[o],
                            horizontal=True)
    cohort = {"cohort_name": right.text_input("Cohort name", key="map_cohort_name"),
              "synthetic": right.checkbox("These patients are invented (synthetic data)", key="map_cohort_synthetic"),
              "description": right.text_input("Cohort description (provenance)", key="map_cohort_description")}
    mapping = mp.Mapping(tables, constants, date_order, cohort)
    st.session_state[CURRENT_KEY] = (digest, mapping.to_json())
    st.download_button("Save this mapping (.json)", mapping.to_json().encode(), file_name="cohort_mapping.json",
                       mime="application/json", icon=":material/download:", key="upload_mapping_download")
    return mapping


def mapping_digest(digest: str, mapping: mp.Mapping) -> str:
    """The upload's cache token for these files read with this mapping (no ':' in it)."""
    return f"{digest}-{_short_hash(mapping.to_json())}"

"""Load a cohort: template downloads, upload (workbook, CSV tables or cBioPortal study files),
the validation report, and the switch between an uploaded session-only cohort and the demo."""
import logging

import streamlit as st

from analytics.build import DEMO_SOURCE
from analytics.export import safe_csv
from analytics.importing import build_database, content_hash, import_files
from analytics.importing.sources import MAX_FILE_BYTES, MAX_ROWS, OWN_TABLES
from analytics.importing.template import tables_from_folder, template_workbook, workbook_from_tables
from ui import mapping_editor, state
from ui.routing import require_entrypoint
from ui.text import md_escape

require_entrypoint()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESULT_KEY = "upload_result"  # (content hash and EFS choice, ImportResult) of the files last checked
EFS_KEY = "upload_efs_"       # + content hash: the EFS source chosen for those files (cBioPortal)
LOAD_ERROR_KEY = "upload_load_error"  # a refusal by the database, shown once after the click
SUGGESTION_KEY = "upload_suggestion"  # (content hash, ImportResult with the suggested mapping)


# The two buttons act in on_click callbacks: a callback runs before the script, so the switch
# happens exactly once per click even when the run that follows is restarted (st.rerun in the
# routing guard re-runs a deep-linked page and a plain button's True would be lost there).
def _load(digest: str, files: tuple[str, ...]) -> None:
    checked = st.session_state.get(RESULT_KEY)
    if checked is None or checked[0] != digest or not checked[1].ok:
        return  # the files changed under the click: nothing is loaded
    try:
        new_db = build_database(checked[1].tables)
    except Exception as exc:  # the schema's own constraints, checked once more by DuckDB
        logging.getLogger(__name__).exception("load failed")
        st.session_state[LOAD_ERROR_KEY] = str(exc).splitlines()[0]
        return
    state.use_session_cohort(new_db, digest, files)


def _use_demo() -> None:
    state.use_demo_cohort()
    st.session_state.pop(RESULT_KEY, None)


@st.cache_data(show_spinner=False)
def _template() -> bytes:
    return template_workbook()


@st.cache_data(show_spinner=False)
def _demo_workbook() -> bytes:
    return workbook_from_tables(tables_from_folder(DEMO_SOURCE))


st.title("Load a cohort")
uploaded = state.session_cohort()
db = state.current_database()
if uploaded is not None:
    st.success(f"You are exploring **{md_escape(db.label)}**, uploaded in this browser session only "
               f"({', '.join(map(md_escape, uploaded['files']))}). Other users and the shared database are not affected; "
               "closing the tab discards it.", icon=":material/upload_file:")
    st.text(f"About this cohort: {db.description}")  # plain text: it comes from the uploaded files
    st.button("Switch back to the demo cohort", icon=":material/undo:", key="upload_use_demo",
              on_click=_use_demo)
else:
    st.info(f"You are exploring the shared cohort **{md_escape(db.label)}**. Upload your own series below: it is "
            "checked before anything is loaded and then lives **in this browser session only** "
            "(in memory, never written to the server's database, invisible to other users).",
            icon=":material/info:")

st.header("1. Start from the template")
st.markdown(
    "The workbook has a **README** sheet (every column, its rule and meaning, from the data dictionary) "
    f"and one sheet per table: {', '.join(f'`{t}`' for t in OWN_TABLES)}. Times are **days relative to "
    "the B-ALL diagnosis**; leave a cell empty when it was not evaluated. No names, record numbers, "
    "calendar dates, addresses, phone numbers or e-mail addresses: they are refused.")
left, right = st.columns(2)
left.download_button("Download the empty template (.xlsx)", _template(), file_name="cohort_template.xlsx",
                     mime=XLSX, icon=":material/download:", key="upload_template")
right.download_button("Download the demo cohort in this format (.xlsx)", _demo_workbook(),
                      file_name="demo_cohort.xlsx", mime=XLSX, icon=":material/download:", key="upload_demo")

st.header("2. Upload")
st.markdown(
    "Upload **either** the filled workbook, **or** the five tables as CSV files named "
    f"{', '.join(f'`{t}.csv`' for t in OWN_TABLES)} (UTF-8, comma-separated), **or** a cBioPortal study "
    "as published: select every file of its folder (`meta_*.txt` name the data files; clinical patient "
    "and sample files, mutations as `.txt` or `.maf`, timelines, `cases_sequenced.txt`), **or** your own "
    "spreadsheet (.xlsx or .csv, any column names, calendar dates allowed: they are converted and discarded) "
    "**or** a REDCap raw-data CSV export with its data dictionary CSV: you then map its columns in step 3. "
    f"Limits: {MAX_FILE_BYTES / 1e6:.1f} MB and {MAX_ROWS:,} rows per file.")
files = st.file_uploader("Cohort files", type=["xlsx", "xls", "csv", "txt", "tsv", "maf"],
                         accept_multiple_files=True, key="upload_files")
if not files:
    st.stop()

contents = [(f.name, f.getvalue()) for f in files]
efs_choice = st.session_state.get(EFS_KEY + content_hash(contents))
digest = content_hash(contents) + ("" if efs_choice is None else "-efs-" + efs_choice)
checked = st.session_state.get(RESULT_KEY)
# a mapped upload's token adds the mapping's hash to the files' (mapping_editor.mapping_digest)
fresh = checked is not None and (checked[0] == digest or (checked[1].kind == "mapped"
                                                          and checked[0].split("-")[0] == digest))
if not fresh:
    try:
        with st.spinner("Checking the files…"):
            result = import_files(contents, efs_source=efs_choice)
    except Exception:  # a bug, not a bad file: say so plainly, keep the details in the server log
        logging.getLogger(__name__).exception("import failed")
        st.error("The files could not be checked because of an unexpected problem in the app (not in "
                 "your files' content as far as we can tell). Nothing was loaded. Please report it with "
                 "the file names.", icon=":material/error:")
        st.stop()
    st.session_state[RESULT_KEY] = (digest, result)
    if result.kind == "mapped" and result.mapping is not None:  # checked with the suggestion already
        st.session_state[RESULT_KEY] = (mapping_editor.mapping_digest(digest, result.mapping), result)
        st.session_state[SUGGESTION_KEY] = (digest, result)
else:
    result = checked[1]

if result.endpoint_sources:
    st.subheader("Survival endpoints offered by the study")
    st.caption("What each source would give (patients with a usable status and time, events). Overall "
               "survival always comes from OS_STATUS/OS_MONTHS. Choose which source records relapse or "
               "progression for event-free survival: the choice is in the report and the cohort's description.")
    st.dataframe([{"source": s.name, "columns": s.columns, "patients": s.patients, "events": s.events,
                   "the study's description": s.description} for s in result.endpoint_sources],
                 hide_index=True, width="stretch")
    options = [s.name for s in result.endpoint_sources if s.name != "OS"] + ["none"]
    labels = {"none": "none (EFS counts deaths and induction failures only)",
              "timeline": "timeline (its relapse/progression rows)"}
    if len(options) == 1:
        st.caption("The study offers no relapse or progression source: EFS counts deaths and induction "
                   "failures only.")
    else:
        st.radio("Relapse/progression events for EFS from", options, index=options.index(result.efs_source),
                 key=EFS_KEY + content_hash(contents), horizontal=True,
                 format_func=lambda name: labels.get(name, f"{name}_STATUS/{name}_MONTHS (events = 1:...)"))

mapped = result.kind == "mapped" and result.source is not None
if mapped:  # a group's own spreadsheet or REDCap export: confirm the mapping, then check with it
    suggestion = st.session_state.get(SUGGESTION_KEY)
    mapping = mapping_editor.render(suggestion[1] if suggestion and suggestion[0] == digest else result, digest)
    digest = mapping_editor.mapping_digest(digest, mapping)
    checked = st.session_state.get(RESULT_KEY)
    if checked is None or checked[0] != digest:
        with st.spinner("Checking the files with this mapping…"):
            result = import_files(contents, mapping)
        st.session_state[RESULT_KEY] = (digest, result)
    else:
        result = checked[1]

st.header(f"{4 if mapped else 3}. Validation report")
report = result.report
errors, warnings = len(report.errors), len(report.warnings)
if errors:
    st.error(f"**{errors} error(s)** must be fixed before this cohort can be loaded"
             + (f"; {warnings} warning(s) to review." if warnings else ".")
             + " Each row says where (file, sheet, row as your spreadsheet shows it, column) and how to fix it; "
             "fix the file and upload it again.", icon=":material/error:")
elif warnings:
    st.warning(f"No errors. **{warnings} warning(s)**: they do not block loading, but read them.",
               icon=":material/warning:")
else:
    st.success("No errors and no warnings: the files are ready to load.", icon=":material/check_circle:")
if report.issues:
    table = report.frame()
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"problem": st.column_config.TextColumn(width="large"),
                                "fix": st.column_config.TextColumn(width="large")})
    st.download_button("Download the report (CSV)", safe_csv(table), file_name="validation_report.csv",
                       mime="text/csv", icon=":material/download:", key="upload_report")
    for issue in report.errors[:5]:
        st.markdown(f"- {md_escape(issue.text())}")
if result.not_mapped:
    st.subheader("Not mapped (dropped, never stored)" if result.kind == "mapped"
                 else "Not mapped from the cBioPortal study")
    st.markdown("\n".join(f"- {md_escape(item)}" for item in result.not_mapped))

if result.ok and uploaded is not None and uploaded["token"].endswith(":" + digest):
    st.success("These files are the cohort you are exploring now.", icon=":material/check_circle:")
    st.page_link("pages/overview.py", label="Open the overview of this cohort", icon=":material/groups:")
elif result.ok:
    n = len(result.tables["patients"])
    st.button(f"Load this cohort ({n} patients) for my session", type="primary", icon=":material/upload:",
              key="upload_load", on_click=_load, args=(digest, tuple(name for name, _ in contents)))
load_error = st.session_state.pop(LOAD_ERROR_KEY, None)
if load_error:
    st.error(f"The database refused the tables: {md_escape(load_error)}. Nothing was loaded.", icon=":material/error:")

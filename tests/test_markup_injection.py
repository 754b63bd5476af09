"""User-controlled text is shown as text, never as Markdown or HTML: a link from the URL, a
search box, a cohort's name, institution, death cause and notes, an uploaded file's name and
cBioPortal column names. Checked on the element bodies Streamlit would render as Markdown."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from analytics.build import DEMO_SOURCE
from analytics.importing.template import tables_from_folder, workbook_from_tables
from tests.apptest_helpers import as_read, run_page
from ui.text import md_escape

LINK = "[x](https://evil.example)"
IMAGE = "![t](http://host/p.png)"
HTML = "<img src=x onerror=alert(1)>"
GENE = "GENE[x](https://evil.example)"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MARKDOWN_KINDS = ("markdown", "caption", "info", "warning", "error", "success", "title", "header",
                  "subheader")
# Markup that would be active in a Markdown body once backslash-escaped characters are removed.
ACTIVE = re.compile(r"\]\(|!\[|<[a-zA-Z/]|https?:/|www\.|:[a-z]+\[|:material/\w+:")


def active_markup(body: str) -> list[str]:
    return ACTIVE.findall(re.sub(r"\\.", "", body))


def rendered_bodies(at) -> list[str]:
    """Every body Streamlit renders as Markdown: texts, alerts, headings, table cells, link labels."""
    bodies = [str(e.value) for kind in MARKDOWN_KINDS for e in getattr(at, kind)]
    bodies += [str(v) for t in at.table for v in t.value.astype(str).to_numpy().ravel()]
    bodies += [str(p.proto.label) for p in at.get("page_link")]
    return bodies


def assert_shown_as_text(at, hostile: str) -> None:
    assert not at.exception
    bodies = rendered_bodies(at)
    assert any(hostile in as_read(b) for b in bodies), f"{hostile!r} not shown at all"
    # icons and the app's own links are set by the app, not in user text: only bodies holding
    # the hostile value are checked
    offending = [b for b in bodies if hostile in as_read(b) and active_markup(b)]
    assert offending == [], offending


def test_md_escape_leaves_no_active_markup():
    for hostile in (LINK, IMAGE, HTML, "www.evil.example", ":red[x] :material/home:", "$x^2$", "a\n# b"):
        assert active_markup(md_escape(hostile)) == []
        assert as_read(md_escape(hostile)) == hostile.replace("\n", " ")


@pytest.mark.parametrize("hostile", [LINK, IMAGE, HTML])
def test_patient_from_the_url(hostile):
    at = run_page("pages/patient.py", {"patient": hostile})
    assert_shown_as_text(at, hostile)


@pytest.mark.parametrize("hostile", [LINK, IMAGE, HTML])
def test_dictionary_search_from_the_url(hostile):
    at = run_page("pages/dictionary.py", {"dict_search": hostile})
    assert_shown_as_text(at, hostile)


@pytest.mark.parametrize("page, param", [("survival", "endpoint"), ("survival", "landmark"),
                                         ("response", "resp_sort"), ("withdrawal", "wd_specimen")])
def test_page_option_from_the_url(page, param):
    """An option value a page cannot use is named in a notice: as text."""
    at = run_page(f"pages/{page}.py", {param: LINK})
    assert not at.exception
    notices = [b for b in rendered_bodies(at) if "Link option not used" in b]
    if not notices:
        pytest.skip(f"{page} has no option named {param}")
    assert [b for b in notices if "evil.example" in as_read(b)]
    assert not [b for b in notices if active_markup(b)]


def hostile_cohort() -> bytes:
    tables = tables_from_folder(DEMO_SOURCE)
    tables["cohort_info"] = pd.DataFrame([{"cohort_name": f"Cohort {LINK} {IMAGE}", "synthetic": "false",
                                           "description": HTML}])
    patients = tables["patients"]
    patients.loc[patients["institution"] == "Site B", "institution"] = f"Site {LINK}"
    events = tables["events"]
    events.loc[events["event_type"] == "death", "cause"] = f"cause {IMAGE}"
    events.loc[events["event_type"] == "last_contact", "note"] = f"note {LINK}"
    mutations = tables["mutations"]
    mutations.loc[mutations["gene"] != "TP53", "gene"] = GENE
    return workbook_from_tables(tables)


@pytest.fixture(scope="module")
def uploaded():
    at = run_page("pages/upload.py")
    at.get("file_uploader")[0].set_value(("cohort.xlsx", hostile_cohort(), XLSX)).run()
    assert not at.exception
    at.button(key="upload_load").click().run()
    assert not at.exception
    return at


def test_uploaded_cohort_name(uploaded):
    at = uploaded.switch_page("pages/overview.py").run()
    assert_shown_as_text(at, f"Cohort {LINK} {IMAGE}")


def test_uploaded_institution_in_table_one(uploaded):
    at = uploaded.switch_page("pages/overview.py").run()
    assert_shown_as_text(at, f"Site {LINK}")


def test_uploaded_death_cause_and_note_on_the_patient_page(uploaded):
    deceased = uploaded.session_state["session_cohort"]["db"].scalar(
        "SELECT patient_id FROM events WHERE event_type = 'death' ORDER BY patient_id LIMIT 1")
    uploaded.query_params["patient"] = deceased
    at = uploaded.switch_page("pages/patient.py").run()
    assert_shown_as_text(at, f"cause {IMAGE}")


def test_uploaded_gene_name_in_the_cooccurrence_view(uploaded):
    uploaded.query_params["gen_tab"] = "Co-occurrence"
    uploaded.query_params["co_a"] = "TP53"
    uploaded.query_params["co_b"] = GENE
    at = uploaded.switch_page("pages/genomics.py").run()
    assert not at.exception
    bodies = rendered_bodies(at)
    assert any(GENE in as_read(b) for b in bodies), "the gene is not shown"
    assert not [b for b in bodies if "evil.example" in as_read(b) and active_markup(b)]


def test_uploaded_notes_on_the_response_page(uploaded):
    at = uploaded.switch_page("pages/response.py").run()
    assert not at.exception
    bodies = rendered_bodies(at)
    assert any("evil.example" in as_read(b) or "host/p.png" in as_read(b) for b in bodies)
    assert not [b for b in bodies if ("evil.example" in as_read(b) or "host/p.png" in as_read(b)) and active_markup(b)]


def test_uploaded_file_name_and_values_in_the_report():
    at = run_page("pages/upload.py")
    name = f"{LINK}{IMAGE}.csv"
    at.get("file_uploader")[0].set_value([(name, b"a,b\n1,2\n", "text/csv")]).run()
    assert_shown_as_text(at, name)


def test_cbioportal_column_names_in_the_not_mapped_list():
    from tests.test_cbioportal_import import patient_file, study
    column = "EVIL_[x](https://evil.example)"
    lines = patient_file().decode().splitlines()
    lines = [line + "\t" + (column if i == 4 else "#1" if i == 3 else "#STRING" if i == 2 else
                            "#desc" if i < 4 else "v") for i, line in enumerate(lines)]
    lines = [line.replace("\t#", "\t") if i < 4 else line for i, line in enumerate(lines)]
    files = study(**{"data_clinical_patient.txt": None}) + [("data_clinical_patient.txt", "\n".join(lines).encode())]
    files = [(name, data, "text/plain") for name, data in dict(files).items()]
    at = run_page("pages/upload.py")
    at.get("file_uploader")[0].set_value(files).run()
    assert not at.exception
    bodies = rendered_bodies(at)
    assert any("evil.example" in as_read(b) for b in bodies), "the column name is not reported"
    assert not [b for b in bodies if "evil.example" in as_read(b) and active_markup(b)]


def test_mapping_step_column_names_and_values():
    """A group's own spreadsheet: its column names and coded values label the mapping widgets."""
    import io

    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "Patients"
    sheet.append(["Patient", "Sex", LINK])
    for i, sex in enumerate(["F", IMAGE, "M", "F"]):
        sheet.append([f"P{i}", sex, "1"])
    out = io.BytesIO()
    book.save(out)
    at = run_page("pages/upload.py")
    at.get("file_uploader")[0].set_value(("own.xlsx", out.getvalue(), XLSX)).run()
    assert not at.exception
    labels = [str(s.label) for s in at.selectbox] + [str(e.proto.expandable.label) for e in at.get("expandable")]
    assert any(LINK in as_read(label) for label in labels), labels
    assert any(IMAGE in as_read(label) for label in labels), labels
    assert not [label for label in labels if ("evil.example" in as_read(label) or "host/p.png" in as_read(label))
                and active_markup(label)]

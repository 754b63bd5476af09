"""Genomic features carried as groups from the genomics page to survival and response."""
import pytest

from tests.apptest_helpers import all_text, run_page

GENOMIC_GROUPS = ("tp53_status", "ploidy_category", "bcr_abl1")


@pytest.mark.parametrize("page", ["pages/survival.py", "pages/response.py"])
@pytest.mark.parametrize("group", GENOMIC_GROUPS)
def test_group_link_selects_the_feature_and_keeps_filters(page, group):
    at = run_page(page, {"group": group, "institution": "Site A"})
    assert not at.exception
    page_name = page.removeprefix("pages/").removesuffix(".py")
    assert at.selectbox(key=f"{page_name}.group").value == group  # each page's own option
    assert "22 of 32 patients" in all_text(at)

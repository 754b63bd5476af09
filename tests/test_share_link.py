"""The app's address and a view's link, from what the browser told Streamlit (st.context.url)."""
from types import SimpleNamespace

import pytest

from ui import share_link


@pytest.fixture
def browser_at(monkeypatch):
    def at(url: str, query: dict | None = None) -> None:
        fake = SimpleNamespace(context=SimpleNamespace(url=url), query_params=_Params(query or {}))
        monkeypatch.setattr(share_link, "st", fake)
    return at


class _Params(dict):
    def get_all(self, key):
        return [self[key]]


def test_the_share_page_links_slides_to_the_app_not_to_itself(browser_at):
    # On a page's first load the address can still end in that page's path (seen: slides linked
    # http://host/share/withdrawal).
    browser_at("http://host:8501/share")
    assert share_link.app_address(("share",)) == "http://host:8501"
    browser_at("http://host:8501/")
    assert share_link.app_address(("share",)) == "http://host:8501"


def test_a_view_link_has_the_page_once_and_its_parameters(browser_at):
    browser_at("http://host:8501/survival", {"group": "sex", "tp53": "mutated"})
    assert share_link.view_url("survival") == "http://host:8501/survival?group=sex&tp53=mutated"
    browser_at("", {})
    assert share_link.view_url("survival") == "/survival"

"""Routing: st.navigation owns it; Streamlit's legacy pages/ auto-discovery must not interfere.

With a pages/ folder beside the entrypoint, Streamlit starts every server (and every AppTest
run) in legacy mode, where a deep link runs the page file directly and skips the entrypoint.
ui.routing.require_entrypoint turns that mode off and reruns through the entrypoint.
"""
import ast

from streamlit.runtime.pages_manager import PagesManager

from tests.apptest_helpers import ROOT, all_text, run_page

PAGE_FILES = sorted(p for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py")


def _registered_pages() -> set[str]:
    tree = ast.parse((ROOT / "streamlit_app.py").read_text())
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"
            and node.args and isinstance(node.args[0], ast.Constant)}


def test_every_page_file_is_routed_and_every_route_exists():
    files = {f"pages/{p.name}" for p in PAGE_FILES}
    assert files == _registered_pages()


def test_every_page_starts_with_the_entrypoint_guard():
    for path in PAGE_FILES:
        calls = [node.func.id for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        assert "require_entrypoint" in calls, f"{path.name} does not call require_entrypoint()"


def test_streamlit_still_has_the_legacy_mode_switch_we_rely_on():
    assert hasattr(PagesManager, "uses_pages_directory")


def test_deep_link_in_legacy_mode_runs_the_entrypoint_first():
    # AppTest resets Streamlit to legacy mode before every run, as a fresh server starts:
    # switching to a page therefore exercises the deep-link path.
    for path in PAGE_FILES:
        at = run_page(f"pages/{path.name}", {"tp53": "mutated"})
        assert not at.exception, path.name
        text = all_text(at)
        assert "9 of 32 patients" in text, f"{path.name} ran without the entrypoint's filters"
        assert "Synthetic cohort" in text, f"{path.name} ran without the entrypoint's notice"

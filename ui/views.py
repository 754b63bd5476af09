"""A page's spec in the session and the URL, and a view result on screen.

`bind(SpecClass)` seeds the page's widgets (namespaced session keys) from the link the first
time a page runs in a session, and whenever Streamlit has dropped their state (a page switch):
from the link's own options when it has any, else from the page's last view in this session
(a page left and visited again shows what it showed); afterwards the widgets are the truth. `current(SpecClass)` reads the widgets into a validated
spec and writes exactly that spec's non-default options into the URL, so a link carries only
the page's own options and the filters. `show(result)` renders a `ViewResult`: figure (with
its caveats in every export), caption, result lines and caveats.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, TypeVar

import streamlit as st

from analytics.views.result import ViewResult
from analytics.views.spec import PageSpec, params_mapping  # noqa: F401  (pages and share use it)
from ui.text import md_escape

S = TypeVar("S", bound=PageSpec)
_NOTICES = "_spec_notices"


def _url_params(spec_cls: type[PageSpec]) -> dict[str, list[str]]:
    return {p: st.query_params.get_all(p) for p in spec_cls.params() if p in st.query_params}


def _session_value(f: dataclasses.Field, value: Any) -> Any:
    return list(value) if f.metadata["multi"] else value


def bind(spec_cls: type[S]) -> None:
    """Seed this page's widget state from the URL where it has none (call before the widgets)."""
    keys = [spec_cls.session_key(f.name) for f in spec_cls.options()]
    if all(k in st.session_state for k in keys):
        return
    params = _url_params(spec_cls)
    if not params:  # back on a page of this session: its last view, not the defaults
        from ui.share_link import VIEWS_KEY
        params = {k: v for k, v in params_mapping(st.session_state.get(VIEWS_KEY, {}).get(spec_cls.PAGE, ())).items()
                  if k in spec_cls.params()}
    spec, notices = spec_cls.from_params(params)
    for f, key in zip(spec_cls.options(), keys):
        if key not in st.session_state:
            st.session_state[key] = _session_value(f, getattr(spec, f.name))
    if notices:
        st.session_state[_NOTICES] = notices


def set_value(spec_cls: type[PageSpec], name: str, value: Any) -> None:
    """Change one option (e.g. when a value is not possible under the current filters)."""
    f = next(f for f in spec_cls.options() if f.name == name)
    st.session_state[spec_cls.session_key(name)] = _session_value(f, value)


def current(spec_cls: type[S], **overrides: Any) -> S:
    """The validated spec from the page's widgets; the URL then carries exactly its options."""
    bind(spec_cls)
    values = {}
    for f in spec_cls.options():
        value = st.session_state.get(spec_cls.session_key(f.name), f.default)
        values[f.name] = tuple(value) if f.metadata["multi"] else value
    values.update(overrides)
    spec = spec_cls(**values).validated()
    write_url(spec)
    for notice in st.session_state.pop(_NOTICES, []):
        st.info(f"Link option not used: {md_escape(notice)}", icon=":material/link_off:")  # holds the URL's text
    return spec


def write_url(spec: PageSpec) -> None:
    for param in spec.params():
        if param in st.query_params:
            del st.query_params[param]
    grouped: dict[str, list[str]] = {}
    for param, text in spec.to_params():
        grouped.setdefault(param, []).append(text)
    for param, texts in grouped.items():
        st.query_params[param] = texts if len(texts) > 1 else texts[0]


def figure_of(result: ViewResult):
    """The figure of a result (cached_figure draws it from the cached result: no second computation)."""
    return result.figure


def compute(view_fn, *args) -> ViewResult:
    """`view_fn(db, *args)` for the session's cohort, cached per view (`state.cached`)."""
    from ui import state
    return state.cached(view_fn)(*args)


def figure(view_fn, *args):
    """The figure of `view_fn(db, *args)` as a cached, rendered spec (`ui.figures.Figure`), drawn
    from the same cached result `compute` returns."""
    from ui import figures
    return figures.cached_figure(figure_of, data=view_fn)(*args)


def show_caveats(result: ViewResult) -> None:
    for caveat in result.caveats:
        if caveat.level == "warning":
            st.warning(caveat.markdown(), icon=":material/warning:")
        else:
            st.info(caveat.markdown(), icon=":material/info:")


def show(result: ViewResult, *, figure=None, stretch: bool = True, caveats: bool = True,
         subheader: bool = False, spec: PageSpec | None = None) -> None:
    """Render `result`: optional subheader, caveats, figure (cached spec `figure` if given),
    caption, result lines, methods paragraph and, given the view's `spec`, "Reproduce in
    Python" downloads."""
    from ui import components
    if subheader:
        st.subheader(result.title)
    if caveats:
        show_caveats(result)
    if figure is not None or result.figure is not None:
        components.show_chart(figure if figure is not None else result.figure, stretch=stretch,
                              name=result.figure_name, n_patients=result.n_patients,
                              caveats=tuple(result.caveat_sentences()))
    if result.caption:
        st.caption(md_escape(result.caption))  # plain text that can hold the cohort's own labels
    for line in result.lines:
        st.markdown(escape_markdown(line))
    show_methods(result)
    if spec is not None:
        reproduce_downloads(result, spec)


def reproduce_downloads(result: ViewResult, spec: PageSpec) -> None:
    """A script and a notebook that recompute this view outside the app (built on click)."""
    from analytics import reproduce
    from ui import access, state
    from ui.share_link import view_url
    if not reproduce.available(result.key) or access.small_cell_k() > 1:
        return  # a script prints every count of the view: not offered where small counts are withheld
    db, cohort_filter = state.current_database(), state.current_filter()
    path = getattr(db, "path", None)
    if path is None:  # an uploaded cohort lives in memory: there is no file to point a script at
        st.caption("Reproduce in Python: available for cohort files (an uploaded cohort has none; build it "
                   "with `python -m analytics.importing` first).")
        return
    link = view_url(spec.PAGE)

    def text() -> str:
        provenance = reproduce.Provenance(str(path), reproduce.data_file_sha256(path), reproduce.app_version(), link)
        return reproduce.script(result.key, db, cohort_filter, spec, provenance)

    stem = result.key.replace(".", "_")
    left, right = st.columns(2)
    left.download_button("Reproduce in Python (.py)", lambda: text(), file_name=f"{stem}.py",
                         mime="text/x-python", icon=":material/code:", key=f"repro_py_{stem}", on_click="ignore",
                         help="A self-contained script: opens the cohort file read-only, checks its SHA-256, "
                              "selects the view's patients with SQL, recomputes the numbers with the standard "
                              "libraries (lifelines, SciPy, statsmodels, pandas) and draws the figure with Altair.")
    right.download_button("Reproduce as a notebook (.ipynb)", lambda: reproduce.notebook(text()),
                          file_name=f"{stem}.ipynb", mime="application/x-ipynb+json", icon=":material/code:",
                          key=f"repro_nb_{stem}", on_click="ignore")


def csv_provenance(title: str, page: str, caveats: tuple[str, ...] = ()) -> Callable[[], list[str]]:
    """The provenance lines a CSV of this page's view starts with (analytics.export), as a
    function: the session's state is read now, the cohort file is hashed when the file is built
    (a download built on click runs outside the script, without the session)."""
    from analytics import reproduce
    from analytics.export import provenance_lines
    from ui import state
    from ui.share_link import view_url
    path = getattr(state.current_database(), "path", None)
    link, filters, version = view_url(page), state.current_filter().describe(), reproduce.app_version()

    def lines() -> list[str]:
        data = (f"{Path(path).name} SHA-256 {reproduce.data_file_sha256(path)}" if path is not None
                else "an uploaded cohort held in memory (no file)")
        return provenance_lines(title, link, data, version, filters, caveats)
    return lines


def csv_download(label: str, table, *, file_name: str, key: str | None, page: str, title: str,
                 result: ViewResult | None = None, container=None, **options) -> None:
    """A CSV download of `table` (a frame, or a function returning one: built on click) that
    starts with the view's provenance and caveats (`result`'s when given), in `container`
    (a column; the page by default)."""
    from analytics.export import safe_csv
    provenance = csv_provenance(title, page, tuple(result.caveat_sentences()) if result is not None else ())

    def data() -> bytes:
        return safe_csv(table() if callable(table) else table, provenance())
    # on_click="ignore": the click does not rerun the page, so no rerun can replace the file being fetched
    (container or st).download_button(label, data if callable(table) else data(), file_name=file_name,
                                      mime="text/csv", key=key, icon=options.pop("icon", ":material/download:"),
                                      on_click="ignore", **options)


def show_methods(result: ViewResult) -> None:
    """The view's methods paragraph, copyable (the code box has a copy icon)."""
    if result.methods:
        with st.expander("Methods paragraph (for a manuscript)", icon=":material/article:"):
            st.code(result.methods, language=None, wrap_lines=True)


def escape_markdown(text: str) -> str:
    """Plain text for st.markdown (result lines can carry a cohort's own category labels): every
    Markdown/HTML punctuation character escaped, so no link, image, autolink (`www.`, `://`),
    directive (`:red[...]`), math, list or heading can start (`ui.text.md_escape`).

    >>> escape_markdown("[x](https://e.org) *a* 1.5")
    '\\\\[x\\\\]\\\\(https\\\\:\\\\/\\\\/e\\\\.org\\\\) \\\\*a\\\\* 1\\\\.5'
    """
    return md_escape(text)

"""Small display pieces every page uses: the synthetic-data notice and the empty state."""
from __future__ import annotations

import streamlit as st
from ui.figures import Figure, file_name_of, rendered_spec
from ui.text import md_escape

from analytics.db import CohortDatabase

SYNTHETIC_NOTICE = (
    "**Synthetic cohort** reconstructed from published aggregates of Geyer et al., "
    "*Blood Adv* 2023;7(13):3087-3098 (doi:10.1182/bloodadvances.2022009212). "
    "Invented patients, **not patient data**.")


def cohort_notice(db: CohortDatabase) -> None:
    if db.synthetic:
        st.info(SYNTHETIC_NOTICE, icon=":material/science:")
    else:
        st.caption(f"Cohort: {md_escape(db.label)}")


def require_patients(n: int, what: str = "patients") -> None:
    """Stop the page with a clear message when the filters leave nobody to show, or, under
    small-cell suppression, fewer than k patients.

    A view of fewer than k patients is withheld as a whole (not cell by cell): otherwise
    stepping a filter (age 65-73, 66-73, ...) would give back one patient's values. Zero is
    answered with the same message then, or "none" against "withheld" would say whether a
    patient has the filtered values.
    """
    from ui import access
    k = access.small_cell_k()
    if k > 1 and n < k:
        st.warning(f"Fewer than {k} {what} (possibly none) match the current cohort filters. "
                   f"Small-cell suppression is on: a selection of fewer than {k} is not shown. "
                   "Widen or clear the filters in the sidebar.", icon=":material/filter_alt_off:")
        st.stop()
    if n == 0:
        st.warning(f"No {what} match the current cohort filters. Widen or clear the filters "
                   "in the sidebar.", icon=":material/filter_alt_off:")
        st.stop()


def withheld_under_suppression(what: str, *, stop: bool = False) -> bool:
    """True (with a notice) when small-cell suppression is on and `what` cannot honour it.

    Suppression is applied to the aggregate views built for it (Table 1, best response,
    alteration frequencies, Kaplan-Meier); views of individual patients, and tables whose small
    counts cannot be hidden without giving them back through their margins, are withheld
    instead, so nothing on screen or in an export shows a count below k.
    """
    from ui import access
    k = access.small_cell_k()
    if k <= 1:
        return False
    st.info(f"Small-cell suppression is on (counts below {k} are not shown): {what} is withheld "
            "on this deployment.", icon=":material/visibility_off:")
    if stop:
        st.stop()
    return True


FIGURE_COUNTER = "_figures_drawn_this_run"


def show_chart(chart, *, stretch: bool = True, name: str | None = None,
               n_patients: int | None = None, caveats: tuple[str, ...] = ()) -> None:
    """Render a figure with the app's own theme (not Streamlit's), with PNG/SVG/PDF downloads
    that carry a provenance footer.

    `chart` is a `ui.figures.Figure` (cached per view: preferred, a rerun only sends it) or an
    Altair chart built by `analytics` (converted on every rerun).
    `stretch=False` keeps the chart's own width (facets and aligned risk tables need it).
    `name` is the file name (default: from the chart title); `n_patients` the n in the footer
    (default: the filtered cohort); `caveats` the view's warnings, printed in every export.
    """
    if isinstance(chart, Figure):
        spec, name, rebuild = chart.spec, name or chart.name, chart.rebuild
    else:
        spec, name, rebuild = rendered_spec(chart), name or file_name_of(chart), (lambda: chart)
    st.vega_lite_chart(spec=spec, theme=None, width="stretch" if stretch else "content")
    if n_patients is None:
        from analytics.cohort import count_patients
        from ui.state import cached, current_filter
        n_patients = cached(count_patients)(current_filter())
    # A per-run counter (reset by routing.mark_routed) keeps keys unique and stable across reruns.
    index = st.session_state.get(FIGURE_COUNTER, 0)
    st.session_state[FIGURE_COUNTER] = index + 1
    with st.popover("Download figure", icon=":material/download:"):
        figure_downloads(rebuild, name, n_patients, key=f"fig{index}_{name}", caveats=caveats)


def figure_downloads(rebuild, name: str, n_patients: int, key: str, caveats: tuple[str, ...] = ()) -> None:
    """PNG (300 ppi), SVG and PDF downloads of the chart `rebuild()` returns, with its
    provenance footer.

    The chart is rebuilt and the files rendered only when a button is clicked (deferred
    callables), never on rerun.
    """
    from analytics import theme
    from analytics.figure_export import FORMATS, Provenance, export_figure
    from ui.state import current_database, current_filter

    presenting = theme.presenting()  # read now: the download runs outside this script run

    def chart_to_export():
        chart = rebuild()
        return theme.for_projector(chart) if presenting else chart

    db = current_database()
    from analytics.reproduce import app_version
    from ui.share_link import view_url
    link = view_url(st.session_state.get("_current_page_path", ""))
    provenance = Provenance(db.label, db.synthetic, n_patients, current_filter().describe(),
                            caveats=tuple(caveats), app_version=app_version(), link=link)
    columns = st.columns(len(FORMATS))
    for column, (fmt, mime) in zip(columns, FORMATS.items()):
        column.download_button(
            f"{fmt.upper()}", data=lambda fmt=fmt: export_figure(chart_to_export(), provenance, fmt),
            file_name=f"{name}.{fmt}", mime=mime, key=f"{key}_{fmt}", icon=":material/download:",
            on_click="ignore",  # a download changes nothing on the page: no rerun competing with the render
            help=f"Download this figure as {fmt.upper()} with a provenance footer")

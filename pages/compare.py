"""Compare with published series: the current cohort beside each published series, a forest plot
with a random-effects pooled estimate, and the demo's reproduction check of the reference study.

Every result is a view of analytics.views.compare (the deck and the report show the same ones).
Published numbers come from data/published_series.csv, shown as published with their source.
"""
import streamlit as st

from analytics.cohort import count_patients
from analytics.compare import POOLING_METHODS
from analytics.published import CHARACTERISTICS, PublishedSeriesError, load_published
from analytics.units import patients_text
from analytics.views import compare as views
from analytics.views.compare import ComparePageSpec as Spec
from ui import access, components, state
from ui.routing import require_entrypoint
from ui.text import md_escape
from ui.views import bind, compute, csv_download, current, figure, show, show_caveats

require_entrypoint()
key = Spec.session_key

st.title("Compare with published series")
cohort_filter = state.current_filter()
n_patients = state.cached(count_patients)(cohort_filter)
components.require_patients(n_patients)
k = access.small_cell_k()
try:
    load_published()
except PublishedSeriesError as error:
    st.error("The published-series file cannot be used: " + "; ".join(error.errors[:10]),
             icon=":material/menu_book:")
    st.stop()

st.caption(f"Current cohort: {patients_text(n_patients)} ({md_escape(cohort_filter.describe())}). Published figures are "
           "quoted from each series' abstract (data/published_series.csv) and marked as published; the "
           "current cohort's are computed by the app.")

bind(Spec)
c1, c2, c3 = st.columns([2, 2, 1])
c1.selectbox("Forest plot of", list(views.PROPORTIONS), key=key("characteristic"),
             format_func=lambda c: CHARACTERISTICS[c].label)
c2.selectbox("Between-series variance", list(POOLING_METHODS), key=key("method"), format_func=POOLING_METHODS.get)
c3.checkbox("Pool the current cohort", key=key("pool_cohort"),
            help="Add the current cohort to the pooled estimate (it is always drawn apart).")
spec = current(Spec)

tab_table, tab_forest, tab_check = st.tabs(list(views.TABS), key=key("tab"), on_change="rerun")
with tab_table:
    if tab_table.open:
        table = compute(views.comparison, cohort_filter, spec, k)
        show(table, caveats=False, spec=spec)  # the table first; its caveats right below it
        st.dataframe(table.tables["comparison"], hide_index=True)
        show_caveats(table)
        comparison_table = table.tables["comparison"]  # the CSV is built on click, not on every rerun
        csv_download("Download the comparison (CSV)", comparison_table, file_name="compare_published.csv",
                     key="dl_compare", page=Spec.PAGE, title=table.title, result=table)
        with st.expander("Where each published figure is reported"):
            st.dataframe(table.tables["sources"], hide_index=True,
                         column_config={"Link": st.column_config.LinkColumn("Link")})

with tab_forest:
    if tab_forest.open:
        plot = compute(views.forest, cohort_filter, spec, k)
        show(plot, figure=figure(views.forest, cohort_filter, spec, k) if plot.figure is not None else None,
             spec=spec)
        if not plot.tables["forest"].empty:
            st.dataframe(plot.tables["forest"].rename(columns={
                "row": "Series", "group": "Kind", "estimate": "Proportion", "ci_low": "95% CI from",
                "ci_high": "95% CI to"}), hide_index=True,
                column_config={c: st.column_config.NumberColumn(format="percent")
                               for c in ("Proportion", "95% CI from", "95% CI to")})

with tab_check:
    if tab_check.open:
        check = compute(views.reproduction, cohort_filter, spec, k)
        show(check, spec=spec)
        st.dataframe(check.tables["reproduction"], hide_index=True,
                     column_config={"Figure": st.column_config.TextColumn(width="small"),
                                    "Agreement": st.column_config.TextColumn(width="small")})

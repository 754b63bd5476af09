"""Genomics: oncoprint, frequencies with evaluable denominators, co-occurrence, ploidy, TP53."""
import streamlit as st

from analytics import cohort, genomics
from analytics.units import patients_text
from analytics.views import genomics as views
from analytics.views.genomics import GenomicsSpec
from ui import access, components, state
from ui.routing import require_entrypoint
from ui.text import md_escape
from ui.views import bind, compute, csv_download, current, figure, set_value, show

require_entrypoint()

st.title("Genomics")

f = state.current_filter()
k = access.small_cell_k()
n = state.cached(cohort.count_patients)(f)
components.require_patients(n)
st.caption(f"{patients_text(n)} · filters: {md_escape(f.describe())}. Denominators are patients **evaluable** for each "
           "alteration; 'not evaluated' is never counted as 'no alteration'.")

TABLE_ROWS_MAX = 1000  # on-screen rows of patient/variant tables (downloads have every row)


def _rows(table):
    """At most TABLE_ROWS_MAX rows for the screen, with a note when some are left out."""
    if len(table) <= TABLE_ROWS_MAX:
        return table
    st.caption(f"Table: the first {TABLE_ROWS_MAX:,} of {len(table):,} rows.")
    return table.head(TABLE_ROWS_MAX)


# Options whose values come from the cohort: a linked value this cohort lacks falls back, with a notice.
bind(GenomicsSpec)
linked = GenomicsSpec(**{name: st.session_state[GenomicsSpec.session_key(name)]
                         for name in ("onco_sort", "co_a", "co_b")},
                      mut_genes=tuple(st.session_state[GenomicsSpec.session_key("mut_genes")]))
fixed, notices = compute(views.checked, linked)
for name in ("onco_sort", "co_a", "co_b", "mut_genes"):
    if getattr(fixed, name) != getattr(linked, name):
        set_value(GenomicsSpec, name, getattr(fixed, name))
for notice in notices:
    st.info(f"Link option not used: {notice}", icon=":material/link_off:")


def _widgets(spec_key: str) -> str:
    return GenomicsSpec.session_key(spec_key)


tab_freq, tab_onco, tab_co, tab_kar, tab_tp53, tab_mut = st.tabs(
    list(views.TABS), key=_widgets("tab"), on_change="rerun")
# Widgets exist in every run (their state is the spec); a tab's views are computed only while it is open.
with tab_onco:
    st.subheader("Oncoprint")
    if not components.withheld_under_suppression("the oncoprint (one column per patient)"):
        st.selectbox("Sort patients by", genomics.oncoprint_sort_options(state.current_database()),
                     key=_widgets("onco_sort"),
                     help="Altered first, then no alteration, then not evaluated; ties keep the "
                          "app-wide patient order.")
with tab_co:
    st.subheader("Co-occurrence among patients evaluable for both")
    if not components.withheld_under_suppression("the co-occurrence tables (2×2 counts)"):
        features = state.cached(genomics.feature_names)()
        c1, c2 = st.columns(2)
        c1.selectbox("Alteration A", features, key=_widgets("co_a"))
        c2.selectbox("Alteration B", features, key=_widgets("co_b"))
with tab_mut:
    st.subheader("Recorded mutations")
    if not components.withheld_under_suppression("the mutation list (individual variants)"):
        c1, c2, c3 = st.columns([2, 2, 1])
        c1.multiselect("Genes", state.cached(genomics.cohort_genes)(), key=_widgets("mut_genes"),
                       placeholder="All genes")
        c2.multiselect("Variant class", list(genomics.CLASS_GROUPS), key=_widgets("mut_classes"),
                       placeholder="All classes")
        c3.number_input("Minimum VAF", 0.0, 1.0, step=0.05, key=_widgets("mut_min_vaf"))
spec = current(GenomicsSpec)


def view(view_fn, reproducible: bool = True):
    """Compute and show one view of this page (its figure cached as a rendered spec), with its
    "Reproduce in Python" downloads unless not `reproducible` or under small-cell suppression (a
    script prints every count and row)."""
    result = compute(view_fn, f, spec, k)
    show(result, figure=figure(view_fn, f, spec, k) if result.figure is not None else None,
         spec=spec if reproducible and k <= 1 else None)
    return result


# ---------------------------------------------------------------------------------------------
with tab_freq:
    if tab_freq.open:
        st.subheader("Alteration frequencies among evaluable patients")
        result = compute(views.frequencies, f, spec, k)
        cols = st.columns(3)
        for col, name in zip(cols, views.HEADLINE_FEATURES):
            if name in result.numbers:
                m = result.numbers[name]
                col.metric(f"{name} (altered / evaluable)", m["value"],
                           help=f"{m['not_evaluated']} of {m['total']} not evaluated; 95% Clopper-Pearson CI {m['ci']}")
                col.caption(f"{m['not_evaluated']} not evaluated · 95% CI {m['ci']}")
        view(views.frequencies)
        st.dataframe(result.tables["Alteration frequencies"], hide_index=True, width="stretch")

with tab_onco:
    if tab_onco.open and k <= 1:
        # Fixed cell size: stretching a concatenated grid to the container pushes the columns past
        # the edge, so this one chart is drawn at its own width (still with the app's theme).
        result = compute(views.oncoprint, f, spec, k)
        show(result, figure=figure(views.oncoprint, f, spec, k), stretch=False, spec=spec)

with tab_co:
    if tab_co.open and k <= 1:
        pair = view(views.cooccurrence)
        if "2×2 table" in pair.tables:
            st.table(pair.tables["2×2 table"].rename(index=md_escape, columns=md_escape))  # labels are data
        st.markdown("#### All pairs")
        pairs = view(views.cooccurrence_pairs)
        if pairs.figure is not None:
            st.dataframe(pairs.tables["All pairs"], hide_index=True, width="stretch",
                         column_config={"Fisher p": st.column_config.NumberColumn(format="%.3g"),
                                        "BH q": st.column_config.NumberColumn(format="%.3g")})

with tab_kar:
    if tab_kar.open:
        st.subheader("Modal chromosome number and ploidy category")
        if not components.withheld_under_suppression("the karyotype view (individual patients)"):
            kt = view(views.karyotype).tables["Karyotypes"]
            if len(kt):
                st.dataframe(_rows(kt)[["patient_id", "karyotype", "clones", "modal_recorded", "modal_parsed",
                                        "category_recorded", "parse_status", "masked_hypodiploidy_flag",
                                        "tp53_status"]].rename(columns={
                    "patient_id": "Patient", "karyotype": "Karyotype (ISCN)", "clones": "Clones",
                    "modal_recorded": "Modal (recorded)", "modal_parsed": "Modal (parsed from ISCN)",
                    "category_recorded": "Ploidy category (expert)", "parse_status": "Parser",
                    "masked_hypodiploidy_flag": "Review flag", "tp53_status": "TP53"}),
                    hide_index=True, width="stretch")

with tab_tp53:
    if tab_tp53.open:
        st.subheader("TP53 variants")
        if not components.withheld_under_suppression("the TP53 variant view (individual patients)"):
            if compute(views.tp53, f, spec, k).figure is not None:
                st.markdown("#### Position along the protein")
            variants = view(views.tp53).tables["TP53 variants"]
            if not variants.empty:
                st.dataframe(_rows(variants)[["patient_id", "protein_change", "variant_class", "vaf", "position",
                                              "assay"]].rename(
                    columns={"patient_id": "Patient", "protein_change": "Protein change", "variant_class": "Class",
                             "vaf": "VAF", "position": "Position", "assay": "Assay"}),
                    hide_index=True, width="stretch",
                    column_config={"VAF": st.column_config.NumberColumn(format="%.2f")})
                st.markdown("#### Variant allele fraction")
                view(views.tp53_vaf)

with tab_mut:
    if tab_mut.open and k <= 1:
        result = view(views.mutations, reproducible=not access.public_mode())  # its script prints every variant
        muts = result.tables["Mutations"]
        if access.public_mode():
            st.info("Public deployment: the variant-level table and its download are not shown.",
                    icon=":material/public:")
        else:
            st.dataframe(_rows(muts), hide_index=True, width="stretch",
                         column_config={"vaf": st.column_config.NumberColumn("VAF", format="%.2f")})
            csv_download("Download CSV", muts, file_name="mutations.csv", key="genomics.mut_download",
                         page=spec.PAGE, title=result.title, result=result, icon=None)

# ---------------------------------------------------------------------------------------------
st.divider()
st.markdown("**Use a genomic feature as the group on other pages** (keeps the current cohort filters):")
link_cols = st.columns(len(genomics.GROUP_COLUMNS))
for i, (label, column) in enumerate(genomics.GROUP_COLUMNS.items()):
    for target, title in (("pages/survival.py", "Survival"), ("pages/response.py", "Response")):
        params = {"group": column, **f.to_query_params()}
        link_cols[i].page_link(target, label=f"{title} by {label}", query_params=params,
                               icon=":material/arrow_forward:")

"""Genomics: oncoprint, frequencies with evaluable denominators, co-occurrence, ploidy, TP53."""
import math

import streamlit as st

from analytics.units import patients_text
from analytics import cohort, genomics
from analytics.genomics import CLASS_GROUPS
from ui import access, components, figures, state
from analytics.disclosure import suppress_count, suppressed_cells, suppressed_label
from analytics.export import safe_csv
from ui.routing import require_entrypoint
from ui.url import choice_parser, url_option
from ui.text import md_escape

require_entrypoint()

st.title("Genomics")

count_patients = state.cached(cohort.count_patients)
feature_names = state.cached(genomics.feature_names)
sort_options = state.cached(genomics.oncoprint_sort_options)
frequencies = state.cached(genomics.alteration_frequencies)
cooccurrence = state.cached(genomics.cooccurrence)
cooccurrence_matrix = state.cached(genomics.cooccurrence_matrix)
karyotype_table = state.cached(genomics.karyotype_table)
tp53_variants = state.cached(genomics.tp53_variants)
mutation_table = state.cached(genomics.mutation_table)
cohort_genes = state.cached(genomics.cohort_genes)
# Figures cached per view as rendered specs: a warm rerun sends them without rebuilding.
frequency_figure = figures.cached_figure(genomics.frequency_chart, data=genomics.alteration_frequencies)
oncoprint_figure = figures.cached_figure(genomics.oncoprint_figure)
cooccurrence_figure = figures.cached_figure(genomics.cooccurrence_figure)
modal_number_figure = figures.cached_figure(genomics.modal_number_figure)
lollipop_figure = figures.cached_figure(genomics.lollipop_figure)
vaf_figure = figures.cached_figure(genomics.vaf_figure)

ONCOPRINT_MAX_PATIENTS = genomics.ONCOPRINT_MAX_PATIENTS
f = state.current_filter()
n = count_patients(f)
components.require_patients(n)
st.caption(f"{patients_text(n)} · filters: {md_escape(f.describe())}. Denominators are patients **evaluable** for each "
           "alteration; 'not evaluated' is never counted as 'no alteration'.")

features = feature_names()


def _fmt_ci(low: float, high: float) -> str:
    if math.isnan(low):
        return "–"
    return f"{low:.0%}–{high:.0%}"


def _vaf(raw: str | list[str]) -> float:
    value = float(raw if isinstance(raw, str) else raw[0])
    if not 0.0 <= value <= 1.0:
        raise ValueError(raw)
    return value


TABLE_ROWS_MAX = 1000  # on-screen rows of patient/variant tables (downloads have every row)


def _rows(table):
    """At most TABLE_ROWS_MAX rows for the screen, with a note when some are left out."""
    if len(table) <= TABLE_ROWS_MAX:
        return table
    st.caption(f"Table: the first {TABLE_ROWS_MAX:,} of {len(table):,} rows.")
    return table.head(TABLE_ROWS_MAX)


def _fmt_num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return "∞" if math.isinf(x) else f"{x:.3g}"


TABS = ["Frequencies", "Oncoprint", "Co-occurrence", "Karyotype & ploidy", "TP53", "Mutation table"]
url_option("gen_tab", TABS[0], parse=choice_parser(TABS))  # the open tab is part of the view
tab_freq, tab_onco, tab_co, tab_kar, tab_tp53, tab_mut = st.tabs(TABS, key="gen_tab", on_change="rerun")

# ---------------------------------------------------------------------------------------------
with tab_freq:
    if tab_freq.open:  # a tab's content is computed only while it is open (st.tabs reruns on change)
        st.subheader("Alteration frequencies among evaluable patients")
        freq = frequencies(f)
        k = access.small_cell_k()
        # a proportion a/e is the distribution [a, e - a]: hidden when either part is small
        hidden = [suppressed_cells([a, e - a], k)[0] for a, e in zip(freq["altered"], freq["evaluable"])]
        shown_altered = [suppressed_label(a, e, k).split("/")[0] if hide else str(a)
                         for a, e, hide in zip(freq["altered"], freq["evaluable"], hidden)]
        cols = st.columns(3)
        for col, name in zip(cols, ["TP53", "Low hypodiploid", "BCR::ABL1"]):
            if name in set(freq["feature"]):
                i = freq.index[freq["feature"] == name][0]
                r = freq.loc[i]
                value = f"{shown_altered[i]}/{int(r.evaluable)}" if r.evaluable else "not evaluable"
                ci = "suppressed" if hidden[i] else _fmt_ci(r.ci_low, r.ci_high)
                not_evaluated = suppress_count(r.not_evaluated, k)
                col.metric(f"{name} (altered / evaluable)", value,
                           help=f"{not_evaluated} of {int(r.total)} not evaluated; 95% Clopper-Pearson CI {ci}")
                col.caption(f"{not_evaluated} not evaluated · 95% CI {ci}")
        if (freq["evaluable"] > 0).any():
            components.show_chart(frequency_figure(f, small_cell_k=k))
        else:
            st.info("No patient in this selection was evaluated for any alteration (no sequencing, "
                    "no karyotype, no BCR::ABL1 test): there is nothing to count.")
        if n < 20:
            st.warning(f"Only {patients_text(n)}: the exact 95% intervals are wide; read the counts, not the percentages.")
        table = freq.assign(altered=shown_altered,
                            not_evaluated=[suppress_count(x, k) for x in freq["not_evaluated"]],
                            percent=[None if hide else round(p * 100, 1) for p, hide in zip(freq["proportion"], hidden)],
                            ci=["suppressed" if hide else _fmt_ci(lo, hi)
                                for lo, hi, hide in zip(freq["ci_low"], freq["ci_high"], hidden)])
        st.dataframe(table[["feature", "group", "altered", "evaluable", "not_evaluated", "percent", "ci"]].rename(
            columns={"feature": "Alteration", "group": "Kind", "altered": "Altered", "evaluable": "Evaluable",
                     "not_evaluated": "Not evaluated", "percent": "% of evaluable", "ci": "95% CI (Clopper-Pearson)"}),
            hide_index=True, width="stretch")

# ---------------------------------------------------------------------------------------------
with tab_onco:  # widgets exist in every run (their URL state is kept); charts only when open
    st.subheader("Oncoprint")
    if not components.withheld_under_suppression("the oncoprint (one column per patient)"):
        options = sort_options()
        url_option("onco_sort", options[0], parse=choice_parser(options))
        sort_by = st.selectbox("Sort patients by", options, key="onco_sort",
                               help="Altered first, then no alteration, then not evaluated; ties keep the "
                                    "app-wide patient order.")
        if tab_onco.open:
            # Fixed cell size: stretching a concatenated grid to the container pushes the columns past
            # the edge, so this one chart is drawn at its own width (still with the app's theme).
            components.show_chart(oncoprint_figure(f, sort_by, ONCOPRINT_MAX_PATIENTS), stretch=False)
            if n > ONCOPRINT_MAX_PATIENTS:
                st.info(f"The oncoprint draws the first {ONCOPRINT_MAX_PATIENTS} of {n:,} patients in the "
                        "chosen sort order (sort by an alteration to see its carriers first); the "
                        "frequencies and tests use every patient.", icon=":material/view_column:")
            st.caption("Columns are patients. Grey with ╱ = not evaluated (no test); near white = tested, no "
                       "alteration. Numbers in mutation cells are the VAF in %. Hover a cell for protein change, "
                       "VAF and karyotype.")

# ---------------------------------------------------------------------------------------------
with tab_co:
    st.subheader("Co-occurrence among patients evaluable for both")
    if not components.withheld_under_suppression("the co-occurrence tables (2×2 counts)"):
        default_a = "TP53" if "TP53" in features else features[0]
        default_b = "Low hypodiploid" if "Low hypodiploid" in features else features[-1]
        url_option("co_a", default_a, parse=choice_parser(features))
        url_option("co_b", default_b, parse=choice_parser(features))
        c1, c2 = st.columns(2)
        feat_a = c1.selectbox("Alteration A", features, key="co_a")
        feat_b = c2.selectbox("Alteration B", features, key="co_b")
        if not tab_co.open:
            pass
        elif feat_a == feat_b:
            st.info("Pick two different alterations.")
        else:
            result = cooccurrence(f, feat_a, feat_b)
            st.markdown(f"**{md_escape(feat_a)} × {md_escape(feat_b)}**: {result['n_both']} patients evaluable for both "
                        f"({result['n_excluded']} excluded: not evaluated for at least one).")
            st.table(result["table"].rename(index=md_escape, columns=md_escape))  # labels are data
            fr = result["fisher"]
            if fr is None or result["n_both"] == 0:
                st.info("No patient in this selection is evaluable for both alterations.")
            else:
                st.markdown(
                    f"Fisher's exact test (two-sided) p = **{fr.p_value:.3g}**; odds ratio (conditional MLE) "
                    f"**{_fmt_num(fr.odds_ratio)}**, exact 95% CI {_fmt_num(fr.ci_low)}–{_fmt_num(fr.ci_high)}; "
                    f"sample odds ratio ad/bc = {_fmt_num(fr.sample_odds_ratio)}.")
                if result["n_both"] < 20:
                    st.caption(f"Small sample (n = {result['n_both']}): the interval is wide; a zero cell makes "
                               "one bound 0 or ∞.")
        if tab_co.open:
            st.markdown("#### All pairs")
            pairs = cooccurrence_matrix(f)
            if pairs.empty:
                st.info("No pair of alterations has at least 10 patients evaluable for both and at least 2 "
                        "altered patients each in this selection.")
            else:
                st.caption(f"{len(pairs)} pairs with ≥ 10 patients evaluable for both and ≥ 2 altered per alteration; "
                           "q = Benjamini-Hochberg across these pairs. Blue = mutual exclusivity, orange = co-occurrence.")
                components.show_chart(cooccurrence_figure(f))
                shown = pairs.assign(
                    odds_ratio=pairs["odds_ratio"].map(_fmt_num),
                    ci=[f"{_fmt_num(lo)}–{_fmt_num(hi)}" for lo, hi in zip(pairs["ci_low"], pairs["ci_high"])])
                st.dataframe(shown[["feature_a", "feature_b", "n", "both", "a_only", "b_only", "neither", "odds_ratio",
                                    "ci", "p_value", "q_value", "tendency"]].rename(columns={
                    "feature_a": "A", "feature_b": "B", "n": "Evaluable for both", "both": "Both", "a_only": "A only",
                    "b_only": "B only", "neither": "Neither", "odds_ratio": "OR (cond. MLE)", "ci": "95% CI",
                    "p_value": "Fisher p", "q_value": "BH q", "tendency": "Direction of OR"}),
                    hide_index=True, width="stretch",
                    column_config={"Fisher p": st.column_config.NumberColumn(format="%.3g"),
                                   "BH q": st.column_config.NumberColumn(format="%.3g")})

# ---------------------------------------------------------------------------------------------
with tab_kar:
    if tab_kar.open:
        st.subheader("Modal chromosome number and ploidy category")
        if not components.withheld_under_suppression("the karyotype view (individual patients)"):
            kt = karyotype_table(f)
            with_modal = int(kt["modal_number"].notna().sum())
            st.caption(f"{with_modal} of {len(kt)} patients with a modal number; bands: near-haploid 24-31, low "
                       "hypodiploid 32-39, high hypodiploid 40-43, near-diploid 44-45, diploid 46, hyperdiploid > 46. "
                       "⚑ = flag for expert review of possible masked hypodiploidy.")
            if with_modal:
                components.show_chart(modal_number_figure(f))
            else:
                st.info("No patient in this selection has a karyotype with a modal chromosome number.")
            flagged = kt[kt["masked_hypodiploidy_flag"].notna()]
            if len(flagged):
                st.warning("Possible masked hypodiploidy, for expert review: " + "; ".join(
                    f"{md_escape(r.patient_id)} ({md_escape(r.masked_hypodiploidy_flag)})" for r in flagged.itertuples()),
                    icon=":material/flag:")
            disagree = kt[kt["agrees"] == False]  # noqa: E712 (pandas object column with None)
            if len(disagree):
                st.info("Recorded and parsed modal numbers differ for: " + ", ".join(map(md_escape, disagree["patient_id"])))
            st.dataframe(_rows(kt)[["patient_id", "karyotype", "clones", "modal_recorded", "modal_parsed", "category_recorded",
                             "parse_status", "masked_hypodiploidy_flag", "tp53_status"]].rename(columns={
                "patient_id": "Patient", "karyotype": "Karyotype (ISCN)", "clones": "Clones",
                "modal_recorded": "Modal (recorded)", "modal_parsed": "Modal (parsed from ISCN)",
                "category_recorded": "Ploidy category (expert)", "parse_status": "Parser",
                "masked_hypodiploidy_flag": "Review flag", "tp53_status": "TP53"}),
                hide_index=True, width="stretch")

# ---------------------------------------------------------------------------------------------
with tab_tp53:
    if tab_tp53.open:
        st.subheader("TP53 variants")
        if not components.withheld_under_suppression("the TP53 variant view (individual patients)"):
            tp = tp53_variants(f)
            freq = frequencies(f)
            r = freq.set_index("feature").loc["TP53"] if "TP53" in set(freq["feature"]) else None
            if r is not None:
                st.markdown(f"TP53 mutated in **{int(r.altered)} of {int(r.evaluable)}** sequenced patients "
                            f"({int(r.not_evaluated)} not sequenced).")
            if tp.empty:
                st.info("No TP53 variant recorded in this selection" +
                        (" (nobody here was sequenced)." if r is None or r.evaluable == 0 else "."))
            else:
                st.dataframe(_rows(tp)[["patient_id", "protein_change", "variant_class", "vaf", "position", "assay"]].rename(
                    columns={"patient_id": "Patient", "protein_change": "Protein change", "variant_class": "Class",
                             "vaf": "VAF", "position": "Position", "assay": "Assay"}),
                    hide_index=True, width="stretch",
                    column_config={"VAF": st.column_config.NumberColumn(format="%.2f")})
                st.markdown("#### Position along the protein")
                unplaced = tp[tp["position"].isna()]
                components.show_chart(lollipop_figure(f))
                if len(unplaced):
                    st.caption("No position could be read for: " + ", ".join(map(md_escape, unplaced["protein_change"].fillna("?"))))
                st.markdown("#### Variant allele fraction")
                components.show_chart(vaf_figure(f))

# ---------------------------------------------------------------------------------------------
with tab_mut:
    st.subheader("Recorded mutations")
    if not components.withheld_under_suppression("the mutation list (individual variants)"):
        genes = cohort_genes()
        classes = list(CLASS_GROUPS)
        url_option("mut_genes", [], parse=lambda raw: [g for g in ([raw] if isinstance(raw, str) else raw)
                                                       if g in genes], serialize=list, multi=True)
        url_option("mut_classes", [], parse=lambda raw: [c for c in ([raw] if isinstance(raw, str) else raw)
                                                         if c in classes], serialize=list, multi=True)
        url_option("mut_min_vaf", 0.0, parse=lambda raw: _vaf(raw), serialize=lambda v: f"{v:g}")
        c1, c2, c3 = st.columns([2, 2, 1])
        chosen_genes = c1.multiselect("Genes", genes, key="mut_genes", placeholder="All genes")
        chosen_classes = c2.multiselect("Variant class", classes, key="mut_classes", placeholder="All classes")
        min_vaf = c3.number_input("Minimum VAF", 0.0, 1.0, step=0.05, key="mut_min_vaf")
        if tab_mut.open:
            freq = frequencies(f)
            muts = mutation_table(f, tuple(chosen_genes), tuple(chosen_classes), float(min_vaf))
            sequenced = int(freq.set_index("feature").loc["TP53", "evaluable"]) if "TP53" in set(freq["feature"]) else 0
            st.caption(f"{len(muts)} variants in {muts['patient_id'].nunique()} patients; {sequenced} of {n} patients in "
                       "the selection were sequenced (the others are not evaluated, not wild-type).")
            if access.public_mode():
                st.info("Public deployment: the variant-level table and its download are not shown.",
                        icon=":material/public:")
            else:
                st.dataframe(_rows(muts), hide_index=True, width="stretch",
                             column_config={"vaf": st.column_config.NumberColumn("VAF", format="%.2f")})
                st.download_button("Download CSV", lambda: safe_csv(muts), file_name="mutations.csv", mime="text/csv",
                                   key="mut_download")

# ---------------------------------------------------------------------------------------------
st.divider()
st.markdown("**Use a genomic feature as the group on other pages** (keeps the current cohort filters):")
link_cols = st.columns(len(genomics.GROUP_COLUMNS))
for i, (label, column) in enumerate(genomics.GROUP_COLUMNS.items()):
    for target, title in (("pages/survival.py", "Survival"), ("pages/response.py", "Response")):
        params = {"group": column, **f.to_query_params()}
        try:
            link_cols[i].page_link(target, label=f"{title} by {label}", query_params=params,
                                   icon=":material/arrow_forward:")
        except Exception:  # noqa: BLE001  (target page not part of this app build yet)
            link_cols[i].caption(f"{title} page not available: {title} by {label}")

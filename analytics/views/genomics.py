"""The Genomics page as views: one per tab figure or table, and the open tab as an option.

Options whose allowed values come from the cohort (the oncoprint's sort, the co-occurrence
pair, the genes of the mutation table) are checked against the database by `checked`: a value
the cohort does not have falls back to the default, with a notice.

>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> db = build_in_memory("data/demo_cohort")
>>> site_b = CohortFilter(institution=("Site B",))
>>> result = frequencies(db, site_b, GenomicsSpec())
>>> result.numbers["TP53"]["value"], result.numbers["Low hypodiploid"]["value"]
('1/5', '0/7')
>>> [r.key for r in slides(db, site_b, GenomicsSpec(tab="Oncoprint", onco_sort="TP53"))]
['genomics.oncoprint']
>>> checked(db, GenomicsSpec(onco_sort="nonsense"))[1]
['onco_sort: "nonsense" is not a sort of this cohort; the default Default (patient id) is used.']
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from analytics import cohort, genomics
from analytics.db import CohortDatabase
from analytics.disclosure import suppression_note
from analytics.filters import CohortFilter
from analytics.units import patients_text
from analytics.views.page_views import PageViews
from analytics.views.methods import describes
from analytics.views.genomics_methods import genomics_methods
from analytics.views.genomics_text import fisher_sentence, frequency_display, pairs_display, some_ids
from analytics.views.result import Caveat, ViewResult, withheld
from analytics.views.spec import OptionError, PageSpec, number, option, some_of

PAGE = "genomics"
TABS = ("Frequencies", "Oncoprint", "Co-occurrence", "Karyotype & ploidy", "TP53", "Mutation table")
DEFAULT_SORT = "Default (patient id)"
DEFAULT_PAIR = ("TP53", "Low hypodiploid")
SMALL_SAMPLE = 20  # below: exact intervals are wide, a warning says so
IDS_LISTED_MAX = 10  # patient ids named in one caveat


def _text(raw) -> str:
    """A cohort-dependent value from a link (checked against the database by `checked`)."""
    text = raw if isinstance(raw, str) else (raw[-1] if raw else "")
    if not text or len(text) > 80 or not text.isprintable():
        raise OptionError("a name of up to 80 printable characters")
    return text


def _texts(raw) -> tuple[str, ...]:
    texts = [raw] if isinstance(raw, str) else list(raw)
    if any(len(t) > 80 or not t.isprintable() for t in texts):
        raise OptionError("names of up to 80 printable characters")
    return tuple(dict.fromkeys(t for t in texts if t))


@dataclass(frozen=True)
class GenomicsSpec(PageSpec):
    """tab: the open tab; onco_sort: the oncoprint's order; co_a, co_b: the pair tested;
    mut_genes, mut_classes, mut_min_vaf: the mutation table's filters (empty = all)."""

    PAGE = PAGE
    tab: str = option(TABS[0], param="gen_tab", choices=TABS, label="tab")
    onco_sort: str = option(DEFAULT_SORT, param="onco_sort", parse=_text, label="oncoprint sorted by")
    co_a: str = option(DEFAULT_PAIR[0], param="co_a", parse=_text, label="alteration A")
    co_b: str = option(DEFAULT_PAIR[1], param="co_b", parse=_text, label="alteration B")
    mut_genes: tuple = option((), param="mut_genes", parse=_texts, multi=True, label="genes")
    mut_classes: tuple = option((), param="mut_classes", multi=True, choices=tuple(genomics.CLASS_GROUPS),
                                parse=some_of(tuple(genomics.CLASS_GROUPS), at_least_one=False),
                                label="variant classes")
    mut_min_vaf: float = option(0.0, param="mut_min_vaf", parse=number(0.0, 1.0), label="minimum VAF")

    def validated(self) -> "GenomicsSpec":
        tab = self.tab if self.tab in TABS else TABS[0]
        vaf = self.mut_min_vaf if isinstance(self.mut_min_vaf, (int, float)) and math.isfinite(self.mut_min_vaf) \
            and 0.0 <= self.mut_min_vaf <= 1.0 else 0.0
        classes = tuple(c for c in genomics.CLASS_GROUPS if c in tuple(self.mut_classes or ()))
        return self.with_(tab=tab, mut_min_vaf=float(vaf), mut_classes=classes,
                          mut_genes=tuple(dict.fromkeys(self.mut_genes or ())))


def default_pair(features: list[str]) -> tuple[str, str]:
    """The pair first shown: TP53 and low hypodiploidy when the cohort has them."""
    return (DEFAULT_PAIR[0] if DEFAULT_PAIR[0] in features else features[0],
            DEFAULT_PAIR[1] if DEFAULT_PAIR[1] in features else features[-1])


def checked(db: CohortDatabase, spec: GenomicsSpec) -> tuple[GenomicsSpec, list[str]]:
    """The spec with values this cohort does not have replaced by defaults, and a notice each."""
    notices: list[str] = []
    changes: dict = {}
    sorts = genomics.oncoprint_sort_options(db)
    if spec.onco_sort not in sorts:
        changes["onco_sort"] = sorts[0]
        notices.append(f'onco_sort: "{spec.onco_sort[:40]}" is not a sort of this cohort; the default '
                       f"{sorts[0]} is used.")
    features = genomics.feature_names(db)
    pair = default_pair(features) if features else DEFAULT_PAIR
    for name, fallback in (("co_a", pair[0]), ("co_b", pair[1])):
        value = getattr(spec, name)
        if value not in features:
            changes[name] = fallback
            if value != getattr(GenomicsSpec, name):  # a link's value, not the cohort-independent default
                notices.append(f'{name}: "{value[:40]}" is not an alteration of this cohort; {fallback} is used.')
    genes = genomics.cohort_genes(db)
    unknown = [g for g in spec.mut_genes if g not in genes]
    if unknown:
        changes["mut_genes"] = tuple(g for g in spec.mut_genes if g in genes)
        notices.append("mut_genes: no mutation of " + ", ".join(g[:40] for g in unknown[:5])
                       + " in this cohort; left out.")
    return (spec.with_(**changes) if changes else spec), notices


def _notices(notices: list[str]) -> tuple[Caveat, ...]:
    return tuple(Caveat("Link option not used", text, level="info") for text in notices)


def _withheld(key: str, title: str, what: str, k: int) -> ViewResult:
    return withheld(PAGE, key, title, what, k)


# --- Frequencies -----------------------------------------------------------------------------------
HEADLINE_FEATURES = ("TP53", "Low hypodiploid", "BCR::ABL1")


@describes(genomics_methods)
def frequencies(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
                small_cell_k: int = 0) -> ViewResult:
    """Alteration frequencies among evaluable patients, with exact CIs; small cells suppressed
    (k > 1). numbers: per headline feature {value, not_evaluated, ci, total} as display text;
    tables["Alteration frequencies"]: the table shown."""
    k = small_cell_k
    freq = genomics.alteration_frequencies(db, cohort_filter)
    n = cohort.count_patients(db, cohort_filter)
    table, numbers = frequency_display(freq, k, HEADLINE_FEATURES)
    any_evaluable = bool((freq["evaluable"] > 0).any())
    caveats = []
    if not any_evaluable and n:
        caveats.append(Caveat("Nothing to count", "No patient in this selection was evaluated for any alteration "
                                                  "(no sequencing, no karyotype, no BCR::ABL1 test).", level="info"))
    if 0 < n < SMALL_SAMPLE:
        caveats.append(Caveat("Small sample", f"Only {patients_text(n)}: the exact 95% intervals are wide; read "
                                              "the counts, not the percentages."))
    caption = "Exact 95% CIs among evaluable patients. Not evaluated is never counted as no alteration."
    if k > 1:
        caption += f" {suppression_note(k)} No point is drawn for them."
    return ViewResult(PAGE, "genomics.frequencies", "Genomics: alteration frequencies among evaluable patients",
                      caption=caption, caveats=tuple(caveats),
                      figure=genomics.frequency_chart(freq, small_cell_k=k) if any_evaluable else None,
                      figure_name="alteration_frequencies", n_patients=n,
                      tables={"Alteration frequencies": table}, numbers=numbers)


# --- Oncoprint ---------------------------------------------------------------------------------
ONCOPRINT_CAPTION = ("Columns are patients. Grey hatched = not evaluated (no test), never counted as no "
                     "alteration; near white = tested, no alteration. Numbers in mutation cells are the VAF in %.")


@describes(genomics_methods)
def oncoprint(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
              small_cell_k: int = 0) -> ViewResult:
    """The oncoprint in the spec's sort order, at most genomics.ONCOPRINT_MAX_PATIENTS columns."""
    spec, notices = checked(db, spec)
    title = "Genomics: oncoprint" + ("" if spec.onco_sort == DEFAULT_SORT else f" (sorted by {spec.onco_sort})")
    if small_cell_k > 1:
        return _withheld("genomics.oncoprint", title, "the oncoprint (one column per patient)", small_cell_k)
    n = cohort.count_patients(db, cohort_filter)
    cap = genomics.ONCOPRINT_MAX_PATIENTS
    caveats = list(_notices(notices))
    if n > cap:
        caveats.append(Caveat("First columns only", f"The oncoprint draws the first {cap} of {n:,} patients in "
                                                    "the chosen sort order; the frequencies and tests use every "
                                                    "patient.", level="info"))
    chart = genomics.oncoprint_chart(db, cohort_filter, spec.onco_sort, max_patients=cap) if n else None
    return ViewResult(PAGE, "genomics.oncoprint", title, caption=ONCOPRINT_CAPTION, caveats=tuple(caveats),
                      figure=chart, figure_name="oncoprint", n_patients=min(n, cap))


# --- Co-occurrence -----------------------------------------------------------------------------
@describes(genomics_methods)
def cooccurrence(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
                 small_cell_k: int = 0) -> ViewResult:
    """The 2x2 table of the spec's pair among patients evaluable for both, with Fisher's exact
    test (lines). numbers: n_both, n_excluded, p_value, odds_ratio, ci_low, ci_high."""
    spec, notices = checked(db, spec)
    a, b = spec.co_a, spec.co_b
    title = f"Genomics: {a} and {b}"
    key = "genomics.cooccurrence"
    if small_cell_k > 1:
        return _withheld(key, title, "the co-occurrence tables (2×2 counts)", small_cell_k)
    if a == b:
        return ViewResult(PAGE, key, title, caveats=_notices(notices), lines=("Pick two different alterations.",))
    result = genomics.cooccurrence(db, cohort_filter, a, b)
    lines = [f"{a} × {b}: {result['n_both']} patients evaluable for both ({result['n_excluded']} excluded: "
             "not evaluated for at least one)."]
    caveats = list(_notices(notices))
    fisher = result["fisher"]
    numbers: dict = {"n_both": result["n_both"], "n_excluded": result["n_excluded"]}
    if fisher is None or result["n_both"] == 0:
        lines.append("No patient in this selection is evaluable for both alterations.")
    else:
        lines.append(fisher_sentence(fisher))
        numbers.update(p_value=fisher.p_value, odds_ratio=fisher.conditional_odds_ratio, ci_low=fisher.ci_low,
                       ci_high=fisher.ci_high)
        if result["n_both"] < SMALL_SAMPLE:
            caveats.append(Caveat("Small sample", f"n = {result['n_both']}: the interval is wide; a zero cell "
                                                  "makes one bound 0 or ∞.", level="info"))
    return ViewResult(PAGE, key, title, caveats=tuple(caveats), n_patients=result["n_both"],
                      tables={"2×2 table": result["table"]}, numbers=numbers, lines=tuple(lines))


@describes(genomics_methods)
def cooccurrence_pairs(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
                       small_cell_k: int = 0) -> ViewResult:
    """All pairs with enough evaluable and altered patients: heatmap and table (BH q-values)."""
    title = "Genomics: co-occurrence of all pairs"
    key = "genomics.cooccurrence_pairs"
    if small_cell_k > 1:
        return _withheld(key, title, "the co-occurrence tables (2×2 counts)", small_cell_k)
    pairs = genomics.cooccurrence_matrix(db, cohort_filter)
    if pairs.empty:
        return ViewResult(PAGE, key, title, caption="No pair of alterations has at least 10 patients evaluable "
                          "for both and at least 2 altered patients each in this selection.",
                          tables={"All pairs": pairs})
    shown = pairs_display(pairs)
    caption = (f"{len(pairs)} pairs with at least 10 patients evaluable for both and at least 2 altered per "
               "alteration; q = Benjamini-Hochberg across these pairs. Blue = mutual exclusivity, orange = "
               "co-occurrence.")
    return ViewResult(PAGE, key, title, caption=caption, figure=genomics.cooccurrence_heatmap(pairs),
                      figure_name="cooccurrence", n_patients=cohort.count_patients(db, cohort_filter),
                      tables={"All pairs": shown})


# --- Karyotype & ploidy ------------------------------------------------------------------------
@describes(genomics_methods)
def karyotype(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
              small_cell_k: int = 0) -> ViewResult:
    """Modal chromosome number over the ploidy bands; review flags and disagreements as caveats;
    tables["Karyotypes"]: one row per patient."""
    title = "Genomics: modal chromosome number and ploidy category"
    key = "genomics.karyotype"
    if small_cell_k > 1:
        return _withheld(key, title, "the karyotype view (individual patients)", small_cell_k)
    kt = genomics.karyotype_table(db, cohort_filter)
    with_modal = int(kt["modal_number"].notna().sum()) if len(kt) else 0
    caveats = []
    if len(kt):
        flagged = kt[kt["masked_hypodiploidy_flag"].notna()]
        if len(flagged):
            caveats.append(Caveat("Possible masked hypodiploidy", "For expert review: " + some_ids(
                [f"{r.patient_id} ({r.masked_hypodiploidy_flag})" for r in flagged.itertuples()], IDS_LISTED_MAX) + "."))
        disagree = kt[kt["agrees"] == False]  # noqa: E712 (object column with None)
        if len(disagree):
            caveats.append(Caveat("Modal numbers differ", "Recorded and parsed modal numbers differ for: "
                                  + some_ids(disagree["patient_id"].tolist(), IDS_LISTED_MAX) + ".", level="info"))
    caption = (f"{with_modal} of {len(kt)} patients with a modal number. Bands: near-haploid 24-31, low hypodiploid "
               "32-39, high hypodiploid 40-43, near-diploid 44-45, diploid 46, hyperdiploid above 46. "
               "Flag: review for possible masked hypodiploidy.")
    if not with_modal:
        caption = "No patient in this selection has a karyotype with a modal chromosome number."
    return ViewResult(PAGE, key, title, caption=caption, caveats=tuple(caveats),
                      figure=genomics.modal_number_chart(kt) if with_modal else None,
                      figure_name="modal_chromosome_number", n_patients=with_modal,
                      tables={"Karyotypes": kt}, numbers={"with_modal": with_modal, "patients": len(kt)})


# --- TP53 ----------------------------------------------------------------------------------------
def _tp53_counts(db: CohortDatabase, cohort_filter: CohortFilter) -> dict | None:
    freq = genomics.alteration_frequencies(db, cohort_filter)
    if "TP53" not in set(freq["feature"]):
        return None
    r = freq.set_index("feature").loc["TP53"]
    return {"altered": int(r.altered), "evaluable": int(r.evaluable), "not_evaluated": int(r.not_evaluated)}


@describes(genomics_methods)
def tp53(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
         small_cell_k: int = 0) -> ViewResult:
    """TP53 variants along the protein (lollipop); tables["TP53 variants"]."""
    title = "Genomics: TP53 variants along the protein"
    key = "genomics.tp53"
    if small_cell_k > 1:
        return _withheld(key, title, "the TP53 variant view (individual patients)", small_cell_k)
    variants = genomics.tp53_variants(db, cohort_filter)
    counts = _tp53_counts(db, cohort_filter)
    lines = []
    if counts is not None:
        lines.append(f"TP53 mutated in {counts['altered']} of {counts['evaluable']} sequenced patients "
                     f"({counts['not_evaluated']} not sequenced).")
    if variants.empty:
        nobody = counts is None or counts["evaluable"] == 0
        return ViewResult(PAGE, key, title, caption="No TP53 variant recorded in this selection"
                          + (" (nobody here was sequenced)." if nobody else "."), lines=tuple(lines),
                          tables={"TP53 variants": variants}, numbers=counts or {})
    unplaced = variants[variants["position"].isna()]
    caption = ("One stem per amino-acid position (from the HGVS protein change). Shaded: protein domains (TAD "
               "transactivation, PRD proline-rich, DBD DNA-binding, TD tetramerisation).")
    if len(unplaced):
        caption += " No position could be read for: " + ", ".join(unplaced["protein_change"].fillna("?")[:10]) + "."
    return ViewResult(PAGE, key, title, caption=caption, figure=genomics.lollipop_chart(variants),
                      figure_name="tp53_lollipop", n_patients=int(variants["patient_id"].nunique()),
                      tables={"TP53 variants": variants}, numbers=counts or {}, lines=tuple(lines))


@describes(genomics_methods)
def tp53_vaf(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
             small_cell_k: int = 0) -> ViewResult:
    """Variant allele fraction of the TP53 variants (one dot per variant)."""
    title = "Genomics: TP53 variant allele fraction"
    key = "genomics.tp53_vaf"
    if small_cell_k > 1:
        return _withheld(key, title, "the TP53 variant view (individual patients)", small_cell_k)
    variants = genomics.tp53_variants(db, cohort_filter)
    if variants.empty:
        return ViewResult(PAGE, key, title, caption="No TP53 variant recorded in this selection.")
    return ViewResult(PAGE, key, title, caption="One dot per variant; colour = variant class.",
                      figure=genomics.vaf_chart(variants), figure_name="tp53_vaf",
                      n_patients=int(variants["patient_id"].nunique()))


# --- Mutation table ------------------------------------------------------------------------------
@describes(genomics_methods)
def mutations(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
              small_cell_k: int = 0) -> ViewResult:
    """Recorded mutations under the spec's gene, class and VAF filters (tables["Mutations"])."""
    spec, notices = checked(db, spec)
    title = "Genomics: recorded mutations"
    key = "genomics.mutations"
    if small_cell_k > 1:
        return _withheld(key, title, "the mutation list (individual variants)", small_cell_k)
    table = genomics.mutation_table(db, cohort_filter, spec.mut_genes, spec.mut_classes, spec.mut_min_vaf)
    n = cohort.count_patients(db, cohort_filter)
    counts = _tp53_counts(db, cohort_filter)
    sequenced = counts["evaluable"] if counts is not None else 0
    caption = (f"{len(table)} variants in {patients_text(int(table['patient_id'].nunique()))}; {sequenced} of {n} "
               "patients in the selection were sequenced (the others are not evaluated, not wild-type).")
    return ViewResult(PAGE, key, title, caption=caption, caveats=_notices(notices), n_patients=n,
                      tables={"Mutations": table}, numbers={"variants": len(table), "sequenced": sequenced})


TAB_VIEWS = {
    "Frequencies": (frequencies,),
    "Oncoprint": (oncoprint,),
    "Co-occurrence": (cooccurrence, cooccurrence_pairs),
    "Karyotype & ploidy": (karyotype,),
    "TP53": (tp53, tp53_vaf),
    "Mutation table": (mutations,),
}
# What the deck shows for each open tab: its figures. The oncoprint is the deck's genomics figure
# by default (the first tab's frequency view is the slide under small-cell suppression); the
# mutation table has no figure, so the oncoprint stands in for it too.
TAB_SLIDES = {
    "Frequencies": (frequencies,),
    "Oncoprint": (oncoprint,),
    "Co-occurrence": (cooccurrence_pairs,),
    "Karyotype & ploidy": (karyotype,),
    "TP53": (tp53, tp53_vaf),
    "Mutation table": (oncoprint,),
}


def slides(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec = GenomicsSpec(),
           small_cell_k: int = 0) -> list[ViewResult]:
    """The open tab's figure(s), as the page draws them; under small-cell suppression only the
    frequency view, which hides counts below k."""
    if cohort.count_patients(db, cohort_filter) == 0:
        return []
    views = (frequencies,) if small_cell_k > 1 else TAB_SLIDES[spec.tab]
    results = [view(db, cohort_filter, spec, small_cell_k) for view in views]
    return [_for_slide(db, cohort_filter, spec, r) for r in results if r.figure is not None]


ONCOPRINT_SLIDE_CAPTION = ("Columns are patients; rows: ploidy category and alterations (the page adds clinical "
                           "tracks and VAF). Grey hatched = not evaluated (no test), never counted as no alteration; "
                           "near white = tested, no alteration.")


def _for_slide(db: CohortDatabase, cohort_filter: CohortFilter, spec: GenomicsSpec, result: ViewResult) -> ViewResult:
    """The oncoprint on a slide: the same patients, order and alteration rows without the
    clinical tracks and in-cell VAF numbers, which cannot be legible at slide size."""
    if result.key != "genomics.oncoprint":
        return result
    spec, _ = checked(db, spec)
    chart = genomics.oncoprint_slide_chart(db, cohort_filter, spec.onco_sort,
                                           max_patients=genomics.ONCOPRINT_MAX_PATIENTS)
    return dataclasses.replace(result, figure=chart, caption=ONCOPRINT_SLIDE_CAPTION)


PAGE_VIEWS = PageViews(PAGE, "Genomics", GenomicsSpec, slides)


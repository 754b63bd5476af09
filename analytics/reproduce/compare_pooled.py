"""Reproduce scripts of the Compare page's forest plot (pooled estimate) and reproduction check
(builders register with `@register(key)`; the comparison table and shared cells are in
`compare`)."""
from __future__ import annotations

from analytics.compare import POOLING_METHODS
from analytics.db import CohortDatabase
from analytics.filters import CohortFilter
from analytics.published import CHARACTERISTICS
from analytics.reproduce import Provenance, preamble, register
from analytics.reproduce.compare import (FORMAT_CELL, PUBLISHED_CELL, constants, figures_cell, raw_published,
                                         script_imports)
from analytics.views.compare import CURRENT, POOLED, PUBLISHED, ComparePageSpec


@register("compare.forest")
def forest_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
                  provenance: Provenance) -> str:
    key = spec.characteristic
    label = CHARACTERISTICS[key].label
    method = POOLING_METHODS[spec.method]
    statsmodels_method = {"dl": "dl", "pm": "iterated"}[spec.method]
    return preamble(f"Forest plot: {label}", provenance, script_imports({key}, figure=True) + [
        "import numpy as np", "from scipy.special import expit", "from scipy.stats import norm",
        "from statsmodels.stats.meta_analysis import combine_effects"], constants({key}) + f"""KEY = {key!r}
POOL_COHORT = {bool(spec.pool_cohort)}  # the current cohort joins the pooled estimate
METHOD = {statsmodels_method!r}  # between-series variance: {method} ({"statsmodels 'iterated' = Paule-Mandel" if spec.method == "pm" else "method of moments"})
METHOD_NAME = {method!r}
CONTINUITY = 0.5  # added to both counts of a series with 0% or 100%
PUBLISHED, POOLED, CURRENT = {PUBLISHED!r}, {POOLED!r}, {CURRENT!r}
""") + PUBLISHED_CELL + figures_cell(cohort_filter, {key}, f"The current cohort's figure: {label} (computed)") \
        + FORMAT_CELL + f'''

# %% 4. Random-effects pooling on the logit scale (inverse variance; statsmodels combine_effects)
rows = rows_of[KEY]
ids = {{r["series_id"] for r in rows}}
pooled_rows = [r for r in rows if not (r["part_of"] and r["part_of"] in ids)]  # a series within another: not pooled
counts = [(r["numerator"], r["denominator"]) for r in pooled_rows]
f = cohort[KEY]
with_cohort = POOL_COHORT and bool(f["denominator"])
if with_cohort:
    counts.append((f["numerator"], f["denominator"]))
counts = [(k, n) for k, n in counts if n > 0]
pooled = None
if len(counts) >= 2:
    effects, variances, corrected = [], [], 0
    for k, n in counts:
        a, b = (k + CONTINUITY, n - k + CONTINUITY) if k in (0, n) else (k, n - k)
        corrected += k in (0, n)
        effects.append(math.log(a / b))  # logit of the proportion
        variances.append(1 / a + 1 / b)
    res = combine_effects(np.asarray(effects), np.asarray(variances), method_re=METHOD)
    # statsmodels does not truncate the DerSimonian-Laird tau² at zero (it returns (Q - df) / C even when
    # Q < df); the estimator is max(0, that), as the app uses it: with tau² = 0 the random-effects estimate
    # is the fixed-effect one.
    tau2 = float(res.tau2)
    if tau2 <= 0:
        tau2, mean, se = 0.0, float(res.mean_effect_fe), float(res.sd_eff_w_fe)
    else:
        mean, se = float(res.mean_effect_re), float(res.sd_eff_w_re)
    q, df = float(res.q), int(res.df)
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0  # Higgins and Thompson
    z = norm.ppf(0.975)
    if corrected:
        print(f"Continuity correction: {{corrected}} series with 0% or 100% entered the pooling with 0.5 added "
              "to both counts.")
    pooled = {{"estimate": float(expit(mean)), "low": float(expit(mean - z * se)), "high": float(expit(mean + z * se)),
              "tau2": tau2, "i2": i2, "q": q, "df": df, "k": len(counts)}}

# %% 5. The forest table and the pooled estimate
data = []
for r in rows:
    low, high = exact_ci(r["numerator"], r["denominator"])
    data.append([f"{{r['label']}}: {{r['numerator']}}/{{r['denominator']}} (published)", PUBLISHED,
                 r["numerator"] / r["denominator"], low, high])
if pooled:
    data.append([f"Pooled, {{METHOD_NAME}} ({{pooled['k'] - with_cohort}} published series"
                 f"{{' + the current cohort' if with_cohort else ''}})", POOLED, pooled["estimate"], pooled["low"],
                 pooled["high"]])
if f["denominator"]:
    low, high = exact_ci(f["numerator"], f["denominator"])
    data.append([f"Current cohort: {{f['numerator']}}/{{f['denominator']}} (computed)", CURRENT,
                 f["numerator"] / f["denominator"], low, high])
data = pd.DataFrame(data, columns=["row", "group", "estimate", "ci_low", "ci_high"])
print("\\t".join(["Series", "Kind", "Proportion", "95% CI from", "95% CI to"]))
for row in data.itertuples(index=False):
    print("\\t".join([row.row, row.group] + [f"{{100 * x:.1f}}%" for x in (row.estimate, row.ci_low, row.ci_high)]))
label = CHARACTERISTICS[KEY][0]
if pooled is None:
    print(f"Fewer than two series can be pooled for {{label}}: no pooled estimate.")
else:
    p = pooled
    print(f"{{label}}: pooled {{100 * p['estimate']:.0f}}% (95% CI {{100 * p['low']:.0f}} to {{100 * p['high']:.0f}}%), "
          f"I² {{100 * p['i2']:.0f}}%, τ² {{p['tau2']:.3f}}, Q {{p['q']:.2f}} on {{p['df']}} df ({{METHOD_NAME}}, "
          f"{{p['k']}} series)" + ("; the current cohort is one of them." if with_cohort else "."))

# %% 6. The figure: each series with its exact 95% CI, the pooled estimate (dashed line) and the cohort
if len(data):
    color = alt.Color("group:N", title=None, scale=alt.Scale(domain=[PUBLISHED, POOLED, CURRENT]),
                      legend=alt.Legend(orient="bottom"))
    y = alt.Y("row:N", sort=list(data["row"]), title=None, axis=alt.Axis(labelLimit=0))
    x = alt.X("ci_low:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
              title="Proportion (exact 95% CI; pooled: random-effects 95% CI)")
    layers = [alt.Chart(data).mark_rule(strokeWidth=2).encode(y=y, x=x, x2="ci_high:Q", color=color),
              alt.Chart(data).mark_point(filled=True, size=110, opacity=1).encode(
                  y=y, x="estimate:Q", color=color, shape=alt.Shape("group:N", legend=None))]
    if pooled:
        layers.insert(0, alt.Chart(pd.DataFrame({{"x": [pooled["estimate"]]}})).mark_rule(strokeDash=[4, 4])
                      .encode(x="x:Q"))
    alt.layer(*layers).properties(title=f"{{label}}: published series and the current cohort", width=560,
                                  height=alt.Step(40)).save("forest_{key}.png")
    print("Figure: forest_{key}.png")
'''


@register("compare.reproduction")
def reproduction_script(db: CohortDatabase, cohort_filter: CohortFilter, spec: ComparePageSpec,
                        provenance: Provenance) -> str:
    raw = raw_published()
    keys = set(raw.loc[raw["fact"] != "", "characteristic"])
    return preamble("Reproduction check of the reference study's figures", provenance, script_imports(keys),
                    constants(keys, facts_only=True)) + PUBLISHED_CELL + figures_cell(
        CohortFilter(), keys, "The cohort's figures, on every patient of the file (the paper describes every "
                              "patient: the page's filters do not apply to this check)") + FORMAT_CELL + '''

# %% 4. Each published figure beside the computed one. Agreement: counts equal; a median and range equal
# at the precision the source reports (rounded to its decimals; "not reached" only with "not reached").
def same(value, target, decimals):
    if target is None or pd.isna(target):
        return True
    if value is None or pd.isna(value):
        return False
    if math.isinf(target) or math.isinf(value):
        return math.isinf(target) and math.isinf(value)
    return math.isclose(round(value, decimals), target, abs_tol=1e-9)


def agrees(row):
    f = cohort[row["characteristic"]]
    if CHARACTERISTICS[row["characteristic"]][1] in ("proportion", "count"):
        return f["numerator"] == row["numerator"] and (row["denominator"] is None
                                                       or f.get("denominator") == row["denominator"])
    d = row["decimals"]
    return (f["median"] is not None and same(f["median"], row["median"], d) and same(f["low"], row["range_low"], d)
            and same(f["high"], row["range_high"], d))


facts = published.assign(number=published["fact"].str[1:].astype(int)).sort_values("number", kind="stable")
print("\\t".join(["Figure", "Agreement", "Published", "Computed from this cohort"]))
agree = total = 0
for fact, block in facts.groupby("fact", sort=False):
    rows = block.to_dict("records")
    ok = all(agrees(r) for r in rows)
    agree += ok
    total += 1
    print("\\t".join([fact, "✓ agrees" if ok else "✗ differs",
                     "; ".join(f"{CHARACTERISTICS[r['characteristic']][0]}: {published_value(r)[0]}" for r in rows),
                     "; ".join(f"{CHARACTERISTICS[r['characteristic']][0]}: {cohort_value(r['characteristic'])[0]}"
                               for r in rows)]))
print(f"{agree} of {total} published figures reproduced.")
'''

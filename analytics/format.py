"""Numbers as the app shows them: one rounding rule and one style for percentages, CIs and p-values.

Rounding is half away from zero (12.5% -> 13%, 3/40 = 7.5% -> 8%), as readers and journals round,
not Python's format (which rounds the binary value, ties to even: "12" for 12.5 and "7" for 3/40,
whose float is 7.4999...). The value is first read to 12 significant digits, so the float noise
of a computed percentage does not decide a tie.

P-values: three decimals, "< 0.001" below 0.001 (as the paper reports them). Missing values (None
or NaN: not computed, not estimable) show as `missing`, "–" unless the caller says otherwise.

>>> number(12.5, 0), number(100 * 3 / 40, 0), number(-0.04, 1), number(float("nan"))
('13', '8', '0.0', '–')
>>> percent(9 / 19), percent_range(0.24448, 0.71135), p_value(0.0004), p_text(0.04995)
('47.4%', '24.4–71.1%', '< 0.001', 'p = 0.050')
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MISSING = "–"
P_FLOOR = 0.001  # smaller p-values are shown as "< 0.001"


def is_missing(x) -> bool:
    """None, NaN or pandas' NA (a value that was not computed)."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and pd.NA are not equal to themselves
    except TypeError:  # pd.NA != pd.NA is NA, whose truth value is ambiguous
        return True


def round_half_up(x: float, decimals: int = 0) -> float:
    """`x` rounded half away from zero to `decimals` places.

    >>> round_half_up(2.5), round_half_up(-2.5), round_half_up(0.125, 2), round(0.125, 2)
    (3.0, -3.0, 0.13, 0.12)
    """
    if math.isinf(x) or math.isnan(x):
        return x
    exact = Decimal(f"{x:.12g}")
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def number(x, decimals: int = 1, *, missing: str = MISSING, suffix: str = "") -> str:
    """`x` with `decimals` places, rounded half away from zero ("∞" for infinity, never "-0")."""
    if is_missing(x):
        return missing
    x = float(x)
    if math.isinf(x):
        return ("−∞" if x < 0 else "∞") + suffix
    rounded = round_half_up(x, decimals)
    return f"{rounded if rounded else 0.0:.{decimals}f}{suffix}"


def significant(x, digits: int = 3, *, missing: str = MISSING) -> str:
    """`x` to `digits` significant digits (odds ratios, which span orders of magnitude)."""
    if is_missing(x):
        return missing
    x = float(x)
    if math.isinf(x):
        return "−∞" if x < 0 else "∞"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(round_half_up(x, 12))))
    return f"{round_half_up(x, digits - 1 - magnitude):.{digits}g}"


def percent(fraction, decimals: int = 1, *, missing: str = MISSING) -> str:
    """A proportion (0-1) as a percentage: 0.4737 -> "47.4%"."""
    return missing if is_missing(fraction) else number(100 * float(fraction), decimals, suffix="%")


def percent_range(low, high, decimals: int = 1, *, missing: str = MISSING, separator: str = "–") -> str:
    """A confidence interval of a proportion (0-1) as percentages: "24.4–71.1%"."""
    if is_missing(low) or is_missing(high):
        return missing
    return f"{number(100 * float(low), decimals)}{separator}{number(100 * float(high), decimals)}%"


def p_value(p, *, missing: str = MISSING) -> str:
    """A p-value: "0.049", "< 0.001"."""
    if is_missing(p):
        return missing
    return f"< {P_FLOOR}" if p < P_FLOOR else number(p, 3)


def p_text(p, *, name: str = "p", missing: str = MISSING) -> str:
    """A p-value in a sentence: "p = 0.049", "p < 0.001" (`name` e.g. "Fisher p")."""
    if is_missing(p):
        return missing
    return f"{name} < {P_FLOOR}" if p < P_FLOOR else f"{name} = {number(p, 3)}"

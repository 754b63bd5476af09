"""ISCN karyotype text as data: clones, modal chromosome number, ploidy category.

`parse_karyotype("36,XY,-2,-3[14]/46,XY[6]")` returns a `Karyotype` with the parsed clones,
the modal number of the abnormal stemline and its ploidy category, or a clear `reason` why the
text could not be parsed. Supported ISCN: clones separated by '/', cell counts '[n]',
composite karyotypes ('[cp12]'), sidelines written 'idem' / 'sl' / 'idemx2' / 'slx2',
ploidy-level notation ('<2n>', '<3n>'), ranges ('45~47,XX'), constitutional 'c' markers,
and free-text results without metaphases ('no analyzable metaphases', 'failed').

Modal number rule: the stemline (the first abnormal clone, ISCN writes it first) gives the
modal number of the leukaemia; normal clones (46,XX / 46,XY without aberrations) are ignored
unless they are the only clone. For a range 'a~b' the lower bound is used for categorisation
and the range is kept on the clone. A doubled sideline of a hypodiploid stemline
('idemx2', '<2n>' from a hypodiploid count, or a near-triploid/tetraploid clone with many
whole-chromosome losses) is flagged as possible masked hypodiploidy for expert review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Ploidy bands by modal chromosome number (inclusive bounds; hyperdiploid has no upper bound).
# The one definition: imports are checked and synthetic cohorts drawn against it.
PLOIDY_BANDS: list[tuple[str, int, int]] = [
    ("near-haploid", 24, 31),
    ("low hypodiploid", 32, 39),
    ("high hypodiploid", 40, 43),
    ("near-diploid", 44, 45),
    ("diploid", 46, 46),
    ("hyperdiploid", 47, 10_000),
]
PLOIDY_ORDER = [name for name, _, _ in PLOIDY_BANDS]

_NO_RESULT = re.compile(r"no\s+(analy[sz]able|evaluable)|fail|insufficient|no\s+growth|no\s+metaphase"
                        r"|not\s+done|unsuccessful", re.I)
_COUNT = re.compile(r"^(?P<lo>\d{2,3})(?:~(?P<hi>\d{2,3}))?(?P<c>c)?(?:<(?P<ploidy>\d)n>)?$")
_CELLS = re.compile(r"\[(?P<cp>cp)?(?P<n>\d+)\]\s*$")
_SIDELINE = re.compile(r"^(idem|sl|sdl\d*)(?:x(?P<mult>\d))?$", re.I)
_STRUCT = re.compile(r"^(?P<kind>t|del|dup|inv|ins|dic|idic|add|der|i|r|ider|hsr|tas|rob)"
                     r"\((?P<chrom>[0-9XY;]+)\)(?:\((?P<bands>[^)]*)\))?", re.I)
_SEX = re.compile(r"^[XY]*$")


def ploidy_category(modal_number: int | None) -> str | None:
    """Category for a modal chromosome number (None for None or below 24).

    >>> ploidy_category(36), ploidy_category(44), ploidy_category(46), ploidy_category(55)
    ('low hypodiploid', 'near-diploid', 'diploid', 'hyperdiploid')
    """
    if modal_number is None:
        return None
    for name, low, high in PLOIDY_BANDS:
        if low <= modal_number <= high:
            return name
    return None


@dataclass(frozen=True)
class Clone:
    """One clone (or composite) of a karyotype."""

    text: str
    count_low: int
    count_high: int
    cells: int | None
    composite: bool
    normal: bool
    sideline_of_previous: bool = False
    doubled: bool = False             # sideline written 'idemx2' / 'slx2'
    aberrations: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return self.count_low


@dataclass(frozen=True)
class Karyotype:
    """Parsed ISCN karyotype. `modal_number` is None when `reason` says why."""

    text: str
    clones: tuple[Clone, ...] = ()
    modal_number: int | None = None
    reason: str | None = None
    doubled_hypodiploid: bool = False
    structural: tuple[str, ...] = field(default_factory=tuple)

    @property
    def parsed(self) -> bool:
        return self.modal_number is not None

    @property
    def category(self) -> str | None:
        return ploidy_category(self.modal_number)


def _split_items(clone_text: str) -> list[str]:
    """Split a clone on top-level commas (commas inside parentheses belong to one aberration)."""
    items, depth, current = [], 0, []
    for ch in clone_text:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    items.append("".join(current).strip())
    return [i for i in items if i]


def short_label(aberration: str) -> str | None:
    """Short name of a structural aberration: 't(9;22)', 'del(9p)', 'dic(9;20)'; None otherwise.

    >>> short_label("del(9)(p21)"), short_label("t(9;22)(q34.1;q11.2)"), short_label("+21")
    ('del(9p)', 't(9;22)', None)
    """
    m = _STRUCT.match(aberration.lstrip("+"))
    if not m:
        return None
    kind, chrom, bands = m.group("kind").lower(), m.group("chrom"), m.group("bands") or ""
    if kind in ("del", "add", "dup", "i", "inv") and ";" not in chrom and bands:
        arm = bands[0] if bands[0] in "pq" else ""
        return f"{kind}({chrom}{arm})"
    return f"{kind}({chrom})"


def parse_karyotype(text: str | None) -> Karyotype:
    """Parse an ISCN karyotype string.

    >>> k = parse_karyotype("36,XY,-3,-4,-7[6]/72,idemx2[4]/46,XY[10]")
    >>> k.modal_number, k.category, k.doubled_hypodiploid, len(k.clones)
    (36, 'low hypodiploid', True, 3)
    >>> parse_karyotype("no analyzable metaphases").reason
    'no metaphases analysed (no karyotype result)'
    """
    raw = (text or "").strip()
    if not raw:
        return Karyotype(raw, reason="no karyotype recorded")
    if _NO_RESULT.search(raw):
        return Karyotype(raw, reason="no metaphases analysed (no karyotype result)")
    clones: list[Clone] = []
    previous: Clone | None = None
    stemline: Clone | None = None
    for part in raw.split("/"):
        part = part.strip()
        if not part:
            return Karyotype(raw, reason="empty clone between '/' separators")
        cells_m = _CELLS.search(part)
        cells, composite = None, False
        if cells_m:
            cells, composite = int(cells_m.group("n")), bool(cells_m.group("cp"))
            part_body = part[:cells_m.start()].strip()
        else:
            part_body = part
        items = _split_items(part_body)
        if not items:
            return Karyotype(raw, reason=f"clone '{part}' has no chromosome count")
        side = _SIDELINE.match(items[0])
        explicit = None  # a sideline written with its own count: '72,idemx2' or '48,idem,+21'
        if not side and len(items) >= 2 and _SIDELINE.match(items[1]):
            count_m = _COUNT.match(items[0].replace(" ", ""))
            if not count_m:
                return Karyotype(raw, reason=f"could not read a chromosome count in '{items[0]}'")
            explicit = (int(count_m.group("lo")), int(count_m.group("hi") or count_m.group("lo")))
            side, items = _SIDELINE.match(items[1]), items[1:]
        if side:
            base = stemline or previous
            if base is None:
                return Karyotype(raw, reason=f"sideline '{items[0]}' without a stemline before it")
            mult = int(side.group("mult") or 1)
            delta = sum(1 if a.startswith("+") else -1 if a.startswith("-") else 0 for a in items[1:]
                        if re.match(r"^[+-](\d+|X|Y)$", a))
            low = base.count_low * mult + delta
            high = base.count_high * mult + delta
            if explicit is not None:
                low, high = explicit
            clone = Clone(part, low, high, cells, composite, normal=False, sideline_of_previous=True,
                          doubled=mult >= 2, aberrations=tuple(base.aberrations) + tuple(items[1:]))
        else:
            level_m = re.match(r"^<(\d)n>$", items[0].replace(" ", ""))
            if level_m:  # ploidy level without a count: numerical changes are relative to it
                net = sum(1 if a.startswith("+") else -1 for a in items[2:]
                          if re.match(r"^[+-](\d+|X|Y)c?$", a))
                low = high = 23 * int(level_m.group(1)) + net
                count_m = None
            else:
                count_m = _COUNT.match(items[0].replace(" ", ""))
                if not count_m:
                    return Karyotype(raw, reason=f"could not read a chromosome count in '{items[0]}'")
                low = int(count_m.group("lo"))
                high = int(count_m.group("hi") or low)
            if not (20 <= low <= high <= 200):
                return Karyotype(raw, reason=f"implausible chromosome count '{items[0]}'")
            if len(items) < 2 or not _SEX.match(items[1].replace("c", "")):
                return Karyotype(raw, reason=f"clone '{part}' lacks the sex chromosomes after the count")
            aberrations = tuple(items[2:])
            # constitutional changes ('+21c') are not leukaemic: such a clone counts as normal
            acquired = [a for a in aberrations if not re.search(r"c$", a)]
            normal = not acquired and (low == high == 46 or len(aberrations) > 0)
            clone = Clone(part, low, high, cells, composite, normal=normal, aberrations=aberrations)
        clones.append(clone)
        if stemline is None and not clone.normal:
            stemline = clone
        previous = clone
    modal_source = stemline or clones[0]
    modal = modal_source.count_low
    doubled = False
    if stemline is not None and ploidy_category(stemline.count_low) in (
            "near-haploid", "low hypodiploid"):
        doubled = any(c.doubled or (c is not stemline and c.count_low >= 2 * stemline.count_low - 4
                                    and not c.normal) for c in clones)
    structural = tuple(dict.fromkeys(
        lab for c in clones for a in c.aberrations if (lab := short_label(a)) is not None))
    return Karyotype(raw, tuple(clones), modal, None, doubled, structural)


def masked_hypodiploidy_reason(karyotype: Karyotype, tp53_status: str | None) -> str | None:
    """Why a case deserves expert review for masked hypodiploidy, or None.

    Flags (a) a doubled hypodiploid clone in the karyotype, (b) a hyperdiploid modal number in
    a TP53-mutated case (doubled low-hypodiploid clones look hyperdiploid, and TP53 mutation
    travels with low hypodiploidy). A flag is a prompt for review, not a diagnosis.
    """
    if karyotype.doubled_hypodiploid:
        return "doubled hypodiploid clone in the karyotype"
    if karyotype.category == "hyperdiploid" and tp53_status == "mutated":
        return "hyperdiploid modal number in a TP53-mutated case"
    return None



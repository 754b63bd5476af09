"""Reproduce a view outside the app: one self-contained Python script (and the same as a
Jupyter notebook) per view, written to be read by a statistician.

A script opens the cohort DuckDB file read-only, checks its SHA-256, selects the view's
patients with the view's filters and options as readable SQL, computes the statistics with the
well-known libraries (lifelines, scipy), prints the view's numbers in the page's format and
draws the figure with Altair. It imports nothing from the app. `SCRIPTS` maps a view key
(`ViewResult.key`) to its script builder; each page has a module here (`survival`, ...) whose
builders register themselves with `@register(key)`. Every script starts with `preamble` (the
provenance docstring, imports, the data-file check and a read-only connection) and selects its
patients with `cohort_where` (the filters as literal SQL).

Example
-------
>>> from analytics.build import build_in_memory
>>> from analytics.filters import CohortFilter
>>> from analytics.views.survival import SurvivalPageSpec
>>> text = script("survival.km", build_in_memory("data/demo_cohort"), CohortFilter(), SurvivalPageSpec(),
...               Provenance("data/cohort.duckdb", "0" * 64, "abc123", "https://example.org/survival"))
>>> "import analytics" in text, "KaplanMeierFitter" in text
(False, True)
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from analytics.db import CohortDatabase
from analytics.filters import CohortFilter

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provenance:
    """Where a script's numbers come from: the data file (name and SHA-256), the app version
    and the link of the view."""

    data_file: str
    sha256: str
    app_version: str
    link: str
    created: str = ""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_file_sha256(path: str | Path) -> str:
    """`file_sha256` remembered per file state (path, size, modification time): every export
    names the cohort file, and a 1M-patient file takes a while to hash."""
    stat = os.stat(path)
    return _sha256_of_state(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _sha256_of_state(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(path)


@functools.cache  # one process runs one version
def app_version() -> str:
    """The app's version: BALL_APP_VERSION when set (a container image has no git history),
    else the git commit of the checkout (short), else "unknown"."""
    if os.environ.get("BALL_APP_VERSION"):
        return os.environ["BALL_APP_VERSION"]
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        return out or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


_PLAIN = re.compile(r"[^\\\"{}\x00-\x1f\x7f\u2028\u2029]+")


def sql_literal(value) -> str:
    r"""A value as a SQL literal (strings quoted, quotes doubled). A script holds its SQL inside
    Python string literals, so a character that could end or change such a string (backslash,
    double quote, braces, line breaks, control characters) is written as DuckDB's chr(code):
    a cohort's own label can never become code.

    >>> sql_literal("Site A"), sql_literal("O'Neil")
    ("'Site A'", "'O''Neil'")
    >>> sql_literal('a"b\\c{d}')
    "'a' || chr(34) || 'b' || chr(92) || 'c' || chr(123) || 'd' || chr(125)"
    """
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    parts, position = [], 0
    for match in _PLAIN.finditer(text):
        parts += [f"chr({ord(c)})" for c in text[position:match.start()]]
        parts.append("'" + match.group(0).replace("'", "''") + "'")
        position = match.end()
    parts += [f"chr({ord(c)})" for c in text[position:]]
    return " || ".join(parts) or "''"


def comment(text: str) -> str:
    r"""`text` fit for a one-line comment or docstring of a script: one line, no backslash, no
    triple quote (a cohort's label in a comment must not end it and start code).

    >>> comment('A\nimport os; "x" \\')
    "A import os; 'x' /"
    """
    flat = " ".join(str(text).replace('"', "'").replace("\\", "/").split())
    return "".join(c for c in flat if c.isprintable())


def inline(sql: str, params: list) -> str:
    """`sql` with each `?` replaced by its parameter as a literal (for reading, not for the app).

    >>> inline("sex IN (?) AND age BETWEEN ? AND ?", ["F", 50, 70])
    "sex IN ('F') AND age BETWEEN 50 AND 70"
    """
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError("placeholders and parameters do not match")
    out = parts[0]
    for value, rest in zip(params, parts[1:]):
        out += sql_literal(value) + rest
    return out


def header(title: str, provenance: Provenance, packages: str) -> str:
    created = provenance.created or date.today().isoformat()
    return f'''#!/usr/bin/env python3
"""{comment(title)}

Reproduces this view of the lenalidomide-associated B-ALL cohort explorer without the app:
  {comment(provenance.link)}
App version {provenance.app_version}; script written {created}.
Data: {Path(provenance.data_file).name}, SHA-256 {provenance.sha256}
Run:  python this_script.py [path/to/cohort.duckdb]
Needs only packages of the app's requirements.txt: {packages}.
"""
'''


Builder = Callable[..., str]
SCRIPTS: dict[str, Builder] = {}


def register(key: str) -> Callable[[Builder], Builder]:
    def add(builder: Builder) -> Builder:
        SCRIPTS[key] = builder
        return builder
    return add


@functools.cache
def _load_builders() -> None:
    """Import every page module of this package once (each registers its builders)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def script(key: str, db: CohortDatabase, cohort_filter: CohortFilter, spec, provenance: Provenance) -> str:
    """The script that reproduces view `key` (KeyError for a view without one)."""
    _load_builders()
    return SCRIPTS[key](db, cohort_filter, spec, provenance)


def available(key: str) -> bool:
    _load_builders()
    return key in SCRIPTS


def preamble(title: str, provenance: Provenance, imports: list[str], constants: str = "") -> str:
    """A script's start: provenance docstring, `imports` (one statement each, e.g.
    "from lifelines import KaplanMeierFitter"), `constants` (module-level lines), then cell 1:
    the data file must be the view's (SHA-256 checked) and a read-only connection `con`.
    The packages named in the docstring are read off the imports."""
    standard = set(sys.stdlib_module_names)
    packages = []
    for statement in imports:
        package = statement.split()[1].split(".")[0]
        if package not in standard and package not in packages:
            packages.append(package)
    modules = sorted({"import hashlib", "import sys", *[i for i in imports if i.split()[1].split(".")[0] in standard]})
    third_party = [i for i in imports if i.split()[1].split(".")[0] not in standard]
    body = "\n".join(modules) + "\n\n" + "\n".join(third_party)
    return header(title, provenance, ", ".join(packages)) + f'''
{body}

DATA_FILE = next((a for a in sys.argv[1:] if a.endswith(".duckdb")), {provenance.data_file!r})
EXPECTED_SHA256 = {provenance.sha256!r}
{constants.strip()}

# %% 1. The data file must be the one the view was computed from
digest = hashlib.sha256()
with open(DATA_FILE, "rb") as handle:
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
if digest.hexdigest() != EXPECTED_SHA256:
    sys.exit(f"{{DATA_FILE}} is not the cohort file of this view (SHA-256 {{digest.hexdigest()}}, "
             f"expected {{EXPECTED_SHA256}}): the numbers would differ. Point the script at that file.")
con = duckdb.connect(DATA_FILE, read_only=True)
'''


def cohort_where(cohort_filter: CohortFilter) -> str:
    """The cohort filters as one SQL condition over `patient_summary` with literal values, and a
    comment naming them ("TRUE" with "no filters" when unfiltered)."""
    where, params = cohort_filter.where_sql()
    return f"({inline(where, params)})  -- cohort filters: {comment(cohort_filter.describe())}"


def notebook(script_text: str) -> str:
    """The script as a Jupyter notebook (nbformat v4 JSON): the docstring as a Markdown cell,
    then one code cell per block the script separates with `# %%` lines."""
    import nbformat
    body = script_text.split('"""', 2)
    intro = body[1].strip() if len(body) == 3 else ""
    code = body[2] if len(body) == 3 else script_text
    cells = [nbformat.v4.new_markdown_cell(intro.replace("\n", "  \n"))] if intro else []
    for number, block in enumerate(code.split("\n# %%")):
        text = block.strip("\n") if number == 0 else "# %%" + block.rstrip("\n")
        if text.strip():
            cells.append(nbformat.v4.new_code_cell(text))
    book = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    return nbformat.writes(book)


# How the app shows numbers (analytics/format.py), for scripts that print them: needs
# "import math" and "from decimal import ROUND_HALF_UP, Decimal" among the script's imports.
NUMBER_FORMATS = '''
def round_half_up(x, decimals=0):
    """Rounded half away from zero, read to 12 significant digits first (the app's one rule:
    0.125 -> 0.13 and 2.5 -> 3, where Python's round gives 0.12 and 2)."""
    if math.isinf(x) or math.isnan(x):
        return x
    return float(Decimal(f"{x:.12g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def number(x, decimals=1):
    return "–" if x is None or math.isnan(x) else f"{round_half_up(x, decimals):.{decimals}f}"


def p_value(p):
    return "–" if p is None or math.isnan(p) else "< 0.001" if p < 0.001 else number(p, 3)
'''

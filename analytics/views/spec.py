"""Typed page options: one frozen dataclass per page, read from and written to its link.

A page's options are the fields of its spec class. Each field says how it appears in the URL
(`option(...)`): its parameter name, how a URL value is parsed and validated, and how it is
written back. Only values that differ from the default are written, so the default view has a
short link. Session keys are namespaced by page (`survival.group`), so an option of one page can
never leak into another page's state or link, even when two pages use the same parameter name.

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class DemoSpec(PageSpec):
...     PAGE = "demo"
...     sort: str = option("name", param="sort", choices=("name", "age"))
...     size: float = option(1.0, param="size", parse=number(0.5, 4.0))
>>> spec, notices = DemoSpec.from_params({"sort": "age", "size": "inf"})
>>> spec, notices
(DemoSpec(sort='age', size=1.0), ['size: "inf" is not a number from 0.5 to 4; the default 1 is used.'])
>>> spec.to_params()
[('sort', 'age')]
>>> DemoSpec.session_key("sort")
'demo.sort'
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar, Mapping, Sequence

Raw = str | Sequence[str]
Parser = Callable[[Raw], Any]


class OptionError(ValueError):
    """A URL value that is not a valid option (the message says what is expected)."""


def _first(raw: Raw) -> str:
    return raw if isinstance(raw, str) else (raw[-1] if raw else "")


def number(low: float, high: float, *, integer: bool = False) -> Parser:
    """A parser for a finite number in [low, high] (whole numbers when `integer`)."""
    def parse(raw: Raw) -> float | int:
        text = _first(raw)
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high or (integer and value != int(value)):
            kind = "a whole number" if integer else "a number"
            raise OptionError(f"{kind} from {low:g} to {high:g}")
        return int(value) if integer else value
    return parse


def one_of(choices: Sequence[Any]) -> Parser:
    by_text = {str(c): c for c in choices}

    def parse(raw: Raw) -> Any:
        text = _first(raw)
        if text not in by_text:
            raise OptionError("one of " + ", ".join(map(str, choices)))
        return by_text[text]
    return parse


def some_of(choices: Sequence[Any], *, at_least_one: bool = True) -> Parser:
    """A parser for several of `choices` (kept in the choices' order, duplicates dropped)."""
    by_text = {str(c): c for c in choices}

    def parse(raw: Raw) -> tuple:
        texts = [raw] if isinstance(raw, str) else list(raw)
        unknown = [t for t in texts if t not in by_text]
        chosen = tuple(c for c in choices if str(c) in texts)
        if unknown or (at_least_one and not chosen):
            raise OptionError(("at least one of " if at_least_one else "any of ") + ", ".join(map(str, choices)))
        return chosen
    return parse


def flag(raw: Raw) -> bool:
    text = _first(raw)
    if text not in ("yes", "no"):
        raise OptionError("yes or no")
    return text == "yes"


def _write_flag(value: bool) -> str:
    return "yes" if value else "no"


def option(default: Any, *, param: str, parse: Parser | None = None, choices: Sequence[Any] | None = None,
           multi: bool = False, write: Callable[[Any], Raw] | None = None, label: str = "") -> Any:
    """A spec field that round-trips through URL parameter `param`.

    `choices` gives the allowed values (one, or several with `multi`); otherwise `parse` turns the
    URL text into a value and raises for an invalid one. `write` turns a value into URL text.
    """
    if parse is None:
        if choices is not None:
            parse = some_of(choices) if multi else one_of(choices)
        elif isinstance(default, bool):
            parse = flag
        else:
            parse = _first
    if write is None:
        write = (_write_flag if isinstance(default, bool) else
                 (lambda values: [str(v) for v in values]) if multi else
                 (lambda v: f"{v:g}" if isinstance(v, float) else str(v)))
    return field(default=default, metadata={"param": param, "parse": parse, "write": write, "multi": multi,
                                            "choices": tuple(choices) if choices is not None else None,
                                            "label": label or param})


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return _write_flag(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(map(str, value)) or "none"
    return str(value)


@dataclass(frozen=True)
class PageSpec:
    """Base class of every page's options (subclasses are frozen dataclasses of `option` fields)."""

    PAGE: ClassVar[str] = ""

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        return [f for f in fields(cls) if "param" in f.metadata]

    @classmethod
    def params(cls) -> tuple[str, ...]:
        """The URL parameter names this page owns."""
        return tuple(f.metadata["param"] for f in cls.options())

    @classmethod
    def session_key(cls, name: str) -> str:
        """The page-namespaced session key of field `name` (a widget's key)."""
        return f"{cls.PAGE}.{name}"

    @classmethod
    def from_params(cls, params: Mapping[str, Raw]) -> tuple["PageSpec", list[str]]:
        """The spec a link describes, and a notice per value that was invalid (default used).

        Unknown parameters are ignored (they belong to the filters or another layer)."""
        values, notices = {}, []
        for f in cls.options():
            param = f.metadata["param"]
            if param not in params:
                continue
            raw = params[param]
            try:
                values[f.name] = f.metadata["parse"](raw)
            except (OptionError, ValueError, TypeError, KeyError) as error:
                expected = f" is not {error}" if isinstance(error, OptionError) else " is not valid"
                notices.append(f'{param}: "{_first(raw)[:40]}"{expected}; the default '
                               f"{_shown(f.default)} is used.")
        spec = cls(**values)
        return spec.validated(), notices

    def validated(self) -> "PageSpec":
        """Cross-field checks (subclasses override); returns a valid spec."""
        return self

    def to_params(self) -> list[tuple[str, str]]:
        """URL parameters of the options that differ from their defaults, in field order."""
        pairs: list[tuple[str, str]] = []
        for f in self.options():
            value = getattr(self, f.name)
            if value == f.default:
                continue
            written = f.metadata["write"](value)
            for text in ([written] if isinstance(written, str) else written):
                pairs.append((f.metadata["param"], text))
        return pairs

    def describe(self) -> str:
        """The non-default options in words, for the share page ("defaults" when none)."""
        changed = [f"{f.metadata['label']}: {_shown(getattr(self, f.name))}" for f in self.options()
                   if getattr(self, f.name) != f.default]
        return "; ".join(changed) or "defaults"

    def with_(self, **changes: Any) -> "PageSpec":
        return dataclasses.replace(self, **changes)


def params_mapping(pairs) -> dict[str, list[str]]:
    """URL pairs (repeated keys allowed) as a mapping of lists, as `PageSpec.from_params` takes.

    >>> params_mapping([("efs", "relapse"), ("efs", "death"), ("group", "hct")])
    {'efs': ['relapse', 'death'], 'group': ['hct']}
    """
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out

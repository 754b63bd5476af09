"""User-controlled text (URL values, uploaded names and values, cohort names) shown as text.

Streamlit renders st.markdown, st.caption, st.info/warning/error/success and widget labels as
Markdown (GitHub-flavoured: bare URLs become links, `![t](url)` fetches an image, `:red[x]` and
`:material/x:` are directives, `$x$` is math). Every user-controlled string passes through
`md_escape` before it is put into such a text; the app's own wording is not escaped.
"""
from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all
# also breaks GFM autolinks (http://, www., e-mail), emoji/icon/colour directives and math.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_escape(value: object) -> str:
    """`value` as literal Markdown text: punctuation backslash-escaped, line breaks as spaces.

    >>> md_escape("[x](https://evil.example)")
    '\\\\[x\\\\]\\\\(https\\\\:\\\\/\\\\/evil\\\\.example\\\\)'
    >>> md_escape("S01"), md_escape("a\\n# b")
    ('S01', 'a \\\\# b')
    """
    return _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))


def md_join(values, sep: str = ", ") -> str:
    """Escaped values joined by `sep` (which is the app's own text)."""
    return sep.join(md_escape(v) for v in values)

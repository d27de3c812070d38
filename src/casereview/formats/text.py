"""The one rule for showing text that may hold characters which are not text.

Input refuses control characters and bidirectional controls (`domain.text`), but a log
can hold them from before that rule, or from outside casereview. Every writer shows them
as escapes rather than passing them on: `visible` writes `\\x1b` or `\\u202e` (for
terminals, CSV cells, Markdown, HTML, calendar entries), and `json_safe` writes JSON's
own `\\u001b` escape, which every JSON reader decodes back to the stored character, so
JSON stays exact. Text without such characters comes back as the same object, found by
one regular-expression search, so writers can call these on every value they write.
"""

from __future__ import annotations

import re

from casereview.domain.text import HIDDEN, LINE_BREAKS

_HIDDEN = re.compile(f"[{HIDDEN}]")
_HIDDEN_OR_BREAK = re.compile(f"[{HIDDEN}{LINE_BREAKS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def visible(text: str, *, keep_breaks: bool = True) -> str:
    """`text` with every hidden character written as an escape (`\\x1b`, `\\u202e`);
    tabs and line breaks are kept unless `keep_breaks` is False."""
    pattern = _HIDDEN if keep_breaks else _HIDDEN_OR_BREAK
    return pattern.sub(_escape, text) if pattern.search(text) else text


def json_safe(document: str) -> str:
    """A JSON document with every hidden character JSON leaves as itself (C1 controls,
    DEL, bidirectional controls; C0 ones are escaped by every encoder) written as a
    `\\uXXXX` escape. Such characters can only stand inside strings, so this changes no
    value a reader decodes."""
    return _HIDDEN.sub(_json_escape, document) if _HIDDEN.search(document) else document

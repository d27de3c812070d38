"""The one rule for text cells that a spreadsheet could run as a formula.

A spreadsheet may read a cell that begins with `=`, `+`, `-` or `@` (some versions
also a tab or a carriage return, and their full-width forms `＝ ＋ － ＠`) as the
start of a formula, and a formula can fetch links or run commands. Every CSV that
casereview writes (the decision log, the report, the due list) passes its text cells
through `safe_cell`, which puts a leading apostrophe before such a cell so it is shown
as text (OWASP's advice), and shows any control or bidirectional-control character as
an escape (`formats.text`).
"""

from __future__ import annotations

from casereview.formats.text import visible

FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""First characters a spreadsheet may read as the start of a formula."""


def safe_cell(text: str) -> str:
    """The cell as a spreadsheet will show it: text, never a formula, and no control or
    bidirectional-control character (written as an escape, `formats.text.visible`)."""
    text = visible(text)
    return "'" + text if text[:1] in FORMULA_START else text


def value_cell(value: object) -> str:
    """A value as a CSV cell: empty for None, numbers as they are (only text can smuggle
    a formula), anything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return safe_cell(str(value))

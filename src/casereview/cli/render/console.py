"""Shared consoles, message lines and JSON output.

Data goes to stdout, messages to stderr. Text that came from users (rationale,
pseudonyms, notes) is always passed through `literal` before rich sees it, so markup
or escape sequences inside it are shown as typed, never interpreted.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.text import Text

from casereview.cli.streams import is_utf8
from casereview.formats.text import json_safe

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    global _out
    if _out is None:
        _out = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    return _out


def err() -> Console:
    global _err
    if _err is None:
        _err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
    return _err


COMPACT_BELOW = 100
"""Below this many columns every view changes to its compact layout (one block per case
or clock, the values a person must read or type on lines of their own)."""


def sized() -> bool:
    """Whether stdout has a width to fit: a terminal, or COLUMNS set. Into a pipe or a
    file, tables keep their natural width."""
    return out().is_terminal or bool(os.environ.get("COLUMNS"))


def compact(table: RenderableType | None = None) -> bool:
    """Whether to use a view's compact layout: stdout is narrower than `COMPACT_BELOW`,
    or `table` (the wide layout) would not fit its width without cutting a word."""
    if not sized():
        return False
    return out().width < COMPACT_BELOW or (table is not None and not fits(table))


def emit(renderable: RenderableType) -> None:
    """Print a table to stdout. On a terminal (or with COLUMNS set) it fits the width;
    into a pipe or a file it keeps its natural width rather than wrapping at 80."""
    console = out()
    if sized():
        console.print(renderable)
        return
    natural = Measurement.get(console, console.options.update_width(1000), renderable).maximum
    if natural <= console.width:
        console.print(renderable)
        return
    Console(file=sys.stdout, width=natural, highlight=False, soft_wrap=False).print(renderable)


def fits(renderable: RenderableType) -> bool:
    """Whether `renderable` can be drawn at the console's width without cutting a word.

    A table fits at its natural width, or where its narrowest form (every wrapping column
    at its longest word) leaves room: rich shares the shortfall out between the wrapping
    columns, not by their longest words, so a table that fits only just gets cut."""
    console = out()
    measured = Measurement.get(console, console.options.update_width(10_000), renderable)
    return measured.maximum <= console.width or measured.minimum <= console.width * 0.85


def reset() -> None:
    """Forget the consoles (tests swap sys.stdout between invocations)."""
    global _out, _err
    _out = None
    _err = None


def literal(value: object) -> Text:
    """User-supplied text as a rich Text: no markup; every character that is not
    printable (controls, bidirectional controls, zero-width and format characters) is
    made visible as an escape, `\\x1b` or `\\u202e`; tabs and line breaks are kept."""
    text = str(value)
    if text.isprintable():
        return Text(text)
    return Text("".join(ch if ch.isprintable() or ch in "\n\t" else _escape(ch) for ch in text))


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def error(message: str) -> None:
    reset()
    err().print(Text("Error: ") + literal(" ".join(message.split())), highlight=False)


def warning(message: str) -> None:
    reset()
    err().print(Text("Warning: ", style="yellow") + literal(message))


def info(message: str) -> None:
    reset()
    err().print(literal(message))


def escaped(value: object) -> str:
    """Escape a string for use inside a rich markup template."""
    return escape(str(value))


def print_json_data(data: Any) -> None:
    # On a stream that cannot encode every character, JSON escapes them (`\u00eb`), and
    # control characters always (`formats.text.json_safe`): the same data for any reader.
    text = json.dumps(data, indent=2, ensure_ascii=not is_utf8(sys.stdout), sort_keys=False)
    sys.stdout.write(json_safe(text))
    sys.stdout.write("\n")


def print_line(text: str) -> None:
    sys.stdout.write(text + "\n")


def say(text: str) -> None:
    """A sentence on stdout: as one line, or wrapped between words in a compact layout."""
    if compact():
        out().print(literal(text))
    else:
        print_line(text)

"""Shared consoles, message lines and JSON output.

Data goes to stdout, messages to stderr. Text that came from users (rationale,
pseudonyms, notes) is always passed through `literal` before rich sees it, so markup
or escape sequences inside it are shown as typed, never interpreted.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
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

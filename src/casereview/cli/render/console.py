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
    """User-supplied text as a rich Text: no markup, control characters made visible."""
    text = str(value)
    cleaned = "".join(
        ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}" for ch in text
    )
    return Text(cleaned)


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
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")


def print_line(text: str) -> None:
    sys.stdout.write(text + "\n")

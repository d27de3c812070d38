"""Which characters text typed by people may hold. Pure.

Free text (a pseudonym, a rationale, a note, any field of type text, a person's name)
is read by people in terminals, spreadsheets, calendars and web pages. Some characters
are not text at all but instructions to whatever shows them: the C0 and C1 control
characters (an escape sequence can recolour a terminal, move its cursor, rewrite what
it shows) and DEL, and Unicode's bidirectional embeddings, overrides and isolates
(U+202A–U+202E, U+2066–U+2069), which make text read in a different order from the one
it is stored in ("Trojan source"). They are refused on input, naming the character and
where it is; only a tab and line breaks (`\\n`, `\\r`) are allowed, and only in text that
may run over several lines. Whatever is already stored, every output shows them as escapes
anyway (`formats.text`).
"""

from __future__ import annotations

import re

from casereview.errors import Input, InvalidInput

HIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
"""A regular-expression class of the characters no text may hold (tab, line feed and
carriage return are the only C0 characters left out: `LINE_BREAKS` says where they are
allowed)."""

LINE_BREAKS = "\t\n\r"
_HIDDEN_IN_LINE = re.compile(f"[{HIDDEN}{LINE_BREAKS}]")
_HIDDEN_IN_TEXT = re.compile(f"[{HIDDEN}]")


def character_name(ch: str) -> str:
    """`U+001B`: how a message names a character that cannot be shown."""
    return f"U+{ord(ch):04X}"


def check(text: str, what: Input | str, *, multiline: bool) -> None:
    """Refuse `text` if it holds a control or bidirectional-control character (a tab
    or a line break too, unless `multiline`); the message names the first and where."""
    found = (_HIDDEN_IN_TEXT if multiline else _HIDDEN_IN_LINE).search(text)
    if found is None:
        return
    raise InvalidInput(
        "{what} holds a control character ({name}, at position {at}) that would change "
        "how the text is shown; type it without {kind}",
        what=what,
        name=character_name(found.group()),
        at=found.start() + 1,
        kind="line breaks or control characters" if not multiline else "control characters",
    )

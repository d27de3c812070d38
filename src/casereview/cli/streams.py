"""Standard output and error when the terminal cannot show every character.

A terminal (or `PYTHONIOENCODING`) set to ASCII or Latin-1 cannot show a pseudonym such
as "Zoë Ω", nor the `·` and `→` of casereview's own words. What is written for people
then degrades: a character the stream cannot encode is written as a Python escape
(`\\xeb`), and rich draws its tables with ASCII lines. Data is never degraded: CSV,
Markdown, HTML and Mermaid written to standard output are UTF-8 whatever the terminal's
encoding, and JSON escapes every non-ASCII character (`\\u00eb`), which every reader
decodes exactly. Nothing here imports rich, so `--help` stays fast.
"""

from __future__ import annotations

import codecs
import io
import sys
from typing import TextIO


def is_utf8(stream: TextIO) -> bool:
    """True when `stream` encodes any character (its encoding is UTF-8)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def tolerate_narrow_encodings() -> None:
    """Make stdout and stderr write an escape for a character their encoding lacks,
    instead of stopping the command with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if not is_utf8(stream) and isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


class DataOut:
    """Writes data to standard output: as text when stdout is UTF-8, else as UTF-8
    bytes on stdout's own buffer (what was written before is flushed first)."""

    def __init__(self) -> None:
        self._stream = sys.stdout
        self._bytes = None if is_utf8(self._stream) else getattr(self._stream, "buffer", None)

    def write(self, text: str) -> int:
        if self._bytes is None:
            return self._stream.write(text)
        self._stream.flush()
        self._bytes.write(text.encode("utf-8"))
        self._bytes.flush()
        return len(text)

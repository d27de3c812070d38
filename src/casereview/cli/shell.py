"""Writing a word of a command for a person to paste into their shell.

POSIX shells and PowerShell quote differently: `shlex.quote` writes `'C:\\My files\\x.db'`,
which PowerShell reads too, but a `$` or an apostrophe inside one needs PowerShell's own
rules. On Windows a word that needs quoting is put in single quotes with each `'`
doubled (PowerShell's literal string, in which nothing is expanded); elsewhere
`shlex.quote` as before.
"""

from __future__ import annotations

import re
import shlex
import sys

_PLAIN = re.compile(r"[\w@%+=:,./\\-]+")


def quote(word: str, *, windows: bool | None = None) -> str:
    """`word` as one argument in the person's shell (`windows` chooses for tests)."""
    if windows is None:
        windows = sys.platform == "win32"
    if not windows:
        return shlex.quote(word)
    if word and _PLAIN.fullmatch(word):
        return word
    return "'" + word.replace("'", "''") + "'"

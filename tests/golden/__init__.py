"""Golden files: rendered output checked in, compared exactly, regenerated deliberately.

`assert_golden(name, text)` compares `text` with `tests/golden/<name>`. Trailing spaces
are stripped from every line first (rich pads table cells to the column width), so the
files stay clean in editors. To accept a change in output on purpose, rerun the tests
with CASEREVIEW_REGENERATE_GOLDEN=1 and review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent
REGENERATE_ENV = "CASEREVIEW_REGENERATE_GOLDEN"


def normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).rstrip("\n") + "\n"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN_DIR / name
    actual = normalise(text)
    if os.environ.get(REGENERATE_ENV, "") not in ("", "0"):
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(
            f"no golden file {path}; run with {REGENERATE_ENV}=1 to create it, then review it"
        )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="actual",
            )
        )
        raise AssertionError(
            f"output differs from golden/{name} (if the change is intended, rerun with "
            f"{REGENERATE_ENV}=1 and review the diff):\n{diff}"
        )

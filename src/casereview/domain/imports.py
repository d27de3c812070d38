"""What an imported event carries about where it came from. Pure.

An event written by `casereview import cases` holds, beside the fields its trigger
records, one more: `imported_from`, naming the source file by its SHA-256 and the sheet
row the case came from. It is part of the hashed payload, so the chain vouches for it;
no case keeps it as a field (`domain.replay` leaves it out at the opening; later
events keep only the workflow's case fields).
"""

from __future__ import annotations

SOURCE_FIELD = "imported_from"
"""The event field naming the source of an imported event."""

NO_RATIONALE = "imported, no rationale recorded"
"""The rationale an imported step gets when its trigger needs one and the sheet has none."""


def source_mark(sha256: str, sheet: str, row: int) -> str:
    """The `imported_from` value: the file's SHA-256, its sheet and the row (from 1)."""
    return f"sha256:{sha256} sheet {sheet!r} row {row}"

"""The content the database kept for one installed workflow, read through a
`store.reading.Reader`: what a command that only reads needs to replay a case whose
workflow no file on this machine holds (a partnership's own rules, installed from a
file kept elsewhere). On SQLite that reader is the standard
library's driver, so a `case show` or `timeline` of such a case does not import
SQLAlchemy (about 200 ms). The rest of the `installed_workflows` table is
`store.installed_workflows`'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casereview.store.reading import Reader


def content_of(reader: Reader, definition_hash: str) -> str | None:
    """The content kept for a definition hash (as stored; the caller checks its hash)."""
    row = reader.first(
        "SELECT content FROM installed_workflows WHERE definition_hash = :h",
        {"h": definition_hash},
    )
    return None if row is None else str(row["content"])

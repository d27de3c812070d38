"""The store's one error, and the words for what went wrong with a database.

Kept apart from `store.database` so that the driver-only read path (`store.reading`)
can raise and describe the same errors without importing SQLAlchemy.
"""

from __future__ import annotations

from casereview.errors import CaseReviewError


class StoreError(CaseReviewError):
    """The database could not be opened or used (locked, unreadable, wrong file)."""


def describe(detail: str, where: str) -> str:
    """One line for a person from the driver's first line of error text."""
    if "file is not a database" in detail:
        return f"{where} is not a casereview database (it is not an SQLite file)"
    if "permission denied to set role" in detail or (
        detail.startswith("role ") and "does not exist" in detail
    ):
        return (
            f"{where} refused: {detail}. A server login acts only for a person whose "
            "database role it has been granted; see docs/deployment.md"
        )
    if "permission denied" in detail:
        return (
            f"{where} refused: {detail}. Your database login needs the casereview_app "
            "role (or casereview_read for read-only use); see docs/deployment.md"
        )
    if "locked" in detail or "busy" in detail:
        return f"{where} is busy with another writer; try again in a moment"
    return f"could not use {where}: {detail}"

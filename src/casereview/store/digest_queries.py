"""Read-side queries for `digest`: the cases its clocks belong to (state, pinned workflow,
approval rounds) and the active users it may address. Plain SQL through a
`store.reading.Reader`; the clocks themselves come from `dashboard_queries`, as for `due`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casereview.store.reading import Reader

_CASES = (
    "SELECT ref, state, workflow_id, workflow_version, workflow_hash, approvals "
    "FROM cases WHERE ref IN ({names})"
)
_BATCH = 500
"""References per query: well under every driver's limit on bound parameters."""


@dataclass(frozen=True)
class CaseRow:
    ref: str
    state: str
    workflow_id: str
    workflow_version: int
    workflow_hash: str
    approvals: dict[str, Any]


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    roles: tuple[str, ...]
    agency: str | None


def cases(reader: Reader, refs: Iterable[str]) -> dict[str, CaseRow]:
    """The named cases by reference (unknown references are left out)."""
    wanted = sorted(set(refs))
    found: dict[str, CaseRow] = {}
    for start in range(0, len(wanted), _BATCH):
        batch = wanted[start : start + _BATCH]
        params = {f"r{i}": ref for i, ref in enumerate(batch)}
        sql = _CASES.format(names=", ".join(f":{name}" for name in params))
        for row in reader.rows(sql, params):
            found[str(row["ref"])] = CaseRow(
                ref=str(row["ref"]),
                state=str(row["state"]),
                workflow_id=str(row["workflow_id"]),
                workflow_version=int(row["workflow_version"]),
                workflow_hash=str(row["workflow_hash"]),
                approvals=_object(row["approvals"]),
            )
    return found


def active_users(reader: Reader) -> list[UserRow]:
    """Every active user, by username."""
    rows = reader.rows(
        "SELECT username, display_name, roles, agency, active FROM users ORDER BY username"
    )
    return [
        UserRow(str(r["username"]), str(r["display_name"]), _roles(r["roles"]), r["agency"])
        for r in rows
        if r["active"]
    ]


def _object(text: Any) -> dict[str, Any]:
    """A stored JSON object; an unreadable one as empty (`audit verify` reports it)."""
    try:
        value = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _roles(text: Any) -> tuple[str, ...]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return ()
    return tuple(r for r in value if isinstance(r, str)) if isinstance(value, list) else ()

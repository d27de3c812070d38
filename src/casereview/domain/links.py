"""Links between cases: siblings, the same incident, a thematic review covering several
children, as the workflow's `[links]` table describes.

A link is recorded once, by a `link` trigger on one case, naming the other case and the
relation; both cases show it (the other one as linked from). Replay keeps a case's own
links (`Replayed.links`); the case row keeps them too, so the other case can find the
links that name it without replaying anything.

Pure: the definition's table, the case's links and an event's fields in; the links
after the event, or a refusal, out. Whether the other case exists is the service's
question (it needs the database).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from casereview.domain.workflow.model import Links


def other_of(table: Links, trigger_id: str, fields: Mapping[str, Any]) -> str | None:
    """The other case a `link` trigger names (None: the trigger links nothing)."""
    if trigger_id not in table.link:
        return None
    other = fields.get(table.other)
    return str(other) if other is not None else None


def refusal(
    table: Links,
    links: Sequence[Mapping[str, Any]],
    trigger_id: str,
    fields: Mapping[str, Any],
    ref: str,
) -> str | None:
    """Why `trigger_id` may not link case `ref` as `fields` ask (None: it may)."""
    other = other_of(table, trigger_id, fields)
    if other is None:
        return None
    if other == ref:
        return f"case {ref} cannot be linked to itself"
    relation = fields.get(table.relation)
    for link in links:
        if link.get("other") == other and link.get("relation") == relation:
            return (
                f"case {ref} is already linked to {other} as {relation} (event {link.get('seq')})"
            )
    return None


def apply(
    table: Links,
    links: list[dict[str, Any]],
    *,
    trigger: str,
    seq: int,
    on: str,
    fields: Mapping[str, Any],
) -> None:
    """Record what one event does to the case's links, in place."""
    other = other_of(table, trigger, fields)
    if other is None:
        return
    links.append({"other": other, "relation": fields.get(table.relation), "on": on, "seq": seq})


def followers(
    table: Links, links: Sequence[Mapping[str, Any]], trigger_id: str, from_state: str
) -> list[str]:
    """The cases that take `trigger_id` with the case whose links are `links`, fired
    from `from_state`: each case it linked with a relation of a `follow` entry that
    lists the trigger and the state (or no states), once each, in the order linked."""
    relations = {
        relation
        for entry in table.follow
        if trigger_id in entry.triggers and (not entry.from_ or from_state in entry.from_)
        for relation in entry.relations
    }
    found: list[str] = []
    for link in links:
        other = link.get("other")
        if link.get("relation") in relations and isinstance(other, str) and other not in found:
            found.append(other)
    return found


def naming(
    ref: str, cases: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]
) -> list[dict[str, Any]]:
    """The links other cases recorded that name `ref`: each as `{"other": their ref,
    "relation", "on", "seq"}`, in the order given."""
    found = []
    for other_ref, links in cases:
        for link in links:
            if link.get("other") == ref and other_ref != ref:
                found.append({**link, "other": other_ref})
    return found

"""Holds: a case held in its stage, as the workflow's `[holds]` table describes.

A hold is an overlay, not a state: the case stays in its stage, the clocks the workflow
names pause, and only the hold's own triggers and those the table allows are possible
while it lasts. A `hold` trigger puts it on, a `review` trigger gives it a new review
date, a `lift` trigger ends it, and so does a move to a state that cannot be held (the
stage it held is over). The engine refuses what a held (or unheld) case cannot do
(`refusal`); replay and the decision log follow the hold with `held_after`.

Pure: the definition's table and the case's hold in, a decision or a refusal out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casereview.domain.workflow.model import Holds


def held_after(holds: Holds, held: bool, trigger_id: str, to_state: str) -> bool:
    """Whether a case is held after `trigger_id` took it to `to_state`."""
    if trigger_id in holds.hold:
        held = True
    elif trigger_id in holds.lift:
        held = False
    return held and to_state in holds.states


def refusal(holds: Holds, hold: Mapping[str, Any] | None, trigger_id: str, ref: str) -> str | None:
    """Why `trigger_id` is not possible on case `ref` with this hold (None: it is)."""
    if trigger_id in holds.hold:
        if hold is not None:
            return (
                f"case {ref} is already held (since {hold.get('since')}, to be reviewed by "
                f"{hold.get('review_by')}); review the hold or lift it"
            )
        return None
    if trigger_id in holds.review or trigger_id in holds.lift:
        if hold is None:
            return f"{trigger_id} needs a held case; case {ref} is not held"
        return None
    if hold is not None and trigger_id not in holds.allowed:
        possible = ", ".join((*holds.review, *holds.lift, *holds.allowed))
        return (
            f"{trigger_id} is not possible while case {ref} is held (since {hold.get('since')}, "
            f"to be reviewed by {hold.get('review_by')}); possible while held: {possible}"
        )
    return None


def process_refusal(
    holds: Holds,
    processes: Mapping[str, Mapping[str, Any]],
    trigger_id: str,
    fields: Mapping[str, Any],
    ref: str,
) -> str | None:
    """Why a hold or review recording `fields` is refused for the parallel process it
    names (None: it names a registered process not concluded, or none). A missing reason
    and process together is `missing_reason`'s question."""
    if holds.process is None or trigger_id not in (*holds.hold, *holds.review):
        return None
    number = fields.get(holds.process)
    if number is None:
        return None
    found = processes.get(str(number))
    if found is None:
        known = ", ".join(
            f"{n} ({p.get('type')}{', ' + str(p['reference']) if p.get('reference') else ''})"
            for n, p in processes.items()
        )
        return (
            f"case {ref} has no parallel process {number!r} to be held for "
            f"(its processes: {known or 'none'})"
        )
    if found.get("concluded"):
        return f"parallel process {number} of case {ref} is concluded: a hold cannot wait for it"
    return None


def missing_reason(holds: Holds, trigger_id: str, fields: Mapping[str, Any]) -> bool:
    """Whether a `hold` trigger records neither the reason nor a parallel process, when
    the workflow accepts either (`reason` and `process` both named)."""
    if holds.reason is None or holds.process is None or trigger_id not in holds.hold:
        return False
    return fields.get(holds.reason) in (None, "") and fields.get(holds.process) in (None, "")


def possible(holds: Holds | None, hold: Mapping[str, Any] | None, trigger_id: str) -> bool:
    """Whether the hold (or its absence) lets `trigger_id` fire: for lists of next steps."""
    if holds is None:
        return True
    return refusal(holds, hold, trigger_id, "") is None

"""Checks against what happened: a `days_apart` guard compares a date an earlier event
recorded with a date this step records (the advance copy's `sent_on` at least 7 working
days before the actual `published_on`, not the planned day).

`failure` says why a step breaks the check (None when it holds); the engine refuses the
step with it. The guard's `override` trigger records the same step despite the check: it
is possible only when the check fails, and its event is the record of the breach. Replay
marks that event (`EventFacts.overrode`, for the report); `breaches` finds every one in a
case's history and says, with the calendar, how the check failed (for case show and the
timeline).

Pure: a guard, the step's values and the case's earlier steps in, words out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casereview.domain.calendar.units import Calendar
from casereview.domain.replay import fields_of
from casereview.domain.workflow.model import DaysApartGuard, WorkflowDefinition


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def latest_allowed(guard: DaysApartGuard, later: dt.date, cal: Calendar | None) -> dt.date:
    """The last day the earlier date may take for `later` to keep the check."""
    if guard.unit == "calendar_days":
        return later - dt.timedelta(days=guard.at_least)
    if cal is None:
        raise ValueError("a working-day check needs the calendar")
    return cal.subtract_working_days(later, guard.at_least)


def failure(
    guard: DaysApartGuard,
    values: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    cal: Calendar | None,
) -> str | None:
    """Why a step recording `values` (its fields over the case's) breaks `guard`, given
    the case's earlier `steps` (event rows, as corrected); None when the check holds."""
    later = _day(values.get(guard.later))
    if later is None:
        return f"{guard.later} has not been recorded, so {guard.describe()} cannot be checked"
    deadline = latest_allowed(guard, later, cal)
    found: dict[Any, list[dt.date]] = {}
    each_field: str | None = next(iter(guard.each), None)  # at most one
    wanted: tuple[Any, ...] = guard.each[each_field] if each_field is not None else (None,)
    for row in steps:
        if guard.trigger is not None and row.get("trigger") != guard.trigger:
            continue
        fields = fields_of(row)
        if any(fields.get(k) != v for k, v in guard.where.items()):
            continue
        day = _day(fields.get(guard.earlier))
        if day is None:
            continue
        key = fields.get(each_field) if each_field is not None else None
        found.setdefault(key, []).append(day)
    short = []
    for key in wanted:
        days = found.get(key, [])
        label = f"{key}: " if each_field is not None else ""
        if not days:
            short.append(f"{label}no {guard.earlier} recorded")
        elif min(days) > deadline:
            short.append(f"{label}{guard.earlier} {min(days).isoformat()}")
    if not short:
        return None
    unit = guard.unit.replace("_", " ")
    return (
        f"{guard.earlier} must be on or before {deadline.isoformat()}, {guard.at_least} {unit} "
        f"before {guard.later} {later.isoformat()} ({'; '.join(short)})"
    )


@dataclass(frozen=True)
class Breach:
    """A step recorded despite a failed check, by the check's override trigger."""

    seq: int
    on: str  # the day the override was recorded
    trigger: str  # the override trigger
    overrides: str  # the trigger whose check it overrode
    check: str  # the check, in words
    detail: str  # how it failed ("" when it can no longer be worked out)


def breaches(
    definition: WorkflowDefinition, steps: Sequence[Mapping[str, Any]], cal: Calendar
) -> tuple[Breach, ...]:
    """Every override step in a case's history (as corrected), with how the check it
    overrode failed, worked out against the steps before it."""
    found = []
    case: dict[str, Any] = {}
    case_fields = {f.id for f in definition.fields if f.scope == "case"}
    for index, row in enumerate(steps):
        trigger = str(row.get("trigger"))
        fields = fields_of(row)
        checks = definition.checks_overridden_by(trigger)
        for guarded, guard in checks:
            try:
                why = failure(guard, {**case, **fields}, steps[:index], cal) or ""
            except ValueError:  # out of the calendar's range
                why = ""
            found.append(
                Breach(
                    seq=int(row["seq"]),
                    on=str(row["occurred_on"]),
                    trigger=trigger,
                    overrides=guarded.id,
                    check=guard.describe(),
                    detail=why,
                )
            )
        case.update({k: v for k, v in fields.items() if k in case_fields})
    return tuple(found)

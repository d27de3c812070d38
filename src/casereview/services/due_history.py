"""The due list as it stood on a past day: every case replayed to the end of that day.

The due list as of a past date must show the clocks as they stood then, not today's clocks
counted from then: a clock that had not started is not listed, one stopped since is
still running, one paused since is still counting. The projection `due` reads holds only
today's clocks, so this replays each case's log up to that day and as it was known then
(`domain.replay`, the replay of a case shown as at a past date) and derives its clocks, then
counts and orders them exactly as `store.dashboard_queries` does for today. It reads
every case's events: the cost of an as-of list follows the log, not the rows shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from casereview.domain import clocks
from casereview.services.context import ServiceContext
from casereview.services.stored import replay_stored
from casereview.store import dashboard_queries as views
from casereview.store.dashboard_queries import OpenClockCounts, OpenClockRow

if TYPE_CHECKING:
    from casereview.store.reading import Reader


def open_clocks_on(ctx: ServiceContext, reader: Reader, day: dt.date) -> list[OpenClockRow]:
    """Every clock open at the end of `day` (running or paused), as recorded by then.
    Cases voided as opened in error are left out, as from every list."""
    found: list[OpenClockRow] = []
    for case in views.cases_not_voided(reader):
        definition = ctx.registry.get_exact(
            str(case["workflow_id"]), int(case["workflow_version"]), str(case["workflow_hash"])
        )
        ref = str(case["ref"])
        events = views.case_events(reader, int(case["id"]))
        state = replay_stored(definition, ref, events, until=day, known_by=day)
        if not state.opened_on or state.voided is not None:
            continue  # not open yet on that day
        derived = clocks.derive(clocks.rules_for(definition), state.facts, ctx.calendar)
        for clock in derived.values():
            if clock.state not in ("running", "paused"):
                continue
            s = clocks.summarise(clock)
            if s.ends_on_due and s.due_on is not None and s.due_on < day.isoformat():
                continue  # a reminder whose date had passed was over
            found.append(
                OpenClockRow(
                    ref=ref,
                    pseudonym=state.pseudonym,
                    case_state=state.state,
                    clock_id=s.clock_id,
                    label=s.label,
                    kind=s.kind,
                    state=s.state,
                    anchor_on=s.anchor_on,
                    due_on=s.due_on,
                    warn_from=s.warn_from,
                    started_on=s.started_on,
                    remaining_days=s.remaining_days,
                    paused_days=s.paused_days,
                    ends_on_due=s.ends_on_due,
                    workflow_id=definition.id,
                    workflow_version=definition.version,
                )
            )
    return found


def counts(
    rows: Sequence[OpenClockRow],
    day: dt.date,
    *,
    next_before: dt.date,
    within_before: dt.date | None,
) -> OpenClockCounts:
    """What `dashboard_queries.open_clock_counts` counts, over `rows`."""
    iso, soon = day.isoformat(), next_before.isoformat()
    dated = [r for r in rows if r.state == "running" and r.due_on is not None]
    return OpenClockCounts(
        open=len(rows),
        paused=sum(1 for r in rows if r.state == "paused"),
        overdue=sum(1 for r in dated if r.due_on is not None and r.due_on < iso),
        due_soon=sum(
            1
            for r in dated
            if r.due_on is not None and r.due_on >= iso and r.warn_from and r.warn_from <= iso
        ),
        due_next=sum(1 for r in dated if r.due_on is not None and iso <= r.due_on < soon),
        within=(
            0
            if within_before is None
            else sum(
                1 for r in dated if r.due_on is not None and r.due_on < within_before.isoformat()
            )
        ),
    )


def ordered(
    rows: Sequence[OpenClockRow], *, due_before: dt.date | None, limit: int | None
) -> list[OpenClockRow]:
    """`rows` in the due list's order (`dashboard_queries.open_clocks`): dated running
    clocks soonest first, then undated ones, then paused ones; only those due before
    `due_before` when given; at most `limit`."""
    dated = sorted(
        (r for r in rows if r.state == "running" and r.due_on is not None),
        key=lambda r: (r.due_on or "", r.ref, r.clock_id),
    )
    if due_before is not None:
        chosen = [r for r in dated if (r.due_on or "") < due_before.isoformat()]
    else:
        undated = sorted(
            (r for r in rows if r.state == "running" and r.due_on is None),
            key=lambda r: (r.ref, r.clock_id),
        )
        paused = sorted(
            (r for r in rows if r.state == "paused"),
            key=lambda r: (r.due_on is None, r.due_on or "", r.ref, r.clock_id),
        )
        chosen = dated + undated + paused
    return chosen if limit is None else chosen[:limit]

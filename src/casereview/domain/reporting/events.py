"""Which of a case's events the annual report must replay.

Most of the log is notes, sign-offs and progress updates: events that leave the case
where it is and set no case field. Replaying them would be most of the report's work
and changes nothing it reads, so `ReplayedEvents.needed` leaves them out before replay. What
replay does with an event is asked of replay's own rules (`replay.ReplayRules`), not
restated here.

Why an event may be left out (an "inert" event) — not the first of the case, and:

- its trigger is one replay keeps the state for (`ReplayRules.staying`: no `to`) and is
  not `open` (which replay treats apart);
- replay keeps none of its fields (`ReplayRules.fields_kept`), so the fields after it
  are the fields before it, and the `changed` set clocks look at is empty;
- no clock starts or stops on it, and the workflow's `[report]` table does not name it.

Its fact then repeats the previous one's state and fields under a trigger nothing looks
for. Removing it leaves every figure as it was: the first event, the state at the end,
the fields at the end, the closing event, the hold spells (pairs of states), and every
event a figure counts are the same; and `clocks.step` on it changes no clock, because a
clock is only paused or resumed when the state it is in disagrees with its pause states,
which the previous step, in the same state, has already settled. Replay's other output
(version, approvals, problems) is not read by the report.

The cut at the period end is made first, exactly as `replay(until=…)` makes it (at the
first event dated after the end, whatever follows), so leaving events out never lets a
later event in.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from casereview.domain.clocks import OPEN_TRIGGER, ClockRule
from casereview.domain.replay import is_amending, rules_of
from casereview.domain.workflow.model import WorkflowDefinition


class ReplayedEvents:
    """For one workflow definition: the events of a case the report must replay."""

    def __init__(self, definition: WorkflowDefinition, rules: Sequence[ClockRule]) -> None:
        on_clocks = {t for rule in rules for t in (*rule.start_on, *rule.stop_on)}
        self._replay = replay = rules_of(definition)
        counted = definition.report.triggers if definition.report is not None else frozenset()
        self.inert_triggers = frozenset(
            t.id
            for t in definition.triggers
            if t.id in replay.staying
            and t.id != OPEN_TRIGGER
            and t.id not in on_clocks
            and t.id not in counted
        )
        # Later events keep these (`fields_kept`); the names let a stored text be
        # searched without decoding it.
        self.case_fields = replay.case_fields
        names = "|".join(re.escape(name) for name in sorted(self.case_fields))
        self._quoted_name = re.compile(f'"(?:{names})"') if names else None

    def needed(
        self, events: Sequence[Mapping[str, Any]], until: dt.date
    ) -> list[Mapping[str, Any]]:
        """`events` up to the first one dated after `until`, less the inert ones.

        A case with a correction, undo or void keeps every event: which step comes
        after the period end, and which a correction reaches, is replay's to work out
        from the corrected history."""
        if any(is_amending(str(row["trigger"])) for row in events):
            return list(events)
        kept: list[Mapping[str, Any]] = []
        for index, row in enumerate(events):
            if dt.date.fromisoformat(str(row["occurred_on"])) > until:
                break
            if (
                index
                and str(row["trigger"]) in self.inert_triggers
                and not self._sets_case_field(row)
            ):
                continue
            kept.append(row)
        return kept

    def _sets_case_field(self, row: Mapping[str, Any]) -> bool:
        """Whether replay would keep any field of this event (read as replay reads it).

        Stored fields are JSON text. Without a backslash a JSON text has no escapes, so
        a key it holds appears in it as `"name"` exactly: when no case field's name does,
        none is set, and the text need not be parsed.
        """
        value = row["fields"]
        if isinstance(value, str) and "\\" not in value:
            return self._quoted_name is not None and self._quoted_name.search(value) is not None
        if isinstance(value, str):
            value = json.loads(value)
            if not isinstance(value, dict):
                return False
        return bool(self._replay.fields_kept(str(row["trigger"]), value))

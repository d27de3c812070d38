"""Which of a case's events the annual report must replay.

An event that keeps its case's state, sets no case field, and whose trigger no clock and
no `[report]` table names (an "inert" event: most notes, sign-offs and progress updates)
changes no figure, so `ReplayedEvents.needed` leaves it out before replay, after making
the cut at the period end exactly as `replay(until=...)` does. Why no figure changes:
docs/report.md ("Events the report does not replay"). What replay does with an event is
asked of replay's own rules (`replay.ReplayRules`), not restated here.
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
        # Inert: a trigger replay keeps the state for (`staying`: no `to`) other than
        # `open`, on which no clock starts or stops and which the `[report]` table does not
        # name. An event of it is left out only if replay keeps none of its fields either
        # (`_sets_case_field`), and never the case's first event.
        on_clocks = {t for rule in rules for t in (*rule.start_on, *rule.stoppers)}
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
        # A case with an event of a named trigger that opens a sign-off round (a decision
        # the partners maintain) keeps its sign-offs: whether the round was signed is a
        # figure (`case_facts.rounds_signed`).
        self._openers = frozenset(t for t in counted if definition.rounds_opened_by(t))
        self._signs = frozenset(t.id for t in definition.triggers if t.signs)
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
        inert = self.inert_triggers
        if self._openers and any(str(row["trigger"]) in self._openers for row in events):
            inert = inert - self._signs
        kept: list[Mapping[str, Any]] = []
        for index, row in enumerate(events):
            # The cut comes first and is replay's own (at the first event dated after the
            # end, whatever follows), so leaving events out never lets a later one in.
            if dt.date.fromisoformat(str(row["occurred_on"])) > until:
                break
            if index and str(row["trigger"]) in inert and not self._sets_case_field(row):
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

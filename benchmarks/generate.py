"""Realistic casereview databases at any scale, for the benchmarks and their smoke test.

    .venv/bin/python -m benchmarks.generate --cases 10000 --out benchmarks/out/10k.db

Each case is a randomised (seeded) script in the style of `services/demo.py`: opened by
the business unit, then taken along one of the England workflow's paths and stopped at
a stage chosen at random — still screening, not notified, withdrawn, at every step of
the rapid review and its sign-off, awaiting or querying the Panel, other learning, a
national review, and a local review (LCSPR) commissioned, in progress (with progress
checks and requested changes), in final sign-off, held (with hold reviews, some
lifted), scheduled (some rescheduled), published, in action monitoring, or closed.
Every case has 10-40 events: notes, progress checks and action updates fill the gaps
between the structural steps. Sign-offs are recorded on behalf of partner users, and
some chair decisions on behalf of named chairs, as the business unit does in practice.

Dates are working days (the real England and Wales calendar) placed so that the last
event of an open case falls between 0 and ~120 working days before `today`: some clocks
are on track, some due soon and some overdue, a rapid review is sometimes submitted
late, an advance copy sometimes sent late, and a hold's review date sometimes passed.

Open cases at an LCSPR stage (commissioned to action monitoring) follow a copy of
version 1 with an `[action_plan]` table (`PLAN_WORKFLOW`, installed by `build`), are
left 40-250 working days idle after their last workflow step, and then get an action
plan: 2-5 recommendations and about 10 actions for the three agencies, made on one day
and due 1-14 months later, so that at `today` some are met, met after an agreed
extension, missed, closed without completion, overdue, due soon or on track
(`plan_steps`; its own seeded generator per case, so the other cases' scripts are as
they were).

About a third of the cases (`--v2-share`) are opened on version 2 of the England
workflow (`V2_WORKFLOW`) and taken along its paths (`v2_case_scripts`): notifications
keyed in after the day they were sent (fact dates), notifications only (a looked-after
child's or care leaver's death; some closed, some escalated to a rapid review), local
reviews of incidents not notified, the LCSPR commissioned before or after the Panel's
response (now and then a disagreement, and the decision maintained with a new sign-off
round), reviews held for a parallel process while in progress or while publication is
scheduled (reviewed; some lifted, some past their review date), parallel processes with
key dates near and far from today, a national review running alongside, a local review
folded into a national review (and a national review before any local review began),
publication decisions (full, redacted, improvements only, or not published with reasons),
advance copies to each recipient and publication (a short notice published on the
chair's override), and sibling reviews: 1-2 children's cases, each with its own
notification and rapid review, linked by a lead case whose LCSPR steps they follow. The
version 1 cases are exactly those the seed gave before (each number's version 1 script
is still drawn in turn; a number's version 2 script comes from its own generator).

Everything is written with `casereview.services.bulk.apply_scripts`, i.e. the same
domain code as `casereview case open|advance`, and the plans with
`casereview.services.actions.record_many`, the checks and events of `rec add` and
`action add|update|extend|complete`, so the result passes `audit verify`.
Users are added through the ordinary `services.users` calls. Given the same seed,
`today` and case count the scripts are identical (recorded_at is the real time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casereview.domain import actions as plans
from casereview.domain.calendar.workdays import WorkingDayCalendar
from casereview.infra.bank_holidays import default_calendar
from casereview.infra.now import Clock, SystemClock
from casereview.services import actions, bulk, users
from casereview.services import workflows as workflow_service
from casereview.services.bulk import CaseScript, Step
from casereview.services.context import ServiceContext

WORKFLOW = "england-lcspr@1"
"""The generated cases follow version 1 of the England workflow (the paths below are v1's)."""
PLAN_WORKFLOW = "england-lcspr-plan"
"""Open cases at an LCSPR stage follow this copy of version 1 with an `[action_plan]`
table (`plan_workflow_text`: v1's triggers, states and clocks, plus who records the plan),
so that they can hold recommendations and actions; installed by `build` like any
workflow file."""
PLAN_STAGES = frozenset(
    {
        "lcspr_commissioning",
        "lcspr_in_progress",
        "draft_review",
        "final_signoff",
        "publication_hold",
        "publication_scheduled",
        "published",
        "action_monitoring",
    }
)
"""The open LCSPR stages whose cases get an action plan (a closed case takes no more
plan steps)."""
ACTIONS_PER_CASE = (6, 14)
"""Actions per case with a plan, at random in this range (about 10)."""
_PLAN_ROOM = (40, 250)
"""Working days left between the last workflow step and today for the plan's steps, so
its due dates fall around today: some met, missed, overdue, due soon and on track."""
CHAIRS = ("chair-1", "chair-2", "chair-3")
PARTNERS = {
    "local_authority": ("la-1", "la-2"),
    "police": ("police-1", "police-2"),
    "icb": ("icb-1", "icb-2"),
}
AGENCY_LABEL = {"local_authority": "Local authority", "police": "Police", "icb": "ICB"}
LAS = (
    "Northshire",
    "Eastborough",
    "Westfield",
    "Southmoor",
    "Kingsmere",
    "Ashdale",
    "Riverton",
    "Highcombe",
)
REVIEWERS = ("A. Reviewer", "B. Author", "C. Independent", "D. Lead Reviewer")
NOTES = (
    "Chronologies requested from all agencies.",
    "Family contacted; engagement offered through the social worker.",
    "Practitioner event planned.",
    "Information sharing agreement confirmed with health partners.",
    "Legal advice sought on disclosure of the health records.",
    "Briefing given to the safeguarding partnership executive.",
    "Agency report from education received.",
    "Coroner's office updated on progress.",
)
UPDATES = (
    "Two of five actions complete; evidence reviewed by the partnership.",
    "Training on neglect delivered to frontline staff.",
    "Multi-agency audit of referrals completed.",
    "Escalation policy revised and circulated.",
)
RATIONALE = (
    "Discussed at the rapid review meeting; criteria considered against the guidance.",
    "Decision agreed by the three safeguarding partners.",
    "The Panel's view and the local learning were both taken into account.",
)

# (final stage, relative weight): how far each case has got by `today`.
STAGES: tuple[tuple[str, int], ...] = (
    ("screening", 3),
    ("not_notified", 4),
    ("rapid_review", 6),
    ("rapid_review_signoff", 5),
    ("withdrawn", 3),
    ("awaiting_panel", 5),
    ("panel_query", 3),
    ("other_learning", 4),
    ("other_learning_actions", 5),
    ("other_learning_closed", 6),
    ("national_review", 3),
    ("national_actions", 3),
    ("lcspr_commissioning", 3),
    ("lcspr_in_progress", 9),
    ("draft_review", 4),
    ("final_signoff", 3),
    ("publication_hold", 5),
    ("publication_scheduled", 4),
    ("published", 4),
    ("action_monitoring", 7),
    ("closed_lcspr", 9),
)
_STAGE_NAMES = [s for s, _ in STAGES]
_STAGE_WEIGHTS = [w for _, w in STAGES]
OPEN_ENDINGS = {"not_notified", "withdrawn", "other_learning_closed", "closed_lcspr"}


@dataclass
class _Planned:
    """A step at `offset` working days after awareness; int field values are offsets
    too, turned into ISO dates once the awareness date is known (version 2 cases also
    take dates counted from today and the references of other cases: `_Timeline`)."""

    offset: int
    trigger: str
    fields: dict[str, Any] = field(default_factory=dict)
    rationale: str | None = None
    who: str | None = None
    glued: bool = False  # no padding between this step and the one before


class _Plan:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.offset = rng.randint(0, 2)  # opened on or shortly after awareness
        self.opened = self.offset
        self.steps: list[_Planned] = []
        self.processes = 0  # parallel processes registered (version 2)

    def add(
        self,
        gap: tuple[int, int],
        trigger: str,
        rationale: str | None = None,
        who: str | None = None,
        **fields: Any,
    ) -> _Planned:
        self.offset += self.rng.randint(*gap)
        step = _Planned(self.offset, trigger, dict(fields), rationale, who)
        self.steps.append(step)
        return step

    def why(self) -> str:
        return self.rng.choice(RATIONALE)

    def chair(self) -> str | None:
        """Chair decisions: keyed by the business unit for a named chair half the time."""
        return self.rng.choice(CHAIRS) if self.rng.random() < 0.5 else None

    def sign_offs(self, count: int = 3) -> None:
        agencies = list(PARTNERS)
        self.rng.shuffle(agencies)
        for agency in agencies[:count]:
            self.add((0, 3), "sign_off", who=self.rng.choice(PARTNERS[agency]))


def _rapid_review(plan: _Plan, stage: str, recommendation: str, number: int) -> bool:
    """Notification to submission; returns False if the case stops on the way."""
    rng = plan.rng
    # The notification is due 5 working days after awareness; some are late.
    plan.add((1, 7), "notify", sin_reference=f"SIN-{number:07d}")
    if stage == "rapid_review":
        if rng.random() < 0.3:
            extension = plan.add(
                (2, 8), "record_extension", note="Extension agreed with the Panel."
            )
            extension.fields["extension_agreed_on"] = extension.offset
        return False
    if stage == "withdrawn":
        if rng.random() < 0.5:
            plan.add((3, 8), "propose_decision", plan.why(), plan.chair(), recommendation="lcspr")
        plan.add((1, 6), "withdraw", "Information received shows the criteria are not met.")
        return False
    plan.add((4, 10), "propose_decision", plan.why(), plan.chair(), recommendation=recommendation)
    if stage == "rapid_review_signoff":
        plan.sign_offs(rng.randint(0, 2))
        return False
    if rng.random() < 0.15:  # a partner asked for changes: revise and sign again
        plan.sign_offs(rng.randint(1, 2))
        plan.add((1, 3), "revise", "Partners asked for the chronology to be strengthened.")
        plan.add((1, 4), "propose_decision", plan.why(), recommendation=recommendation)
    plan.sign_offs()
    plan.add((0, 6), "submit_rapid_review")  # 15 working days after notification; some late
    return True


def _panel(plan: _Plan, stage: str) -> None:
    rng = plan.rng
    if stage == "panel_query" or rng.random() < 0.2:
        plan.add((3, 12), "record_panel_query", summary="The Panel asked about agency contact.")
        if stage == "panel_query":
            return
        plan.add((2, 8), "answer_panel", summary="Chronology of agency contact sent.")


def _actions(plan: _Plan, closing: bool) -> None:
    plan.add((20, 60), "approve_action_plan", "Multi-agency action plan approved.")
    for _ in range(plan.rng.randint(0, 3)):
        plan.add((10, 40), "record_action_update", note=plan.rng.choice(UPDATES))
    if closing:
        plan.add((20, 80), "close", "All actions complete; learning shared across agencies.")


def _lcspr(plan: _Plan, stage: str) -> None:
    rng = plan.rng
    position = "agreed" if rng.random() < 0.8 else "requested_lcspr"
    plan.add((0, 10), "commission_lcspr", plan.why(), plan.chair(), panel_position=position)
    if stage == "lcspr_commissioning":
        return
    plan.add(
        (10, 40),
        "appoint_reviewer",
        who=plan.chair(),
        reviewer=rng.choice(REVIEWERS),
        scope_from=-rng.randint(250, 600),
        scope_to=-rng.randint(0, 20),
    )
    if stage == "lcspr_in_progress":
        return
    plan.add((40, 110), "receive_draft")
    while rng.random() < 0.3:
        plan.add((5, 20), "request_changes", "The draft needs the family's views reflected.")
        plan.add((15, 40), "receive_draft")
    if stage == "draft_review":
        return
    plan.add((5, 25), "accept_final", who=plan.chair())
    if stage == "final_signoff":
        plan.sign_offs(rng.randint(0, 2))
        return
    plan.sign_offs()
    if stage == "publication_hold" or rng.random() < 0.2:
        hold = plan.add(
            (2, 15),
            "hold_publication",
            "Criminal proceedings are under way; publication could prejudice them.",
            hold_reason=rng.choice(("criminal_proceedings", "inquest", "family")),
        )
        hold.fields["review_by"] = hold.offset + rng.randint(20, 60)
        for _ in range(rng.randint(0, 2)):
            again = plan.add((15, 55), "review_hold", "The proceedings continue.")
            again.fields["review_by"] = again.offset + rng.randint(20, 60)
        if stage == "publication_hold":
            return
        plan.add((5, 40), "lift_hold", "Proceedings concluded.")
    schedule = plan.add(
        (3, 15),
        "schedule_publication",
        publication_form=rng.choice(("full_report", "full_report", "improvements_only")),
    )
    planned = schedule.offset + rng.randint(12, 40)
    schedule.fields["planned_publication_on"] = planned
    if rng.random() < 0.2:
        moved = plan.add((1, 5), "reschedule_publication", "The partners' meeting moved.")
        planned = max(planned, moved.offset + 10) + rng.randint(5, 20)
        moved.fields["planned_publication_on"] = planned
    if stage == "publication_scheduled":
        if rng.random() < 0.5:
            plan.add((1, 6), "send_advance_copy")
        return
    # Due 7 working days before the planned date; one in ten is sent late.
    late = rng.random() < 0.1
    send_at = planned - (rng.randint(1, 6) if late else rng.randint(7, 12))
    plan.offset = max(plan.offset, send_at)
    plan.add((0, 0), "send_advance_copy")
    plan.offset = max(plan.offset, planned)
    plan.add((0, 0), "publish", url=f"https://example.org/reviews/{rng.randrange(10**6)}")
    if stage == "published":
        return
    _actions(plan, closing=stage == "closed_lcspr")


# Where padding can use a more specific trigger than a note: the state a step leaves
# the case in, for the steps that enter or leave those states.
_PAD_STATE = {
    "appoint_reviewer": "lcspr_in_progress",
    "request_changes": "lcspr_in_progress",
    "receive_draft": None,
    "approve_action_plan": "action_monitoring",
    "close": None,
    # Version 2's ways out of lcspr_in_progress and into action monitoring.
    "panel_commissions_national_review": None,
    "record_not_published": "action_monitoring",
}


def _pad(plan: _Plan, target: int, closes: bool) -> None:
    """Spread notes, progress checks and action updates to reach `target` events.

    A padding event goes 0-3 working days after the event before it; later steps move
    on only as far as needed to stay in order (with their date fields).
    """
    rng = plan.rng
    missing = target - 1 - len(plan.steps)
    if missing <= 0:
        return
    # A note can come before any step, and after the last one unless it closed the case.
    slots = len(plan.steps) + (0 if closes else 1)
    counts = [0] * slots
    for _ in range(missing):
        counts[rng.randrange(slots)] += 1
    for index in range(len(plan.steps) - 1, 0, -1):  # a glued step's notes go before
        if plan.steps[index].glued:
            counts[index - 1] += counts[index]
            counts[index] = 0
    out: list[_Planned] = []
    shift = 0
    state: str | None = None
    for index in range(len(plan.steps) + 1):
        for _ in range(counts[index] if index < slots else 0):
            at = (out[-1].offset if out else plan.opened) + rng.randint(0, 3)
            if state == "lcspr_in_progress" and rng.random() < 0.6:
                out.append(_Planned(at, "record_progress_check", {"note": rng.choice(NOTES)}))
            elif state == "action_monitoring" and rng.random() < 0.6:
                out.append(_Planned(at, "record_action_update", {"note": rng.choice(UPDATES)}))
            else:
                out.append(_Planned(at, "add_note", {"note": rng.choice(NOTES)}))
        if index == len(plan.steps):
            break
        step = plan.steps[index]
        moved = max(step.offset + shift, out[-1].offset if out else plan.opened)
        shift = moved - step.offset
        step.offset = moved
        for name, value in step.fields.items():
            if isinstance(value, int) and value >= 0:  # dates after awareness move too
                step.fields[name] = value + shift
        out.append(step)
        if step.trigger in _PAD_STATE:
            state = _PAD_STATE[step.trigger]
    plan.steps = out
    plan.offset = out[-1].offset


def _letters(number: int) -> str:
    label = ""
    while True:
        number, rest = divmod(number, 26)
        label = chr(ord("A") + rest) + label
        if number == 0:
            return label
        number -= 1


def case_script(
    number: int, rng: random.Random, today: dt.date, cal: WorkingDayCalendar
) -> CaseScript:
    """One randomised case, numbered `number` (which makes its reference unique)."""
    stage = rng.choices(_STAGE_NAMES, _STAGE_WEIGHTS)[0]
    plan = _Plan(rng)
    if stage == "not_notified":
        plan.add((1, 5), "decide_not_to_notify", "The s16C criteria are not met.", plan.chair())
    elif stage != "screening":
        recommendation = (
            "no_lcspr"
            if stage.startswith("other_learning")
            else "national_review"
            if stage.startswith("national")
            else "lcspr"
        )
        if _rapid_review(plan, stage, recommendation, number):
            _panel(plan, stage)
            if stage.startswith("other_learning"):
                plan.add(
                    (5, 20),
                    "record_other_learning",
                    plan.why(),
                    plan.chair(),
                    learning_activity="Multi-agency learning event",
                )
                if stage != "other_learning":
                    _actions(plan, closing=stage == "other_learning_closed")
            elif stage.startswith("national"):
                plan.add(
                    (5, 20),
                    "panel_commissions_national_review",
                    "The Panel will include the case in a national review.",
                )
                if stage == "national_actions":
                    _actions(plan, closing=rng.random() < 0.4)
            elif stage != "panel_query" and stage != "awaiting_panel":
                _lcspr(plan, stage)
    closes = (
        plan.steps[-1].trigger in ("close", "withdraw", "decide_not_to_notify")
        if (plan.steps)
        else False
    )
    _pad(plan, rng.randint(10, 40), closes)

    # Open cases last moved 0-120 working days ago (so some clocks are overdue); closed
    # ones up to about three years ago.
    if stage in OPEN_ENDINGS or closes:
        idle = rng.randint(0, 750)
    else:
        idle = rng.choice((rng.randint(0, 10), rng.randint(0, 10), rng.randint(5, 40)))
        if rng.random() < 0.1:
            idle = rng.randint(40, 120)
    with_plan = stage in PLAN_STAGES and not closes
    if with_plan:
        # Room for the action plan's steps after the last workflow step, from a
        # generator of its own so every other case's script stays as it was.
        idle += _plan_rng(number).randint(*_PLAN_ROOM)
    aware_ago = plan.offset + idle
    # Count back from the last working day on or before today: counted from a weekend or
    # bank holiday, the latest step would land on the next working day, in the future.
    last_working = today
    while not cal.is_working_day(last_working):
        last_working -= dt.timedelta(days=1)
    aware = cal.subtract_working_days(last_working, aware_ago)

    def day(offset: int) -> dt.date:
        if offset >= 0:
            return cal.add_working_days(aware, offset) if offset else aware
        return cal.subtract_working_days(aware, -offset)

    steps = [
        Step(
            trigger=p.trigger,
            on=day(p.offset),
            fields={
                k: (day(v).isoformat() if isinstance(v, int) else v) for k, v in p.fields.items()
            },
            rationale=p.rationale,
            on_behalf_of=p.who,
        )
        for p in plan.steps
    ]
    fields = {
        "nature": rng.choice(("death", "serious_harm", "serious_harm", "other")),
        "incident_on": (aware - dt.timedelta(days=rng.randint(0, 20))).isoformat(),
        "notifying_la": rng.choice(LAS),
    }
    if rng.random() < 0.3:
        fields["looked_after"] = rng.choice(("yes", "no"))
    return CaseScript(
        ref=f"{aware.year}-{number:06d}",
        aware_on=aware,
        fields=fields,
        steps=tuple(steps),
        opened_on=day(plan.opened),
        pseudonym=f"Child {_letters(number)}",
        workflow=f"{PLAN_WORKFLOW}@1" if with_plan else WORKFLOW,
    )


# -- England version 2 -----------------------------------------------------------------------

V2_WORKFLOW = "england-lcspr@2"
V2_SHARE = 1 / 3
"""The share of cases opened on version 2 of the England workflow by default."""

# (how far a version 2 case has got, relative weight).
V2_STAGES: tuple[tuple[str, int], ...] = (
    ("screening", 2),
    ("not_notified", 2),
    ("notification_only", 4),  # notified only; some closed, some escalated to a rapid review
    ("local_review", 4),  # an incident not notified: a local review, some completed
    ("rapid_review", 3),
    ("rapid_review_signoff", 2),
    ("awaiting_panel", 4),
    ("other_learning", 3),
    ("national_not_started", 2),  # a national review before any local review began
    ("national_merged", 4),  # an LCSPR in progress folded into a national review
    ("lcspr_commissioning", 3),
    ("lcspr_in_progress", 5),
    ("held_in_progress", 6),  # held for a parallel process, not lifted yet
    ("draft_review", 3),
    ("final_signoff", 3),
    ("publication_scheduled", 3),
    ("held_publication", 3),  # held while publication was scheduled
    ("published", 5),
    ("not_published", 4),  # the partners decided not to publish; some then closed
    ("sibling_review", 8),  # a lead case and 1-2 linked children (a linked group)
)
_V2_NAMES = [s for s, _ in V2_STAGES]
_V2_WEIGHTS = [w for _, w in V2_STAGES]
_V2_LCSPR = (
    "lcspr_commissioning",
    "lcspr_in_progress",
    "held_in_progress",
    "national_merged",
    "draft_review",
    "final_signoff",
    "publication_scheduled",
    "held_publication",
    "published",
    "not_published",
)
"""Where a sibling review's lead stops (its children follow it there)."""
PROCESS_LEADS = {
    "criminal_proceedings": "Crown Prosecution Service",
    "inquest": "HM Coroner",
    "domestic_homicide_review": "Community safety partnership",
}
REASONS = (
    "The family asked that the report is not published; the partners agreed.",
    "Publication would identify the surviving siblings.",
)


@dataclass(frozen=True)
class _FromToday:
    """A date field `days` working days from today (negative: before): a key date of a
    parallel process, near or far from today whatever the case's own dates."""

    days: int


def _v2_rng(seed: int, number: int) -> random.Random:
    """Case `number`'s own generator for version 2: whether it is a version 2 case, and
    its script (so the version 1 scripts are drawn as before)."""
    return random.Random(seed * 1_000_033 + number * 7_919 + 5)


def _keyed_late(plan: _Plan, step: _Planned, fact: str, most: int) -> None:
    """`step` keyed in 1-`most` working days after the day it happened (its fact date),
    a quarter of the time; otherwise the fact date is left to default to the event date."""
    if plan.rng.random() < 0.25:
        step.fields[fact] = step.offset
        step.offset += plan.rng.randint(1, most)
        plan.offset = step.offset


def _notify_v2(plan: _Plan, number: int) -> None:
    notify = plan.add((1, 7), "notify", sin_reference=f"SIN-{number:07d}")
    _keyed_late(plan, notify, "notified_on", 6)


def _rapid_review_v2(plan: _Plan, stage: str, recommendation: str, *, escalated: bool) -> bool:
    """From the notification (or the escalation of a notification only) to the
    submission; False if the case stops on the way."""
    rng = plan.rng
    if rng.random() < 0.2:
        extension = plan.add(
            (2, 8), "record_extension", note="Extension agreed with the Panel: records awaited."
        )
        extension.fields["extension_agreed_on"] = extension.offset
    if stage == "rapid_review" and not escalated:
        return False
    plan.add((4, 10), "propose_decision", plan.why(), plan.chair(), recommendation=recommendation)
    if stage == "rapid_review_signoff":
        plan.sign_offs(rng.randint(0, 2))
        return False
    plan.sign_offs()
    submit = plan.add((0, 6), "submit_rapid_review")
    _keyed_late(plan, submit, "submitted_on", 4)
    return True


def _panel_response(plan: _Plan, gap: tuple[int, int], position: str) -> None:
    response = plan.add(
        gap,
        "record_panel_response",
        panel_position=position,
        summary="The Panel's response to the rapid review.",
    )
    _keyed_late(plan, response, "responded_on", 5)


def _hold(plan: _Plan, held_to_end: bool, in_progress: bool) -> None:
    """A parallel process registered and the review held for it (or for a reason alone),
    its hold reviewed; unless `held_to_end`, the process concludes and the hold is lifted."""
    rng = plan.rng
    numbered = ""
    if in_progress or rng.random() < 0.5:
        kind = rng.choice(tuple(PROCESS_LEADS))
        key = "trial_on" if kind == "criminal_proceedings" else "next_hearing_on"
        # Key dates near today (in `due`), far from it, or just passed.
        when = rng.choice((rng.randint(0, 8), rng.randint(60, 250), -rng.randint(1, 20)))
        plan.add(
            (1, 10),
            "register_parallel_process",
            process_type=kind,
            reference=f"{kind[:3].upper()}-{rng.randrange(10**5):05d}",
            lead_agency=PROCESS_LEADS[kind],
            **{key: _FromToday(when)},
        )
        plan.processes += 1
        numbered = str(plan.processes)
    fields: dict[str, Any] = {}
    if numbered and rng.random() < 0.6:
        fields["parallel_process"] = numbered
    if not fields or rng.random() < 0.5:
        fields["hold_reason"] = rng.choice(("criminal_proceedings", "inquest", "family"))
    hold = plan.add(
        (0, 8), "hold", "Held until the parallel process concludes.", plan.chair(), **fields
    )
    hold.fields["review_by"] = hold.offset + rng.randint(15, 60)
    for _ in range(rng.randint(0, 2)):
        again = plan.add((10, 50), "review_hold", "The proceedings continue.", plan.chair())
        again.fields["review_by"] = again.offset + rng.randint(15, 60)
    if numbered and rng.random() < 0.5:
        plan.add(
            (2, 20),
            "update_parallel_process",
            process_id=numbered,
            next_hearing_on=_FromToday(rng.choice((rng.randint(1, 10), rng.randint(40, 200)))),
            note="Hearing date moved by the court.",
        )
    if held_to_end:
        return
    if numbered:
        done = plan.add(
            (5, 30), "update_parallel_process", process_id=numbered, process_status="concluded"
        )
        done.fields["concluded_on"] = done.offset
    plan.add((0, 10), "lift_hold", "The proceedings concluded.", plan.chair())


def _publication_v2(plan: _Plan, stage: str) -> None:
    """Scheduled to published: held on the way (some lifted), rescheduled, advance copies
    to the Panel and the Secretary of State, published (a breach of the 7-working-day
    notice with the chair's override now and then)."""
    rng = plan.rng
    schedule = plan.add((3, 15), "schedule_publication")
    planned = schedule.offset + rng.randint(12, 40)
    schedule.fields["planned_publication_on"] = planned
    if stage == "held_publication" or rng.random() < 0.15:
        _hold(plan, held_to_end=stage == "held_publication", in_progress=False)
        if stage == "held_publication":
            return
    if plan.offset + 8 > planned or rng.random() < 0.15:
        moved = plan.add((1, 5), "reschedule_publication", "The partners' meeting moved.")
        planned = max(planned, moved.offset + 10) + rng.randint(5, 20)
        moved.fields["planned_publication_on"] = planned
    content = "full_report" if rng.random() < 0.8 else "improvements_information"
    if stage == "publication_scheduled":
        if rng.random() < 0.5:
            plan.add((1, 6), "send_advance_copy", recipient="panel", content=content)
        return
    short = rng.random() < 0.1  # the copies went fewer than 7 working days before
    send_at = planned - (rng.randint(1, 5) if short else rng.randint(7, 12))
    plan.offset = max(plan.offset, send_at)
    for index, recipient in enumerate(
        ("panel", "secretary_of_state", "ofsted")[: rng.randint(2, 3)]
    ):
        sent = plan.add((0, 1), "send_advance_copy", recipient=recipient, content=content)
        sent.glued = short and index > 0
    # Published on the planned day, and never within 7 working days of a copy unless short.
    plan.offset = max(plan.offset, planned if short else max(planned, sent.offset + 7))
    url = f"https://example.org/reviews/{rng.randrange(10**6)}"
    if short:  # only the chair's override publishes
        # Glued to the copies, so padding cannot lengthen the notice into a proper one.
        plan.add(
            (0, 0),
            "publish_despite_short_notice",
            "The date was fixed with the family; the Panel agreed to short notice.",
            plan.chair(),
            url=url,
        ).glued = True
    else:
        publish = plan.add((0, 0), "publish", url=url)
        _keyed_late(plan, publish, "published_on", 3)


def _lcspr_v2(plan: _Plan, stage: str, *, lead: bool = False) -> None:
    """Commissioned (before or after the Panel's response) to published, not published,
    or folded into a national review. A lead's steps are the ones its linked children
    follow; it keeps to the Panel's agreement (no maintained decision)."""
    rng = plan.rng
    responded = rng.random() < 0.5
    if responded:
        _panel_response(plan, (3, 12), rng.choice(("agreed", "agreed", "agreed_with_comments")))
    plan.add((0, 10), "commission_lcspr", plan.why(), plan.chair())
    if not responded:
        # The partners did not wait for the Panel; now and then it disagrees, and the
        # partners maintain their decision with a new sign-off round.
        disagreed = not lead and rng.random() < 0.3
        _panel_response(plan, (2, 12), "disagreed" if disagreed else "agreed")
        if disagreed:
            plan.add(
                (2, 10), "maintain_decision", "The partners keep their decision.", plan.chair()
            )
            plan.sign_offs()
    if rng.random() < 0.85:
        inform = plan.add((0, 5), "inform_lcspr", reviewer=rng.choice(REVIEWERS))
        _keyed_late(plan, inform, "informed_on", 3)
    if stage == "lcspr_commissioning":
        return
    plan.add(
        (10, 40),
        "appoint_reviewer",
        who=plan.chair(),
        reviewer=rng.choice(REVIEWERS),
        scope_from=-rng.randint(250, 600),
        scope_to=-rng.randint(0, 20),
    )
    if stage == "held_in_progress" or rng.random() < 0.35:
        _hold(plan, held_to_end=stage == "held_in_progress", in_progress=True)
    if stage == "held_in_progress":
        return
    if rng.random() < 0.1:
        plan.add(
            (2, 20),
            "record_national_review_alongside",
            "A national review of the same service runs alongside.",
            plan.chair(),
            commissioned_by="panel",
            reference=f"NR-{rng.randrange(100):02d}",
        )
    if stage == "lcspr_in_progress":
        return
    if stage == "national_merged":
        _national(plan, "merged")
        return
    plan.add((40, 110), "receive_draft")
    while rng.random() < 0.3:
        plan.add((5, 20), "request_changes", "The draft needs the family's views reflected.")
        plan.add((15, 40), "receive_draft")
    if stage == "draft_review":
        return
    plan.add((5, 25), "accept_final", who=plan.chair())
    if stage == "not_published":
        form = "not_published"
    else:
        form = rng.choice(("full_report", "full_report", "redacted_report", "improvements_only"))
    fields: dict[str, Any] = {"publication_form": form}
    if form != "full_report":
        fields["reasons"] = rng.choice(REASONS)
    plan.add((1, 10), "decide_publication", "The partners' publication decision.", **fields)
    if stage == "final_signoff":
        plan.sign_offs(rng.randint(0, 2))
        return
    plan.sign_offs()
    if form == "not_published":
        told = plan.add(
            (1, 10), "record_not_published", "Not published: the Panel was told why.", plan.chair()
        )
        told.fields["panel_informed_on"] = told.offset
        for _ in range(rng.randint(0, 2)):
            plan.add((10, 40), "record_action_update", note=rng.choice(UPDATES))
        if not lead and rng.random() < 0.4:
            plan.add((20, 80), "close", "All actions complete; learning shared.", plan.chair())
        return
    _publication_v2(plan, stage)


def _national(plan: _Plan, outcome: str) -> None:
    plan.add(
        (5, 20),
        "panel_commissions_national_review",
        "The Panel will include the case in a national review.",
        plan.chair(),
        commissioned_by=plan.rng.choice(("panel", "panel", "secretary_of_state")),
        local_review_outcome=outcome,
    )
    if plan.rng.random() < 0.4:
        report = plan.add(
            (40, 150), "record_national_report", url="https://www.gov.uk/national-review"
        )
        _keyed_late(plan, report, "published_on", 5)


def _v2_plan(
    number: int, rng: random.Random, stage: str, responded: float = 0.5
) -> tuple[_Plan, dict[str, str]]:
    """One version 2 case's steps (offsets from its awareness date) and opening fields;
    `responded`: the chance that a case left awaiting the Panel has its response."""
    plan = _Plan(rng)
    fields = {
        "nature": rng.choice(("death", "serious_harm", "serious_harm", "other")),
        "notifying_la": rng.choice(LAS),
    }
    if stage == "not_notified":
        plan.add((1, 5), "decide_not_to_notify", "The s16C criteria are not met.", plan.chair())
    elif stage == "notification_only":
        leaver = rng.random() < 0.4
        fields.update(nature="death", looked_after="no" if leaver else "yes")
        extra: dict[str, Any] = {}
        if leaver:
            extra = {"care_leaver": "yes", "age_at_incident": str(rng.randint(18, 24))}
        notify = plan.add(
            (1, 7),
            "notify_only",
            category="care_leaver_death" if leaver else "looked_after_child_death",
            **extra,
        )
        _keyed_late(plan, notify, "notified_on", 6)
        ending = rng.random()
        if ending < 0.4:
            plan.add((5, 30), "close", "Notified; no rapid review needed.", plan.chair())
        elif ending < 0.7:
            plan.add(
                (3, 20),
                "escalate_to_rapid_review",
                "New information: neglect is now suspected.",
                plan.chair(),
            )
            submitted = _rapid_review_v2(plan, "awaiting_panel", "lcspr", escalated=True)
            if submitted and rng.random() < 0.5:
                _panel_response(plan, (3, 12), "agreed")
    elif stage == "local_review":
        plan.add(
            (1, 8),
            "start_local_review",
            "Not notifiable, but there is local learning.",
            plan.chair(),
            review_type=rng.choice(
                ("local_rapid_review", "learning_review", "appreciative_inquiry")
            ),
        )
        if rng.random() < 0.5:
            plan.add(
                (8, 25),
                "complete_local_review",
                "Learning agreed by the partners.",
                plan.chair(),
                learning_activity="Practitioner learning event",
            )
    elif stage != "screening":
        recommendation = (
            "no_lcspr"
            if stage == "other_learning"
            else "national_review"
            if stage == "national_not_started"
            else "lcspr"
        )
        _notify_v2(plan, number)
        if _rapid_review_v2(plan, stage, recommendation, escalated=False):
            if stage == "other_learning":
                if rng.random() < 0.5:
                    _panel_response(plan, (3, 12), "agreed")
                plan.add(
                    (5, 20),
                    "record_other_learning",
                    plan.why(),
                    plan.chair(),
                    learning_activity="Multi-agency learning event",
                )
            elif stage == "national_not_started":
                _national(plan, "not_started")
            elif stage == "awaiting_panel":
                # Some have the Panel's response (the partners have not moved on yet).
                if rng.random() < responded:
                    _panel_response(plan, (3, 12), "agreed_with_comments")
            else:
                _lcspr_v2(plan, stage)
    return plan, fields


def v2_case_scripts(
    number: int, rng: random.Random, today: dt.date, cal: WorkingDayCalendar, room: int
) -> list[tuple[CaseScript, bool]]:
    """Case `number` on version 2, or a sibling review's group numbered from it (its
    children first, then the lead that links them and takes the LCSPR's steps, which
    they follow), with whether each is in a linked group. `room`: numbers left."""
    stage = rng.choices(_V2_NAMES, _V2_WEIGHTS)[0]
    if stage != "sibling_review":
        plan, fields = _v2_plan(number, rng, stage)
        closes = bool(plan.steps) and plan.steps[-1].trigger in ("close", "decide_not_to_notify")
        _pad(plan, rng.randint(10, 35), closes)
        idle = rng.randint(0, 600) if closes else _v2_idle(rng)
        return [(_Timeline(plan.offset + idle, today, cal).script(number, plan, fields, 0), False)]
    children = min(rng.randint(1, 2), room - 1)
    if children < 1:  # no numbers left for a group
        plan, fields = _v2_plan(number, rng, "awaiting_panel")
        _pad(plan, rng.randint(10, 35), False)
        timeline = _Timeline(plan.offset + _v2_idle(rng), today, cal)
        return [(timeline.script(number, plan, fields, 0), False)]
    members: list[tuple[int, _Plan, dict[str, str], int]] = []
    for index in range(children):
        # The Panel has responded to nearly every child's rapid review (the lead's
        # response does not stop a child's clock).
        child, fields = _v2_plan(number + index, rng, "awaiting_panel", responded=0.9)
        _pad(child, rng.randint(8, 16), False)
        members.append((number + index, child, fields, rng.randint(0, 4)))  # aware 0-4 days apart
    lead_number = number + children
    lead, fields = _v2_plan(lead_number, rng, "awaiting_panel")
    # The lead links its children once every one of them has got as far as it.
    lead.offset = max(lead.offset, *(shift + child.offset for _, child, _, shift in members))
    for child_number, *_ in members:
        lead.add(
            (0, 3),
            "link_case",
            "Siblings: one review covers both children.",
            linked_case=_CaseRef(child_number),
            relation="sibling",
        )
    _lcspr_v2(lead, rng.choice(_V2_LCSPR), lead=True)
    _pad(lead, rng.randint(15, 35), False)
    timeline = _Timeline(lead.offset + _v2_idle(rng), today, cal)
    members.append((lead_number, lead, fields, 0))
    for n, _plan, _fields, shift in members:
        timeline.refs[n] = f"{timeline.day(shift).year}-{n:06d}"
    return [
        (timeline.script(n, plan, f, shift, keep_with_next=n != lead_number), True)
        for n, plan, f, shift in members
    ]


@dataclass(frozen=True)
class _CaseRef:
    """The reference of the case numbered `number` (in the same group), once its dates
    are known."""

    number: int


def _v2_idle(rng: random.Random) -> int:
    """Working days since an open case last moved: mostly recent, sometimes months."""
    idle = rng.choice((rng.randint(0, 10), rng.randint(0, 10), rng.randint(5, 40)))
    return rng.randint(40, 120) if rng.random() < 0.1 else idle


class _Timeline:
    """Offsets (working days from the first awareness date of a group) to dates, placed
    so that the group's last step falls `end` working days from the last working day on
    or before `today`."""

    def __init__(self, end: int, today: dt.date, cal: WorkingDayCalendar) -> None:
        last_working = today
        while not cal.is_working_day(last_working):
            last_working -= dt.timedelta(days=1)
        self.cal, self.last_working = cal, last_working
        self.anchor = cal.subtract_working_days(last_working, end)
        self.refs: dict[int, str] = {}

    def day(self, offset: int) -> dt.date:
        if offset >= 0:
            return self.cal.add_working_days(self.anchor, offset) if offset else self.anchor
        return self.cal.subtract_working_days(self.anchor, -offset)

    def value(self, value: object, shift: int) -> str:
        if isinstance(value, _FromToday):
            if value.days >= 0:
                return self.cal.add_working_days(self.last_working, value.days).isoformat()
            return self.cal.subtract_working_days(self.last_working, -value.days).isoformat()
        if isinstance(value, _CaseRef):
            return self.refs[value.number]
        if isinstance(value, int):
            return self.day(value + shift).isoformat()
        return str(value)

    def script(
        self,
        number: int,
        plan: _Plan,
        fields: dict[str, str],
        shift: int,
        *,
        keep_with_next: bool = False,
    ) -> CaseScript:
        """The case numbered `number` whose awareness is `shift` working days after the
        anchor (its plan's offsets count from its awareness)."""
        aware = self.day(shift)
        rng = plan.rng
        opening = dict(fields)
        opening["incident_on"] = (aware - dt.timedelta(days=rng.randint(0, 20))).isoformat()
        return CaseScript(
            ref=self.refs.get(number) or f"{aware.year}-{number:06d}",
            aware_on=aware,
            fields=opening,
            steps=tuple(
                Step(
                    trigger=p.trigger,
                    on=self.day(p.offset + shift),
                    fields={k: self.value(v, shift) for k, v in p.fields.items()},
                    rationale=p.rationale,
                    on_behalf_of=p.who,
                )
                for p in plan.steps
            ),
            opened_on=self.day(plan.opened + shift),
            pseudonym=f"Child {_letters(number)}",
            workflow=V2_WORKFLOW,
            keep_with_next=keep_with_next,
        )


def make_scripts(
    count: int,
    *,
    seed: int,
    today: dt.date,
    cal: WorkingDayCalendar | None = None,
    planned: list[tuple[int, str, dt.date]] | None = None,
    v2_share: float = V2_SHARE,
    tally: dict[str, int] | None = None,
) -> Iterator[CaseScript]:
    """`count` randomised case scripts; the same seed and `today` give the same scripts.
    Each case that will get an action plan is added to `planned` (number, reference,
    day of its last step) when given.

    About `v2_share` of the cases are opened on version 2 (`v2_case_scripts`); the rest
    are exactly the version 1 scripts the same seed gave before version 2 cases existed:
    every number's version 1 script is drawn from the one generator in turn, and whether
    a number goes to version 2 (and its script) from a generator of that number's own.
    `tally` (when given) counts the cases by `v1`, `v2` and `v2_linked` (in a sibling
    review's group)."""
    if not 0 <= v2_share <= 1:
        raise ValueError(f"v2 share must be between 0 and 1, got {v2_share}")
    calendar = cal or default_calendar()
    rng = random.Random(seed)
    group: list[CaseScript] = []  # the rest of a linked group under way
    counts = tally if tally is not None else {}
    for key in ("v1", "v2", "v2_linked"):
        counts.setdefault(key, 0)
    for number in range(1, count + 1):
        script = case_script(number, rng, today, calendar)  # always drawn: keeps v1 as it was
        if not group:
            own = _v2_rng(seed, number)
            if v2_share and own.random() < v2_share:
                group = v2_case_scripts(number, own, today, calendar, room=count - number + 1)
        if group:
            v2, linked = group.pop(0)
            counts["v2"] += 1
            counts["v2_linked"] += int(linked)
            yield v2
            continue
        counts["v1"] += 1
        if planned is not None and script.workflow == f"{PLAN_WORKFLOW}@1":
            last = script.steps[-1].on if script.steps else script.aware_on
            planned.append((number, script.ref, last))
        yield script


# -- action plans --------------------------------------------------------------------------


def _plan_rng(number: int) -> random.Random:
    return random.Random(number * 1_000_003 + 17)


def plan_workflow_text() -> str:
    """Version 1 of the England workflow as `PLAN_WORKFLOW`, with an `[action_plan]`
    table: the chair approves the plan, the business unit updates any agency's actions,
    a partner their own agency's; no step waits for the plan (the generated scripts
    approve plans and close cases in the bulk write, before any plan step)."""
    from importlib import resources

    text = (resources.files("casereview") / "workflows" / "england-lcspr@1.toml").read_text(
        encoding="utf-8"
    )
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("id = "))
    lines[top] = f'id = "{PLAN_WORKFLOW}"'
    title = next(i for i, line in enumerate(lines) if line.startswith("title = "))
    lines[title] = 'title = "England LCSPR (version 1) with an action plan: benchmarks only"'
    lines += [
        "",
        "[action_plan]",
        'approve = ["chair"]',
        'update_any = ["business_unit"]',
        'update_own = ["partner"]',
        'read = ["scrutineer"]',
        "",
    ]
    return "\n".join(lines)


def _between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


SOURCE = "Local child safeguarding practice review"

_ORDER = {
    plans.REC_ADD: 0,
    plans.ACTION_ADD: 1,
    plans.ACTION_UPDATE: 2,
    plans.ACTION_EXTEND: 3,
    plans.ACTION_COMPLETE: 4,
}


def plan_steps(number: int, last: dt.date, today: dt.date) -> list[actions.PlanStep]:
    """Case `number`'s action plan after its last workflow step (on `last`), up to
    `today`: 2-5 recommendations and about 10 actions made on one day, due 1-14 months
    later; some updated, some extended with a reason, most of those due before today
    completed (on time or late), a few closed without completion, a few done early."""
    rng = _plan_rng(number)
    rng.randint(*_PLAN_ROOM)  # the draw `case_script` made
    made = min(today, last + dt.timedelta(days=rng.randint(0, 14)))
    agencies = list(PARTNERS)
    found: list[tuple[dt.date, int, actions.PlanStep]] = []

    def add(day: dt.date, trigger: str, **fields: object) -> None:
        found.append((day, _ORDER[trigger], actions.PlanStep(trigger, fields, day)))

    recs: list[list[str]] = []
    for rec in range(1, rng.randint(2, 5) + 1):
        addressed = sorted(rng.sample(agencies, rng.randint(1, 3)))
        recs.append(addressed)
        scope = plans.MULTI if len(addressed) > 1 else plans.SINGLE
        add(made, plans.REC_ADD, number=str(rec), text=rng.choice(UPDATES), source=SOURCE,
            section=f"Part {rec}", agencies=addressed, scope=scope)  # fmt: skip
    for index in range(rng.randint(*ACTIONS_PER_CASE)):
        rec = index % len(recs) + 1
        action = f"{rec}.{index // len(recs) + 1}"
        agency = rng.choice(recs[rec - 1])
        due = made + dt.timedelta(days=rng.randint(30, 420))
        add(made, plans.ACTION_ADD, action=action, rec=str(rec), text=rng.choice(NOTES),
            agency=agency, owner=f"Head of service ({AGENCY_LABEL[agency]})",
            due_on=due.isoformat())  # fmt: skip
        day = made
        if rng.random() < 0.6:
            day = _between(rng, day, min(today, due))
            add(day, plans.ACTION_UPDATE, action=action, status=plans.IN_PROGRESS,
                note=rng.choice(UPDATES))  # fmt: skip
        if rng.random() < 0.15:
            day = _between(rng, day, min(today, due))
            due += dt.timedelta(days=rng.randint(30, 120))
            add(day, plans.ACTION_EXTEND, action=action, due_on=due.isoformat(),
                reason="Delayed by a restructure.", agreed_by="Partnership chair")  # fmt: skip
        chance = 0.8 if due < today else 0.2
        if rng.random() < chance:
            day = _between(rng, day, today)
            if rng.random() < 0.06:
                add(day, plans.ACTION_COMPLETE, action=action, status=plans.CLOSED_WITHOUT,
                    reason="Superseded by a national programme.")  # fmt: skip
            elif rng.random() < 0.5:
                add(day, plans.ACTION_COMPLETE, action=action, status=plans.EVIDENCED,
                    evidence=[f"dms:{number}-{action}"])  # fmt: skip
            else:
                add(day, plans.ACTION_COMPLETE, action=action, status=plans.COMPLETED)
    found.sort(key=lambda item: (item[0], item[1]))
    return [step for _, _, step in found]


def add_people(ctx: ServiceContext) -> None:
    """The generating account (admin, business unit, chair), chairs and partners, added
    through the ordinary user services; then the workflow the cases with an action plan
    follow (`PLAN_WORKFLOW`), installed by that admin, so every script can be applied."""
    users.init(ctx, "Benchmark administrator")
    for role in ("business_unit", "chair"):
        users.grant_role(ctx, ctx.account, role, None)
    for name in CHAIRS:
        users.add_user(ctx, name, f"Chair {name[-1]}", ["chair"], None)
    for agency, names in PARTNERS.items():
        for name in names:
            users.add_user(
                ctx, name, f"{AGENCY_LABEL[agency]} partner {name[-1]}", ["partner"], agency
            )
    with tempfile.TemporaryDirectory() as folder:
        workflow_file = Path(folder) / f"{PLAN_WORKFLOW}.toml"
        workflow_file.write_text(plan_workflow_text(), encoding="utf-8")
        workflow_service.install(ctx, str(workflow_file))


@dataclass(frozen=True)
class Generated:
    path: Path
    cases: int
    events: int
    seconds: float
    seed: int
    today: dt.date
    plan_cases: int = 0  # cases given an action plan
    v2_cases: int = 0  # cases opened on version 2 of the England workflow
    v2_linked: int = 0  # of them, cases in a sibling review's linked group
    plan_events: int = 0  # their plan steps (not in `events`: recorded after the bulk write)
    plan_seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def build(
    path: Path,
    cases: int,
    *,
    seed: int = 20260101,
    today: dt.date | None = None,
    account: str | None = None,
    clock: Clock | None = None,
    batch_size: int = bulk.DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    v2_share: float = V2_SHARE,
) -> Generated:
    """Create a fresh database at `path` with `cases` generated cases.

    The time measured covers the bulk write only (scripts are generated lazily inside
    it, so their construction is included); creating the database and its users is not.
    """
    from casereview.infra.identity import os_account

    if path.exists():
        raise FileExistsError(f"{path} exists; remove it first")
    path.parent.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    today = today or clock.today()
    # Its own signing key, beside the database: the generator never enrols the user's.
    ctx = ServiceContext(
        url=f"sqlite:///{path}",
        account=account or os_account(),
        clock=clock,
        key_dir=key_dir(path),
    )
    try:
        add_people(ctx)
        planned: list[tuple[int, str, dt.date]] = []
        tally: dict[str, int] = {}
        scripts = make_scripts(
            cases,
            seed=seed,
            today=today,
            cal=ctx.calendar,
            planned=planned,
            v2_share=v2_share,
            tally=tally,
        )
        t0 = time.perf_counter()
        result = bulk.apply_scripts(ctx, scripts, batch_size=batch_size, progress=progress)
        seconds = time.perf_counter() - t0
        # The action plans, through the plan steps' own service (as `rec add`,
        # `action add|update|extend|complete` record them): not part of the bulk figure.
        t1 = time.perf_counter()
        steps = ((ref, plan_steps(number, last, today)) for number, ref, last in planned)
        plan_events = actions.record_many(ctx, steps, progress=progress)
        plan_seconds = time.perf_counter() - t1
    finally:
        ctx.close()
    return Generated(
        path,
        result.cases,
        result.events,
        seconds,
        seed,
        today,
        plan_cases=len(planned),
        plan_events=plan_events,
        plan_seconds=plan_seconds,
        v2_cases=tally.get("v2", 0),
        v2_linked=tally.get("v2_linked", 0),
    )


def key_dir(path: Path) -> Path:
    """Where the generator keeps the signing key of the database at `path`."""
    return path.with_name(f"{path.name}.keys")


def parse_scale(text: str) -> int:
    """`1k` -> 1000, `100k` -> 100000, `30` -> 30."""
    text = text.strip().lower()
    if text.endswith("k"):
        return int(float(text[:-1]) * 1000)
    if text.endswith("m"):
        return int(float(text[:-1]) * 1_000_000)
    return int(text)


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"a share is a number from 0 to 1, not {text!r}")
    return share


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description="Generate a casereview database."
    )
    parser.add_argument("--cases", default="1k", help="number of cases (e.g. 30, 1k, 100k)")
    parser.add_argument("--out", type=Path, required=True, help="database file to create")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--today", type=dt.date.fromisoformat, help="default: today (London)")
    parser.add_argument("--batch", type=int, default=bulk.DEFAULT_BATCH, help="cases per batch")
    parser.add_argument(
        "--v2-share",
        type=_share,
        default=V2_SHARE,
        help="share of the cases opened on version 2 of the England workflow (0-1; default "
        "a third); the rest are the version 1 cases the seed gave before",
    )
    parser.add_argument("--stats", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    done = [0]

    def progress(events: int) -> None:
        done[0] += events
        print(f"\r{done[0]:,} events", end="", file=sys.stderr, flush=True)

    generated = build(
        args.out,
        parse_scale(args.cases),
        seed=args.seed,
        today=args.today,
        batch_size=args.batch,
        progress=None if args.quiet else progress,
        v2_share=args.v2_share,
    )
    if not args.quiet:
        print(file=sys.stderr)
    if args.stats is not None:
        args.stats.write_text(
            json.dumps(
                {
                    "cases": generated.cases,
                    "events": generated.events,
                    "seconds": generated.seconds,
                    "events_per_second": generated.events_per_second,
                    "seed": generated.seed,
                    "today": generated.today.isoformat(),
                    "batch": args.batch,
                    "plan_cases": generated.plan_cases,
                    "plan_events": generated.plan_events,
                    "plan_seconds": generated.plan_seconds,
                    "v2_share": args.v2_share,
                    "v2_cases": generated.v2_cases,
                    "v2_linked": generated.v2_linked,
                },
                indent=2,
            )
        )
    print(
        f"{generated.cases:,} cases, {generated.events:,} events in {generated.seconds:.1f} s "
        f"({generated.events_per_second:,.0f} events/s); action plans on "
        f"{generated.plan_cases:,} cases, {generated.plan_events:,} plan events in "
        f"{generated.plan_seconds:.1f} s; {generated.v2_cases:,} cases on England version 2 "
        f"({generated.v2_linked:,} in linked groups) -> {generated.path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

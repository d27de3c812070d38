"""The report's figures, added up one case at a time in bounded memory.

`Tally.add` keeps one case's detail rows and timeline entry (from `case_facts`) packed and
counts each figure as it goes; `Tally.report` returns a `Report` whose figures and
timeline unpack their cases, in (opened on, reference) order, only when a writer iterates
them. The figures, their labels and "of which" filters are defined here (`FIGURES`, over
`case_facts.BASES`; definitions in docs/report.md). A figure is "not applicable" when no
workflow of the cases read (`Tally.measures`) gives what its base list needs.
"""

from __future__ import annotations

import datetime as dt
import marshal
import statistics
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, overload

from casereview.domain.reporting.case_facts import BASE_INDEX, BASES, DECISIONS, Cells, ReportPlan
from casereview.domain.reporting.figures import (
    CaseRow,
    Cell,
    Figure,
    Lane,
    Number,
    Period,
    QuarterCount,
    Report,
    TimelineCase,
    months,
    quarters,
)

Keep = tuple[str, Callable[[Cell], bool]]
"""An "of which" filter: a detail column and the test its value must pass."""


def _is_true(value: Cell) -> bool:
    return value is True


def _is_false(value: Cell) -> bool:
    return value is False


def _positive(value: Cell) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _equals(wanted: Cell) -> Callable[[Cell], bool]:
    return lambda value: value == wanted


def _given(value: Cell) -> bool:
    return value is not None


@dataclass(frozen=True)
class FigureSpec:
    """One figure: the base list it is drawn from and the filters that narrow it.

    `measure` names a figure whose value is not the number of its cases (a median, a
    maximum, a total); `Tally.report` computes it.
    """

    id: str
    label: str
    base: str
    keep: tuple[Keep, ...] = ()
    unit: str = "cases"
    part_of: str | None = None
    measure: str | None = None

    def tests(self, extra: tuple[Keep, ...] = ()) -> tuple[tuple[int, Callable[[Cell], bool]], ...]:
        """The filters as (position in the row, test)."""
        columns = BASES[BASE_INDEX[self.base]].columns
        return tuple((columns.index(column), test) for column, test in self.keep + extra)


_LATE: tuple[Keep, ...] = (("on_time", _is_false),)

FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("caseload.opened", "Cases opened (incidents referred)", "opened"),
    FigureSpec("caseload.closed", "Cases closed", "closed"),
    FigureSpec("caseload.open_at_end", "Cases open at period end", "open_at_end"),
    FigureSpec("notifications.made", "Notifications made to the Panel", "notified"),
    FigureSpec(
        "notifications.on_time",
        "Notified within 5 working days of awareness",
        "notified",
        (("on_time", _is_true),),
        part_of="notifications.made",
    ),
    FigureSpec(
        "notifications.late", "Notified late", "notified", _LATE, part_of="notifications.made"
    ),
    FigureSpec(
        "notifications.pending_at_end", "Awaiting a notification decision at period end", "pending"
    ),
    FigureSpec(
        "notifications.overdue_at_end",
        "… of which past the 5-working-day deadline",
        "pending",
        (("working_days_overdue", _positive),),
        part_of="notifications.pending_at_end",
    ),
    FigureSpec(
        "notifications.only",
        "Notified only, without a rapid review (a looked-after child's or care leaver's death)",
        "notified_only",
    ),
    FigureSpec(
        "notifications.only_on_time",
        "… notified within 5 working days of awareness",
        "notified_only",
        (("on_time", _is_true),),
        part_of="notifications.only",
    ),
    FigureSpec(
        "notifications.only_escalated",
        "… later escalated to a rapid review",
        "notified_only",
        (("escalated_on", _given),),
        part_of="notifications.only",
    ),
    FigureSpec(
        "rapid_reviews.completed", "Rapid reviews completed (sent to the Panel)", "rr_completed"
    ),
    FigureSpec(
        "rapid_reviews.on_time",
        "Sent within 15 working days",
        "rr_completed",
        (("on_time", _is_true),),
        part_of="rapid_reviews.completed",
    ),
    FigureSpec(
        "rapid_reviews.late", "Sent late", "rr_completed", _LATE, part_of="rapid_reviews.completed"
    ),
    FigureSpec(
        "rapid_reviews.median_days_late",
        "Median lateness of those sent late",
        "rr_completed",
        _LATE,
        unit="working days",
        measure="median_days_late",
    ),
    FigureSpec(
        "rapid_reviews.worst_days_late",
        "Longest lateness",
        "rr_completed",
        _LATE,
        unit="working days",
        measure="worst_days_late",
    ),
    FigureSpec("rapid_reviews.open_at_end", "Rapid reviews under way at period end", "rr_open"),
    FigureSpec(
        "rapid_reviews.overdue_at_end",
        "… of which past the 15-working-day expectation",
        "rr_open",
        (("working_days_overdue", _positive),),
        part_of="rapid_reviews.open_at_end",
    ),
    *(FigureSpec(f"decisions.{name}", label, f"decision:{name}") for name, label in DECISIONS),
    FigureSpec("panel.responses", "Panel outcomes recorded", "responses"),
    FigureSpec(
        "panel.agreed_first_response",
        "Panel agreed at its first response",
        "responses",
        (("category", _equals("agreed")),),
        part_of="panel.responses",
    ),
    FigureSpec(
        "panel.after_query",
        "Settled after a Panel query",
        "responses",
        (("category", _equals("after_query")),),
        part_of="panel.responses",
    ),
    FigureSpec(
        "panel.panel_decided",
        "Panel took a different view without a query",
        "responses",
        (("category", _equals("panel_decided")),),
        part_of="panel.responses",
    ),
    FigureSpec("panel.queries", "Panel queries received", "queries", unit="queries"),
    FigureSpec(
        "panel.disputed",
        "Responses disputing the partners' decision (disagreed, or asked for an LCSPR)",
        "disputed",
    ),
    FigureSpec(
        "panel.maintained",
        "Decisions the partners maintained after a disputed response (a new sign-off round)",
        "maintained",
    ),
    FigureSpec(
        "panel.maintained_signed",
        "… of which signed off by every partner by period end",
        "maintained",
        (("signed_off_on", _given),),
        part_of="panel.maintained",
    ),
    FigureSpec(
        "panel.reconsidered",
        "Decisions the partners reconsidered after a disputed response",
        "reconsidered",
    ),
    FigureSpec("local_reviews.commissioned", "Local reviews commissioned", "commissioned"),
    FigureSpec(
        "local_reviews.in_progress_at_end", "Local reviews in progress at period end", "in_progress"
    ),
    FigureSpec(
        "local_reviews.on_hold_at_end",
        "… of which publication on hold",
        "on_hold",
        part_of="local_reviews.in_progress_at_end",
    ),
    FigureSpec(
        "local_reviews.overdue_at_end",
        "… of which past the 6-month expectation (hold-adjusted)",
        "in_progress",
        (("days_overdue", _positive),),
        part_of="local_reviews.in_progress_at_end",
    ),
    FigureSpec(
        "local_reviews.elapsed_at_end",
        "… of which more than 6 months since commissioning (elapsed, time on hold included)",
        "in_progress",
        (("past_elapsed", _is_true),),
        part_of="local_reviews.in_progress_at_end",
    ),
    FigureSpec(
        "local_reviews.held_in_period", "Local reviews on hold during the period", "held_cases"
    ),
    FigureSpec(
        "local_reviews.hold_days",
        "Total time on hold in the period",
        "hold_spells",
        unit="days",
        measure="hold_days",
    ),
    FigureSpec("local_reviews.published", "Local reviews published", "published"),
    FigureSpec(
        "local_reviews.published_within_expectation",
        "Published within 6 months of commissioning (hold-adjusted)",
        "published",
        (("within_expectation", _is_true),),
        part_of="local_reviews.published",
    ),
    FigureSpec(
        "local_reviews.published_within_elapsed",
        "Published within 6 months of commissioning (elapsed, not hold-adjusted)",
        "published",
        (("within_elapsed", _is_true),),
        part_of="local_reviews.published",
    ),
    FigureSpec(
        "local_reviews.median_months_elapsed",
        "Median time from commissioning to publication",
        "published",
        unit="months",
        measure="median_elapsed",
    ),
    FigureSpec(
        "local_reviews.median_months_adjusted",
        "… less time on hold",
        "published",
        unit="months",
        measure="median_adjusted",
    ),
    FigureSpec(
        "local_reviews.revised_target",
        "Local reviews with a revised publication target (published, or in progress at end)",
        "revised",
    ),
    FigureSpec(
        "local_reviews.published_within_revised_target",
        "… published by the revised target",
        "revised",
        (("within_revised_target", _is_true),),
        part_of="local_reviews.revised_target",
    ),
    FigureSpec(
        "local_reviews.past_revised_target",
        "… published after it, or still in progress after it",
        "revised",
        (("within_revised_target", _is_false),),
        part_of="local_reviews.revised_target",
    ),
    FigureSpec("publication.decided", "Publication decisions taken", "pub_decided"),
    *(
        FigureSpec(
            f"publication.{group}",
            label,
            "pub_decided",
            (("group", _equals(group)),),
            part_of="publication.decided",
        )
        for group, label in (
            ("full", "… publish the full report"),
            ("redacted", "… publish a redacted report"),
            ("improvements_only", "… publish information on improvements only"),
            ("not_published", "… not published"),
        )
    ),
    FigureSpec(
        "publication.not_published_with_reasons",
        "… of which not published, with reasons recorded",
        "pub_decided",
        (("group", _equals("not_published")), ("reasons_given", _is_true)),
        part_of="publication.not_published",
    ),
    FigureSpec(
        "publication.despite_short_notice",
        "Published despite a failed advance-copy check (the chair's override)",
        "breaches",
        part_of="local_reviews.published",
    ),
    FigureSpec("national_reviews.commissioned", "National reviews commissioned", "national"),
    FigureSpec(
        "national_reviews.by_panel",
        "… by the Panel",
        "national",
        (("commissioned_by", _equals("panel")),),
        part_of="national_reviews.commissioned",
    ),
    FigureSpec(
        "national_reviews.by_secretary_of_state",
        "… by the Secretary of State",
        "national",
        (("commissioned_by", _equals("secretary_of_state")),),
        part_of="national_reviews.commissioned",
    ),
    *(
        FigureSpec(
            f"national_reviews.local_{outcome}",
            label,
            "national",
            (("local_review", _equals(outcome)),),
            part_of="national_reviews.commissioned",
        )
        for outcome, label in (
            ("continued", "… the local review continued alongside"),
            ("superseded", "… the local review superseded by it"),
            ("merged", "… the local review merged into it"),
            ("not_started", "… no local review had started"),
        )
    ),
    FigureSpec(
        "national_reviews.reported", "National review reports published", "national_reported"
    ),
    FigureSpec("local_learning.started", "Local reviews started", "ll_started"),
    FigureSpec("local_learning.completed", "Local reviews completed", "ll_completed"),
    FigureSpec(
        "local_learning.completed_on_time",
        "… completed by the local review's due date",
        "ll_completed",
        (("on_time", _is_true),),
        part_of="local_learning.completed",
    ),
    FigureSpec("local_learning.open_at_end", "Local reviews under way at period end", "ll_open"),
    FigureSpec(
        "local_learning.overdue_at_end",
        "… of which past the due date",
        "ll_open",
        (("working_days_overdue", _positive),),
        part_of="local_learning.open_at_end",
    ),
    FigureSpec("action_plans.approved", "Action plans approved", "plan_approved"),
    FigureSpec("action_plans.closed", "Action plans closed (actions complete)", "plan_closed"),
    FigureSpec(
        "action_plans.open_at_end", "Action plans being monitored at period end", "plan_open"
    ),
    FigureSpec(
        "corrections.recorded",
        "Corrections, undos and voids recorded in the period or since",
        "amended",
        unit="changes",
    ),
    FigureSpec(
        "corrections.corrections",
        "… corrections of what was recorded",
        "amended",
        (("change", _equals("correction")),),
        unit="changes",
        part_of="corrections.recorded",
    ),
    FigureSpec(
        "corrections.undos",
        "… undos of a step",
        "amended",
        (("change", _equals("undo")),),
        unit="changes",
        part_of="corrections.recorded",
    ),
    FigureSpec(
        "corrections.voids",
        "… cases voided as opened in error",
        "amended",
        (("change", _equals("void")),),
        unit="changes",
        part_of="corrections.recorded",
    ),
)

# Columns whose values the measured figures need, by base list: collected as cases are
# added so no second pass over the packed rows is needed.
_MEASURED = {
    "rr_completed": ("on_time", "working_days_late", "quarter"),
    "hold_spells": ("days_in_period",),
    "published": ("elapsed_days", "adjusted_days"),
}


def median(values: Sequence[int]) -> int | float | None:
    """The median (mean of the middle two for an even count), as an int when whole."""
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if float(middle).is_integer() else float(middle)


def _day(ordinal: int | None) -> dt.date | None:
    return None if ordinal is None else dt.date.fromordinal(ordinal)


def _ordinal(day: dt.date | None) -> int | None:
    return None if day is None else day.toordinal()


@dataclass(frozen=True, slots=True)
class Packed:
    """A case's rows (`marshal` of (ref, pseudonym, rows)) and timeline entry, packed."""

    rows: bytes | None
    line: bytes | None


class Tally:
    """Cases added one at a time; `report` turns them into the figures."""

    def __init__(self, period: Period, *, sharing: Tally | None = None) -> None:
        """`sharing`: another tally of the same cases (the whole report, for a review
        type's section) whose packed rows and timeline entries this one may keep too, so
        a case both keep is held once (`pack`)."""
        self.period = period
        self.quarters = quarters(period)
        self._keys: list[str] = []  # sort key per stored case, dropped by `report`
        # Rows and timeline entries are kept as marshal bytes, far smaller than the Python
        # objects, and unpacked only when a writer iterates the figures behind them: so
        # memory grows with the rows behind the figures, not with the log.
        self._rows: list[bytes | None] = []  # marshal((ref, pseudonym, ((base, cells), …)))
        self._lines: list[bytes | None] = []  # marshal(packed timeline entry)
        self._by_base = [array("I") for _ in BASES]  # stored cases with rows in each base
        self._counts = dict.fromkeys((f.id for f in FIGURES), 0)
        # Per base list, the figures counted by their filters (measured ones are not).
        self._counted: list[list[tuple[str, tuple[tuple[int, Callable[[Cell], bool]], ...]]]] = [
            [(f.id, f.tests()) for f in FIGURES if f.base == base.name and f.measure is None]
            for base in BASES
        ]
        self._late_days: list[int] = []
        self._elapsed: list[int] = []
        self._adjusted: list[int] = []
        self._hold_days = 0
        self._spells = 0
        self._quarter_counts = {q.label: [0, 0] for q in self.quarters}
        # (clock id, label, kind) of each lane number in the packed timeline entries: one
        # table for tallies that share their packed entries.
        self._lane_kinds: list[tuple[str, str, str]] = (
            sharing._lane_kinds if sharing is not None else []
        )
        self._lane_index: dict[tuple[str, str, str], int] = (
            sharing._lane_index if sharing is not None else {}
        )
        self._plans = 0  # workflows whose cases were read
        self._measured: set[int] = set()  # base lists one of them measures

    @property
    def kept(self) -> int:
        """Cases kept so far (with a row in a figure or a timeline entry)."""
        return len(self._keys)

    def measures(self, plan: ReportPlan) -> None:
        """Note the workflow of a case read: the base lists it measures are applicable."""
        self._plans += 1
        self._measured |= plan.bases

    def _applicable(self, base: int) -> bool:
        # With no case read there is no workflow to ask: every figure is a plain 0.
        return not self._plans or base in self._measured

    def pack(
        self, ref: str, pseudonym: str, rows: Sequence[tuple[int, Cells]], line: TimelineCase | None
    ) -> Packed:
        """One case's rows and timeline entry as this tally keeps them, for `add` here
        and in the tallies made `sharing` this one."""
        return Packed(
            marshal.dumps((ref, pseudonym, tuple(rows))) if rows else None,
            None if line is None else marshal.dumps(self._pack(line)),
        )

    def add(
        self,
        ref: str,
        pseudonym: str,
        opened_on: dt.date,
        rows: Sequence[tuple[int, Cells]],
        line: TimelineCase | None,
        packed: Packed | None = None,
    ) -> None:
        """Keep one case's rows and timeline entry (a case with neither is not kept);
        `packed`: them already packed by this tally or the one it shares with."""
        if not rows and line is None:
            return
        if packed is None:
            packed = self.pack(ref, pseudonym, rows, line)
        index = len(self._keys)
        # A fixed-width day number then the reference sorts as (opened_on, ref) does.
        self._keys.append(f"{opened_on.toordinal():07d}{ref}")
        self._rows.append(packed.rows)
        self._lines.append(packed.line)
        seen: set[int] = set()
        for base, cells in rows:
            if base not in seen:
                seen.add(base)
                self._by_base[base].append(index)
            self._count(base, cells)

    def _count(self, base: int, cells: Cells) -> None:
        for figure_id, tests in self._counted[base]:
            if all(test(cells[position]) for position, test in tests):
                self._counts[figure_id] += 1
        name, columns, _ = BASES[base]
        if name not in _MEASURED:
            return
        value = dict(zip(columns, cells, strict=True))
        if name == "rr_completed":
            if value["on_time"] is False:
                self._late_days.append(int(str(value["working_days_late"])))
            counts = self._quarter_counts.get(str(value["quarter"]))
            if counts is not None and value["on_time"] is True:
                counts[0] += 1
            elif counts is not None and value["on_time"] is False:
                counts[1] += 1
        elif name == "hold_spells":
            self._hold_days += int(str(value["days_in_period"]))
            self._spells += 1
        else:
            self._elapsed.append(int(str(value["elapsed_days"])))
            self._adjusted.append(int(str(value["adjusted_days"])))

    def _pack(self, line: TimelineCase) -> tuple[Any, ...]:
        lanes = []
        for lane in line.lanes:
            kind = (lane.clock_id, lane.label, lane.kind)
            if kind not in self._lane_index:
                self._lane_index[kind] = len(self._lane_kinds)
                self._lane_kinds.append(kind)
            lanes.append(
                (
                    self._lane_index[kind],
                    lane.started_on.toordinal(),
                    _ordinal(lane.due_on),
                    _ordinal(lane.stopped_on),
                    lane.status,
                    tuple((a.toordinal(), _ordinal(b)) for a, b in lane.pauses),
                )
            )
        return (
            line.ref,
            line.pseudonym,
            line.opened_on.toordinal(),
            _ordinal(line.closed_on),
            line.state_at_end,
            tuple(lanes),
        )

    def _unpack(self, blob: bytes) -> TimelineCase:
        # Bytes this object packed itself, in this process: nothing from outside.
        ref, pseudonym, opened, closed, state, lanes = marshal.loads(blob)  # noqa: S302
        return TimelineCase(
            ref=ref,
            pseudonym=pseudonym,
            opened_on=dt.date.fromordinal(opened),
            closed_on=_day(closed),
            state_at_end=state,
            lanes=tuple(
                Lane(
                    clock_id=self._lane_kinds[kind][0],
                    label=self._lane_kinds[kind][1],
                    kind=self._lane_kinds[kind][2],
                    started_on=dt.date.fromordinal(started),
                    due_on=_day(due),
                    stopped_on=_day(stopped),
                    status=status,
                    pauses=tuple((dt.date.fromordinal(a), _day(b)) for a, b in pauses),
                )
                for kind, started, due, stopped, status, pauses in lanes
            ),
        )

    def case_rows(self, spec: FigureSpec, extra: tuple[Keep, ...] = ()) -> Iterator[CaseRow]:
        """The rows behind `spec`, unpacked one case at a time, in case order."""
        base = BASE_INDEX[spec.base]
        tests = spec.tests(extra)
        for index in self._by_base[base]:
            blob = self._rows[index]
            assert blob is not None  # indexed only when the case has rows
            ref, pseudonym, rows = marshal.loads(blob)  # noqa: S302 (packed by `add`)
            for row_base, cells in rows:
                if row_base == base and all(test(cells[at]) for at, test in tests):
                    yield CaseRow(ref, pseudonym, cells)

    def timeline(self) -> Iterator[TimelineCase]:
        for blob in self._lines:
            if blob is not None:
                yield self._unpack(blob)

    def report(self, generated_on: dt.date) -> Report:
        """The figures, with the cases behind each one in (opened on, reference) order."""
        order = sorted(range(len(self._keys)), key=self._keys.__getitem__)
        self._keys = []
        self._rows = [self._rows[i] for i in order]
        self._lines = [self._lines[i] for i in order]
        rank = array("I", bytes(4 * len(order)))
        for position, index in enumerate(order):
            rank[index] = position
        self._by_base = [array("I", sorted(rank[i] for i in cases)) for cases in self._by_base]
        worst = max(self._late_days, default=None)
        values: dict[str, Number] = {
            "median_days_late": median(self._late_days),
            "worst_days_late": worst,
            "hold_days": self._hold_days,
            "median_elapsed": _months(median(self._elapsed)),
            "median_adjusted": _months(median(self._adjusted)),
        }
        figures = []
        for spec in FIGURES:
            extra: tuple[Keep, ...] = ()
            if spec.measure == "worst_days_late":
                extra = (("working_days_late", _equals(worst)),)
            count = self._counts[spec.id]
            if spec.measure is not None:
                count = self._measured_count(spec.measure, worst)
            applicable = self._applicable(BASE_INDEX[spec.base])
            value = count if spec.measure is None else values[spec.measure]
            figures.append(
                Figure(
                    id=spec.id,
                    label=spec.label,
                    value=value if applicable else None,
                    unit=spec.unit,
                    part_of=spec.part_of,
                    columns=BASES[BASE_INDEX[spec.base]].columns,
                    cases=_Lazy(partial(self.case_rows, spec, extra), count),
                    applicable=applicable,
                )
            )
        timeline_count = sum(1 for blob in self._lines if blob is not None)
        quarters_applicable = self._applicable(BASE_INDEX["rr_completed"])
        return Report(
            period=self.period,
            generated_on=generated_on,
            figures=tuple(figures),
            by_quarter=tuple(
                QuarterCount(
                    q,
                    on_time=self._quarter_counts[q.label][0],
                    late=self._quarter_counts[q.label][1],
                    applicable=quarters_applicable,
                )
                for q in self.quarters
            ),
            timeline=_Lazy(self.timeline, timeline_count),
        )

    def _measured_count(self, measure: str, worst: int | None) -> int:
        """How many rows a measured figure lists: the late reviews (median), those as
        late as the latest (worst), every hold spell, or every published review."""
        if measure == "median_days_late":
            return len(self._late_days)
        if measure == "worst_days_late":
            return self._late_days.count(worst) if worst is not None else 0
        if measure == "hold_days":
            return self._spells
        return len(self._elapsed)


def _months(days: int | float | None) -> float | None:
    return None if days is None else months(days)


T = TypeVar("T")


class _Lazy(Sequence[T]):
    """A sequence unpacked from the tally each time it is iterated: a known length,
    equality with any sequence of the same items, and indexing by walking it (writers
    read detail in order, so indexing is for tests and the odd look-up)."""

    def __init__(self, items: Callable[[], Iterator[T]], length: int) -> None:
        self._items, self._length = items, length

    def __iter__(self) -> Iterator[T]:
        return self._items()

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == self._length and list(other) == list(self)

    __hash__ = None  # type: ignore[assignment]

"""The report model: a reporting period, the figures in it, and the cases behind each one.

Pure data and date arithmetic; nothing here reads the database or the time. Periods are
inclusive date ranges; the default is an English financial year, 1 April to 31 March,
named like "2025-26". A figure no workflow of the cases read can measure is "not
applicable" (`Figure.applicable`, written `n/a`), never 0. Figure ids
(`rapid_reviews.on_time`, …) and detail column names are a public contract shared by the
JSON and CSV writers and documented in docs/report.md: add figures and columns, never
rename or drop them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from casereview.domain import dates
from casereview.errors import Input, InvalidInput

Cell = str | int | float | bool | None
"""One value in a detail row: dates are ISO text, counts int, months float."""

Number = int | float | None
"""A figure's value; None when there is nothing to measure (a median of no cases)."""

DAYS_PER_MONTH = 365.2425 / 12
"""Average Gregorian month (30.436875 days): days are turned into months with this."""

SECTIONS: tuple[tuple[str, str], ...] = (
    ("caseload", "Caseload"),
    ("notifications", "Notifications to the Panel"),
    ("rapid_reviews", "Rapid reviews"),
    ("decisions", "Decisions"),
    ("panel", "The Panel's response"),
    ("local_reviews", "Local reviews (LCSPRs)"),
    ("publication", "Publication decisions"),
    ("national_reviews", "National reviews"),
    ("local_learning", "Local reviews of incidents not notified"),
    ("action_plans", "Action plans"),
    ("corrections", "Corrections after the fact"),
)

_YEAR = re.compile(r"(\d{4})[-/](\d{2}|\d{4})")
FIRST_YEAR, LAST_YEAR = dates.MIN_DATE.year, dates.MAX_DATE.year - 1  # a year ends the year after
if TYPE_CHECKING:
    from casereview.domain.reporting.actions import ActionFigures

YEAR, START, END = Input("year"), Input("from"), Input("to")
"""The period's inputs, as messages name them; each front end spells them its own way."""


@dataclass(frozen=True)
class Period:
    """An inclusive reporting period; `financial_year` is set when it is exactly one."""

    start: dt.date
    end: dt.date
    financial_year: str | None = None

    @property
    def label(self) -> str:
        if self.financial_year is not None:
            return self.financial_year
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    def contains(self, day: dt.date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def days_within(self, start: dt.date, end_exclusive: dt.date | None) -> int:
        """Calendar days of [start, end_exclusive) inside the period (open end: to period end)."""
        stop = min(end_exclusive or self.end_exclusive, self.end_exclusive)
        return max(0, (stop - max(start, self.start)).days)


def financial_year_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def financial_year(start_year: int) -> Period:
    """1 April `start_year` to 31 March the year after."""
    if not FIRST_YEAR <= start_year <= LAST_YEAR:
        raise InvalidInput(
            "{year} must start between {first} and {last}, got {got}",
            year=YEAR,
            first=FIRST_YEAR,
            last=LAST_YEAR,
            got=start_year,
        )
    return Period(
        dt.date(start_year, 4, 1),
        dt.date(start_year + 1, 3, 31),
        financial_year_label(start_year),
    )


def financial_year_of(day: dt.date) -> int:
    """The start year of the financial year holding `day` (Jan–Mar belong to the year before)."""
    return day.year if day.month >= 4 else day.year - 1


def parse_financial_year(text: str) -> int:
    """`2025-26` (or `2025/26`, `2025-2026`) -> 2025; anything else is a usage error."""
    cleaned = text.strip()
    match = _YEAR.fullmatch(cleaned)
    shown = repr(cleaned[:20])
    if match is None:
        raise InvalidInput(
            "{year} must be a financial year like 2025-26, got {shown}", year=YEAR, shown=shown
        )
    first, second = int(match.group(1)), int(match.group(2))
    following = first + 1
    if second != (following if len(match.group(2)) == 4 else following % 100):
        raise InvalidInput(
            "{year} {shown} is not a financial year: the second year must follow the first "
            "(e.g. {example})",
            year=YEAR,
            shown=shown,
            example=financial_year_label(first),
        )
    return first


def resolve_period(
    today: dt.date,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    year: int | None = None,
) -> Period:
    """The period asked for: a financial year, explicit dates, or the current financial year."""
    if year is not None and (start is not None or end is not None):
        raise InvalidInput(
            "{year} cannot be combined with {start} or {end}; give one or the other",
            year=YEAR,
            start=START,
            end=END,
        )
    if year is not None:
        period = financial_year(year)
        if period.start > today:
            raise InvalidInput(
                "{year} {label} starts on {start}, after today ({today}); "
                "nothing has happened in it yet",
                year=YEAR,
                label=period.label,
                start=period.start.isoformat(),
                today=today.isoformat(),
            )
        return period
    if start is None and end is None:
        return financial_year(financial_year_of(today))
    if start is None or end is None:
        raise InvalidInput(
            "give both {start} and {end} (missing {missing}), or {year}",
            start=START,
            end=END,
            missing=END if end is None else START,
            year=YEAR,
        )
    for option, day in ((START, start), (END, end)):
        dates.supported(day, option)
    if start > end:
        raise InvalidInput(
            "{start} {first} is after {end} {last}; the period must not run backwards",
            start=START,
            first=start.isoformat(),
            end=END,
            last=end.isoformat(),
        )
    if start > today:
        raise InvalidInput(
            f"the period starts on {start.isoformat()}, after today ({today.isoformat()}); "
            "nothing has happened in it yet"
        )
    fy = financial_year_of(start)
    if FIRST_YEAR <= fy <= LAST_YEAR and (start, end) == (
        dt.date(fy, 4, 1),
        dt.date(fy + 1, 3, 31),
    ):
        return financial_year(fy)
    return Period(start, end)


@dataclass(frozen=True)
class Quarter:
    """A financial-year quarter (Q1 = April–June), clipped to the reporting period."""

    label: str
    start: dt.date
    end: dt.date
    partial: bool


def quarters(period: Period) -> tuple[Quarter, ...]:
    """The financial quarters that overlap `period`, in order, clipped to it."""
    found: list[Quarter] = []
    cursor = _quarter_start(period.start)
    while cursor <= period.end:
        following = _add_quarter(cursor)
        q_end = following - dt.timedelta(days=1)
        fy = financial_year_of(cursor)
        number = (cursor.month - 4) % 12 // 3 + 1
        start, end = max(cursor, period.start), min(q_end, period.end)
        found.append(
            Quarter(
                label=f"{financial_year_label(fy)} Q{number}",
                start=start,
                end=end,
                partial=(start, end) != (cursor, q_end),
            )
        )
        cursor = following
    return tuple(found)


def _quarter_start(day: dt.date) -> dt.date:
    month = (day.month - 1) // 3 * 3 + 1
    return dt.date(day.year, month, 1)


def _add_quarter(day: dt.date) -> dt.date:
    month = day.month + 3
    return dt.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def months(days: int | float) -> float:
    """Days as months of average length, to one decimal place."""
    return round(days / DAYS_PER_MONTH, 1)


@dataclass(frozen=True)
class CaseRow:
    """One case behind a figure: its reference, pseudonym and the dates that put it there."""

    ref: str
    pseudonym: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Figure:
    """A number in the report. `part_of` names the figure it is a subset of ("x of y")."""

    id: str
    label: str
    value: Number
    unit: str
    part_of: str | None = None
    columns: tuple[str, ...] = ()
    cases: Sequence[CaseRow] = ()
    """Any sequence: the report service gives one that is unpacked as it is iterated."""
    applicable: bool = True
    """False when no workflow of the cases read has the step this figure counts (its
    report table leaves it out): the value is None and is shown as `n/a`, never 0."""

    @property
    def section(self) -> str:
        return self.id.split(".", 1)[0]

    def records(self) -> Iterator[dict[str, Cell]]:
        """The detail rows as dicts: ref, pseudonym, then the figure's columns."""
        for row in self.cases:
            cells = dict(zip(self.columns, row.cells, strict=True))
            yield {"ref": row.ref, "pseudonym": row.pseudonym, **cells}


@dataclass(frozen=True)
class QuarterCount:
    quarter: Quarter
    on_time: int
    late: int
    applicable: bool = True
    """As `rapid_reviews.completed`: False when no workflow read has rapid reviews."""


@dataclass(frozen=True)
class Lane:
    """One clock of one case, as it stood at the end of the period."""

    clock_id: str
    label: str
    kind: str
    started_on: dt.date
    due_on: dt.date | None
    stopped_on: dt.date | None
    status: str
    pauses: tuple[tuple[dt.date, dt.date | None], ...] = ()


@dataclass(frozen=True)
class TimelineCase:
    ref: str
    pseudonym: str
    opened_on: dt.date
    closed_on: dt.date | None
    state_at_end: str
    lanes: tuple[Lane, ...]


@dataclass(frozen=True)
class FigureGroup:
    """One heading of a review type's section: a report section's figures (`SECTIONS`)
    for that type's cases alone, under the heading its workflow gives it."""

    id: str  # the report section's id ("local_reviews")
    title: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class LinkedReview:
    """A case of this review type linked to a case of another type (a DHR of a
    17-year-old's death and the LCSPR for it): each is counted in its own type's section."""

    ref: str
    pseudonym: str
    relation: str
    other: str  # the other case's reference
    other_type: str  # its review type's short label
    recorded_here: bool  # the link was recorded on this case (else on the other)


@dataclass(frozen=True)
class ReviewType:
    """One review type's own figures section: the figures of the cases on one workflow
    (by id, every version), assembled by `domain.reporting.sections`."""

    workflow: str  # the workflow id
    label: str  # its short label ("SAR"), from the workflow file
    title: str  # its title, from the workflow file
    groups: tuple[FigureGroup, ...]
    linked: tuple[LinkedReview, ...] = ()

    def figure(self, figure_id: str) -> Figure:
        return next(f for g in self.groups for f in g.figures if f.id == figure_id)


@dataclass(frozen=True)
class Report:
    period: Period
    generated_on: dt.date
    figures: tuple[Figure, ...]
    by_quarter: tuple[QuarterCount, ...]
    timeline: Sequence[TimelineCase]
    """Every case open in the period; like `Figure.cases`, possibly unpacked as iterated."""
    partnership: str | None = None
    """The partnership's name, as an admin recorded it: every format's header shows it."""
    state_labels: Mapping[str, str] = field(default_factory=dict)
    """State id -> the label people read, from the workflows of the cases read (the
    first workflow to name an id gives its label): the HTML page shows labels."""
    actions: ActionFigures | None = None
    """Recommendations and actions (`domain.reporting.actions`); None when no workflow
    of the cases read declares an action plan."""
    review_types: tuple[ReviewType, ...] = ()
    """Each review type present in the period (a workflow id with a case in a figure or
    the timeline), with its own figures, by short label. Every format shows them when
    there are two or more; JSON always lists them."""
    _index: dict[str, Figure] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({f.id: f for f in self.figures})

    @property
    def complete(self) -> bool:
        """False while the period has not ended yet: its figures are to date."""
        return self.period.end < self.generated_on

    @property
    def as_at(self) -> dt.date:
        """The day "at period end" figures describe: the period's end, or today if sooner."""
        return min(self.period.end, self.generated_on)

    def figure(self, figure_id: str) -> Figure:
        return self._index[figure_id]

    def section(self, section_id: str) -> Sequence[Figure]:
        return [f for f in self.figures if f.section == section_id]

    @property
    def mixed(self) -> bool:
        """More than one review type is present: each gets its own section."""
        return len(self.review_types) > 1


def share(report: Report, figure: Figure) -> str | None:
    """ "3 of 4 (75%)" style context for a subset figure, or None."""
    if figure.part_of is None or not figure.applicable or not isinstance(figure.value, int):
        return None
    whole = report.figure(figure.part_of).value
    if not isinstance(whole, int) or whole == 0:
        return None
    return f"of {whole} ({round(100 * figure.value / whole)}%)"


_SINGULAR = {
    "working days": "working day",
    "days": "day",
    "months": "month",
    "queries": "query",
    "changes": "change",
}


NOT_APPLICABLE = "n/a"
"""How every text format shows a figure that is not applicable (JSON: null, with
`"applicable": false`)."""


def number_text(figure: Figure) -> str:
    """A figure's value without its unit: `n/a` when not applicable, else as `display`."""
    return display(figure.value) if figure.applicable else NOT_APPLICABLE


def value_text(figure: Figure) -> str:
    """A figure's value with its unit ("1 working day", "5.9 months"); counts of cases bare."""
    if not figure.applicable:
        return NOT_APPLICABLE
    text = display(figure.value)
    if figure.value is None or figure.unit == "cases":
        return text
    unit = _SINGULAR.get(figure.unit, figure.unit) if figure.value == 1 else figure.unit
    return f"{text} {unit}"


def display(value: Cell) -> str:
    """How a value is written in tables: — for nothing, yes/no for booleans."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)

"""`casereview workdays …`: the working-day calendar from the command line.

Each command parses its arguments, makes one call into the working-day calendar, and
hands the result to `casereview.cli.render.workdays`. The calendar (which imports the
`holidays` package) and rich are imported inside the commands, so `casereview --help`
does not pay for them. JSON keys are documented in docs/calendar.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from casereview.cli.params import parse_date
from casereview.errors import InvalidInput, OutOfRange

app = typer.Typer(
    no_args_is_help=True, help="Working days in England and Wales: add, count back, count, explain."
)

# Click reads "-5" as an unknown option and would answer "No such option: -5"; letting
# it through as an argument lets the count parser say what is actually wrong.
_ACCEPT_NEGATIVE: dict[str, Any] = {"ignore_unknown_options": True}

_WHOLE = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"-[0-9]+")
# Far more working days than the supported range holds; refused before int() is asked
# to parse thousands of digits.
_MAX_COUNT_DIGITS = 9

DateArg = Annotated[str, typer.Argument(metavar="DATE", help="Anchor date, YYYY-MM-DD.")]
CountArg = Annotated[
    str, typer.Argument(metavar="N", help="Number of working days (a whole number, 0 or more).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (keys in docs/calendar.md).")]
DayOneOpt = Annotated[
    bool,
    typer.Option(
        "--day-one",
        help="Count DATE itself as working day 1 when it is a working day "
        "(default: DATE is day 0).",
    ),
]


def parse_count(text: str) -> int:
    """Parse N: a whole number of working days, 0 or more."""
    cleaned = text.strip()
    shown = cleaned if len(cleaned) <= 20 else cleaned[:20] + "…"
    if _NEGATIVE.fullmatch(cleaned):
        raise InvalidInput(f"N must be 0 or more working days, got {shown}")
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidInput(f"N must be a whole number of working days, got {shown!r}")
    if len(cleaned.lstrip("0")) > _MAX_COUNT_DIGITS:
        raise OutOfRange(
            f"N={shown} working days is far beyond the dates casereview supports; "
            "give a count that ends before 2100"
        )
    return int(cleaned)


@app.command("add", context_settings=_ACCEPT_NEGATIVE)
def add(date: DateArg, n: CountArg, day_one: DayOneOpt = False, as_json: JsonOpt = False) -> None:
    """Print the date N working days after DATE (DATE is day 0)."""
    from casereview.cli.render import workdays as render
    from casereview.infra.bank_holidays import default_calendar

    anchor, days = parse_date(date, "DATE"), parse_count(n)
    # The explanation carries the result and its horizon warnings in one object; listing
    # the span costs next to nothing for any realistic N.
    explanation = default_calendar().explain_add(anchor, days, start_is_day_one=day_one)
    render.shifted("add", explanation, as_json=as_json)


@app.command("before", context_settings=_ACCEPT_NEGATIVE)
def before(date: DateArg, n: CountArg, as_json: JsonOpt = False) -> None:
    """Print the date N working days before DATE (DATE itself not counted)."""
    from casereview.cli.render import workdays as render
    from casereview.infra.bank_holidays import default_calendar

    anchor, days = parse_date(date, "DATE"), parse_count(n)
    explanation = default_calendar().explain_before(anchor, days)
    render.shifted("before", explanation, as_json=as_json)


@app.command("count")
def count(
    start: Annotated[str, typer.Argument(metavar="START", help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Argument(metavar="END", help="Last date, YYYY-MM-DD.")],
    as_json: JsonOpt = False,
) -> None:
    """Print how many working days fall after START up to and including END."""
    from casereview.cli.render import workdays as render
    from casereview.infra.bank_holidays import default_calendar

    first, last = parse_date(start, "START"), parse_date(end, "END")
    calendar = default_calendar()
    total = calendar.count_working_days(first, last)
    render.counted(
        first,
        last,
        total,
        calendar.known_through,
        calendar.horizon_warnings(first, last),
        as_json=as_json,
    )


@app.command("explain", context_settings=_ACCEPT_NEGATIVE)
def explain(
    date: DateArg,
    n: CountArg,
    backwards: Annotated[
        bool, typer.Option("--before", help="Count back from DATE instead of forward.")
    ] = False,
    day_one: DayOneOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List every day counted and every day skipped (with its reason) to reach the result."""
    from casereview.cli.render import workdays as render
    from casereview.infra.bank_holidays import default_calendar

    anchor, days = parse_date(date, "DATE"), parse_count(n)
    if backwards and day_one:
        raise InvalidInput("--day-one applies to counting forward; drop it or drop --before")
    calendar = default_calendar()
    explanation = (
        calendar.explain_before(anchor, days)
        if backwards
        else calendar.explain_add(anchor, days, start_is_day_one=day_one)
    )
    render.explained(explanation, as_json=as_json)

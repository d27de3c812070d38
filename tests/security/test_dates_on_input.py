"""Every date a person gives is checked on input (`domain.dates`): in the range the
calendar supports, so a year typed as 1026 is refused at once with a message naming what
was typed, and plausible: nothing that has happened is dated in the future, and a case
is not opened before the day it became known. Each refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import snapshot
from tests.security.conftest import TODAY, days_ago

OUTSIDE = "is outside the dates casereview supports (1990-01-01 to 2099-12-31)"
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()


def _refused(seeded, cli, argv, code: int, words: str) -> None:
    before = snapshot(seeded.url)
    result = cli(*argv, *seeded.cli_args())
    assert result.exit_code == code, result.stdout + result.stderr
    assert words in " ".join(result.stderr.split()), result.stderr
    assert result.stderr.startswith("Error: ")
    assert snapshot(seeded.url) == before


OPEN = ("case", "open", "S-009", "--nature", "death")
AWARE = ("--aware-on", days_ago(5).isoformat())

OUT_OF_RANGE = {
    "case open --on": (*OPEN, *AWARE, "--on", "1026-11-02"),
    "case open --aware-on": (*OPEN, "--aware-on", "1026-11-02"),
    "case open --incident-on": (*OPEN, *AWARE, "--incident-on", "1026-11-02"),
    "case open --set incident_on": (*OPEN, *AWARE, "--set", "incident_on=1026-11-02"),
    "case advance --on": (
        "case",
        "advance",
        "S-002",
        "add_note",
        "--set",
        "note=x",
        "--on",
        "1026-11-02",
    ),
    "case advance --set notified_on": (
        "case",
        "advance",
        "S-003",
        "notify",
        "--set",
        "sin_reference=SIN-3",
        "--set",
        "notified_on=1026-11-02",
    ),
    "case show --as-at": ("case", "show", "S-001", "--as-at", "1026-11-02"),
    "due --as-of": ("due", "--as-of", "1026-11-02"),
    "log export --from": ("log", "export", "--from", "1026-11-02"),
    "log export --to": ("log", "export", "--to", "2126-11-02"),
}
NAMED = {
    "case open --on": "--on",
    "case open --aware-on": "--aware-on",
    "case open --incident-on": "--incident-on",
    "case open --set incident_on": "incident_on",
    "case advance --on": "--on",
    "case advance --set notified_on": "notified_on",
    "case show --as-at": "--as-at",
    "due --as-of": "--as-of",
    "log export --from": "--from",
    "log export --to": "--to",
}


@pytest.mark.parametrize("name", OUT_OF_RANGE)
def test_a_date_outside_the_supported_range_is_refused_naming_what_was_typed(name, seeded, cli):
    argv = OUT_OF_RANGE[name]
    typed = argv[-1].rpartition("=")[2]
    _refused(seeded, cli, argv, 2, f"{NAMED[name]} {typed} {OUTSIDE}; check the year")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (("workdays", "add", "1026-11-02", "5"), "DATE 1026-11-02"),
        (("workdays", "count", "2026-01-05", "2126-01-05"), "END 2126-01-05"),
        (("workdays", "explain", "1026-11-02", "5"), "DATE 1026-11-02"),
    ],
    ids=["add", "count", "explain"],
)
def test_workdays_name_the_date_outside_the_range(argv, named, cli):
    result = cli(*argv)
    assert result.exit_code == 2
    assert f"Error: {named} {OUTSIDE}; check the year" in " ".join(result.stderr.split())


def test_an_incident_in_the_future_is_refused(seeded, cli):
    _refused(
        seeded,
        cli,
        (*OPEN, *AWARE, "--incident-on", TOMORROW),
        4,
        f"incident_on {TOMORROW} is in the future (today is {TODAY.isoformat()})",
    )


def test_an_opening_date_before_the_awareness_date_is_refused(seeded, cli):
    on, aware = days_ago(6).isoformat(), days_ago(5).isoformat()
    _refused(
        seeded,
        cli,
        (*OPEN, "--aware-on", aware, "--on", on),
        4,
        f"the opening date {on} is before --aware-on {aware}: a case is opened on or after "
        "the day it became known",
    )


def test_an_opening_field_dated_after_the_opening_is_refused(seeded, cli):
    on, incident = days_ago(5).isoformat(), days_ago(3).isoformat()
    _refused(
        seeded,
        cli,
        (*OPEN, "--aware-on", days_ago(6).isoformat(), "--on", on, "--incident-on", incident),
        4,
        f"incident_on {incident} is after the opening date {on}",
    )

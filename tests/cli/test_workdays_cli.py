"""`casereview workdays add|before|count|explain`: output, JSON keys, errors, exit codes."""

from __future__ import annotations

import json

import pytest

from casereview.infra.bank_holidays import OVERRIDES_ENV, reset_default_calendar


@pytest.fixture(autouse=True)
def fresh_calendar(monkeypatch):
    # The default calendar is cached per process; each test chooses its own environment.
    monkeypatch.delenv(OVERRIDES_ENV, raising=False)
    reset_default_calendar()
    yield
    reset_default_calendar()


def assert_one_error_line(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- plain output ---------------------------------------------------------------------------


def test_add_prints_the_iso_date_only(cli):
    result = cli("workdays", "add", "2026-12-10", "15")
    assert result.exit_code == 0
    assert result.stdout == "2027-01-05\n"
    assert result.stderr == ""


def test_add_day_one(cli):
    result = cli("workdays", "add", "2025-06-02", "15", "--day-one")
    assert result.exit_code == 0
    assert result.stdout == "2025-06-20\n"


def test_before_prints_the_iso_date_only(cli):
    result = cli("workdays", "before", "2025-09-30", "7")
    assert result.exit_code == 0
    assert result.stdout == "2025-09-19\n"


def test_count_prints_a_number(cli):
    assert cli("workdays", "count", "2026-12-10", "2027-01-05").stdout == "15\n"
    assert cli("workdays", "count", "2027-01-05", "2026-12-10").stdout == "-15\n"


def test_explain_lists_counted_and_skipped_days_with_reasons(cli):
    result = cli("workdays", "explain", "2026-12-10", "15")
    assert result.exit_code == 0
    out = result.stdout
    assert "bank holiday: Christmas Day" in out
    assert "bank holiday: Boxing Day (substitute day)" in out
    assert "bank holiday: New Year's Day" in out
    assert "Saturday" in out and "Sunday" in out
    dated_rows = [line for line in out.splitlines() if line[:4].isdigit()]
    # The anchor, 15 counted days and 11 skipped days, one row each.
    assert len(dated_rows) == 27
    assert dated_rows[0].startswith("2026-12-10")
    assert dated_rows[-1].startswith("2027-01-05")
    assert "15 working days after Thu 2026-12-10 (anchor is day 0) is Tue 2027-01-05." in out
    assert "Counted 15, skipped 11." in out


def test_explain_before(cli):
    result = cli("workdays", "explain", "2023-05-10", "7", "--before")
    assert result.exit_code == 0
    assert "bank holiday: Coronation of King Charles III" in result.stdout
    assert "is Thu 2023-04-27." in result.stdout


# -- JSON -------------------------------------------------------------------------------------


def test_add_json_keys(cli):
    result = cli("workdays", "add", "2026-12-10", "15", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == [
        "operation",
        "date",
        "n",
        "start_day_counts_as",
        "result",
        "known_through",
        "warnings",
    ]
    assert data["operation"] == "add"
    assert data["result"] == "2027-01-05"
    assert data["start_day_counts_as"] == 0
    assert data["warnings"] == []


def test_add_json_day_one(cli):
    data = json.loads(cli("workdays", "add", "2025-06-02", "15", "--day-one", "--json").stdout)
    assert data["start_day_counts_as"] == 1
    assert data["result"] == "2025-06-20"


def test_before_json_keys(cli):
    data = json.loads(cli("workdays", "before", "2025-09-30", "7", "--json").stdout)
    assert list(data) == ["operation", "date", "n", "result", "known_through", "warnings"]
    assert data["result"] == "2025-09-19"


def test_count_json_keys(cli):
    data = json.loads(cli("workdays", "count", "2026-12-10", "2027-01-05", "--json").stdout)
    assert list(data) == ["operation", "start", "end", "working_days", "known_through", "warnings"]
    assert data["working_days"] == 15


def test_explain_json_keys_and_content(cli):
    result = cli("workdays", "explain", "2023-04-28", "5", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == [
        "operation",
        "direction",
        "date",
        "n",
        "start_day_counts_as",
        "result",
        "anchor",
        "counted",
        "skipped",
        "summary",
        "known_through",
        "warnings",
    ]
    assert data["result"] == "2023-05-09"
    assert data["anchor"] == {
        "date": "2023-04-28",
        "weekday": "Friday",
        "working_day": True,
        "reason": None,
    }
    assert [c["ordinal"] for c in data["counted"]] == [1, 2, 3, 4, 5]
    assert set(data["counted"][0]) == {"date", "weekday", "ordinal"}
    assert set(data["skipped"][0]) == {"date", "weekday", "reason", "source"}
    coronation = next(s for s in data["skipped"] if s["date"] == "2023-05-08")
    assert coronation["reason"] == "bank holiday: Coronation of King Charles III"
    assert coronation["source"].startswith("https://www.gov.uk/")


# -- horizon warnings --------------------------------------------------------------------------


def test_beyond_the_horizon_warns_on_stderr_and_still_answers(cli):
    result = cli("workdays", "add", "2028-12-20", "15")
    assert result.exit_code == 0
    assert result.stdout == "2029-01-15\n"
    assert result.stderr.startswith("Warning: 2029-01-15 is after 2028")
    assert "Error" not in result.stderr


def test_beyond_the_horizon_is_listed_in_json(cli):
    data = json.loads(cli("workdays", "explain", "2028-12-20", "15", "--json").stdout)
    assert len(data["warnings"]) == 1
    assert "after 2028" in data["warnings"][0]


def test_no_warning_inside_the_horizon(cli):
    result = cli("workdays", "count", "2028-01-01", "2028-12-31")
    assert result.exit_code == 0
    assert result.stderr == ""


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("add", "2026-02-30", "5"), "'2026-02-30' is not a real calendar date"),
        (("add", "next tuesday-ish", "5"), "must be an ISO date YYYY-MM-DD"),
        (("before", "30/09/2025", "7"), "must be an ISO date YYYY-MM-DD"),
        (("add", "2026-12-10", "-5"), "N must be 0 or more working days, got -5"),
        (("before", "2026-12-10", "-1"), "N must be 0 or more"),
        (("add", "2026-12-10", "five"), "N must be a whole number of working days"),
        (("add", "2026-12-10", "1.5"), "N must be a whole number of working days"),
        (("add", "2026-12-10", "9" * 5000), "far beyond the dates casereview supports"),
        (("add", "2026-12-10", "100000"), "would fall after 2099-12-31"),
        (("before", "2026-12-10", "100000"), "would fall before 1990-01-01"),
        (("add", "1989-12-31", "5"), "1989-12-31 is outside the dates casereview supports"),
        (("add", "2100-01-01", "5"), "outside the dates casereview supports"),
        (("count", "2026-12-10", "2100-01-01"), "outside the dates casereview supports"),
        (("explain", "2026-12-10", "5", "--before", "--day-one"), "--day-one applies to"),
        (("add", "2026-12-10"), "Missing argument"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(cli, args, fragment):
    result = cli("workdays", *args)
    assert_one_error_line(result, 2, fragment)


def test_an_invalid_partnership_overrides_file_is_one_error_line(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[add]]\ndate = "2026-02-30"\nname = "x"\n', encoding="utf-8")
    result = cli("workdays", "add", "2026-12-10", "15", env={OVERRIDES_ENV: str(path)})
    assert_one_error_line(result, 1, "bad.toml is invalid", "'2026-02-30' is not a real date")


def test_a_missing_partnership_overrides_file_is_one_error_line(cli, tmp_path):
    path = tmp_path / "missing.toml"
    result = cli("workdays", "add", "2026-12-10", "15", env={OVERRIDES_ENV: str(path)})
    assert_one_error_line(result, 1, OVERRIDES_ENV, "missing.toml")


def test_a_partnership_overrides_file_changes_the_answer(cli, tmp_path):
    path = tmp_path / "partnership.toml"
    path.write_text(
        '[[add]]\ndate = 2026-12-11\nname = "Office closure"\nsource = "board minutes"\n',
        encoding="utf-8",
    )
    result = cli("workdays", "add", "2026-12-10", "15", env={OVERRIDES_ENV: str(path)})
    assert result.exit_code == 0
    assert result.stdout == "2027-01-06\n"


def test_workdays_help_lists_the_commands(cli):
    result = cli("workdays", "--help")
    assert result.exit_code == 0
    for command in ("add", "before", "count", "explain"):
        assert command in result.stdout

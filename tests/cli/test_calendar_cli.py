"""`casereview calendar export`: an .ics file Outlook and Google can import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from icalendar import Calendar

from casereview.services import demo
from tests.conftest import register_cli_account


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    demo.seed(f"sqlite:///{path}", "demo", dt.date(2026, 11, 23))
    register_cli_account(f"sqlite:///{path}", "demo", today=dt.date(2026, 11, 23))
    return str(path)


def events(data: bytes | str) -> list:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_export_to_a_file_and_the_summary(cli, demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "deadlines.ics"
    result = cli("calendar", "export", "--db", demo_db, "--output", str(path))
    assert result.exit_code == 0, result.stderr
    found = events(path.read_bytes())
    assert len(found) == 11
    assert all(str(e["uid"]).endswith(".england-lcspr@casereview") for e in found)
    assert f"Wrote 11 deadlines in 10 cases to {path}; 1 paused clock left out." in (result.stderr)


def test_export_to_stdout_for_one_case(cli, demo_db: str) -> None:
    result = cli("calendar", "export", "--db", demo_db, "--case", "2026-002")
    assert result.exit_code == 0, result.stderr
    uids = sorted(str(e["uid"]) for e in events(result.stdout))
    # The review is on hold: its publication clock is paused and left out.
    assert uids == ["2026-002.hold_review.england-lcspr@casereview"]


def test_existing_file_is_refused_unless_forced(cli, demo_db: str, tmp_path: Path) -> None:
    path = tmp_path / "deadlines.ics"
    path.write_text("keep me", encoding="utf-8")
    refused = cli("calendar", "export", "--db", demo_db, "-o", str(path))
    assert refused.exit_code == 6
    assert path.read_text(encoding="utf-8") == "keep me"
    forced = cli("calendar", "export", "--db", demo_db, "-o", str(path), "--force")
    assert forced.exit_code == 0
    assert len(events(path.read_bytes())) == 11


def test_unknown_and_closed_cases(cli, demo_db: str) -> None:
    unknown = cli("calendar", "export", "--db", demo_db, "--case", "nope")
    assert unknown.exit_code == 3
    assert unknown.stderr.strip() == "Error: no case 'nope'; see 'casereview case list'"
    closed = cli("calendar", "export", "--db", demo_db, "--case", "2026-011")
    assert closed.exit_code == 0
    assert events(closed.stdout) == []
    assert "Case 2026-011 is closed" in closed.stderr


def test_missing_output_directory_is_a_usage_error(cli, demo_db: str, tmp_path: Path) -> None:
    result = cli("calendar", "export", "--db", demo_db, "-o", str(tmp_path / "no" / "x.ics"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr

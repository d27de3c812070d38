"""`casereview log export|verify-export`: output, files, exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from casereview.formats.decision_log.as_csv import COLUMNS
from casereview.services import demo
from tests.conftest import register_cli_account

NO_DB_ENV = {"CASEREVIEW_DB": None, "CASEREVIEW_DATABASE_URL": None}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    demo.seed(f"sqlite:///{path}", "demo", dt.date(2026, 11, 23))
    register_cli_account(f"sqlite:///{path}", "demo", roles=("chair",), today=dt.date(2026, 11, 23))
    return str(path)


@pytest.fixture
def exported(cli, demo_db: str, tmp_path: Path):
    def make(fmt: str = "csv", *extra: str) -> Path:
        path = tmp_path / f"log.{fmt}"
        result = cli("log", "export", "--db", demo_db, "--format", fmt, "-o", str(path), *extra)
        assert result.exit_code == 0, result.stderr
        return path

    return make


def test_export_to_stdout_is_parseable_csv_with_a_summary_on_stderr(cli, demo_db: str) -> None:
    result = cli("log", "export", "--db", demo_db)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout.removeprefix("\ufeff"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert sum(1 for r in rows if r[0] == "event") == 100
    assert rows[-1][:2] == ["digest", "sha256"]
    assert "Exported 100 events from 13 cases (csv); log head event 116" in result.stderr


def test_export_json_for_one_case_and_a_date_range(cli, demo_db: str) -> None:
    result = cli(
        "log", "export", "--db", demo_db, "--format", "json", "--case", "2026-001",
        "--from", "2026-01-01", "--to", "2026-01-31",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["meta"]["filter"] == {"case": "2026-001", "from": "2026-01-01", "to": "2026-01-31"}
    assert [e["trigger"] for e in doc["events"]] == [
        "notify", "propose_decision", "sign_off", "sign_off", "sign_off", "submit_rapid_review",
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_written_file_verifies_alone_and_against_the_database(cli, exported, demo_db, fmt):
    path = exported(fmt)
    alone = cli("log", "verify-export", str(path), env=NO_DB_ENV)
    assert alone.exit_code == 0, alone.stdout + alone.stderr
    assert alone.stdout.startswith(f"OK: {path} ({fmt} export of 100 events")
    assert "Give --db to check it against the log" in alone.stderr
    checked = cli("log", "verify-export", str(path), "--db", demo_db)
    assert checked.exit_code == 0, checked.stdout
    assert "Every row matches the log" in checked.stdout
    by_env = cli("log", "verify-export", str(path), "--json", env={"CASEREVIEW_DB": demo_db})
    assert json.loads(by_env.stdout)["database_checked"] is True


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_one_changed_byte_exits_7(cli, exported, demo_db, fmt):
    path = exported(fmt)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = cli("log", "verify-export", str(path), env=NO_DB_ENV)
    assert result.exit_code == 7
    assert "FAIL [" in result.stdout and "does not verify" in result.stdout
    as_json = cli("log", "verify-export", str(path), "--json", "--db", demo_db)
    assert as_json.exit_code == 7
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["findings"]


def test_existing_output_is_refused_unless_forced(cli, exported, demo_db) -> None:
    path = exported("csv")
    before = path.read_bytes()
    again = cli("log", "export", "--db", demo_db, "-o", str(path))
    assert again.exit_code == 6
    assert again.stderr.startswith("Error: ") and "--force" in again.stderr
    assert path.read_bytes() == before
    forced = cli("log", "export", "--db", demo_db, "--format", "md", "-o", str(path), "--force")
    assert forced.exit_code == 0
    assert path.read_bytes().startswith(b"<!-- casereview-export")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_include_personal_is_recorded_and_warned(cli, exported) -> None:
    path = exported("json", "--include-personal")
    meta = json.loads(path.read_text(encoding="utf-8"))["meta"]
    assert meta["include_personal"] is True
    assert meta["personal_fields"] == ["child_name"]
    plain = json.loads(exported("json", "--force").read_text(encoding="utf-8"))["meta"]
    assert plain["include_personal"] is False


def test_include_personal_prints_a_warning(cli, demo_db) -> None:
    result = cli("log", "export", "--db", demo_db, "--include-personal")
    assert result.exit_code == 0
    assert "Warning: this export includes personal data (child_name)" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--from", "2026-02-30"], 2, "Error: --from '2026-02-30' is not a real calendar date"),
        (["--to", "yesterday"], 2, "Error: --to must be an ISO date YYYY-MM-DD"),
        (["--from", "2026-03-01", "--to", "2026-02-01"], 2, "is after --to"),
        (["--format", "xml"], 2, "Error: Invalid value for '--format'"),
        (["--case", "2099-999"], 3, "Error: no case '2099-999'"),
    ],
)
def test_export_errors_exit_codes(cli, demo_db, args, code, message) -> None:
    result = cli("log", "export", "--db", demo_db, *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert result.stdout == ""


def test_verify_missing_file_is_a_clear_error(cli, tmp_path) -> None:
    result = cli("log", "verify-export", str(tmp_path / "nope.csv"), env=NO_DB_ENV)
    assert result.exit_code == 3
    assert result.stderr.strip() == f"Error: no such file: {tmp_path / 'nope.csv'}"


def test_verify_a_file_that_is_not_an_export_exits_7(cli, tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    result = cli("log", "verify-export", str(path), env=NO_DB_ENV)
    assert result.exit_code == 7
    assert "not a casereview decision-log export" in result.stdout


def test_verify_against_a_database_that_does_not_exist_is_not_found(cli, exported, tmp_path):
    path = exported("csv")
    result = cli("log", "verify-export", str(path), "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 3
    assert "no casereview database" in result.stderr


def test_log_help_lists_both_commands(cli) -> None:
    result = cli("log", "--help")
    assert result.exit_code == 0
    assert "export" in result.stdout and "verify-export" in result.stdout

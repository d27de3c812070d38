"""`casereview report` through the command line: every format, parsed back by a real
parser where there is one, the period options, and the exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
from html.parser import HTMLParser

import pytest

from casereview.infra import now as clock_module
from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys, register_cli_account

D = dt.date.fromisoformat
SCRIPT = "<script>alert('x')</script>"
FORMULA = "=SUM(1+1)"


def _advance(ctx, ref, day, trigger, rationale=None, **fields):
    ctx.clock._instant = FixedClock(D(day)).now()
    cases.advance(ctx, ref, trigger, rationale=rationale, fields=fields)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """Three cases in 2025-26: on time, a working day late (pseudonym `<script>`), and one
    still in screening with a formula-like pseudonym."""
    path = tmp_path_factory.mktemp("report-cli") / "cases.db"
    fixed = FixedClock(D("2025-06-02"))
    admin = ServiceContext(f"sqlite:///{path}", "admin", fixed)
    users.init(admin)
    users.add_user(admin, "office", "Office", ["business_unit", "chair"], None)
    for name, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
        users.add_user(admin, name, name, ["partner"], agency)
    enrol_keys(admin.url, "office", "la", "police", "icb", clock=fixed)
    register_cli_account(admin.url, "admin", today=D("2025-06-02"))
    ctx = {n: ServiceContext(admin.url, n, fixed) for n in ("office", "la", "police", "icb")}
    for ref, aware, pseudonym, notify, submit in (
        ("2025-001", "2025-06-02", "Child A", "2025-06-09", "2025-06-30"),
        ("2025-002", "2025-07-01", SCRIPT, "2025-07-09", "2025-07-31"),
    ):
        fixed._instant = FixedClock(D(aware)).now()
        cases.open_case(ctx["office"], ref, aware_on=D(aware), pseudonym=pseudonym)
        _advance(ctx["office"], ref, notify, "notify", sin_reference="SIN")
        _advance(ctx["office"], ref, notify, "propose_decision", "why", recommendation="lcspr")
        for name in ("la", "police", "icb"):
            _advance(ctx[name], ref, notify, "sign_off")
        _advance(ctx["office"], ref, submit, "submit_rapid_review")
    fixed._instant = FixedClock(D("2026-03-25")).now()
    cases.open_case(ctx["office"], "2025-003", aware_on=D("2026-03-23"), pseudonym=FORMULA)
    for c in (admin, *ctx.values()):
        c.close()
    return str(path)


@pytest.fixture
def today(monkeypatch):
    """Fix the CLI's idea of today (it reads the system clock)."""

    def set_today(day: str) -> None:
        instant = FixedClock(D(day)).now()
        monkeypatch.setattr(clock_module.SystemClock, "now", lambda self: instant)

    set_today("2026-06-15")
    return set_today


def test_table_shows_every_section_and_the_shares(cli, db, today):
    result = cli("report", "--db", db, "--year", "2025-26")
    assert result.exit_code == 0, result.stderr
    assert "Figures for 2025-26" in result.stdout
    for heading in ("Caseload", "Rapid reviews", "Decisions", "Action plans"):
        assert heading in result.stdout
    assert "rapid_reviews.on_time" in result.stdout
    assert "1 of 2 (50%)" in result.stdout
    assert "2025-002" not in result.stdout  # cases only with --detail
    detailed = cli("report", "--db", db, "--year", "2025-26", "--detail")
    assert detailed.exit_code == 0
    assert "2025-002" in detailed.stdout
    assert SCRIPT in detailed.stdout  # shown literally, not as rich markup


def test_json_parses_and_has_stable_keys(cli, db, today):
    result = cli("report", "--db", db, "--year", "2025-26", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "casereview-report"
    assert data["period"] == {
        "from": "2025-04-01",
        "to": "2026-03-31",
        "label": "2025-26",
        "financial_year": "2025-26",
    }
    assert data["complete"] is True and data["detail"] is False
    figures = data["figures"]
    assert figures["rapid_reviews.completed"]["value"] == 2
    assert figures["rapid_reviews.on_time"] == {
        "section": "rapid_reviews",
        "label": "Sent within 15 working days",
        "value": 1,
        "unit": "cases",
        "part_of": "rapid_reviews.completed",
    }
    assert figures["rapid_reviews.median_days_late"]["value"] == 1
    assert figures["local_reviews.median_months_elapsed"]["value"] is None
    assert figures["notifications.overdue_at_end"]["value"] == 1
    assert "timeline" not in data
    assert [(q["quarter"], q["on_time"], q["late"]) for q in data["rapid_reviews_by_quarter"]] == [
        ("2025-26 Q1", 1, 0),
        ("2025-26 Q2", 0, 1),
        ("2025-26 Q3", 0, 0),
        ("2025-26 Q4", 0, 0),
    ]


def test_json_detail_names_the_cases_and_dates(cli, db, today):
    result = cli("report", "--db", db, "--year", "2025-26", "--format", "json", "--detail")
    data = json.loads(result.stdout)
    assert data["figures"]["rapid_reviews.late"]["cases"] == [
        {
            "ref": "2025-002",
            "pseudonym": SCRIPT,
            "counted_from": "2025-07-09",
            "due_on": "2025-07-30",
            "submitted_on": "2025-07-31",
            "working_days_late": 1,
            "on_time": False,
            "quarter": "2025-26 Q2",
        }
    ]
    assert [c["ref"] for c in data["timeline"]] == ["2025-001", "2025-002", "2025-003"]


def test_csv_parses_back(cli, db, today):
    result = cli("report", "--db", db, "--year", "2025-26", "--format", "csv", "--detail")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    figures = {r["figure"]: r for r in rows if r["record"] == "figure"}
    assert figures["rapid_reviews.completed"]["value"] == "2"
    assert figures["rapid_reviews.late"]["part_of"] == "rapid_reviews.completed"
    assert figures["local_reviews.median_months_elapsed"]["value"] == ""
    late = [r for r in rows if r["record"] == "case" and r["figure"] == "rapid_reviews.late"]
    assert [(r["ref"], r["pseudonym"], r["due_on"], r["working_days_late"]) for r in late] == [
        ("2025-002", SCRIPT, "2025-07-30", "1")
    ]
    pending = [r for r in rows if r["record"] == "case" and r["figure"].startswith("notif")]
    assert {r["pseudonym"] for r in pending if r["ref"] == "2025-003"} == {"'" + FORMULA}
    quarters = [(r["label"], r["value"]) for r in rows if r["record"] == "quarter"]
    assert ("2025-26 Q2", "1") in quarters


def test_csv_without_detail_has_one_row_per_figure(cli, db, today):
    result = cli("report", "--db", db, "--year", "2025-26", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert {r["record"] for r in rows} == {"figure", "quarter"}
    kinds = [r["figure"] for r in rows if r["record"] == "figure"]
    assert len(kinds) == len(set(kinds)) > 30


def test_markdown_escapes_pseudonyms(cli, db, today):
    result = cli("report", "--db", db, "--year", "2025-26", "--format", "md", "--detail")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("# Child safeguarding practice reviews: figures for 2025-26")
    assert "| Rapid reviews completed (sent to the Panel) | 2 |" in text
    assert "| Sent late | 1 of 2 (50%) |" in text
    assert "<script>" not in text
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in text


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_to_a_file_is_self_contained(cli, db, today, tmp_path):
    target = tmp_path / "annual.html"
    result = cli("report", "--db", db, "--year", "2025-26", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"to {target}" in result.stderr
    page = target.read_text(encoding="utf-8")
    parsed = _Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert {"svg", "style", "table"} <= set(parsed.tags)
    assert not {"link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@import" not in page and "url(http" not in page
    assert SCRIPT not in page  # the pseudonym is escaped...
    assert SCRIPT in "".join(parsed.text)  # ...and reads back as typed
    assert stat.S_IMODE(target.stat().st_mode) & 0o077 == 0  # case data: owner only


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "html"])
def test_a_file_holds_exactly_what_stdout_shows(cli, db, today, tmp_path, fmt):
    # Both are written piece by piece; the file must still be whole and the same text.
    args = ("report", "--db", db, "--year", "2025-26", "--format", fmt, "--detail")
    shown = cli(*args)
    assert shown.exit_code == 0, shown.stderr
    target = tmp_path / f"figures.{fmt}"
    assert cli(*args, "--output", str(target)).exit_code == 0
    # The runner's captured stdout turns CRLF (the CSV's line ends) into LF.
    assert target.read_bytes().decode("utf-8").replace("\r\n", "\n") == shown.stdout
    assert "2025-002" in shown.stdout


def test_format_follows_the_output_extension(cli, db, today, tmp_path):
    target = tmp_path / "figures.json"
    assert cli("report", "--db", db, "--year", "2025-26", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["period"]["label"] == "2025-26"


def test_an_existing_file_is_kept_unless_forced(cli, db, today, tmp_path):
    target = tmp_path / "figures.md"
    target.write_text("kept")
    refused = cli("report", "--db", db, "--year", "2025-26", "-o", str(target))
    assert refused.exit_code == 6  # conflict: an existing file
    assert target.read_text() == "kept"
    forced = cli("report", "--db", db, "--year", "2025-26", "-o", str(target), "--force")
    assert forced.exit_code == 0
    assert target.read_text().startswith("# Child safeguarding")


def test_default_period_is_the_current_financial_year(cli, db, today):
    today("2026-03-31")
    data = json.loads(cli("report", "--db", db, "--format", "json").stdout)
    assert data["period"]["label"] == "2025-26"
    assert data["complete"] is False and data["as_at"] == "2026-03-31"
    today("2026-04-01")
    data = json.loads(cli("report", "--db", db, "--format", "json").stdout)
    assert data["period"]["label"] == "2026-27"
    assert data["figures"]["rapid_reviews.completed"]["value"] == 0
    assert data["figures"]["caseload.open_at_end"]["value"] == 3


def test_explicit_dates(cli, db, today):
    result = cli(
        "report", "--db", db, "--from", "2025-07-01", "--to", "2025-09-30", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["period"]["label"] == "2025-07-01 to 2025-09-30"
    assert data["period"]["financial_year"] is None
    assert data["figures"]["rapid_reviews.completed"]["value"] == 1
    assert data["figures"]["notifications.made"]["value"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2025-26", "--from", "2025-04-01"], "cannot be combined"),
        (["--year", "2025-26", "--to", "2025-04-01"], "cannot be combined"),
        (["--from", "2025-06-01", "--to", "2025-05-31"], "after --to"),
        (["--from", "2025-06-01"], "give both --from and --to"),
        (["--to", "2025-06-01"], "give both --from and --to"),
        (["--year", "2025-27"], "not a financial year"),
        (["--year", "25-26"], "financial year like 2025-26"),
        (["--year", "2030-31"], "after today"),
        (["--from", "2025-02-30", "--to", "2025-03-01"], "not a real calendar date"),
        (["--from", "01/04/2025", "--to", "2025-06-01"], "ISO date"),
        (["--format", "pdf"], "--format"),
        (["--format", "table", "--output", "x.md"], "for the terminal"),
        (["--output", "figures.txt"], "cannot tell the format"),
    ],
)
def test_usage_errors_exit_2(cli, db, today, tmp_path, args, message):
    result = cli("report", "--db", db, *args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_a_refused_command_writes_no_file(cli, db, today, tmp_path):
    target = tmp_path / "never.html"
    result = cli(
        "report", "--db", db, "--year", "2025-26", "--from", "2025-04-01", "-o", str(target)
    )
    assert result.exit_code == 2
    assert not target.exists()


def test_missing_database_exits_3(cli, today, tmp_path):
    result = cli("report", "--db", str(tmp_path / "absent.db"), "--year", "2025-26")
    assert result.exit_code == 3
    assert "casereview init" in result.stderr


def test_output_into_a_missing_directory_is_refused(cli, db, today, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "figures.csv"
    result = cli("report", "--db", db, "--year", "2025-26", "-o", str(target))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr

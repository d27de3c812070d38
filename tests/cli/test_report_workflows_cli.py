"""`casereview report` on cases of workflows other than England's: the figures come from
each workflow's `[report]` table, and a figure a workflow's process has no equivalent
for is shown as not applicable (`n/a`), never as a silent 0.

Five transitional serious case reviews (`scr-transitional`), reported for 2019-20:

  SCR-1 Child A  opened 1 Apr 2019; SCR started 15 Apr; published 30 Sep 2019 (168 days,
                 no hold; 6-month due 15 Oct: within); plan approved 1 Nov, closed 3 Feb 2020.
  SCR-2 Child B  opened 1 May 2019; started 20 May; held 10 Oct 2019 - 6 Jan 2020 (88
                 days); published 16 Mar 2020 (301 days, 213 less the hold: late).
  SCR-3 Child C  opened 3 Jun 2019; decided not to start 24 Jun; national panel told
                 1 Jul (closed).
  SCR-4 Child D  opened 2 Sep 2019; started 23 Sep; held from 2 Mar 2020 (30 days in
                 the period), review by 1 Jun 2020: on hold at the period end.
  SCR-5 Child E  opened 16 Mar 2020; still awaiting the decision at the period end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest

from casereview.infra import now as clock_module
from casereview.infra.now import FixedClock
from casereview.services import cases, users, workflows
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys, register_cli_account

D = dt.date.fromisoformat
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
YEAR = ("--year", "2019-20")

SCR_FIGURES = {
    "caseload.opened": 5,
    "caseload.closed": 2,  # SCR-3 (told the national panel), SCR-1 (actions complete)
    "caseload.open_at_end": 3,
    "decisions.local_review": 3,  # SCR-1, SCR-2, SCR-4 started
    "local_reviews.commissioned": 3,
    "local_reviews.in_progress_at_end": 1,  # SCR-4
    "local_reviews.on_hold_at_end": 1,
    "local_reviews.held_in_period": 2,  # SCR-2, SCR-4
    "local_reviews.hold_days": 118,  # 88 + 30
    "local_reviews.published": 2,
    "local_reviews.published_within_expectation": 1,  # SCR-1
    "local_reviews.median_months_elapsed": 7.7,  # (168 + 301) / 2 = 234.5 days
    "local_reviews.median_months_adjusted": 6.3,  # (168 + 213) / 2 = 190.5 days
    "local_reviews.published_within_elapsed": 1,  # SCR-1 (168 days; SCR-2 301)
    "local_reviews.overdue_at_end": 0,  # SCR-4 is on hold
    "local_reviews.elapsed_at_end": 1,  # SCR-4, started 23 Sep 2019: 6 months on 23 Mar
    "action_plans.approved": 1,
    "action_plans.closed": 1,
    "action_plans.open_at_end": 0,
    "corrections.recorded": 0,
    "corrections.corrections": 0,
    "corrections.undos": 0,
    "corrections.voids": 0,
}


class _Seeder:
    """Records steps through the real services, each on its own business date."""

    def __init__(self, path: Path, *, fresh: bool = True) -> None:
        self.fixed = FixedClock(D("2019-04-01"))
        self.admin = ServiceContext(f"sqlite:///{path}", "admin", self.fixed)
        if fresh:
            users.init(self.admin)
            users.add_user(self.admin, "office", "Office", ["business_unit", "chair"], None)
            for name, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
                users.add_user(self.admin, name, name, ["partner"], agency)
            enrol_keys(self.admin.url, "office", "la", "police", "icb", clock=self.fixed)
            register_cli_account(self.admin.url, "admin", today=D("2019-04-01"))
        self.ctx = {
            name: ServiceContext(self.admin.url, name, self.fixed)
            for name in ("office", "la", "police", "icb")
        }

    def _on(self, day: str) -> None:
        self.fixed._instant = FixedClock(D(day)).now()

    def open(self, ref: str, day: str, pseudonym: str, workflow: str, **fields: str) -> None:
        self._on(day)
        aware = fields.pop("aware_on", fields.get("notified_on", day))
        cases.open_case(
            self.ctx["office"],
            ref,
            aware_on=D(aware),
            pseudonym=pseudonym,
            workflow=workflow,
            fields=fields,
        )

    def advance(self, ref, day, trigger, who="office", rationale=None, **fields) -> None:
        self._on(day)
        cases.advance(self.ctx[who], ref, trigger, rationale=rationale, fields=fields)

    def signed_off(self, ref: str, day: str) -> None:
        for who, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
            self.advance(ref, day, "sign_off", who=who, agency=agency)

    def scr_to_final(self, ref, started, appointed, draft, accepted, signed) -> None:
        self.advance(ref, started, "initiate_scr", rationale="criteria met")
        self.advance(
            ref,
            appointed,
            "appoint_reviewer",
            reviewer="Reviewer",
            scope_from="2018-01-01",
            scope_to="2018-12-31",
        )
        self.advance(ref, draft, "receive_draft")
        self.advance(ref, accepted, "accept_final")
        self.signed_off(ref, signed)

    def close(self) -> None:
        for ctx in (self.admin, *self.ctx.values()):
            ctx.close()


def _seed_scr(s: _Seeder) -> None:
    scr = "scr-transitional"
    s.open("SCR-1", "2019-04-01", "Child A", scr, notified_on="2019-03-25")
    s.scr_to_final("SCR-1", "2019-04-15", "2019-05-01", "2019-08-01", "2019-08-15", "2019-08-20")
    s.advance(
        "SCR-1",
        "2019-09-02",
        "schedule_publication",
        planned_publication_on="2019-09-30",
        publication_form="full_report",
    )
    s.advance("SCR-1", "2019-09-30", "publish", url="https://example.org/a")
    s.advance("SCR-1", "2019-10-15", "add_note", note="a note: counted nowhere")
    s.advance("SCR-1", "2019-11-01", "approve_action_plan", rationale="plan agreed")
    s.advance("SCR-1", "2020-02-03", "close", rationale="actions complete")

    s.open("SCR-2", "2019-05-01", "Child B", scr, notified_on="2019-04-29")
    s.scr_to_final("SCR-2", "2019-05-20", "2019-06-03", "2019-10-01", "2019-10-07", "2019-10-08")
    s.advance(
        "SCR-2",
        "2019-10-10",
        "hold_publication",
        rationale="trial",
        hold_reason="criminal_proceedings",
        review_by="2020-01-10",
    )
    s.advance("SCR-2", "2020-01-06", "lift_hold", rationale="trial over")
    s.advance(
        "SCR-2",
        "2020-01-13",
        "schedule_publication",
        planned_publication_on="2020-03-16",
        publication_form="full_report",
    )
    s.advance("SCR-2", "2020-03-16", "publish", url="https://example.org/b")

    s.open("SCR-3", "2019-06-03", "Child C", scr, notified_on="2019-05-28")
    s.advance("SCR-3", "2019-06-24", "decide_not_to_initiate", rationale="criteria not met")
    s.advance("SCR-3", "2019-07-01", "inform_national_panel")

    s.open("SCR-4", "2019-09-02", "Child D", scr, notified_on="2019-08-26")
    s.scr_to_final("SCR-4", "2019-09-23", "2019-10-14", "2020-02-03", "2020-02-10", "2020-02-12")
    s.advance(
        "SCR-4",
        "2020-03-02",
        "hold_publication",
        rationale="inquest",
        hold_reason="inquest",
        review_by="2020-06-01",
    )

    s.open("SCR-5", "2020-03-16", "Child E", scr, notified_on="2020-03-09")


@pytest.fixture(scope="module")
def scr_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("report-scr") / "cases.db"
    seeder = _Seeder(path)
    _seed_scr(seeder)
    seeder.close()
    return str(path)


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory, scr_db) -> str:
    """The SCR cases and one England case, notified and sent to the Panel in 2019-20."""
    path = tmp_path_factory.mktemp("report-mixed") / "cases.db"
    shutil.copy(scr_db, path)
    seeder = _Seeder(path, fresh=False)
    seeder.open("2019-001", "2019-06-03", "Child F", "england-lcspr", aware_on="2019-06-03")
    seeder.advance("2019-001", "2019-06-07", "notify", sin_reference="SIN-1")
    seeder.advance(
        "2019-001", "2019-06-10", "propose_decision", rationale="why", recommendation="lcspr"
    )
    seeder.signed_off("2019-001", "2019-06-12")
    seeder.advance("2019-001", "2019-06-14", "submit_rapid_review")
    seeder.close()
    return str(path)


@pytest.fixture
def today(monkeypatch):
    instant = FixedClock(D("2026-06-15")).now()
    monkeypatch.setattr(clock_module.SystemClock, "now", lambda self: instant)


def _json(cli, db: str, *args: str) -> dict:
    result = cli("report", "--db", db, *YEAR, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_scr_figures_are_the_workflows_own_and_the_rest_not_applicable(cli, scr_db, today):
    figures = _json(cli, scr_db)["figures"]
    counted = {k: f["value"] for k, f in figures.items() if f.get("applicable", True)}
    assert counted == SCR_FIGURES
    for figure_id, figure in figures.items():
        if figure_id not in SCR_FIGURES:
            # No notification step, rapid review or Panel response in an SCR; and of the
            # decisions only starting one has an equivalent.
            assert figure["applicable"] is False, figure_id
            assert figure["value"] is None, figure_id
    assert {f.split(".")[0] for f in figures if f not in SCR_FIGURES} == {
        "notifications",
        "rapid_reviews",
        "decisions",
        "panel",
        "local_reviews",  # a revised target
        "publication",
        "national_reviews",
        "local_learning",
    }


def test_scr_cases_behind_the_figures(cli, scr_db, today):
    figures = _json(cli, scr_db, "--detail")["figures"]

    def cases(figure_id):
        return figures[figure_id]["cases"]

    assert [(c["ref"], c["closed_by"]) for c in cases("caseload.closed")] == [
        ("SCR-1", "close"),
        ("SCR-3", "inform_national_panel"),
    ]
    assert [(c["ref"], c["decided_on"]) for c in cases("decisions.local_review")] == [
        ("SCR-1", "2019-04-15"),
        ("SCR-2", "2019-05-20"),
        ("SCR-4", "2019-09-23"),
    ]
    assert cases("local_reviews.on_hold_at_end") == [
        {
            "ref": "SCR-4",
            "pseudonym": "Child D",
            "commissioned_on": "2019-09-23",
            "held_since": "2020-03-02",
            "review_by": "2020-06-01",
        }
    ]
    published = {c["ref"]: c for c in cases("local_reviews.published")}
    assert {
        ref: (c["elapsed_days"], c["held_days"], c["adjusted_days"]) for ref, c in published.items()
    } == {
        "SCR-1": (168, 0, 168),
        "SCR-2": (301, 88, 213),
    }
    assert published["SCR-1"]["within_expectation"] is True
    assert published["SCR-2"]["within_expectation"] is False
    assert [
        (c["held_from"], c["held_to"], c["days_in_period"])
        for c in cases("local_reviews.hold_days")
    ] == [
        ("2019-10-10", "2020-01-06", 88),
        ("2020-03-02", None, 30),
    ]
    assert cases("notifications.made") == []
    assert [c["ref"] for c in _json(cli, scr_db, "--detail")["timeline"]] == [
        "SCR-1",
        "SCR-2",
        "SCR-3",
        "SCR-4",
        "SCR-5",
    ]


def test_not_applicable_reads_n_a_in_every_format(cli, scr_db, today):
    data = _json(cli, scr_db)
    assert data["rapid_reviews_by_quarter"][0] == {
        "quarter": "2019-20 Q1",
        "from": "2019-04-01",
        "to": "2019-06-30",
        "partial": False,
        "on_time": None,
        "late": None,
        "applicable": False,
    }
    table = cli("report", "--db", scr_db, *YEAR)
    assert table.exit_code == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if "notifications.made" in line]
    assert len(rows) == 1 and "n/a" in rows[0]
    assert "decisions.local_review" in table.stdout
    markdown = cli("report", "--db", scr_db, *YEAR, "--format", "md").stdout
    assert "| Notifications made to the Panel | n/a |" in markdown
    assert "| Local reviews published | 2 |" in markdown
    assert "| 2019-20 Q1 | n/a | n/a |" in markdown
    text = cli("report", "--db", scr_db, *YEAR, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    values = {r["figure"]: r["value"] for r in rows if r["record"] == "figure"}
    assert values["panel.responses"] == "n/a"
    assert values["local_reviews.hold_days"] == "118"
    assert {r["value"] for r in rows if r["record"] == "quarter"} == {"n/a"}
    page = cli("report", "--db", scr_db, *YEAR, "--format", "html").stdout
    assert '<div class="number">n/a</div><div class="what">notifications to the Panel' in page
    assert "Rapid reviews by quarter: n/a" in page


def test_a_database_of_both_workflows_counts_each_where_it_applies(cli, mixed_db, today):
    figures = _json(cli, mixed_db)["figures"]
    values = {k: f["value"] for k, f in figures.items()}
    assert all(f.get("applicable", True) for f in figures.values())  # England has them all
    assert values["caseload.opened"] == 6
    assert values["notifications.made"] == 1  # the England case only
    assert values["notifications.on_time"] == 1
    assert values["rapid_reviews.completed"] == 1
    assert values["decisions.local_review"] == 3  # the SCRs started
    assert values["decisions.withdrawn"] == 0
    assert values["local_reviews.published"] == 2


def test_a_workflow_without_a_report_table_counts_only_its_caseload(
    cli, tmp_path, monkeypatch, today
):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(FIXTURES))
    path = tmp_path / "cases.db"
    fixed = FixedClock(D("2025-05-01"))
    admin = ServiceContext(f"sqlite:///{path}", "admin", fixed)
    users.init(admin)
    workflows.install(admin, "minimal")
    users.add_user(admin, "clerk", "Clerk", ["clerk"], None)
    enrol_keys(admin.url, "clerk", clock=fixed)
    register_cli_account(admin.url, "admin", today=D("2025-05-01"))
    clerk = ServiceContext(admin.url, "clerk", fixed)
    cases.open_case(
        clerk,
        "M-1",
        aware_on=D("2025-05-01"),
        workflow="minimal",
        fields={"received_on": "2025-05-01"},
    )
    for ctx in (admin, clerk):
        ctx.close()
    figures = _json(cli, str(path), "--year", "2025-26")["figures"]
    assert figures["caseload.opened"]["value"] == 1
    assert figures["caseload.open_at_end"]["value"] == 1
    not_applicable = [k for k, f in figures.items() if f.get("applicable", True) is False]
    # The caseload's three figures and the four of corrections apply to every workflow.
    assert len(not_applicable) == len(figures) - 3 - 4
    assert all(figures[k]["value"] is None for k in not_applicable)

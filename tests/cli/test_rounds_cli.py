"""Sign-off rounds a trigger opens, as a person meets them on the command line, on the
small `rounds` workflow (tests/fixtures/workflows/engine/rounds.toml): the Panel
disagrees, the chair maintains the decision, the partners sign it in a new round; case
show says who has and has not signed; audit verify replays the rounds and reports a
forged sign-off; the decision log carries every step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import enrol_keys, run_sql

ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "engine"
PARTNERS = {"pc": "council", "pp": "police", "ph": "health"}


@pytest.fixture
def db(database_url, cli, monkeypatch, as_user):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ENGINE))
    monkeypatch.setenv("COLUMNS", "80")
    assert cli("init", "--db", database_url).exit_code == 0
    installed = cli("workflow", "install", "rounds", "--db", database_url)
    assert installed.exit_code == 0, installed.stderr
    people = [("clerk", "clerk", None), ("chair", "chair", None)]
    people += [(name, "partner", agency) for name, agency in PARTNERS.items()]
    for name, role, agency in people:
        args = ["user", "add", name, "--name", name, "--role", role, "--db", database_url]
        result = cli(*args, *(["--agency", agency] if agency else []))
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, *(name for name, _role, _agency in people), admin="root")
    as_user("clerk")
    steps = [
        ("clerk", ["case", "open", "R-1", "--aware-on", "2026-03-02", "--on", "2026-03-02",
                   "--workflow", "rounds"]),
        ("clerk", ["case", "advance", "R-1", "submit", "--on", "2026-03-02"]),
        *[(who, ["case", "advance", "R-1", "sign_off", "--on", "2026-03-03"]) for who in PARTNERS],
        ("clerk", ["case", "advance", "R-1", "send", "--on", "2026-03-04"]),
        ("clerk", ["case", "advance", "R-1", "record_panel_response", "--on", "2026-03-05",
                   "--set", "panel_position=disagreed"]),
    ]  # fmt: skip
    for who, args in steps:
        as_user(who)
        result = cli(*args, "--db", database_url)
        assert result.exit_code == 0, (args, result.stderr)
    return database_url


def _show(cli, db: str) -> dict:
    result = cli("case", "show", "R-1", "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_maintained_decision_waits_for_every_partner_in_a_new_round(cli, db, as_user):
    as_user("chair")
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = cli("case", "advance", "R-1", "conclude", "--db", db)
    assert refused.exit_code == 4
    assert refused.stderr == (
        "Error: conclude refused: Maintained decision sign-off has not been opened "
        "(opened by maintain_decision)\n"
    )
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before
    maintained = cli(
        "case", "advance", "R-1", "maintain_decision", "--on", "2026-03-06",
        "--rationale", "the learning is local", "--db", db,
    )  # fmt: skip
    assert maintained.exit_code == 0, maintained.stderr
    as_user("pp")
    assert (
        cli("case", "advance", "R-1", "sign_off", "--on", "2026-03-09", "--db", db).exit_code == 0
    )
    again = cli("case", "advance", "R-1", "sign_off", "--on", "2026-03-09", "--db", db)
    assert again.exit_code == 4
    assert again.stderr == (
        "Error: police has already signed off this round of Maintained decision sign-off\n"
    )

    shown = _show(cli, db)
    assert shown["rounds"] == [
        {
            "round": "decision",
            "label": "Decision sign-off",
            "signed": ["council", "police", "health"],
            "waiting_for": [],
            "opened_on": None,
            "opened_by": None,
        },
        {
            "round": "maintained",
            "label": "Maintained decision sign-off",
            "signed": ["police"],
            "waiting_for": ["council", "health"],
            "opened_on": "2026-03-06",
            "opened_by": "maintain_decision",
        },
    ]
    text = cli("case", "show", "R-1", "--db", db)
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "Decision sign-off: signed by council, police, health; complete" in lines
    joined = " ".join(line.strip() for line in lines)
    assert (
        "Maintained decision sign-off (opened 2026-03-06 by maintain_decision): signed by "
        "police; waiting for council, health"
    ) in joined

    # The chair maintains the decision again: a new round, the police sign-off discarded.
    as_user("chair")
    anew = cli(
        "case", "advance", "R-1", "maintain_decision", "--on", "2026-03-10",
        "--rationale", "after the Panel's second letter", "--db", db,
    )  # fmt: skip
    assert anew.exit_code == 0, anew.stderr
    rounds = {r["round"]: r for r in _show(cli, db)["rounds"]}
    assert rounds["maintained"]["signed"] == []
    assert rounds["maintained"]["opened_on"] == "2026-03-10"
    for name in PARTNERS:
        as_user(name)
        signed = cli("case", "advance", "R-1", "sign_off", "--on", "2026-03-11", "--db", db)
        assert signed.exit_code == 0, signed.stderr
    as_user("chair")
    done = cli("case", "advance", "R-1", "conclude", "--on", "2026-03-12", "--db", db)
    assert done.exit_code == 0, done.stderr
    assert _show(cli, db)["state"] == "done"

    as_user("root")
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    exported = cli("log", "export", "--db", db, "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    steps = [e["trigger"] for e in json.loads(exported.stdout)["events"] if e["case_ref"] == "R-1"]
    assert steps.count("maintain_decision") == 2
    assert steps.count("sign_off") == 7


def test_audit_verify_reports_a_sign_off_forged_for_another_agency(cli, db, as_user):
    from tests.security.authority_support import World

    as_user("chair")
    maintained = cli(
        "case", "advance", "R-1", "maintain_decision", "--on", "2026-03-06",
        "--rationale", "the learning is local", "--db", db,
    )  # fmt: skip
    assert maintained.exit_code == 0, maintained.stderr
    as_user("root")
    assert cli("audit", "verify", "--db", db).exit_code == 0
    world = World(db)
    try:
        # The police partner "signs" the council's part of the opened round.
        seq = world.insert(
            world.case_event(
                "R-1",
                "sign_off",
                actor="pp",
                role="partner",
                occurred_on="2026-03-09",
                fields={"agency": "council"},
            )
        )
        forged_chair = world.insert(
            world.case_event(
                "R-1",
                "maintain_decision",
                actor="clerk",
                role="clerk",
                occurred_on="2026-03-09",
                rationale="keyed in",
            )
        )
    finally:
        world.close()
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 7
    report = " ".join((verified.stdout + verified.stderr).split())  # wrapped at 80 columns
    assert f"event {seq}" in report
    assert "sign_off signs for 'council', but 'pp' signed for 'police'" in report
    assert f"event {forged_chair}" in report
    assert "does not let role 'clerk' record maintain_decision" in report

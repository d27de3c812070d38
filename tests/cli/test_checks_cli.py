"""A check against what happened, on the command line, on the small `checks` workflow
(tests/fixtures/workflows/engine/checks.toml): a publication 2 working days after the
advance copies is refused and nothing is written; the chair publishes despite short
notice with a rationale; case show, the timeline and the decision log show the breach,
and audit verify accepts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import enrol_keys, run_sql

ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "engine"


@pytest.fixture
def db(database_url, cli, monkeypatch, as_user):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ENGINE))
    monkeypatch.setenv("COLUMNS", "80")
    assert cli("init", "--db", database_url).exit_code == 0
    installed = cli("workflow", "install", "checks", "--db", database_url)
    assert installed.exit_code == 0, installed.stderr
    for name in ("clerk", "chair"):
        result = cli("user", "add", name, "--name", name, "--role", name, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, "clerk", "chair", admin="root")
    as_user("clerk")
    opened = cli(
        "case", "open", "P-1", "--aware-on", "2026-06-01", "--on", "2026-06-01",
        "--workflow", "checks", "--db", database_url,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    for recipient in ("panel", "secretary_of_state"):
        sent = cli(
            "case", "advance", "P-1", "send_copy", "--on", "2026-07-01",
            "--set", f"recipient={recipient}", "--set", "content=full_report",
            "--db", database_url,
        )  # fmt: skip
        assert sent.exit_code == 0, sent.stderr
    return database_url


def test_a_publication_on_short_notice_is_refused_then_recorded_as_a_breach(cli, db, as_user):
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = cli("case", "advance", "P-1", "publish", "--on", "2026-07-03", "--db", db)
    assert refused.exit_code == 4
    assert refused.stderr == (
        "Error: publish refused: sent_on must be on or before 2026-06-24, 7 working days "
        "before published_on 2026-07-03 (panel: sent_on 2026-07-01; secretary_of_state: "
        "sent_on 2026-07-01); publish_despite_short_notice records it despite the check, "
        "with a rationale\n"
    )
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before

    as_user("chair")
    overridden = cli(
        "case", "advance", "P-1", "publish_despite_short_notice", "--on", "2026-07-03",
        "--rationale", "the court lifted reporting restrictions", "--db", db,
    )  # fmt: skip
    assert overridden.exit_code == 0, overridden.stderr
    seq = run_sql(db, "SELECT MAX(seq) FROM events")[0][0]

    shown = json.loads(cli("case", "show", "P-1", "--json", "--db", db).stdout)
    assert shown["state"] == "published"
    assert shown["breaches"] == [
        {
            "seq": seq,
            "on": "2026-07-03",
            "trigger": "publish_despite_short_notice",
            "overrides": "publish",
            "check": "sent_on (send_copy; content = full_report; one for each recipient in "
            "panel, secretary_of_state) at least 7 working days before published_on",
            "detail": "sent_on must be on or before 2026-06-24, 7 working days before "
            "published_on 2026-07-03 (panel: sent_on 2026-07-01; secretary_of_state: sent_on "
            "2026-07-01)",
        }
    ]
    text = cli("case", "show", "P-1", "--db", db)
    assert text.exit_code == 0, text.stderr
    assert max(len(line) for line in text.stdout.splitlines()) <= 80
    assert f"Breach: event {seq} (publish_despite_short_notice, 2026-07-03) recorded publish" in (
        " ".join(text.stdout.split())
    )

    timeline = cli("timeline", "P-1", "--json", "--db", db)
    assert timeline.exit_code == 0, timeline.stderr
    entries = json.loads(timeline.stdout)["entries"]
    kinds = [(e["kind"], e.get("trigger")) for e in entries if e.get("seq") == seq]
    assert kinds == [
        ("event", "publish_despite_short_notice"),
        ("breach", "publish_despite_short_notice"),
    ]
    drawn = cli("timeline", "P-1", "--db", db)
    assert "Recorded publish despite its check" in " ".join(drawn.stdout.split())

    as_user("root")
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    exported = cli("log", "export", "--db", db, "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    [event] = [e for e in json.loads(exported.stdout)["events"] if e["seq"] == seq]
    assert event["rationale"] == "the court lifted reporting restrictions"
    assert event["role"] == "chair"


def test_the_override_is_refused_when_the_notice_was_long_enough(cli, db, as_user):
    as_user("chair")
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = cli(
        "case", "advance", "P-1", "publish_despite_short_notice", "--on", "2026-07-13",
        "--rationale", "just in case", "--db", db,
    )  # fmt: skip
    assert refused.exit_code == 4
    assert refused.stderr.startswith(
        "Error: publish_despite_short_notice records publish despite a failed check, but the "
        "check holds"
    )
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before


def test_audit_verify_reports_an_override_forged_by_someone_without_its_role(cli, db, as_user):
    from tests.security.authority_support import World

    as_user("root")
    world = World(db)
    try:
        # The clerk "publishes despite short notice": only the chair may.
        seq = world.insert(
            world.case_event(
                "P-1",
                "publish_despite_short_notice",
                actor="clerk",
                role="clerk",
                to_state="published",
                occurred_on="2026-07-03",
                rationale="no time",
                fields={"published_on": "2026-07-03"},
            )
        )
    finally:
        world.close()
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 7
    report = " ".join((verified.stdout + verified.stderr).split())
    assert f"event {seq}" in report
    assert "does not let role 'clerk' record publish_despite_short_notice" in report

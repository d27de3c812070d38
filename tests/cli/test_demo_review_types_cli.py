"""`casereview demo` shows one installation running every review type: after England's
version 1 cases (the dataset the golden files read, unchanged), one case of each other
review type along its main path, and England's version 2 where it differs: a review
held during authoring for a trial and the hold lifted, a local review folded into a
national review, a notification-only event, and a sibling review covering two
children (linked cases). A DHR of a 17-year-old's death is linked to the held LCSPR.
Everything is recorded through the write path, so the database verifies.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from casereview.infra import identity
from casereview.infra.now import FixedClock, SystemClock
from casereview.services import demo

TODAY = dt.date(2026, 11, 23)
ACCOUNT = "demo-officer"


@pytest.fixture(autouse=True)
def fixed_terminal(monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.setattr(identity, "os_account", lambda: ACCOUNT)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CASEREVIEW_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo-types") / "demo.db"


@pytest.fixture
def db(cli, made) -> str:
    if not made.exists():
        result = cli("demo", "--db", str(made))
        assert result.exit_code == 0, result.stderr
        assert "2026-008 · LCSPR · Child H" in result.stdout  # each row names its type
    return str(made)


def as_json(cli, *args: str):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def show(cli, db: str, ref: str) -> dict:
    return as_json(cli, "case", "show", ref, "--db", db)


def by_pseudonym(cli, db: str) -> dict[str, dict]:
    return {c["pseudonym"]: c for c in as_json(cli, "case", "list", "--db", db)}


def test_one_case_of_each_review_type_after_englands_version_1(cli, db):
    cases = by_pseudonym(cli, db)
    kinds = {c["workflow"] for c in cases.values()}
    assert kinds == {
        "england-lcspr v1",
        "england-lcspr v2",
        "england-sar v1",
        "england-dhr v1",
        "wales-susr v1",
    }
    assert {c["type"] for c in cases.values()} == {"LCSPR", "SAR", "DHR", "SUSR"}
    # England's version 1 cases come first, as the golden files know them.
    v1 = sorted(c["ref"] for c in cases.values() if c["workflow"] == "england-lcspr v1")
    assert v1 == [f"2026-{n:03d}" for n in range(1, 14)]
    # Each other type is along its main path.
    assert cases["Adult A"]["state"] == "action_monitoring"  # SAR concluded, plan approved
    assert cases["Young person S"]["state"] == "csp_signoff"  # DHR overview report done
    assert cases["Person T"]["state"] == "draft_report"  # SUSR after both learning events
    susr = show(cli, db, cases["Person T"]["ref"])
    assert {"family_event_on", "practitioner_event_on"} <= set(susr["fields"])
    result = cli("audit", "verify", "--db", db)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_englands_version_2_situations(cli, db):
    cases = by_pseudonym(cli, db)
    held = show(cli, db, cases["Child N"]["ref"])
    assert held["workflow_version"] == 2 and held["state"] == "lcspr_in_progress"
    assert held["hold"] is None  # held during authoring, then lifted
    timeline = as_json(cli, "timeline", held["ref"], "--db", db)
    steps = [e["trigger"] for e in timeline["entries"] if e["kind"] == "event"]
    assert steps.index("register_parallel_process") < steps.index("hold")
    assert steps.index("hold") < steps.index("lift_hold")
    national = show(cli, db, cases["Child O"]["ref"])
    assert national["state"] == "national_review"
    assert national["fields"]["local_review_outcome"] == "merged"
    only = show(cli, db, cases["Child P"]["ref"])
    assert only["state"] == "notification_only"
    lead, sibling = show(cli, db, cases["Child Q"]["ref"]), show(cli, db, cases["Child R"]["ref"])
    assert [(x["other"], x["relation"]) for x in sibling["links"]] == [(lead["ref"], "sibling")]
    assert [x["other"] for x in lead["linked_from"]] == [sibling["ref"]]
    # The DHR of a 17-year-old's death is linked to the held LCSPR; both show it.
    dhr = show(cli, db, cases["Young person S"]["ref"])
    assert [(x["other"], x["relation"]) for x in dhr["links"]] == [
        (held["ref"], "child_victim_lcspr")
    ]
    assert dhr["ref"] in [x["other"] for x in held["linked_from"]]


def test_the_demos_report_has_a_section_per_review_type(cli, db):
    period = ("--from", "2025-04-01", "--to", "2026-11-23")
    result = cli("report", *period, "--format", "json", "--db", db)
    assert result.exit_code == 0, result.stderr
    kinds = {t["label"]: t for t in json.loads(result.stdout)["review_types"]}
    assert set(kinds) == {"LCSPR", "SAR", "DHR", "SUSR"}
    opened = {
        label: t["groups"][0]["figures"]["caseload.opened"]["value"] for label, t in kinds.items()
    }
    assert opened == {"LCSPR": 18, "SAR": 1, "DHR": 1, "SUSR": 1}


def test_seed_without_every_type_is_the_golden_dataset(tmp_path):
    seeded = demo.seed(f"sqlite:///{tmp_path / 'd.db'}", ACCOUNT, TODAY)
    assert seeded.refs == tuple(f"2026-{n:03d}" for n in range(1, 14))
    assert seeded.events == 100

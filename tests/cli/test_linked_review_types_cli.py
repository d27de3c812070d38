"""A Domestic Homicide Review of the death of a 17-year-old, linked to the partnership's
LCSPR case for the same death (issue 21, Done when 2): the link is recorded once, on the
DHR case, and shown on both cases (`case show`, `timeline`); each review type counts its
own review in the report.

LC-17 (england-lcspr v2): aware 2 Jun 2025, notified 3 Jun, rapid review signed off and
      sent 20 Jun, LCSPR commissioned 23 Jun.
DHR-17 (england-dhr): police notification 2 Jun 2025, the CSP commissions a review on
      24 Jun (victim aged 16-17), linked to LC-17 on 25 Jun.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.test_review_types_cli import Desk, desk  # noqa: F401 - fixtures
from tests.conftest import enrol_keys

YEAR = ("--year", "2025-26")


@pytest.fixture
def linked(desk: Desk) -> Desk:  # noqa: F811
    desk.as_user("root")
    added = desk.cli(
        "user", "add", "lchair", "--name", "L Chair", "--role", "chair", "--db", desk.db
    )
    assert added.exit_code == 0, added.stderr
    enrol_keys(desk.db, "lchair", admin="root")
    desk.open("LC-17", "england-lcspr", "2025-06-02", "Child Q")
    desk.step("bu", "LC-17", "notify", "2025-06-03", "sin_reference=SIN-17")
    desk.step(
        "lchair", "LC-17", "propose_decision", "2025-06-16", "recommendation=lcspr",
        why="criteria met",
    )  # fmt: skip
    for who, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
        desk.step(who, "LC-17", "sign_off", "2025-06-18", f"agency={agency}")
    desk.step("bu", "LC-17", "submit_rapid_review", "2025-06-20")
    desk.step("lchair", "LC-17", "commission_lcspr", "2025-06-23", why="partners decided")
    desk.open("DHR-17", "england-dhr", "2025-06-02", "Young person Q")
    desk.step(
        "cspchair", "DHR-17", "commission_dhr", "2025-06-24", "victim_age_band=age_16_17",
        "death_type=homicide", why="criteria met; the victim was 17",
    )  # fmt: skip
    desk.as_user("bu")
    result = desk.cli(
        "case", "link", "DHR-17", "LC-17", "--relation", "child_victim_lcspr",
        "--on", "2025-06-25", "--db", desk.db, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return desk


def test_the_link_shows_on_both_cases(linked):
    dhr, lcspr = linked.show("DHR-17"), linked.show("LC-17")
    assert [(x["other"], x["relation"], x["on"]) for x in dhr["links"]] == [
        ("LC-17", "child_victim_lcspr", "2025-06-25")
    ]
    assert dhr["linked_from"] == []
    assert lcspr["links"] == []
    assert [(x["other"], x["relation"]) for x in lcspr["linked_from"]] == [
        ("DHR-17", "child_victim_lcspr")
    ]
    # Each keeps its own workflow, state and clocks.
    assert (dhr["workflow"], dhr["state"]) == ("england-dhr", "panel_setup")
    assert lcspr["workflow"] == "england-lcspr" and lcspr["workflow_version"] == 2
    linked.as_user("bu")
    shown = linked.cli("case", "show", "LC-17", "--db", linked.db)
    assert "Linked from DHR-17 (child_victim_lcspr, 2025-06-25)" in shown.stdout
    for ref, words in (
        ("DHR-17", "Linked to LC-17 (child_victim_lcspr, 2025-06-25)"),
        ("LC-17", "Linked from DHR-17 (child_victim_lcspr, 2025-06-25)"),
    ):
        text = linked.cli("timeline", ref, "--db", linked.db)
        assert text.exit_code == 0, text.stderr
        assert words in text.stdout, text.stdout
        data = json.loads(linked.cli("timeline", ref, "--json", "--db", linked.db).stdout)
        assert len(data["links"]) + len(data["linked_from"]) == 1
    # The link is an event of the DHR case's own log, which verifies.
    trail = linked.trail("DHR-17")
    assert ("link_case", "panel_setup") in trail
    linked.verify()


def test_a_link_to_a_case_that_does_not_exist_is_refused(linked):
    linked.as_user("bu")
    result = linked.cli(
        "case", "link", "DHR-17", "LC-99", "--relation", "child_victim_lcspr", "--db", linked.db
    )
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_each_review_type_counts_its_own_review(linked):
    def figures(*extra: str) -> dict:
        linked.as_user("bu")
        result = linked.cli("report", *YEAR, "--format", "json", *extra, "--db", linked.db)
        assert result.exit_code == 0, result.stderr
        return {k: f["value"] for k, f in json.loads(result.stdout)["figures"].items()}

    dhr, lcspr = figures("--workflow", "england-dhr"), figures("--workflow", "england-lcspr")
    assert (dhr["caseload.opened"], dhr["decisions.local_review"]) == (1, 1)
    assert dhr["local_reviews.commissioned"] == 1
    assert (lcspr["caseload.opened"], lcspr["local_reviews.commissioned"]) == (1, 1)
    assert lcspr["notifications.made"] == 1
    assert dhr["notifications.made"] is None  # a DHR has no notification to the Panel

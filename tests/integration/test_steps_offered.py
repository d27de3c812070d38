"""Whom the case page offers to record a step for (`services.steps.my_steps`): only the
people the engine would accept (`engine.on_behalf_refusal`), so a form never offers a
name the engine then refuses. Under a same-agency rule that is a person of the
recorder's own agency: never one of no agency, nor of another."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from casereview.domain import engine
from casereview.services import cases, steps, users, workflows
from casereview.services.context import ServiceContext

MINIMAL = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "minimal.toml"


def test_a_same_agency_rule_offers_no_one_of_no_agency_or_of_another_agency(
    world, tmp_path, monkeypatch
):
    # The minimal workflow with an officer who may decide. In version 1 an officer acts
    # for no agency, so one is registered without one; version 2 makes officers act for
    # an agency and lets a signer record the decision of an officer of their own agency.
    text = MINIMAL.read_text()
    signer_role = '[[roles]]\nid = "signer"\n'
    deciders = 'roles = ["decider"]\nrequires = ["outcome"]'
    decide = '[[triggers]]\nid = "decide"\n'
    assert signer_role in text and deciders in text and decide in text
    text = text.replace(deciders, 'roles = ["decider", "officer"]\nrequires = ["outcome"]')
    first = text.replace(
        signer_role, '[[roles]]\nid = "officer"\nlabel = "Officer"\n\n' + signer_role
    )
    second = (
        text.replace("\nversion = 1\n", "\nversion = 2\n")
        .replace(
            signer_role,
            '[[roles]]\nid = "officer"\nlabel = "Officer"\nhas_agency = true\n\n' + signer_role,
        )
        .replace(
            decide,
            decide + 'on_behalf = [{ by = ["signer"], for = ["officer"], same_agency = true }]\n',
        )
    )
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "minimal.toml").write_text(first)
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(folder))

    def fresh(account: str) -> ServiceContext:
        """A context made now: its registry reads the folder the variable names."""
        world.contexts.pop(account, None)
        return world.as_(account)

    workflows.install(fresh("admin"), str(folder / "minimal.toml"))
    users.add_user(world.as_("admin"), "dan", "Dan", ["officer"], None)  # no agency
    (folder / "minimal@2.toml").write_text(second)
    workflows.install(fresh("admin"), str(folder / "minimal@2.toml"))
    admin = fresh("admin")
    for name, roles, agency in (
        ("clerk", ["clerk"], None),
        ("lead", ["signer"], "police"),  # records for others
        ("dee", ["officer"], "police"),  # same agency: offered
        ("cat", ["officer"], "council"),  # another agency: never offered
    ):
        users.add_user(admin, name, name.title(), roles, agency)
    from tests.conftest import enrol_keys

    enrol_keys(world.url, "clerk", clock=world.clock)
    clerk = fresh("clerk")
    day = dt.date(2025, 1, 6)
    cases.open_case(
        clerk, "M-1", aware_on=day, fields={"received_on": day.isoformat()}, workflow="minimal@2"
    )
    cases.advance(clerk, "M-1", "start", on=day)

    def offered(account: str) -> dict[str, tuple[str, ...]]:
        ctx = fresh(account)
        view = cases.show_case(ctx, "M-1")
        return {form.trigger: form.for_others for form in steps.my_steps(ctx, view)}

    assert [u.agency for u in users.list_users(admin) if u.username == "dan"] == [None]
    assert offered("lead") == {"decide": ("dee",)}
    # The engine's own answer for each, as the form's choices follow it.
    definition = fresh("lead").registry.get("minimal", 2)
    lead = engine.Person("lead", frozenset({"signer"}), "police")
    people = {
        "dee": engine.Person("dee", frozenset({"officer"}), "police"),
        "dan": engine.Person("dan", frozenset({"officer"})),
        "cat": engine.Person("cat", frozenset({"officer"}), "council"),
    }
    answers = {
        name: engine.on_behalf_refusal(definition, "decide", lead, person, "officer")
        for name, person in people.items()
    }
    assert answers["dee"] is None
    assert answers["dan"] is not None and answers["cat"] is not None

"""Writing through the web: each form makes the same service call as the CLI
(`case advance`, `case open`), records the account that started the server as the
actor, and on a refusal writes nothing and shows the engine's reasons with the form kept
filled in."""

from __future__ import annotations

import re

from casereview.errors import Refused
from casereview.infra.now import FixedClock
from casereview.services import cases, timeline

from ..conftest import enrol_keys
from .conftest import ACCOUNT, TODAY, Site, make_site


def _view(site: Site, ref: str) -> cases.CaseView:
    ctx = site.context()
    try:
        return cases.show_case(ctx, ref)
    finally:
        ctx.close()


def _last_event(site: Site, ref: str):
    ctx = site.context()
    try:
        events = [e for e in timeline.timeline(ctx, ref).entries if hasattr(e, "actor")]
    finally:
        ctx.close()
    return events[-1]


def _step(site: Site, ref: str, trigger: str, **values: str):
    view = _view(site, ref)
    data = {
        "csrf_token": site.csrf(),
        "trigger": trigger,
        "expect_state": view.state,
        "expect_version": str(view.version),
        **values,
    }
    return site.client.post(f"/cases/{ref}", data=data)


def test_a_note_is_recorded_as_the_servers_account_and_redirects_to_the_case(web):
    before = _view(web, "2026-008")
    response = _step(web, "2026-008", "add_note", **{"field-note": "Called the school"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/cases/2026-008#event-")
    after = _view(web, "2026-008")
    assert after.version == before.version + 1
    event = _last_event(web, "2026-008")
    assert event.trigger == "add_note"
    assert event.actor == ACCOUNT  # the account that started the server
    assert event.fields.get("note") == "Called the school"
    assert web.client.get(response.headers["location"]).status_code == 200


def test_a_back_dated_step_takes_the_date_from_the_three_boxes(web):
    import datetime as dt

    latest = dt.date.fromisoformat(_view(web, "2026-008").last_event_on)
    assert latest < TODAY
    response = _step(
        web,
        "2026-008",
        "add_note",
        **{
            "field-note": "Earlier call",
            "on-day": str(latest.day),
            "on-month": str(latest.month),
            "on-year": str(latest.year),
        },
    )
    assert response.status_code == 303
    assert _last_event(web, "2026-008").on == latest


def test_a_refusal_writes_nothing_and_shows_the_reasons_with_the_form_kept(web):
    before = _view(web, "2026-008")
    assert before.state == "rapid_review_signoff"
    response = _step(web, "2026-008", "withdraw", rationale="   ")  # rationale required
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text
    assert "rationale" in response.text.lower()
    assert 'href="#withdraw--rationale"' in response.text
    assert 'id="withdraw--rationale-error"' in response.text
    assert _view(web, "2026-008").version == before.version
    # The refused step's form is open again.
    assert re.search(r'<details class="govuk-details" id="step-withdraw" open>', response.text)


def test_a_refusal_names_the_step_by_its_label_not_its_id(web):
    """The engine's reasons name a trigger by id (the CLI's word); the web page names it
    as its form does, by the workflow's label."""
    before = _view(web, "2026-008")
    assert [r for r in before.rounds if r.waiting_for]  # the round is not complete
    early = _step(web, "2026-008", "submit_rapid_review")
    assert early.status_code == 400
    summary = early.text.split('govuk-error-summary__list"', 1)[1].split("</ul>", 1)[0]
    assert "“Submit the rapid review to the Panel” refused:" in summary
    assert "submit_rapid_review" not in summary
    assert _view(web, "2026-008").version == before.version
    roles = _step(web, "2026-008", "sign_off", **{"field-agency": "police"})
    summary = roles.text.split('govuk-error-summary__list"', 1)[1].split("</ul>", 1)[0]
    assert "“Sign off for an agency” needs one of the roles partner" in summary
    # The command line still names the trigger by the id it takes.
    ctx = web.context()
    try:
        cases.advance(ctx, "2026-008", "submit_rapid_review")
    except Refused as error:
        assert str(error).startswith("submit_rapid_review refused:")
    else:
        raise AssertionError("the engine recorded a submission before the sign-offs")
    finally:
        ctx.close()


def test_a_refused_form_keeps_what_was_typed(web):
    response = _step(
        web,
        "2026-008",
        "add_note",
        **{"field-note": "Kept text", "on-day": "40", "on-month": "2", "on-year": "2026"},
    )
    assert response.status_code == 400
    assert 'href="#add_note--on"' in response.text
    assert 'value="Kept text"' in response.text
    assert 'value="40"' in response.text
    # The message is repeated beside the field, as the GOV.UK pattern has it.
    assert 'id="add_note--on-error" class="govuk-error-message"' in response.text


def test_a_trigger_the_user_may_not_fire_is_refused_by_the_engine(web):
    """The form only offers steps the person holds a role for; editing it to send another
    one reaches the engine, which refuses it: nothing is written."""
    before = _view(web, "2026-008")
    page = web.client.get("/cases/2026-008").text
    assert 'value="sign_off"' not in page or "On behalf of" in page
    response = _step(web, "2026-008", "sign_off", **{"field-agency": "police"})
    assert response.status_code == 400
    assert "partner" in response.text  # the role the engine says it needs
    assert _view(web, "2026-008").version == before.version


def test_a_step_on_a_case_someone_else_moved_is_a_conflict(web):
    view = _view(web, "2026-008")
    ctx = web.context()
    try:
        cases.advance(ctx, "2026-008", "add_note", fields={"note": "meanwhile"})
    finally:
        ctx.close()
    response = web.client.post(
        "/cases/2026-008",
        data={
            "csrf_token": web.csrf(),
            "trigger": "add_note",
            "field-note": "late",
            "expect_state": view.state,
            "expect_version": str(view.version),
        },
    )
    assert response.status_code == 409
    assert "nothing was recorded" in response.text
    assert _view(web, "2026-008").version == view.version + 1


def test_only_steps_the_person_may_take_are_offered(web):
    view = _view(web, "2026-008")
    page = web.client.get("/cases/2026-008").text
    offered = set(re.findall(r'name="trigger" value="([^"]+)"', page))
    assert offered
    ctx = web.context()
    try:
        from casereview.services import users

        roles = set(users.get_user(ctx, ACCOUNT).roles)
    finally:
        ctx.close()
    for option in view.possible:
        if roles & set(option.roles):
            assert option.trigger in offered


def test_a_partner_signs_off_the_round(database):
    enrol_keys(f"sqlite:///{database}", "demo-icb", admin=ACCOUNT, clock=FixedClock(TODAY))
    site = make_site(database, account="demo-icb")
    site.sign_in()
    view = _view(site, "2026-008")
    assert [r for r in view.rounds if "icb" in r.waiting_for], view.rounds
    page = site.client.get("/cases/2026-008").text
    assert 'value="sign_off"' in page
    assert "On behalf of" not in page  # a partner signs for themselves
    response = _step(site, "2026-008", "sign_off", **{"field-agency": "icb"})
    assert response.status_code == 303, response.text
    event = _last_event(site, "2026-008")
    assert event.trigger == "sign_off" and event.actor == "demo-icb"
    after = _view(site, "2026-008")
    assert all(not r.waiting_for for r in after.rounds)


def test_the_business_unit_records_a_sign_off_on_behalf_of_a_partner(web):
    page = web.client.get("/cases/2026-008").text
    assert 'value="sign_off"' in page and "On behalf of" in page
    assert '<option value="demo-icb">' in page
    response = _step(
        web, "2026-008", "sign_off", on_behalf_of="demo-icb", **{"field-agency": "icb"}
    )
    assert response.status_code == 303, response.text
    event = _last_event(web, "2026-008")
    assert event.actor == ACCOUNT and event.on_behalf_of == "demo-icb"


def test_opening_a_case(web):
    form = web.client.get("/open")
    assert form.status_code == 200
    response = web.client.post(
        "/open",
        data={
            "csrf_token": web.csrf(),
            "ref": "2026-300",
            "aware-on-day": "12",
            "aware-on-month": "2",
            "aware-on-year": "2026",
            "pseudonym": "Child Web",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/cases/2026-300"
    view = _view(web, "2026-300")
    assert view.pseudonym == "Child Web"
    assert _last_event(web, "2026-300").actor == ACCOUNT


def test_opening_a_case_that_exists_is_refused_and_writes_nothing(web):
    response = web.client.post(
        "/open",
        data={
            "csrf_token": web.csrf(),
            "ref": "2026-001",
            "aware-on-day": "12",
            "aware-on-month": "2",
            "aware-on-year": "2026",
        },
    )
    assert response.status_code == 409
    assert "already exists" in response.text
    assert 'value="2026-001"' in response.text


def test_an_account_that_is_not_a_user_reads_and_writes_nothing(database):
    site = make_site(database, account="stranger")
    site.sign_in()
    page = site.client.get("/")
    assert page.status_code == 403
    assert "not a casereview user" in page.text
    response = site.client.post(
        "/cases/2026-008",
        data={"csrf_token": site.csrf(), "trigger": "add_note", "field-note": "x"},
    )
    assert response.status_code in (400, 403)
    owner = make_site(database)
    assert _last_event(owner, "2026-008").actor != "stranger"


def test_a_missing_field_is_linked_and_marked_beside_its_box(web):
    before = _view(web, "2026-008")
    response = _step(web, "2026-008", "add_note")  # the note itself is required
    assert response.status_code == 400
    assert 'href="#add_note--field-note"' in response.text
    assert 'id="add_note--field-note-error"' in response.text
    assert "govuk-input--error" in response.text
    assert _view(web, "2026-008").version == before.version

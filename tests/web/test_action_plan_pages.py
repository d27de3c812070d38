"""A case's recommendations and actions on the web: the case page lists them, the due
page lists what an agency owes, and each action's date is explained (the plan built by
tests/actions_support.py, as the report's tests read it)."""

from __future__ import annotations

import pytest

from casereview.services import actions
from tests.actions_support import ACTIONS_DIR, END, SCRIPT, build

from .conftest import make_site


@pytest.fixture
def planned(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
    path = tmp_path / "plan.db"
    desk = build(f"sqlite:///{path}")
    desk.close()
    site = make_site(path, account="bu", today=END)
    site.sign_in()
    return site


def test_the_case_page_lists_recommendations_and_actions(planned):
    text = planned.client.get("/cases/NR-1").text
    assert 'id="recommendations"' in text and 'id="actions"' in text
    for number in ("1.1", "2.1", "3.1", "4.1", "4.2", "5.1", "6.1"):
        assert f'href="/explain/action-{number}/NR-1"' in text
    assert SCRIPT not in text  # a recommendation's text is shown escaped
    assert "&lt;script&gt;" in text


def test_the_due_page_lists_what_an_agency_owes(planned):
    ctx = planned.context()
    try:
        owed = actions.actions_due(ctx, agency="local_authority")
    finally:
        ctx.close()
    assert [a.action for a in owed] == ["4.1"]
    text = planned.client.get("/?agency=local_authority").text
    table = text.split('id="actions-owed"', 1)[1].split("</table>", 1)[0]
    assert 'href="/explain/action-4.1/NR-1"' in table
    assert "overdue" in table
    assert "action-1.1" not in table  # met: not owed


def test_an_actions_date_is_explained(planned):
    from casereview.presenters import actions as words

    ctx = planned.context()
    try:
        why = actions.explain_action(ctx, "NR-1", "3.1")
    finally:
        ctx.close()
    response = planned.client.get("/explain/action-3.1/NR-1")
    assert response.status_code == 200
    assert words.why_heading(why) in response.text
    assert "Audit postponed by the inspection" in response.text  # the extension's reason

"""Admin on the web: users (list, add, roles, deactivate and reactivate) through the same
services as `casereview user …`, so the last-admin rule and the events are the CLI's;
agencies; installed workflows (list, install one found on the server); checkpoints.
Anyone but an admin gets 403 and nothing of the page; every form carries the CSRF token
and refuses a POST without it, writing nothing."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from starlette.testclient import TestClient

from casereview.domain.chain import Checkpoint
from casereview.services import audit, users, workflows
from tests.conftest import FIXTURES, enrol_keys
from tests.web.conftest import current_section

from .conftest import TODAY, make_site

FORMS = [
    ("/admin/users", {"username": "jo", "display_name": "Jo Bloggs", "role": "chair"}),
    ("/admin/roles", {"username": "demo-icb", "grant_role": "scrutineer"}),
    ("/admin/users/demo-icb", {"action": "deactivate"}),
    ("/admin/users/demo-icb", {"action": "revoke", "role": "partner"}),
    ("/admin/workflows", {"workflow_id": "minimal", "version": "1"}),
    ("/admin/checkpoint", {}),
]


def _people(site):
    ctx = site.context()
    try:
        return {u.username: u for u in users.list_users(ctx, include_inactive=True)}
    finally:
        ctx.close()


def _head(site) -> int:
    ctx = site.context()
    try:
        return audit.checkpoint(ctx).event_count
    finally:
        ctx.close()


def _errors(text: str) -> list[str]:
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', text, re.S)
    assert summary is not None, "no error summary"
    return [" ".join(li.split()) for li in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)]


def test_the_admin_page_lists_users_agencies_and_workflows(web):
    text = web.client.get("/admin").text
    assert current_section(text) == "Admin"
    people = _people(web)
    # The demo: its officer (admin, business unit, chair) and three partners.
    assert sorted(people) == ["demo", "demo-icb", "demo-la", "demo-police"]
    table = text.split('id="users-table"', 1)[1].split("</table>", 1)[0]
    assert len(re.findall(r'<tr class="govuk-table__row" id="user-', table)) == 4
    for name in people:
        assert f'id="user-{name}"' in table
    agencies = text.split('id="agencies-list"', 1)[1].split("</dl>", 1)[0]
    assert "Police partner (demo) (demo-police)" in agencies
    ctx = web.context()
    try:
        listed = workflows.listing(ctx).workflows
    finally:
        ctx.close()
    rows = text.split('id="workflows-table"', 1)[1].split("</table>", 1)[0]
    assert len(re.findall(r'<tr class="govuk-table__row">\s*<td', rows)) == len(listed) == 6
    assert "england-lcspr" in rows and "wales-susr" in rows


def test_every_admin_form_carries_the_session_token(web):
    text = web.client.get("/admin").text
    forms = re.findall(r"<form method=\"post\".*?</form>", text, re.S)
    # Per user: a button per role and one to deactivate; add, grant, checkpoint, sign out.
    assert len(forms) == sum(len(u.roles) + 1 for u in _people(web).values()) + 4
    for form in forms:
        assert f'name="csrf_token" value="{web.csrf()}"' in form


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_every_admin_post_without_the_token_is_refused_and_writes_nothing(web, path, data):
    before = _head(web)
    for token in (None, "wrong"):
        sent = dict(data) if token is None else {**data, "csrf_token": token}
        response = web.client.post(path, data=sent)
        assert response.status_code == 403
        assert "content-disposition" not in response.headers
    assert _head(web) == before


@pytest.fixture
def partner(database):
    """A site signed in as a demo partner: a registered user, not an admin."""
    enrol_keys(f"sqlite:///{database}", "demo-police", admin="demo")
    site = make_site(database, account="demo-police")
    site.sign_in()
    return site


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_anyone_but_an_admin_gets_403_and_nothing(partner, path, data):
    page = partner.client.get("/admin")
    assert page.status_code == 403
    assert 'id="users-table"' not in page.text and "demo-icb" not in page.text
    assert 'href="/admin"' not in partner.client.get("/").text  # no Admin in the menu
    before = _head(partner)
    response = partner.client.post(path, data={**data, "csrf_token": partner.csrf()})
    assert response.status_code == 403
    assert "content-disposition" not in response.headers
    assert "head_hash" not in response.text
    assert _head(partner) == before


def test_a_user_is_added_with_the_clis_event(web):
    before = _head(web)
    response = web.client.post(
        "/admin/users",
        data={
            "csrf_token": web.csrf(),
            "username": "jo",
            "display_name": "Jo Bloggs",
            "role": ["chair", "scrutineer"],
        },
    )
    assert response.status_code == 303
    # Post/redirect/get to a banner saying what was done; the address names no one.
    assert response.headers["location"] == "/admin?done=user-added#users"
    assert "jo" not in response.headers["location"].lower().replace("done", "")
    shown = web.client.get(response.headers["location"]).text
    banner = shown.split('id="done"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "govuk-notification-banner--success" in shown.split('id="done"', 1)[0][-200:]
    assert "The user has been added." in banner
    assert "The user has been added." not in web.client.get("/admin").text
    assert "Jo Bloggs" in shown
    assert _people(web)["jo"] == users.UserView(
        "jo", "Jo Bloggs", ("chair", "scrutineer"), None, True
    )
    assert _head(web) == before + 1
    log = json.loads(web.client.get("/reports/download/decision-log.json").content)
    assert log["meta"]["chain_head"]["seq"] == before + 1


def test_a_refused_addition_is_shown_in_the_error_summary_and_writes_nothing(web):
    before = _head(web)
    again = web.client.post(
        "/admin/users",
        data={
            "csrf_token": web.csrf(),
            "username": "demo-la",
            "display_name": "X",
            "role": "chair",
        },
    )
    assert again.status_code == 409
    assert "already exists" in _errors(again.text)[0]
    partner = web.client.post(
        "/admin/users",
        data={
            "csrf_token": web.csrf(),
            "username": "kim",
            "display_name": "Kim",
            "role": "partner",
        },
    )
    assert partner.status_code == 400
    assert "acts for an agency" in _errors(partner.text)[0]
    assert 'value="Kim"' in partner.text  # the form is kept filled
    nameless = web.client.post(
        "/admin/users", data={"csrf_token": web.csrf(), "username": "kim", "role": "chair"}
    )
    assert nameless.status_code == 400
    assert 'href="#display-name"' in nameless.text
    assert _head(web) == before
    assert "kim" not in _people(web)


def test_roles_are_given_and_taken(web):
    token = web.csrf()
    given = web.client.post(
        "/admin/roles",
        data={"csrf_token": token, "username": "demo-icb", "grant_role": "scrutineer"},
    )
    assert given.status_code == 303
    assert _people(web)["demo-icb"].roles == ("partner", "scrutineer")
    taken = web.client.post(
        "/admin/users/demo-icb", data={"csrf_token": token, "action": "revoke", "role": "partner"}
    )
    assert taken.status_code == 303
    assert taken.headers["location"] == "/admin?done=role-taken#user-demo-icb"
    assert given.headers["location"] == "/admin?done=role-given#users"
    assert "The role has been taken away." in web.client.get(taken.headers["location"]).text
    # Only the codes the page knows make a banner: any other shows none.
    assert "govuk-notification-banner" not in web.client.get("/admin?done=<b>x</b>").text
    assert _people(web)["demo-icb"].roles == ("scrutineer",)


def test_the_last_admin_keeps_admin_and_stays_active(web):
    before = _head(web)
    for data in ({"action": "revoke", "role": "admin"}, {"action": "deactivate"}):
        response = web.client.post("/admin/users/demo", data={**data, "csrf_token": web.csrf()})
        assert response.status_code == 400
        assert "is the last active admin" in _errors(response.text)[0]
    assert _head(web) == before
    assert _people(web)["demo"].active and "admin" in _people(web)["demo"].roles


def test_a_user_is_deactivated_and_reactivated(web):
    token = web.csrf()
    off = web.client.post(
        "/admin/users/demo-la", data={"csrf_token": token, "action": "deactivate"}
    )
    assert off.status_code == 303
    assert not _people(web)["demo-la"].active
    text = web.client.get("/admin").text
    row = text.split('id="user-demo-la"', 1)[1].split("</tr>", 1)[0]
    assert "deactivated" in row and ">Reactivate<" in row
    on = web.client.post("/admin/users/demo-la", data={"csrf_token": token, "action": "reactivate"})
    assert on.status_code == 303
    assert _people(web)["demo-la"].active


def test_a_workflow_found_on_the_server_is_installed(web, tmp_path, monkeypatch):
    folder = tmp_path / "workflows"
    folder.mkdir()
    shutil.copy(FIXTURES / "workflows" / "minimal.toml", folder / "minimal.toml")
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(folder))
    site = make_site(web.url.removeprefix("sqlite:///"), sessions=web.sessions)
    site.client.cookies.update(web.client.cookies)
    text = site.client.get("/admin").text
    assert '<input type="hidden" name="workflow_id" value="minimal">' in text
    response = site.client.post(
        "/admin/workflows",
        data={"csrf_token": web.csrf(), "workflow_id": "minimal", "version": "1"},
    )
    assert response.status_code == 303, response.text
    ctx = site.context()
    try:
        status = {(w.workflow_id, w.version): w.status for w in workflows.listing(ctx).workflows}
    finally:
        ctx.close()
    assert status[("minimal", 1)] == "installed"
    again = site.client.post(
        "/admin/workflows",
        data={"csrf_token": web.csrf(), "workflow_id": "nowhere", "version": "1"},
    )
    assert again.status_code in (400, 404)
    assert _errors(again.text)


def test_a_checkpoint_is_made_and_downloaded(web):
    response = web.client.post("/admin/checkpoint", data={"csrf_token": web.csrf()})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    head = _head(web)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="checkpoint-{head}.json"'
    )
    taken = Checkpoint.from_json(response.text)
    assert taken.event_count == head
    assert taken.created_at.startswith(TODAY.isoformat())
    assert response.text.endswith("}\n")


def test_a_new_client_is_not_an_admin_without_signing_in(anonymous):
    client = TestClient(anonymous.client.app, follow_redirects=False)
    assert client.get("/admin").status_code == 303
    assert client.post("/admin/checkpoint", data={}).status_code == 403

"""A case whose workflow no file holds any more (installed from a file since removed:
the database kept its content) still shows its page and the steps the person may take,
from the definition the case pinned, as `case advance` takes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks import generate
from starlette.testclient import TestClient

from casereview.infra.identity import os_account
from casereview.services import cases, steps
from casereview.services.context import ServiceContext
from casereview.web import auth
from casereview.web.app import create_app
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="a generated SQLite file")


def test_a_case_on_a_workflow_kept_only_in_the_database_shows_its_steps(
    tmp_path: Path, monkeypatch
) -> None:
    db = tmp_path / "kept.db"
    generate.build(db, 30, seed=7)  # installs its plan workflow from a file it then removes
    monkeypatch.setenv("CASEREVIEW_KEY_DIR", str(generate.key_dir(db)))
    url = f"sqlite:///{db}"
    ctx = ServiceContext(url, os_account())
    try:
        kept = [c for c in cases.list_cases(ctx) if c.workflow == f"{generate.PLAN_WORKFLOW} v1"]
        assert kept and not ctx.registry.has_file(generate.PLAN_WORKFLOW, 1)
        ref = next(c.ref for c in kept if not c.closed)
        view = cases.show_case(ctx, ref)
        offered = {form.trigger for form in steps.my_steps(ctx, view)}
    finally:
        ctx.close()
    assert "add_note" in offered
    links = auth.SignInLinks()
    client = TestClient(
        create_app(lambda: ServiceContext(url, os_account()), links=links), follow_redirects=False
    )
    assert client.get(f"/sign-in?token={links.token}").status_code == 303
    page = client.get(f"/cases/{ref}")
    assert page.status_code == 200
    assert 'value="add_note"' in page.text

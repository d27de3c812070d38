"""The web interface against a real SQLite file seeded by the demo (as of a fixed day),
through Starlette's TestClient. `web` signs in with the one-time link; `anonymous` has
no session."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from casereview.infra.now import FixedClock
from casereview.services import demo
from casereview.services.context import ServiceContext
from casereview.web import auth
from casereview.web.app import create_app

TODAY = dt.date(2026, 2, 16)
ACCOUNT = "demo"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's cases in a file, made once per module (copied for each test)."""
    folder = tmp_path_factory.mktemp("web-seed")
    path = folder / "demo.db"
    demo.seed(f"sqlite:///{path}", ACCOUNT, TODAY)
    return path


@dataclass
class Site:
    client: TestClient
    links: auth.SignInLinks
    sessions: auth.SessionStore
    url: str
    account: str

    def context(self) -> ServiceContext:
        return ServiceContext(self.url, self.account, FixedClock(TODAY))

    def sign_in(self) -> None:
        response = self.client.get(f"/sign-in?token={self.links.token}", follow_redirects=False)
        assert response.status_code == 303, response.text

    def csrf(self) -> str:
        session = self.sessions.get(self.client.cookies.get(auth.COOKIE))
        assert session is not None
        return session.csrf_token


def make_site(path: Path, account: str = ACCOUNT, today: dt.date = TODAY, **kwargs: object) -> Site:
    url = f"sqlite:///{path}"
    links = auth.SignInLinks()
    sessions = kwargs.pop("sessions", None) or auth.SessionStore()
    app = create_app(
        lambda: ServiceContext(url, account, FixedClock(today)),
        links=links,
        sessions=sessions,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    client = TestClient(app, follow_redirects=False)
    return Site(client, links, sessions, url, account)  # type: ignore[arg-type]


@pytest.fixture
def database(seeded: Path, tmp_path: Path) -> Path:
    """A copy of the seeded file this test may write to."""
    copy = tmp_path / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{seeded}{suffix}")
        if source.exists():
            shutil.copy2(source, f"{copy}{suffix}")
    return copy


@pytest.fixture
def anonymous(database: Path) -> Site:
    return make_site(database)


@pytest.fixture
def web(anonymous: Site) -> Site:
    anonymous.sign_in()
    return anonymous


def current_section(page: str) -> str | None:
    """The label of the section the page's navigation marks as current (None if none)."""
    import re

    found = re.search(
        r'<a class="govuk-service-navigation__link" href="[^"]*" aria-current="page">\s*'
        r"(?:<strong[^>]*>)?([^<]+?)\s*<",
        page,
    )
    return found.group(1) if found else None

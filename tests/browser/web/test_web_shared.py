"""A shared installation in a real browser: `casereview serve --shared` started as a
subprocess, people signing in through an identity provider running locally
(`oidc-provider-mock`, on another site than the server: `localhost` against
`127.0.0.1`), and the pages of shared mode passing the checks of `Pages.check`.

What only a real browser shows: after the provider sends the browser back, the session
cookie (SameSite=Strict) is sent on the way on to the first page, so the person lands
on what is due and not on "Sign in" again.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.web.test_web_journeys import Served, free_port, heading, listening

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def served_shared(
    tmp_path_factory: pytest.TempPathFactory, browser: Any, provider_url: str
) -> Iterator[Served]:
    """The demonstration cases served in shared mode; alice (business unit) is linked to
    her identity at the provider and has no signing key yet."""
    import queue
    import threading
    import time

    import casereview
    from casereview.infra.identity import os_account
    from casereview.infra.now import FixedClock
    from casereview.services import demo, identities, users
    from casereview.services.context import ServiceContext
    from casereview.web.settings import CALLBACK_PATH, ENVIRONMENT

    folder = tmp_path_factory.mktemp("served-shared")
    path = folder / "demo.db"
    url = f"sqlite:///{path}"
    today = dt.date.today()
    demo.seed(url, os_account(), today)
    admin = ServiceContext(url, os_account(), FixedClock(today))
    try:
        users.add_user(admin, "alice", "Alice Adeyemi", ["business_unit"], None)
        identities.link(admin, "alice", provider_url, "alice-at-the-provider")
    finally:
        admin.close()
    secret, kek = folder / "client-secret", folder / "kek"
    secret.write_text("the client secret\n")
    kek.write_text(os.urandom(32).hex())
    for private in (secret, kek):
        private.chmod(0o600)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(casereview.__file__).resolve().parents[1]),
        ENVIRONMENT["issuer"]: provider_url,
        ENVIRONMENT["client_id"]: "casereview-web",
        ENVIRONMENT["client_secret_file"]: str(secret),
        ENVIRONMENT["redirect_uri"]: f"{base}{CALLBACK_PATH}",
        ENVIRONMENT["key_encryption_key_file"]: str(kek),
        ENVIRONMENT["server_key_dir"]: str(folder / "held"),
        ENVIRONMENT["partnership_name"]: "Northshire Safeguarding Children Partnership",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "casereview",
            "serve",
            "--shared",
            "--db",
            str(path),
            "--port",
            str(port),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    site = Served(base, process, lines)
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            assert process.poll() is None, f"casereview serve ended: {list(lines.queue)}"
            assert time.monotonic() < deadline, "casereview serve did not start listening"
            time.sleep(0.1)
        yield site
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
    assert not any("Sign in at" in line for line in list(lines.queue)), "a link was printed"


def _at_the_provider(page: Any, provider_url: str, subject: str) -> None:
    """The provider's own sign-in page (not casereview's: not checked)."""
    assert page.url.startswith(provider_url), page.url
    page.fill('input[name="sub"]', subject)
    page.click('button:has-text("Authorize")')


def test_a_person_signs_in_with_the_provider_and_sets_up_a_signing_key(
    open_pages, served_shared, provider_url
):
    alice = open_pages(served_shared.base)
    page = alice.page
    page.goto("/")
    assert page.url == f"{served_shared.base}/signed-out"
    assert "Northshire Safeguarding Children Partnership" in page.locator("header").inner_text()
    alice.check("shared-signed-out")
    page.click("#sign-in")
    _at_the_provider(page, provider_url, "alice-at-the-provider")
    # Back from the provider, on to what is due: the session cookie went with it.
    page.wait_for_url(f"{served_shared.base}/")
    assert "Signed in as Alice Adeyemi" in page.locator("header").inner_text()
    page.goto("/signing-key")
    assert heading(page) == "Your signing key"
    alice.check("signing-key-none")
    page.click("#enrol")
    page.wait_for_url(f"{served_shared.base}/signing-key")
    kid = page.locator("#key-id").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{8,}", kid), kid
    assert page.locator("#ask-to-confirm").is_visible()
    alice.check("signing-key-unconfirmed")


def test_an_identity_no_admin_linked_sees_only_ask_your_admin(
    open_pages, served_shared, provider_url
):
    stranger = open_pages(served_shared.base)
    page = stranger.page
    page.goto("/sign-in")
    _at_the_provider(page, provider_url, "nobody-linked-this")
    page.wait_for_url(re.compile(re.escape(f"{served_shared.base}/sign-in/callback")))
    assert heading(page) == "Ask your admin to add you"
    assert "Signed in as" not in page.locator("header").inner_text()
    stranger.check("ask-your-admin")
    page.goto("/")
    assert page.url == f"{served_shared.base}/signed-out"

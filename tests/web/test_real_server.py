"""`casereview serve` as a real process: uvicorn on a free port of 127.0.0.1, the sign-in
link on its stderr, the link opening a session, and a page behind it. The process is
stopped by its own id at the end."""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import socket
import subprocess
import sys
import urllib.parse

import pytest

from tests.conftest import register_cli_account

from .conftest import ACCOUNT, TODAY


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _line(process: subprocess.Popen[str], wanted: str, limit: float = 120.0) -> str:
    """The first line of the server's stderr that starts with `wanted`."""
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    while True:
        if not selector.select(timeout=limit):
            pytest.fail(f"the server printed no line starting {wanted!r}")
        line = process.stderr.readline()
        if not line:
            pytest.fail(f"the server stopped before printing {wanted!r}")
        if line.startswith(wanted):
            return line.strip()


def test_serve_starts_and_its_link_signs_in(database):
    url = f"sqlite:///{database}"
    register_cli_account(url, ACCOUNT, roles=("scrutineer",), today=TODAY)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "casereview", "serve", "--port", str(port), "--db", str(database)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ},
    )
    try:
        link = _line(process, "Sign in at: ").removeprefix("Sign in at: ")
        parsed = urllib.parse.urlsplit(link)
        assert (parsed.hostname, parsed.port, parsed.path) == ("127.0.0.1", port, "/sign-in")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", f"{parsed.path}?{parsed.query}")
        signed_in = connection.getresponse()
        signed_in.read()
        assert signed_in.status == 303
        cookie = signed_in.getheader("set-cookie", "").split(";", 1)[0]
        assert cookie.startswith("casereview_session=")
        _line(process, "Sign in at: ")  # the next link, printed once this one was used
        connection.request("GET", "/cases", headers={"Cookie": cookie})
        page = connection.getresponse()
        body = page.read().decode()
        assert page.status == 200
        assert "2026-001" in body
        assert page.getheader("content-security-policy", "").startswith("default-src 'self'")
        connection.close()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

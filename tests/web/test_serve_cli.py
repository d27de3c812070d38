"""`casereview serve`: parses its options and makes one call into the web package with a
context maker acting as the account the CLI acts as (the server itself is not started
here: `web.app.serve` is replaced)."""

from __future__ import annotations

import pytest

from casereview.web import app as web_app


@pytest.fixture
def served(monkeypatch):
    calls: list[dict[str, object]] = []

    def fake_serve(contexts, *, host, port):
        calls.append({"contexts": contexts, "host": host, "port": port})

    monkeypatch.setattr(web_app, "serve", fake_serve)
    return calls


def test_serve_defaults_to_this_machine_only(cli, served, seeded):
    result = cli("serve", "--db", str(seeded))
    assert result.exit_code == 0, result.stderr
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 8000
    assert "Serving casereview as" in result.stderr


def test_serve_acts_as_the_account_the_cli_acts_as(cli, served, seeded):
    from casereview.services.context import ServiceContext

    assert cli("serve", "--port", "8123", "--db", str(seeded)).exit_code == 0
    ctx = served[0]["contexts"]()  # type: ignore[operator]
    try:
        expected = ServiceContext.from_options(str(seeded))
        assert ctx.account == expected.account
        assert ctx.url == expected.url
    finally:
        ctx.close()
    assert served[0]["port"] == 8123


def test_a_port_out_of_range_is_a_usage_error(cli, served):
    result = cli("serve", "--port", "70000")
    assert result.exit_code == 2
    assert not served


def test_the_sign_in_link_is_printed_and_renewed_after_use(capsys):
    """What `serve` prints on its console: the link at start and after each use."""
    from casereview.web import auth

    lines: list[str] = []
    links = auth.SignInLinks(lambda token: lines.append(f"/sign-in?token={token}"))
    assert lines == [f"/sign-in?token={links.token}"]
    assert links.spend(links.token)
    assert len(lines) == 2 and lines[1].endswith(links.token)
    assert not links.spend(lines[0].split("=", 1)[1])


def test_serve_binds_then_prints_the_sign_in_url_and_runs_uvicorn(monkeypatch, capsys, seeded):
    import socket

    import uvicorn
    from starlette.testclient import TestClient

    from casereview.infra.now import FixedClock
    from casereview.services.context import ServiceContext

    from .conftest import ACCOUNT, TODAY

    ran: dict[str, object] = {}

    def fake_run(server, sockets=None):
        ran.update(app=server.config.app, access_log=server.config.access_log)
        ran["bound"] = sockets[0].getsockname()
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    web_app.serve(
        lambda: ServiceContext(f"sqlite:///{seeded}", ACCOUNT, FixedClock(TODAY)),
        host="127.0.0.1",
        port=port,
    )
    printed = capsys.readouterr().err
    assert printed.startswith(f"Sign in at: http://127.0.0.1:{port}/sign-in?token=")
    assert ran["bound"] == ("127.0.0.1", port)
    assert ran["access_log"] is False  # its lines would hold tokens and case references
    token = printed.strip().rsplit("=", 1)[1]
    client = TestClient(ran["app"], base_url=f"http://127.0.0.1:{port}", follow_redirects=False)  # type: ignore[arg-type]
    assert client.get(f"/sign-in?token={token}").status_code == 303
    assert "Sign in at:" in capsys.readouterr().err  # the next link


def test_a_port_in_use_is_one_error_line(cli, seeded):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port), "--db", str(seeded))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: cannot listen on 127.0.0.1")
    assert "--port" in result.stderr
    assert "Sign in at" not in result.stderr

"""`casereview serve --shared`: reads its settings, checks the client secret's and the
key-encryption key's files, reads the provider's discovery document, opens the database
once, and hands the web package a `SharedSignIn` whose contexts act for the person
named (the server itself is not started: `web.app.serve` is replaced)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from oidc_provider_mock import run_server_in_thread

from casereview.errors import ExitCode
from casereview.web import app as web_app
from casereview.web.settings import CALLBACK_PATH, ENVIRONMENT

pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def served(monkeypatch):
    calls: list[dict[str, object]] = []

    def fake_serve(contexts, *, host, port, shared=None):
        seen: dict[str, object] = {"host": host, "port": port, "shared": shared}
        if shared is not None:
            ctx = shared.person("alice")
            seen["account"], seen["keys"] = ctx.account, ctx.server_keys
            ctx.close()
        calls.append(seen)

    monkeypatch.setattr(web_app, "serve", fake_serve)
    return calls


def _private(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def environment(tmp_path: Path, provider_url: str) -> dict[str, str]:
    return {
        ENVIRONMENT["issuer"]: provider_url,
        ENVIRONMENT["client_id"]: "casereview-web",
        ENVIRONMENT["client_secret_file"]: str(_private(tmp_path / "secret", "s3cret\n")),
        ENVIRONMENT["redirect_uri"]: f"https://casereview.example.org{CALLBACK_PATH}",
        ENVIRONMENT["key_encryption_key_file"]: str(
            _private(tmp_path / "kek", os.urandom(32).hex())
        ),
        ENVIRONMENT["server_key_dir"]: str(tmp_path / "held"),
        ENVIRONMENT["partnership_name"]: "Northshire Safeguarding Children Partnership",
    }


def test_serve_shared_acts_for_the_person_signed_in(cli, served, seeded, environment, tmp_path):
    result = cli("serve", "--shared", "--db", str(seeded), env=environment)
    assert result.exit_code == 0, result.stderr
    shared = served[0]["shared"]
    assert shared is not None
    assert shared.client.client_secret == "s3cret"  # read from its file
    assert shared.client.redirect_uri.endswith(CALLBACK_PATH)
    assert shared.provider.issuer == environment[ENVIRONMENT["issuer"]]
    assert shared.partnership_name == "Northshire Safeguarding Children Partnership"
    assert served[0]["account"] == "alice"
    assert served[0]["keys"].folder == tmp_path / "held"
    assert "Sign in at" not in result.stderr  # no one-time link in shared mode
    assert "for the people who sign in with" in result.stderr


def test_the_settings_may_come_from_a_file(cli, served, seeded, environment, tmp_path):
    settings = tmp_path / "shared.toml"
    settings.write_text(
        f'[shared]\nclient_id = "from-the-file"\nissuer = "{environment[ENVIRONMENT["issuer"]]}"\n'
    )
    env = {k: v for k, v in environment.items() if k not in (ENVIRONMENT["client_id"],)}
    env[ENVIRONMENT["issuer"]] = ""
    result = cli("serve", "--shared", "--settings", str(settings), "--db", str(seeded), env=env)
    assert result.exit_code == 0, result.stderr
    assert served[0]["shared"].client.client_id == "from-the-file"  # type: ignore[union-attr]


def test_a_client_secret_others_can_read_is_refused(cli, served, seeded, environment):
    Path(environment[ENVIRONMENT["client_secret_file"]]).chmod(0o644)
    result = cli("serve", "--shared", "--db", str(seeded), env=environment)
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert "can be read or written by other accounts" in result.stderr
    assert not served


def test_a_key_encryption_key_others_can_read_is_refused(cli, served, seeded, environment):
    Path(environment[ENVIRONMENT["key_encryption_key_file"]]).chmod(0o640)
    result = cli("serve", "--shared", "--db", str(seeded), env=environment)
    assert result.exit_code == ExitCode.REFUSED
    assert not served


def test_missing_settings_are_one_error_line(cli, served, seeded, environment):
    env = {**environment, ENVIRONMENT["client_id"]: ""}
    result = cli("serve", "--shared", "--db", str(seeded), env=env)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("Error: ") and "client_id" in result.stderr
    assert not served


def test_a_provider_that_does_not_answer_is_refused_before_serving(
    cli, served, seeded, environment
):
    env = {**environment, ENVIRONMENT["issuer"]: "http://127.0.0.1:9"}  # discard: no server
    result = cli("serve", "--shared", "--db", str(seeded), env=env)
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith("Error: ")
    assert not served


def test_settings_without_shared_is_a_usage_error(cli, served, seeded, tmp_path):
    result = cli("serve", "--settings", str(tmp_path / "x.toml"), "--db", str(seeded))
    assert result.exit_code == 2
    assert not served


def test_a_client_secret_file_of_another_account_a_link_or_empty_is_refused(tmp_path):
    from casereview.infra.keys import KeyFileError
    from casereview.infra.server_keys import ServerKeyError, read_secret

    secret = _private(tmp_path / "secret", "s3cret\n")
    assert read_secret(secret) == "s3cret"
    link = tmp_path / "link"
    link.symlink_to(secret)
    with pytest.raises(KeyFileError, match="symbolic link"):
        read_secret(link)
    with pytest.raises(ServerKeyError, match="is empty"):
        read_secret(_private(tmp_path / "empty", "\n"))
    with pytest.raises(ServerKeyError, match="does not exist"):
        read_secret(tmp_path / "absent")
    if os.geteuid() == 0:
        foreign = _private(tmp_path / "foreign", "s3cret")
        os.chown(foreign, 65534, 65534)
        with pytest.raises(KeyFileError, match="belongs to another account"):
            read_secret(foreign)


def test_a_shared_server_answers_to_its_public_name_too():
    hosts = web_app.shared_hosts_for("127.0.0.1", f"https://casereview.example.org{CALLBACK_PATH}")
    assert "casereview.example.org" in hosts and "127.0.0.1" in hosts
    assert "elsewhere.example.org" not in hosts
    assert web_app.shared_hosts_for("0.0.0.0", "https://x.example.org/sign-in/callback") == ("*",)

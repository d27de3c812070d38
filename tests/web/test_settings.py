"""The settings of `casereview serve --shared` (`web.settings`): from a TOML file and the
environment, the environment winning; refused, naming what is missing or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from casereview.errors import InvalidInput
from casereview.web.settings import CALLBACK_PATH, ENVIRONMENT, load

ISSUER = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
REDIRECT = f"https://casereview.partnership.example.org{CALLBACK_PATH}"

FULL = {
    ENVIRONMENT["issuer"]: ISSUER,
    ENVIRONMENT["client_id"]: "client-1",
    ENVIRONMENT["client_secret_file"]: "/etc/casereview/client-secret",
    ENVIRONMENT["redirect_uri"]: REDIRECT,
    ENVIRONMENT["key_encryption_key_file"]: "/etc/casereview/kek",
}


def _toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_from_the_environment():
    settings = load(None, {**FULL, ENVIRONMENT["partnership_name"]: "Northshire SCP"})
    assert settings.issuer == ISSUER
    assert settings.client_id == "client-1"
    assert settings.client_secret_file == Path("/etc/casereview/client-secret")
    assert settings.redirect_uri == REDIRECT
    assert settings.key_encryption_key_file == Path("/etc/casereview/kek")
    assert settings.server_key_dir is None
    assert settings.partnership_name == "Northshire SCP"


def test_settings_from_a_file_and_the_environment_wins(tmp_path):
    path = _toml(
        tmp_path / "shared.toml",
        f"""
[shared]
issuer = "{ISSUER}"
client_id = "from-the-file"
client_secret_file = "/srv/secret"
redirect_uri = "{REDIRECT}"
key_encryption_key_file = "/srv/kek"
server_key_dir = "/srv/held"
""",
    )
    settings = load(path, {ENVIRONMENT["client_id"]: "from-the-environment"})
    assert settings.client_id == "from-the-environment"
    assert settings.client_secret_file == Path("/srv/secret")
    assert settings.server_key_dir == Path("/srv/held")
    # An empty variable does not blank a setting of the file.
    assert load(path, {ENVIRONMENT["client_id"]: " "}).client_id == "from-the-file"


def test_missing_settings_are_named_with_their_variables():
    partial = {k: v for k, v in FULL.items() if k != ENVIRONMENT["client_secret_file"]}
    with pytest.raises(InvalidInput) as refused:
        load(None, partial)
    assert "client_secret_file" in str(refused.value)
    assert ENVIRONMENT["client_secret_file"] in str(refused.value)


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://casereview.example.org/sign-in/callback", "must use https"),
        ("https://casereview.example.org/sign-in/done", f"must end with {CALLBACK_PATH}"),
    ],
)
def test_a_redirect_uri_in_clear_or_to_another_path_is_refused(uri, why):
    with pytest.raises(InvalidInput, match=why):
        load(None, {**FULL, ENVIRONMENT["redirect_uri"]: uri})


def test_a_redirect_uri_on_this_machine_may_be_plain_http():
    uri = f"http://127.0.0.1:8000{CALLBACK_PATH}"
    assert load(None, {**FULL, ENVIRONMENT["redirect_uri"]: uri}).redirect_uri == uri


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("issuer = [", "is not TOML"),
        ('[shared]\nclient_secret = "s3cret"\n', "unknown settings: client_secret"),
        ("[shared]\nclient_id = 7\n", "must be a string"),
    ],
)
def test_a_bad_settings_file_is_refused(tmp_path, text, why):
    with pytest.raises(InvalidInput, match=why):
        load(_toml(tmp_path / "shared.toml", text), FULL)


def test_a_missing_settings_file_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read the settings file"):
        load(tmp_path / "absent.toml", FULL)

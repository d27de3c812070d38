"""The settings of `casereview serve --shared`: the identity provider this installation
is registered with, the file holding the client secret, the key-encryption key of the
signing keys the server holds, and the partnership's name for the pages shown before
anyone signs in.

Read from a TOML file (`--settings FILE`, every key optional there) and from the
environment (`CASEREVIEW_…`, which wins over the file, so a deployment can keep the file
in its repository and the paths in its service unit). Nothing secret is in either: the
client secret and the key-encryption key are each in a file of their own, which only
the server's account may read (checked when the server starts, by `infra`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from casereview.errors import InvalidInput

ENVIRONMENT = {
    "issuer": "CASEREVIEW_OIDC_ISSUER",
    "client_id": "CASEREVIEW_OIDC_CLIENT_ID",
    "client_secret_file": "CASEREVIEW_OIDC_CLIENT_SECRET_FILE",
    "redirect_uri": "CASEREVIEW_OIDC_REDIRECT_URI",
    "key_encryption_key_file": "CASEREVIEW_KEY_ENCRYPTION_KEY_FILE",
    "server_key_dir": "CASEREVIEW_SERVER_KEY_DIR",
    "partnership_name": "CASEREVIEW_PARTNERSHIP_NAME",
}
"""Each setting's environment variable (the file's key is the setting's name)."""

REQUIRED = ("issuer", "client_id", "client_secret_file", "redirect_uri", "key_encryption_key_file")

CALLBACK_PATH = "/sign-in/callback"
"""Where the provider sends the browser back: the redirect URI's path."""


@dataclass(frozen=True)
class SharedSettings:
    issuer: str
    client_id: str
    client_secret_file: Path
    redirect_uri: str
    key_encryption_key_file: Path
    server_key_dir: Path | None = None  # None: `server/` in the server account's key folder
    partnership_name: str | None = None  # shown before sign-in (after it: the database's)


def _from_file(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(
            "cannot read the settings file {path}: {reason}", path=str(path), reason=exc.strerror
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "the settings file {path} is not TOML: {reason}", path=str(path), reason=str(exc)
        ) from None
    section = data.get("shared", data)
    if not isinstance(section, dict):
        raise InvalidInput("the settings file {path} has no [shared] table", path=str(path))
    unknown = sorted(set(section) - set(ENVIRONMENT))
    if unknown:
        raise InvalidInput(
            "the settings file {path} has unknown settings: {names} (known: {known})",
            path=str(path),
            names=", ".join(unknown),
            known=", ".join(ENVIRONMENT),
        )
    found: dict[str, str] = {}
    for name, value in section.items():
        if not isinstance(value, str):
            raise InvalidInput(
                "the setting {name} in {path} must be a string", name=name, path=str(path)
            )
        found[name] = value
    return found


def load(path: Path | None, environ: Mapping[str, str]) -> SharedSettings:
    """The settings from the file `path` (if given), each overridden by its environment
    variable when that is set and not empty; refused, naming what is missing or wrong."""
    values = _from_file(path) if path is not None else {}
    for name, variable in ENVIRONMENT.items():
        if environ.get(variable, "").strip():
            values[name] = environ[variable].strip()
    values = {name: value.strip() for name, value in values.items() if value.strip()}
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        raise InvalidInput(
            "a shared installation needs these settings: {names} (in the settings file, "
            "or as {variables})",
            names=", ".join(missing),
            variables=", ".join(ENVIRONMENT[name] for name in missing),
        )
    redirect = values["redirect_uri"]
    if not redirect.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise InvalidInput(
            "the redirect URI {uri} must use https (or be on this machine, for a trial)",
            uri=redirect,
        )
    if not redirect.split("?", 1)[0].endswith(CALLBACK_PATH):
        raise InvalidInput(
            "the redirect URI {uri} must end with {path}: the address the provider sends "
            "people back to",
            uri=redirect,
            path=CALLBACK_PATH,
        )
    key_dir = values.get("server_key_dir")
    return SharedSettings(
        issuer=values["issuer"],
        client_id=values["client_id"],
        client_secret_file=Path(values["client_secret_file"]).expanduser(),
        redirect_uri=redirect,
        key_encryption_key_file=Path(values["key_encryption_key_file"]).expanduser(),
        server_key_dir=Path(key_dir).expanduser() if key_dir else None,
        partnership_name=values.get("partnership_name"),
    )

"""Where the database is: `--db PATH` (or a full URL), else CASEREVIEW_DATABASE_URL (PostgreSQL),
else CASEREVIEW_DB, else `casereview.db` in the user's data directory."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from casereview.errors import Input, InvalidInput

DB_ENV = "CASEREVIEW_DB"
URL_ENV = "CASEREVIEW_DATABASE_URL"
_SQLITE_PREFIX = "sqlite:///"


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("casereview", appauthor=False) / "casereview.db"


def sqlite_url(path: Path) -> str:
    return f"{_SQLITE_PREFIX}{path}"


def file_of(url: str) -> Path | None:
    """The database file of a `sqlite:///PATH` URL as `sqlite_url` writes them, else None (a
    server, or a URL with options)."""
    if not url.startswith(_SQLITE_PREFIX):
        return None
    rest = url.removeprefix(_SQLITE_PREFIX)
    return Path(rest) if rest and "?" not in rest else None


def is_server(url: str) -> bool:
    """True for a database server (PostgreSQL), whose session user is the actor."""
    return url.startswith("postgresql")


def resolve(db_option: str | None) -> str:
    """The SQLAlchemy URL of the database this invocation should use."""
    if db_option and "\x00" in db_option:
        raise InvalidInput("{db} holds a NUL character; give a file path", db=Input("db"))
    if db_option:
        if "://" in db_option:
            return checked_url(db_option, Input("db"))  # e.g. for PostgreSQL
        return sqlite_url(_path(db_option))
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return checked_url(url, URL_ENV)
    env_path = os.environ.get(DB_ENV, "").strip()
    if env_path:
        return sqlite_url(_path(env_path))
    return sqlite_url(default_path())


def _path(text: str) -> Path:
    """A path as typed, `~` expanded as a shell would (`~nobody` of an unknown account
    stays as typed), made absolute."""
    path = Path(text)
    with contextlib.suppress(RuntimeError):  # no such account: a shell leaves it too
        path = path.expanduser()
    return path.resolve()


_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgresql+psycopg": "postgresql"}
"""The URL schemes casereview opens, and the backend each names."""


def checked_url(url: str, source: Input | str) -> str:
    """`url` if it names a database casereview can open (a SQLite file, or a PostgreSQL
    server), with its scheme in lower case; else InvalidInput saying what `source` (the
    option or variable that gave it) takes. A PostgreSQL URL is never repeated in the
    message: it may hold a password."""
    scheme, _, rest = url.partition("://")
    backend = _SCHEMES.get(scheme.lower())
    if scheme.lower() == "file":
        raise InvalidInput(
            "{source} takes a file path, not a file: URL; give the path itself ({path})",
            source=source,
            path=rest or "/",
        )
    if backend is None:
        raise InvalidInput(
            "{source} must be a file path, a sqlite:///PATH URL or a postgresql:// URL; "
            "{scheme!r} is not a database casereview can use",
            source=source,
            scheme=scheme[:20],
        )
    url = scheme.lower() + "://" + rest
    if backend == "sqlite":
        if not rest.startswith("/") or not rest.strip("/"):
            # `sqlite://` alone is a database in memory, gone when the command ends.
            raise InvalidInput(
                "{source} names no SQLite file; give sqlite:///PATH (or the path itself)",
                source=source,
            )
        return url
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        _ = parsed.host, parsed.port  # parsed lazily: a malformed one fails here
    except (ArgumentError, ValueError):
        raise InvalidInput(
            "{source} is not a PostgreSQL URL casereview can read "
            "(postgresql://USER@HOST:PORT/DATABASE)",
            source=source,
        ) from None
    return url


def describe(url: str) -> str:
    """A URL fit to show a person: the file path, or the server without its password."""
    if url.startswith(_SQLITE_PREFIX):
        return url.removeprefix(_SQLITE_PREFIX)
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def named(db_option: str | None) -> bool:
    """True when the person named a database (the option, or either environment
    variable), as opposed to falling back on the per-user default file."""
    return bool(
        db_option or os.environ.get(DB_ENV, "").strip() or os.environ.get(URL_ENV, "").strip()
    )

"""Where the database is: `--db PATH` (or a full URL), else CASEREVIEW_DATABASE_URL (PostgreSQL),
else CASEREVIEW_DB, else `casereview.db` in the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

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
    if db_option:
        if "://" in db_option:
            return db_option  # a full SQLAlchemy URL, e.g. for PostgreSQL
        return sqlite_url(Path(db_option).expanduser().resolve())
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url
    env_path = os.environ.get(DB_ENV, "").strip()
    if env_path:
        return sqlite_url(Path(env_path).expanduser().resolve())
    return sqlite_url(default_path())


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

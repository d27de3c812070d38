"""Run a command against a throwaway PostgreSQL cluster on a loopback address.

    python scripts/with_postgres.py -- pytest tests/integration

Creates a cluster with `initdb` in a temporary directory (as the `postgres` system user
when run as root, since initdb refuses root), starts it on 127.0.0.1 with a free port,
creates a superuser role for the tests, runs the command with
CASEREVIEW_TEST_DATABASE_URL set, then stops the server and removes the directory.

Where PostgreSQL is not installed, it prints why and exits 0 without running the
command, unless CI=true, where a missing server is a failure (exit 1).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: with_postgres.py -- COMMAND [ARGS…]", file=sys.stderr)
        return 2
    bindir = _bindir()
    in_ci = os.environ.get("CI", "").lower() == "true"
    if bindir is None:
        message = "PostgreSQL is not installed (no initdb found): PostgreSQL tests not run"
        if in_ci:
            print(f"error: {message}; CI must test PostgreSQL", file=sys.stderr)
            return 1
        print(f"note: {message}. Install the 'postgresql' package to run them.", file=sys.stderr)
        return 0
    run_as: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="casereview-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if owner is not None:
        for path in (base, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    log = base / "server.log"
    try:
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "start",
                "-o",
                f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=200",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        env = dict(os.environ)
        env["CASEREVIEW_TEST_DATABASE_URL"] = (
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        )
        print(f"PostgreSQL {bindir.parent.name} running on 127.0.0.1:{port}", file=sys.stderr)
        return subprocess.run(argv, env=env).returncode
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

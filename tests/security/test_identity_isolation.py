"""The recorded actor comes from the real user id, and the `casereview` command runs in
Python's isolated mode: a `sitecustomize.py` on `PYTHONPATH` that replaces `os.getuid`
does not change who is recorded, through the console script (as pip generates it from
pyproject.toml) or `python -m casereview`. Real subprocesses, a real SQLite file.
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from casereview.cli import launch

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
REAL = pwd.getpwuid(os.getuid()).pw_name
# Another account of this machine for the planted code to claim.
OTHER_UID = 65534 if os.getuid() != 65534 else 0
OTHER = pwd.getpwuid(OTHER_UID).pw_name

SITECUSTOMIZE = f"""
import os
os.getuid = lambda: {OTHER_UID}
os.geteuid = lambda: {OTHER_UID}
"""


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, str]:
    """An environment whose PYTHONPATH starts with a folder holding the planted
    `sitecustomize.py` (and then this checkout's sources, as tests run them)."""
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(evil), str(SRC)])
    env["PYTHONSTARTUP"] = str(evil / "sitecustomize.py")
    return env


def console_script(tmp_path: Path) -> Path:
    """The `casereview` script pip writes for pyproject.toml's entry point (pip's own
    template: the interpreter on the first line, without flags)."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["casereview"].split(":")
    script = tmp_path / "casereview"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"from {module} import {function}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n"
        f"    sys.exit({function}())\n"
    )
    script.chmod(0o755)
    return script


def _recorded(db: Path) -> tuple[list[str], list[str]]:
    conn = sqlite3.connect(db)
    try:
        actors = [r[0] for r in conn.execute("SELECT actor FROM events ORDER BY seq")]
        users = [r[0] for r in conn.execute("SELECT username FROM users")]
    finally:
        conn.close()
    return actors, users


def _init(command: list[str], db: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "init", "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_planted_code_works_where_isolation_is_missing(planted, tmp_path):
    """The control: the same environment, running the CLI's code without the launcher,
    records the other account. The attack is real, so the tests below can fail."""
    db = tmp_path / "control.db"
    code = "import sys\nfrom casereview.cli.app import main\nmain(sys.argv[1:])\n"
    # The planted code claims the other account, whose key folder must be its own.
    if os.getuid() != 0:
        pytest.skip("giving the other account a key folder needs root")
    from casereview.infra.keys import key_path, load_or_create_key

    keys = tmp_path / "other-keys"
    load_or_create_key(OTHER, keys)
    for path in (keys, key_path(OTHER, keys)):
        os.chown(path, OTHER_UID, -1)
    done = _init([sys.executable, "-c", code], db, {**planted, "CASEREVIEW_KEY_DIR": str(keys)})
    assert done.returncode == 0, done.stderr
    actors, users = _recorded(db)
    assert set(actors) == {OTHER}
    assert users == [OTHER]


@pytest.mark.parametrize("how", ["console script", "python -m casereview"])
def test_a_sitecustomize_on_pythonpath_does_not_change_the_actor(planted, tmp_path, how):
    db = tmp_path / "real.db"
    if how == "console script":
        command = [str(console_script(tmp_path))]
    else:
        command = [sys.executable, "-m", "casereview"]
    done = _init(command, db, planted)
    assert done.returncode == 0, done.stderr
    actors, users = _recorded(db)
    assert actors and set(actors) == {REAL}
    assert users == [REAL]


def test_the_restarted_command_runs_this_casereview_in_isolated_mode(planted, tmp_path):
    """`--version` answers from the same package, after the restart under `-I`."""
    from casereview import __version__

    done = subprocess.run(
        [sys.executable, "-m", "casereview", "--version"],
        env=planted,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"casereview {__version__}"


def test_the_restart_carries_the_stream_encoding_across(planted):
    """`PYTHONIOENCODING` is ignored under `-I`; the launcher hands the encoding on, so a
    terminal set to ASCII still gets escapes, never a crash."""
    env = {**planted, "PYTHONIOENCODING": "ascii:backslashreplace"}
    probe = (
        "import sys\n"
        "from casereview.cli import launch\n"
        "print(launch.needs_isolation(), launch.isolated_command(['x'])[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "-I"]
    command = launch.isolated_command(["--version"])
    assert command[:2] == [sys.executable, "-I"]
    assert command[-1] == "--version"


def test_an_environment_with_nothing_to_ignore_starts_once(tmp_path):
    """No `PYTHON…` variable and no user site-packages: the process is already what
    `-I` gives, and is not restarted (start-up time matters for `due`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    probe = (
        f"import sys\nsys.path.insert(0, {str(SRC)!r})\n"
        "from casereview.cli import launch\nprint(launch.needs_isolation())\n"
    )
    done = subprocess.run(
        [sys.executable, "-s", "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"

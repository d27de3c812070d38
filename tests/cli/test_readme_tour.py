"""The README's tour runs as written after `make run`: every `$ casereview …` line of its
console blocks, in order, on the demo database `make run` builds (found through the
`CASEREVIEW_DB` line the tour starts with, not a `--db` on each command), on the tour's
date. A command the README shows refused must be refused; every other must succeed.
(What each prints is the README's to show; the dates differ on another day.)"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

from casereview.infra.now import FixedClock, SystemClock

README = Path(__file__).resolve().parents[2] / "README.md"
TODAY = dt.date(2026, 11, 23)  # "here today is Monday 23 November 2026"


def tour_commands() -> list[tuple[str, bool]]:
    """Each `$ casereview …` line of the README's console blocks, and whether the README
    shows it refused (its output starts with `Error:`)."""
    text = README.read_text(encoding="utf-8")
    found: list[tuple[str, bool]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        lines = block.splitlines()
        for at, line in enumerate(lines):
            if line.startswith("$ casereview "):
                following = lines[at + 1] if at + 1 < len(lines) else ""
                found.append((line.removeprefix("$ casereview "), following.startswith("Error:")))
    return found


def test_the_tour_starts_by_pointing_at_the_demo_database():
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A tour for each user") :]
    setup = tour[: tour.index("```console")]
    assert 'export CASEREVIEW_DB="$PWD/demo.db"' in setup
    assert 'export CASEREVIEW_KEY_DIR="$PWD/demo.db.keys"' in setup
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert "casereview demo --db demo.db" in makefile
    assert "export CASEREVIEW_DB" in makefile
    assert "export CASEREVIEW_KEY_DIR" in makefile
    assert not any("--db" in command for command, _ in tour_commands())


def test_every_tour_command_runs_as_written(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.chdir(tmp_path)
    for name in ("CASEREVIEW_DATABASE_URL", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    made = cli("demo", "--db", "demo.db")  # what `make run` does
    assert made.exit_code == 0, made.stderr
    env = {
        "CASEREVIEW_DB": str(tmp_path / "demo.db"),
        "CASEREVIEW_KEY_DIR": str(tmp_path / "demo.db.keys"),
    }
    commands = tour_commands()
    assert len(commands) >= 10
    for command, refused in commands:
        result = cli(*shlex.split(command), env=env)
        if refused:
            assert result.exit_code != 0, command
            assert result.stderr.startswith("Error: "), command
        else:
            assert result.exit_code == 0, f"{command}: {result.stderr}"

"""README.md and docs/user-guide.md run as written: every command of their console
blocks, in order, on a fresh database in a temporary folder, and each command's output
compared with the output the document shows beneath it.

The Markdown convention (nothing a reader sees beyond an ordinary terminal transcript):

- A ```console block holds commands, each on a line starting `$ `, and below each the
  output it prints (stdout and stderr, interleaved as a terminal shows them).
  `$ casereview …` runs in-process through the CLI; `$ export NAME=VALUE` sets the
  environment of the commands after it (`$PWD` is the temporary folder); `$ echo $?`
  prints the previous command's exit code.
- Hidden comments set what a terminal transcript cannot show:
  `<!-- doc: as LOGIN -->` the operating-system login that runs the commands below it
  (the chair, the business unit, the scrutineer each run their own);
  `<!-- doc: today YYYY-MM-DD -->` the day they run on (the clock is fixed to it);
  `<!-- doc: skip -->` the next console block is shown but not run (installing, `make`);
  its commands must be exactly `SKIPPED`;
  `<!-- doc: file NAME -->` the next fenced block's text is written to the file NAME
  (a tracker to import, say) before the commands after it run.
- No ```sh, ```bash or ```shell blocks: a command shown must be run or skipped by name.

The comparison is exact after normalising only what differs from run to run or from
build to build: hexadecimal digests and hashes (an event's hash covers the pinned
workflow file's sha256, which changes whenever that file is edited), shown as `<hex>`,
and the temporary folder's path, shown as `~/reviews`. Signing keys are made from a
counter, so key ids are the same on every run and a `key confirm` can be typed with the
id `key enrol` printed. Tables are laid out for a 100-column terminal.

To rewrite the documents' outputs from a run (then read the diff before committing):
CASEREVIEW_REGENERATE_DOCS=1 pytest tests/cli/test_documents.py
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casereview.cli import app as cli_app
from casereview.cli.render import console
from casereview.domain import signing
from casereview.infra import identity
from casereview.infra import now as clock_module
from casereview.infra.now import FixedClock

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "user-guide.md"
SHOWN_FOLDER = "~/reviews"
REGENERATE = os.environ.get("CASEREVIEW_REGENERATE_DOCS") == "1"

# Commands shown but not run, each for a reason a test cannot stand in for.
SKIPPED = {
    "pipx install .": "installs the package into the user's own tools",
    "casereview --version": "the version of the installed tool, whatever it is",
    "make run": "builds a virtual environment and the demonstration database",
    "make serve": "a server that runs until stopped (tests/browser/web serves the demo)",
    "make test": "the whole suite and its tools; CI's own command (.ci/run)",
    "casereview digest": "sends email over SMTP (docs/digest.md; tested with a local server)",
}

HEX = re.compile(r"\b[0-9a-f]{7,}…|\b[0-9a-f]{16,}\b")


@dataclass
class Command:
    text: str
    output: list[str]
    user: str
    today: str
    line: int  # where the command is in the file (1-based)


@dataclass
class Block:
    start: int  # index of the line after the opening fence
    end: int  # index of the closing fence
    skipped: bool
    commands: list[Command] = field(default_factory=list)


@dataclass
class Step:
    """One thing to do, in document order: a file to write or a command to run."""

    command: Command | None = None
    file: tuple[str, str] | None = None


@dataclass
class Document:
    path: Path
    lines: list[str]
    blocks: list[Block]
    steps: list[Step]


DIRECTIVE = re.compile(r"<!-- doc: (\w+)(?: (.*?))? -->")


def parse(path: Path) -> Document:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    steps: list[Step] = []
    user, today = "", ""
    skip_next, file_next = False, ""
    at = 0
    while at < len(lines):
        line = lines[at]
        directive = DIRECTIVE.fullmatch(line.strip())
        if directive:
            name, value = directive.group(1), (directive.group(2) or "").strip()
            if name == "as":
                user = value
            elif name == "today":
                dt.date.fromisoformat(value)
                today = value
            elif name == "skip":
                skip_next = True
            elif name == "file":
                file_next = value
            else:
                raise AssertionError(f"{path.name}:{at + 1}: unknown directive {name!r}")
            at += 1
            continue
        fence = re.fullmatch(r"```(\w*)", line)
        if not fence:
            at += 1
            continue
        language = fence.group(1)
        end = next(i for i in range(at + 1, len(lines)) if lines[i] == "```")
        body = lines[at + 1 : end]
        assert language not in {"sh", "bash", "shell"}, (
            f"{path.name}:{at + 1}: a ```{language} block; commands go in ```console blocks"
        )
        if file_next:
            steps.append(Step(file=(file_next, "\n".join(body) + "\n")))
            file_next = ""
        elif language == "console":
            block = Block(at + 1, end, skip_next)
            for offset, text in enumerate(body):
                if text.startswith("$ "):
                    command = Command(text[2:], [], user, today, at + 2 + offset)
                    block.commands.append(command)
                    if not skip_next:
                        steps.append(Step(command=command))
                else:
                    assert block.commands, f"{path.name}:{at + 2 + offset}: output before a command"
                    block.commands[-1].output.append(text)
            blocks.append(block)
            skip_next = False
        at = end + 1
    return Document(path, lines, blocks, steps)


def normalise(lines: list[str]) -> list[str]:
    return [HEX.sub("<hex>", line.rstrip()) for line in lines]


class Runner:
    """Runs a document's steps in one folder, as the login and on the day each names."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder, self.monkeypatch = folder, monkeypatch
        self.status = 0
        self.user = ""
        self.today = ""
        monkeypatch.setattr(identity, "os_account", lambda: self.user)
        monkeypatch.setattr(clock_module.SystemClock, "now", lambda _clock: self._now())
        counter = itertools.count(1)
        monkeypatch.setattr(
            signing.Signer,
            "generate",
            classmethod(
                lambda cls: cls(hashlib.sha256(f"document key {next(counter)}".encode()).digest())
            ),
        )

    def _now(self) -> dt.datetime:
        return FixedClock(dt.date.fromisoformat(self.today)).now()

    def run(self, command: Command) -> list[str]:
        assert command.user and command.today, f"line {command.line}: no `as` or `today` yet"
        self.user, self.today = command.user, command.today
        argv = shlex.split(command.text, comments=True)
        if argv[0] == "export":
            name, _, value = argv[1].partition("=")
            self.monkeypatch.setenv(name, value.replace("$PWD", str(self.folder)))
            return []
        if argv == ["echo", "$?"]:
            return [str(self.status)]
        assert argv[0] == "casereview", f"line {command.line}: cannot run {command.text!r}"
        console.reset()
        result = CliRunner().invoke(cli_app.app, argv[1:], catch_exceptions=False)
        console.reset()
        self.status = result.exit_code
        # What a terminal shows: stdout and stderr interleaved as they were written.
        printed = result.output.replace(str(self.folder), SHOWN_FOLDER)
        return printed.rstrip("\n").splitlines() if printed.strip() else []


def run_document(document: Document, runner: Runner) -> list[tuple[Command, list[str]]]:
    ran = []
    for step in document.steps:
        if step.file is not None:
            name, text = step.file
            (runner.folder / name).write_text(text, encoding="utf-8")
        else:
            assert step.command is not None
            ran.append((step.command, runner.run(step.command)))
    return ran


def rewrite(document: Document, ran: list[tuple[Command, list[str]]]) -> None:
    """Put each command's actual output beneath it in the document."""
    actual = {command.line: output for command, output in ran}
    lines = list(document.lines)
    for block in reversed(document.blocks):
        if block.skipped:
            continue
        body: list[str] = []
        for command in block.commands:
            body.append(f"$ {command.text}")
            body.extend(line.rstrip() for line in actual[command.line])
        lines[block.start : block.end] = body
    document.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def runner(tmp_path, monkeypatch):
    for name in ("CASEREVIEW_DATABASE_URL", "CASEREVIEW_DB", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    # New cases open on the default workflow, England v2, as on a real installation (the
    # suite otherwise pins version 1 for its older scenarios).
    monkeypatch.delenv("CASEREVIEW_DEFAULT_WORKFLOW", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("CASEREVIEW_KEY_DIR", str(tmp_path / "keys"))
    folder = tmp_path / "reviews"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return Runner(folder, monkeypatch)


def check(document: Document, ran: list[tuple[Command, list[str]]]) -> None:
    if REGENERATE:
        rewrite(document, ran)
        return
    for command, output in ran:
        assert normalise(output) == normalise(command.output), (
            f"{document.path.name}:{command.line}: $ {command.text}\n" + "\n".join(output)
        )


def skipped(*documents: Document) -> list[str]:
    return [
        command.text
        for document in documents
        for block in document.blocks
        if block.skipped
        for command in block.commands
    ]


@pytest.mark.sqlite_only
def test_the_readme_runs_as_written(runner):
    readme = parse(README)
    ran = run_document(readme, runner)
    assert len(ran) >= 10
    check(readme, ran)


@pytest.mark.sqlite_only
def test_the_user_guide_runs_as_written_after_the_readme(runner):
    """The guide follows the partnership the README sets up, on the same database."""
    run_document(parse(README), runner)
    guide = parse(GUIDE)
    ran = run_document(guide, runner)
    assert len(ran) >= 30
    check(guide, ran)


def test_only_commands_a_test_cannot_run_are_skipped():
    shown = skipped(parse(README), parse(GUIDE))
    assert sorted(shown) == sorted(SKIPPED)


def test_the_readme_keeps_the_test_command_ci_runs():
    """`.ci/run` runs `make test`, the README's test command, on a fresh clone."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == "make test"
    assert "make test" in skipped(parse(README))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: ", makefile, flags=re.MULTILINE)


def test_the_convention_is_enforced(tmp_path):
    """A shell block outside the convention, or output before any command, is refused."""
    shell = tmp_path / "shell.md"
    shell.write_text("```sh\ncasereview due\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="console blocks"):
        parse(shell)
    orphan = tmp_path / "orphan.md"
    orphan.write_text("```console\nOpen clocks\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="output before a command"):
        parse(orphan)
    unknown = tmp_path / "unknown.md"
    unknown.write_text("<!-- doc: who jo -->\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="unknown directive"):
        parse(unknown)
    assert normalise(["head af494c3db3aeb2b4… ok  "]) == ["head <hex> ok"]

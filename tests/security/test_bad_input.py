"""Bad input that ended in "unexpected internal error", read without bound, or replaced
what it should have written through: each is now one `Error:` line with a documented
exit code (or the command's normal output), and nothing is written.

Inputs that could make the code before these fixes read without end (`/dev/zero`, a
sparse file of a gigabyte) run in a subprocess with its memory and time capped, so a
regression fails the test instead of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import snapshot


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31))


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m casereview ARGV` with 2 GiB of address space and a minute at most; its
    output read in the encoding `env` gives it (`PYTHONIOENCODING`), strictly."""
    return subprocess.run(
        [sys.executable, "-m", "casereview", *argv],
        capture_output=True,
        encoding=(env or {}).get("PYTHONIOENCODING", "utf-8"),
        errors="strict",
        timeout=60,
        preexec_fn=_capped,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _one_error_line(result, code: int) -> str:
    assert result.exit_code == code, result.stdout + result.stderr
    assert "unexpected internal error" not in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("Error:") == 1
    return " ".join(result.stderr.split())


# -- numbers and database locations ------------------------------------------------------


def test_a_limit_larger_than_any_database_integer_lists_every_clock(seeded, cli):
    result = cli("due", "--limit", "99999999999999999999", "--json", *seeded.cli_args())
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["shown"] == 3


def test_db_naming_a_directory(tmp_path, cli):
    message = _one_error_line(cli("case", "list", "--db", str(tmp_path)), 2)
    assert f"{tmp_path} is a directory, not a database file" in message
    assert list(tmp_path.iterdir()) == []


def test_init_naming_a_directory(tmp_path, cli):
    message = _one_error_line(cli("init", "--db", str(tmp_path)), 2)
    assert "is a directory, not a database file" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://user:secret@db.example/cases", "'mysql' is not a database casereview can use"),
        ("http://example.invalid/db", "'http' is not a database casereview can use"),
        ("://", "'' is not a database casereview can use"),
        ("postgres://user@127.0.0.1:1/db", "'postgres' is not a database casereview can use"),
        ("postgresql://[::1", "is not a PostgreSQL URL casereview can read"),
        ("postgresql://user@host:port/db", "is not a PostgreSQL URL casereview can read"),
        ("SQLITE:///relative.db", "no casereview database at relative.db"),
    ],
)
def test_db_naming_a_url_casereview_cannot_use(url, words, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("case", "list", "--db", url)
    message = _one_error_line(result, 3 if "no casereview database" in words else 2)
    assert words in message
    assert "secret" not in message
    assert list(tmp_path.iterdir()) == []


def test_db_naming_a_file_url_says_to_give_the_path(tmp_path, cli):
    path = tmp_path / "cases.db"
    message = _one_error_line(cli("case", "list", "--db", path.as_uri()), 2)
    assert f"--db takes a file path, not a file: URL; give the path itself ({path})" in message
    assert not path.exists()


def test_the_database_url_variable_is_checked_like_the_option(cli):
    result = cli("case", "list", env={"CASEREVIEW_DATABASE_URL": "mysql://x@y/z"})
    assert "CASEREVIEW_DATABASE_URL must be a file path" in _one_error_line(result, 2)


# -- checkpoints ---------------------------------------------------------------------------


@pytest.fixture
def checkpoint(seeded, cli):
    path = seeded.tmp / "checkpoint.json"
    assert cli("audit", "checkpoint", "-o", str(path), *seeded.cli_args()).exit_code == 0
    return path


@pytest.mark.parametrize(
    ("count", "words"),
    [
        ("99999999999999999999999999", "a number larger than any event count"),
        ("9" * 5000, "a number larger than any event count"),
        ("9223372036854775808", "malformed event_count"),
        ("true", "malformed event_count"),
    ],
    ids=["26 digits", "5000 digits", "2**63", "true"],
)
def test_a_checkpoint_with_an_absurd_event_count(count, words, checkpoint, seeded, cli):
    data = json.loads(checkpoint.read_text())
    text = json.dumps(data).replace(
        f'"event_count": {data["event_count"]}', f'"event_count": {count}'
    )
    checkpoint.write_text(text)
    result = cli("audit", "verify", "--checkpoint", str(checkpoint), *seeded.cli_args())
    assert words in _one_error_line(result, 2)


def test_a_checkpoint_nested_deeper_than_the_parser_recurses(checkpoint, seeded, cli):
    checkpoint.write_text("[" * 20_000 + "]" * 20_000)  # 40 KB
    result = cli("audit", "verify", "--checkpoint", str(checkpoint), *seeded.cli_args())
    assert "is not a casereview checkpoint" in _one_error_line(result, 2)


def test_a_checkpoint_that_never_ends_is_read_only_so_far(seeded):
    result = run("audit", "verify", "--checkpoint", "/dev/zero", "--db", seeded.url)
    assert result.returncode == 2, result.stderr
    assert "/dev/zero holds more than 64 KiB, the most casereview reads of a checkpoint" in (
        " ".join(result.stderr.split())
    )


def test_audit_checkpoint_output_never_replaces_a_kept_checkpoint_unasked(checkpoint, seeded, cli):
    kept = checkpoint.read_bytes()
    result = cli("audit", "checkpoint", "-o", str(checkpoint), *seeded.cli_args())
    assert "already exists; choose another file name, or add --force" in _one_error_line(result, 6)
    assert checkpoint.read_bytes() == kept


# -- workflow files ------------------------------------------------------------------------

DEEP_TOML = "x = " + "[" * 5_000 + "]" * 5_000 + "\n"


@pytest.mark.parametrize("command", ["validate", "show"])
def test_a_workflow_file_nested_too_deeply(command, tmp_path, cli):
    path = tmp_path / "deep.toml"
    path.write_text(DEEP_TOML)
    result = cli("workflow", command, str(path))
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "unexpected internal error" not in result.stderr
    assert "nested too deeply" in result.stdout + result.stderr or command == "show"


def test_a_workflow_nested_within_the_parser_but_too_deep_to_be_one(tmp_path, cli):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 200 + "]" * 200 + "\n")
    result = cli("workflow", "validate", str(path))
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "nested more than 32 levels deep" in result.stdout


def test_a_deeply_nested_file_among_the_workflows_is_skipped_with_a_warning(seeded, cli):
    folder = seeded.tmp / "workflows"
    folder.mkdir()
    (folder / "deep.toml").write_text(DEEP_TOML)
    env = {"CASEREVIEW_WORKFLOWS": str(folder)}
    listed = cli("workflow", "list", env=env)
    assert listed.exit_code == 0, listed.stderr
    assert "deep.toml: arrays or tables are nested too deeply" in listed.stderr
    cases = cli("case", "list", "--json", *seeded.cli_args(), env=env)
    assert cases.exit_code == 0, cases.stderr
    assert len(json.loads(cases.stdout)) == 3


# -- verify-export -------------------------------------------------------------------------


def test_verify_export_of_deeply_nested_json(tmp_path, cli):
    path = tmp_path / "deep.json"
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    result = cli("log", "verify-export", str(path), env={"CASEREVIEW_DB": ""})
    assert result.exit_code == 7, result.stdout + result.stderr
    assert "nests arrays or objects too deeply" in result.stdout


def test_verify_export_of_a_file_that_never_ends():
    result = run("log", "verify-export", "/dev/zero", env={"CASEREVIEW_DB": ""})
    assert result.returncode == 7, result.stderr
    assert "it does not begin like a CSV, JSON or Markdown export" in result.stdout


def test_verify_export_refuses_a_file_over_its_limit_without_reading_it(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"\xef\xbb\xbfkind,seq\r\n")
        handle.truncate(2**30 + 1)  # sparse: takes no disk space
    result = run("log", "verify-export", str(path), env={"CASEREVIEW_DB": ""})
    assert result.returncode == 2, result.stderr
    assert "holds more than 1 GiB, the most casereview reads of an export file" in " ".join(
        result.stderr.split()
    )


# -- output files --------------------------------------------------------------------------


def test_an_output_naming_a_fifo_is_written_through(seeded, tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    # A daemon: if the FIFO were replaced, nothing would ever open it for writing.
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        # Opened by the reader before the writer: retried until the reader is there.
        for _ in range(100):
            result = run("log", "export", "--format", "json", "-o", str(fifo), "--force",
                         "--db", seeded.url)  # fmt: skip
            if "nothing is reading" not in result.stderr:
                break
    finally:
        reader.join(timeout=10)
    assert result.returncode == 0, result.stderr
    assert Path(fifo).is_fifo()
    assert json.loads(received[0])["meta"]["event_count"] == 6


def test_an_output_naming_a_fifo_with_no_reader_is_refused(seeded, tmp_path, cli):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = cli("log", "export", "-o", str(fifo), "--force", *seeded.cli_args())
    assert "nothing is reading from" in _one_error_line(result, 1)
    assert fifo.is_fifo()


def test_an_output_naming_a_symlink_writes_the_file_it_points_to(seeded, tmp_path, cli):
    real = tmp_path / "kept.ics"
    real.write_text("old")
    link = tmp_path / "link.ics"
    link.symlink_to(real)
    result = cli("calendar", "export", "-o", str(link), "--force", *seeded.cli_args())
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("BEGIN:VCALENDAR")


def test_dev_null_is_written_through_never_replaced():
    """Decided without writing: /dev/null is a stream, whatever --force says."""
    from casereview.infra.output import plan

    for force in (False, True):
        target = plan(Path("/dev/null"), force=force)
        assert (target.kind, target.replaces) == ("stream", False)


# -- control characters on input -----------------------------------------------------------

HIDDEN = {
    "ANSI escape": "red \x1b[31malert\x1b[0m",
    "C1 CSI": "x\x9b31m",
    "bidi override": "Child \u202eA",
    "bidi isolate": "Child \u2066A\u2069",
    "DEL": "Child\x7fA",
    "bell": "Child\x07",
}


@pytest.mark.parametrize("label", HIDDEN)
@pytest.mark.parametrize("where", ["pseudonym", "rationale", "note", "child_name"])
def test_free_text_with_control_characters_is_refused(label, where, seeded, cli):
    payload = HIDDEN[label]
    if where == "pseudonym":
        argv = ("case", "open", "S-009", "--aware-on", "2026-01-05", "--nature", "death",
                "--pseudonym", payload)  # fmt: skip
    elif where == "rationale":
        argv = ("case", "advance", "S-003", "decide_not_to_notify", "--rationale", payload)
    elif where == "note":
        argv = ("case", "advance", "S-003", "add_note", "--set", f"note={payload}")
    else:
        argv = ("case", "open", "S-009", "--aware-on", "2026-01-05", "--nature", "death",
                "--set", f"child_name={payload}")  # fmt: skip
    before = snapshot(seeded.url)
    result = cli(*argv, *seeded.cli_args())
    message = _one_error_line(result, 2)
    assert "holds a control character (U+" in message
    assert snapshot(seeded.url) == before


def test_a_pseudonym_may_not_hold_a_line_break_or_tab(seeded, cli):
    for payload in ("Child\nA", "Child\tA", "Child\rA"):
        result = cli("case", "open", "S-009", "--aware-on", "2026-01-05", "--nature", "death",
                     "--pseudonym", payload, *seeded.cli_args())  # fmt: skip
        assert "holds a control character" in _one_error_line(result, 2)


# -- ... and on output, whatever is stored ------------------------------------------------

STORED = "Child \u202eA\x1b[31m\x9b1"
"""A pseudonym, note and rationale as a log written before the input rule could hold."""
RAW = ("\u202e", "\x1b", "\x9b")


@pytest.fixture
def stored_controls(seeded):
    from tests.security.conftest import raw

    seeded.store("S-002", "open", field="pseudonym", value=STORED)
    raw(seeded.url, "UPDATE cases SET pseudonym = :p WHERE ref = 'S-002'", p=STORED)
    seeded.store("S-002", "add_note", field="note", value=STORED)
    return seeded


def _clean(text: str) -> None:
    for ch in RAW:
        assert ch not in text, repr(ch)


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_exports_show_stored_control_characters_as_escapes_and_verify(fmt, stored_controls, cli):
    path = stored_controls.tmp / f"log.{fmt}"
    result = cli("log", "export", "--format", fmt, "-o", str(path), *stored_controls.cli_args())
    assert result.exit_code == 0, result.stderr
    text = path.read_text(encoding="utf-8-sig")
    _clean(text)
    if fmt == "json":  # escaped, not changed: a JSON reader gets the stored value back
        events = json.loads(text)["events"]
        assert STORED in {e["pseudonym"] for e in events}
    else:
        assert "\\u202eA" in text or "\ufffdA" in text
    checked = cli("log", "verify-export", str(path), *stored_controls.cli_args())
    assert checked.exit_code == 0, checked.stdout


READERS = {
    "due --csv": ("due", "--csv"),
    "due --json": ("due", "--json"),
    "case show --json": ("case", "show", "S-002", "--json"),
    "case list --json": ("case", "list", "--json"),
    "timeline --json": ("timeline", "S-002", "--json"),
    "report csv": ("report", "--format", "csv", "--detail"),
    "report md": ("report", "--format", "md", "--detail"),
    "report json": ("report", "--format", "json", "--detail"),
    "report html": ("report", "--format", "html", "--detail"),
    "calendar": ("calendar", "export"),
}


@pytest.mark.parametrize("argv", READERS.values(), ids=READERS.keys())
def test_every_output_shows_stored_control_characters_as_escapes(argv, stored_controls, cli):
    result = cli(*argv, *stored_controls.cli_args())
    assert result.exit_code == 0, result.stderr
    assert "S-002" in result.stdout
    _clean(result.stdout)


# -- narrow terminal encodings -------------------------------------------------------------

TABLES = [  # `due --csv` is data, written as UTF-8 whatever the encoding (below)
    ("due",),
    ("case", "list"),
    ("case", "list", "--json"),
    ("case", "show", "S-009"),
    ("timeline", "S-009"),
    ("explain", "S-009", "notification"),
    ("report", "--detail"),
    ("audit", "verify"),
    ("user", "list"),
    ("workflow", "show", "england-lcspr"),
]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_table_commands_degrade_on_a_narrow_encoding(encoding, seeded, cli):
    opened = cli("case", "open", "S-009", "--aware-on", "2026-01-05", "--nature", "death",
                 "--pseudonym", "Zoë Ω", *seeded.cli_args())  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    for argv in TABLES:
        db = () if argv[0] == "workflow" else ("--db", seeded.url)
        result = run(*argv, *db, env={"PYTHONIOENCODING": encoding})
        assert result.returncode in (0, 7), (argv, result.stderr)
        assert "unexpected internal error" not in result.stderr, argv
        assert "Traceback" not in result.stderr, argv
        if argv[-1] == "--json":
            rows = json.loads(result.stdout)
            assert "Zoë Ω" in {r["pseudonym"] for r in rows}  # exact, through \\u escapes
            assert result.stdout.isascii()


def test_data_on_a_narrow_encoding_stays_utf8(seeded, cli):
    opened = cli("case", "open", "S-009", "--aware-on", "2026-01-05", "--nature", "death",
                 "--pseudonym", "Zoë Ω", *seeded.cli_args())  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    done = subprocess.run(
        [sys.executable, "-m", "casereview", "due", "--csv", "--db", seeded.url],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Zoë Ω".encode() in done.stdout
    table = run("case", "list", "--db", seeded.url, env={"PYTHONIOENCODING": "ascii"})
    assert "Zo\\xeb \\u03a9" in table.stdout


def test_an_output_naming_a_link_to_nothing_is_refused(seeded, tmp_path, cli):
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "missing" / "log.csv")
    result = cli("log", "export", "-o", str(link), "--force", *seeded.cli_args())
    assert "is a symbolic link to something that does not exist" in _one_error_line(result, 2)
    assert link.is_symlink() and not (tmp_path / "missing").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_an_output_naming_a_block_device_is_refused(tmp_path):
    """A disk is never written: decided from the node alone (a node made here, for a
    loop device, so nothing real is ever at stake)."""
    import stat

    from casereview.errors import InvalidInput
    from casereview.infra.output import plan

    node = tmp_path / "disk"
    os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 250))
    with pytest.raises(InvalidInput, match="is a block device"):
        plan(node, force=True)


def test_init_refuses_a_display_name_with_control_characters(tmp_path, cli):
    path = tmp_path / "new.db"
    result = cli("init", "--name", "Officer \x1b[2J", "--db", str(path))
    assert "--name must be printable text" in _one_error_line(result, 2)
    assert not path.exists()

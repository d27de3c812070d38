"""What casereview does on Windows, checked on any machine by standing in for the
Windows parts: who is recorded (the access token's account, never USERNAME), the
modules the CLI's paths import load without POSIX-only ones, database paths with drive
letters and spaces, files created without POSIX-only calls, and commands printed for
PowerShell (docs/install.md)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import PureWindowsPath

import pytest

from casereview.cli import shell
from casereview.infra import identity
from casereview.store import location


def test_the_windows_account_is_the_tokens_lower_cased_without_its_domain(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(identity, "_token_user_name", lambda: "Jo.Bloggs")
    monkeypatch.setenv("USERNAME", "someone-else")  # never consulted
    monkeypatch.setenv("USER", "someone-else")
    assert identity.os_account() == "jo.bloggs"
    assert identity.windows_account(lambda: "CORP\\Kim.Jones") == "kim.jones"


def test_posix_identity_ignores_the_environment_too(monkeypatch):
    if not hasattr(os, "getuid"):
        pytest.skip("POSIX only")
    import pwd

    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    assert identity.os_account() == pwd.getpwuid(os.getuid()).pw_name


def test_identity_loads_without_the_posix_pwd_module(monkeypatch):
    # On Windows there is no `pwd`: importing it at the top of the module would stop
    # every command before it starts.
    monkeypatch.setitem(sys.modules, "pwd", None)  # makes `import pwd` fail
    reloaded = importlib.reload(identity)
    try:
        monkeypatch.setattr(sys, "platform", "win32")
        monkeypatch.setattr(reloaded, "_token_user_name", lambda: "Sam")
        assert reloaded.os_account() == "sam"
    finally:
        monkeypatch.undo()
        importlib.reload(identity)


def test_sharing_with_a_group_is_refused_where_there_are_no_groups(monkeypatch):
    from casereview.errors import InvalidInput
    from casereview.store import sqlite_file

    monkeypatch.setitem(sys.modules, "grp", None)
    with pytest.raises(InvalidInput, match="POSIX group"):
        sqlite_file.group_id("safeguarding")


def test_a_database_file_is_created_without_posix_only_calls(monkeypatch, tmp_path):
    from casereview.store import sqlite_file

    for name in ("O_NOFOLLOW", "fchmod", "geteuid"):
        monkeypatch.delattr(os, name, raising=False)
    path = tmp_path / "My Documents" / "casereview.db"
    sqlite_file.make_directory(path.parent, None)
    sqlite_file.create_file(path, None)
    assert path.exists()
    sqlite_file.share_companions(path)  # no geteuid: nothing to share on Windows


@pytest.mark.parametrize(
    "text",
    [r"C:\Users\Jo Bloggs\AppData\Local\casereview\casereview.db", r"D:\Safeguarding\cr.db"],
)
def test_windows_database_paths_make_urls_read_back_whole(text):
    url = location.sqlite_url(PureWindowsPath(text))  # type: ignore[arg-type]
    assert url == f"sqlite:///{text}"
    assert location.checked_url(url, "--db") == url
    assert location.describe(url) == text
    assert str(location.file_of(url)) == text


def test_commands_are_printed_for_the_persons_shell():
    path = r"C:\Users\Jo Bloggs\demo.db"
    assert shell.quote(path, windows=True) == r"'C:\Users\Jo Bloggs\demo.db'"
    assert shell.quote(r"C:\cr\demo.db", windows=True) == r"C:\cr\demo.db"
    assert shell.quote("it's", windows=True) == "'it''s'"
    assert shell.quote("$HOME", windows=True) == "'$HOME'"
    assert shell.quote("/home/jo bloggs/demo.db", windows=False) == "'/home/jo bloggs/demo.db'"


def test_the_cli_paths_import_no_posix_only_module():
    """grep, kept: no module the CLI imports names a POSIX-only module at its top level
    (`pwd`, `grp`, `fcntl`, `termios`, `resource`); those imported inside a function
    are behind a platform check or only reached by a POSIX-only option."""
    import ast
    from pathlib import Path

    import casereview

    posix_only = {"pwd", "grp", "fcntl", "termios", "resource", "posix"}
    offenders = []
    for path in Path(casereview.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            offenders += [f"{path.name}: {n}" for n in names if n in posix_only]
    assert offenders == []


def test_the_launcher_waits_for_the_isolated_command_on_windows(monkeypatch):
    """`os.execv` cannot replace a process on Windows: the isolated command runs as a
    child and the launcher exits with its code."""
    from casereview.cli import launch

    ran = []
    monkeypatch.setattr(launch, "needs_isolation", lambda: True)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "argv", ["casereview", "due"])
    monkeypatch.setattr(launch, "_run_and_wait", lambda command: ran.append(command) or 4)
    monkeypatch.setattr(os, "execv", lambda *a: pytest.fail("execv on Windows"))
    with pytest.raises(SystemExit) as ended:
        launch.main()
    assert ended.value.code == 4
    (command,) = ran
    assert command[1] == "-I" and command[-1] == "due"


def test_an_output_device_is_written_without_posix_only_flags(monkeypatch):
    """`--output NUL` on Windows is a character device, as `/dev/null` here: written
    through without O_NONBLOCK (which Windows lacks)."""
    from pathlib import Path

    from casereview.infra import output

    device = Path(os.devnull)
    if not device.exists():
        pytest.skip("no null device")
    monkeypatch.delattr(os, "O_NONBLOCK", raising=False)
    monkeypatch.setattr(os, "set_blocking", lambda *a: pytest.fail("set_blocking"))
    with output.destination(device) as stream:
        stream.write(b"written through\n")

"""The `casereview` command's entry point (the console script and `python -m casereview`):
the CLI runs in Python's isolated mode (`-I`).

The actor recorded on every event is the account of the process's real user id
(`infra.identity`). Python started without `-I` reads `PYTHONPATH`, `PYTHONSTARTUP`,
`PYTHONHOME` and the user's own site-packages before any casereview code runs, so a
`sitecustomize.py` on `PYTHONPATH` could replace `os.getuid` and make the command record
as another account. A console script cannot ask pip for `-I` (pip rewrites its first
line to the bare interpreter), so when the environment holds anything `-I` would ignore,
the process replaces itself (`os.execv`) with `python -I` running the same casereview
package, before anything else is imported (on Windows, where `execv` cannot replace a
process, it runs that command as a child and exits with its code). An environment with
none of it is already what `-I` gives, and starts once.

What the restart carries across: the arguments, the standard streams' encoding and
error handler (`PYTHONIOENCODING`, `PYTHONUTF8` are ignored under `-I`, and a person may
have set them for their terminal) and UTF-8 mode. What it cannot do: stop code that
already ran in the first process from doing something else instead; docs/deployment.md
says what that leaves to signatures and checkpoints.

Kept to the standard library's `os` and `sys`: it runs before every command.
"""

from __future__ import annotations

import os
import sys

_RESTART_FAILED = 1


def needs_isolation() -> bool:
    """Whether this process read anything Python's isolated mode would have ignored:
    any `PYTHON…` environment variable, or a user site-packages directory."""
    if sys.flags.isolated:
        return False
    if any(name.startswith("PYTHON") for name in os.environ):
        return True
    site = sys.modules.get("site")
    user_site = getattr(site, "USER_SITE", None) if site is not None else None
    return bool(
        not sys.flags.no_user_site
        and getattr(site, "ENABLE_USER_SITE", False)
        and user_site
        # os.path, not pathlib: this runs before every command, pathlib costs an import.
        and os.path.isdir(user_site)  # noqa: PTH112
    )


def isolated_command(argv: list[str]) -> list[str]:
    """The command that runs this casereview package with `argv` under `python -I`."""
    from pathlib import Path

    import casereview

    package_parent = str(Path(casereview.__file__).resolve().parent.parent)
    streams = [
        (name, getattr(stream, "encoding", None), getattr(stream, "errors", None))
        for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
    ]
    # The same package the command was started with (a source checkout or another
    # environment's copy would otherwise lose to whatever the isolated path finds first).
    boot = (
        "import sys\n"
        f"parent = {package_parent!r}\n"
        "if parent not in sys.path:\n"
        "    sys.path.insert(0, parent)\n"
        f"for name, encoding, errors in {streams!r}:\n"
        "    stream = getattr(sys, name)\n"
        "    if encoding and stream is not None and hasattr(stream, 'reconfigure'):\n"
        "        stream.reconfigure(encoding=encoding, errors=errors)\n"
        "from casereview.cli.launch import main\n"
        "main()\n"
    )
    flags = ["-I"]
    if sys.flags.utf8_mode:
        flags += ["-X", "utf8"]
    if sys.flags.dont_write_bytecode:
        flags.append("-B")
    return [sys.executable, *flags, "-c", boot, *argv]


def _run_and_wait(command: list[str]) -> int:
    """Windows: `os.execv` there starts a new process and ends this one at once, so the
    shell would take the prompt back while the command still runs and the two would
    share the console. The isolated command runs as a child instead, this process
    waiting for it and exiting with its code."""
    import subprocess

    return subprocess.run(command, check=False).returncode


def main() -> None:
    """Restart under `python -I` when needed, then run the CLI."""
    if needs_isolation():
        why = "this Python does not say where its interpreter is"
        if sys.executable:
            command = isolated_command(sys.argv[1:])
            try:
                if sys.platform == "win32":
                    sys.exit(_run_and_wait(command))
                os.execv(command[0], command)  # noqa: S606 (our own interpreter, no shell)
            except OSError as exc:
                why = str(exc.strerror or exc)
        sys.stderr.write(
            f"Error: could not restart casereview in Python's isolated mode ({why}); "
            "nothing was changed\n"
        )
        sys.exit(_RESTART_FAILED)
    from casereview.cli.app import main as run

    run()

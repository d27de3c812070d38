"""Who is at the keyboard.

The actor recorded on every event is the operating-system account that owns the
process, asked of the operating system, never of the environment: USER, LOGNAME and
USERNAME are never consulted, since anyone can set them (`getpass.getuser()` trusts
them).

- POSIX (Linux, macOS): the login name of the process's real user id (`pwd`).
- Windows: the user name of the process's access token (`GetUserNameW` in advapi32,
  through `ctypes`), which Windows set at logon. It carries no domain (`CORP\\Jo` is
  `Jo`), and is lower-cased: Windows account names are not case-sensitive, so `Jo.Bloggs`
  and `jo.bloggs` are one person and must be one casereview user (docs/install.md).

On PostgreSQL the store records the database session user instead (see docs/storage.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def os_account() -> str:
    """The account the process runs as, as casereview records it."""
    if sys.platform == "win32":
        return windows_account()
    return _posix_account()


def _posix_account() -> str:
    import pwd  # POSIX only: imported here so that this module loads on Windows

    return pwd.getpwuid(os.getuid()).pw_name


def windows_account(token_user_name: Callable[[], str] | None = None) -> str:
    """The Windows account of the process's access token, lower-cased. `token_user_name`
    replaces the system call in tests."""
    name = (token_user_name or _token_user_name)()
    # GetUserNameW gives the SAM name without a domain; a `DOMAIN\` prefix is dropped
    # in case a caller hands one in.
    return name.rpartition("\\")[2].strip().lower()


_UNLEN = 256
"""The longest Windows user name (lmcons.h), plus room for the terminating NUL below."""


def _token_user_name() -> str:  # pragma: no cover - needs Windows
    import ctypes
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    get_user_name = advapi32.GetUserNameW
    get_user_name.argtypes = (wintypes.LPWSTR, ctypes.POINTER(wintypes.DWORD))
    get_user_name.restype = wintypes.BOOL
    size = wintypes.DWORD(_UNLEN + 1)
    buffer = ctypes.create_unicode_buffer(size.value)
    if not get_user_name(buffer, ctypes.byref(size)):
        raise OSError(ctypes.get_last_error(), "GetUserNameW failed")  # type: ignore[attr-defined,unused-ignore]
    return buffer.value

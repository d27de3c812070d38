"""Who is at the keyboard.

The actor recorded on every event is the operating-system account that owns the
process, looked up from the real user id. Environment variables such as USER and
LOGNAME are never consulted: anyone can set them (`getpass.getuser()` trusts them).
On PostgreSQL the store records the database session user instead (see docs/storage.md).
"""

from __future__ import annotations

import os
import pwd


def os_account() -> str:
    """The login name of the process's real user id."""
    return pwd.getpwuid(os.getuid()).pw_name

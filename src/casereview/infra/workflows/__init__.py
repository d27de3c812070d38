"""Workflow definition files on disk: the installed ones, and validated copies cached
between processes.

`DEFAULT_WORKFLOW` lives here, in the package face that imports nothing, so the CLI can
show it as a default without loading a definition.
"""

import os
from collections.abc import Mapping

DEFAULT_WORKFLOW = "england-lcspr"
"""The workflow a new case follows when none is named and `CASEREVIEW_DEFAULT_WORKFLOW`
is not set: its highest installed version."""
DEFAULT_ENV = "CASEREVIEW_DEFAULT_WORKFLOW"


def default_workflow(environ: Mapping[str, str] | None = None) -> str:
    """The workflow a new case follows when none is named: `$CASEREVIEW_DEFAULT_WORKFLOW`
    (an id, or `id@N` for a partnership that keeps opening cases on an older installed
    version), else `DEFAULT_WORKFLOW`."""
    env = os.environ if environ is None else environ
    return env.get(DEFAULT_ENV, "").strip() or DEFAULT_WORKFLOW

"""Workflow definition files on disk: the installed ones, and validated copies cached
between processes.

`DEFAULT_WORKFLOW` lives here, in the package face that imports nothing, so the CLI can
show it as a default without loading a definition.
"""

DEFAULT_WORKFLOW = "england-lcspr"
"""The workflow a new case follows when none is named."""

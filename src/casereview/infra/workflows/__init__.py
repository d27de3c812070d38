"""Workflow definition files on disk: the installed ones, and validated copies cached between processes."""

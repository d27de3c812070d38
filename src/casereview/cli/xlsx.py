"""The `--xlsx FILE` options: tables the commands already show, written as a workbook
(`formats.xlsx`) whole or not at all (`infra.output`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from casereview.formats import xlsx
from casereview.infra import output


def write(path: Path, tables: Sequence[xlsx.Table]) -> None:
    """Write the workbook to `path` (a file that exists is replaced only whole)."""
    data = xlsx.workbook(tables)
    with output.destination(path, force=True) as stream:
        stream.write(data)

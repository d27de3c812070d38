"""What a decision-log export is asked for: shared by the export (`services.exports`)
and the worker processes that lay its lines out (`services.export_jobs`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class LogExportRequest:
    format: str = "csv"
    case: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    include_personal: bool = False
    actor: str | None = None  # events recorded by this account or on its behalf
    trigger: str | None = None  # events of this step
    workflow: str | None = None  # events of cases on this workflow (`id` or `id@N`)

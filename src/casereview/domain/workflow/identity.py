"""A workflow file's identity hash, kept apart from the model so that finding files and
their cached headers (`infra.workflows.registry`) needs neither the model nor pydantic."""

from __future__ import annotations

import hashlib


def content_hash(data: bytes) -> str:
    """The identity hash of a workflow file: sha256 of its bytes, hex."""
    return hashlib.sha256(data).hexdigest()

"""`case find`: which cases a piece of text points at.

Every reader searches the references and pseudonyms. A reader holding a role the case's
workflow lets see personal fields (`sees_personal`) also searches those fields (the
child's name); a case found that way is a view of personal data, recorded in the log
like every other (`services.access.allow_personal`) before it is shown. What a name
matched is said by the field's id, never by its value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from casereview.domain import text as free_text
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import InvalidInput
from casereview.services.access import allow_personal, require_reader
from casereview.services.context import ServiceContext

REF, PSEUDONYM = "ref", "pseudonym"


@dataclass(frozen=True)
class FoundCase:
    ref: str
    pseudonym: str
    state: str
    closed: bool
    matched: tuple[str, ...]  # "ref", "pseudonym", and the ids of personal fields matched


@dataclass(frozen=True)
class FindResult:
    text: str
    names_searched: bool  # the reader may see personal fields of some case searched
    cases: tuple[FoundCase, ...]


def find_cases(ctx: ServiceContext, text: str) -> FindResult:
    """Cases whose reference, pseudonym or (for readers allowed them) personal fields
    contain `text`, ignoring letter case; by reference. Voided cases are left out."""
    from casereview.store import projections

    needle = " ".join(text.split()).casefold()
    if not needle:
        raise InvalidInput("give some text to find: part of a reference, a pseudonym or a name")
    free_text.check(text, "the text to find", multiline=False)
    definitions: dict[tuple[str, int, str], WorkflowDefinition] = {}
    with ctx.db().reading() as conn:
        viewer = require_reader(ctx, conn)
        rows = projections.list_cases(conn)
        found: list[FoundCase] = []
        by_name: dict[str, WorkflowDefinition] = {}
        searched = False
        for row in rows:
            matched = [
                what
                for what, value in ((REF, row["ref"]), (PSEUDONYM, row["pseudonym"]))
                if needle in str(value).casefold()
            ]
            key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
            if key not in definitions:
                definitions[key] = ctx.registry.get_exact(*key)
            definition = definitions[key]
            if viewer.roles & definition.personal_roles:
                searched = True
                fields = json.loads(row["fields"])
                names = sorted(
                    name
                    for name in definition.personal_field_ids
                    if needle in " ".join(str(fields.get(name, "")).split()).casefold()
                )
                if names:
                    by_name[str(row["ref"])] = definition
                    matched += names
            if matched:
                found.append(
                    FoundCase(
                        ref=str(row["ref"]),
                        pseudonym=str(row["pseudonym"]),
                        state=str(row["state"]),
                        closed=bool(row["closed"]),
                        matched=tuple(matched),
                    )
                )
    if by_name:
        allow_personal(
            ctx, viewer, list(by_name.values()), command="case find", cases=sorted(by_name)
        )
    return FindResult(text=text, names_searched=searched, cases=tuple(found))

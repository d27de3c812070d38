"""Which case a person means: the REF every case command takes is the case's reference,
or a pseudonym that names one case.

The reference wins: a pseudonym is tried only when no case has that reference. A
pseudonym matches exactly, or else regardless of case ("child c"); where the second
finds several cases the person is asked for the reference, and shown only the
candidates' references.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from casereview.errors import InvalidInput, NotFound, Step

Row = TypeVar("Row", bound=Mapping[Any, Any])


def choose(asked: str, by_ref: Row | None, by_pseudonym: Callable[[str], Sequence[Row]]) -> Row:
    """The case row `asked` names: `by_ref` (the row with that reference) when there is
    one, else the one case whose pseudonym it is. NotFound (exit 3) when none is;
    InvalidInput (exit 2) naming the candidates' references when several are."""
    if by_ref is not None:
        return by_ref
    rows = by_pseudonym(asked)
    exact = [r for r in rows if r["pseudonym"] == asked]
    if len(exact) == 1:
        return exact[0]
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise no_case(asked)
    raise InvalidInput(
        "{ref!r} is the pseudonym of {count} cases ({refs}); give the case reference",
        ref=asked,
        count=len(rows),
        refs=", ".join(sorted(str(r["ref"]) for r in rows)),
    )


def no_case(ref: str) -> NotFound:
    """No case has `ref` as its reference or pseudonym."""
    return NotFound("no case {ref!r}; see '{next}'", ref=ref, next=Step("list_cases"))

"""The report as a JSON document, for scripts.

Keys are a public contract (docs/report.md): add keys, never rename or drop them. Dates
are ISO `YYYY-MM-DD`; a figure with nothing to measure has `"value": null`, and one that
is not applicable to the workflows of the cases read also has `"applicable": false` (as
do the quarters when rapid reviews are not applicable, with null counts). The cases
behind each figure, and the timeline (which names cases), appear only with `--detail`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from casereview.domain.reporting.figures import QuarterCount, Report, ReviewType
from casereview.formats.report import actions as actions_section
from casereview.formats.text import json_safe

FORMAT = "casereview-report"
FORMAT_VERSION = 1
_LAYOUT: dict[str, Any] = {"indent": 2, "ensure_ascii": False}


def to_data(report: Report, *, detail: bool) -> dict[str, Any]:
    """The whole document as plain data."""
    return _document(report, detail=detail, listed=lambda items: list(items))


def _document(
    report: Report, *, detail: bool, listed: Callable[[Iterable[Any]], Any]
) -> dict[str, Any]:
    """The document, with each long list (the cases behind a figure, the timeline) put
    in as `listed` makes it: a list, or a placeholder to stream it in later."""
    figures: dict[str, Any] = {}
    for figure in report.figures:
        entry: dict[str, Any] = {
            "section": figure.section,
            "label": figure.label,
            "value": figure.value,
            "unit": figure.unit,
            "part_of": figure.part_of,
        }
        if not figure.applicable:
            entry["applicable"] = False
        if detail:
            entry["cases"] = listed(figure.records())
        figures[figure.id] = entry
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "partnership": report.partnership,
        "period": {
            "from": report.period.start.isoformat(),
            "to": report.period.end.isoformat(),
            "label": report.period.label,
            "financial_year": report.period.financial_year,
        },
        "generated_on": report.generated_on.isoformat(),
        "as_at": report.as_at.isoformat(),
        "complete": report.complete,
        "detail": detail,
        "figures": figures,
        "rapid_reviews_by_quarter": [_quarter(q) for q in report.by_quarter],
        "review_types": [_review_type(t) for t in report.review_types],
    }
    if report.actions is not None:
        data["actions"] = actions_section.json_data(report.actions)
    if detail:
        data["timeline"] = listed(
            {
                "ref": case.ref,
                "pseudonym": case.pseudonym,
                "opened_on": case.opened_on.isoformat(),
                "closed_on": case.closed_on.isoformat() if case.closed_on else None,
                "state_at_end": case.state_at_end,
                "clocks": [
                    {
                        "clock": lane.clock_id,
                        "label": lane.label,
                        "kind": lane.kind,
                        "started_on": lane.started_on.isoformat(),
                        "due_on": lane.due_on.isoformat() if lane.due_on else None,
                        "stopped_on": lane.stopped_on.isoformat() if lane.stopped_on else None,
                        "status": lane.status,
                        "pauses": [
                            {
                                "from": start.isoformat(),
                                "to": stop.isoformat() if stop else None,
                            }
                            for start, stop in lane.pauses
                        ],
                    }
                    for lane in case.lanes
                ],
            }
            for case in report.timeline
        )
    return data


def _review_type(kind: ReviewType) -> dict[str, Any]:
    """A review type's own section: its figures (values only; the cases behind them are
    in `figures`), grouped and headed as its workflow says."""
    groups = []
    for group in kind.groups:
        figures: dict[str, Any] = {}
        for figure in group.figures:
            entry: dict[str, Any] = {"label": figure.label, "value": figure.value}
            entry.update(unit=figure.unit, part_of=figure.part_of)
            if not figure.applicable:
                entry["applicable"] = False
            figures[figure.id] = entry
        groups.append({"section": group.id, "title": group.title, "figures": figures})
    return {
        "workflow": kind.workflow,
        "label": kind.label,
        "title": kind.title,
        "groups": groups,
        "linked": [
            {
                "ref": link.ref,
                "pseudonym": link.pseudonym,
                "relation": link.relation,
                "other": link.other,
                "other_type": link.other_type,
                "recorded_here": link.recorded_here,
            }
            for link in kind.linked
        ],
    }


def _quarter(q: QuarterCount) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "quarter": q.quarter.label,
        "from": q.quarter.start.isoformat(),
        "to": q.quarter.end.isoformat(),
        "partial": q.quarter.partial,
        "on_time": q.on_time if q.applicable else None,
        "late": q.late if q.applicable else None,
    }
    if not q.applicable:
        entry["applicable"] = False
    return entry


def render(report: Report, *, detail: bool) -> str:
    return "".join(chunks(report, detail=detail))


def chunks(report: Report, *, detail: bool) -> Iterator[str]:
    """The document in pieces, so a large one can be written as it is made; their
    concatenation is `json.dumps(to_data(…), indent=2, ensure_ascii=False)` plus a newline.

    The document is dumped with a placeholder string for each long list; each list is
    then written item by item where its placeholder was, every item dumped on its own
    and indented one level deeper than the key that holds the list, which is exactly
    how `json.dumps` lays out a nested list (the items' own line breaks are all layout:
    JSON escapes the ones inside strings).
    """
    lists: list[tuple[str, Iterable[Any]]] = []

    def placeholder(items: Iterable[Any]) -> str:
        # Control characters never come out of json.dumps raw, so no text can clash.
        token = f"\x00casereview-list-{len(lists)}\x00"
        lists.append((json.dumps(token), items))
        return token

    text = json.dumps(_document(report, detail=detail, listed=placeholder), **_LAYOUT) + "\n"
    done = 0
    for token, items in lists:
        at = text.index(token, done)
        line_start = text.rindex("\n", 0, at) + 1
        indent = " " * (len(text[line_start:at]) - len(text[line_start:at].lstrip(" ")))
        yield json_safe(text[done:at])
        yield from map(json_safe, _list(items, indent))
        done = at + len(token)
    yield json_safe(text[done:])


def _list(items: Iterable[Any], indent: str) -> Iterator[str]:
    """A list as `json.dumps` lays it out under a key indented by `indent`."""
    inner = "\n" + indent + "  "
    opened = False
    for item in items:
        yield ("," if opened else "[") + inner + json.dumps(item, **_LAYOUT).replace("\n", inner)
        opened = True
    yield "\n" + indent + "]" if opened else "[]"

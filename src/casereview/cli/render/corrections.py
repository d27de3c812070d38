"""Rendering for `case correct|undo|void`: what was recorded, and the clocks it moved."""

from __future__ import annotations

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.presenters import corrections as words
from casereview.services.corrections import AmendResult


def amended(result: AmendResult, as_json: bool) -> None:
    if as_json:
        print_json_data(words.result_json(result))
        return
    info(words.headline(result))
    console = out()
    for change in result.changes:
        console.print(literal(f"  {words.change_words(change)}"))
    for shift in result.clocks:
        console.print(literal(f"  Clock {words.shift_words(shift)}"))

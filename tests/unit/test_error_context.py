"""An error given context by a caller (`prefixed`, `suffixed`) keeps its type, its
parameters and its front end's spelling; text with braces in it stays as typed."""

from __future__ import annotations

import pickle

from casereview.cli.messages import wording
from casereview.errors import Input, Refused


def test_context_before_and_after_keeps_the_parameters():
    error = Refused("give {field} first", field=Input("field", "url"))
    framed = error.prefixed("case {A}: ").suffixed("; nothing from {this} batch was recorded")
    assert type(framed) is Refused
    assert framed.params == error.params
    assert str(framed) == "case {A}: give url=… first; nothing from {this} batch was recorded"
    assert wording(framed) == (
        "case {A}: give --set url=… first; nothing from {this} batch was recorded"
    )
    assert str(pickle.loads(pickle.dumps(framed))) == str(framed)


def test_context_around_a_plain_message():
    error = Refused("not possible {here}")
    assert str(error.prefixed("step 1: ").suffixed(".")) == "step 1: not possible {here}."

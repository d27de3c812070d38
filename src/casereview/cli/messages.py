"""How the command line spells the inputs and next steps that messages name.

Messages below the CLI name what the person gives as an `errors.Input` and what to do
next as an `errors.Step`; this module writes them as options (`--within`,
`--set agency=…`) and commands (`casereview case list`), so every `Error: …` line reads
as it always has while the services stay free of command-line syntax.
"""

from __future__ import annotations

import shlex

from casereview.errors import CaseReviewError, Input, Step

_COMMANDS = {
    "add_user": "casereview user add {0} …",
    "grant_role": "casereview user grant {0} ROLE",
    "revoke_role": "casereview user revoke {0} ROLE",
    "set_partnership": "casereview partnership set {0}",
    "setup": "casereview setup",
    "init": "casereview init",
    "install_workflow": "casereview workflow install {0}",
    "key_confirm": "casereview key confirm {0} {1}",
    "key_enrol": "casereview key enrol",
    "key_enrol_replace": "casereview key enrol --replace",
    "key_list": "casereview key list",
    "list_cases": "casereview case list",
    "list_users": "casereview user list",
    "show_case": "casereview case show",
    "validate_workflow": "casereview workflow validate {0}",
    "verify_log": "casereview audit verify",
    "verify_export": "casereview log verify-export {0}",
    "void_case": "casereview case void {0} --rationale …",
}
"""Each step's command; `{0}`, `{1}` … are the step's arguments."""

_QUOTED = frozenset({"set_partnership"})
"""Steps whose arguments are free text, quoted for a shell so they can be pasted."""


def spell(term: Input | Step) -> str:
    """An input as the option that gives it; a step as the command that does it."""
    if isinstance(term, Input):
        if term.name == "field":
            return f"--set {term.key}=…"
        if term.name == "corrected_field":
            return "--field NAME=VALUE"
        return "--" + term.name.replace("_", "-")
    pattern = _COMMANDS.get(term.action)
    if pattern is None:
        return " ".join(("casereview", *term.action.split("_"), *term.args))
    if term.action in _QUOTED:
        return pattern.format(*map(shlex.quote, term.args))
    return pattern.format(*term.args)


def wording(error: CaseReviewError) -> str:
    """The error's message as the command line shows it."""
    return error.spelled(spell)

"""A definition as Mermaid `stateDiagram-v2` text (renders on GitHub, in docs, in mermaid.live).

Only a small, fixed subset of the grammar is emitted (state labels, the initial and
terminal arrows, one `source --> dest : trigger` line per state a trigger can fire from,
`*` expanded and self-loops included), one statement per line, so the output is easy to
check and to diff. An example: docs/workflows.md ("Commands").
"""

from __future__ import annotations

import re

from casereview.domain.workflow.model import WorkflowDefinition

HEADER = "stateDiagram-v2"
INDENT = "    "


def _label(text: str) -> str:
    # Inside a quoted Mermaid label a double quote ends the label and '#...;' is an
    # entity code; replace both so a label from the file can never break the diagram.
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = cleaned.replace('"', "'").replace("#", " ").replace(";", ",")
    return re.sub(r"\s+", " ", cleaned).strip()


def mermaid(definition: WorkflowDefinition) -> str:
    """The state diagram, one statement per line, ending with a newline."""
    lines = [HEADER]
    for state in definition.states:
        lines.append(f'{INDENT}state "{_label(state.label)}" as {state.id}')
    lines.append(f"{INDENT}[*] --> {definition.initial_state}")
    for trigger in definition.triggers:
        for source in definition.sources_of(trigger):
            lines.append(f"{INDENT}{source} --> {trigger.destination_from(source)} : {trigger.id}")
    for state in definition.states:
        if state.terminal:
            lines.append(f"{INDENT}{state.id} --> [*]")
    return "\n".join(lines) + "\n"

"""Reading a workflow file: bytes → TOML → validated `WorkflowDefinition`, or every problem.

Every way that can fail becomes a line a person can act on, starting with the file's
name: a TOML syntax error gives its line and column, a schema error names the table, the
id and the key and says what is allowed (pydantic's own text never reaches the user), and
cross-reference problems come from `references`. All of a file's problems are collected
before `InvalidWorkflow(message, problems)` is raised. The content hash is the sha256 of
the file's exact bytes (docs/workflows.md, "Identity and versions").
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from casereview.domain.workflow.model import (
    FROM_PATTERN,
    ID_PATTERN,
    WORKFLOW_ID_PATTERN,
    ActionPlanRules,
    CorrectionRules,
    Holds,
    Links,
    Processes,
    ReportTable,
    Settings,
    VersionMap,
    WorkflowDefinition,
    content_hash,
    toml_kind,
)
from casereview.domain.workflow.references import SECTIONS, Parts, check_references
from casereview.errors import InvalidWorkflow, NotFound, Step


def load_path(path: Path | str, *, name: str | None = None) -> WorkflowDefinition:
    """Load and fully validate one workflow file; raises InvalidWorkflow or NotFound.

    Problem lines start with `name` (default: the file's name without its directory).
    """
    file = Path(path)
    name = name or file.name
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no such workflow file: {file}") from None
    except IsADirectoryError:
        raise NotFound(f"{file} is a directory, not a workflow file") from None
    except OSError as exc:
        raise InvalidWorkflow(
            f"cannot read {file}: {exc.strerror}", [f"{name}: cannot read: {exc.strerror}"]
        ) from None
    return load_bytes(data, name=name, source=str(file))


def load_bytes(data: bytes, *, name: str, source: str | None = None) -> WorkflowDefinition:
    """Validate `data` (the bytes of a file called `name`); raises InvalidWorkflow."""
    definition, problems = check_bytes(data, name=name, source=source)
    if definition is None or problems:
        count = len(problems)
        raise InvalidWorkflow(
            "{name} is not a valid workflow definition ({count}; run '{next}' to list them)",
            problems,
            name=name,
            count=f"{count} problem{'s' if count != 1 else ''}",
            next=Step("validate_workflow", (source or name,)),
        )
    return definition


def check_bytes(
    data: bytes, *, name: str, source: str | None = None
) -> tuple[WorkflowDefinition | None, list[str]]:
    """The definition (when the schema accepts it) and every problem found, each line
    prefixed with `name`. A definition is only usable when the problem list is empty."""
    raw, problems = _parse(data)
    if raw is None:
        return None, [f"{name}: {p}" for p in problems]
    try:
        definition = WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = [describe_error(raw, err) for err in exc.errors()]
        problems += check_references(_partial(raw))
        return None, [f"{name}: {p}" for p in _dedupe(problems)]
    definition._attach(content_hash(data), source)
    problems = check_references(Parts.of(definition))
    return definition, [f"{name}: {p}" for p in problems]


def read_header(data: bytes) -> tuple[str | None, int | None]:
    """The id and version a file claims, read without validating (for registry messages
    about files that fail validation)."""
    raw, _ = _parse(data)
    if raw is None:
        return None, None
    wid, version = raw.get("id"), raw.get("version")
    return (
        wid if isinstance(wid, str) else None,
        version if isinstance(version, int) and not isinstance(version, bool) else None,
    )


def _dedupe(problems: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(problems))


# -- TOML -------------------------------------------------------------------------------

_TOML_POSITION = re.compile(
    r"^(?P<what>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def _parse(data: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [f"line {line}: the file is not UTF-8 text (byte {exc.start + 1})"]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_toml_problem(str(exc), text)]
    except RecursionError:
        return None, [f"arrays or tables are nested too deeply to read (more than {MAX_DEPTH})"]
    if nested_deeper(raw, MAX_DEPTH):
        return None, [f"arrays or tables are nested more than {MAX_DEPTH} levels deep"]
    return raw, []


MAX_DEPTH = 32
"""How deeply a workflow file may nest arrays and tables. The format needs four levels;
anything far deeper is not a workflow, and would only exhaust the validators' recursion."""


def nested_deeper(value: Any, limit: int) -> bool:
    """True if `value` nests lists or dicts more than `limit` levels deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _toml_problem(message: str, text: str) -> str:
    # Python 3.11's TOMLDecodeError carries its position only inside the message text.
    match = _TOML_POSITION.match(message)
    if match is None:
        return f"not valid TOML: {message}"
    what = match["what"][:1].lower() + match["what"][1:]
    if match["line"] is None:
        return f"line {text.count(chr(10)) + 1} (end of file): not valid TOML: {what}"
    return f"line {match['line']}, column {match['col']}: not valid TOML: {what}"


# -- partial parts, for cross-reference checks when the schema failed --------------------


def _partial(raw: Mapping[str, Any]) -> Parts:
    """Parts built from whatever tables validate on their own."""
    fields = WorkflowDefinition.model_fields
    items: dict[str, tuple[Any, ...]] = {}
    declared: dict[str, tuple[str, ...]] = {}
    for section in SECTIONS:
        entries = raw.get(section)
        entries = entries if isinstance(entries, list) else []
        declared[section] = tuple(
            e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)
        )
        member = get_args(_strip(fields[section].annotation))[0]
        adapter: TypeAdapter[Any] = TypeAdapter(member)
        valid = []
        for entry in entries:
            try:
                valid.append(adapter.validate_python(entry))
            except ValidationError:
                continue
        items[section] = tuple(valid)
    try:
        settings: Settings | None = Settings.model_validate(raw.get("settings", {}))
    except ValidationError:
        settings = None
    try:
        report = ReportTable.model_validate(raw["report"]) if "report" in raw else None
    except ValidationError:
        report = None
    try:
        corrections = (
            CorrectionRules.model_validate(raw["corrections"]) if "corrections" in raw else None
        )
    except ValidationError:
        corrections = None
    try:
        holds = Holds.model_validate(raw["holds"]) if "holds" in raw else None
    except ValidationError:
        holds = None
    migrations: list[VersionMap] = []
    for entry in raw.get("migrations", []) if isinstance(raw.get("migrations"), list) else []:
        try:
            migrations.append(VersionMap.model_validate(entry))
        except ValidationError:
            continue
    try:
        action_plan = (
            ActionPlanRules.model_validate(raw["action_plan"]) if "action_plan" in raw else None
        )
    except ValidationError:
        action_plan = None
    try:
        processes = Processes.model_validate(raw["processes"]) if "processes" in raw else None
    except ValidationError:
        processes = None
    try:
        links = Links.model_validate(raw["links"]) if "links" in raw else None
    except ValidationError:
        links = None
    initial = raw.get("initial_state")
    open_roles = raw.get("open_roles")
    return Parts(
        settings=settings,
        initial_state=initial
        if isinstance(initial, str) and re.match(ID_PATTERN, initial)
        else None,
        open_roles=tuple(r for r in open_roles if isinstance(r, str))
        if isinstance(open_roles, list)
        else (),
        agencies=items["agencies"],
        roles=items["roles"],
        fields=items["fields"],
        states=items["states"],
        triggers=items["triggers"],
        approval_rounds=items["approval_rounds"],
        clocks=items["clocks"],
        declared=declared,
        report=report,
        corrections=corrections,
        holds=holds,
        migrations=tuple(migrations),
        action_plan=action_plan,
        processes=processes,
        links=links,
    )


# -- pydantic errors → readable lines ----------------------------------------------------


def _strip(tp: Any) -> Any:
    """Remove Annotated[...] and Optional[...] wrappers (keeps real unions)."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _model_field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (info.alias, name):
            return info.annotation
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _tagged_member(union: Any, tag: str) -> Any:
    for member in get_args(union):
        member = _strip(member)
        if _is_model(member):
            kind = member.model_fields.get("kind")
            if kind is not None and tag in get_args(kind.annotation):
                return member
    return None


def _union_tags(union: Any) -> list[str]:
    tags: list[str] = []
    for member in get_args(_strip(union)):
        member = _strip(member)
        if _is_model(member) and "kind" in member.model_fields:
            tags.extend(get_args(member.model_fields["kind"].annotation))
    return tags


_RETIRED = {
    "records_on_behalf": "replaced by each trigger's on_behalf rules, see docs/workflows.md; ",
}
"""Keys earlier versions of the format had, with what replaced them."""

_SINGULAR = {"guards": "guard", "on_behalf": "on_behalf rule"}

_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "string_type": "text in quotes",
    "bool_type": "true or false",
    "list_type": "a list [ … ]",
    "tuple_type": "a list [ … ]",
    "dict_type": "a table",
    "mapping_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}

_PATTERNS = {
    ID_PATTERN: "a valid id (lower-case letters, digits and underscores, starting with a letter)",
    WORKFLOW_ID_PATTERN: (
        "a valid workflow id (lower-case letters and digits, words joined by '-' or '_')"
    ),
    FROM_PATTERN: "a state id or '*'",
}


def _shown(value: object) -> str:
    if isinstance(value, dict | list):
        return ""
    text = repr(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return " " + (text if len(text) <= 40 else text[:39] + "…")


@dataclass
class _Where:
    """Where in the file a pydantic error points, in words."""

    context: list[str] = field(default_factory=list)  # "trigger 'notify'", "guard 1 (field_set)"
    subject: str = ""  # the key the message is about: "key 'version'", "key 'from' item 2"
    path: list[str] = field(default_factory=list)  # nested tables: settings.anchors.x
    model: Any = WorkflowDefinition  # the type at the innermost table reached
    value: Any = None  # what to show as the offending value

    @property
    def table(self) -> list[str]:
        return [f"table {'.'.join(self.path)!r}"] if self.path else []


def _locate(raw: Mapping[str, Any], loc: Sequence[int | str], value: Any) -> _Where:
    """Walk an error location against the raw TOML (to name entries by their id) and the
    model types (to know the keys a table allows, and to step over the union tag pydantic
    inserts into locations inside a guard)."""
    where = _Where(value=value)
    node: Any = raw
    i = 0
    while i < len(loc):
        part, nxt = loc[i], loc[i + 1] if i + 1 < len(loc) else None
        model = _strip(where.model)
        if not (_is_model(model) and isinstance(part, str)):
            break
        dotted = ".".join([*where.path, part])
        if nxt is None:
            where.subject = f"key {dotted!r}"
            break
        annotation = _strip(_model_field(model, part))
        child = node.get(part) if isinstance(node, dict) else None
        entry = (
            child[nxt]
            if isinstance(child, list) and isinstance(nxt, int) and nxt < len(child)
            else None
        )
        if isinstance(nxt, int) and model is WorkflowDefinition and part in SECTIONS:
            entry_id = entry.get("id") if isinstance(entry, dict) else None
            label = SECTIONS[part]
            where.context.append(
                f"{label} {entry_id!r}" if isinstance(entry_id, str) else f"{label} #{nxt + 1}"
            )
            where.model, where.path, node, i = get_args(annotation)[0], [], entry, i + 2
        elif isinstance(nxt, int) and part in _SINGULAR:
            kind = entry.get("kind") if isinstance(entry, dict) else None
            label = f"{_SINGULAR[part]} {nxt + 1}"
            where.context.append(f"{label} ({kind})" if isinstance(kind, str) else label)
            union = _strip(get_args(annotation)[0])
            where.model, where.path, node, i = union, [], entry, i + 2
            tag = loc[i] if i < len(loc) else None
            member = _tagged_member(union, tag) if isinstance(tag, str) else None
            if member is not None:
                where.model, i = member, i + 1
        elif isinstance(nxt, int):
            where.subject = f"key {dotted!r} item {nxt + 1}"
            break
        elif _is_model(annotation):
            where.model, where.path, node, i = annotation, [*where.path, part], child, i + 1
        elif get_origin(annotation) in (Mapping, dict) and isinstance(nxt, str):
            if i + 2 < len(loc) and loc[i + 2] == "[key]":
                where.subject, where.value = f"key {dotted!r}", nxt  # the key itself is bad
                break
            inner = _strip(get_args(annotation)[1])
            if not _is_model(inner) or i + 2 >= len(loc):
                where.subject = f"key '{dotted}.{nxt}'"
                break
            where.model, where.path = inner, [*where.path, part, nxt]
            node = child.get(nxt) if isinstance(child, dict) else None
            i += 2
        else:
            where.subject = f"key {dotted!r}"
            break
    return where


def describe_error(raw: Mapping[str, Any], err: ErrorDetails) -> str:
    """One pydantic error as a line like `trigger 'notify': unknown key 'role' (…)`."""
    loc = list(err["loc"])
    where = _locate(raw, loc, err.get("input"))
    kind, ctx, value = err["type"], err.get("ctx") or {}, where.value
    context, subject = where.context, where.subject
    if kind == "extra_forbidden":
        container = _strip(where.model)
        allowed = _allowed_keys(container) if _is_model(container) else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        hint = _RETIRED.get(str(loc[-1]), hint)
        message = f"unknown key {loc[-1]!r} ({hint}allowed: {', '.join(allowed)})"
        context, subject = context + where.table, ""
    elif kind == "missing":
        message = f"missing required key {loc[-1]!r}"
        context, subject = context + where.table, ""
    elif kind == "union_tag_invalid":
        message = (
            f"unknown kind {ctx.get('tag')!r} (allowed: {', '.join(_union_tags(where.model))})"
        )
        subject = ""
    elif kind == "union_tag_not_found":
        message = f"missing key 'kind' (allowed kinds: {', '.join(_union_tags(where.model))})"
        subject = ""
    elif kind == "literal_error":
        message = f"must be one of {ctx.get('expected')}, got{_shown(value)}"
    elif kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        message = f"{value!r} is not {_PATTERNS.get(pattern, f'text matching {pattern}')}"
    elif kind in ("string_too_short", "too_short"):
        message = "must not be empty"
    elif kind in ("greater_than_equal", "greater_than"):
        bound = "at least" if "ge" in ctx else "more than"
        message = f"must be {bound} {ctx.get('ge', ctx.get('gt'))}, got{_shown(value)}"
    elif kind in _EXPECTED:
        message = f"must be {_EXPECTED[kind]}, got {toml_kind(value)}{_shown(value)}"
    elif kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        message = str(error) if error is not None else err["msg"]
    else:
        message = err["msg"]
    return ": ".join([*context, *([subject] if subject else []), message])

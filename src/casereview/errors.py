"""The error hierarchy, the exit codes it maps to, and the words a message may leave to
its front end.

Every failure a person can cause is one of these exceptions. A message says what was
wrong and what to do, and never contains case data beyond the reference the person
typed. Below the entry points a message names no command-line syntax: where it must
name something the person gives (an option, a form field) it holds an `Input`, and
where it suggests a next step, a `Step`. Each front end spells those its own way: the
CLI as `--within` and `casereview case list`, a web page as a field label and a link.
`str(error)` spells them plainly, for logs and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    REFUSED = 4
    INVALID_WORKFLOW = 5
    CONFLICT = 6
    VERIFICATION_FAILED = 7


class _Term:
    """A value-like word a message leaves to its front end (plain classes, not
    dataclasses: every command imports this module, so it is kept cheap to import)."""

    __slots__ = ()

    def _key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()  # type: ignore[attr-defined,unused-ignore]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._key()!r}"


class Input(_Term):
    """Something the person gives with a request: `name` is the input's own name
    (`within`, `rationale`, `on`), or `field` with `key` the workflow field's id."""

    __slots__ = ("key", "name")

    def __init__(self, name: str, key: str | None = None) -> None:
        self.name = name
        self.key = key

    def _key(self) -> tuple[object, ...]:
        return (self.name, self.key)

    def __str__(self) -> str:
        return f"{self.key}=…" if self.name == "field" else self.name


class Step(_Term):
    """A next step a message suggests: `action` names it (`list_cases`, `init`, …) and
    `args` are the values it takes (a reference, an account, a file)."""

    __slots__ = ("action", "args")

    def __init__(self, action: str, args: tuple[str, ...] = ()) -> None:
        self.action = action
        self.args = args

    def _key(self) -> tuple[object, ...]:
        return (self.action, self.args)

    def __str__(self) -> str:
        return " ".join((self.action.replace("_", " "), *self.args))


Speller = Callable[[Input | Step], str]
"""How a front end writes an `Input` or a `Step` inside a message."""


def _plain(term: Input | Step) -> str:
    return str(term)


class CaseReviewError(Exception):
    """Base of every expected failure; carries its exit code.

    `template` is the message with `{name}` places for `params`; a parameter that is an
    `Input` or a `Step` (or a tuple of them, written as a comma-separated list) is
    spelled by the front end, anything else is formatted as it is.
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(self.spelled(_plain))

    def spelled(self, speller: Speller) -> str:
        """The message with its inputs and steps spelled by `speller`."""
        if not self.params:
            return self.template
        values = {key: _spell(value, speller) for key, value in self.params.items()}
        return self.template.format(**values)

    @property
    def message(self) -> str:
        return self.spelled(_plain)

    def __str__(self) -> str:
        return self.message

    def prefixed(self, text: str) -> CaseReviewError:
        """The same error (type, parameters, attributes) with `text` before its message:
        for a caller that adds where it happened (`step 3 (close): …`)."""
        escaped = text.replace("{", "{{").replace("}", "}}") if self.params else text
        return _rebuild(type(self), escaped + self.template, self.params, dict(self.__dict__))

    def suffixed(self, text: str) -> CaseReviewError:
        """The same error with `text` after its message (`…; nothing was recorded`)."""
        escaped = text.replace("{", "{{").replace("}", "}}") if self.params else text
        return _rebuild(type(self), self.template + escaped, self.params, dict(self.__dict__))

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle their args; this one is rebuilt from template and params
        # (worker processes hand errors back to the coordinator).
        return (_rebuild, (type(self), self.template, self.params, self.__dict__))


def _spell(value: Any, speller: Speller) -> Any:
    if isinstance(value, Input | Step):
        return speller(value)
    if isinstance(value, tuple) and value and all(isinstance(v, Input | Step) for v in value):
        return ", ".join(speller(v) for v in value)
    return value


def _rebuild(
    cls: type[CaseReviewError], template: str, params: dict[str, Any], state: dict[str, Any]
) -> CaseReviewError:
    error = cls.__new__(cls)
    Exception.__init__(error, template)
    error.__dict__.update(state)
    error.template, error.params = template, params
    return error


class InvalidInput(CaseReviewError):
    """A value the person typed cannot be used (bad date, negative count, …)."""

    exit_code = ExitCode.USAGE


class OutOfRange(InvalidInput):
    """A date or count outside what casereview can compute reliably."""


class NotFound(CaseReviewError):
    """A case, user, workflow or clock that does not exist."""

    exit_code = ExitCode.NOT_FOUND


class Refused(CaseReviewError):
    """The request is well-formed but the rules forbid it (state, role, guard, field)."""

    exit_code = ExitCode.REFUSED


class InvalidWorkflow(CaseReviewError):
    """A workflow definition file failed validation; `problems` lists every finding."""

    exit_code = ExitCode.INVALID_WORKFLOW

    def __init__(self, template: str, problems: list[str] | None = None, **params: Any) -> None:
        super().__init__(template, **params)
        self.problems = problems or []


class Conflict(CaseReviewError):
    """Someone else changed the case after the person last saw it."""

    exit_code = ExitCode.CONFLICT


class VerificationFailed(CaseReviewError):
    """A log, an export or a backup does not verify, so the step that needed it was not
    taken."""

    exit_code = ExitCode.VERIFICATION_FAILED

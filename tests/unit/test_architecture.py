"""The house rules that import contracts cannot see: no SQL, no database dialect and no
command-line syntax below the front ends (docs/architecture.md).

SQL and command-line syntax are looked for in every line (docstrings included: a
docstring that quotes an option is out of date the day the option is renamed); a dialect
only in code (names, attributes and string literals that are not docstrings), since prose
may say what happens on SQLite or PostgreSQL.
"""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "casereview"
BELOW_FRONT_ENDS = ("domain", "services")

SQL = re.compile(r"\b(SELECT\s+\S+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b")
CLI_SYNTAX = re.compile(
    r"(?<![\w-])--[a-z][a-z-]+|['\"`]casereview (case|log|audit|due|user|workflow|init|demo"
    r"|report|timeline|explain|workdays|calendar)\b"
)
DIALECT = re.compile(r"dialect|postgres|sqlite", re.IGNORECASE)


def _modules() -> list[Path]:
    return sorted(p for layer in BELOW_FRONT_ENDS for p in (SRC / layer).rglob("*.py"))


def _lines_matching(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in _modules()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]


def _code_words(tree: ast.AST) -> list[tuple[int, str]]:
    """Names, attributes and non-docstring string literals, with their line."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            words.append((node.lineno, node.attr))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            words.append((node.lineno, node.value))
    return words


def test_there_are_modules_to_check():
    assert len(_modules()) > 20


def test_no_sql_below_the_front_ends():
    assert _lines_matching(SQL) == []


def test_no_command_line_syntax_below_the_front_ends():
    assert _lines_matching(CLI_SYNTAX) == []


def test_no_database_dialect_in_code_below_the_front_ends():
    found = [
        f"{path.relative_to(SRC)}:{line}: {word!r}"
        for path in _modules()
        for line, word in _code_words(ast.parse(path.read_text(encoding="utf-8")))
        if DIALECT.search(word)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (SQL, 'conn.execute("SELECT seq FROM events")', True),
        (SQL, "select the cases from the log", False),
        (CLI_SYNTAX, 'raise InvalidInput("give --agency")', True),
        (CLI_SYNTAX, "see 'casereview case list'", True),
        (CLI_SYNTAX, "a casereview user", False),
        (CLI_SYNTAX, "a well-known rule", False),
    ],
)
def test_the_patterns_find_what_they_look_for(pattern, text, found):
    assert bool(pattern.search(text)) is found


def test_dialects_are_found_in_code_not_prose():
    tree = ast.parse('"""On SQLite the file."""\nif conn.dialect.name == "postgresql":\n    pass\n')
    assert sorted(w for _, w in _code_words(tree) if DIALECT.search(w)) == ["dialect", "postgresql"]

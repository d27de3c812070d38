"""Bad input: generated command lines, and text that tries to inject into the output.

Hypothesis builds command lines for `case open|advance|show|list`, `workdays …`,
`due`, `log export`, `report`, `user add`, `audit verify` (with generated checkpoint
files: absurd numbers, deep nesting), `workflow validate` (with generated TOML files,
some nested thousands deep), `log verify-export` (with generated files: junk, deep JSON,
real exports with bytes spliced in) and read commands given any `--db` (directories,
devices, URLs of other databases, `file:` URLs, junk) out of valid values, malformed
ones, huge ones, unicode, control characters, NUL bytes (argv cannot carry NUL in a
real exec, but the in-process runner can), negative numbers, unknown options and
impossible dates. Every command must end with a documented exit
code (0–7), print no traceback and no "unexpected internal error", and leave the
database byte for byte as it was unless it succeeded at a write.

Why bytes: the database is compared as the file's bytes after `PRAGMA
wal_checkpoint(TRUNCATE)`, which folds every committed change into the file. That is
stricter than a logical dump (`iterdump`): it also catches a change that leaves the rows
equal, such as a rolled-back write that still touched a page, a schema migration, or a
rewritten header. When bytes differ, the assertion shows the logical difference too.

The CLI is the real one, in-process; its actor is this machine's account, which the
database makes an admin, business unit officer and chair so that well-formed writes can
succeed (and then the database is restored for the next example).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import shutil
from collections import Counter
from itertools import chain
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casereview.infra.identity import os_account
from casereview.infra.now import FixedClock
from casereview.services import cases
from casereview.services.context import ServiceContext
from tests.reliability import support

PROFILE = support.profile()
FUZZ = settings(
    max_examples=PROFILE.fuzz_examples,
    deadline=None,
    derandomize=PROFILE.name == "quick",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ME = os_account()
REFS = ("F-1", "F-2", "F-9")
STATES = ("screening", "rapid_review", "rapid_review_signoff", "closed")
TRIGGERS = ("notify", "add_note", "sign_off", "propose_decision", "submit_rapid_review", "close")
FIELDS = ("note", "sin_reference", "notified_on", "recommendation", "agency", "aware_on", "url")
ROLES = ("admin", "business_unit", "chair", "partner", "scrutineer")
AGENCIES = ("local_authority", "police", "icb")
WRITES = {("case", "open"), ("case", "advance"), ("user", "add")}
INJECTIONS = {
    "rich markup": "[bold red]x[/]",
    "ANSI escape": "\x1b[31mred\x1b[0m",
    "CSV formula": '=HYPERLINK("http://example.invalid","click")',
    "SQL metacharacters": "'); DROP TABLE events;--",
}

# -- generated values ------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "-",
    "--",
    "-5",
    "-1",
    "0",
    "9" * 40,
    "1e9",
    "NaN",
    "inf",
    "2025-02-30",
    "2025-13-01",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "2025-1-1",
    "2025-01-01T00:00",
    "+2025-01-01",
    "２０２５-０１-０１",
    "٢٠٢٥-٠١-٠١",
    "\x00",
    "a\x00b",
    "\u202eevil",
    "\u2066isolated\u2069",
    "\x9b31m",
    "tab\there",
    "\ufeff2025-01-01",
    "1026-11-02",
    "99999999999999999999",
    "A" * 600,
    "%s%n%x",
    "../../etc/passwd",
    "null",
    "{}",
    *INJECTIONS.values(),
]
# Unicode without lone surrogates: those are test_undecodable_argument_bytes' business.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
JUNK = st.one_of(
    TEXT,
    st.sampled_from(NASTY),
    st.integers(-(10**15), 10**15).map(str),
)
# Well-formed values are listed twice so that about two draws in three are plausible and
# commands get past parsing to the rules, the store and the renderer.
PLAUSIBLE_DATES = st.dates(dt.date(2025, 6, 2), dt.date(2026, 6, 1)).map(dt.date.isoformat)
DATES = st.one_of(
    PLAUSIBLE_DATES,
    PLAUSIBLE_DATES,
    st.dates(dt.date(1985, 1, 1), dt.date(2105, 12, 31)).map(dt.date.isoformat),
    JUNK,
)
UNKNOWN = [["--frobnicate"], ["-x"], ["--db="], ["--on="], ["---"], ["--json=1"], ["--"]]


def plausible(values: tuple[str, ...] | list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), st.sampled_from(values), JUNK)


def flag(name: str) -> st.SearchStrategy[list[str]]:
    return st.just([name])


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    given_value = values.map(lambda v: [name, v])
    return st.one_of(given_value, given_value, given_value, st.just([name]))


def assignments() -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(FIELDS), st.one_of(DATES, TEXT)).map("=".join)
    return st.one_of(pair, pair, JUNK)


def command(head, positional=(), required=(), optional=()) -> st.SearchStrategy[list[str]]:
    """HEAD, positionals (now and then one short), required options (now and then one
    missing), a few optional ones, and now and then an unknown option."""

    def assemble(pos, keep, req, opts, extra):
        return [*head, *list(pos)[:keep], *chain(*req), *chain(*opts), *extra]

    n = len(positional)
    return st.builds(
        assemble,
        st.tuples(*positional),
        st.sampled_from([n] * 4 + list(range(n))),
        st.tuples(*(st.one_of(r, r, r, st.just([])) for r in required)),
        st.lists(st.one_of(*optional), max_size=4) if optional else st.just([]),
        st.sampled_from([[]] * 8 + UNKNOWN),
    )


# Well-formed command lines that succeed on the template database; `nearly_valid`
# breaks zero to two of their words, so malformed values reach the deep code paths.
VALID: dict[str, list[list[str]]] = {
    "case open": [
        ["case", "open", "F-5", "--aware-on", "2025-06-02", "--nature", "death"],
        [
            "case",
            "open",
            "F-6",
            "--aware-on",
            "2025-06-02",
            "--pseudonym",
            "Child Q",
            "--incident-on",
            "2025-06-01",
            "--set",
            "looked_after=yes",
            "--on",
            "2025-06-02",
        ],
    ],
    "case advance": [
        ["case", "advance", "F-1", "add_note", "--set", "note=hello", "--rationale", "why"],
        ["case", "advance", "F-1", "notify", "--set", "sin_reference=S-9", "--on", "2025-06-03"],
        ["case", "advance", "F-2", "sign_off", "--on-behalf-of", "la", "--json"],
        [
            "case",
            "advance",
            "F-2",
            "revise",
            "--rationale",
            "again",
            "--expect-state",
            "rapid_review_signoff",
        ],
    ],
    "case show": [
        ["case", "show", "F-2", "--as-at", "2025-06-02", "--json"],
        ["case", "show", "F-1"],
    ],
    "case list": [["case", "list", "--state", "screening", "--open", "--json"], ["case", "list"]],
    "workdays": [
        ["workdays", "add", "2025-06-02", "15"],
        ["workdays", "before", "2025-09-30", "7", "--json"],
        ["workdays", "count", "2025-06-02", "2025-06-30"],
        ["workdays", "explain", "2025-06-02", "5", "--day-one"],
    ],
    "due": [
        ["due", "--limit", "99999999999999999999", "--json"],
        ["due", "--within", "10", "--as-of", "2025-06-02", "--csv"],
        ["due", "--overdue", "--all"],
    ],
    "log export": [
        ["log", "export", "--format", "json", "--from", "2025-06-01", "--to", "2025-06-30"],
        ["log", "export", "--case", "F-2", "--format", "md", "--include-personal"],
    ],
    "report": [
        ["report", "--from", "2025-04-01", "--to", "2025-06-30", "--format", "json"],
        ["report", "--year", "2025-26", "--detail", "--format", "html"],
    ],
    "user add": [
        [
            "user",
            "add",
            "newbie",
            "--name",
            "New Person",
            "--role",
            "partner",
            "--agency",
            "police",
        ],
        ["user", "add", "bu", "--name", "Renamed", "--role", "business_unit", "--role", "chair"],
    ],
}


@st.composite
def nearly_valid(draw, family: str) -> list[str]:
    argv = list(draw(st.sampled_from(VALID[family])))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        i = draw(st.integers(2, max(2, len(argv) - 1)))
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "insert"]))
        if i >= len(argv):
            argv.append(draw(JUNK))
        elif op == "replace":
            argv[i] = draw(st.one_of(JUNK, DATES))
        elif op == "delete":
            del argv[i]
        else:
            argv.insert(i, draw(st.one_of(JUNK, st.sampled_from([u[0] for u in UNKNOWN]))))
    return argv


REF = plausible(REFS)
RANDOM: dict[str, st.SearchStrategy[list[str]]] = {
    "case open": command(
        ["case", "open"],
        [st.one_of(st.sampled_from(["F-5", "F-6", "2025/014"]), REF)],
        [option("--aware-on", DATES)],
        [
            option("--pseudonym", st.one_of(TEXT, JUNK)),
            option("--incident-on", DATES),
            option("--nature", plausible(["death", "serious_harm", "other"])),
            option("--set", assignments()),
            option("--workflow", plausible(["england-lcspr", "scr-transitional"])),
            option("--on", DATES),
            flag("--json"),
        ],
    ),
    "case advance": command(
        ["case", "advance"],
        [REF, plausible(TRIGGERS)],
        [],
        [
            option("--on", DATES),
            option("--rationale", st.one_of(TEXT, JUNK)),
            option("--set", assignments()),
            option("--set", assignments()),
            option("--on-behalf-of", plausible(["chair", "bu", ME])),
            option("--expect-state", plausible(STATES)),
            flag("--json"),
        ],
    ),
    "case show": command(["case", "show"], [REF], [], [option("--as-at", DATES), flag("--json")]),
    "case list": command(
        ["case", "list"],
        [],
        [],
        [option("--state", plausible(STATES)), flag("--open"), flag("--closed"), flag("--json")],
    ),
    "workdays": st.one_of(
        *(
            command(
                ["workdays", sub],
                [
                    DATES,
                    st.one_of(
                        st.integers(0, 400).map(str), st.integers(-50, 10**6).map(str), DATES
                    ),
                ],
                [],
                [flag("--day-one"), flag("--before"), flag("--json")],
            )
            for sub in ("add", "before", "count", "explain")
        )
    ),
    "due": command(
        ["due"],
        [],
        [],
        [
            option("--limit", st.one_of(st.integers(-5, 10**30).map(str), JUNK)),
            option("--within", st.one_of(st.integers(-5, 10**30).map(str), JUNK)),
            option("--as-of", DATES),
            flag("--overdue"),
            flag("--all"),
            flag("--json"),
            flag("--csv"),
        ],
    ),
    "log export": command(
        ["log", "export"],
        [],
        [],
        [
            option("--from", DATES),
            option("--to", DATES),
            option("--case", REF),
            option("--format", plausible(["csv", "json", "md"])),
            flag("--include-personal"),
        ],
    ),
    "report": command(
        ["report"],
        [],
        [],
        [
            option("--from", DATES),
            option("--to", DATES),
            option("--year", plausible(["2025-26", "2024-25", "1026-27", "2099-00", "2098-99"])),
            option("--format", plausible(["table", "md", "csv", "json", "html"])),
            flag("--detail"),
        ],
    ),
    "user add": command(
        ["user", "add"],
        [plausible(["newbie", "bu", ME, "x.y-z_1"])],
        [option("--name", st.one_of(TEXT, JUNK)), option("--role", plausible(ROLES))],
        [option("--role", plausible(ROLES)), option("--agency", plausible(AGENCIES))],
    ),
}


FAMILIES = {
    name: st.one_of(nearly_valid(name), nearly_valid(name), RANDOM[name]) for name in RANDOM
}


# -- the database every example starts from -------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-template") / "template.db"
    url = support.sqlite_url(path)
    clock = FixedClock(support.TODAY)
    support.init_database(url, clock, os_account_roles=["admin", "business_unit", "chair"])
    ctx = ServiceContext(url=url, account="bu", clock=clock)
    chair = ServiceContext(url=url, account="chair", clock=clock)
    try:
        cases.open_case(ctx, "F-1", aware_on=support.TODAY)
        cases.open_case(ctx, "F-2", aware_on=support.TODAY)
        cases.advance(ctx, "F-2", "notify", fields={"sin_reference": "S"})
        cases.advance(
            chair, "F-2", "propose_decision", fields={"recommendation": "lcspr"}, rationale="r"
        )
    finally:
        ctx.close()
        chair.close()
    support.checkpoint_wal(path)
    return path


class Bench:
    """A working copy of the template, restored whenever a command changed it."""

    def __init__(self, template: Path, workdir: Path) -> None:
        self.template = template
        self.original = template.read_bytes()
        self.workdir = workdir
        self.path = workdir / "work.db"
        self.restore()
        self.exit_codes: Counter[str] = Counter()

    def restore(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        self.path.write_bytes(self.original)

    def env(self) -> dict[str, str]:
        # Never the user's own database, never a PostgreSQL server from the environment.
        return {"CASEREVIEW_DB": str(self.path), "CASEREVIEW_DATABASE_URL": "", "COLUMNS": "200"}

    def run(self, cli, family: str | None, argv: list[str], *, db: bool = True) -> None:
        """Run one command and hold it to the rules; `family` None: not counted."""
        db = db and argv[:1] != ["workdays"]  # the calendar needs no database
        args = [*argv, "--db", str(self.path)] if db else list(argv)
        result = cli(*args, env=self.env())
        if family is not None:
            self.exit_codes[f"{family}: exit {result.exit_code}"] += 1
        shown = (result.exit_code, result.stderr[-400:])
        assert 0 <= result.exit_code <= 7, shown
        assert "Traceback" not in result.stdout + result.stderr, shown
        assert "unexpected internal error" not in result.stderr, (argv, shown)
        if result.exit_code == 7:  # verification findings are the command's output
            assert "FAIL" in result.stdout or '"ok": false' in result.stdout, shown
        elif result.exit_code != 0:
            assert "Error:" in result.stderr or "Usage:" in result.stderr, shown
        after = support.file_bytes(self.path)
        # A view of personal fields is recorded in the log, so it writes too.
        writes = tuple(argv[:2]) in WRITES or "--include-personal" in argv
        wrote = writes and result.exit_code == 0
        if not wrote:
            assert after == self.original, (argv, shown, self.difference())
        elif after != self.original:
            self.restore()

    def difference(self) -> str:
        copy = self.workdir / "original.db"
        copy.write_bytes(self.original)
        lines = difflib.unified_diff(
            support.dump(copy).splitlines(), support.dump(self.path).splitlines(), lineterm=""
        )
        return "\n".join(list(lines)[:40]) or "(same rows: the change is below the SQL level)"


@pytest.fixture(scope="module")
def bench(template, tmp_path_factory):
    b = Bench(template, tmp_path_factory.mktemp("fuzz-work"))
    yield b
    if b.exit_codes:
        families = sorted({k.split(":")[0] for k in b.exit_codes})
        summary: dict[str, object] = {
            "commands run": sum(b.exit_codes.values()),
            "examples per family": PROFILE.fuzz_examples,
            "tracebacks": 0,
            "unexpected internal errors": 0,
            "database changed by a failed or read-only command": 0,
        }
        for family in families:
            codes = {
                k.split("exit ")[1]: v
                for k, v in sorted(b.exit_codes.items())
                if k.startswith(family + ":")
            }
            summary[f"{family} exit codes"] = ", ".join(f"{c}×{n}" for c, n in codes.items())
        support.record_figures("bad_input", "generated command lines", summary)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_generated_command_lines(family, bench, cli, monkeypatch):
    monkeypatch.chdir(bench.workdir)  # a junk word read as a file name lands here

    @FUZZ
    @given(argv=FAMILIES[family])
    def run(argv: list[str]) -> None:
        bench.run(cli, family, argv)

    run()


def test_audit_verify_with_generated_checkpoint_files(bench, cli):
    target = bench.workdir / "checkpoint.json"
    good = {
        "casereview_checkpoint": 1,
        "event_count": 1,
        "head_hash": "0" * 64,
        "created_at": "2025-06-02T00:00:00Z",
        "algorithm": "sha256",
    }
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=8,
    )
    mutated = st.fixed_dictionaries(
        {k: st.one_of(st.just(v), st.just(v), st.just(v), json_values) for k, v in good.items()}
    ).map(json.dumps)
    contents = st.one_of(
        mutated.map(str.encode),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        TEXT.map(str.encode),
        nested_json(),
        st.integers(20, 5000)
        .map(lambda n: json.dumps(good).replace('"event_count": 1', f'"event_count": {"9" * n}'))
        .map(str.encode),
    )

    @FUZZ
    @given(
        content=contents, as_json=st.booleans(), kind=st.sampled_from(["file", "missing", "dir"])
    )
    def run(content: bytes, as_json: bool, kind: str) -> None:
        path = {"file": target, "missing": bench.workdir / "nope.json", "dir": bench.workdir}[kind]
        target.write_bytes(content)
        bench.run(
            cli,
            "audit verify",
            ["audit", "verify", "--checkpoint", str(path)] + (["--json"] if as_json else []),
        )

    run()


def nested_json() -> st.SearchStrategy[bytes]:
    """JSON nested a few levels deep, up to far deeper than the parser can recurse."""
    return st.builds(
        lambda depth, in_list: (
            "[" * depth + "]" * depth if in_list else '{"a":' * depth + "1" + "}" * depth
        ).encode(),
        st.integers(1, 30_000),
        st.booleans(),
    )


DB_VALUES = st.one_of(
    st.sampled_from(
        [
            "mysql://user:secret@db.invalid/cases",
            "file:///tmp/cases.db",
            "file://",
            "sqlite://",
            "sqlite:///",
            "SQLITE:///relative.db",
            "postgres://user@127.0.0.1:1/db",
            "postgresql://[::1",
            "postgresql://user@host:port/db",
            "http://example.invalid/",
            "://",
            "/",
            "/dev/null",
            "/dev/zero",
            ".",
            "..",
            "~",
            "missing/dir/cases.db",
            " ",
        ]
    ),
    # Any scheme but PostgreSQL's: a generated host name would be looked up on the network.
    st.builds(
        "{}://{}".format,
        st.sampled_from(["mysql", "oracle", "mssql+pyodbc", "file", "sqlite", "ftp", "", "x"]),
        TEXT,
    ),
    TEXT,
)
READ_COMMANDS = (
    ["case", "list"],
    ["due"],
    ["audit", "verify"],
    ["report", "--format", "json"],
    ["log", "export"],
)


def test_read_commands_with_generated_db_locations(bench, cli, monkeypatch):
    """`--db` naming anything at all: a directory, a device, a URL of another database or
    of no database, a file: URL, junk. Only read commands, so nothing may change."""
    monkeypatch.chdir(bench.workdir)

    @FUZZ
    @given(command=st.sampled_from(READ_COMMANDS), value=DB_VALUES)
    def run(command: list[str], value: str) -> None:
        bench.run(cli, "--db locations", [*command, "--db", value], db=False)

    run()


def test_log_verify_export_with_generated_files(bench, cli, monkeypatch):
    """Files that are no export at all, begin like one, nest deeply, or are a real
    export with bytes spliced in; checked alone and against the log."""
    monkeypatch.chdir(bench.workdir)
    real = []
    for fmt in ("csv", "json", "md"):
        path = bench.workdir / f"real.{fmt}"
        made = cli("log", "export", "--format", fmt, "-o", str(path), "--force",
                   "--db", str(bench.path), env=bench.env())  # fmt: skip
        assert made.exit_code == 0, made.stderr
        real.append(path.read_bytes())
    spliced = st.builds(
        lambda data, at, cut, insert: data[:at] + insert + data[at + cut :],
        st.sampled_from(real),
        st.integers(0, max(len(r) for r in real)),
        st.integers(0, 20),
        st.binary(max_size=8),
    )
    heads = st.sampled_from([b"\xef\xbb\xbf", b"{", b"<!-- casereview-export ", b"{\n  "])
    contents = st.one_of(
        spliced,
        spliced,
        nested_json(),
        st.binary(max_size=300),
        st.tuples(heads, st.binary(max_size=200)).map(b"".join),
        st.tuples(heads, nested_json()).map(b"".join),
    )
    target = bench.workdir / "generated.export"

    @FUZZ
    @given(content=contents, against_log=st.booleans(), as_json=st.booleans())
    def run(content: bytes, against_log: bool, as_json: bool) -> None:
        target.write_bytes(content)
        argv = ["log", "verify-export", str(target)] + (["--json"] if as_json else [])
        bench.run(cli, "log verify-export", argv, db=against_log)

    run()


ENGLAND = support.WORKFLOW_FILE.read_text(encoding="utf-8")
ENGLAND_LINES = ENGLAND.splitlines()


@st.composite
def toml_files(draw) -> bytes:
    """A mutated England workflow, or text and bytes that only look like TOML."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "text", "bytes", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        depth = draw(st.integers(1, 6000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a=", "}")]))
        return f"x = {opener * depth}1{closer * depth}\n".encode()
    if kind == "text":
        lines = draw(
            st.lists(
                st.one_of(
                    st.tuples(
                        st.sampled_from(["id", "version", "title", "[[states]]", "x"]), JUNK
                    ).map(lambda t: f"{t[0]} = {json.dumps(t[1], ensure_ascii=False)}"),
                    st.sampled_from(ENGLAND_LINES),
                    TEXT,
                ),
                max_size=12,
            )
        )
        return "\n".join(lines).encode("utf-8", "surrogatepass")
    lines = list(ENGLAND_LINES)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "value", "swap", "truncate", "insert"]))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            break
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            value = draw(
                st.one_of(
                    JUNK.map(json.dumps), st.sampled_from(["-1", "0", "1.5", "[]", "{}", "true"])
                )
            )
            lines[i] = f"{key}= {value}"
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            lines = lines[:i]
        elif op == "insert":
            lines.insert(i, draw(TEXT))
    return "\n".join(lines).encode("utf-8")


def test_workflow_validate_with_generated_files(bench, cli):
    target = bench.workdir / "generated.toml"

    @FUZZ
    @given(content=toml_files(), as_json=st.booleans())
    def run(content: bytes, as_json: bool) -> None:
        target.write_bytes(content)
        argv = ["workflow", "validate", str(target)] + (["--json"] if as_json else [])
        bench.run(cli, "workflow validate", argv, db=False)

    run()
    # The unmutated file is valid: validate can tell the difference.
    target.write_text(ENGLAND, encoding="utf-8")
    assert cli("workflow", "validate", str(target)).exit_code == 0


# -- defects this suite found (fixed; kept as regression tests) ------------------------

SURROGATE = "\udcff"  # what Python makes of the byte 0xFF in argv on a UTF-8 system


@pytest.mark.parametrize(
    "argv",
    [
        ["case", "show", SURROGATE],
        ["case", "open", "F-7", "--aware-on", "2025-06-02", "--pseudonym", SURROGATE],
        ["case", "advance", "F-1", "add_note", "--set", f"note={SURROGATE}"],
        ["case", "advance", "F-1", "add_note", "--set", "note=x", "--rationale", SURROGATE],
        ["user", "add", "newbie", "--name", SURROGATE, "--role", "chair"],
    ],
    ids=[
        "case show",
        "case open --pseudonym",
        "advance --set",
        "advance --rationale",
        "user add --name",
    ],
)
def test_undecodable_argument_bytes(argv, bench, cli):
    bench.run(cli, None, argv)


def test_db_option_naming_a_text_file(tmp_path, cli):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 20)
    before = path.read_bytes()
    result = cli("case", "list", "--db", str(path))
    assert path.read_bytes() == before
    assert result.exit_code in (1, 2, 3)
    assert "unexpected internal error" not in result.stderr


@pytest.mark.parametrize(("value", "code"), [("\x00", 2), ("a\x00b.db", 2), ("~0", 3)])
def test_db_option_holding_a_nul_or_naming_an_unknown_home(value, code, tmp_path, cli, monkeypatch):
    """Found by the generated `--db` values: ValueError and RuntimeError, respectively."""
    monkeypatch.chdir(tmp_path)
    result = cli("case", "list", "--db", value)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("Error: ")
    assert "unexpected internal error" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["case", "list"], ["audit", "verify"]], ids=" ".join)
def test_read_command_on_an_empty_file(argv, tmp_path, cli):
    path = tmp_path / "empty.db"
    path.touch()
    result = cli(*argv, "--db", str(path))
    assert path.stat().st_size == 0, "a read-only command wrote a schema into the file"
    assert result.exit_code == 3


# -- output injection ------------------------------------------------------------------


@pytest.fixture
def injected(template, tmp_path, cli):
    """A database with one case per payload: the payload as pseudonym, as a note and as
    the rationale, all entered through the CLI. A payload holding control characters
    is refused on input (`domain.text`), so it is entered with a stand-in and then
    stored with raw SQL, as a log written before that rule holds it."""
    path = tmp_path / "injected.db"
    shutil.copyfile(template, path)
    refs = {}
    for n, (label, payload) in enumerate(INJECTIONS.items(), start=1):
        ref = f"INJ-{n}"
        refs[label] = ref
        typed = payload if payload.isprintable() else f"stand-in {n}"
        if typed != payload:
            refused = cli("case", "open", "INJ-X", "--aware-on", "2025-06-02", "--pseudonym",
                          payload, "--db", str(path))  # fmt: skip
            assert refused.exit_code == 2, refused.stderr
            assert "control character" in refused.stderr
        opened = cli(
            "case",
            "open",
            ref,
            "--aware-on",
            "2025-06-02",
            "--pseudonym",
            typed,
            "--db",
            str(path),
        )
        assert opened.exit_code == 0, opened.stderr
        noted = cli(
            "case",
            "advance",
            ref,
            "add_note",
            "--set",
            f"note={typed}",
            "--rationale",
            typed,
            "--db",
            str(path),
        )
        assert noted.exit_code == 0, noted.stderr
        if typed != payload:
            _store_raw(path, ref, typed, payload)
    return path, refs


def _store_raw(path: Path, ref: str, typed: str, payload: str) -> None:
    conn = support.connect(path)
    try:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        ).fetchall()
        for name, _sql in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE cases SET pseudonym = ? WHERE ref = ?", (payload, ref))
        for column in ("rationale", "fields"):
            stored = payload if column == "rationale" else json.dumps({"note": payload})
            conn.execute(
                f"UPDATE events SET {column} = ? WHERE case_ref = ? AND trigger = 'add_note'",
                (stored, ref),
            )
        conn.execute(
            "UPDATE events SET fields = replace(fields, ?, ?) WHERE case_ref = ? "
            "AND trigger = 'open'",
            (json.dumps(typed), json.dumps(payload), ref),
        )
        for _name, sql in triggers:
            conn.execute(sql)
    finally:
        conn.close()


def test_injected_text_is_stored_exactly(injected):
    path, refs = injected
    conn = support.connect(path)
    try:
        for label, payload in INJECTIONS.items():
            ref = refs[label]
            (pseudonym,) = conn.execute(
                "SELECT pseudonym FROM cases WHERE ref = ?", (ref,)
            ).fetchone()
            assert pseudonym == payload, label
            rationale, fields = conn.execute(
                "SELECT rationale, fields FROM events WHERE case_ref = ? AND trigger = 'add_note'",
                (ref,),
            ).fetchone()
            assert rationale == payload, label
            assert json.loads(fields) == {"note": payload}, label
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] > 0  # still there
    finally:
        conn.close()


def visible(payload: str) -> str:
    """How casereview promises to show user text: control characters as \\xNN."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in payload)


@pytest.mark.parametrize("force_colour", [False, True], ids=["plain", "FORCE_COLOR"])
def test_injected_text_is_shown_literally(injected, cli, force_colour):
    path, refs = injected
    env = {"COLUMNS": "250", "CASEREVIEW_DATABASE_URL": ""}
    if force_colour:
        env["FORCE_COLOR"] = "1"
    listing = cli("case", "list", "--db", str(path), env=env)
    assert listing.exit_code == 0
    for label, payload in INJECTIONS.items():
        shown = cli("case", "show", refs[label], "--db", str(path), env=env)
        assert shown.exit_code == 0
        for output in (shown.stdout, listing.stdout):
            assert visible(payload) in output, (label, output[:300])
        if "\x1b" in payload:
            for output in (shown.stdout, listing.stdout):
                assert payload not in output  # the escape sequence never reaches the terminal
        as_json = json.loads(cli("case", "show", refs[label], "--json", "--db", str(path)).stdout)
        assert as_json["pseudonym"] == payload
    listed = json.loads(cli("case", "list", "--json", "--db", str(path)).stdout)
    assert {r["pseudonym"] for r in listed} >= set(INJECTIONS.values())
    if not force_colour:
        assert "\x1b" not in listing.stdout


def _has_command(cli, *words: str) -> bool:
    return cli(*words, "--help").exit_code == 0


def test_injected_text_in_the_timeline(injected, cli):
    if not _has_command(cli, "timeline"):
        pytest.skip("`casereview timeline` does not exist yet")
    path, refs = injected
    for label, payload in INJECTIONS.items():
        result = cli("timeline", refs[label], "--db", str(path), env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.stderr
        assert visible(payload) in result.stdout, label
        if "\x1b" in payload:
            assert payload not in result.stdout


def test_csv_export_neutralises_formula_cells(injected, cli, tmp_path):
    if not _has_command(cli, "log", "export"):
        pytest.skip("`casereview log export` does not exist yet")
    import csv
    import io

    path, _refs = injected
    result = cli("log", "export", "--format", "csv", "--db", str(path))
    assert result.exit_code == 0, result.stderr
    cells = [cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row]
    assert cells
    formula_start = tuple("=+-@\t\r")
    dangerous = [c for c in cells if c.startswith(formula_start)]
    assert not dangerous, dangerous[:5]
    assert any(INJECTIONS["CSV formula"] in c for c in cells)  # kept, but defused


def test_generated_refs_never_match_by_pattern(bench, cli):
    """SQL wildcards in a reference are not patterns: `case show %` finds nothing."""
    for ref in ("%", "_", "F-%", "F-_", "*", "F-1' OR '1'='1"):
        result = cli("case", "show", ref, "--db", str(bench.path), env=bench.env())
        assert result.exit_code == 3, (ref, result.stdout[:200])

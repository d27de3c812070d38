"""Shared by the reliability suites and by their worker processes (so: no pytest here).

What lives here: the two profiles and how one is chosen, where each suite's figures are
written, the people every suite's database holds, a legal path through the England
workflow, and raw-SQLite helpers used to check a database from outside casereview.

Worker processes import this module too (`worker.py` runs as a script or
as a `multiprocessing` spawn target), so it imports only the standard library at module
level and casereview lazily.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

PROFILE_ENV = "CASEREVIEW_RELIABILITY"
OUT_ENV = "CASEREVIEW_RELIABILITY_OUT"
FULL_FIGURES_DIR = REPO / "docs" / "reliability"
QUICK_FIGURES_DIR = REPO / ".reliability" / "quick"
DOC = REPO / "docs" / "reliability.md"
WORKFLOW_FILE = REPO / "workflows" / "england-lcspr@1.toml"

# The business date every fixed-clock suite writes on (a Monday, no bank holiday).
TODAY = dt.date(2025, 6, 2)


# -- profiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How hard each suite pushes. Durations only drive loops; nothing asserts on time."""

    name: str
    stress_seconds: float  # concurrency: how long the 8 writers run
    stress_workers: int
    race_rounds: int  # same-case race through the service layer
    cli_race_rounds: int  # same-case race through `python -m casereview`
    crash_kills: int  # SIGKILLs of a writing child
    crash_rotate_every: int  # start a fresh database every N kills (bounds verify time)
    fuzz_examples: int  # hypothesis examples per CLI command family
    model_examples: int  # state-machine runs
    model_steps: int  # steps per state-machine run


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        stress_seconds=15,
        stress_workers=8,
        race_rounds=50,
        cli_race_rounds=6,
        crash_kills=40,
        crash_rotate_every=20,
        fuzz_examples=60,
        model_examples=8,
        model_steps=30,
    ),
    "full": Profile(
        name="full",
        stress_seconds=60,
        stress_workers=8,
        race_rounds=200,
        cli_race_rounds=30,
        crash_kills=300,
        crash_rotate_every=25,
        fuzz_examples=600,
        model_examples=60,
        model_steps=50,
    ),
}

_current: Profile | None = None


def select_profile(name: str | None) -> Profile:
    """Make `name` (else $CASEREVIEW_RELIABILITY, else quick) the profile of this run."""
    global _current
    chosen = (name or os.environ.get(PROFILE_ENV, "") or "quick").strip().lower()
    if chosen not in PROFILES:
        raise ValueError(f"unknown reliability profile {chosen!r}; use quick or full")
    _current = PROFILES[chosen]
    return _current


def profile() -> Profile:
    return _current if _current is not None else select_profile(None)


# -- figures ----------------------------------------------------------------------------


def figures_dir(prof: Profile | None = None) -> Path:
    """Quick figures go to `.reliability/quick/` (ignored by git through its own
    .gitignore); full-profile figures go to `docs/reliability/`, which is committed and
    tabled in docs/reliability.md. $CASEREVIEW_RELIABILITY_OUT overrides both."""
    prof = prof or profile()
    override = os.environ.get(OUT_ENV, "").strip()
    if override:
        target = Path(override)
    elif prof.name == "full":
        target = FULL_FIGURES_DIR
    else:
        target = QUICK_FIGURES_DIR
        ignore = target.parent / ".gitignore"
        target.mkdir(parents=True, exist_ok=True)
        if not ignore.exists():
            ignore.write_text("# written by tests/reliability: scratch figures\n*\n")
    target.mkdir(parents=True, exist_ok=True)
    return target


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
    }


def record_figures(suite: str, section: str, summary: Mapping[str, Any], **details: Any) -> Path:
    """Merge one section into `<figures_dir>/<suite>.json`.

    `summary` holds the headline figures (flat, in display order: docs/reliability.md
    tables exactly these); `details` anything else worth keeping.
    """
    prof = profile()
    path = figures_dir(prof) / f"{suite}.json"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            data = {}
    if data.get("profile") != prof.name:
        data = {}
    data.update({"suite": suite, "profile": prof.name, "machine": machine()})
    sections = data.setdefault("sections", {})
    sections[section] = {
        "recorded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": dict(summary),
        **details,
    }
    data["sections"] = dict(sorted(sections.items()))
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


SUITE_TITLES = {
    "concurrency": "Concurrency",
    "crash": "Crash safety",
    "tampering": "Tampering matrix",
    "bad_input": "Bad input",
    "model": "Model-based engine test",
    "access": "Access",
}
FIGURES_BEGIN = "<!-- figures:begin (generated from docs/reliability/*.json) -->"
FIGURES_END = "<!-- figures:end -->"


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value).replace("|", "\\|") or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "—"
    return str(value).replace("|", "\\|")


def render_figures(directory: Path) -> str:
    """The markdown tables of every suite's summary figures in `directory`."""
    parts: list[str] = []
    for suite, title in SUITE_TITLES.items():
        path = directory / f"{suite}.json"
        if not path.exists():
            parts.append(f"### {title}\n\nNo full-profile figures recorded yet.\n")
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        info = data.get("machine", {})
        lines = [
            f"### {title}",
            "",
            f"Profile `{data.get('profile')}`; Python {info.get('python')}, SQLite "
            f"{info.get('sqlite')}, {info.get('cpus')} CPUs.",
            "",
            "| section | figure | value |",
            "|---|---|---|",
        ]
        for section, body in data.get("sections", {}).items():
            for key, value in body.get("summary", {}).items():
                lines.append(f"| {section} | {_cell(key)} | {_cell(value)} |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def figures_section_of(doc_text: str) -> str | None:
    start = doc_text.find(FIGURES_BEGIN)
    end = doc_text.find(FIGURES_END)
    if start < 0 or end < start:
        return None
    return doc_text[start + len(FIGURES_BEGIN) : end].strip("\n")


def rewrite_doc_figures(doc: Path = DOC, directory: Path = FULL_FIGURES_DIR) -> bool:
    """Replace the generated section of docs/reliability.md; False if it has no markers."""
    text = doc.read_text(encoding="utf-8")
    start = text.find(FIGURES_BEGIN)
    end = text.find(FIGURES_END)
    if start < 0 or end < start:
        return False
    body = render_figures(directory).strip("\n")
    new = text[: start + len(FIGURES_BEGIN)] + "\n" + body + "\n" + text[end:]
    if new != text:
        doc.write_text(new, encoding="utf-8")
    return True


# -- people and paths -------------------------------------------------------------------

ADMIN = "admin"
PEOPLE: dict[str, tuple[list[str], str | None]] = {
    "bu": (["business_unit"], None),
    "chair": (["chair"], None),
    "chair2": (["chair"], None),
    "la": (["partner"], "local_authority"),
    "police": (["partner"], "police"),
    "icb": (["partner"], "icb"),
    "scrut": (["scrutineer"], None),
}
PARTNERS = ("la", "police", "icb")
ACCOUNT_FOR_ROLE = {"business_unit": "bu", "chair": "chair", "admin": ADMIN}


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def init_database(
    url: str,
    clock: Any,
    *,
    people: Mapping[str, tuple[list[str], str | None]] = PEOPLE,
    os_account_roles: list[str] | None = None,
) -> None:
    """Create a database with `admin` plus `people`; optionally give the real OS account
    (which is what the CLI records as actor) the roles `os_account_roles`."""
    from casereview.infra.identity import os_account
    from casereview.services import users
    from casereview.services.context import ServiceContext
    from tests.conftest import enrol_keys

    admin = ServiceContext(url=url, account=ADMIN, clock=clock)
    try:
        users.init(admin)
        for name, (roles, agency) in people.items():
            users.add_user(admin, name, name.title(), roles, agency)
        me = os_account()
        if os_account_roles and me not in people and me != ADMIN:
            users.add_user(admin, me, f"{me} (this machine)", os_account_roles, None)
        added = [*people, me] if os_account_roles and me not in people and me != ADMIN else people
        enrol_keys(url, *added, admin=ADMIN, clock=clock)
    finally:
        admin.close()


@dataclass(frozen=True)
class Step:
    trigger: str
    account: str
    fields: dict[str, str] = field(default_factory=dict)
    rationale: str | None = None


def _signoffs() -> list[Step]:
    return [Step("sign_off", who) for who in PARTNERS]


# A legal path from screening to closed (LCSPR published), one event per step.
LCSPR_PATH: tuple[Step, ...] = (
    Step("notify", "bu", {"sin_reference": "SIN-0001"}),
    Step("propose_decision", "chair", {"recommendation": "lcspr"}, "criteria met"),
    *_signoffs(),
    Step("submit_rapid_review", "bu"),
    Step("commission_lcspr", "chair", {"panel_position": "agreed"}, "Panel agreed"),
    Step(
        "appoint_reviewer",
        "chair",
        {"reviewer": "Independent reviewer", "scope_from": "2024-01-01", "scope_to": "2025-05-30"},
    ),
    Step("receive_draft", "bu"),
    Step("accept_final", "chair"),
    *_signoffs(),
    Step(
        "schedule_publication",
        "bu",
        {"planned_publication_on": "2025-09-30", "publication_form": "full_report"},
    ),
    Step("send_advance_copy", "bu"),
    Step("publish", "bu", {"url": "https://example.org/reviews/child"}),
    Step("approve_action_plan", "chair", rationale="plan agreed"),
    Step("close", "chair", rationale="all actions complete"),
)


def path_to(state: str, *, recommendation: str = "lcspr") -> list[Step]:
    """The steps from screening that leave a case in `state` (with every guard of the
    state's usual next move satisfied)."""
    main = [
        dataclasses.replace(s, fields={**s.fields, "recommendation": recommendation})
        if s.trigger == "propose_decision"
        else s
        for s in LCSPR_PATH
    ]
    after = {
        "screening": 0,
        "rapid_review": 1,
        "rapid_review_signoff": 2,
        "awaiting_panel": 6,
        "lcspr_commissioning": 7,
        "lcspr_in_progress": 8,
        "draft_review": 9,
        "final_signoff": 10,
        "publication_scheduled": 14,
        "published": 16,
        "action_monitoring": 17,
        "closed": 18,
    }
    if state in after:
        return main[: after[state]]
    if state == "panel_query":
        return [*main[:6], Step("record_panel_query", "bu", {"summary": "Panel asked"})]
    if state == "publication_hold":
        return [
            *main[:10],
            Step(
                "hold_publication",
                "chair",
                {"hold_reason": "inquest", "review_by": "2025-12-01"},
                "inquest listed",
            ),
        ]
    if state == "other_learning":
        return [
            *path_to("awaiting_panel", recommendation="no_lcspr"),
            Step(
                "record_other_learning",
                "chair",
                {"learning_activity": "learning event"},
                "learning event instead",
            ),
        ]
    if state == "national_review":
        return [
            *main[:6],
            Step("panel_commissions_national_review", "chair", rationale="Panel letter"),
        ]
    raise KeyError(state)


# -- raw SQLite views of a database -----------------------------------------------------


def connect(path: Path | str) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, timeout=30)


def checkpoint_wal(path: Path | str) -> None:
    """Fold the WAL into the main file so the file's bytes are the whole database."""
    conn = connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def file_bytes(path: Path | str) -> bytes:
    checkpoint_wal(path)
    return Path(path).read_bytes()


def dump(path: Path | str) -> str:
    conn = connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def copy_database(source: Path, target: Path) -> None:
    checkpoint_wal(source)
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)


def integrity(path: Path | str) -> list[str]:
    conn = connect(path)
    try:
        return [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


@dataclass
class Consistency:
    """What a database says about itself, read with plain SQL."""

    events: int
    seqs: list[int]
    head_seq: int | None
    version_mismatches: list[str]
    last_seq_mismatches: list[str]

    @property
    def gaps(self) -> int:
        if not self.seqs:
            return 0
        return (self.seqs[-1] - self.seqs[0] + 1) - len(set(self.seqs))


def consistency(path: Path | str) -> Consistency:
    conn = connect(path)
    try:
        seqs = [int(r[0]) for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
        head = conn.execute("SELECT seq FROM chain_head WHERE id = 1").fetchone()
        rows = conn.execute(
            "SELECT c.ref, c.version, c.last_seq, COUNT(e.seq), MAX(e.seq) "
            "FROM cases c LEFT JOIN events e ON e.case_id = c.id GROUP BY c.id"
        ).fetchall()
    finally:
        conn.close()
    return Consistency(
        events=len(seqs),
        seqs=seqs,
        head_seq=None if head is None else int(head[0]),
        version_mismatches=[
            f"{r[0]}: version {r[1]} but {r[3]} events" for r in rows if r[1] != r[3]
        ],
        last_seq_mismatches=[f"{r[0]}: last_seq {r[2]} but {r[4]}" for r in rows if r[2] != r[4]],
    )


def events_by_seq(path: Path | str, seqs: Iterable[int] | None = None) -> dict[int, tuple]:
    """seq -> (case_ref, trigger, actor) for every event (or only `seqs`)."""
    conn = connect(path)
    try:
        rows = conn.execute("SELECT seq, case_ref, trigger, actor FROM events").fetchall()
    finally:
        conn.close()
    wanted = None if seqs is None else set(seqs)
    return {int(r[0]): tuple(r[1:]) for r in rows if wanted is None or int(r[0]) in wanted}


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a child `python`: this one, with our overrides, unbuffered."""
    env = dict(os.environ)
    env.pop("CASEREVIEW_DEBUG", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


PYTHON = sys.executable

"""Whole-command benchmarks at national scale, and the speed targets.

    .venv/bin/python -m benchmarks.run                       # 1k, 10k, 100k cases
    .venv/bin/python -m benchmarks.run --scales 1k,10k       # fewer scales
    .venv/bin/python -m benchmarks.run --quick               # CI smoke: 1k, one run each
    .venv/bin/python -m benchmarks.run --render FILE.json    # redraw the doc from results

For each scale the runner builds (once; reused while the file exists) a database of
generated cases under `benchmarks/out/` with `benchmarks.generate` — a subprocess, so
its peak memory is measured like everything else — then times every command as a user
runs it: a fresh `.venv/bin/casereview …` process, wall time from spawn to exit, stdout
to /dev/null. Each figure is the median of `--runs` timed runs (default 7) after one
untimed warm-up, with min and max. Peak memory is each child's own maximum resident set
size, reported by GNU time (`/usr/bin/time -f %M`; see `run_once` for why not
`getrusage`). `case advance` runs on a copy of the database (the
generated file is never changed) and records one progress check per run on a different,
untouched case in the same state with the same number of events, so runs do not build
on each other.

`audit verify`'s warm-up checks every signature and leaves the benchmark's own record
of verified signatures (in the generator's key folder, `generate.key_dir`), so its timed
runs are the re-verification a user repeats (the chain and every case in full, the
signatures of new events only); `audit verify --full` is the full cost, every
signature again (docs/audit.md).

Comparison rows in the same run: `python -c pass` (interpreter start-up), the due
table's own SQL (its summary aggregate and first page) through the standard library's
`sqlite3` in a fresh interpreter (the floor for our storage), `due --all --csv` (every
open clock; not a target), and, in process, the working-day calendar against workalendar and numpy
(`benchmarks.calendar_bench`).

A full run writes `benchmarks/results/<date>-<time>.json` and rewrites the generated
section of `docs/performance.md` (between the `bench:start`/`bench:end` markers; the rest
of the page is prose and is left alone). `--quick` writes its JSON under
`benchmarks/out/` and leaves the doc alone. There are no timing assertions anywhere:
targets are reported as met or missed, never enforced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generate

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SEED = 20260101

# Targets, on the largest scale (medians; memory is the peak of any run).
TARGET_MS = {
    "casereview --help": 150.0,
    "casereview due": 300.0,
    "casereview action due": 300.0,
    "casereview case show": 400.0,
    "casereview timeline": 400.0,
    "casereview case advance": 600.0,
}
TARGET_RATE = {  # events per second, at least
    "casereview audit verify": 50_000.0,
    "casereview log export": 50_000.0,
    "generation (bulk write)": 20_000.0,
}
TARGET_MIB = 200.0

FLOOR_SCRIPT = (
    "import json, sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1])\n"
    "counts_sql, page_sql, params = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])\n"
    "counts = conn.execute(counts_sql, params).fetchall()\n"
    "rows = conn.execute(page_sql + ' LIMIT 50', params).fetchall()\n"
    "sys.stdout.write('\\n'.join(map(repr, counts + rows)))\n"
)
"""The due table's storage floor: its summary aggregate and its first page query, raw."""


@dataclass
class Command:
    """One row of the table: a process to run, and what its figure means."""

    name: str
    argv: list[str]
    needs: tuple[str, ...] = ()  # a casereview subcommand that must exist, e.g. ("log", "export")
    per_event: bool = False  # also report events per second
    varying: list[list[str]] | None = None  # one argv per run (warm-up first), if runs differ
    note: str = ""
    once_from: int | None = None  # from this many cases: a single run, no warm-up (too slow)


@dataclass
class Measured:
    name: str
    argv: list[str]
    samples_ms: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    events_per_second: float | None = None
    skipped: str | None = None
    failed: bool = False  # the command exited non-zero (`skipped` says how)
    note: str = ""

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None


@dataclass
class Refs:
    """The cases the commands are pointed at, chosen from the generated database."""

    show: str  # an open case with the most events: the heaviest single-case read
    advance: list[str]  # untouched cases in lcspr_in_progress with equal event counts
    advance_events: int
    today: str


def executables() -> tuple[Path, Path]:
    """The venv's python and casereview scripts (the ones a user of this checkout runs)."""
    python = Path(sys.executable)
    casereview = python.parent / "casereview"
    if not casereview.exists():
        raise SystemExit(f"no casereview script beside {python}; pip install -e . first")
    return python, casereview


GNU_TIME = Path("/usr/bin/time")


def run_once(
    argv: Sequence[str], env: dict[str, str] | None = None
) -> tuple[float, int, float, str]:
    """(seconds, exit code, peak RSS in MiB, stderr) of one child process.

    Peak memory comes from GNU time (`%M`), which forks the command from its own small
    process. Reading the child's `ru_maxrss` directly (`os.wait4`, RUSAGE_CHILDREN) is
    wrong on Linux for a child forked from this process: the kernel carries the
    pre-exec high-water mark over exec, so every child would show at least this
    runner's own size (about 50 MiB once the calendar and SQLAlchemy are loaded).
    Without GNU time the `os.wait4` figure is reported as it is, an upper bound.
    """
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        command = list(argv)
        if GNU_TIME.exists():
            command = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *command]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own process group, so it can be stopped whole
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: leave no benchmark process behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode("utf-8", "replace")
        reported = rss.read().strip().splitlines()
    peak_kib = float(usage.ru_maxrss)  # Linux: KiB
    if GNU_TIME.exists() and reported and reported[-1].isdigit():
        peak_kib = float(reported[-1])
    return seconds, proc.returncode, peak_kib / 1024, message


def subcommand_exists(casereview: Path, needs: Sequence[str]) -> bool:
    if not needs:
        return True
    code = run_once([str(casereview), *needs, "--help"])[1]
    return code == 0


def pick_refs(db: Path, runs: int) -> Refs:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        show = conn.execute(
            "SELECT ref FROM cases WHERE closed = 0 ORDER BY version DESC, ref LIMIT 1"
        ).fetchone()
        # A case that links others (a sibling review's lead) would record the progress
        # check on them too: not the one event each run that the figure is about.
        columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(cases)")}
        alone = " AND COALESCE(links, '[]') = '[]'" if "links" in columns else ""
        counts = conn.execute(
            f"SELECT version, COUNT(*) FROM cases WHERE state = 'lcspr_in_progress'{alone} "
            "GROUP BY version ORDER BY COUNT(*) DESC, version DESC LIMIT 1"
        ).fetchone()
        advance: list[str] = []
        events = 0
        if counts is not None:
            events = int(counts[0])
            advance = [
                str(r[0])
                for r in conn.execute(
                    f"SELECT ref FROM cases WHERE state = 'lcspr_in_progress'{alone} "
                    "AND version = ? ORDER BY ref LIMIT ?",
                    (events, runs + 1),
                )
            ]
        last = conn.execute("SELECT MAX(last_event_on) FROM cases").fetchone()
    finally:
        conn.close()
    if show is None:
        raise SystemExit(f"{db} has no open case")
    today = max(dt.date.today().isoformat(), str(last[0]))
    return Refs(str(show[0]), advance, events, today)


def command_list(
    db: Path, advance_db: Path, refs: Refs, python: Path, casereview: Path, runs: int
) -> list[Command]:
    """Every command timed at one scale, in table order (also used by the smoke test)."""
    cr, at = str(casereview), ["--db", str(db)]
    commands = [
        Command("python -c pass", [str(python), "-c", "pass"], note="interpreter start-up"),
        Command("casereview --help", [cr, "--help"]),
        Command("casereview due", [cr, "due", *at], needs=("due",)),
        Command(
            "casereview case show", [cr, "case", "show", refs.show, *at], needs=("case", "show")
        ),
        Command("casereview timeline", [cr, "timeline", refs.show, *at], needs=("timeline",)),
        Command(
            "casereview log export",
            [cr, "log", "export", "--format", "csv", *at],
            needs=("log", "export"),
            per_event=True,
            note="every event, CSV to stdout",
        ),
        Command(
            "casereview audit verify",
            [cr, "audit", "verify", *at],
            needs=("audit", "verify"),
            per_event=True,
        ),
        Command(
            "casereview audit verify --full",
            [cr, "audit", "verify", "--full", *at],
            needs=("audit", "verify"),
            per_event=True,
            note="every signature checked again (not a target)",
            once_from=50_000,
        ),
        Command(
            "casereview report",
            [cr, "report", *at],
            needs=("report",),
            note="current financial year (not a target)",
            once_from=50_000,  # minutes and gigabytes per run at 100k cases
        ),
    ]
    floor = _floor_queries(refs.today)
    if floor is not None:
        commands.insert(
            3,
            Command(
                "python sqlite3: due queries",
                [str(python), "-c", FLOOR_SCRIPT, str(db), *floor],
                note="dashboard_queries.COUNTS_SQL and the first page of DATED_SQL, raw rows: "
                "the storage floor for `due`",
            ),
        )
    commands.insert(
        4,
        Command(
            "casereview due --all --csv",
            [cr, "due", "--all", "--csv", *at],
            needs=("due",),
            note="every open clock, not a target",
        ),
    )
    # Open actions across every case (the first page, soonest due), beside `due`.
    commands.insert(
        [c.name for c in commands].index("casereview due --all --csv") + 1,
        Command(
            "casereview action due",
            [cr, "action", "due", *at],
            needs=("action", "due"),
            note="open actions across every case, soonest due first",
        ),
    )
    if refs.advance:
        per_run = [
            [
                cr,
                "case",
                "advance",
                ref,
                "record_progress_check",
                "--set",
                "note=Benchmark progress check.",
                "--db",
                str(advance_db),
            ]
            for ref in refs.advance
        ]
        commands.append(
            Command(
                "casereview case advance",
                per_run[0],
                needs=("case", "advance"),
                varying=per_run,
                note=f"record_progress_check on a case with {refs.advance_events} events",
            )
        )
    return commands


def _floor_queries(today: str) -> list[str] | None:
    """The due command's SQL and parameters for `today`, or None on an older casereview."""
    try:
        from casereview.infra.bank_holidays import default_calendar
        from casereview.store.dashboard_queries import COUNTS_SQL, DATED_SQL
    except ImportError:
        return None
    day = dt.date.fromisoformat(today)
    params = {
        "no": 0,
        "as_of": today,
        "next_before": default_calendar().add_working_days(day, 6).isoformat(),
        "within_before": "",
    }
    return [COUNTS_SQL, DATED_SQL, json.dumps(params)]


def measure(
    command: Command, casereview: Path, runs: int, warmup: bool, events: int, cases: int = 0
) -> Measured:
    result = Measured(command.name, command.argv, note=command.note)
    if command.once_from is not None and cases >= command.once_from:
        runs, warmup = 1, False
        result.note = f"{command.note}; one run only at this scale".lstrip("; ")
    if not subcommand_exists(casereview, command.needs):
        result.skipped = f"`casereview {' '.join(command.needs)}` does not exist yet"
        return result
    argvs = command.varying or [command.argv] * (runs + 1)
    if len(argvs) < runs + (1 if warmup else 0):
        result.skipped = f"needs {runs + 1} suitable cases, found {len(argvs)}"
        return result
    plan = argvs[: runs + 1] if warmup else argvs[:runs]
    for index, argv in enumerate(plan):
        seconds, code, peak, stderr = run_once(argv)
        if code != 0:
            result.skipped = f"exit {code}: {stderr.strip().splitlines()[-1:] or ''}"
            result.failed = True
            return result
        if warmup and index == 0:
            continue
        result.samples_ms.append(seconds * 1000)
        result.peak_mib.append(peak)
    if command.per_event and result.median_ms:
        result.events_per_second = events / (result.median_ms / 1000)
    return result


def ensure_database(scale: str, python: Path, regenerate: bool) -> tuple[Path, dict[str, Any]]:
    """The scale's database, generated (and measured) if missing; with its figures."""
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"{scale}.db"
    stats_file = OUT / f"{scale}.json"
    if regenerate:
        for path in (db, stats_file):
            path.unlink(missing_ok=True)
        shutil.rmtree(generate.key_dir(db), ignore_errors=True)
    if db.exists() and stats_file.exists():
        stats = json.loads(stats_file.read_text())
        stats["reused"] = True
        return db, stats
    db.unlink(missing_ok=True)
    cases = generate.parse_scale(scale)
    # About 31 KiB a case without action plans (the 100k file was 3.0 GiB); the plans
    # add about 40 % more events; the advance copy doubles it.
    needed = cases * 45 * 1024 * 2.5
    free = shutil.disk_usage(OUT).free
    if free < needed:
        raise SystemExit(
            f"{scale}: needs about {needed / 2**30:.1f} GiB free in {OUT}, "
            f"{free / 2**30:.1f} GiB available"
        )
    print(f"  generating {cases:,} cases -> {db}", flush=True)
    seconds, code, peak, stderr = run_once(
        [
            str(python),
            "-m",
            "benchmarks.generate",
            "--cases",
            str(cases),
            "--out",
            str(db),
            "--seed",
            str(SEED),
            "--stats",
            str(stats_file),
            "--quiet",
        ]
    )
    if code != 0:
        raise SystemExit(f"generation failed (exit {code}):\n{stderr}")
    stats = json.loads(stats_file.read_text())
    stats.update(process_seconds=seconds, peak_mib=peak, reused=False)
    stats_file.write_text(json.dumps(stats, indent=2))
    return db, stats


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "sqlite": sqlite3.sqlite_version,
    }


def calendar_figures(quick: bool, runs: int) -> list[dict[str, Any]]:
    """add_working_days calls per second: casereview, numpy and workalendar, in process."""
    from benchmarks import calendar_bench
    from casereview.infra.bank_holidays import england_calendar

    calls = 2_000 if quick else 200_000
    cal = england_calendar(environ={})
    pairs = calendar_bench.make_pairs(calls)
    timings = (
        calendar_bench.bench_ours(cal, pairs, runs)
        + calendar_bench.bench_numpy(cal, pairs, runs)
        + calendar_bench.bench_workalendar(cal, pairs[: max(200, calls // 20)], runs)
    )
    return [
        {
            "name": t.name,
            "median": t.median if t.samples else None,
            "min": min(t.samples) if t.samples else None,
            "max": max(t.samples) if t.samples else None,
            "note": t.note,
        }
        for t in timings
    ]


def precompile() -> int:
    """Write the bytecode of casereview's own modules; how many were compiled afresh.

    A package installed with pip has its bytecode written at install time; an editable
    checkout writes it on first import, unless PYTHONDONTWRITEBYTECODE is set (as it is
    in some shells and containers), in which case every timed command would compile
    about 45 modules from source again, some 30-40 ms that no user pays."""
    import compileall
    import io
    from contextlib import redirect_stdout

    import casereview

    folder = Path(casereview.__file__).parent
    listing = io.StringIO()
    with redirect_stdout(listing):
        compileall.compile_dir(folder, quiet=0, workers=1)
    return sum(1 for line in listing.getvalue().splitlines() if line.startswith("Compiling"))


def run(scales: Sequence[str], runs: int, quick: bool, regenerate: bool) -> dict[str, Any]:
    python, casereview = executables()
    fresh = precompile()
    if fresh:
        print(f"compiled {fresh} modules of casereview to bytecode", flush=True)
    results: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": os.getloadavg(),
        "runs": runs,
        "warmup": not quick,
        "quick": quick,
        "scales": [],
    }
    for scale in scales:
        print(f"scale {scale}", flush=True)
        db, stats = ensure_database(scale, python, regenerate)
        # The generator's signing key (the advance is recorded with it) and this run's
        # record of verified signatures: the benchmark's own, never the user's.
        os.environ["CASEREVIEW_KEY_DIR"] = str(generate.key_dir(db))
        refs = pick_refs(db, runs)
        advance_db = OUT / f"{scale}.advance.db"
        shutil.copyfile(db, advance_db)  # the generated database is never changed
        events = _count_events(db)
        open_actions = _count_open_actions(db)
        measured = []
        try:
            for command in command_list(db, advance_db, refs, python, casereview, runs):
                m = measure(
                    command, casereview, runs, not quick, events=events, cases=stats["cases"]
                )
                print(f"  {_line(m)}", flush=True)
                measured.append(m)
        finally:
            advance_db.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{advance_db}{suffix}").unlink(missing_ok=True)
        results["scales"].append(
            {
                "scale": scale,
                "cases": stats["cases"],
                "events": events,
                "open_actions": open_actions,
                "db_mib": db.stat().st_size / 2**20,
                "refs": asdict(refs),
                "generation": stats,
                "commands": [asdict(m) | {"median_ms": m.median_ms} for m in measured],
            }
        )
    print("calendar", flush=True)
    results["calendar"] = calendar_figures(quick, 1 if quick else max(runs, 5))
    results["load_after"] = os.getloadavg()
    return results


def _count_events(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def _count_open_actions(db: Path) -> int:
    """Actions still owed (0 on a database from before action plans)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT COUNT(*) FROM case_actions WHERE open_due IS NOT NULL")
        return int(row.fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _line(m: Measured) -> str:
    if m.skipped:
        return f"{m.name:34} skipped: {m.skipped}"
    rate = f"  {m.events_per_second:,.0f} events/s" if m.events_per_second else ""
    return (
        f"{m.name:34} median {m.median_ms:8.1f} ms (min {min(m.samples_ms):.1f}, "
        f"max {max(m.samples_ms):.1f})  peak {max(m.peak_mib):6.1f} MiB{rate}"
    )


# -- rendering --------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def _num(ms: float) -> str:
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:,.1f}"


def _cell(command: dict[str, Any]) -> str:
    if command.get("skipped"):
        return "skipped"
    samples = command["samples_ms"]
    if len(samples) == 1:
        return f"{_num(samples[0])} (one run)"
    return f"{_num(command['median_ms'])} ({_num(min(samples))}–{_num(max(samples))})"


def render(results: dict[str, Any]) -> str:
    """The generated section of docs/performance.md."""
    scales = results["scales"]
    m = results["machine"]
    lines = [
        START,
        "<!-- Generated by `python -m benchmarks.run`; edit the prose outside the markers. -->",
        "",
        f"Run of {results['date'][:16].replace('T', ' ')}: {m['cpu']}, {m['nproc']} CPUs "
        f"(`nproc`), {m['implementation']} {m['python']}, SQLite {m['sqlite']}, "
        f"{m['system']}. Load average (1, 5, 15 min) "
        f"{', '.join(f'{x:.2f}' for x in results['load_before'])} before and "
        f"{', '.join(f'{x:.2f}' for x in results['load_after'])} after: a shared machine, "
        f"so expect ±20 % between runs. {results['runs']} timed runs per figure"
        + (" after one untimed warm-up." if results["warmup"] else ", no warm-up (quick)."),
        "",
        f"Databases (`benchmarks.generate`, seed {SEED}, written with `services.bulk`):",
        "",
        "| scale | cases | events | file | generation | events/s | peak memory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scales:
        g = s["generation"]
        lines.append(
            f"| {s['scale']} | {s['cases']:,} | {s['events']:,} | {s['db_mib']:,.0f} MiB "
            f"| {g['seconds']:,.1f} s | {g['events_per_second']:,.0f} "
            f"| {g.get('peak_mib', 0):,.0f} MiB |"
        )
    planned = [s for s in scales if s["generation"].get("plan_cases")]
    if planned:
        lines += [
            "",
            "Action plans (open cases at an LCSPR stage, about 10 actions each, recorded after "
            "the bulk write through the plan steps' service; in the events above): "
            + "; ".join(
                f"{s['scale']}: {s['generation']['plan_cases']:,} cases, "
                f"{s['generation']['plan_events']:,} plan events in "
                f"{s['generation'].get('plan_seconds', 0):,.0f} s, "
                f"{s.get('open_actions', 0):,} open actions"
                for s in planned
            )
            + ".",
        ]
    mixed = [s for s in scales if s["generation"].get("v2_cases")]
    if mixed:
        lines += [
            "",
            "Cases on England version 2 (holds, parallel processes, sibling reviews: see "
            '"The data"; in the figures above): '
            + "; ".join(
                f"{s['scale']}: {s['generation']['v2_cases']:,}, of which "
                f"{s['generation'].get('v2_linked', 0):,} in sibling reviews"
                for s in mixed
            )
            + ".",
        ]
    header = " | ".join(s["scale"] for s in scales)
    lines += [
        "",
        "Whole commands, wall time in milliseconds from spawn to exit: median (min–max):",
        "",
        f"| command | {header} |",
        "|---|" + "---:|" * len(scales),
    ]
    names = [c["name"] for c in scales[-1]["commands"]] if scales else []
    for name in names:
        cells = []
        for s in scales:
            found = next((c for c in s["commands"] if c["name"] == name), None)
            cells.append(_cell(found) if found else "—")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Throughput, events per second (from the median wall time; generation from the "
        "bulk write's own clock):",
        "",
        f"| what | {header} |",
        "|---|" + "---:|" * len(scales),
        "| generation (bulk write) | "
        + " | ".join(f"{s['generation']['events_per_second']:,.0f}" for s in scales)
        + " |",
    ]
    for name in names:
        rates = []
        for s in scales:
            found = next((c for c in s["commands"] if c["name"] == name), None)
            rate = found.get("events_per_second") if found and not found.get("skipped") else None
            rates.append(f"{rate:,.0f}" if rate else "")
        if any(rates):
            lines.append(f"| `{name}` | " + " | ".join(rates) + " |")
    lines += [
        "",
        "Peak memory, MiB (largest maximum resident set size of any run):",
        "",
        f"| command | {header} |",
        "|---|" + "---:|" * len(scales),
        "| generation (bulk write) | "
        + " | ".join(f"{s['generation'].get('peak_mib', 0):,.0f}" for s in scales)
        + " |",
    ]
    for name in names:
        peaks = []
        for s in scales:
            found = next((c for c in s["commands"] if c["name"] == name), None)
            ok = found is not None and not found.get("skipped")
            peaks.append(f"{max(found['peak_mib']):,.0f}" if ok and found else "—")
        lines.append(f"| `{name}` | " + " | ".join(peaks) + " |")
    skipped = [
        (s["scale"], c["name"], c["skipped"]) for s in scales for c in s["commands"] if c["skipped"]
    ]
    if skipped:
        lines += ["", "Skipped:", ""]
        lines += [f"- {scale}: `{name}`: {why}" for scale, name, why in skipped]
    if scales:
        lines += ["", *_targets(scales[-1])]
    if results.get("calendar"):
        lines += [
            "",
            "Working-day calendar in the same run, `add_working_days` calls per second:",
            "",
            "| implementation | median | min | max |",
            "|---|---:|---:|---:|",
        ]
        for c in results["calendar"]:
            if c["median"] is None:
                lines.append(f"| {c['name']} | {c['note']} | | |")
            else:
                lines.append(
                    f"| {c['name']} | {c['median']:,.0f} | {c['min']:,.0f} | {c['max']:,.0f} |"
                )
    lines += ["", END]
    return "\n".join(lines)


def _targets(largest: dict[str, Any]) -> list[str]:
    lines = [
        f"Targets, on the {largest['scale']} database ({largest['cases']:,} cases):",
        "",
        "| what | target | measured | |",
        "|---|---:|---:|---|",
    ]
    by_name = {c["name"]: c for c in largest["commands"]}
    for name, limit in TARGET_MS.items():
        c = by_name.get(name)
        if c is None or c.get("skipped"):
            lines.append(f"| `{name}` | ≤ {limit:,.0f} ms | — | not measured |")
            continue
        verdict = "met" if c["median_ms"] <= limit else "MISSED"
        lines.append(f"| `{name}` | ≤ {limit:,.0f} ms | {_ms(c['median_ms'])} | {verdict} |")
    for name, floor in TARGET_RATE.items():
        if name.startswith("generation"):
            rate = largest["generation"]["events_per_second"]
        else:
            c = by_name.get(name)
            rate = None if c is None or c.get("skipped") else c.get("events_per_second")
        if rate is None:
            lines.append(f"| {name} | ≥ {floor:,.0f} events/s | — | not measured |")
            continue
        verdict = "met" if rate >= floor else "MISSED"
        lines.append(f"| {name} | ≥ {floor:,.0f} events/s | {rate:,.0f} | {verdict} |")
    peaks = [
        (max(c["peak_mib"]), c["name"])
        for c in largest["commands"]
        if not c.get("skipped") and c["name"].startswith("casereview")
    ]
    gen_peak = largest["generation"].get("peak_mib")
    if gen_peak:
        peaks.append((gen_peak, "generation"))
    if peaks:
        over = sorted((p for p in peaks if p[0] > TARGET_MIB), reverse=True)
        worst = max(peaks)
        shown = over or [worst]
        text = "; ".join(f"{name.removeprefix('casereview ')} {peak:,.0f}" for peak, name in shown)
        verdict = "MISSED" if over else "met"
        lines.append(f"| peak memory, any command | ≤ {TARGET_MIB:,.0f} MiB | {text} | {verdict} |")
    return lines


def write_doc(section: str, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    if START in text and END in text:
        before = text[: text.index(START)]
        after = text[text.index(END) + len(END) :]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description="Whole-command benchmarks at scale."
    )
    parser.add_argument("--scales", default="1k,10k,100k", help="comma-separated, e.g. 1k,10k")
    parser.add_argument("--quick", action="store_true", help="1k only, one run each, no doc")
    parser.add_argument("--runs", type=int, help="timed runs per figure (default 7; quick 1)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the databases")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite the doc")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only redraw the doc")
    args = parser.parse_args(argv)
    # A `kill` unwinds like Ctrl-C, so the database copy and any running child go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if args.render is not None:
        write_doc(render(json.loads(args.render.read_text())))
        print(f"rewrote the generated section of {DOC}")
        return 0
    scales = ["1k"] if args.quick else [s.strip() for s in args.scales.split(",") if s.strip()]
    runs = args.runs or (1 if args.quick else 7)
    if runs < 5 and not args.quick:
        print("note: fewer than 5 runs per figure; medians will be noisy", file=sys.stderr)
    results = run(scales, runs, args.quick, args.regenerate)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = OUT if args.quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{'quick-' if args.quick else ''}{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {path}")
    if not args.quick and not args.no_doc:
        write_doc(render(results))
        print(f"rewrote the generated section of {DOC}")
    failed = [
        f"{scale['scale']}: {command['name']}"
        for scale in results["scales"]
        for command in scale["commands"]
        if command.get("failed")
    ]
    if failed:
        # The CI smoke run (--quick) relies on this: a benchmarked command that fails
        # must fail the run, not just be left out of the table.
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

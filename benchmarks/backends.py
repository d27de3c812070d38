"""SQLite beside PostgreSQL at one scale (default 10k cases), for docs/deployment.md.

    python scripts/with_postgres.py -- .venv/bin/python -m benchmarks.backends --scale 10k

Builds the same generated cases (same seed and date as `benchmarks.generate`) in a
SQLite file and in a fresh database on the PostgreSQL server named by
CASEREVIEW_TEST_DATABASE_URL, through the same bulk path, then times the same
commands against each as a user runs them (a fresh `casereview` process, median of
`--runs` after a warm-up). The table is written between the `bench-backends` markers in
docs/deployment.md. PostgreSQL here is a throwaway local cluster on the same 2-core
machine (fsync off, as the test cluster is started), so its figures show the cost of the
protocol and the planner, not of a networked server's disks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks import generate
from benchmarks.run import OUT, ROOT, executables, run_once
from casereview.infra.now import FixedClock
from casereview.services import bulk
from casereview.services.context import ServiceContext

DOC = ROOT / "docs" / "deployment.md"
START, END = "<!-- bench-backends:start -->", "<!-- bench-backends:end -->"


def _pg_database(server: str, name: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _build(url: str, cases: int, today: dt.date, seed: int) -> tuple[int, float]:
    ctx = ServiceContext.from_options(url)
    ctx.clock = FixedClock(today)
    try:
        ctx.db(create=True)
        generate.add_people(ctx)
        scripts = generate.make_scripts(cases, seed=seed, today=today, cal=ctx.calendar)
        t0 = time.perf_counter()
        result = bulk.apply_scripts(ctx, scripts)
        return result.events, time.perf_counter() - t0
    finally:
        ctx.close()


def _refs(url: str) -> tuple[str, list[str]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        show = conn.execute(
            text("SELECT ref FROM cases WHERE closed = :f ORDER BY version DESC, ref LIMIT 1"),
            {"f": False},
        ).scalar_one()
        notes = [
            str(r[0])
            for r in conn.execute(
                text("SELECT ref FROM cases WHERE closed = :f ORDER BY ref LIMIT 20"), {"f": False}
            )
        ]
    engine.dispose()
    return str(show), notes


def _time(argv: list[str], runs: int) -> dict[str, Any]:
    run_once(argv)  # warm-up
    samples, peaks = [], []
    for _ in range(runs):
        seconds, code, peak, err = run_once(argv)
        if code != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({code}): {err.strip()[:300]}")
        samples.append(seconds * 1000)
        peaks.append(peak)
    return {
        "median_ms": statistics.median(samples),
        "min_ms": min(samples),
        "max_ms": max(samples),
        "peak_mib": max(peaks),
    }


def measure(url: str, events: int, runs: int) -> dict[str, dict[str, Any]]:
    _, casereview = executables()
    exe = str(casereview)
    show, notes = _refs(url)
    rows = {
        "due": [exe, "due", "--db", url],
        "case show": [exe, "case", "show", show, "--db", url],
        "timeline": [exe, "timeline", show, "--db", url],
        "audit verify": [exe, "audit", "verify", "--db", url],
        "log export (csv, every event)": [exe, "log", "export", "--format", "csv", "--db", url],
    }
    results = {name: _time(argv, runs) for name, argv in rows.items()}
    for name in ("audit verify", "log export (csv, every event)"):
        results[name]["events_per_second"] = events / (results[name]["median_ms"] / 1000)
    # One transition per run, each on a different open case, so runs do not build up.
    samples = []
    for ref in notes[: runs + 1]:
        seconds, code, _, err = run_once(
            [exe, "case", "advance", ref, "add_note", "--set", "note=benchmark", "--db", url]
        )
        if code != 0:
            raise SystemExit(f"case advance failed: {err.strip()[:300]}")
        samples.append(seconds * 1000)
    samples = samples[1:]  # the first is the warm-up
    results["case advance (one add_note)"] = {
        "median_ms": statistics.median(samples),
        "min_ms": min(samples),
        "max_ms": max(samples),
        "peak_mib": None,
    }
    return results


def render(payload: dict[str, Any]) -> str:
    lines = [
        START,
        f"Measured {payload['date']} on {payload['machine']}: {payload['cases']:,} cases, "
        f"{payload['events']:,} events; median of {payload['runs']} runs after a warm-up "
        "(min–max in brackets).",
        "",
        "| command | SQLite | PostgreSQL |",
        "|---|---|---|",
    ]
    sqlite, pg = payload["sqlite"], payload["postgresql"]

    def cell(row: dict[str, Any]) -> str:
        text_ = f"{row['median_ms']:,.0f} ms ({row['min_ms']:,.0f}–{row['max_ms']:,.0f})"
        if row.get("events_per_second"):
            text_ += f"; {row['events_per_second']:,.0f} events/s"
        return text_

    for name in sqlite["commands"]:
        lines.append(
            f"| `{name}` | {cell(sqlite['commands'][name])} | {cell(pg['commands'][name])} |"
        )
    lines.append(
        f"| generation (bulk path) | {sqlite['generation_eps']:,.0f} events/s | "
        f"{pg['generation_eps']:,.0f} events/s |"
    )
    lines.append(END)
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text_ = DOC.read_text(encoding="utf-8")
    if START in text_:
        before, rest = text_.split(START, 1)
        after = rest.split(END, 1)[1]
        text_ = before + block + after
    else:
        text_ = text_.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text_, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="10k")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    args = parser.parse_args(argv)
    server = os.environ.get("CASEREVIEW_TEST_DATABASE_URL")
    if not server:
        print("run under scripts/with_postgres.py (CASEREVIEW_TEST_DATABASE_URL unset)")
        return 2
    cases = generate.parse_scale(args.scale)
    OUT.mkdir(parents=True, exist_ok=True)
    sqlite_path = OUT / f"backends-{args.scale}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    payload: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "cases": cases,
        "runs": args.runs,
    }
    for backend, url in (
        ("sqlite", f"sqlite:///{sqlite_path}"),
        ("postgresql", _pg_database(server, f"bench_{args.scale}")),
    ):
        print(f"{backend}: generating {cases} cases…", file=sys.stderr)
        events, seconds = _build(url, cases, args.today, args.seed)
        payload["events"] = events
        print(f"{backend}: {events} events in {seconds:.1f} s; timing commands…", file=sys.stderr)
        payload[backend] = {
            "generation_eps": events / seconds,
            "commands": measure(url, events, args.runs),
        }
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"backends-{args.scale}-{payload['date']}.json").write_text(
        json.dumps(payload, indent=2), encoding="utf-8"
    )
    write_doc(render(payload))
    print(render(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())

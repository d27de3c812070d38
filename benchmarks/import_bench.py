"""The import benchmark: a generated tracker of 10,000 rows in, end to end.

    .venv/bin/python -m benchmarks.import_bench                 # 10,000 rows
    .venv/bin/python -m benchmarks.import_bench --rows 2000     # fewer

Writes a business-unit style tracker (`write_tracker`: the columns of
tests/fixtures/tracker.xlsx, real date cells, every stage from just opened to
published, about 10 events a case) to `benchmarks/out/import-<rows>.xlsx`, then times
`services.imports.import_cases` with `benchmarks/import-mapping.toml` into a fresh
SQLite database: reading the workbook, checking every row against the mapping and the
workflow, and writing every case in one transaction, as `casereview import cases`
does. Also times reading the sheet alone with python-calamine (and with openpyxl when
it is installed, for the choice of reader). Prints one JSON object. There are no timing
assertions: the target (at least 2,000 cases a second) is reported as met or missed;
docs/performance.md ("Importing a tracker") has the figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from casereview.infra.now import FixedClock
from casereview.services import imports, users
from casereview.services.context import ServiceContext

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
MAPPING = ROOT / "benchmarks" / "import-mapping.toml"
TODAY = dt.date(2026, 3, 2)
TARGET = 2000  # cases per second, end to end
COLUMNS = (
    "Case ref", "Child", "Incident date", "Date LA aware", "Date notified", "SIN number",
    "RR meeting", "Decision", "RR sent to Panel", "Nature", "Panel response",
    "Reviewer appointed", "Reviewer", "Scope from", "Draft received", "Final signed off",
    "Publication scheduled", "Planned publication", "Advance copy sent", "Published", "Notes",
)  # fmt: skip
_STEPS = (
    ("Date notified", 1, 7),
    ("RR meeting", 10, 25),
    ("RR sent to Panel", 1, 5),
    ("Panel response", 5, 20),
    ("Reviewer appointed", 20, 60),
    ("Draft received", 90, 200),
    ("Final signed off", 20, 60),
    ("Publication scheduled", 5, 20),
)


def _row(n: int, rng: random.Random) -> dict[str, Any]:
    aware = dt.date(2021, 1, 4) + dt.timedelta(days=rng.randint(0, 1500))
    decision = rng.choices(("Yes - LCSPR", "NFA", "NR"), (6, 3, 1))[0]
    stage = rng.randint(0, 10)
    row: dict[str, Any] = {
        "Case ref": f"B-{n:06d}",
        "Child": f"Child B{n}",
        "Incident date": aware - dt.timedelta(days=rng.randint(0, 10)),
        "Date LA aware": aware,
        "Nature": rng.choice(("Death", "Serious harm")),
    }
    steps = _STEPS if decision == "Yes - LCSPR" else _STEPS[:4]
    day = aware
    for column, low, high in steps[:stage]:
        day += dt.timedelta(days=rng.randint(low, high))
        if day >= TODAY:
            break
        row[column] = day
    if "Date notified" in row:
        row["SIN number"] = f"SIN-{n:07d}"
    if "RR meeting" in row:
        row["Decision"] = decision
    if "Reviewer appointed" in row:
        row["Reviewer"] = "A. Reviewer"
        row["Scope from"] = aware - dt.timedelta(days=400)
    if "Publication scheduled" in row:
        planned = row["Publication scheduled"] + dt.timedelta(days=rng.randint(30, 60))
        if planned < TODAY and stage >= 9:
            row["Planned publication"] = planned
            row["Advance copy sent"] = planned - dt.timedelta(days=12)
            if stage >= 10:
                row["Published"] = planned
        else:
            row["Planned publication"] = planned
    return row


def write_tracker(path: Path, rows: int, seed: int = 7) -> None:
    """A tracker of `rows` cases (real date cells) at `path`."""
    import xlsxwriter

    rng = random.Random(seed)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Tracker")
    day_format = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, COLUMNS)
    for n in range(rows):
        row = _row(n, rng)
        for column, name in enumerate(COLUMNS):
            value = row.get(name)
            if isinstance(value, dt.date):
                moment = dt.datetime(value.year, value.month, value.day)
                sheet.write_datetime(n + 1, column, moment, day_format)
            elif value is not None:
                sheet.write_string(n + 1, column, str(value))
    book.close()


def _context(url: str) -> ServiceContext:
    ctx = ServiceContext(url=url, account="bench-bu", clock=FixedClock(TODAY))
    users.init(ctx, "Benchmark importer")
    users.grant_role(ctx, ctx.account, "business_unit", None)
    users.add_user(ctx, "chair", "Chair", ["chair"], None)
    for name, agency in (("la", "local_authority"), ("police", "police"), ("icb", "icb")):
        users.add_user(ctx, name, agency, ["partner"], agency)
    return ctx


def _read_seconds(path: Path) -> dict[str, float]:
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    book = CalamineWorkbook.from_path(str(path))
    book.get_sheet_by_name("Tracker").to_python(skip_empty_area=False)
    found = {"calamine": time.perf_counter() - started}
    try:
        import openpyxl
    except ImportError:
        return found
    started = time.perf_counter()
    sheet = openpyxl.load_workbook(path, read_only=True, data_only=True)["Tracker"]
    for _ in sheet.iter_rows(values_only=True):
        pass
    found["openpyxl"] = time.perf_counter() - started
    return found


def run(rows: int) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    tracker = OUT / f"import-{rows}.xlsx"
    if not tracker.exists():
        write_tracker(tracker, rows)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _context(f"sqlite:///{Path(tmp) / 'import.db'}")
        before = os.times()
        started, cpu = time.perf_counter(), time.process_time()
        result = imports.import_cases(ctx, tracker, MAPPING)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        after = os.times()
    # The sealing process (`bulk._Sealer`, from 1,000 cases) has ended and been waited
    # for by now, so its CPU time is among this process's children's.
    sealer = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if result.problems:
        raise SystemExit(f"the generated tracker has problems: {result.problems[:3]}")
    return {
        "date": dt.date.today().isoformat(),
        "python": platform.python_version(),
        "rows": rows,
        "cases": result.imported,
        "events": result.events,
        "file_bytes": tracker.stat().st_size,
        "seconds": round(seconds, 3),
        "cases_per_second": round(result.imported / seconds),
        "events_per_second": round(result.events / seconds),
        # This process's own CPU time: on a machine shared with other work the wall time
        # includes waiting for a core; this is what the import itself costs.
        "cpu_seconds": round(cpu_seconds, 3),
        "cases_per_cpu_second": round(result.imported / cpu_seconds),
        # The sealing process's CPU time: on two idle cores it runs beside the checks,
        # so the wall time is about the larger of the two, not their sum.
        "sealer_cpu_seconds": round(sealer, 3),
        "target_cases_per_second": TARGET,
        "met": result.imported / seconds >= TARGET,
        "read_seconds": {k: round(v, 3) for k, v in _read_seconds(tracker).items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    json.dump(run(args.rows), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

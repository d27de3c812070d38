"""The reliability suites: profile selection, markers, and shared fixtures.

Profiles: `quick` (the default, run by CI with every other test) and `full` (on demand).
Choose with the environment variable, which works however pytest is started:

    CASEREVIEW_RELIABILITY=full .venv/bin/python -m pytest tests/reliability

or with the option registered here, which pytest only accepts when this directory is
named on the command line (pytest reads options from conftest files it loads first):

    .venv/bin/python -m pytest tests/reliability --reliability=full

A full run rewrites its figures in docs/reliability/*.json and the generated table in
docs/reliability.md; a quick run writes figures under .reliability/quick/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casereview.infra.now import FixedClock
from tests.reliability import support

MARKERS = (
    "reliability: a reliability suite (tests/reliability); profile via CASEREVIEW_RELIABILITY",
    "subprocesses: starts other Python processes (concurrency, crash, real CLI)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("casereview reliability")
    group.addoption(
        "--reliability",
        action="store",
        default=None,
        choices=sorted(support.PROFILES),
        help="Reliability profile: quick (default, CI) or full (on demand). "
        "Same as CASEREVIEW_RELIABILITY.",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    try:
        chosen = config.getoption("--reliability")
    except ValueError:  # this conftest was loaded after option parsing
        chosen = None
    support.select_profile(chosen)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.reliability)
            if support.profile().name == "full":
                item.add_marker(pytest.mark.slow)


def pytest_report_header(config: pytest.Config) -> str:
    prof = support.profile()
    return f"casereview reliability profile: {prof.name} (figures in {support.figures_dir(prof)})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A full run's figures are the ones tabled in the docs: keep the table in step.
    if support.profile().name == "full" and support.figures_dir() == support.FULL_FIGURES_DIR:
        support.rewrite_doc_figures()


@pytest.fixture(scope="session")
def prof() -> support.Profile:
    return support.profile()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(support.TODAY)

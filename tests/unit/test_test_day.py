"""The suite's today (`tests.conftest.TODAY`) is casereview's today for the whole run, so
a run crossing midnight cannot see a date it took as tomorrow become today's."""

from __future__ import annotations

import datetime as dt

from casereview.infra.now import SystemClock, london
from tests.conftest import TODAY


def test_casereview_today_is_the_runs_today():
    assert SystemClock().today() == TODAY


def test_the_instant_stays_within_londons_day():
    instant = SystemClock().now().astimezone(london())
    assert instant.date() == TODAY
    assert instant.tzinfo is not None and SystemClock().now().utcoffset() == dt.timedelta(0)

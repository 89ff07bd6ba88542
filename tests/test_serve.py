"""`synpunkt serve` builds its deployments with their schedules (serving itself runs until stopped)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from flows.report import previous_year
from flows.serve import NIGHTLY_CRON, REPORTS_CRON, deployments


def _schedule(deployment):
    (schedule,) = deployment.schedules
    return schedule.schedule


def _next_runs(deployment, start: datetime, n: int) -> list[datetime]:
    """The run times Prefect's own scheduler computes for the deployment's schedule."""
    from prefect.server.schemas.schedules import CronSchedule

    schedule = _schedule(deployment)
    server_side = CronSchedule(cron=schedule.cron, timezone=schedule.timezone, day_or=schedule.day_or)
    return asyncio.run(server_side.get_dates(n=n, start=start))


def test_nightly_pipeline_and_yearly_reports_are_scheduled_in_swedish_time():
    nightly, reports = deployments()
    assert (nightly.name, nightly.flow_name) == ("nightly-pipeline", "pipeline")
    assert (reports.name, reports.flow_name) == ("annual-reports", "annual-reports")
    assert (_schedule(nightly).cron, _schedule(nightly).timezone) == (NIGHTLY_CRON, "Europe/Stockholm")
    assert (_schedule(reports).cron, _schedule(reports).timezone) == (REPORTS_CRON, "Europe/Stockholm")
    assert reports.parameters == {}  # no year: the flow reports on the previous calendar year


@pytest.mark.parametrize("utc_day, utc_hour", [((2026, 1, 10), 1), ((2026, 7, 10), 0)])  # winter CET, summer CEST
def test_0200_is_0200_in_stockholm_not_utc(utc_day, utc_hour):
    nightly, _ = deployments()
    (run,) = _next_runs(nightly, datetime(*utc_day, 12, tzinfo=timezone.utc), 1)
    assert run.astimezone(ZoneInfo("Europe/Stockholm")).hour == 2 and run.minute == 0
    assert run.astimezone(timezone.utc).hour == utc_hour


def test_reports_run_once_a_year_in_january():
    _, reports = deployments()
    runs = [r.astimezone(ZoneInfo("Europe/Stockholm")) for r in
            _next_runs(reports, datetime(2026, 2, 1, tzinfo=timezone.utc), 2)]
    assert [(r.year, r.month, r.day, r.hour) for r in runs] == [(2027, 1, 15, 6), (2028, 1, 15, 6)]


def test_custom_schedules_and_reports_off():
    (only,) = deployments(nightly="30 3 * * 1-5", reports=None)
    assert _schedule(only).cron == "30 3 * * 1-5" and _schedule(only).timezone == "Europe/Stockholm"
    with pytest.raises(ValueError):
        deployments(nightly="not a cron")


def test_previous_year_follows_swedish_new_year():
    assert previous_year(datetime(2026, 1, 15, 6, tzinfo=ZoneInfo("Europe/Stockholm"))) == 2025
    # 23:30 UTC on New Year's Eve is already the new year in Stockholm
    assert previous_year(datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)) == 2025

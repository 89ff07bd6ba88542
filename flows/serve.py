"""`synpunkt serve`: the Prefect deployments with their schedules, and the upload API beside them.

    nightly-pipeline   cron 0 2 * * *    (02:00)            ingest -> classify -> trends -> publish
    annual-reports     cron 0 6 15 1 *   (15 January 06:00) last year's reports, national and per municipality

Both schedules are in Swedish time (config.TIMEZONE, Europe/Stockholm): 02:00 stays 02:00 across summer time, and
never means 02:00 UTC. The yearly reports run in mid-January, once the nightly runs have taken in December's
batches; run them at any other time with `synpunkt report`, and the pipeline with `synpunkt run` (runs wait for
each other: one writer).

Watch runs in the Prefect UI: start `prefect server start` in another terminal and set
PREFECT_API_URL=http://127.0.0.1:4200/api before `synpunkt serve` (see the README).

The API runs with the settings of `synpunkt.api.server_config` (throttling, deadlines, public URL: SYNPUNKT_*
variables, see the README); serving stops with an error if it cannot start (a port in use, say).
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.pipeline import pipeline_flow
from flows.report import report_flow
from synpunkt.config import TIMEZONE

NIGHTLY_CRON = "0 2 * * *"
"""The pipeline: every night at 02:00 (Swedish time)."""
REPORTS_CRON = "0 6 15 1 *"
"""The annual reports of the previous year: 15 January at 06:00 (Swedish time), after that night's pipeline."""


def deployments(nightly: str = NIGHTLY_CRON, reports: str | None = REPORTS_CRON) -> list:
    """The deployments `synpunkt serve` serves: the nightly pipeline and (unless `reports` is None) the yearly
    reports beside it, each on a cron schedule in Swedish time. The report deployment has no year: the flow then
    reports on the previous calendar year."""
    served = [pipeline_flow.to_deployment(name="nightly-pipeline", schedule=Cron(nightly, timezone=TIMEZONE))]
    if reports:
        served.append(report_flow.to_deployment(name="annual-reports", schedule=Cron(reports, timezone=TIMEZONE)))
    return served


def serve_all(api: bool = True, host: str = "127.0.0.1", port: int = 8000, nightly: str = NIGHTLY_CRON,
              reports: str | None = REPORTS_CRON) -> None:
    """Serve the deployments (and the upload API) until stopped. A wrong cron string fails before the API starts."""
    served = deployments(nightly, reports)
    if api:
        from synpunkt.api import start_api_thread

        start_api_thread(host, port)
    serve(*served)

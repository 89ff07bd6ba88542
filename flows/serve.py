"""`synpunkt serve`: the Prefect deployments with their schedules, and the upload API beside them.

    nightly-pipeline   cron (default 02:00)   ingest -> classify -> trends -> publish

Run the same pipeline at any other time with `synpunkt run` (runs wait for each other: one writer).

Watch runs in the Prefect UI: start `prefect server start` in another terminal and set
PREFECT_API_URL=http://127.0.0.1:4200/api before `synpunkt serve` (see the README).

The API runs with the settings of `synpunkt.api.server_config` (throttling, deadlines, public URL: SYNPUNKT_*
variables, see the README); serving stops with an error if it cannot start (a port in use, say).
"""

from __future__ import annotations

from prefect import serve

from flows.pipeline import pipeline_flow


def serve_all(api: bool = True, host: str = "127.0.0.1", port: int = 8000, nightly: str = "0 2 * * *") -> None:
    if api:
        from synpunkt.api import start_api_thread

        start_api_thread(host, port)
    serve(pipeline_flow.to_deployment(name="nightly-pipeline", cron=nightly))

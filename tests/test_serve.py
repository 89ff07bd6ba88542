"""`synpunkt serve` builds the nightly deployment with its schedule (serving itself runs until stopped)."""

from __future__ import annotations


def test_nightly_pipeline_deployment_has_a_cron_schedule():
    from flows.pipeline import pipeline_flow

    deployment = pipeline_flow.to_deployment(name="nightly-pipeline", cron="0 2 * * *")
    assert deployment.name == "nightly-pipeline"
    crons = [getattr(s.schedule, "cron", None) for s in deployment.schedules]
    assert crons == ["0 2 * * *"]

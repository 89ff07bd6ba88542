"""The pipeline run's summary: Markdown from the result dict, quarantine reasons from the published copy, and the
Prefect artifact it becomes."""

from __future__ import annotations

from datetime import datetime

import pytest

from synpunkt.run_summary import (ARTIFACT_KEY, alert_counts, publish_run_artifact, read_quarantine_reasons,
                                  run_summary_markdown)

SECRET_TEXT = "Anna Svensson ringde från 070-1234567"


def result(published: str | None = "/srv/synpunkt/published/synpunkt.duckdb") -> dict:
    return {
        "ingest": {
            "landed": 3,
            "batches": [
                {"batch_id": "0180-aaaaaaaaaaaaaaaa", "municipality_code": "0180", "status": "ingested",
                 "rows_received": 120, "rows_accepted": 115, "rows_quarantined": 5, "error": None,
                 "quarantine_reasons": {"empty_text": 3, "invalid_date": 2}},
                {"batch_id": "1480-bbbbbbbbbbbbbbbb", "municipality_code": "1480", "status": "ingested",
                 "rows_received": 80, "rows_accepted": 79, "rows_quarantined": 1, "error": None,
                 "quarantine_reasons": {"empty_text": 1}},
                {"batch_id": "1280-cccccccccccccccc", "municipality_code": "1280", "status": "failed",
                 "rows_received": 0, "rows_accepted": 0, "rows_quarantined": 0,
                 "error": "reading the file: MissingColumn: no date column | tried datum, date"},
            ],
            "failed": [{"batch_id": "1280-cccccccccccccccc", "municipality_code": "1280",
                        "error": "reading the file: MissingColumn: no date column | tried datum, date"}],
            "raw_purged": 2,
        },
        "classify": {"classified": 194, "model_version": "synpunkt-2025.1"},
        "trends": {"trend_rows": 42},
        "published": published,
        "alerts": [{"category": "threat", "municipality_code": "0180", "text": SECRET_TEXT},
                   {"category": "threat", "municipality_code": "0180", "redacted_text": SECRET_TEXT},
                   {"category": "self_harm", "municipality_code": "1480"}],
    }


def test_markdown_has_counts_batches_reasons_and_alerts():
    md = run_summary_markdown(result())
    assert md.startswith("# Pipeline run\n")
    assert "**3 batch(es)** processed: 200 rows received = 194 accepted + 6 quarantined; **1 failed**" in md
    assert "194 comment(s) classified with synpunkt-2025.1" in md and "42 trend row(s)" in md
    assert "2 raw file(s) purged" in md and "`/srv/synpunkt/published/synpunkt.duckdb`" in md
    assert "synpunkt run --retry-failed" in md
    table = md.split("## Batches\n\n")[1].split("\n\n")[0].splitlines()
    assert table[0] == "| batch | municipality | status | received | accepted | quarantined | error |"
    assert len(table) == 2 + 3  # header, rule, one row per batch (the failed one listed once)
    assert table[2].startswith("| 1280-cccccccccccccccc | 1280 | failed | 0 | 0 | 0 | reading the file")  # first
    assert "no date column \\| tried datum" in table[2]  # a pipe in an error does not break the table
    assert "| 0180-aaaaaaaaaaaaaaaa | 0180 | ingested | 120 | 115 | 5 |  |" in table
    assert "## Quarantine reasons\n\n| reason code | rows |\n|---|---|\n| empty_text | 4 |\n| invalid_date | 2 |" in md
    assert "| threat | 0180 | 2 |" in md and "| self_harm | 1480 | 1 |" in md
    assert SECRET_TEXT not in md and "070-1234567" not in md  # alerts are counted, never quoted


def test_tolerates_missing_keys():
    assert "**0 batch(es)** processed: 0 rows received = 0 accepted + 0 quarantined; **0 failed**" in \
        run_summary_markdown({})
    only_failed = {"failed_batches": [{"batch_id": "0180-x", "municipality_code": "0180", "error": "unreadable"}]}
    md = run_summary_markdown(only_failed)
    assert "**1 failed**" in md and "| 0180-x | 0180 | failed |  |  |  | unreadable |" in md
    assert "## Quarantine reasons" not in md and "## Alerts" not in md and "classified" not in md
    assert "not landed" not in md


def test_inbox_files_not_landed_are_listed():
    md = run_summary_markdown({"ingest": {"landed": 0, "not_landed": ["inbox/0180/[NAMN].csv: the file is empty"]}})
    assert "**1 inbox file(s) not landed**" in md and "  - inbox/0180/[NAMN].csv: the file is empty" in md


@pytest.mark.parametrize("alerts, expected", [
    (None, []), ([], []), (3, [("all", "", 3)]), ({"threat": 2}, [("threat", "", 2)]),
    (["threat", "threat"], [("threat", "", 2)]),
])
def test_alerts_in_any_shape_become_counts(alerts, expected):
    assert alert_counts(alerts) == expected


def test_explicit_reasons_win_and_sort_by_rows():
    md = run_summary_markdown(result(), {"future_date": 1, "duplicate_in_batch": 9})
    assert "| duplicate_in_batch | 9 |\n| future_date | 1 |" in md and "empty_text" not in md


def _published_with_quarantine(path) -> str:
    from synpunkt.warehouse import connect

    con = connect(path)
    rows = [("0180-aaaaaaaaaaaaaaaa", 1, "empty_text"), ("0180-aaaaaaaaaaaaaaaa", 2, "empty_text"),
            ("0180-aaaaaaaaaaaaaaaa", 3, "invalid_date"), ("9999-old", 1, "future_date")]
    con.executemany("INSERT INTO quarantine (batch_id, row_number, municipality_code, reason_code, reason, "
                    "quarantined_at) VALUES (?, ?, '0180', ?, 'row n: why', ?)",
                    [(*r, datetime(2025, 1, 1)) for r in rows])
    con.close()
    return str(path)


def test_quarantine_reasons_are_read_for_the_runs_batches_only(tmp_path):
    published = _published_with_quarantine(tmp_path / "synpunkt.duckdb")
    assert read_quarantine_reasons(published, ["0180-aaaaaaaaaaaaaaaa", None]) == {"empty_text": 2,
                                                                                   "invalid_date": 1}
    assert read_quarantine_reasons(published, []) == {}


def test_artifact_of_a_flow_run(tmp_path):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.testing.utilities import prefect_test_harness

    published = _published_with_quarantine(tmp_path / "synpunkt.duckdb")
    run = result(published)
    for batch in run["ingest"]["batches"]:
        batch.pop("quarantine_reasons", None)  # as the pipeline returns it today: read from the published copy

    @flow(name="summary-test")
    def pipeline_like() -> str:
        return str(publish_run_artifact(run))

    with prefect_test_harness(server_startup_timeout=180):
        state = pipeline_like(return_state=True)
        artifact_id = state.result()
        with get_client(sync_client=True) as client:
            (artifact,) = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(
                any_=[ARTIFACT_KEY])))
    assert str(artifact.id) == artifact_id and artifact.type == "markdown"
    assert artifact.flow_run_id == state.state_details.flow_run_id
    assert artifact.description == "3 batch(es), 1 failed"
    assert "| 0180-aaaaaaaaaaaaaaaa | 0180 | ingested | 120 | 115 | 5 |  |" in artifact.data
    assert "| empty_text | 2 |\n| invalid_date | 1 |" in artifact.data and "future_date" not in artifact.data


def test_sources_not_pulled_and_alerts_not_delivered_are_listed_by_name_only():
    """What `synpunkt run`'s last lines say is in the artifact too: the sources not pulled after their retries, by
    municipality and host (synpunkt.sources.source_name), and the alerts a channel failed to deliver, as a count."""
    run = {**result(), "sources_not_pulled": ["1480 (data.example.se)", "0180 (127.0.0.1:9)"],
           "alerts_not_delivered": 2}
    md = run_summary_markdown(run)
    assert "- **2 source(s) not pulled** after their retries" in md
    assert "  - 1480 (data.example.se)\n  - 0180 (127.0.0.1:9)\n" in md
    assert "- **2 alert(s) not delivered** through every channel (retried at the next run" in md
    assert SECRET_TEXT not in md
    from_ingest = run_summary_markdown({"ingest": {"not_pulled": ["2480 (x.example.se)"], "alerts_not_delivered": 1}})
    assert "**1 source(s) not pulled**" in from_ingest and "  - 2480 (x.example.se)" in from_ingest
    assert "**1 alert(s) not delivered**" in from_ingest
    clean = run_summary_markdown({**result(), "sources_not_pulled": [], "alerts_not_delivered": 0})
    assert "not pulled" not in clean and "not delivered" not in clean


def test_a_source_is_never_shown_with_its_path_query_or_credentials():
    from synpunkt.sources import source_name

    url = "https://user:s3cret@data.example.se:8443/export/comments.csv?token=abc123#x"
    run = {"sources_not_pulled": [source_name("1480", url), f"0180 {url}", {"municipality": "2480", "url": url}]}
    md = run_summary_markdown(run)
    assert md.count("data.example.se:8443") == 3 and "  - 1480 (data.example.se:8443)" in md
    assert "  - 2480 (data.example.se:8443)" in md
    for secret in ("s3cret", "user", "export", "comments.csv", "token", "abc123", "https"):
        assert secret not in md, secret


def test_the_artifact_description_counts_sources_not_pulled_and_alerts_not_delivered(monkeypatch):
    import prefect.artifacts

    made = {}
    monkeypatch.setattr(prefect.artifacts, "create_markdown_artifact",
                        lambda markdown, key, description: made.update(markdown=markdown, description=description))
    publish_run_artifact({**result(None), "sources_not_pulled": ["1480 (data.example.se)"], "alerts_not_delivered": 3})
    assert made["description"] == "3 batch(es), 1 failed, 1 source(s) not pulled, 3 alert(s) not delivered"
    assert "  - 1480 (data.example.se)" in made["markdown"]

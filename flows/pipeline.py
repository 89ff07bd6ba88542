"""Prefect flows: the path from a municipality's batch to numbers an analyst can query.

    sources (inbox, HTTP pull, API) -> landing -> ingest -> classify -> trends -> publish

Each flow is safe to re-run at any time: landing is content-addressed, each batch is ingested in chunks committed
with its progress (an interrupted batch resumes), classification only fills in what the current model has not
scored, trends are recomputed, and publishing swaps in a complete snapshot atomically. A crash anywhere leaves a
state the next run completes. A batch that fails is recorded as failed with its reason and never stops the other
batches or the later stages; the result lists it under ``failed_batches``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from synpunkt import config
from synpunkt.run_summary import publish_run_artifact
from synpunkt.ingest import ingest_batch, pending_batches, purge_expired_raw, resync_statuses
from synpunkt.landing import collect_inbox
from synpunkt.warehouse import (connect, count_unclassified, insert_predictions, pipeline_lock, refresh_trends,
                                save_source_state, set_current_model, source_states, unclassified)

CLASSIFY_CHUNK = 256


@task(name="collect-inbox", cache_policy=NO_CACHE)
def collect_inbox_task() -> int:
    logger = get_run_logger()
    receipts, problems = collect_inbox()
    for problem in problems:
        logger.warning("inbox file not landed: %s", problem)
    return sum(not r.duplicate for r in receipts)


@task(name="pull-sources", cache_policy=NO_CACHE)
def pull_sources_task(con) -> int:
    """Pull every configured HTTP(S) source; unchanged exports are not re-read (ETag / Last-Modified)."""
    from synpunkt.sources import load_sources, pull_all

    logger = get_run_logger()
    sources = load_sources()
    if not sources:
        return 0
    results = pull_all(sources, source_states(con))
    for r in results:
        state = r.state
        save_source_state(con, r.url, r.municipality, state.get("etag"), state.get("last_modified"),
                          state.get("checksum_sha256"), r.status if r.status != "failed" else f"failed: {r.error}")
        if r.status == "failed":
            logger.warning("source for %s failed: %s", r.municipality, r.error)
    return sum(r.status == "ok" for r in results)


@task(name="ingest-batches", cache_policy=NO_CACHE)
def ingest_batches_task(con, retry_failed: bool = False) -> list[dict]:
    """Ingest every pending batch (new, interrupted and, with retry_failed, failed ones); one failing batch
    is recorded as failed and the others carry on."""
    from tqdm.auto import tqdm

    from synpunkt.keys import check_key, comment_id_key
    from synpunkt.redact import Redactor

    from synpunkt.notify import notify_new_alerts

    logger = get_run_logger()
    batches = pending_batches(con, retry_failed=retry_failed)
    if not batches:
        notify_new_alerts(con)  # alerts a channel failed to deliver last time
        return []
    key = comment_id_key()
    check_key(con, key)
    redactor = Redactor.default()
    results = []
    for receipt in tqdm(batches, desc="Ingesting", unit="batch", disable=len(batches) < 2):
        result = ingest_batch(con, receipt, redactor, key=key)
        results.append(asdict(result))
        logger.info("batch %s (%s): %s, %d received = %d accepted + %d quarantined%s", result.batch_id,
                    result.municipality_code, result.status, result.rows_received, result.rows_accepted,
                    result.rows_quarantined, f" ({result.error})" if result.error else "")
        notified = notify_new_alerts(con)  # as soon as the batch is in: urgent comments do not wait for the report
        if notified.new_alerts:
            logger.warning("%d urgent-comment alert(s) raised, %d delivered%s", notified.new_alerts,
                           notified.notified, f"; failed channels: {', '.join(notified.failed_channels)}"
                           if notified.failed_channels else "")
    return results


@flow(name="ingest")
def ingest_flow(warehouse: Path | None = None, retry_failed: bool = False) -> dict:
    """Pull from all sources, land, validate, deduplicate, redact and store; purge expired raw copies.

    `retry_failed`: also ingest again the batches that failed earlier (while their raw copy exists).
    """
    con = connect(warehouse)
    try:
        landed = collect_inbox_task() + pull_sources_task(con)
        results = ingest_batches_task(con, retry_failed)
        resync_statuses(con)
        purged = purge_expired_raw(con, config.raw_retention_days())
    finally:
        con.close()
    failed = [{k: b[k] for k in ("batch_id", "municipality_code", "error")} for b in results if b["status"] == "failed"]
    return {"landed": landed, "batches": results, "failed": failed, "raw_purged": purged}


@flow(name="classify")
def classify_flow(warehouse: Path | None = None, model_dir: Path | None = None,
                  chunk_size: int | None = None) -> dict:
    """Classify every stored comment without a prediction from the current model version, in chunks."""
    from tqdm.auto import tqdm

    from synpunkt.classifier import Classifier

    logger = get_run_logger()
    con = connect(warehouse)
    try:
        clf = Classifier.load(model_dir)
        todo = count_unclassified(con, clf.version)
        logger.info("%d comments to classify with %s", todo, clf.version)
        done = 0
        with tqdm(total=todo, desc="Classifying", unit="comment", disable=todo == 0) as bar:
            while not (chunk := unclassified(con, clf.version, chunk_size or CLASSIFY_CHUNK)).empty:
                predictions = clf.predict(chunk["text"].tolist(), topic_sentiment=True, progress=False)
                insert_predictions(con, chunk["comment_id"].tolist(), predictions)
                done += len(chunk)
                bar.update(len(chunk))
        set_current_model(con, clf.version)  # only once everything is scored: views never mix versions
    finally:
        con.close()
    return {"classified": done, "model_version": clf.version}


@flow(name="trends")
def trends_flow(warehouse: Path | None = None) -> dict:
    """Yearly shares with Wilson intervals and net score, per municipality, topic and year, and nationally."""
    con = connect(warehouse)
    try:
        current = con.execute("SELECT model_version FROM current_model").fetchall()
        rows = refresh_trends(con, current[0][0]) if current else 0
    finally:
        con.close()
    return {"trend_rows": rows}


@flow(name="publish")
def publish_flow(warehouse: Path | None = None, published: Path | None = None) -> str:
    """Give analysts a consistent read-only snapshot."""
    from synpunkt.publish import publish

    con = connect(warehouse)
    try:
        return str(publish(con, published))
    finally:
        con.close()


@flow(name="pipeline")
def pipeline_flow(warehouse: Path | None = None, model_dir: Path | None = None, published: Path | None = None,
                  retry_failed: bool = False) -> dict:
    """ingest -> classify -> trends -> publish, under the pipeline lock (one writer at a time).

    Failed batches do not stop the later stages; they are listed in the result's ``failed_batches``
    (batch_id, municipality_code, error).
    """
    logger = get_run_logger()
    with pipeline_lock():
        ingested = ingest_flow(warehouse, retry_failed)
        classified = classify_flow(warehouse, model_dir)
        trends = trends_flow(warehouse)
        path = publish_flow(warehouse, published)
    logger.info("published %s", path)
    for failed in ingested["failed"]:
        logger.warning("batch %s (%s) failed: %s", failed["batch_id"], failed["municipality_code"], failed["error"])
    result = {"ingest": ingested, "classify": classified, "trends": trends, "published": path,
              "failed_batches": ingested["failed"]}
    publish_run_artifact(result)
    return result

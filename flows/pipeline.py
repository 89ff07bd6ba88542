"""Prefect flows: the path from a municipality's batch to numbers an analyst can query.

    sources (inbox, HTTP pull, API) -> landing -> ingest -> classify -> trends -> publish

Each flow is safe to re-run at any time: landing is content-addressed, each batch is ingested in chunks committed
with its progress (an interrupted batch resumes), classification only fills in what the current model has not
scored, trends are recomputed, and publishing swaps in a complete snapshot atomically. A crash anywhere leaves a
state the next run completes. A batch that fails is recorded as failed with its reason and never stops the other
batches or the later stages; the result lists it under ``failed_batches``.

Ingest and classification run their chunks' compute on a Prefect task runner: in this process by default, on Dask
workers with SYNPUNKT_TASK_RUNNER=dask or SYNPUNKT_DASK_ADDRESS (synpunkt.scaleout); only the flow reads the files
and writes DuckDB. Ingest sends raw text to the workers, so it refuses a cluster not trusted with it
(scaleout.check_raw_text: a LocalCluster, a tls:// scheduler, or SYNPUNKT_DASK_TRUSTED_NETWORK=1).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from synpunkt import config, scaleout
from synpunkt.run_summary import publish_run_artifact
from synpunkt.ingest import ingest_batch, pending_batches, purge_expired_raw, resync_statuses
from synpunkt.ingest_compute import (ChunkFailed, ChunkOutput, ChunkWork, describe_inbox_problems, merge_outputs,
                                     piece_count, split_work)
from synpunkt.landing import collect_inbox
from synpunkt.runtime import release_memory
from synpunkt.warehouse import (connect, count_unclassified, insert_predictions, pipeline_lock, refresh_trends,
                                save_source_state, set_current_model, source_states, unclassified)
from synpunkt.withdraw import purge_withdrawn_raw

CLASSIFY_CHUNK = 2048
"""Comments per classification chunk: the classifier sorts a chunk's texts by length into batches, so larger chunks
pad less (256 cost about a fifth of the stage's speed: benchmarks/README.md, "Classification chunks")."""


@task(name="collect-inbox", cache_policy=NO_CACHE)
def collect_inbox_task() -> tuple[int, list[str]]:
    """(batches newly landed, one line per inbox file not landed, its folder and file name redacted)."""
    logger = get_run_logger()
    resent: list = []
    receipts, problems = collect_inbox(resent=resent)
    lines = describe_inbox_problems(problems)
    for line in lines:
        logger.warning("inbox file not landed (it stays in the inbox): %s", line)
    for line in describe_inbox_problems(resent):  # the same file again: one batch, said once
        logger.info("inbox file already received: %s", line)
    return sum(not r.duplicate for r in receipts), lines


@task(name="pull-sources", cache_policy=NO_CACHE)
def pull_sources_task(con) -> tuple[int, list[str]]:
    """Pull every configured HTTP(S) source; unchanged exports are not re-read (ETag / Last-Modified). Returns
    (batches newly landed, the sources that failed after their retries: source_name each, never a credential)."""
    from synpunkt.sources import load_sources, pull_all, source_name

    logger = get_run_logger()
    sources = load_sources()
    if not sources:
        return 0, []
    results = pull_all(sources, source_states(con))
    for r in results:
        state = r.state
        save_source_state(con, r.url, r.municipality, state.get("etag"), state.get("last_modified"),
                          state.get("checksum_sha256"), r.status if r.status != "failed" else f"failed: {r.error}")
        if r.status == "failed":
            logger.warning("source for %s failed: %s", r.municipality, r.error)
    return sum(r.status == "ok" for r in results), [source_name(r.municipality, r.url) for r in results
                                                    if r.status == "failed"]


@task(name="ingest-rows", task_run_name="ingest-{batch}-{rows}", cache_policy=NO_CACHE, persist_result=False)
def ingest_rows_task(batch: str, rows: str, work: ChunkWork, model_dir: str | None = None) -> ChunkOutput:
    """Redaction and signals of one piece of an ingest chunk where the task runner puts it (a Dask worker trusted
    with raw text), and the predictions of the classifier in `model_dir` that its encoder pass gives. `batch` and
    `rows` name it for the log; never text. Fails with a ChunkFailed (no text)."""
    return scaleout.ingest_rows(work, model_dir)


@task(name="redact-file-name", cache_policy=NO_CACHE, persist_result=False)
def redact_file_name_task(name: str) -> str:
    """A batch's file name redacted where the task runner puts it. Fails with a ChunkFailed (no text)."""
    return scaleout.redact_file_name(name)


class OnTaskRunner:
    """Ingest's compute (synpunkt.ingest.ChunkCompute) as Prefect tasks on the flow's task runner: each chunk cut
    into pieces, about one per worker thread (ingest_compute.piece_count), each retried `retries` times; their
    outputs come back in row order for the flow to write. A piece that still fails fails its batch, by rows."""

    def __init__(self, runner, retries: int, logger, model_dir: str | None = None):
        self.parallelism = scaleout.parallelism(runner)  # connects: the cluster it found is checked again
        scaleout.check_runner_raw_text(runner)
        self.retries, self.logger, self.model_dir = retries, logger, model_dir
        self.options = {"retries": retries, "retry_delay_seconds": 1}

    def file_name(self, name: str) -> str:
        future = redact_file_name_task.with_options(**self.options).submit(name)
        return self._result(future, "redacting the file name")

    def run(self, work: ChunkWork) -> ChunkOutput:
        pieces = split_work(work, piece_count(work.row_count, self.parallelism))
        submit = ingest_rows_task.with_options(**self.options).submit
        futures = [submit(p.batch_id, p.span, p, self.model_dir) for p in pieces]
        outputs, failure = [], None
        for piece, future in zip(pieces, futures):  # every piece waited for: none left running on a failure
            try:
                outputs.append(self._result(future, f"redacting and detecting signals in {piece.span}"))
            except ChunkFailed as err:
                failure = failure or err
        if failure is not None:
            raise failure
        return merge_outputs(outputs)

    def _result(self, future, stage: str):
        try:
            return future.result()
        except Exception as err:  # noqa: BLE001 - a worker's ChunkFailed, or the cluster's own error (lost worker)
            failed = ChunkFailed.of(stage, err)
        note = f" (after {self.retries} retries)" if self.retries else ""
        self.logger.error("%s failed%s: %s", failed.stage, note, failed.error_type)
        raise ChunkFailed(failed.stage + note, failed.error_type, failed.detail, failed.where)


def ingest_batches(con, retry_failed: bool = False, model_dir: str | None = None) -> list[dict]:
    """Ingest every pending batch (new, interrupted and, with retry_failed, failed ones); one failing batch
    is recorded as failed and the others carry on. On a Dask task runner the redaction and signals run on its
    workers (OnTaskRunner) and this process loads neither model. Part of the flow's own body, not a task: the
    chunk tasks it submits carry no parent task's context (which would hold the DuckDB connection)."""
    from tqdm.auto import tqdm

    from synpunkt.keys import check_key, comment_id_key
    from synpunkt.notify import notify_new_alerts

    logger = get_run_logger()
    batches = pending_batches(con, retry_failed=retry_failed)
    if not batches:
        notify_new_alerts(con)  # alerts a channel failed to deliver last time
        return []
    key = comment_id_key()
    check_key(con, key)
    runner = FlowRunContext.get().task_runner
    if scaleout.is_dask(runner):
        redactor, compute = None, OnTaskRunner(runner, config.chunk_retries("dask"), logger, model_dir)
        logger.info("redacting and detecting signals on %s", scaleout.describe(runner))
    else:
        from synpunkt.redact import Redactor

        redactor, compute = Redactor.default(), None
    results = []
    for receipt in tqdm(batches, desc="Ingesting", unit="batch", disable=len(batches) < 2):
        result = ingest_batch(con, receipt, redactor, key=key, compute=compute, model_dir=model_dir)
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


@flow(name="ingest", task_runner=scaleout.local_task_runner())
def ingest_flow(warehouse: Path | None = None, retry_failed: bool = False, model_dir: Path | None = None) -> dict:
    """Pull from all sources, land, validate, deduplicate, redact and store; purge expired raw copies.

    `retry_failed`: also ingest again the batches that failed earlier (while their raw copy exists). The
    redaction and signals run on the flow's task runner (in this process by default; `ingest_flow.with_options(
    task_runner=scaleout.task_runner())` for Dask, refused before any work for a cluster not trusted with raw
    text: scaleout.check_raw_text); the flow alone reads the files and writes the warehouse.
    """
    scaleout.check_runner_raw_text(FlowRunContext.get().task_runner)
    retention_days = config.raw_retention_days()  # a bad setting stops the flow before anything is stored
    con = connect(warehouse)
    try:
        landed, not_landed = collect_inbox_task()
        pulled, not_pulled = pull_sources_task(con)
        landed += pulled
        results = ingest_batches(con, retry_failed, model_dir and str(model_dir))  # its predictions: model_dir's
        undelivered = undelivered_alerts(con)  # every one was tried just now (after each batch, or once)
        resync_statuses(con)
        purged = purge_expired_raw(con, retention_days) + purge_withdrawn_raw(con, retention_days)
    finally:
        con.close()
        release_memory(collect=True)  # the last batch's buffers, before the next stage
    failed = [{k: b[k] for k in ("batch_id", "municipality_code", "error")} for b in results if b["status"] == "failed"]
    return {"landed": landed, "not_landed": not_landed, "not_pulled": not_pulled, "batches": results,
            "failed": failed, "raw_purged": purged, "alerts_not_delivered": undelivered}


def undelivered_alerts(con) -> int:
    """Alerts not yet delivered through every channel (notified_at unset): retried at the next run."""
    return con.execute("SELECT count(*) FROM urgent_comments WHERE notified_at IS NULL").fetchone()[0]


def free_ingest_models() -> None:
    """Between ingest and classification: this process's ingest models go (ingest_encoders.forget_models: about
    0.9 GB, reloaded by the next run in seconds), so the classifier's memory does not come on top of theirs."""
    from synpunkt.ingest_encoders import forget_models

    forget_models()
    release_memory(collect=True)


@task(name="classify-chunk", task_run_name="classify-chunk-{chunk}", cache_policy=NO_CACHE, persist_result=False)
def classify_chunk_task(chunk: int, texts: list[str], model_dir: str | None = None, backend: str | None = None):
    """Classify one chunk of stored (redacted) texts where the task runner puts it: in this process or on a Dask
    worker, with that process's cached classifier. `chunk` numbers the chunk for the log; it is never text."""
    return scaleout.classify_texts(texts, model_dir, backend)


@flow(name="classify", task_runner=scaleout.local_task_runner())
def classify_flow(warehouse: Path | None = None, model_dir: Path | None = None,
                  chunk_size: int | None = None, backend: str | None = None) -> dict:
    """Classify every stored comment without a prediction from the current model version, in chunks. The version is
    the model's, with a suffix when the backend's answers are not the reference's (onnx-int8: "+onnx-int8",
    synpunkt.inference.stored_version): predictions of the other are not this version's, and are made again.

    The chunks run on the flow's task runner (in this process by default; `classify_flow.with_options(task_runner=
    scaleout.task_runner())` for Dask), a bounded number at a time; the flow alone writes their predictions, in
    order. A chunk that still fails after its retries is reported by number, the others are stored, and the run
    then raises that chunk's error (the current model version is only set once every comment is scored).
    """
    from tqdm.auto import tqdm

    from synpunkt.inference import predictions_version
    from synpunkt.model import model_version

    logger = get_run_logger()
    runner = FlowRunContext.get().task_runner
    backend = backend or config.backend()  # this process's setting: every worker uses the same backend
    folder = Path(model_dir or config.model_dir())
    version = predictions_version(model_version(folder), backend, folder)  # as the workers' predictions carry it
    retries = config.chunk_retries(scaleout.runner_name(runner))
    submit = classify_chunk_task.with_options(retries=retries, retry_delay_seconds=1).submit
    size = chunk_size or CLASSIFY_CHUNK
    con = connect(warehouse)
    done, failed = 0, []
    try:
        todo = count_unclassified(con, version)
        logger.info("%d comments to classify with %s", todo, version)
        if todo:
            # chunks in flight: on Dask two per worker (every worker busy, memory bounded); in this process one, as the
            # encoder already uses every core: reading and writing beside it slowed it more than they cost alone
            window = scaleout.parallelism(runner) * (2 if scaleout.is_dask(runner) else 1)
            logger.info("classifying in chunks of %d on %s", size, scaleout.describe(runner))
            in_flight: deque = deque()
            with tqdm(total=todo, desc="Classifying", unit="comment") as bar:
                for number, ids, texts in _stored_chunks(con, version, size):
                    in_flight.append((number, ids, submit(number, texts, model_dir and str(model_dir), backend)))
                    if len(in_flight) >= window:
                        done += _store_chunk(con, *in_flight.popleft(), version, failed, bar, logger)
                while in_flight:
                    done += _store_chunk(con, *in_flight.popleft(), version, failed, bar, logger)
        if failed:
            raise _chunks_failed(failed, retries, size)
        set_current_model(con, version)  # only once everything is scored: views never mix versions
    finally:
        con.close()
        scaleout.forget_classifiers()
        release_memory(collect=True)  # the classifier's weights and buffers, before the next stage
    return {"classified": done, "model_version": version}


def _stored_chunks(con, version: str, size: int):
    """(number, comment ids, texts) of the unclassified comments, oldest first, `size` at a time. Each page starts
    past the last one read, so chunks still in flight (or failed) are never read twice."""
    after, number = None, 0
    while not (page := unclassified(con, version, size, after)).empty:
        last = page.iloc[-1]
        after = (last["ingested_at"].to_pydatetime(), last["comment_id"])
        yield number, page["comment_id"].tolist(), page["text"].tolist()
        number += 1


def _store_chunk(con, number: int, ids: list[str], future, version: str, failed: list, bar, logger) -> int:
    """Wait for one chunk and write its predictions (0 when it failed: recorded in `failed`, logged by number)."""
    try:
        predictions = future.result()
        if (used := set(predictions["model_version"])) != {version}:
            raise RuntimeError(f"chunk {number} was classified with {', '.join(sorted(used))} instead of {version}: "
                               "every worker must see the same model files and run a backend that gives the same "
                               "answers (set SYNPUNKT_BACKEND or --backend where 'auto' picks onnx-int8 on some "
                               "machines only)")
    except Exception as err:  # noqa: BLE001 - reported below, the other chunks carry on
        logger.error("chunk %d (%d comments) failed: %s", number, len(ids), type(err).__name__)
        failed.append((number, len(ids), err))
        return 0
    insert_predictions(con, ids, predictions)
    del predictions
    release_memory()  # the chunk's buffers (texts of other lengths next): memory stays at one chunk's
    bar.update(len(ids))
    return len(ids)


def _chunks_failed(failed: list, retries: int, size: int) -> Exception:
    """The first failed chunk's own error, with a note naming every failed chunk (numbers and counts, no text)."""
    err = failed[0][2]
    listed = ", ".join(f"{number} ({n} comments, {type(e).__name__})" for number, n, e in failed)
    note = (f"classification: {len(failed)} chunk(s) of up to {size} comments failed after {retries} retries: "
            f"{listed}; the other chunks are stored and the next run classifies the rest")
    err.__notes__ = [*getattr(err, "__notes__", []), note]  # what add_note does (Python 3.11+)
    return err


@flow(name="trends")
def trends_flow(warehouse: Path | None = None, model_dir: Path | None = None) -> dict:
    """Yearly shares with corrected shares and their intervals and net score, per municipality, topic and year, and
    nationally; the share correction is read from `model_dir` (the model that classified; default config's)."""
    con = connect(warehouse)
    try:
        current = con.execute("SELECT model_version FROM current_model").fetchall()
        rows = refresh_trends(con, current[0][0], model_dir=model_dir) if current else 0
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


def changed_years(con, batches: list[dict], classified: int) -> list[int]:
    """The years whose figures this run changed: those of the comments its batches added, and every year when
    classification reached more comments than the run added (a new model classified the warehouse again)."""
    ids = [b["batch_id"] for b in batches if b.get("rows_accepted")]
    added = sum(b.get("rows_accepted") or 0 for b in batches)
    if classified > added:
        return [y for (y,) in con.execute("SELECT DISTINCT year FROM comments ORDER BY year").fetchall()]
    if not ids:
        return []
    return [y for (y,) in con.execute("SELECT DISTINCT year FROM comments WHERE list_contains(?, batch_id) "
                                      "ORDER BY year", [ids]).fetchall()]


def mark_reports_stale(warehouse: Path | None, batches: list[dict], classified: int) -> list[int]:
    """Rendered reports of the years this run changed get STALE.txt (synpunkt.report.render.mark_stale), as a
    review import or a withdrawal does: their figures are no longer the published ones until rendered again."""
    from synpunkt.report.render import mark_stale

    con = connect(warehouse)
    try:
        years = changed_years(con, batches, classified)
    finally:
        con.close()
    return [int(folder.name) for folder in mark_stale(years, f"new data published by the run of {date.today()}")]


@flow(name="pipeline")
def pipeline_flow(warehouse: Path | None = None, model_dir: Path | None = None, published: Path | None = None,
                  retry_failed: bool = False) -> dict:
    """ingest -> classify -> trends -> publish, under the pipeline lock (one writer at a time).

    Failed batches do not stop the later stages; they are listed in the result's ``failed_batches``
    (batch_id, municipality_code, error).
    """
    logger = get_run_logger()
    runner = scaleout.task_runner()  # a bad setting, or a cluster not trusted with raw text, fails before any work
    with pipeline_lock(logger=logger):
        ingested = ingest_flow.with_options(task_runner=runner)(warehouse, retry_failed, model_dir)
        free_ingest_models()
        classified = classify_flow.with_options(task_runner=runner)(warehouse, model_dir)
        trends = trends_flow(warehouse, model_dir)  # the correction fitted for the model that classified
        path = publish_flow(warehouse, published)
        stale = mark_reports_stale(warehouse, ingested["batches"], classified.get("classified", 0))
    logger.info("published %s", path)
    if stale:
        logger.info("reports rendered before this run's data marked stale: %s", ", ".join(map(str, stale)))
    for failed in ingested["failed"]:
        logger.warning("batch %s (%s) failed: %s", failed["batch_id"], failed["municipality_code"], failed["error"])
    result = {"ingest": ingested, "classify": classified, "trends": trends, "published": path,
              "failed_batches": ingested["failed"], "inbox_not_landed": ingested["not_landed"],
              "sources_not_pulled": ingested["not_pulled"], "alerts_not_delivered": ingested["alerts_not_delivered"]}
    publish_run_artifact(result)
    return result

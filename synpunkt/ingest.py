"""The ingest stage: a landed batch is read in chunks; each chunk is validated, checked for duplicates (see
synpunkt.dedupe), redacted and committed together with the batch's progress.

- **Bounded memory**: every per-batch structure is chunk-sized (``SYNPUNKT_INGEST_CHUNK_ROWS``, default 5,000),
  except the duplicate state (about 100 bytes per distinct comment) and a bounded cache of redactions.
- **Resume**: a batch is ``ingesting`` while its chunks are committed, each with ``rows_done`` (the last data row
  committed). After a crash, the next run skips the committed rows, rebuilding the duplicate state from their raw
  text (hashes only, no redaction), and carries on.
- **Batch isolation**: any error while ingesting a batch (reading, validating, redacting, checking duplicates,
  storing) removes what the batch had written and records it as ``failed`` with the stage, the error type and a
  description that never quotes cell values; the other batches and the later stages carry on. ``synpunkt run
  --retry-failed`` ingests failed batches again while their raw copy exists.
- **Signals**: each chunk's stored comments go through the urgent and repeat-contact detector (synpunkt.signals)
  on their full, unredacted text in memory; signals and alerts are committed with the chunk's comments.
- **Predictions**: where the signal heads read the default classifier's encoder, the comments whose stored text is
  the text as read get their predictions from the same encoder pass, committed with them
  (synpunkt.ingest_classify); the classify stage scores the others.
- **Compute apart from I/O**: reading, validation, duplicates and the writes happen here, in the caller's process
  (the single DuckDB writer); a chunk's redaction and signals are a ``ChunkWork`` for a ``ChunkCompute``
  (synpunkt.ingest_compute): in this process by default, or Prefect tasks on Dask workers (flows/pipeline.py).
- **Accounting**, per batch: rows_received == rows_accepted + rows_quarantined, checked against the tables.
- **Limits**: a batch with more than ``SYNPUNKT_MAX_ROWS_PER_BATCH`` data rows (default 1,000,000) fails.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Protocol

from synpunkt import config
from synpunkt.batch_status import read_status, write_status
from synpunkt.dedupe import DedupeState, duplicates
from synpunkt.ingest_compute import (QUARANTINE_COLUMNS, ChunkFailed, ChunkOutput, ChunkWork, align_name_model,
                                     Progress, compute_chunk, redact_file_name, safe_detail)
from synpunkt.landing import Receipt, batch_dir, landed_batches, purge_raw, replace_original_name
from synpunkt.redaction_cache import RedactionCache
from synpunkt.runtime import release_memory
from synpunkt.signals.detect import default_detector
from synpunkt.tables import TableReadError, estimated_rows, iter_table
from synpunkt.validate import MissingColumn, shown_column, validate_rows
from synpunkt.warehouse import (batch_states, begin_batch, existing_comments, fail_batch, finish_batch, now,
                                stored_counts, write_chunk)

log = logging.getLogger(__name__)

PROGRESS_MIN_BYTES = 2_000_000
"""Batches from this size on show a progress bar (rows)."""

__all__ = ["QUARANTINE_COLUMNS", "BatchResult", "ChunkCompute", "ChunkFailed", "ChunkOutput", "ChunkWork",
           "InProcess", "cause_in_file", "failure_reason", "ingest_batch", "pending_batches", "purge_expired_raw",
           "resync_statuses"]

ACCEPTED_FIELDS = ("external_id", "contact_date", "channel", "text", "metadata")


@dataclass
class BatchResult:
    batch_id: str
    municipality_code: str
    status: str  # ingested | failed
    rows_received: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    error: str | None = None


class RowLimitExceeded(ValueError):
    """The batch has more data rows than SYNPUNKT_MAX_ROWS_PER_BATCH."""


SAFE_MESSAGES = (TableReadError, MissingColumn, RowLimitExceeded)
"""Errors whose messages never hold cell values (by contract), so they may be shown as they are."""

_NOT_THE_FILES = ("cannot read the file (", "file not found", "is a directory")
"""TableReadError reasons about the landing area (an I/O error, a missing raw copy), not the file's content."""


def cause_in_file(error: str | None) -> bool:
    """True when a failed batch's reason lies in its file's content (no comment or date column, a file that is
    not a readable table): ingesting the same raw copy again (``--retry-failed``) cannot help; a corrected file,
    submitted again, can (pure, on the stored reason)."""
    if not error:
        return False
    if f"{MissingColumn.__name__}: " in error:
        return True
    return f"{TableReadError.__name__}: " in error and not any(s in error for s in _NOT_THE_FILES)


def failure_reason(stage: str, err: BaseException, receipt: Receipt) -> str:
    """Why a batch failed: stage, error type and a description that never quotes the error's message (which can
    hold cell values, e.g. the key in a DuckDB constraint error) unless its type promises it is safe. A
    ChunkFailed (from a chunk's compute, here or on a worker) carries its own stage and description."""
    if isinstance(err, ChunkFailed):
        return err.reason
    if isinstance(err, SAFE_MESSAGES):
        detail = str(err).replace(str(receipt.raw_path()), f"batch {receipt.batch_id}")
    else:
        detail = safe_detail(err, receipt.raw_path())
    return f"{stage}: {type(err).__name__}: {detail}"


class ChunkCompute(Protocol):
    """Where a batch's compute runs: its file name's redaction, and each chunk's redaction and signals."""

    def file_name(self, name: str) -> str: ...

    def run(self, work: ChunkWork) -> ChunkOutput: ...


class InProcess:
    """A batch's compute in this process, with one redaction cache for the whole batch; `model_dir`: the classify
    stage's classifier, whose predictions the encoder pass may give (default config.model_dir())."""

    def __init__(self, redactor, detector, model_dir: str | None = None):
        self.cache = RedactionCache(redactor)
        self.detector = detector
        self.model_dir = model_dir
        self.progress: Progress | None = None  # set by the ingest loop for its progress bar
        align_name_model(redactor, detector)  # the file name's redaction too reads the detector's encoder

    def file_name(self, name: str) -> str:
        return redact_file_name(name, self.cache)

    def run(self, work: ChunkWork) -> ChunkOutput:
        return compute_chunk(work, self.cache, self.detector, self.model_dir, self.progress)


def ingest_batch(con, receipt: Receipt, redactor=None, today: date | None = None, *, key: bytes | None = None,
                 chunk_rows: int | None = None, max_rows: int | None = None, detector=None,
                 compute: ChunkCompute | None = None, model_dir: str | None = None) -> BatchResult:
    """Ingest one landed batch into the warehouse, chunk by chunk; resumes an interrupted batch.

    `compute` runs the redaction and signals (default: InProcess with `redactor`, default Redactor.default(),
    `detector`, default the shipped heads, and `model_dir`, the classifier the classify stage will use: default
    config.model_dir()); everything else, the writes included, happens here. Never
    raises for a problem with the batch (it is recorded as failed); interruptions (KeyboardInterrupt, a kill)
    leave the batch ``ingesting``, to be resumed by the next run.
    """
    from synpunkt.keys import comment_id_key

    key = key or comment_id_key()
    code, stage, name = receipt.municipality_code, "loading the redaction and signal models", None
    try:
        if compute is None:
            if redactor is None:
                from synpunkt.redact import Redactor

                redactor = Redactor.default()
            compute = InProcess(redactor, detector or default_detector(), model_dir)
    except Exception as err:  # noqa: BLE001 (batch isolation; the models are shipped: a broken install)
        reason = failure_reason(stage, err, receipt)
        log.warning("batch %s failed: %s", receipt.batch_id, reason)
        fail_batch(con, receipt, None, reason)
        return _finish(receipt, BatchResult(receipt.batch_id, code, "failed", error=reason))
    stage = "redacting the file name"
    try:
        name = compute.file_name(receipt.original_name) if receipt.original_name else None
        stage = "starting"
        rows_done = begin_batch(con, receipt, name)
        if rows_done:
            log.info("batch %s: resuming after row %d", receipt.batch_id, rows_done)
        _ingest_chunks(con, receipt, compute, key, rows_done, today, chunk_rows or config.ingest_chunk_rows(),
                       max_rows or config.max_rows_per_batch())
        stage = "checking the accounting"
        received, accepted, quarantined = stored_counts(con, receipt.batch_id)
        assert received == accepted + quarantined, f"batch {receipt.batch_id}: row accounting broken"
        finish_batch(con, receipt.batch_id)
    except Exception as err:  # noqa: BLE001 (batch isolation: any error fails this batch only)
        if isinstance(err, _StageError):
            stage, err = err.stage, err.__cause__
        reason, where = failure_reason(stage, err, receipt), "".join(traceback.format_tb(err.__traceback__))
        if isinstance(err, ChunkFailed) and err.where:
            where = f"{err.where}(raised as {err.error_type}, reported from)\n{where}"
    else:
        reason = None
    if reason is not None:  # outside the except block: a failing log handler cannot print the error's message
        log.warning("batch %s failed: %s", receipt.batch_id, reason)
        log.debug("batch %s: where it failed (code only):\n%s", receipt.batch_id, where)
        fail_batch(con, receipt, name, reason)
        return _finish(receipt, BatchResult(receipt.batch_id, code, "failed", error=reason))
    log.info("batch %s: %d received, %d accepted, %d quarantined", receipt.batch_id, received, accepted, quarantined)
    return _finish(receipt, BatchResult(receipt.batch_id, code, "ingested", received, accepted, quarantined))


class _StageError(Exception):
    """Carries the stage a chunk failed in (the original error is its __cause__)."""

    def __init__(self, stage: str):
        super().__init__(stage)
        self.stage = stage


def _ingest_chunks(con, receipt: Receipt, compute: ChunkCompute, key: bytes, rows_done: int, today: date | None,
                   chunk_rows: int, max_rows: int) -> None:
    """Read, validate, deduplicate, redact and commit chunk by chunk (errors carry their stage: _StageError)."""
    from tqdm.auto import tqdm

    try:
        stream = iter_table(receipt.raw_path(), chunk_rows=chunk_rows)
    except Exception as err:
        raise _StageError("reading the file") from err
    state, seen = DedupeState(), 0
    big = receipt.size_bytes >= PROGRESS_MIN_BYTES
    total = estimated_rows(receipt.raw_path()) if big else None
    with tqdm(desc=f"Ingesting {receipt.batch_id}", unit="row", total=total, disable=not big, leave=False) as bar:
        if big and isinstance(compute, InProcess):  # within a chunk: what its compute has done so far
            compute.progress = lambda what, done, of: bar.set_postfix_str(
                f"this chunk: {done:,} of {of:,} {what}", refresh=True)
        try:
            while True:
                stage = f"reading the file after row {seen}" if seen else "reading the file"
                try:
                    chunk = next(stream)
                except StopIteration:
                    return
                except Exception as err:
                    raise _StageError(stage) from err
                numbers = [int(n) for n in chunk.frame.index] + [b.row_number for b in chunk.bad_rows]
                if not numbers:
                    continue
                seen += len(numbers)
                if seen > max_rows:
                    raise _StageError("reading the file") from RowLimitExceeded(
                        f"the file has more than {max_rows:,} data rows, the limit per batch "
                        "(SYNPUNKT_MAX_ROWS_PER_BATCH)")
                _ingest_chunk(con, receipt, chunk, numbers, state, compute, key, rows_done, today)
                rows_done = max(rows_done, max(numbers))
                bar.set_postfix_str("", refresh=False)
                bar.update(len(numbers))
                del chunk
                release_memory()  # the chunk's frames and encoder buffers: memory stays at one chunk's
        except KeyboardInterrupt:
            log.warning("batch %s interrupted: %s; the next run resumes it", receipt.batch_id,
                        f"rows 1-{rows_done} are stored" if rows_done else "no rows were stored yet")
            raise
        finally:
            stream.close()
            if isinstance(compute, InProcess):
                compute.progress = None


def _ingest_chunk(con, receipt: Receipt, chunk, numbers: list[int], state: DedupeState, compute: ChunkCompute,
                  key: bytes, rows_done: int, today: date | None) -> None:
    """One chunk: rows up to `rows_done` were committed before an interruption and only feed the duplicate
    state; the others are validated, checked for duplicates, computed (redaction, signals: `compute`) and
    committed with the progress. A ChunkFailed from the compute passes through with its own stage."""
    code, span = receipt.municipality_code, f"rows {min(numbers)}-{max(numbers)}"
    stage = f"validating {span}"
    try:
        validated = validate_rows(chunk.frame, code, today)
        if validated.columns.other_comment_columns and min(numbers) == 1:  # once per batch, names only
            log.warning("batch %s: comments read from column '%s'; %s also named like a comment column, kept as "
                        "metadata", receipt.batch_id, shown_column(validated.columns.text),
                        ", ".join(f"'{shown_column(c)}'" for c in validated.columns.other_comment_columns))
        stage = f"checking duplicates in {span}"
        accepted = validated.accepted
        done = accepted["row_number"] <= rows_done
        if done.any():
            state.assign(accepted[done], code, key)
        if max(numbers) <= rows_done:
            return
        fresh = accepted[~done].reset_index(drop=True)
        rejected = validated.rejected[validated.rejected["row_number"] > rows_done].reset_index(drop=True)
        bad = [b for b in chunk.bad_rows if b.row_number > rows_done]
        assigned = state.assign(fresh, code, key)
        dups = duplicates(assigned, existing_comments(con, assigned["comment_id"].tolist()))
        n_fresh = sum(1 for n in numbers if n > rows_done)
        work = ChunkWork(receipt.batch_id, code, min(n for n in numbers if n > rows_done), max(numbers), fresh,
                         assigned["comment_id"].tolist(), dups, rejected, bad, now())
        stage = f"redacting and detecting signals in {span}"
        out = compute.run(work)
        assert n_fresh == len(out.comments) + len(out.quarantine), f"{span}: row accounting broken"
        stage = f"storing {span}"
        write_chunk(con, receipt.batch_id, out.comments, out.quarantine, n_fresh, max(numbers), out.signals,
                    out.alerts, out.predictions)
    except ChunkFailed:
        raise
    except Exception as err:
        raise _StageError(stage) from err
    log.debug("batch %s: %s committed", receipt.batch_id, span)


def _finish(receipt: Receipt, result: BatchResult) -> BatchResult:
    """Tell the submitter (the API's status endpoint reads this file next to the receipt). The warehouse holds
    the truth: a status file that cannot be written now is written by resync_statuses at the end of the run."""
    try:
        write_status(batch_dir(receipt.municipality_code, receipt.batch_id), status=result.status,
                     rows_received=result.rows_received, rows_accepted=result.rows_accepted,
                     rows_quarantined=result.rows_quarantined, error=result.error)
    except OSError as err:
        log.warning("batch %s: status file not written (%s); retried at the end of the run", receipt.batch_id,
                    type(err).__name__)
    return result


def pending_batches(con, retry_failed: bool = False) -> list[Receipt]:
    """Landed batches to ingest (oldest first): new ones, interrupted ones (to resume) and, with `retry_failed`,
    failed ones whose raw copy still exists."""
    states = batch_states(con)
    todo = []
    for receipt in landed_batches():
        state = states.get(receipt.batch_id)
        if state is None or state == "ingesting":
            todo.append(receipt)
        elif retry_failed and state == "failed":
            if receipt.raw_path().exists():
                todo.append(receipt)
            else:
                log.warning("batch %s cannot be retried: its raw copy was purged", receipt.batch_id)
    return todo


def resync_statuses(con) -> int:
    """Write missing status files for recorded batches (a crash between commit and status write)."""
    fixed = 0
    for row in con.execute("SELECT batch_id, municipality_code, status, rows_received, rows_accepted, "
                           "rows_quarantined, error FROM batches WHERE status IN ('ingested', 'failed')").fetchall():
        folder = batch_dir(row[1], row[0])
        if folder.exists() and read_status(folder) is None:
            write_status(folder, status=row[2], rows_received=row[3], rows_accepted=row[4],
                         rows_quarantined=row[5], error=row[6])
            fixed += 1
    return fixed


def purge_expired_raw(con, retention_days: int, now_utc: datetime | None = None) -> int:
    """Delete raw copies of processed batches older than the retention; returns how many were purged."""
    purged = 0
    receipts = {r.batch_id: r for r in landed_batches()}
    rows = con.execute("SELECT batch_id, processed_at, original_name FROM batches WHERE raw_purged_at IS NULL "
                       "AND status IN ('ingested', 'failed')").fetchall()
    for batch_id, processed_at, redacted_name in rows:
        receipt = receipts.get(batch_id)
        if receipt and purge_raw(receipt, processed_at.replace(tzinfo=timezone.utc), retention_days, now_utc):
            # the receipt outlives the raw copy (it keeps the checksum): only the redacted file name stays in it
            replace_original_name(batch_dir(receipt.municipality_code, batch_id), redacted_name or "[REDACTED]")
            con.execute("UPDATE batches SET raw_purged_at = ? WHERE batch_id = ?", [now(), batch_id])
            purged += 1
    return purged

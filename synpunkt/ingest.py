"""The ingest stage: landed batch -> read -> validate -> redact -> deduplicate -> store (one transaction).

Accounting invariant, per batch: rows_received == rows_accepted + rows_quarantined. A file that cannot be
read at all is recorded as a failed batch with the reason; its raw copy stays in the landing area.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pandas as pd

from synpunkt.batch_status import write_status
from synpunkt.landing import Receipt, batch_dir, landed_batches, purge_raw
from synpunkt.tables import TableReadError, read_table
from synpunkt.validate import MissingColumn, validate_rows
from synpunkt.warehouse import (existing_comment_ids, insert_frame, known_batch_ids, now, record_batch,
                                transaction)

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    batch_id: str
    municipality_code: str
    status: str  # ingested | failed
    rows_received: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    error: str | None = None


def comment_id(municipality_code: str, external_id: str | None, contact_date: date, redacted_text: str) -> str:
    """Stable id: the municipality's own id when given, else date + redacted text (re-sent rows match)."""
    key = f"{municipality_code}|id|{external_id}" if external_id else \
        f"{municipality_code}|{contact_date.isoformat()}|{' '.join(redacted_text.split())}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def redact_values(values: list[str | None], redactor) -> list[str | None]:
    """Redact a list of strings, each distinct value once (metadata columns repeat a lot)."""
    distinct = sorted({v for v in values if v})
    redacted = dict(zip(distinct, (r.text for r in redactor.redact_many(distinct)))) if distinct else {}
    return [redacted.get(v, v) if v else v for v in values]


def _redact_cells(rows: list[dict], redactor) -> list[dict]:
    """Redact every string cell of quarantined rows (they are stored too)."""
    cells = [None if v is None else str(v) for row in rows for v in row.values()]
    flat = iter(redact_values(cells, redactor))
    return [{str(k): next(flat) for k in row} for row in rows]


def ingest_batch(con, receipt: Receipt, redactor, today: date | None = None) -> BatchResult:
    """Ingest one landed batch into the warehouse; idempotent per batch id."""
    code = receipt.municipality_code
    try:
        df = read_table(receipt.raw_path())
        validated = validate_rows(df, code, today)
    except (TableReadError, MissingColumn, FileNotFoundError) as err:
        reason = str(err).replace(str(receipt.raw_path()), f"batch {receipt.batch_id}")
        with transaction(con):
            record_batch(con, receipt, "failed", error=reason)
        log.warning("batch %s failed: %s", receipt.batch_id, reason)
        return _finish(receipt, BatchResult(receipt.batch_id, code, "failed", error=reason))

    acc = validated.accepted.copy()
    redactions = redactor.redact_many(acc["text"].tolist()) if len(acc) else []
    acc["text"] = [r.text for r in redactions]
    acc["redactions"] = [json.dumps(r.counts) for r in redactions]
    meta_keys = sorted({k for m in acc["metadata"] for k in m})
    for key in meta_keys:  # redact metadata column by column (a handler's name, a phone number...)
        values = redact_values([m.get(key) for m in acc["metadata"]], redactor)
        for m, v in zip(acc["metadata"], values):
            if key in m:
                m[key] = v
    acc["comment_id"] = [comment_id(code, e, d, t) for e, d, t in zip(acc["external_id"], acc["contact_date"], acc["text"])]

    stored = existing_comment_ids(con, acc["comment_id"].tolist())
    duplicate = acc["comment_id"].isin(stored)
    quarantine = validated.rejected.assign(row_redacted=[json.dumps(r, ensure_ascii=False, default=str)
                                                         for r in _redact_cells(list(validated.rejected["row"]), redactor)])
    quarantine = pd.concat([
        quarantine.drop(columns=["row"]),
        pd.DataFrame({"row_number": acc.loc[duplicate, "row_number"], "reason_code": "duplicate_stored",
                      "reason": "the same comment is already stored (an earlier batch)", "row_redacted": None}),
    ], ignore_index=True)
    acc = acc[~duplicate]

    comments = pd.DataFrame({
        "comment_id": acc["comment_id"], "batch_id": receipt.batch_id, "municipality_code": code,
        "row_number": acc["row_number"], "external_id": acc["external_id"],
        "contact_date": pd.to_datetime(acc["contact_date"]).dt.date,
        "year": [d.year for d in acc["contact_date"]], "channel": acc["channel"], "text": acc["text"],
        "redactions": acc["redactions"],
        "metadata": [json.dumps(m, ensure_ascii=False) for m in acc["metadata"]], "ingested_at": now(),
    })
    quarantine = quarantine.assign(batch_id=receipt.batch_id, municipality_code=code, quarantined_at=now())
    result = BatchResult(receipt.batch_id, code, "ingested", len(df), len(comments), len(quarantine))
    assert result.rows_received == result.rows_accepted + result.rows_quarantined, "row accounting broken"
    with transaction(con):
        insert_frame(con, "comments", comments)
        insert_frame(con, "quarantine", quarantine[["batch_id", "row_number", "municipality_code", "reason_code",
                                                    "reason", "row_redacted", "quarantined_at"]])
        record_batch(con, receipt, "ingested", result.rows_received, result.rows_accepted, result.rows_quarantined)
    log.info("batch %s: %d received, %d accepted, %d quarantined", receipt.batch_id, result.rows_received,
             result.rows_accepted, result.rows_quarantined)
    return _finish(receipt, result)


def _finish(receipt: Receipt, result: BatchResult) -> BatchResult:
    """Tell the submitter (the API's status endpoint reads this file next to the receipt)."""
    write_status(batch_dir(receipt.municipality_code, receipt.batch_id), status=result.status,
                 rows_received=result.rows_received, rows_accepted=result.rows_accepted,
                 rows_quarantined=result.rows_quarantined, error=result.error)
    return result


def pending_batches(con) -> list[Receipt]:
    """Landed batches the warehouse has not recorded yet (oldest first)."""
    known = known_batch_ids(con)
    return [r for r in landed_batches() if r.batch_id not in known]


def resync_statuses(con) -> int:
    """Write missing status files for recorded batches (a crash between commit and status write)."""
    from synpunkt.batch_status import read_status

    fixed = 0
    for row in con.execute("SELECT batch_id, municipality_code, status, rows_received, rows_accepted, "
                           "rows_quarantined, error FROM batches").fetchall():
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
    rows = con.execute("SELECT batch_id, processed_at FROM batches WHERE raw_purged_at IS NULL").fetchall()
    for batch_id, processed_at in rows:
        receipt = receipts.get(batch_id)
        if receipt and purge_raw(receipt, processed_at.replace(tzinfo=timezone.utc), retention_days, now_utc):
            con.execute("UPDATE batches SET raw_purged_at = ? WHERE batch_id = ?", [now(), batch_id])
            purged += 1
    return purged

"""A landed batch's processing status, written by the pipeline next to the receipt and read by the API.

``landing/<code>/<batch_id>/status.json`` holds ``status`` (``"ingested"`` or ``"failed"``), ``rows_received``,
``rows_accepted``, ``rows_quarantined``, ``error`` and ``processed_at``. No file yet means the batch has landed
and waits for the next pipeline run. The status is shown to the submitting municipality, so ``error`` must
describe the problem (a missing column, an unreadable file) and never quote comment text.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STATUS_FILE = "status.json"
STATUSES = ("ingested", "failed")
FIELDS = ("status", "rows_received", "rows_accepted", "rows_quarantined", "error", "processed_at")


def write_status(folder: Path, **fields: Any) -> dict[str, Any]:
    """Write (or replace) a batch's status file atomically, owner-readable only. Returns what was written.

    ``status`` is required; missing row counts and ``error`` are stored as null, ``processed_at`` defaults to now.
    """
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise TypeError(f"unknown status field(s) {', '.join(unknown)}; expected: {', '.join(FIELDS)}")
    if fields.get("status") not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {fields.get('status')!r}")
    record = {key: fields.get(key) for key in FIELDS}
    if isinstance(record["processed_at"], datetime):
        record["processed_at"] = record["processed_at"].isoformat(timespec="seconds")
    record["processed_at"] = record["processed_at"] or datetime.now(timezone.utc).isoformat(timespec="seconds")
    folder = Path(folder)
    fd, tmp = tempfile.mkstemp(prefix=".status-", suffix=".json", dir=folder)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2, ensure_ascii=False)
        os.replace(tmp, folder / STATUS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return record


def read_status(folder: Path) -> dict[str, Any] | None:
    """A batch's status as written by ``write_status``, or None while the pipeline has not processed it."""
    path = Path(folder) / STATUS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    record = json.loads(text)
    if not isinstance(record, dict) or record.get("status") not in STATUSES:
        raise ValueError(f"{path}: not a valid batch status file")
    return {key: record.get(key) for key in FIELDS}

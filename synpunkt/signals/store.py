"""Rows of comment_signals and alerts for a chunk, and the reads and writes on alerts (listing, acknowledging,
marking notified). Alert ids are derived from comment and category, so a re-run never raises a second alert."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pandas as pd

ALERT_COLUMNS = ["alert_id", "comment_id", "municipality_code", "batch_id", "row_number", "external_id", "category",
                 "probability", "signals_version", "created_at"]
ALERT_FIELDS = ["alert_id", "municipality_code", "municipality", "batch_id", "row_number", "external_id", "category",
                "probability", "text", "received_at", "created_at", "notified_at", "acknowledged_at",
                "acknowledged_by"]
"""What an alert shows (urgent_comments): the redacted text, never the raw one."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def alert_id(comment_id: str, category: str) -> str:
    return "al-" + hashlib.sha256(f"{comment_id}\x00{category}".encode()).hexdigest()[:16]


def signal_rows(comments: pd.DataFrame, detected: pd.DataFrame, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(comment_signals rows, alerts rows) for stored comments and their detect() output, row for row (pure)."""
    stamp = _now()
    signals = pd.DataFrame({
        "comment_id": comments["comment_id"].tolist(), "signals_version": version,
        "urgent_category": pd.Series(detected["category"].tolist(), dtype=object),
        "urgent_probability": detected["probability"].astype(float).tolist(),
        "urgent_rule": detected["rule"].astype(bool).tolist(),
        "repeat_p": detected["repeat_p"].astype(float).tolist(),
        "repeat_contact": detected["repeat_contact"].astype(bool).tolist(), "detected_at": stamp})
    flagged = detected["category"].notna().to_numpy()
    c = comments[flagged].reset_index(drop=True)
    d = detected[flagged].reset_index(drop=True)
    alerts = pd.DataFrame({
        "alert_id": [alert_id(i, k) for i, k in zip(c["comment_id"], d["category"])],
        "comment_id": c["comment_id"].tolist(), "municipality_code": c["municipality_code"].tolist(),
        "batch_id": c["batch_id"].tolist(), "row_number": c["row_number"].astype("int64").tolist(),
        "external_id": pd.Series(c["external_id"].tolist(), dtype=object),
        "category": d["category"].tolist(), "probability": d["probability"].astype(float).tolist(),
        "signals_version": version, "created_at": stamp}, columns=ALERT_COLUMNS)
    return signals, alerts


def list_alerts(con, municipality: str | None = None, include_acknowledged: bool = False,
                only_unnotified: bool = False) -> pd.DataFrame:
    """Alerts from urgent_comments (oldest first), for one municipality or all, open ones unless asked."""
    where, params = [], []
    if municipality:
        where.append("municipality_code = ?")
        params.append(municipality)
    if not include_acknowledged:
        where.append("acknowledged_at IS NULL")
    if only_unnotified:
        where.append("notified_at IS NULL")
    sql = f"SELECT {', '.join(ALERT_FIELDS)} FROM urgent_comments"
    sql += (" WHERE " + " AND ".join(where)) if where else ""
    return con.execute(sql + " ORDER BY created_at, alert_id", params).df()


class UnknownAlert(LookupError):
    """No such alert (for this municipality)."""


def acknowledge(con, alert: str, by: str, municipality: str | None = None) -> dict:
    """Acknowledge an alert (idempotent: the first acknowledgement is kept). Restricted to `municipality` when
    given; raises UnknownAlert otherwise. Returns the alert's acknowledged_at and acknowledged_by, and whether it had
    been acknowledged before this call."""
    params = [alert] + ([municipality] if municipality else [])
    row = con.execute("SELECT acknowledged_at, acknowledged_by FROM alerts WHERE alert_id = ?"
                      + (" AND municipality_code = ?" if municipality else ""), params).fetchall()
    if not row:
        raise UnknownAlert(alert)
    already = row[0][0] is not None
    if not already:
        con.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE alert_id = ?",
                    [_now(), by, alert])
        row = con.execute("SELECT acknowledged_at, acknowledged_by FROM alerts WHERE alert_id = ?",
                          [alert]).fetchall()
    at = row[0][0] if row[0][0].tzinfo else row[0][0].replace(tzinfo=timezone.utc)  # stored as UTC, say so
    return {"alert_id": alert, "acknowledged_at": at.isoformat(), "acknowledged_by": row[0][1],
            "already_acknowledged": already}


def mark_notified(con, alert_ids: list[str]) -> None:
    if alert_ids:
        con.execute(f"UPDATE alerts SET notified_at = ? WHERE alert_id IN ({', '.join('?' * len(alert_ids))})",
                    [_now(), *alert_ids])


def alert_counts(con, year: int, municipality: str | None = None) -> dict[str, int]:
    """Alerts per category raised for comments of `year` (the report shows these counts, never texts)."""
    sql = ("SELECT a.category, count(*) FROM alerts a JOIN comments c USING (comment_id) WHERE c.year = ?"
           + (" AND a.municipality_code = ?" if municipality else "") + " GROUP BY ALL")
    rows = con.execute(sql, [year] + ([municipality] if municipality else [])).fetchall()
    return {k: int(v) for k, v in rows}

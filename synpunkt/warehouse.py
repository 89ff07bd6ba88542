"""The DuckDB warehouse: schema, and the reads and writes the pipeline's stages need.

DuckDB allows one writing process per database file. The pipeline is that process (guarded by a file lock,
see ``pipeline_lock``); analysts query the published copy (see synpunkt.publish), never the live file.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from synpunkt.config import PRIVATE_FILE_MODE, home, private_dir, private_file, warehouse_path
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt.marts import create_marts
from synpunkt.municipalities import load_municipalities

log = logging.getLogger(__name__)

SQL = resources.files("synpunkt") / "sql"


def sql_text(name: str) -> str:
    return (SQL / name).read_text(encoding="utf-8")


def connect(path: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating it and its schema when writable)."""
    path = Path(path or warehouse_path())
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"no warehouse at {path}; run `synpunkt run` (or `synpunkt demo`) first")
        return duckdb.connect(str(path), read_only=True)
    private_dir(path.parent)
    con = duckdb.connect(str(path))
    for file in (path, path.with_name(path.name + ".wal")):  # redacted texts and metadata: owner only, any umask
        if file.exists():
            private_file(file)
    ensure_schema(con)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create tables, macros and views if missing, and load the municipality reference table."""
    columns = ",\n    ".join(f"{prob_column(t)} DOUBLE" for t in TOPICS)
    con.execute(sql_text("schema.sql").replace("{topic_probability_columns}", columns))
    if con.execute("SELECT count(*) FROM municipalities").fetchall()[0][0] == 0:
        ref = load_municipalities()[["code", "name", "county_code", "county"]]
        con.register("ref", ref)
        con.execute("INSERT INTO municipalities SELECT code, name, county_code, county FROM ref")
        con.unregister("ref")
    create_marts(con)  # views, their COMMENT ON documentation and topic_labels (synpunkt/marts.py)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """BEGIN ... COMMIT, rolled back on any error (a crash leaves no half-written batch)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


LOCK_FILE = "pipeline.lock"
HOLDER_FILE = "pipeline.lock.holder"
"""Next to the lock, while it is held: the holder's pid, what it does and since when (lock_holder)."""


class PipelineBusy(RuntimeError):
    """Another process held the pipeline lock for the whole wait (a run, an import, a withdrawal)."""


@contextmanager
def pipeline_lock(timeout: float = 600, what: str = "a pipeline run", logger: logging.Logger | None = None):
    """Only one pipeline process writes the warehouse at a time; others say once (to `logger`, default this
    module's) that they wait, wait up to `timeout` seconds, then fail clearly. `what` the holder does is written
    next to the lock (lock_holder)."""
    from filelock import FileLock, Timeout

    lock_path = Path(home()) / LOCK_FILE
    private_dir(lock_path.parent)
    lock = FileLock(str(lock_path), mode=PRIVATE_FILE_MODE)  # 0600 like the home's other files, whatever the umask
    try:
        lock.acquire(timeout=0)
    except Timeout:
        held = busy_message(lock_holder())
        if timeout > 0:
            (logger or log).info("waiting for the run in progress to finish: %s; up to %.0f s", held, timeout)
        try:
            lock.acquire(timeout=max(timeout, 0))
        except Timeout:
            raise PipelineBusy(f"{held} holds {lock_path}; waited {timeout:.0f} s") from None
    holder = lock_path.with_name(HOLDER_FILE)
    try:
        holder.write_text(json.dumps({"pid": os.getpid(), "what": what, "since": now().isoformat(timespec="seconds")}),
                          encoding="utf-8")
        private_file(holder)
        private_file(lock_path)  # a lock file left by an older version (0644)
    except OSError:  # only a better message (or the mode of a lock file not ours) is lost
        pass
    try:
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def lock_holder() -> dict | None:
    """Who holds the pipeline lock now: {"pid", "what", "since" (UTC)} (pid None where it cannot be told), or None
    when nobody holds it. Only probes the lock (a shared, non-blocking flock that is released at once)."""
    lock_path = Path(home()) / LOCK_FILE
    try:
        import fcntl

        fd = os.open(lock_path, os.O_RDONLY)
    except (ImportError, OSError):  # no lock file: no run ever held it
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        pass
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
    try:
        found = json.loads(lock_path.with_name(HOLDER_FILE).read_text(encoding="utf-8"))
        return {"pid": int(found["pid"]), "what": str(found["what"]), "since": str(found["since"])}
    except (OSError, ValueError, KeyError, TypeError):  # taken an instant ago, or by an older version
        return {"pid": None, "what": "a pipeline run", "since": None}


def busy_message(holder: dict | None) -> str:
    """'a pipeline run (pid 123, since 2026-11-30T18:05:35 UTC)' for lock_holder()'s answer (pure)."""
    holder = holder or {"pid": None, "what": "another Synpunkt pipeline run", "since": None}
    details = [f"pid {holder['pid']}"] if holder.get("pid") else []
    details += [f"since {holder['since']} UTC"] if holder.get("since") else []
    return holder["what"] + (f" ({', '.join(details)})" if details else "")


def _one(con, sql: str, params=None) -> tuple | None:
    """The first row of a query, or None; the result is read to its end (DuckDB 2 refuses further work on a
    connection with an unfinished result, which ``fetchone`` leaves behind)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- batches, comments and quarantine -------------------------------------------------------------------------
BATCH_STATUSES = ("ingesting", "ingested", "failed")
"""ingesting: chunks are being committed (an interrupted batch resumes after rows_done); then ingested or failed."""


def known_batch_ids(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()}


def batch_states(con) -> dict[str, str]:
    """batch_id -> status for every recorded batch."""
    return dict(con.execute("SELECT batch_id, status FROM batches").fetchall())


def existing_comments(con, ids: list[str]) -> pd.DataFrame:
    """comment_id, batch_id, row_number of the stored comments among `ids`."""
    con.register("candidate_ids", pd.DataFrame({"comment_id": pd.Series(ids, dtype=object)}))
    try:
        return con.execute("SELECT comment_id, batch_id, row_number FROM comments "
                           "JOIN candidate_ids USING (comment_id)").df()
    finally:
        con.unregister("candidate_ids")


def insert_frame(con, table: str, df: pd.DataFrame) -> None:
    """Insert a DataFrame whose columns are named like the table's (one bulk insert, no row loop)."""
    if df.empty:
        return
    con.register("incoming", df)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(df.columns)}) SELECT {', '.join(df.columns)} FROM incoming")
    finally:
        con.unregister("incoming")


def begin_batch(con, receipt, original_name: str | None) -> int:
    """Record a batch as being ingested and return the last data row already committed (0 for a fresh start).

    An interrupted batch (still ``ingesting``) resumes; a ``failed`` (or re-ingested) one starts over clean.
    """
    row = _one(con, "SELECT status, coalesce(rows_done, 0) FROM batches WHERE batch_id = ?", [receipt.batch_id])
    if row is not None and row[0] == "ingesting":
        return int(row[1])
    with transaction(con):
        if row is None:
            _insert_batch(con, receipt, original_name)
        else:
            discard_batch_rows(con, receipt.batch_id)
            con.execute("UPDATE batches SET status = 'ingesting', original_name = ?, rows_received = 0, "
                        "rows_accepted = 0, rows_quarantined = 0, rows_done = 0, error = NULL, processed_at = ? "
                        "WHERE batch_id = ?", [original_name, now(), receipt.batch_id])
    return 0


def _insert_batch(con, receipt, original_name: str | None) -> None:
    con.execute(
        "INSERT INTO batches (batch_id, municipality_code, origin, original_name, file_format, checksum_sha256, "
        "size_bytes, received_at, status, processed_at, rows_done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ingesting', ?, 0)",
        [receipt.batch_id, receipt.municipality_code, receipt.origin, original_name, receipt.suffix.lstrip("."),
         receipt.checksum_sha256, receipt.size_bytes, datetime.fromisoformat(receipt.received_at).replace(tzinfo=None),
         now()])


def write_chunk(con, batch_id: str, comments: pd.DataFrame, quarantine: pd.DataFrame, rows_received: int,
                rows_done: int, signals: pd.DataFrame | None = None, alerts: pd.DataFrame | None = None,
                predictions: pd.DataFrame | None = None) -> None:
    """Commit one chunk of a batch: its comments, their signals and alerts (synpunkt.signals.store), the
    predictions ingest's encoder pass gave (comment_id + Classifier.predict's columns: synpunkt.ingest_classify),
    its quarantined rows and the batch's progress, atomically. An alert that exists already is kept as it is."""
    with transaction(con):
        insert_frame(con, "comments", comments)
        if predictions is not None and not predictions.empty:
            insert_frame(con, "predictions", prediction_rows(predictions["comment_id"].tolist(),
                                                             predictions.drop(columns="comment_id")))
        if signals is not None:
            insert_frame(con, "comment_signals", signals)
        if alerts is not None and not alerts.empty:
            con.register("incoming_alerts", alerts)
            try:
                con.execute(f"INSERT INTO alerts ({', '.join(alerts.columns)}) SELECT {', '.join(alerts.columns)} "
                            "FROM incoming_alerts ON CONFLICT DO NOTHING")
            finally:
                con.unregister("incoming_alerts")
        insert_frame(con, "quarantine", quarantine)
        con.execute("UPDATE batches SET rows_received = rows_received + ?, rows_accepted = rows_accepted + ?, "
                    "rows_quarantined = rows_quarantined + ?, rows_done = ? WHERE batch_id = ?",
                    [rows_received, len(comments), len(quarantine), rows_done, batch_id])


def stored_counts(con, batch_id: str) -> tuple[int, int, int]:
    """(rows_received, rows_accepted, rows_quarantined) as recorded, and as counted in the tables (checked)."""
    received, accepted, quarantined = _one(
        con, "SELECT rows_received, rows_accepted, rows_quarantined FROM batches WHERE batch_id = ?", [batch_id])
    counted = _one(con, "SELECT (SELECT count(*) FROM comments WHERE batch_id = $b), "
                        "(SELECT count(*) FROM quarantine WHERE batch_id = $b)", {"b": batch_id})
    if (accepted, quarantined) != counted:
        raise AssertionError(f"batch {batch_id}: recorded {accepted} accepted + {quarantined} quarantined, "
                             f"stored {counted[0]} + {counted[1]}")
    return received, accepted, quarantined


def finish_batch(con, batch_id: str) -> None:
    con.execute("UPDATE batches SET status = 'ingested', processed_at = ? WHERE batch_id = ?", [now(), batch_id])


def fail_batch(con, receipt, original_name: str | None, error: str) -> None:
    """Mark a batch failed with its reason, removing whatever it had written (its other rows are never half-kept)."""
    with transaction(con):
        discard_batch_rows(con, receipt.batch_id)
        if _one(con, "SELECT 1 FROM batches WHERE batch_id = ?", [receipt.batch_id]) is None:
            _insert_batch(con, receipt, original_name)
        con.execute("UPDATE batches SET status = 'failed', rows_received = 0, rows_accepted = 0, "
                    "rows_quarantined = 0, rows_done = 0, error = ?, processed_at = ? WHERE batch_id = ?",
                    [error, now(), receipt.batch_id])


def discard_batch_rows(con, batch_id: str) -> None:
    """Delete a batch's comments (with any predictions and signals) and quarantined rows. Its alerts stay: an
    alert is kept until acknowledged (a retry finds it and raises no second one)."""
    for table in ("predictions", "comment_signals"):
        con.execute(f"DELETE FROM {table} WHERE comment_id IN (SELECT comment_id FROM comments WHERE batch_id = ?)",
                    [batch_id])
    con.execute("DELETE FROM comments WHERE batch_id = ?", [batch_id])
    con.execute("DELETE FROM quarantine WHERE batch_id = ?", [batch_id])


# -- predictions ------------------------------------------------------------------------------------------------
def set_current_model(con, model_version: str) -> None:
    con.execute("UPDATE model_versions SET is_current = (model_version = ?)", [model_version])
    con.execute("INSERT INTO model_versions SELECT ?, ?, true WHERE NOT EXISTS "
                "(SELECT 1 FROM model_versions WHERE model_version = ?)", [model_version, now(), model_version])


def unclassified(con, model_version: str, limit: int, after: tuple | None = None) -> pd.DataFrame:
    """Comments with no prediction from model_version (oldest first): comment_id, text, ingested_at. With `after`
    (the ingested_at and comment_id of the last row read) only the ones past it: pages that never repeat a row."""
    page = "AND (ingested_at, comment_id) > (?, ?) " if after else ""
    return con.execute(
        "SELECT comment_id, text, ingested_at FROM comments c WHERE NOT EXISTS (SELECT 1 FROM predictions p "
        f"WHERE p.comment_id = c.comment_id AND p.model_version = ?) {page}ORDER BY ingested_at, comment_id LIMIT ?",
        [model_version, *(after or ()), limit]).df()


def count_unclassified(con, model_version: str) -> int:
    return con.execute("SELECT count(*) FROM comments c WHERE NOT EXISTS (SELECT 1 FROM predictions p "
                       "WHERE p.comment_id = c.comment_id AND p.model_version = ?)", [model_version]).fetchall()[0][0]


def insert_predictions(con, comment_ids: list[str], predictions: pd.DataFrame) -> None:
    """Store Classifier.predict output (with topic_sentiment, and topic_sentiment_p when given: the per-topic
    probabilities aligned with topics) for the given comments, in one transaction."""
    df = prediction_rows(comment_ids, predictions)
    with transaction(con):
        insert_frame(con, "predictions", df)


def prediction_rows(comment_ids: list[str], predictions: pd.DataFrame) -> pd.DataFrame:
    """`predictions` (Classifier.predict's, with topic_sentiment) as rows of the predictions table: comment_id
    first, topic_sentiment as JSON, topic_sentiment_p checked (topic_probabilities), classified_at now."""
    df = predictions.copy()
    df.insert(0, "comment_id", comment_ids)
    df["topic_sentiment"] = df["topic_sentiment"].map(lambda d: json.dumps(d, ensure_ascii=False))
    if "topic_sentiment_p" in df:
        df["topic_sentiment_p"] = [topic_probabilities(p, t, i) for i, (p, t) in
                                   enumerate(zip(df["topic_sentiment_p"], df["topics"]))]
    df["classified_at"] = now()
    return df


def topic_probabilities(p, topics, row: int) -> list[list[float]] | None:
    """One prediction's per-topic sentiment probabilities as stored (a list of [p_positive, p_skeptical,
    p_negative] per topic, in topics order; None or NaN stays NULL). A length that does not match topics is
    refused (by row number): the rows are aligned by position."""
    if not isinstance(p, (list, tuple)) and not hasattr(p, "__array__"):
        return None
    out = [[float(v) for v in vec] for vec in p]
    if len(out) != len(topics) or any(len(vec) != len(SENTIMENTS) for vec in out):
        raise ValueError(f"prediction row {row}: topic_sentiment_p needs one vector of {len(SENTIMENTS)} "
                         f"probabilities per topic ({len(topics)} topics, {len(out)} vectors)")
    return out


def refresh_trends(con, model_version: str, quant=None, model_dir: Path | str | None = None) -> int:
    """Recompute yearly_trends for model_version with corrected shares (synpunkt.trends; the correction given, else
    the one in `model_dir`, else in config's model folder); returns the row count."""
    from synpunkt.trends import refresh

    return refresh(con, model_version, quant, model_dir=model_dir)


# -- pull-source state -------------------------------------------------------------------------------------------
def source_states(con) -> dict[str, dict]:
    rows = con.execute("SELECT url, etag, last_modified, last_checksum FROM source_state").fetchall()
    return {url: {"etag": e, "last_modified": lm, "checksum_sha256": c} for url, e, lm, c in rows}


def save_source_state(con, url: str, municipality_code: str, etag: str | None, last_modified: str | None,
                      checksum: str | None, result: str) -> None:
    con.execute("INSERT OR REPLACE INTO source_state VALUES (?, ?, ?, ?, ?, ?, ?)",
                [url, municipality_code, etag, last_modified, checksum, now(), result])

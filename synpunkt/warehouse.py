"""The DuckDB warehouse: schema, and the reads and writes the pipeline's stages need.

DuckDB allows one writing process per database file. The pipeline is that process (guarded by a file lock,
see ``pipeline_lock``); analysts query the published copy (see synpunkt.publish), never the live file.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from synpunkt.config import home, warehouse_path
from synpunkt.labels import TOPICS, prob_column
from synpunkt.municipalities import load_municipalities

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
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
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
    con.execute(sql_text("marts.sql"))


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


@contextmanager
def pipeline_lock(timeout: float = 600):
    """Only one pipeline process writes the warehouse at a time; others wait, then fail clearly."""
    from filelock import FileLock, Timeout

    lock_path = Path(home()) / "pipeline.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise RuntimeError(f"another Synpunkt pipeline run holds {lock_path}; waited {timeout:.0f} s") from None
    try:
        yield
    finally:
        lock.release()


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- batches, comments and quarantine -------------------------------------------------------------------------
def known_batch_ids(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()}


def existing_comment_ids(con, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    con.register("candidate_ids", pd.DataFrame({"comment_id": ids}))
    found = {r[0] for r in con.execute(
        "SELECT comment_id FROM comments JOIN candidate_ids USING (comment_id)").fetchall()}
    con.unregister("candidate_ids")
    return found


def insert_frame(con, table: str, df: pd.DataFrame) -> None:
    """Insert a DataFrame whose columns are named like the table's."""
    if df.empty:
        return
    con.register("incoming", df)
    con.execute(f"INSERT INTO {table} ({', '.join(df.columns)}) SELECT {', '.join(df.columns)} FROM incoming")
    con.unregister("incoming")


def record_batch(con, receipt, status: str, rows_received: int = 0, rows_accepted: int = 0,
                 rows_quarantined: int = 0, error: str | None = None) -> None:
    con.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [receipt.batch_id, receipt.municipality_code, receipt.origin, receipt.original_name, receipt.suffix.lstrip("."),
         receipt.checksum_sha256, receipt.size_bytes, datetime.fromisoformat(receipt.received_at).replace(tzinfo=None),
         status, rows_received, rows_accepted, rows_quarantined, error, now()])


# -- predictions ------------------------------------------------------------------------------------------------
def set_current_model(con, model_version: str) -> None:
    con.execute("UPDATE model_versions SET is_current = (model_version = ?)", [model_version])
    con.execute("INSERT INTO model_versions SELECT ?, ?, true WHERE NOT EXISTS "
                "(SELECT 1 FROM model_versions WHERE model_version = ?)", [model_version, now(), model_version])


def unclassified(con, model_version: str, limit: int) -> pd.DataFrame:
    """Comments with no prediction from model_version (oldest first)."""
    return con.execute(
        "SELECT comment_id, text FROM comments c WHERE NOT EXISTS (SELECT 1 FROM predictions p "
        "WHERE p.comment_id = c.comment_id AND p.model_version = ?) ORDER BY ingested_at, comment_id LIMIT ?",
        [model_version, limit]).df()


def count_unclassified(con, model_version: str) -> int:
    return con.execute("SELECT count(*) FROM comments c WHERE NOT EXISTS (SELECT 1 FROM predictions p "
                       "WHERE p.comment_id = c.comment_id AND p.model_version = ?)", [model_version]).fetchall()[0][0]


def insert_predictions(con, comment_ids: list[str], predictions: pd.DataFrame) -> None:
    """Store Classifier.predict output (with topic_sentiment) for the given comments, in one transaction."""
    df = predictions.copy()
    df.insert(0, "comment_id", comment_ids)
    df["topic_sentiment"] = df["topic_sentiment"].map(lambda d: json.dumps(d, ensure_ascii=False))
    df["classified_at"] = now()
    with transaction(con):
        insert_frame(con, "predictions", df)


def refresh_trends(con, model_version: str) -> int:
    """Recompute yearly_trends for model_version; returns the number of rows."""
    with transaction(con):
        for statement in _statements(sql_text("trends.sql")):
            con.execute(statement, {"model_version": model_version})
    return con.execute("SELECT count(*) FROM yearly_trends WHERE model_version = ?", [model_version]).fetchall()[0][0]


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# -- pull-source state -------------------------------------------------------------------------------------------
def source_states(con) -> dict[str, dict]:
    rows = con.execute("SELECT url, etag, last_modified, last_checksum FROM source_state").fetchall()
    return {url: {"etag": e, "last_modified": lm, "checksum": c} for url, e, lm, c in rows}


def save_source_state(con, url: str, municipality_code: str, etag: str | None, last_modified: str | None,
                      checksum: str | None, result: str) -> None:
    con.execute("INSERT OR REPLACE INTO source_state VALUES (?, ?, ?, ?, ?, ?, ?)",
                [url, municipality_code, etag, last_modified, checksum, now(), result])

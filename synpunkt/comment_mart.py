"""Building and updating the comment-level mart (``comment_mart``, ``comment_mart_repeat``, ``comment_mart_state``;
tables in sql/marts.sql, rows from sql/comment_mart.sql).

A refresh after new writes updates the mart in place instead of rebuilding it: the rows of the comments whose
inputs changed since the last update are deleted and computed again, and comment_mart_repeat's counts are adjusted
by the removed and the new rows' counts. A mart row depends only on its comment's row in ``comments``, its
prediction of the mart's model in ``predictions``, its row in ``comment_signals`` and its answer in
``latest_corrections``, so the changed comments are:

* for each of the three large tables, the rows written after the table's watermark (its latest write time at the
  last update: every writer stamps its rows with the time of writing), and, only when the rows written up to the
  watermark are no longer exactly those of the last update (their count or the sum of a hash of comment id and
  write time, stored with the watermark, differ: rows deleted, or stamped late), every comment whose presence in
  that table differs from what the mart recorded; the comparison is narrowed to the batches whose comments differ
  (comments) or skipped when the comments found so far explain the difference (a removed batch's predictions and
  signals), and is otherwise a full outer join of ids;
* every comment whose answer in latest_corrections (present, sentiment, areas) differs from the mart's corrected
  rows (an exact comparison; the corrections table is small).

What this does not see: a row deleted and written again with the same comment id, a write time at or before the
watermark and other content (the pipeline writes a re-ingested row with a new time). The new rows are appended
sorted by year and municipality after the sorted part, whose row groups queries still skip; the mart is rebuilt in
full when it is missing, was built for another model or by an older version, or when the changed rows would bring
the rows appended since the last full build above MAX_UNSORTED_SHARE of the mart.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from synpunkt.marts import TABLE_DOCS, comment_statements
from synpunkt.warehouse import now, sql_text, transaction

log = logging.getLogger(__name__)

MART_ORDER = ("year", "municipality_code")
"""comment_mart's sort order: DuckDB skips the row groups (122,880 rows) whose year or municipality is filtered out."""
MAX_UNSORTED_SHARE = 0.2
"""A refresh rebuilds the mart in full (sorted) when the rows appended by updates since the last full build, this
update's included, would exceed this share of the mart's rows."""
STATE_FORMAT = 2
"""Version of comment_mart_state.watermarks; a mart whose state has another (or none) is rebuilt in full. 2: a
corrected comment's topic_sentiment keeps the model's own per-area sentiments (corrected_topic_sentiment in
sql/marts.sql), so marts built before are rebuilt once."""


def repeat_counts_sql(mart: str) -> str:
    """repeat_contact_shares' counts (comment_mart_repeat's columns) of `mart`, a table or subquery with
    comment_mart's columns, counting the model's areas as the view's live branch does."""
    return f"""
SELECT municipality_code, year, topic, count(*) AS n, count(*) FILTER (WHERE repeat_contact) AS n_repeat_contact
FROM (SELECT municipality_code, year, 'all' AS topic, repeat_contact FROM {mart} m WHERE repeat_contact IS NOT NULL
      UNION ALL
      SELECT municipality_code, year, unnest(CASE WHEN corrected THEN model_topics ELSE topics END), repeat_contact
      FROM {mart} m WHERE repeat_contact IS NOT NULL)
GROUP BY ALL"""


CHANGED = "comment_id IN (SELECT comment_id FROM mart_changed)"
"""The comments whose rows an update computes again (the temporary table mart_changed)."""


def mart_rows_sql(only: str = "true") -> str:
    """sql/comment_mart.sql with its input tables restricted to the comments for which `only` holds."""
    return sql_text("comment_mart.sql").replace("{only}", only)


@dataclass(frozen=True)
class Source:
    """A large input table of the mart, tracked by the time its rows were written."""
    table: str
    stamp: str
    """Column holding when the row was written (every writer sets it to the time of writing)."""
    where: str
    """The rows the mart reads ($model_version: the mart's model)."""
    in_mart: str
    """Predicate on comment_mart rows: the comment had a row in this table at the mart's last update."""
    group: str | None = None
    """A column of both the table and comment_mart that narrows a presence comparison to the groups whose rows
    differ (the pipeline deletes a batch's rows together)."""


SOURCES = (Source("comments", "ingested_at", "true", "true", "batch_id"),
           Source("predictions", "classified_at", "model_version = $model_version", "model_version IS NOT NULL"),
           Source("comment_signals", "detected_at", "true", "repeat_contact IS NOT NULL"))
"""In this order: the comments a batch's removal takes away are known before their predictions and signals are
compared."""


@dataclass(frozen=True)
class MartUpdate:
    """What build_comment_mart did: kind is 'unchanged', 'incremental' or 'full'; rows the mart's row count;
    changed the comments whose rows were computed again (incremental) or every row (full)."""
    kind: str
    rows: int
    changed: int


def _execute(con, sql: str, params: dict | None = None):
    """con.execute with the named parameters that sql uses (DuckDB refuses unused ones)."""
    return con.execute(sql, {k: v for k, v in (params or {}).items() if f"${k}" in sql})


def _scalar(con, sql: str, params: dict | None = None):
    return _execute(con, sql, params).fetchall()[0][0]


def _rows(con) -> int:
    return _scalar(con, "SELECT count(*) FROM comment_mart")


def _watermark(con, source: Source, params: dict) -> dict:
    """count, latest write time and hash sum of the source's rows now (what a full build records)."""
    n, stamp, total = _execute(
        con, f"SELECT count(*), max({source.stamp}), coalesce(sum(hash(comment_id, {source.stamp})), 0) "
             f"FROM {source.table} WHERE {source.where}", params).fetchall()[0]
    return {"n": n, "stamp": stamp.isoformat() if stamp else None, "hash": int(total)}


def _collect_changes(con, source: Source, mark: dict, params: dict) -> dict:
    """Insert into mart_changed the comments whose row in `source` changed since `mark` (its watermark when the
    mart was last updated); returns the source's new watermark."""
    p = {**params, "mark": datetime.fromisoformat(mark["stamp"]) if mark["stamp"] else None}
    later = f"($mark IS NULL OR {source.stamp} > $mark)"
    old_n, old_hash, new_n, new_hash, latest = _execute(
        con, f"SELECT count(*) FILTER (NOT {later}), "
             f"coalesce(sum(hash(comment_id, {source.stamp})) FILTER (NOT {later}), 0), count(*) FILTER ({later}), "
             f"coalesce(sum(hash(comment_id, {source.stamp})) FILTER ({later}), 0), max({source.stamp}) "
             f"FROM {source.table} WHERE {source.where}", p).fetchall()[0]
    if new_n:
        _execute(con, f"INSERT INTO mart_changed SELECT comment_id FROM {source.table} WHERE {source.where} "
                      f"AND {later}", p)
    if (old_n, int(old_hash)) != (mark["n"], mark["hash"]):  # rows deleted (or stamped late): compare presence
        _compare_presence(con, source, f"{source.where} AND NOT {later}", p)
    return {"n": old_n + new_n, "stamp": latest.isoformat() if latest else None, "hash": int(old_hash) + int(new_hash)}


def _compare_presence(con, source: Source, old: str, params: dict) -> None:
    """Insert into mart_changed the comments that have a row among the source's rows for which `old` holds (those
    written up to its watermark) but none in the mart, or the reverse. Without a group column, nothing more when
    both sides hold the same comments outside mart_changed (count and hash sum agree: the rows that went were
    those of comments already found, e.g. a removed batch's predictions); with one, only the groups whose comments
    differ are compared row by row."""
    mart = f"(SELECT * FROM comment_mart WHERE {source.in_mart})"
    table = f"(SELECT * FROM {source.table} WHERE {old})"
    restrict = "true"
    if source.group is None:
        sides = [_scalar(con, f"SELECT (count(*), coalesce(sum(hash(comment_id)), 0)) FROM {side} x "
                              "ANTI JOIN mart_changed c ON c.comment_id = x.comment_id", params)
                 for side in (mart, table)]
        if sides[0] == sides[1]:
            return
    else:
        g = source.group
        _execute(con, f"CREATE OR REPLACE TEMP TABLE mart_groups AS SELECT coalesce(m.{g}, t.{g}) AS {g} "
                      f"FROM (SELECT {g}, count(*) AS n, sum(hash(comment_id)) AS h FROM {mart} GROUP BY ALL) m "
                      f"FULL JOIN (SELECT {g}, count(*) AS n, sum(hash(comment_id)) AS h FROM {table} GROUP BY ALL) "
                      f"t ON t.{g} = m.{g} WHERE m.n IS DISTINCT FROM t.n OR m.h IS DISTINCT FROM t.h", params)
        restrict = f"{g} IN (SELECT {g} FROM mart_groups)"  # the temporary table goes with mart_changed
    log.info("comment mart: %s rows removed or written out of order since the last update; comparing presence",
             source.table)
    _execute(con, f"""
        INSERT INTO mart_changed
        SELECT coalesce(m.comment_id, t.comment_id)
        FROM (SELECT comment_id FROM {mart} WHERE {restrict}) m
        FULL JOIN (SELECT comment_id FROM {table} WHERE {restrict}) t ON t.comment_id = m.comment_id
        WHERE m.comment_id IS NULL OR t.comment_id IS NULL""", params)


CORRECTIONS_CHANGED_SQL = """
INSERT INTO mart_changed
SELECT coalesce(m.comment_id, r.comment_id)
FROM (SELECT comment_id, sentiment, topics FROM comment_mart WHERE corrected) m
FULL JOIN latest_corrections r ON r.comment_id = m.comment_id
WHERE m.comment_id IS NULL OR r.comment_id IS NULL OR m.sentiment <> r.sentiment OR m.topics <> r.topics"""
"""The comments whose answer in effect (latest_corrections) differs from the mart's corrected rows."""


def _state(con, model_version: str) -> dict | None:
    """The mart's watermarks when it was built for model_version by this format, else None."""
    row = con.execute("SELECT model_version, watermarks FROM comment_mart_state").fetchall()
    if len(row) != 1 or row[0][0] != model_version or row[0][1] is None:
        return None
    state = json.loads(row[0][1])
    return state if state.get("format") == STATE_FORMAT else None


def _write_state(con, params: dict, marks: dict, unsorted: int) -> None:
    con.execute("DELETE FROM comment_mart_state")
    con.execute("INSERT INTO comment_mart_state (model_version, inputs, built_at, watermarks) "
                "SELECT $model_version, comment_mart_inputs($model_version), $built_at, $watermarks",
                {**params, "built_at": now(),
                 "watermarks": json.dumps({"format": STATE_FORMAT, "unsorted": unsorted, "sources": marks})})


def _rebuild(con, params: dict) -> int:
    """Build comment_mart, comment_mart_repeat and comment_mart_state anew (inside the caller's transaction)."""
    con.execute(f"CREATE OR REPLACE TABLE comment_mart AS {mart_rows_sql()} "
                f"ORDER BY {', '.join(MART_ORDER)}", params)
    con.execute("DELETE FROM comment_mart_repeat")
    con.execute("INSERT INTO comment_mart_repeat " + repeat_counts_sql("comment_mart"))
    _write_state(con, params, {s.table: _watermark(con, s, params) for s in SOURCES}, 0)
    return _rows(con)


def _update(con, params: dict, state: dict) -> MartUpdate | None:
    """Update the mart in place for the changed comments (inside the caller's transaction); None when the change
    is too large for an update (the caller rebuilds)."""
    con.execute("CREATE OR REPLACE TEMP TABLE mart_changed (comment_id VARCHAR)")
    marks = {s.table: _collect_changes(con, s, state["sources"][s.table], params) for s in SOURCES}
    con.execute(CORRECTIONS_CHANGED_SQL)
    con.execute("CREATE OR REPLACE TEMP TABLE mart_changed AS SELECT DISTINCT comment_id FROM mart_changed")
    changed, rows = _scalar(con, "SELECT count(*) FROM mart_changed"), _rows(con)
    if state["unsorted"] + changed > MAX_UNSORTED_SHARE * rows:
        con.execute("DROP TABLE mart_changed")
        return None
    if changed:
        con.execute("CREATE OR REPLACE TEMP TABLE mart_old AS SELECT rowid AS row_id, municipality_code, year, "
                    f"corrected, topics, model_topics, repeat_contact FROM comment_mart WHERE {CHANGED}")
        con.execute("DELETE FROM comment_mart WHERE rowid IN (SELECT row_id FROM mart_old)")
        con.execute(f"CREATE OR REPLACE TEMP TABLE mart_new AS {mart_rows_sql(CHANGED)} "
                    f"ORDER BY {', '.join(MART_ORDER)}", params)
        con.execute("INSERT INTO comment_mart SELECT * FROM mart_new")
        # the repeat-contact counts: the stored ones, less the removed rows', plus the new rows'
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE mart_repeat AS
            SELECT municipality_code, year, topic, sum(n) AS n, sum(n_repeat_contact) AS n_repeat_contact
            FROM (SELECT * FROM comment_mart_repeat
                  UNION ALL {repeat_counts_sql('mart_new')}
                  UNION ALL SELECT municipality_code, year, topic, -n, -n_repeat_contact
                            FROM ({repeat_counts_sql('mart_old')}))
            GROUP BY ALL HAVING sum(n) <> 0""")
        con.execute("DELETE FROM comment_mart_repeat")
        con.execute("INSERT INTO comment_mart_repeat SELECT * FROM mart_repeat")
        removed, added = (_scalar(con, f"SELECT count(*) FROM {t}") for t in ("mart_old", "mart_new"))
        state = {**state, "unsorted": state["unsorted"] + added}
        log.info("comment mart: %d rows removed, %d added", removed, added)
        for table in ("mart_old", "mart_new", "mart_repeat"):
            con.execute(f"DROP TABLE {table}")
    con.execute("DROP TABLE mart_changed")
    con.execute("DROP TABLE IF EXISTS mart_groups")
    _write_state(con, params, marks, state["unsorted"])
    return MartUpdate("incremental", _rows(con), changed)


def update_comment_mart(con, model_version: str, full: bool = False) -> MartUpdate:
    """Bring comment_mart (with comment_mart_repeat and comment_mart_state) up to date for model_version, in one
    transaction: nothing to do when no input table changed since it was built, an update of the changed comments'
    rows when it was built for model_version, else (or with full) a full rebuild sorted by MART_ORDER."""
    params = {"model_version": model_version}
    if not full and _scalar(con, "SELECT coalesce((SELECT inputs FROM comment_mart_state) = "
                                 "comment_mart_inputs($model_version), false)", params):
        return MartUpdate("unchanged", _rows(con), 0)  # nothing changed since built
    with transaction(con):
        state = None if full else _state(con, model_version)
        update = None if state is None else _update(con, params, state)
        if update is None:
            rows = _rebuild(con, params)
    if update is not None:
        log.info("comment mart updated: %d changed comments, %d rows", update.changed, update.rows)
        return update
    con.execute(";\n".join(comment_statements(con, {"comment_mart": TABLE_DOCS["comment_mart"]})))
    log.info("comment mart rebuilt: %d rows", rows)
    return MartUpdate("full", rows, rows)

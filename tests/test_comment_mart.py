"""The comment-level mart (synpunkt.marts.build_comment_mart, synpunkt.comment_mart): the views that read it give
exactly the rows of the live join, it goes stale on every kind of write the pipeline makes (and the views then join
the live tables), a refresh after each kind of write updates only the changed comments' rows and the mart then
holds exactly a full build's rows, it is rebuilt when an update would not do, the trends computed from it count
what comments_classified shows, and its table definition matches what is built."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest
from analyst_warehouse import VERSION

from synpunkt.labels import SENTIMENTS, TOPICS, prob_column

MART_VIEWS = {"comments_classified": "comment_id", "comment_topics": "comment_id, topic",
              "repeat_contact_shares": "municipality_code, year, topic"}
OTHER = "synpunkt-test@other"


def _rows(con, view: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {view} ORDER BY {MART_VIEWS[view]}").fetchall()


def _fresh(con) -> bool:
    return con.execute("SELECT comment_mart_fresh()").fetchall()[0][0]


def _views_from_live_tables(con) -> dict[str, list[tuple]]:
    """Every mart view's rows with the mart ignored (state removed, then put back)."""
    state = con.execute("SELECT * FROM comment_mart_state").fetchall()
    con.execute("DELETE FROM comment_mart_state")
    try:
        assert not _fresh(con)
        return {v: _rows(con, v) for v in MART_VIEWS}
    finally:
        con.executemany("INSERT INTO comment_mart_state VALUES (?, ?, ?, ?)", state)


def _prediction(cid: str, sentiment: str, topics: list[str], version: str = VERSION) -> dict:
    return {"comment_id": cid, "model_version": version, "sentiment": sentiment,
            **{prob_column(s): (0.8 if s == sentiment else 0.1) for s in SENTIMENTS}, "topics": topics,
            **{prob_column(t): (0.9 if t in topics else 0.05) for t in TOPICS},
            "topic_sentiment": json.dumps({t: "negative" for t in topics}), "classified_at": datetime(2026, 2, 1)}


def _comment(cid: str, code: str, year: int, ingested: datetime = datetime(2026, 2, 1)) -> dict:
    return {"comment_id": cid, "batch_id": f"{code}-extra", "municipality_code": code, "row_number": 1,
            "external_id": None, "contact_date": date(year, 3, 1), "year": year, "channel": None,
            "text": "Synpunkt om [NAMN]", "redactions": None, "metadata": None, "ingested_at": ingested}


@pytest.fixture()
def mixed(con):
    """The analyst warehouse (conftest `con`) plus the cases the mart must carry like the live join: a comment of
    an unknown municipality, one without a prediction of the current model, another model's predictions,
    corrections (a correction of a correction, one with no areas) and repeat-contact signals."""
    from synpunkt.warehouse import insert_frame

    insert_frame(con, "comments", pd.DataFrame([_comment("unknown-muni", "9999", 2025),
                                                _comment("unclassified", "0180", 2025)]))
    insert_frame(con, "predictions", pd.DataFrame([_prediction("unknown-muni", "negative", ["wait_time"]),
                                                   _prediction("unclassified", "positive", ["handler"], OTHER),
                                                   _prediction("0180-2025-1", "negative", ["handler"], OTHER)]))
    corrections = [("0180-2025-1", "skeptical", ["handler"], 1, "a"), ("0180-2025-1", "positive",
                    ["wait_time", "handler"], 2, "b"), ("1480-2024-3", "negative", [], 1, "a")]
    insert_frame(con, "corrections", pd.DataFrame([
        {"comment_id": c, "sentiment": s, "topics": t, "reviewer": "Åsa", "imported_at": datetime(2026, 1, d),
         "model_version": VERSION, "model_sentiment": "positive", "sample_kind": "random", "source_checksum": k,
         "source_row": d} for c, s, t, d, k in corrections]))
    ids = [r[0] for r in con.execute("SELECT comment_id FROM comments ORDER BY comment_id").fetchall()]
    insert_frame(con, "comment_signals", pd.DataFrame([
        {"comment_id": cid, "signals_version": "s@1", "urgent_category": None, "urgent_probability": 0.01,
         "urgent_rule": False, "repeat_p": (i % 7) / 7, "repeat_contact": i % 3 == 0,
         "detected_at": datetime(2026, 2, 2)} for i, cid in enumerate(ids) if i % 5]))
    return con


def test_the_views_read_the_fresh_mart_and_give_the_live_join_s_rows(mixed):
    from synpunkt.warehouse import refresh_trends

    live = {v: _rows(mixed, v) for v in MART_VIEWS}  # before any refresh: no mart yet
    assert not _fresh(mixed)
    refresh_trends(mixed, VERSION)
    assert _fresh(mixed)
    for view in MART_VIEWS:
        assert _rows(mixed, view) == live[view], view
    assert _views_from_live_tables(mixed) == live
    ids = {r[0] for r in live["comments_classified"]}
    assert "unknown-muni" not in ids and "unclassified" not in ids
    corrected = [r for r in live["comments_classified"] if r[0] in ("0180-2025-1", "1480-2024-3")]
    assert [(r[8], r[12], r[14]) for r in corrected] == [("positive", ["wait_time", "handler"], True),
                                                        ("negative", [], True)]
    # the model's areas count in repeat_contact_shares, not the reviewer's
    assert {r[3] for r in live["repeat_contact_shares"]} >= {"all", *TOPICS}


def test_every_pipeline_write_makes_the_mart_stale_and_the_views_follow(mixed):
    from synpunkt.warehouse import (discard_batch_rows, insert_frame, insert_predictions, refresh_trends,
                                    set_current_model)

    def refreshed():
        refresh_trends(mixed, VERSION)
        assert _fresh(mixed)

    count = lambda: mixed.execute("SELECT count(*) FROM comments_classified").fetchall()[0][0]  # noqa: E731
    refreshed()
    built = mixed.execute("SELECT built_at FROM comment_mart_state").fetchall()
    refreshed()  # nothing changed: the mart is kept as it is
    assert mixed.execute("SELECT built_at FROM comment_mart_state").fetchall() == built
    before = count()
    insert_frame(mixed, "comments", pd.DataFrame([_comment("new-1", "0180", 2025, datetime(2026, 3, 1))]))
    assert not _fresh(mixed) and count() == before  # ingested, not classified yet
    prediction = {**_prediction("new-1", "negative", ["handler"]), "topic_sentiment": {"handler": "negative"}}
    insert_predictions(mixed, ["new-1"], pd.DataFrame([{k: v for k, v in prediction.items()
                                                        if k not in ("comment_id", "classified_at")}]))
    assert not _fresh(mixed) and count() == before + 1
    refreshed()
    mixed.execute("INSERT INTO corrections VALUES ('new-1', 'positive', ['handler'], 'Åsa', TIMESTAMP '2026-03-02', "
                  "?, 'negative', 'random', 'c', 1)", [VERSION])
    assert not _fresh(mixed)
    assert mixed.execute("SELECT sentiment FROM comments_classified WHERE comment_id = 'new-1'").fetchall() == \
        [("positive",)]
    refreshed()
    discard_batch_rows(mixed, "0180-extra")  # a failed batch's rows go
    assert not _fresh(mixed)
    assert mixed.execute("SELECT count(*) FROM comments_classified WHERE batch_id = '0180-extra'").fetchall() == [(0,)]
    refreshed()
    set_current_model(mixed, OTHER)  # another model current: the mart (built for VERSION) is not used
    assert not _fresh(mixed) and {r[0] for r in _rows(mixed, "comments_classified")} == {"0180-2025-1"}
    set_current_model(mixed, VERSION)
    assert _fresh(mixed)  # back to the model it was built for, nothing else changed


def test_trends_from_the_mart_count_what_comments_classified_shows(mixed):
    from synpunkt.warehouse import refresh_trends

    refresh_trends(mixed, VERSION)
    trends = mixed.execute("SELECT municipality_code, year, n, n_positive, n_skeptical, n_negative, n_corrected "
                           "FROM yearly_trends WHERE scope = 'municipality' AND topic = 'all' "
                           "AND municipality_code <> '9999' ORDER BY 1, 2").fetchall()
    counted = mixed.execute("SELECT municipality_code, year, count(*), count(*) FILTER (sentiment = 'positive'), "
                            "count(*) FILTER (sentiment = 'skeptical'), count(*) FILTER (sentiment = 'negative'), "
                            "count(*) FILTER (corrected) FROM comments_classified GROUP BY 1, 2 ORDER BY 1, 2"
                            ).fetchall()
    assert trends == counted
    national = mixed.execute("SELECT sum(n) FROM yearly_trends WHERE scope = 'national' AND topic = 'all'"
                             ).fetchall()[0][0]
    assert national == sum(r[2] for r in counted) + 1  # the unknown municipality's comment counts nationally


def test_the_mart_table_definition_matches_what_is_built(mixed):
    from synpunkt.comment_mart import mart_rows_sql

    defined = mixed.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'comment_mart' "
                            "ORDER BY column_index").fetchall()
    mixed.execute(f"CREATE TEMP TABLE built AS {mart_rows_sql()} LIMIT 0", {"model_version": VERSION})
    built = mixed.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'built' "
                          "ORDER BY column_index").fetchall()
    assert defined == built
    view = mixed.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
                         "'comments_classified' AND column_name NOT IN ('municipality', 'county') "
                         "ORDER BY column_index").fetchall()  # the view joins those two from municipalities
    assert view == defined[:len(view)]


def _assert_mart_is_current(con) -> None:
    """The mart holds exactly what a full build would now, and the views read it and give the live join's rows."""
    from synpunkt.comment_mart import mart_rows_sql

    assert _fresh(con)
    built = con.execute("SELECT * FROM comment_mart ORDER BY comment_id").fetchall()
    assert built == con.execute(f"SELECT * FROM ({mart_rows_sql()}) ORDER BY comment_id",
                                {"model_version": VERSION}).fetchall()
    assert {v: _rows(con, v) for v in MART_VIEWS} == _views_from_live_tables(con)


def _signals(ids: list[str], repeat: bool = True) -> pd.DataFrame:
    from synpunkt.warehouse import now

    return pd.DataFrame([{"comment_id": cid, "signals_version": "s@1", "urgent_category": None,
                          "urgent_probability": 0.01, "urgent_rule": False, "repeat_p": 0.9 if repeat else 0.1,
                          "repeat_contact": repeat, "detected_at": now()} for cid in ids])


def _ingest(con, batch_id: str, rows: list[tuple[str, str, int]], classify: bool = True) -> None:
    """Comments (id, municipality, year) with their signals as ingest writes them, then (classify) their
    predictions as classification writes them, every row stamped with the time of writing."""
    from synpunkt.warehouse import insert_predictions, now, write_chunk

    comments = pd.DataFrame([{**_comment(cid, code, year, now()), "batch_id": batch_id} for cid, code, year in rows])
    write_chunk(con, batch_id, comments, pd.DataFrame(), len(rows), len(rows), _signals(comments["comment_id"]))
    if classify:
        predictions = [{k: v for k, v in _prediction(cid, "negative", ["handler", "wait_time"]).items()
                        if k not in ("comment_id", "classified_at")} for cid, _, _ in rows]
        for p in predictions:
            p["topic_sentiment"] = {"handler": "negative", "wait_time": "positive"}
        insert_predictions(con, [r[0] for r in rows], pd.DataFrame(predictions))


def _correct(con, checksum: str, answers: list[tuple[str, str, list[str]]]) -> None:
    """A review file's answers (comment, sentiment, areas) as synpunkt.review.import_review stores them."""
    from synpunkt.warehouse import insert_frame, now

    insert_frame(con, "corrections", pd.DataFrame([
        {"comment_id": cid, "sentiment": s, "topics": t, "reviewer": "Åsa", "imported_at": now(),
         "model_version": VERSION, "model_sentiment": "negative", "sample_kind": "uncertain",
         "source_checksum": checksum, "source_row": i + 1} for i, (cid, s, t) in enumerate(answers)]))


def test_a_refresh_updates_the_changed_comments_rows_and_they_equal_a_full_build_s(mixed):
    """Every kind of write, one after another, each followed by an update of the mart (never a rebuild): the
    mart then holds exactly the rows of a full build and the views give the live join's rows."""
    from synpunkt.comment_mart import update_comment_mart
    from synpunkt.warehouse import discard_batch_rows, insert_frame, now

    def update(kind: str, changed: int | None = None):
        result = update_comment_mart(mixed, VERSION)
        assert result.kind == kind
        assert changed is None or result.changed == changed
        _assert_mart_is_current(mixed)
        return result

    first = update("full")
    assert first.rows == mixed.execute("SELECT count(*) FROM comments").fetchall()[0][0]
    update("unchanged", 0)  # a re-run that adds nothing
    insert_frame(mixed, "predictions", pd.DataFrame([{**_prediction("0180-2024-1", "positive", []), "model_version":
                                                      "synpunkt-test@third", "classified_at": now()}]))
    update("incremental", 0)  # another model's predictions: the inputs changed, no row of the mart did
    _ingest(mixed, "0180-new", [("b1", "0180", 2025), ("b2", "0180", 2025), ("b3", "1480", 2024)], classify=False)
    update("incremental", 3)  # ingested, not classified yet: rows without a prediction
    _classify(mixed, ["b1", "b2", "b3"])
    update("incremental", 3)
    _ingest(mixed, "0180-2026", [("y2026", "0180", 2026)])  # a new year
    _ingest(mixed, "0580-new", [("linkoping-1", "0580", 2025), ("linkoping-2", "0580", 2025)])  # a new municipality
    update("incremental", 3)
    assert {(r[0], r[2]) for r in _rows(mixed, "repeat_contact_shares")} >= {("0180", 2026), ("0580", 2025)}
    _correct(mixed, "review-1", [("b1", "positive", ["handler"]), ("0180-2025-1", "negative", [])])
    update("incremental", 2)  # a correction, and a correction of a comment corrected twice before
    _correct(mixed, "review-2", [("b1", "skeptical", ["wait_time"])])
    update("incremental", 1)  # a correction of a correction
    _correct(mixed, "review-3", [("b1", "skeptical", ["wait_time"])])
    update("incremental", 0)  # the same answer again: the row does not change
    insert_frame(mixed, "comments", pd.DataFrame([{**_comment("bare", "1280", 2025, now()), "batch_id": "1280-x"}]))
    update("incremental", 1)
    discard_batch_rows(mixed, "1280-x")  # a comment without prediction or signal goes: only comments tell
    update("incremental", 1)
    discard_batch_rows(mixed, "0180-new")  # a failed batch's rows go (rows the mart has)
    update("incremental", 3)
    _ingest(mixed, "0180-new", [("b1", "0180", 2025), ("b2", "0180", 2025), ("b3", "1480", 2024)])
    update("incremental", 3)  # the batch again (the same comment ids, written later)
    mixed.execute("DELETE FROM comment_signals WHERE comment_id = 'b2'")  # rows deleted outside the pipeline
    mixed.execute("DELETE FROM predictions WHERE comment_id = 'b3'")
    update("incremental", 2)
    _classify(mixed, ["b3"])
    update("incremental", 1)


def _classify(con, ids: list[str]) -> None:
    from synpunkt.warehouse import insert_predictions

    rows = [{k: v for k, v in _prediction(cid, "positive", ["experience"]).items()
             if k not in ("comment_id", "classified_at")} for cid in ids]
    for r in rows:
        r["topic_sentiment"] = {"experience": "positive"}
    insert_predictions(con, ids, pd.DataFrame(rows))


def test_rows_written_with_an_earlier_time_than_the_build_are_found_too(mixed):
    """A row stamped at or before the mart's watermark (a clock set back, a worker's clock behind): the counts and
    hash sums of the rows up to the watermark differ from the build's, and the presence comparison finds it."""
    from synpunkt.comment_mart import update_comment_mart
    from synpunkt.warehouse import insert_frame

    update_comment_mart(mixed, VERSION)
    latest = mixed.execute("SELECT max(ingested_at), max(classified_at) FROM comments, predictions").fetchall()[0]
    insert_frame(mixed, "comments", pd.DataFrame([_comment("late", "1280", 2024, latest[0])]))
    insert_frame(mixed, "predictions", pd.DataFrame([{**_prediction("late", "positive", ["handler"]),
                                                      "classified_at": latest[1]}]))
    insert_frame(mixed, "predictions", pd.DataFrame([{**_prediction("unclassified", "negative", []),
                                                      "classified_at": latest[1]}]))
    assert update_comment_mart(mixed, VERSION).kind == "incremental"
    _assert_mart_is_current(mixed)
    assert mixed.execute("SELECT count(*) FROM comment_mart WHERE comment_id IN ('late', 'unclassified') "
                         "AND model_version IS NOT NULL").fetchall() == [(2,)]


def _out_of_order(con) -> int:
    """Rows of comment_mart stored after a row with a later year, or the same year and a later municipality."""
    return con.execute("SELECT count(*) FROM (SELECT year, municipality_code, lag(year) OVER w AS y, "
                       "lag(municipality_code) OVER w AS m FROM comment_mart WINDOW w AS (ORDER BY rowid)) "
                       "WHERE year < y OR (year = y AND municipality_code < m)").fetchall()[0][0]


def test_the_mart_is_rebuilt_for_another_model_a_large_change_or_an_older_state(mixed):
    from synpunkt.comment_mart import MAX_UNSORTED_SHARE, update_comment_mart
    from synpunkt.warehouse import ensure_schema, insert_frame, set_current_model

    assert update_comment_mart(mixed, VERSION).kind == "full"
    set_current_model(mixed, OTHER)
    assert update_comment_mart(mixed, OTHER).kind == "full"  # built for VERSION: rebuilt for OTHER
    assert mixed.execute("SELECT count(*) FROM comment_mart WHERE model_version = ?", [OTHER]).fetchall() == [(2,)]
    assert _fresh(mixed)
    set_current_model(mixed, VERSION)
    assert update_comment_mart(mixed, VERSION).kind == "full"
    rows = mixed.execute("SELECT count(*) FROM comment_mart").fetchall()[0][0]
    small = int(MAX_UNSORTED_SHARE * rows / 2)
    _ingest(mixed, "1480-a", [(f"a{i}", "1480", 2025) for i in range(small)])
    assert update_comment_mart(mixed, VERSION).kind == "incremental"
    assert _out_of_order(mixed) > 0  # appended after the sorted rows
    _ingest(mixed, "1480-b", [(f"b{i}", "1480", 2025) for i in range(2 * small)])
    assert update_comment_mart(mixed, VERSION).kind == "full"  # the appended rows would pass the share: sorted
    _assert_mart_is_current(mixed)
    assert _out_of_order(mixed) == 0
    insert_frame(mixed, "comments", pd.DataFrame([_comment("old-state", "0180", 2025)]))
    mixed.execute("ALTER TABLE comment_mart_state DROP COLUMN watermarks")  # a warehouse from before updates
    ensure_schema(mixed)
    assert mixed.execute("SELECT watermarks FROM comment_mart_state").fetchall() == [(None,)]
    assert update_comment_mart(mixed, VERSION).kind == "full"
    _assert_mart_is_current(mixed)


def test_an_update_finds_the_first_rows_of_a_table_that_was_empty_at_the_build(con):
    """The analyst warehouse has no signals and no corrections: their first rows arrive after the build."""
    from synpunkt.comment_mart import update_comment_mart

    assert update_comment_mart(con, VERSION).kind == "full"
    assert con.execute("SELECT count(*) FROM comment_signals").fetchall() == [(0,)]
    _ingest(con, "0980-new", [("g1", "0980", 2025)])
    _correct(con, "review-1", [("0180-2024-1", "negative", ["handler"])])
    result = update_comment_mart(con, VERSION)
    assert (result.kind, result.changed) == ("incremental", 2)
    _assert_mart_is_current(con)

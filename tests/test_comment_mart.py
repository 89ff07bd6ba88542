"""The comment-level mart (synpunkt.marts.build_comment_mart): the views that read it give exactly the rows of the
live join, it goes stale on every kind of write the pipeline makes (and the views then join the live tables), the
trends computed from it count what comments_classified shows, and its table definition matches what is built."""

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
        con.executemany("INSERT INTO comment_mart_state VALUES (?, ?, ?)", state)


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
    from synpunkt.warehouse import sql_text

    defined = mixed.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'comment_mart' "
                            "ORDER BY column_index").fetchall()
    mixed.execute(f"CREATE TEMP TABLE built AS {sql_text('comment_mart.sql')} LIMIT 0", {"model_version": VERSION})
    built = mixed.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'built' "
                          "ORDER BY column_index").fetchall()
    assert defined == built
    view = mixed.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
                         "'comments_classified' AND column_name NOT IN ('municipality', 'county') "
                         "ORDER BY column_index").fetchall()  # the view joins those two from municipalities
    assert view == defined[:len(view)]

"""Per-topic PACC in the warehouse: predictions keep the per-topic head's probabilities (topic_sentiment_p), the
yearly trends correct each area's shares from them, a group with predictions stored without them (before they
were kept) is corrected from the labels, and a warehouse created before the column migrates."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from test_quantification import synthetic

from synpunkt import quantification as Q
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column

VERSION = "synpunkt-test@topic-pacc"
MIX_SCORED, MIX_OLD = (0.79, 0.04, 0.17), (0.30, 0.20, 0.50)


def _corrections(seed: int = 5) -> dict[str, Q.Correction]:
    """PACC and ACC fitted on a labelled synthetic set (the classifier's confusion of tests/test_quantification)."""
    p, y = synthetic(np.random.default_rng(seed), (1 / 3, 1 / 3, 1 / 3), 20000)
    return {m: Q.fit_correction(m, p, y, list(SENTIMENTS), n_boot=60) for m in ("pacc", "acc")}


def _quant(corrs: dict[str, Q.Correction], labels: bool = True) -> Q.Quantification:
    heads = {"sentiment": corrs["pacc"], "topic_sentiment": corrs["pacc"]}
    if labels:
        heads["topic_sentiment" + Q.LABELS_SUFFIX] = corrs["acc"]
    return Q.Quantification(heads, "test")


def _predictions(proba: np.ndarray, topic: str, scored: bool) -> pd.DataFrame:
    """Classifier.predict(topic_sentiment=True) rows about one area whose per-topic probabilities are `proba`
    (without topic_sentiment_p when not `scored`, as the writer stored them before they were kept)."""
    labels = np.asarray(SENTIMENTS, object)[proba.argmax(1)]
    rows = pd.DataFrame({"sentiment": labels, **{prob_column(s): proba[:, j] for j, s in enumerate(SENTIMENTS)},
                         "topics": [[topic]] * len(proba),
                         **{prob_column(t): 0.9 if t == topic else 0.05 for t in TOPICS},
                         "topic_sentiment": [{topic: s} for s in labels], "model_version": VERSION})
    if scored:
        rows["topic_sentiment_p"] = [[list(p)] for p in proba]
    return rows


def _store(con, code: str, year: int, proba: np.ndarray, topic: str, scored: bool, ingested: datetime) -> list[str]:
    """Comments of one municipality and year with their predictions, written as the pipeline writes them."""
    from synpunkt.warehouse import insert_frame, insert_predictions

    ids = [f"{code}-{year}-{topic}-{i}" for i in range(len(proba))]
    insert_frame(con, "comments", pd.DataFrame({
        "comment_id": ids, "batch_id": f"{code}-{year}", "municipality_code": code,
        "row_number": range(1, len(ids) + 1),
        "external_id": None, "contact_date": date(year, 3, 1), "year": year, "channel": None, "text": "[NAMN] ringde",
        "redactions": None, "metadata": None, "ingested_at": ingested}))
    insert_predictions(con, ids, _predictions(proba, topic, scored))
    return ids


def _trend(con, code: str | None, topic: str = "handler", year: int = 2025) -> dict:
    where = "municipality_code IS NULL" if code is None else f"municipality_code = '{code}'"
    df = con.execute(f"SELECT * FROM yearly_trends WHERE {where} AND year = ? AND topic = ?", [year, topic]).df()
    assert len(df) == 1
    return df.iloc[0].to_dict()


def _shares(row: dict, prefix: str = "") -> np.ndarray:
    return np.array([row[f"{prefix}share_{s}"] for s in SENTIMENTS])


@pytest.fixture()
def warehouse(tmp_path):
    """Stockholm's 2025 comments about the handler stored with per-topic probabilities, drawn at the 79/4/17 mix;
    Malmö's stored without them (an older writer), drawn at 30/20/50. Yields the connection and, per group, the
    probabilities and the true shares."""
    from synpunkt.warehouse import connect, set_current_model

    rng = np.random.default_rng(11)
    con = connect(tmp_path / "w.duckdb")
    (scored, y_scored), (old, y_old) = synthetic(rng, MIX_SCORED, 20000), synthetic(rng, MIX_OLD, 5000)
    _store(con, "0180", 2025, scored, "handler", True, datetime(2026, 1, 2))
    _store(con, "1280", 2025, old, "handler", False, datetime(2026, 1, 2))
    set_current_model(con, VERSION)
    truth = lambda y: np.bincount(y, minlength=len(SENTIMENTS)) / len(y)  # noqa: E731
    yield con, (scored, truth(y_scored)), (old, truth(y_old))
    con.close()


def test_per_topic_pacc_recovers_a_known_mix_from_the_stored_probabilities(warehouse):
    from synpunkt.warehouse import refresh_trends

    con, (scored, truth), _ = warehouse
    corrs = _corrections()
    refresh_trends(con, VERSION, _quant(corrs))
    row = _trend(con, "0180")
    assert row["method"] == "pacc" and row["n"] == 20000
    # the warehouse's sums give exactly what the comments' probabilities give
    stats = Q.group_stats(scored, np.zeros(len(scored), int), 1, second_moments=False)
    assert np.allclose(_shares(row), Q.point_estimate(corrs["pacc"], stats)[0], atol=1e-9)
    assert np.abs(_shares(row) - truth).max() < 0.015
    assert row["cc_share_skeptical"] > 2 * truth[1]  # classify-and-count: the skeptical share more than doubled
    for s in SENTIMENTS:
        assert row[f"share_{s}_lo"] <= row[f"share_{s}"] <= row[f"share_{s}_hi"]
        assert row[f"share_{s}_hi"] - row[f"share_{s}_lo"] < 0.1
    assert row["net_score_lo"] <= row["net_score"] <= row["net_score_hi"]


def test_groups_with_predictions_stored_without_probabilities_are_corrected_from_the_labels(warehouse):
    from synpunkt.warehouse import refresh_trends

    con, _, (old, truth) = warehouse
    corrs = _corrections()
    refresh_trends(con, VERSION, _quant(corrs))
    row = _trend(con, "1280")
    assert row["method"] == "acc" and row["n"] == 5000
    labels = Q.group_stats(Q.method_inputs("acc", old), np.zeros(len(old), int), 1, second_moments=False)
    assert np.allclose(_shares(row), Q.point_estimate(corrs["acc"], labels)[0], atol=1e-9)
    assert np.abs(_shares(row) - truth).max() < 0.03
    assert _trend(con, None)["method"] == "acc"  # the nation pools both: some comments lack probabilities
    assert _trend(con, "0180")["method"] == "pacc"
    # without a labels-only correction such a group is classify-and-count with Wilson intervals, never empty
    refresh_trends(con, VERSION, _quant(corrs, labels=False))
    row = _trend(con, "1280")
    assert row["method"] == "cc" and np.allclose(_shares(row), _shares(row, "cc_"))
    assert not np.isnan([row["share_skeptical_lo"], row["share_skeptical_hi"], row["net_score_se"]]).any()
    # an ACC head needs only labels: every group uses it
    refresh_trends(con, VERSION, Q.Quantification({"topic_sentiment": corrs["acc"]}, "test"))
    assert {_trend(con, c)["method"] for c in ("0180", "1280", None)} == {"acc"}


def test_a_corrected_comment_is_known_and_its_probabilities_are_not_used(warehouse):
    from synpunkt.warehouse import insert_frame, refresh_trends

    con, _, _ = warehouse
    corrs = _corrections()
    refresh_trends(con, VERSION, _quant(corrs))
    before = _trend(con, "0180")
    insert_frame(con, "corrections", pd.DataFrame([{
        "comment_id": "0180-2025-handler-0", "sentiment": "skeptical", "topics": ["handler"], "reviewer": "Åsa",
        "imported_at": datetime(2026, 2, 1), "model_version": VERSION, "model_sentiment": "positive",
        "sample_kind": "random", "source_checksum": "c", "source_row": 2}]))
    refresh_trends(con, VERSION, _quant(corrs))
    assert con.execute("SELECT topic_sentiment_p FROM comment_mart WHERE comment_id = '0180-2025-handler-0'"
                       ).fetchall() == [(None,)]
    after = _trend(con, "0180")
    assert (after["method"], after["n_corrected"], after["n"]) == ("pacc", 1, before["n"])


def test_the_writer_refuses_probabilities_that_do_not_match_the_topics(tmp_path):
    from synpunkt.warehouse import connect, insert_predictions

    con = connect(tmp_path / "w.duckdb")
    rows = _predictions(np.array([[0.7, 0.2, 0.1]]), "handler", True)
    rows["topic_sentiment_p"] = [[[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]]
    with pytest.raises(ValueError, match="prediction row 0: .*1 topics, 2 vectors"):
        insert_predictions(con, ["c1"], rows)
    assert con.execute("SELECT count(*) FROM predictions").fetchall() == [(0,)]


def test_a_warehouse_created_before_the_column_migrates_and_its_views_keep_working(tmp_path):
    """A warehouse (with a built mart) from before the per-topic probabilities were kept: connect() adds the
    column to predictions and comment_mart (old rows NULL), the trends keep their labels' correction, new
    predictions carry probabilities through an incremental mart update, and the published copy documents them."""
    from synpunkt.comment_mart import mart_rows_sql, update_comment_mart
    from synpunkt.publish import open_published, publish
    from synpunkt.warehouse import connect, refresh_trends, set_current_model

    rng = np.random.default_rng(12)
    corrs = _corrections()
    path = tmp_path / "w.duckdb"
    con = connect(path)
    _store(con, "1280", 2025, synthetic(rng, MIX_OLD, 600)[0], "handler", False, datetime(2026, 1, 2))
    set_current_model(con, VERSION)
    refresh_trends(con, VERSION, _quant(corrs))
    for table in ("predictions", "comment_mart"):  # as the tables were before the change
        con.execute(f"ALTER TABLE {table} DROP COLUMN topic_sentiment_p")
    con.close()

    con = connect(path)  # migrates
    assert con.execute("SELECT count(*), count(topic_sentiment_p) FROM predictions").fetchall() == [(600, 0)]
    refresh_trends(con, VERSION, _quant(corrs))
    assert _trend(con, "1280")["method"] == "acc"
    scored = synthetic(rng, MIX_SCORED, 100)[0]  # small: an update, not a rebuild
    _store(con, "0580", 2025, scored, "handler", True, datetime(2026, 2, 2))
    assert update_comment_mart(con, VERSION).kind == "incremental"
    mart = "comment_id, topics, topic_sentiment_p, sentiment, corrected"
    full_build = f"SELECT {mart} FROM ({mart_rows_sql()}) ORDER BY comment_id"
    assert con.execute(f"SELECT {mart} FROM comment_mart ORDER BY comment_id").fetchall() == \
        con.execute(full_build, {"model_version": VERSION}).fetchall()
    refresh_trends(con, VERSION, _quant(corrs))
    assert (_trend(con, "0580")["method"], _trend(con, "1280")["method"], _trend(con, None)["method"]) == \
        ("pacc", "acc", "acc")
    shares = con.execute("SELECT municipality_code, topic, method, share_positive FROM yearly_shares "
                         "WHERE year = 2025").df()
    assert len(shares) == 4 and shares["share_positive"].between(0, 1).all()
    assert con.execute("SELECT count(*) FROM comment_topics").fetchall() == [(700,)]
    assert con.execute("SELECT count(*) FROM comments_classified").fetchall() == [(700,)]
    published = publish(con, tmp_path / "published" / "synpunkt.duckdb")
    con.close()
    pub = open_published(published)
    try:
        stored = pub.execute("SELECT topic_sentiment_p FROM predictions WHERE comment_id = '0580-2025-handler-0'"
                             ).fetchall()[0][0]
        assert np.allclose(stored, [scored[0]])
        doc = pub.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'comment_mart' "
                          "AND column_name = 'topic_sentiment_p'").fetchall()[0][0]
        assert "p_skeptical" in doc and "NULL" in doc
    finally:
        pub.close()


def test_a_labels_only_correction_is_used_only_when_the_head_needs_probabilities():
    corrs = _corrections()
    quant = _quant(corrs)
    assert quant.for_rows("topic_sentiment", True).method == "pacc"
    assert quant.for_rows("topic_sentiment", False).method == "acc"
    assert quant.for_rows("missing", False) is None
    acc = Q.Quantification({"topic_sentiment": corrs["acc"]}, "test")
    assert acc.for_rows("topic_sentiment", False) is corrs["acc"]


def test_the_labels_only_correction_is_saved_and_loaded(tmp_path):
    corrs = _corrections()
    Q.save(tmp_path / Q.QUANTIFICATION_FILE, "m@1", _quant(corrs).heads, {})
    loaded = Q.load(tmp_path, "m@1")
    assert loaded.for_rows("topic_sentiment", False).method == "acc"
    assert "topic_sentiment_labels: acc" in loaded.status

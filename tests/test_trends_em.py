"""The EM correction in the warehouse: the yearly trends of a head whose correction is EM come from per-group cells
of log-ratios (sql/trend_cells.sql), which equal the cells numpy makes of the same probabilities; they recover
known mixes with intervals that contain them, human corrections stay known counts, and groups with predictions
stored without probabilities keep the labels-only correction."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from test_quantification_em import sample
from test_trends_topic_pacc import VERSION, _shares, _store, _trend

from synpunkt import quantification as Q
from synpunkt import quantification_em as EM
from synpunkt.labels import SENTIMENTS

MIXES = {"0180": (0.79, 0.04, 0.17), "1280": (0.30, 0.20, 0.50), "1480": (0.10, 0.70, 0.20)}
SIZES = {"0180": 6000, "1280": 3000, "1480": 2000}
YEAR = 2025


def _corrections(seed: int = 21) -> dict[str, Q.Correction]:
    """EM (BCTS calibration with bootstrap replicates) and ACC fitted on a labelled set drawn from the same
    miscalibrated classifier as the warehouse's comments."""
    p, y = sample(np.random.default_rng(seed), (1 / 3, 1 / 3, 1 / 3), 3000)
    return {m: Q.fit_correction(m, p, y, list(SENTIMENTS), n_boot=100) for m in ("em", "acc")}


def _quant(corrs: dict[str, Q.Correction]) -> Q.Quantification:
    return Q.Quantification({"sentiment": corrs["em"], "topic_sentiment": corrs["em"],
                             "topic_sentiment" + Q.LABELS_SUFFIX: corrs["acc"]}, "test")


def _truth(y: np.ndarray) -> np.ndarray:
    return np.bincount(y, minlength=len(SENTIMENTS)) / len(y)


@pytest.fixture()
def warehouse(tmp_path):
    """Three municipalities' 2025 comments about the handler drawn at known mixes and stored with per-topic
    probabilities, plus Malmö's 2025 comments about wait times stored without them (an older writer). Yields the
    connection, per municipality the probabilities and true labels of its handler comments, and the wait-time
    comments' probabilities."""
    from synpunkt.warehouse import connect, set_current_model

    rng = np.random.default_rng(22)
    con = connect(tmp_path / "w.duckdb")
    data = {code: sample(rng, MIXES[code], SIZES[code]) for code in MIXES}
    for code, (p, _) in data.items():
        _store(con, code, YEAR, p, "handler", True, datetime(2026, 1, 2))
    old = sample(rng, MIXES["1280"], 800)[0]
    _store(con, "1280", YEAR, old, "wait_time", False, datetime(2026, 1, 2))
    set_current_model(con, VERSION)
    yield con, data, old
    con.close()


def _cells_of(proba: np.ndarray) -> pd.DataFrame:
    """One group's cells as numpy makes them (quantification_em.cell_stats_from_proba), sorted."""
    cells = EM.cell_stats_from_proba(proba, np.zeros(len(proba), int), 1)
    return _sorted(pd.DataFrame({"n": cells.count, "r1": cells.ratio[:, 0], "r2": cells.ratio[:, 1]}))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["r1", "r2"]).reset_index(drop=True)[["n", "r1", "r2"]]


def test_the_cells_query_equals_numpys_cells_of_the_same_probabilities(warehouse):
    from synpunkt.marts import build_comment_mart
    from synpunkt.trends import trend_cells

    con, data, old = warehouse
    build_comment_mart(con, VERSION)
    every = np.concatenate([p for p, _ in data.values()])
    wanted = {("municipality", code, "handler"): p for code, (p, _) in data.items()}
    wanted |= {("municipality", code, "all"): p for code, (p, _) in data.items() if code != "1280"}
    wanted |= {("municipality", "1280", "all"): np.concatenate([data["1280"][0], old]),  # wait-time comments too
               ("national", None, "handler"): every, ("national", None, "all"): np.concatenate([every, old])}
    groups = pd.DataFrame([(scope, code, YEAR, topic) for scope, code, topic in wanted],
                          columns=["scope", "municipality_code", "year", "topic"], index=np.arange(len(wanted)) * 3)
    cells = trend_cells(con, VERSION, groups)
    assert set(cells["group_index"]) == set(groups.index)
    for index, proba in zip(groups.index, wanted.values()):
        rows = cells[cells["group_index"] == index]
        ours, theirs = _sorted(rows), _cells_of(proba)
        assert len(ours) == len(theirs) and (ours["n"].to_numpy() == theirs["n"].to_numpy()).all(), index
        assert np.allclose(ours[["r1", "r2"]], theirs[["r1", "r2"]], rtol=0, atol=1e-9)
    # a group whose comments have no per-topic probabilities (stored by an older writer) has no cells
    none = pd.DataFrame([("municipality", "1280", YEAR, "wait_time")], columns=groups.columns)
    assert trend_cells(con, VERSION, none).empty


def test_em_trends_recover_known_mixes_with_intervals_that_contain_them(warehouse):
    from synpunkt.warehouse import refresh_trends

    con, data, _ = warehouse
    corrs = _corrections()
    refresh_trends(con, VERSION, _quant(corrs))
    for code, (p, y) in data.items():
        truth = _truth(y)
        exact = EM.em_intervals(corrs["em"], EM.cell_stats_from_proba(p, np.zeros(len(p), int), 1,
                                                                      known=np.zeros((1, 3))))
        for topic in ("all", "handler") if code != "1280" else ("handler",):
            row = _trend(con, code, topic, YEAR)
            assert row["method"] == "em" and row["n"] == len(p)
            shares = _shares(row)
            assert np.allclose(shares, exact["share"][0], atol=1e-9)  # the warehouse's cells give numpy's EM
            assert np.abs(shares - truth).max() < 0.025, (code, shares, truth)
            for j, s in enumerate(SENTIMENTS):
                assert row[f"share_{s}_lo"] <= truth[j] <= row[f"share_{s}_hi"], (code, s)
                assert row[f"share_{s}_hi"] - row[f"share_{s}_lo"] < 0.15
            assert row["net_score_lo"] <= 100 * (truth[0] - truth[2]) <= row["net_score_hi"]
            assert np.isclose(row["net_score_se"], (row["net_score_hi"] - row["net_score_lo"]) / (2 * 1.96))
    # EM corrects what classify-and-count gets wrong
    row, truth = _trend(con, "0180", "handler", YEAR), _truth(data["0180"][1])
    assert np.abs(_shares(row) - truth).max() < np.abs(_shares(row, "cc_") - truth).max() / 2
    national = _trend(con, None, "handler", YEAR)
    every = np.concatenate([y for _, y in data.values()])
    assert national["method"] == "em" and np.abs(_shares(national) - _truth(every)).max() < 0.02


def test_groups_with_predictions_stored_without_probabilities_keep_the_labels_only_correction(warehouse):
    from synpunkt.warehouse import refresh_trends

    con, _, _ = warehouse
    refresh_trends(con, VERSION, _quant(_corrections()))
    assert _trend(con, "1280", "wait_time", YEAR)["method"] == "acc"
    assert _trend(con, None, "wait_time", YEAR)["method"] == "acc"
    assert _trend(con, "1280", "all", YEAR)["method"] == "em"  # the overall probabilities are always stored
    assert _trend(con, "1280", "handler", YEAR)["method"] == "em"


def test_a_human_correction_is_a_known_count_and_its_probabilities_are_left_out(warehouse):
    from synpunkt.warehouse import insert_frame, refresh_trends

    con, data, _ = warehouse
    corrs = _corrections()
    code, n_fixed = "1480", 40
    # a small municipality whose every comment a reviewer corrected: an EM group without model-classified comments
    _store(con, "0580", YEAR, sample(np.random.default_rng(23), MIXES["1480"], 5)[0], "handler", True,
           datetime(2026, 1, 2))
    ids = [f"{code}-{YEAR}-handler-{i}" for i in range(n_fixed)] + [f"0580-{YEAR}-handler-{i}" for i in range(5)]
    n_fixed_all = len(ids)
    insert_frame(con, "corrections", pd.DataFrame({
        "comment_id": ids, "sentiment": "negative", "topics": [["handler"]] * n_fixed_all, "reviewer": "Åsa",
        "imported_at": datetime(2026, 2, 1), "model_version": VERSION, "model_sentiment": "positive",
        "sample_kind": "random", "source_checksum": "c", "source_row": range(2, n_fixed_all + 2)}))
    refresh_trends(con, VERSION, _quant(corrs))
    p = data[code][0]
    model = EM.em_estimate(corrs["em"], EM.cell_stats_from_proba(p[n_fixed:], np.zeros(len(p) - n_fixed, int), 1))[0]
    expected = (model * (len(p) - n_fixed) + np.array([0, 0, n_fixed])) / len(p)
    for topic in ("all", "handler"):
        row = _trend(con, code, topic, YEAR)
        assert (row["method"], row["n"], row["n_corrected"]) == ("em", len(p), n_fixed)
        assert np.allclose(_shares(row), expected, atol=1e-9)
        fixed = _trend(con, "0580", topic, YEAR)
        assert (fixed["method"], fixed["n"], fixed["n_corrected"]) == ("em", 5, 5)
        assert np.allclose(_shares(fixed), [0, 0, 1]) and fixed["share_negative_lo"] == fixed["share_negative_hi"] == 1


def test_cells_are_asked_for_only_for_an_em_heads_scored_groups_and_em_without_them_is_refused():
    from synpunkt.trends import corrected_columns, em_groups

    corrs = _corrections()
    stats = pd.DataFrame({"topic": ["all", "all", "handler", "handler"], "n_unscored": [0, 3, 0, 2]})
    assert list(em_groups(stats, _quant(corrs))) == [0, 2]
    assert list(em_groups(stats, Q.Quantification({"topic_sentiment": corrs["em"]}, "test"))) == [2]
    assert not len(em_groups(stats, Q.Quantification({"sentiment": corrs["acc"], "topic_sentiment": corrs["acc"]},
                                                     "test")))
    # an EM head's groups without probabilities use its labels-only head: no cells for them
    assert not len(em_groups(stats, Q.Quantification({"topic_sentiment" + Q.LABELS_SUFFIX: corrs["em"]}, "test")))
    group = pd.DataFrame({"scope": ["national"], "municipality_code": [None], "year": [YEAR], "topic": ["all"],
                          "n": [10], **{f"{x}_{s}": [0] for x in ("n", "h") for s in SENTIMENTS}})
    with pytest.raises(ValueError, match="trend_cells.sql"):
        corrected_columns(group, corrs["em"])


def test_em_groups_corrected_in_chunks_get_the_same_shares(warehouse, monkeypatch):
    from synpunkt import trends
    from synpunkt.warehouse import refresh_trends

    con, _, _ = warehouse
    quant = _quant(_corrections())
    query = "SELECT scope, municipality_code, topic, method, share_positive, share_skeptical, share_negative " \
            "FROM yearly_trends ORDER BY ALL"
    refresh_trends(con, VERSION, quant)
    whole = con.execute(query).df()
    monkeypatch.setattr(trends, "CHUNK", 3)  # 4 EM groups per head: chunks of 3 and 1
    refresh_trends(con, VERSION, quant)
    chunked = con.execute(query).df()
    assert (whole["method"] == "em").sum() == 8
    assert whole.drop(columns=[c for c in whole if c.startswith("share")]).equals(
        chunked.drop(columns=[c for c in chunked if c.startswith("share")]))
    assert np.allclose(whole.filter(like="share"), chunked.filter(like="share"), atol=1e-12)

"""Corrected shares: the correction recovers known mixes, its intervals cover, and the warehouse carries them."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from synpunkt import quantification as Q
from synpunkt.labels import SENTIMENTS
from synpunkt.quantification_eval import MIXES, calibrate_widening, coverage, cross_fit_errors, method_errors
from synpunkt.model_card import carry_sections, with_section

K = len(SENTIMENTS)
CONFUSION = np.array([[0.85, 0.10, 0.05],   # P(predicted j | true k): columns are true classes;
                      [0.12, 0.70, 0.20],   # a fifth of negatives are called skeptical, as the issue says
                      [0.03, 0.20, 0.75]])


def synthetic(rng, mix, n, confusion=CONFUSION):
    """True labels drawn at `mix`, and calibrated-looking probabilities whose argmax follows `confusion`."""
    y = rng.choice(K, n, p=mix)
    cdf = np.cumsum(confusion[:, y].T, axis=1)
    pred = np.minimum((rng.random(n)[:, None] > cdf).sum(1), K - 1)
    proba = np.full((n, K), 0.15) + 0.55 * np.eye(K)[pred] + rng.dirichlet(np.ones(K), n) * 0.1
    return proba / proba.sum(1, keepdims=True), y


def test_acc_recovers_a_known_mix_that_cc_gets_wrong():
    rng = np.random.default_rng(1)
    fit_p, fit_y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 3000)
    corr = Q.fit_correction("acc", fit_p, fit_y, list(SENTIMENTS), n_boot=0)
    proba, _ = synthetic(rng, (0.79, 0.04, 0.17), 20000)
    stats = Q.group_stats(Q.method_inputs("acc", proba), np.zeros(len(proba), int), 1, second_moments=False)
    corrected, cc = Q.point_estimate(corr, stats)[0], stats.mean[0]
    assert np.abs(corrected - (0.79, 0.04, 0.17)).max() < 0.015
    assert cc[1] > 0.08  # classify-and-count more than doubles the skeptical share


def test_corrections_beat_classify_and_count_across_mixes():
    rng = np.random.default_rng(2)
    fit_p, fit_y = synthetic(rng, (0.4, 0.3, 0.3), 3000)
    pool_p, pool_y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 30000)
    errors = method_errors(fit_p, fit_y, pool_p, pool_y, mixes=MIXES[:20], n=4000, reps=3)
    assert errors["acc"]["mae_pp"] <= 2.0 and errors["acc"]["mae_pp"] <= errors["cc"]["mae_pp"] / 2
    assert errors["pacc"]["mae_pp"] <= errors["cc"]["mae_pp"] / 2


def test_bootstrap_intervals_cover_about_95_percent():
    rng = np.random.default_rng(3)
    fit_p, fit_y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 600)
    pool_p, pool_y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 20000)  # a large pool: the truth is the population's
    for method in ("acc", "pacc"):
        corr = Q.fit_correction(method, fit_p, fit_y, list(SENTIMENTS), n_boot=200)
        cov = coverage(corr, pool_p, pool_y, sizes=(300,), reps=8, mixes=MIXES[:25])["300"]
        assert 0.90 <= cov["shares"] <= 0.99, (method, cov)
        assert 0.88 <= cov["net_score"] <= 0.995, (method, cov)


def test_cross_fitting_separates_the_bias_of_classify_and_count_from_the_noise_of_the_corrections():
    rng = np.random.default_rng(6)
    p, y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 600)
    cf = cross_fit_errors(p, y, repeats=2, reps=2, methods=("cc", "acc"))
    assert cf["cc"]["bias_pp"] > 3 * cf["acc"]["bias_pp"]
    for m in ("cc", "acc"):  # the whole split and an independent set of its size halve the variance
        assert cf[m]["predicted_mae_pp"] <= cf[m]["mae_pp"]
    assert cf["acc"]["predicted_mae_pp"] < cf["cc"]["predicted_mae_pp"]


def test_the_shift_term_widens_the_intervals_and_the_calibrated_factor_is_applied():
    rng = np.random.default_rng(7)
    fit_p, fit_y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 300)
    corr = Q.fit_correction("acc", fit_p, fit_y, list(SENTIMENTS), n_boot=200)
    proba, _ = synthetic(rng, (0.5, 0.2, 0.3), 3000)
    stats = Q.group_stats(Q.method_inputs("acc", proba), np.zeros(len(proba), int), 1)
    width = {shift: np.ptp(Q.intervals(Q.bootstrap_shares(corr, stats, 800, shift=shift)), axis=0).sum()
             for shift in (False, True)}
    assert width[True] > 1.2 * width[False]
    draws = Q.bootstrap_shares(corr, stats, 800)
    plain = Q.corrected_intervals(corr, stats, draws)
    corr.widen = {"n": [100, 1000], "shares": [1.0, 1.5], "net_score": [1.0, 2.0]}
    assert np.allclose(Q.widen_factor(corr, [50, 100, 10 ** 0.5 * 100, 1000, 10 ** 6]), [1.0, 1.0, 1.25, 1.5, 1.5])
    wide = Q.corrected_intervals(corr, stats, draws)
    assert np.allclose(wide["share"], plain["share"])
    assert np.allclose(wide["hi"] - wide["share"], 1.5 * (plain["hi"] - plain["share"]))
    assert np.allclose(wide["share"] - wide["lo"], 1.5 * (plain["share"] - plain["lo"]))
    assert np.allclose(wide["net_hi"] - wide["net"], 2.0 * (plain["net_hi"] - plain["net"]))


def test_calibrated_intervals_cover_a_pool_whose_error_rates_differ_from_the_fitting_set():
    """The fitting set and the pool are independent draws of 250 rows: batches from the pool inherit its own
    error rates (the shift a bootstrap over comments alone misses); the calibration restores the coverage."""
    rng = np.random.default_rng(8)
    fit_p, fit_y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 250)
    widen = calibrate_widening("acc", fit_p, fit_y, repeats=3, reps=2, sizes=(100, 1500))
    assert widen["n"] == [100, 1500] and min(widen["shares"] + widen["net_score"]) >= 1.0
    corr = Q.fit_correction("acc", fit_p, fit_y, list(SENTIMENTS), n_boot=200)
    corr.widen = {k: widen[k] for k in ("n", "shares", "net_score")}
    inside = []
    for seed in range(6):
        pool_p, pool_y = synthetic(np.random.default_rng(100 + seed), (1 / 3, 1 / 3, 1 / 3), 250)
        inside.append(coverage(corr, pool_p, pool_y, seed, sizes=(1500,), reps=2, mixes=MIXES[:20])["1500"])
    assert np.mean([c["shares"] for c in inside]) >= 0.9
    assert np.mean([c["shares"] for c in inside]) > np.mean([c["shares_unwidened"] for c in inside]) - 1e-9


def test_loader_falls_back_clearly(tmp_path):
    assert Q.load(tmp_path).heads == {} and "fit-shares" in Q.load(tmp_path).status
    rng = np.random.default_rng(4)
    p, y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 300)
    Q.save(tmp_path / Q.QUANTIFICATION_FILE, "m@1", {"sentiment": Q.fit_correction("acc", p, y, list(SENTIMENTS))}, {})
    assert Q.load(tmp_path, "m@1").head("sentiment").method == "acc"
    stale = Q.load(tmp_path, "m@2")
    assert stale.heads == {} and "m@1" in stale.status


def test_card_section_is_replaced_and_carried():
    card = with_section("# Model\n\ntext\n", "quantification", "## Shares\n\nold")
    card = with_section(card, "quantification", "## Shares\n\nnew")
    assert card.count("## Shares") == 1 and "new" in card and "old" not in card
    assert "new" in carry_sections(card, "# Model re-rendered\n")


# -- the warehouse ------------------------------------------------------------------------------------------------


def _quant():
    rng = np.random.default_rng(5)
    p, y = synthetic(rng, (1 / 3, 1 / 3, 1 / 3), 2000)
    heads = {"sentiment": Q.fit_correction("pacc", p, y, list(SENTIMENTS), n_boot=100),
             "topic_sentiment": Q.fit_correction("acc", p, y, list(SENTIMENTS), n_boot=100)}
    for corr in heads.values():
        corr.widen = {"n": [100, 400, 1500], "shares": [1.0, 1.1, 1.3], "net_score": [1.0, 1.05, 1.2]}
    return Q.Quantification(heads, "test")


def test_trends_carry_corrected_and_cc_figures(con):
    from analyst_warehouse import VERSION
    from synpunkt.warehouse import refresh_trends

    refresh_trends(con, VERSION, _quant())
    rows = con.execute("SELECT n, n_positive, share_positive, share_positive_lo, share_positive_hi, "
                       "cc_share_positive, net_score, net_score_lo, net_score_hi, cc_net_score, small_sample, method, "
                       "topic FROM yearly_shares").df()
    assert (rows["cc_share_positive"] == rows["n_positive"] / rows["n"]).all()
    assert (rows["share_positive_lo"] <= rows["share_positive"] + 1e-9).all()
    assert (rows["share_positive"] <= rows["share_positive_hi"] + 1e-9).all()
    assert (rows["net_score_lo"] <= rows["net_score_hi"]).all()
    assert set(rows.loc[rows.topic == "all", "method"]) == {"pacc"}
    assert set(rows.loc[rows.topic != "all", "method"]) == {"acc"}
    assert (rows["small_sample"] == (rows["n"] < 30)).all()
    nat = con.execute("SELECT share_positive + share_skeptical + share_negative, cc_net_score FROM national_shares").fetchall()
    assert all(abs(s - 1) < 1e-9 for s, _ in nat)


def test_corrections_override_predictions_in_every_view(con):
    from analyst_warehouse import VERSION
    from synpunkt.warehouse import insert_frame, refresh_trends

    refresh_trends(con, VERSION)
    cid, before_n = con.execute("SELECT comment_id, 1 FROM comments_classified WHERE sentiment = 'negative' "
                                "AND municipality_code = '0180' AND year = 2025 ORDER BY comment_id LIMIT 1").fetchall()[0]
    counts = lambda: con.execute("SELECT n_positive, n_negative, n_corrected FROM yearly_shares WHERE "
                                 "municipality_code = '0180' AND year = 2025 AND topic = 'all'").fetchall()[0]
    pos, neg, _ = counts()
    rows = [{"comment_id": cid, "sentiment": s, "topics": t, "reviewer": "Åsa Öberg", "imported_at": datetime(2026, 1, d),
             "model_version": VERSION, "model_sentiment": "negative", "sample_kind": "random",
             "source_checksum": c, "source_row": 2} for s, t, d, c in
            (("skeptical", ["handler"], 1, "a"), ("positive", ["wait_time", "handler"], 2, "b"))]
    insert_frame(con, "corrections", pd.DataFrame(rows))
    refresh_trends(con, VERSION)
    assert con.execute("SELECT sentiment, topics, corrected, model_sentiment FROM comments_classified "
                       "WHERE comment_id = ?", [cid]).fetchall()[0] == ("positive", ["wait_time", "handler"], True, "negative")
    assert sorted(con.execute("SELECT topic, topic_sentiment FROM comment_topics WHERE comment_id = ?",
                              [cid]).fetchall()) == [("handler", "positive"), ("wait_time", "positive")]
    assert counts() == (pos + 1, neg - 1, 1)
    assert con.execute("SELECT count(*) FROM corrections WHERE comment_id = ?", [cid]).fetchall()[0][0] == 2  # history
    assert con.execute("SELECT n_reviewed, accuracy FROM review_accuracy WHERE municipality_code = '0180'").fetchall()[0] \
        == (1, 0.0)


MISCALIBRATED = np.array([[0.85, 0.10, 0.05],  # the odd source: most mild complaints called skeptical or positive
                          [0.12, 0.40, 0.45],
                          [0.03, 0.50, 0.50]])


def sourced(seed: int, sizes: dict[str, int], odd: str | None = None):
    """Validation-like rows from several sources (one with its own error rates, `odd`), with each row's source."""
    parts = [(name, synthetic(np.random.default_rng(seed + i), (0.4, 0.25, 0.35), n,
                              MISCALIBRATED if name == odd else CONFUSION)) for i, (name, n) in enumerate(sizes.items())]
    proba = np.concatenate([p for _, (p, _) in parts])
    y = np.concatenate([yy for _, (_, yy) in parts])
    return proba, y, np.concatenate([np.full(len(yy), name, object) for name, (_, yy) in parts])


def test_sources_are_id_prefixes_and_small_ones_are_merged():
    from synpunkt.quantification_eval import source_groups, source_of

    assert source_of(["a0001", "h2325", "in0007"]).tolist() == ["a", "h", "in"]
    y = np.tile([0, 1, 2], 40)
    source = np.array(["a"] * 60 + ["x"] * 18 + ["z"] * 18 + ["w"] * 24, object)
    groups = source_groups(source, y)
    assert [name for name, _ in groups] == ["a", "w+x+z"] and groups[1][1].sum() == 60
    tiny = np.array(["a"] * 100 + ["b"] * 20, object)  # b alone is too small and has nothing to merge with
    assert [name for name, _ in source_groups(tiny, y)] == ["a"]


def test_source_grouped_calibration_widens_for_a_source_calibrated_unlike_the_others():
    """One of four sources has its own error rates: random halves mix it into both halves and barely see it;
    holding each source out finds it, and the factors (and the intervals) grow."""
    from synpunkt.quantification_eval import validation_coverage
    from synpunkt.quantification_fit import _calibration_text

    proba, y, source = sourced(20, {"a": 150, "b": 150, "c": 150, "d": 150}, odd="d")
    cal = calibrate_widening("acc", proba, y, repeats=2, reps=2, sizes=(100, 1500), source=source,
                             scheme="source_grouped")
    assert cal["scheme"] == "source_grouped" and set(cal["sources"]) == {"a", "b", "c", "d"}
    assert all(g > h for g, h in zip(cal["shares"], cal["random_halves"]["shares"])), cal
    stretch = {name: s["shares"]["1500"]["stretch_q95"] for name, s in cal["sources"].items()}
    assert max(stretch, key=stretch.get) == "d" and cal["sources"]["d"]["rows"] == 150
    corr = Q.fit_correction("acc", proba, y, list(SENTIMENTS), n_boot=100)
    stats = Q.group_stats(Q.method_inputs("acc", proba[:400]), np.zeros(400, int), 1)
    draws = Q.bootstrap_shares(corr, stats)
    width = {}
    for name, widen in (("grouped", cal), ("halves", {"n": cal["n"], **cal["random_halves"]})):
        ci = Q.corrected_intervals(Q.Correction(**{**corr.__dict__, "widen": widen}), stats, draws)
        width[name] = (ci["hi"] - ci["lo"]).sum()
    assert width["grouped"] > width["halves"]
    check = validation_coverage("acc", {k: cal[k] for k in ("n", "shares", "net_score")}, proba, y,
                                sizes=(100,), source=source)
    assert check["scheme"] == "source_grouped" and set(check["per_source"]) == {"a", "b", "c", "d"}
    assert 0 <= check["leave_one_out"]["100"]["mean"] <= 1 and check["sizes"]["100"]["pools"] == 4
    text = _calibration_text(cal, check)
    assert "source-grouped cross-fitting" in text and "d (150; " in text and "leave one source out" in text
    corr.widen = {k: cal[k] for k in ("n", "shares", "net_score")}
    alt = coverage(corr, proba[source == "d"], y[source == "d"], sizes=(400,), reps=2, mixes=MIXES[:5],
                   alternatives={"random_halves": {"n": cal["n"], **cal["random_halves"]}})["400"]
    assert alt["alternatives"]["random_halves"]["mean_width_pp"] < alt["mean_width_pp"]


def test_too_few_sources_fall_back_to_random_halves():
    from synpunkt.quantification_eval import validation_coverage

    proba, y, source = sourced(30, {"a": 200, "b": 200, "c": 10})
    for src in (source, None):
        cal = calibrate_widening("acc", proba, y, repeats=2, reps=2, sizes=(100, 1500), source=src)
        assert cal["scheme"] == "random_halves" and min(cal["shares"] + cal["net_score"]) >= 1.0
        assert "random_halves" not in cal and "grouped" not in cal
    assert cal["sources"] == {}
    check = validation_coverage("acc", {k: cal[k] for k in ("n", "shares", "net_score")}, proba, y, repeats=2,
                                sizes=(100,), source=source)
    assert check["scheme"] == "random_halves" and check["sizes"]["100"]["pools"] == 4


def test_trends_read_the_correction_of_the_model_that_classified(con, tmp_path):
    """`run --model X`: the trends use X's quantification.json, not the configured model's (fitted for another
    version, which would leave the shares uncorrected)."""
    from analyst_warehouse import VERSION
    from synpunkt.warehouse import refresh_trends

    model = tmp_path / "model_x"
    model.mkdir()
    Q.save(model / Q.QUANTIFICATION_FILE, VERSION, _quant().heads, {})
    refresh_trends(con, VERSION, model_dir=model)
    methods = set(con.execute("SELECT method FROM yearly_shares").df()["method"])
    assert methods == {"pacc", "acc"}
    refresh_trends(con, VERSION)  # the configured (shipped) model's file is fitted for another version
    assert set(con.execute("SELECT method FROM yearly_shares").df()["method"]) == {"cc"}

"""EM on bias-corrected calibrated probabilities (synpunkt.quantification_em): BCTS recovers a known miscalibration,
EM recovers a known mix, binned statistics agree with per-comment EM, the intervals cover, old files load."""

from __future__ import annotations

import json

import numpy as np

from synpunkt import quantification as Q
from synpunkt import quantification_em as EM
from synpunkt.labels import SENTIMENTS
from synpunkt.quantification_eval import MIXES, calibrate_widening, coverage

K = len(SENTIMENTS)
MEANS = np.array([[1.5, 0.0], [-0.5, 1.2], [-1.2, -1.0]])
"""Class means of a two-dimensional Gaussian feature (unit covariance): the classes overlap as the real ones do."""
TRUE_A, TRUE_B = 1.6, np.array([0.4, -0.3])


def calibrated(rng, mix, n, prior=(1 / 3, 1 / 3, 1 / 3)):
    """Labels drawn at `mix` and the exact posteriors under `prior` (a perfectly calibrated model for a population
    with that prior)."""
    y = rng.choice(K, n, p=mix)
    x = MEANS[y] + rng.standard_normal((n, 2))
    ll = -0.5 * ((x[:, None, :] - MEANS[None]) ** 2).sum(-1) + np.log(prior)
    p = np.exp(ll - ll.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), y


def miscalibrated(p, a=TRUE_A, b=TRUE_B):
    """The model's probabilities when the calibrated log-ratios are a r + b of the model's r."""
    return EM.recalibrated((EM.log_ratios(p) - b) / a, 1.0, np.zeros(K - 1))


def sample(rng, mix, n, **kw):
    p, y = calibrated(rng, mix, n, **kw)
    return miscalibrated(p), y


def test_bcts_recovers_a_known_calibration():
    p, y = sample(np.random.default_rng(0), (1 / 3, 1 / 3, 1 / 3), 30000)
    theta = EM.fit_bcts(EM.log_ratios(p), y)
    assert abs(theta[0] - TRUE_A) < 0.06 and np.abs(theta[1:] - TRUE_B).max() < 0.08, theta
    # the vectorised Newton refinement (used for the bootstrap replicates) finds the same optimum
    again = EM.refine_bcts(np.array([1.0, 0.0, 0.0]), EM.log_ratios(p), y, np.ones((1, len(y))), steps=30)[0]
    assert np.allclose(again, theta, atol=1e-4)


def test_em_with_bcts_recovers_a_known_mix_that_plain_em_misses():
    rng = np.random.default_rng(1)
    fit_p, fit_y = sample(rng, (0.4, 0.3, 0.3), 4000)
    corr = Q.fit_correction("em", fit_p, fit_y, list(SENTIMENTS), n_boot=0)
    plain = Q.Correction("em", list(SENTIMENTS), np.eye(K).tolist(), corr.prior, corr.n_fit)
    p, y = sample(rng, (0.79, 0.04, 0.17), 40000)
    truth = np.bincount(y, minlength=K) / len(y)
    group = np.zeros(len(y), int)
    fitted, uncorrected = EM.em_shares(corr, p, group, 1)[0], EM.em_shares(plain, p, group, 1)[0]
    assert np.abs(fitted - truth).max() < 0.01, (fitted, truth)
    assert np.abs(uncorrected - truth).max() > 2 * np.abs(fitted - truth).max()


def test_the_likelihood_solver_is_saerens_em():
    p, _ = calibrated(np.random.default_rng(2), (0.6, 0.1, 0.3), 6000)
    group = np.random.default_rng(3).integers(0, 5, len(p))
    plain = Q.Correction("em", list(SENTIMENTS), np.eye(K).tolist(), [1 / 3] * 3, 0)
    ours = EM.em_shares(plain, p, group, 5, width=None)
    saerens = Q.em_prior(p, group, 5, np.full(K, 1 / 3), iterations=20000, tol=1e-13)
    assert np.abs(ours - saerens).max() < 1e-6


def test_a_class_absent_from_the_batch_goes_to_zero():
    rng = np.random.default_rng(4)
    p, y = calibrated(rng, (0.5, 0.0, 0.5), 5000)
    plain = Q.Correction("em", list(SENTIMENTS), np.eye(K).tolist(), [1 / 3] * 3, 0)
    q = EM.em_shares(plain, p, np.zeros(len(p), int), 1, width=None)[0]
    assert q[1] < 0.01 and abs(q.sum() - 1) < 1e-12 and (q >= 0).all()


def test_binned_em_agrees_with_per_comment_em():
    rng = np.random.default_rng(5)
    fit_p, fit_y = sample(rng, (1 / 3, 1 / 3, 1 / 3), 3000)
    corr = Q.fit_correction("em", fit_p, fit_y, list(SENTIMENTS), n_boot=0)
    parts = [sample(rng, mix, n) for mix in ((0.79, 0.04, 0.17), (0.3, 0.2, 0.5), (0.1, 0.7, 0.2))
             for n in (40, 400, 20000)]
    p = np.concatenate([x for x, _ in parts])
    group = np.concatenate([np.full(len(x), g) for g, (x, _) in enumerate(parts)])
    cells = EM.cell_stats_from_proba(p, group, len(parts))
    assert len(cells.count) < len(p) / 3 and cells.count.sum() == len(p)
    exact = EM.em_shares(corr, p, group, len(parts), width=None)
    binned = EM.em_estimate(corr, cells)
    assert np.abs(binned - exact).max() < 1e-3  # well under 0.5 percentage points


def test_intervals_cover_about_95_percent_over_fitting_sets_and_pools():
    """Each fitting set (300 labelled rows) gets its own correction; batches are drawn from a pool of the same size
    (its own calibration: the shift term) and from a large one (the population). One fitting set's error is shared
    by all its batches, so the coverage is averaged over fitting sets."""
    third = (1 / 3, 1 / 3, 1 / 3)
    small, large = [], []
    for s in range(6):
        corr = Q.fit_correction("em", *sample(np.random.default_rng(500 + s), third, 300), list(SENTIMENTS), n_boot=200)
        for pool, out in ((300, small), (20000, large)):
            cov = coverage(corr, *sample(np.random.default_rng(100 * pool + s), third, pool), s, sizes=(100, 1500),
                           reps=1, mixes=MIXES)
            out.append([[c["shares"], c["net_score"]] for c in cov.values()])
    small, large = np.mean(small, 0), np.mean(large, 0)  # [size, shares / net score]
    assert (0.9 <= small).all() and (small <= 0.99).all(), small
    assert (0.93 <= large).all(), large  # conservative there: the shift term assumes the batch's comments differ


def test_the_widening_calibrates_for_em():
    rng = np.random.default_rng(7)
    widen = calibrate_widening("em", *sample(rng, (1 / 3, 1 / 3, 1 / 3), 300), repeats=2, reps=2, sizes=(100, 1500))
    assert widen["n"] == [100, 1500] and min(widen["shares"] + widen["net_score"]) >= 1.0
    assert all(0.5 < c <= 1 for c in widen["shares_uncalibrated_coverage"])


def test_em_intervals_count_known_comments_and_groups_without_model_comments():
    rng = np.random.default_rng(8)
    fit_p, fit_y = sample(rng, (1 / 3, 1 / 3, 1 / 3), 1000)
    corr = Q.fit_correction("em", fit_p, fit_y, list(SENTIMENTS), n_boot=100)
    p, _ = sample(rng, (0.5, 0.2, 0.3), 500)
    known = np.array([[10.0, 0, 0], [0, 3, 1]])  # group 1 has only human-corrected comments
    cells = EM.cell_stats_from_proba(p, np.zeros(len(p), int), 2, known=known)
    ci = EM.em_intervals(corr, cells)
    q = EM.em_estimate(corr, EM.cell_stats_from_proba(p, np.zeros(len(p), int), 1))[0]
    assert np.allclose(ci["share"][0], (q * 500 + known[0]) / 510)
    assert np.allclose(ci["share"][1], [0, 0.75, 0.25]) and np.allclose(ci["lo"][1], ci["hi"][1])
    assert np.isclose(ci["net"][1], -25.0)
    assert (ci["lo"][0] < ci["share"][0]).all() and (ci["share"][0] < ci["hi"][0]).all()
    assert ci["net_lo"][0] < ci["net"][0] < ci["net_hi"][0]
    assert {k: v.shape for k, v in ci.items()} == {"share": (2, K), "lo": (2, K), "hi": (2, K), "net": (2,),
                                                    "net_lo": (2,), "net_hi": (2,)}


def fitted_em_and_batch(seed: int, n_fit: int, n_boot: int, n_batch: int) -> tuple[Q.Correction, EM.CellStats]:
    """An EM correction fitted on an even mix and one batch (a single group) drawn at 50/20/30."""
    rng = np.random.default_rng(seed)
    fit_p, fit_y = sample(rng, (1 / 3, 1 / 3, 1 / 3), n_fit)
    corr = Q.fit_correction("em", fit_p, fit_y, list(SENTIMENTS), n_boot=n_boot)
    return corr, EM.cell_stats_from_proba(sample(rng, (0.5, 0.2, 0.3), n_batch)[0], np.zeros(n_batch, int), 1)


def test_the_calibrated_widening_is_applied():
    corr, cells = fitted_em_and_batch(9, 500, 100, 1000)
    plain = EM.em_intervals(corr, cells)
    corr.widen = {"n": [100, 1000], "shares": [1.0, 1.5], "net_score": [1.0, 2.0]}
    wide = EM.em_intervals(corr, cells)
    assert np.allclose(wide["hi"] - wide["share"], 1.5 * (plain["hi"] - plain["share"]))
    assert np.allclose(wide["net_hi"] - wide["net"], 2.0 * (plain["net_hi"] - plain["net"]))


def test_fit_uncertainty_widens_the_intervals():
    corr, cells = fitted_em_and_batch(10, 300, 200, 20000)
    lin = EM.em_linearised(corr, cells)
    with_fit = EM.em_draws(corr, *lin, shift=False)
    sampling_only = EM.em_draws(Q.Correction(**{**corr.__dict__, "calibration_bootstrap": []}), *lin)
    shifted = EM.em_draws(corr, *lin)
    width = lambda d: np.ptp(Q.intervals(d), axis=0).sum()
    assert width(with_fit) > 1.5 * width(sampling_only)
    assert width(shifted) > 1.2 * width(with_fit)


def test_an_em_correction_round_trips_and_old_files_without_the_new_fields_load(tmp_path):
    rng = np.random.default_rng(11)
    p, y = sample(rng, (1 / 3, 1 / 3, 1 / 3), 300)
    corr = Q.fit_correction("em", p, y, list(SENTIMENTS), n_boot=20)
    Q.save(tmp_path / Q.QUANTIFICATION_FILE, "m@1", {"sentiment": corr}, {})
    loaded = Q.load(tmp_path, "m@1").head("sentiment")
    assert loaded.calibration == corr.calibration and len(loaded.calibration_bootstrap) == 20
    old = {"method": "em", "classes": list(SENTIMENTS), "matrix": np.eye(K).tolist(), "prior": [0.4, 0.3, 0.3],
           "n_fit": 300, "bootstrap": [], "widen": {}}
    (tmp_path / Q.QUANTIFICATION_FILE).write_text(json.dumps({"model_version": "m@0", "heads": {"sentiment": old},
                                                              "evaluation": {}}), encoding="utf-8")
    legacy = Q.load(tmp_path, "m@0").head("sentiment")
    assert legacy.calibration == [] and legacy.calibration_bootstrap == []
    ci = EM.em_intervals(legacy, EM.cell_stats_from_proba(p, np.zeros(len(p), int), 1))  # a = 1, b = 0: plain EM
    assert ci["lo"][0].sum() <= 1 <= ci["hi"][0].sum()


def test_the_selection_rule_chooses_em_when_its_predicted_error_is_lowest_and_keeps_a_labels_fallback():
    """Miscalibrated probabilities: the corrections are close, but EM on recalibrated probabilities has the least
    variance; the rule picks it on validation alone, and the per-topic head keeps a labels-only correction."""
    from synpunkt.labels import TOPICS
    from synpunkt.quantification_eval import fit_heads
    from synpunkt.quantification_fit import card_section

    rng = np.random.default_rng(12)

    def head(n):
        p, y = sample(rng, (0.4, 0.25, 0.35), n)
        return {"proba": p, "y": y, "topic": np.asarray(TOPICS, object)[rng.integers(0, 2, n)]}

    arrays = {"validation": {"sentiment": head(600), "topic_sentiment": head(600)}}  # test sets: see coverage tests
    heads, ev = fit_heads(arrays, "m@1", repeats=2)
    assert heads["sentiment"].method == "em" and ev["sentiment"]["method"] == "em"
    em = ev["sentiment"]["validation_cross_fit"]["em"]["predicted_mae_pp"]
    assert all(em <= ev["sentiment"]["validation_cross_fit"][m]["predicted_mae_pp"] for m in Q.METHODS)
    assert heads["sentiment"].calibration and len(heads["sentiment"].calibration_bootstrap) > 0
    assert heads["topic_sentiment_labels"].method in Q.HARD_METHODS
    assert ev["sentiment"]["interval_calibration"]["n"] == [100, 400, 1500]
    card = card_section(ev)
    assert "### sentiment: EM" in card and "BCTS on the validation rows: a = " in card

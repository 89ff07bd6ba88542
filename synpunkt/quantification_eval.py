"""Choosing, fitting and checking the share correction (synpunkt.quantification) for a model:
``synpunkt fit-shares`` (or ``synpunkt evaluate --quantification``).

* Selection, on the in-domain validation split only: repeated 2-fold cross-fitting (the correction fitted on one
  half, measured on the other half resampled to many class mixes) splits each method's error into bias (the mean
  signed error per mix and class) and variance. Half the fitting data and an independent set of half the size
  double the variance of a correction fitted on the whole split and applied to a set of that size, so the
  selection uses the MAE predicted for that case (folded normal with the bias and half the variance); the plain
  cross-fitted MAE is reported beside it. The chosen method is fitted on the whole validation split.
* Intervals: on the same cross-fitted halves, batches of 100, 400 and 1,500 comments get the method's intervals
  (synpunkt.quantification.bootstrap_shares; for EM the linearised draws of synpunkt.quantification_em, with BCTS
  fitted on the fitting half only); the factor by which they must be widened around the point estimate
  for 95 % of them to contain the true share is stored per batch size (a split-conformal calibration).
* Measurement: errors on the in-domain test split and the independent test set (never used to fit or choose),
  and coverage: the share of simulated batches (drawn from the test sets at each mix) whose 95 % interval
  contains the true share.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt import quantification as Q
from synpunkt import quantification_em as EM
from synpunkt.labels import SENTIMENTS, TOPICS, sentiment_index

log = logging.getLogger(__name__)

NAMED_MIXES = {"medborgarpulsen_2020": (0.79, 0.04, 0.17), "even_negative": (0.30, 0.20, 0.50)}
GRID_MIXES = [tuple(round(v, 2) for v in (a, b, 1 - a - b)) for a, b in product(np.arange(0.1, 0.81, 0.1), repeat=2)
              if 1 - a - b > 0.05]
MIXES = list(NAMED_MIXES.values()) + GRID_MIXES
"""38 mixes of (positive, skeptical, negative): the two named ones and a 0.1-step grid over the simplex."""
HEADS = ("sentiment", "topic_sentiment")
LABELS_FALLBACK_HEADS = ("topic_sentiment",)
"""Heads whose probabilities predictions stored before they were kept lack (the per-topic head: labels only)."""
SAMPLE_N, REPS = 500, 40
COVERAGE_SIZES, COVERAGE_REPS = (100, 400, 1500), 40
CROSS_FIT_REPEATS, CROSS_FIT_REPS = 60, 15
"""Repeated 2-fold cross-fitting on the validation split: repeats, and samples per mix in each half."""
CALIBRATION_REPEATS, CALIBRATION_REPS = 60, 5
N_BOOT = 300


# -- held-out predictions -------------------------------------------------------------------------------------
def heldout_arrays(frame: pd.DataFrame, proba: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Per head: calibrated probabilities and true class indices. Sentiment: one row per comment; topic sentiment:
    one row per labelled comment-topic pair (the per-topic head's probabilities), with the topic."""
    out = {"sentiment": {"proba": proba["sentiment"], "y": frame["sentiment"].map(sentiment_index).to_numpy()}}
    rows, topics, ys = [], [], []
    for i, gold in enumerate(frame["topic_sentiment"]):
        for topic, sentiment in (gold.items() if isinstance(gold, dict) else []):
            rows.append(i), topics.append(topic), ys.append(sentiment_index(sentiment))
    idx, tix = np.asarray(rows, int), np.asarray([TOPICS.index(t) for t in topics], int)
    out["topic_sentiment"] = {"proba": proba["topic_sentiment"][idx, tix] if len(idx) else np.zeros((0, 3)),
                              "y": np.asarray(ys, int), "topic": np.asarray(topics, object)}
    return out


def predict_heldout(clf, frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    return heldout_arrays(frame, clf.probabilities(clf.logits(frame["text"].tolist(), progress=False)))


# -- resampling ------------------------------------------------------------------------------------------------
def draw_samples(rng, y: np.ndarray, mixes: list[tuple], n: int, reps: int, exact: bool = True):
    """Indices of `reps` samples of `n` rows per mix (rows drawn with replacement within each class): exact class
    counts (exact=True, the APP protocol) or multinomial ones. Returns (index [m], group [m], truth [groups, k])."""
    k = len(mixes[0])
    by_class = [np.flatnonzero(y == c) for c in range(k)]
    idx, grp, truth = [], [], []
    for g, (mix, _) in enumerate((m, r) for m in mixes for r in range(reps)):
        counts = (np.round(np.asarray(mix) * n).astype(int) if exact else rng.multinomial(n, mix))
        for c in range(k):
            if counts[c] and len(by_class[c]):
                idx.append(rng.choice(by_class[c], counts[c]))
                grp.append(np.full(counts[c], g))
        truth.append(counts / counts.sum() if exact else np.asarray(mix, float))
    return np.concatenate(idx), np.concatenate(grp), np.asarray(truth)


def estimate(method: str, corr: Q.Correction, proba: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Point estimates [groups, k] of `method` for samples given as rows of `proba` with group indices."""
    if method == "em":
        return EM.em_shares(corr, proba, group, n_groups)
    stats = Q.group_stats(Q.method_inputs(method, proba), group, n_groups, second_moments=False)
    return Q.point_estimate(corr, stats)


def method_errors(fit_proba, fit_y, eval_proba, eval_y, seed: int = 0, mixes=MIXES, n: int = SAMPLE_N,
                  reps: int = REPS) -> dict[str, dict]:
    """Per method: MAE in percentage points over all mixes, classes and samples, and per named mix."""
    rng = np.random.default_rng(seed)
    idx, grp, truth = draw_samples(rng, eval_y, mixes, n, reps)
    out = {}
    for method in Q.METHODS:
        corr = Q.fit_correction(method, fit_proba, fit_y, list(SENTIMENTS), n_boot=0)
        err = np.abs(estimate(method, corr, eval_proba[idx], grp, len(truth)) - truth) * 100
        per_mix = err.reshape(len(mixes), reps, -1).mean(axis=(1, 2))
        out[method] = {"mae_pp": float(err.mean()), "max_mix_mae_pp": float(per_mix.max()),
                       **{f"mae_pp.{name}": float(per_mix[mixes.index(mix)]) for name, mix in NAMED_MIXES.items()
                          if mix in mixes}}
    return out


def _folded_normal_mean(bias: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """E|X| for X ~ N(bias, sd^2)."""
    from scipy.special import erf

    sd = np.maximum(sd, 1e-9)
    return sd * np.sqrt(2 / np.pi) * np.exp(-bias ** 2 / (2 * sd ** 2)) + bias * erf(bias / (sd * np.sqrt(2)))


def _halves(n: int, repeats: int, seed: int):
    """(repeat, fit rows, held-out rows) of `repeats` random 2-fold splits, both ways round."""
    for r in range(repeats):
        half = np.random.default_rng(seed + 100 * r).permutation(n) % 2 == 0
        yield r, half, ~half
        yield r, ~half, half


def cross_fit_errors(proba, y, repeats: int = CROSS_FIT_REPEATS, seed: int = 0, reps: int = CROSS_FIT_REPS,
                     methods=Q.METHODS) -> dict[str, dict[str, float]]:
    """Per method, from repeated 2-fold cross-fitting on the validation split (samples of SAMPLE_N at every mix):
    ``mae_pp`` (the plain cross-fitted MAE), ``bias_pp`` (mean |mean signed error| over mixes and classes) and
    ``predicted_mae_pp``: the MAE predicted for the correction fitted on the whole split and applied to an
    independent set of that size (bias kept, variance halved), the selection criterion."""
    errors = {m: [] for m in methods}
    for r, fit, held in _halves(len(y), repeats, seed):
        rng = np.random.default_rng(seed + 7 * r + int(fit[0]))
        idx, grp, truth = draw_samples(rng, y[held], MIXES, SAMPLE_N, reps)
        for m in methods:
            corr = Q.fit_correction(m, proba[fit], y[fit], list(SENTIMENTS), n_boot=0)
            est = estimate(m, corr, proba[held][idx], grp, len(truth))
            errors[m].append(((est - truth) * 100).reshape(len(MIXES), reps, -1))
    out = {}
    for m, e in errors.items():
        e = np.concatenate(e, axis=1)  # mixes x samples x classes
        bias, var = e.mean(1), e.var(1)
        out[m] = {"mae_pp": float(np.abs(e).mean()), "bias_pp": float(np.abs(bias).mean()),
                  "predicted_mae_pp": float(_folded_normal_mean(bias, np.sqrt(var / 2)).mean())}
    return out


def _scores(point: np.ndarray, lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """How far each interval must be stretched from the point estimate to reach the truth (<= 1: inside)."""
    below = (point - truth) / np.maximum(point - lo, 1e-9)
    above = (truth - point) / np.maximum(hi - point, 1e-9)
    return np.where(truth < point, below, above)


def _simulate(corrs: list[Q.Correction], proba, y, n: int, reps: int, rng, mixes=MIXES
              ) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Batches of n rows drawn (multinomial at each mix) from the pool: their intervals under each of `corrs`
    (the same method and bootstrap, e.g. with and without widening), true shares and true net scores."""
    idx, grp, truth = draw_samples(rng, y, mixes, n, reps, exact=False)
    seed = int(rng.integers(1 << 30))
    if corrs[0].method == "em":
        cells = EM.cell_stats_from_proba(proba[idx], grp, len(truth))
        lin = EM.em_linearised(corrs[0], cells)
        cis = [EM.intervals_from(c, lin, cells, seed) for c in corrs]
    else:
        stats = Q.group_stats(Q.method_inputs(corrs[0].method, proba[idx]), grp, len(truth))
        draws = Q.bootstrap_shares(corrs[0], stats, seed=seed)
        cis = [Q.corrected_intervals(c, stats, draws) for c in corrs]
    return cis, truth, 100 * (truth[:, 0] - truth[:, 2])


def calibrate_widening(method: str, proba, y, repeats: int = CALIBRATION_REPEATS, reps: int = CALIBRATION_REPS,
                       sizes=COVERAGE_SIZES, seed: int = 0, level: float = 0.95) -> dict:
    """Widening factors per batch size (shares and net score, never below 1) from repeated 2-fold cross-fitting on
    the validation split: the `level` quantile of how far the bootstrap intervals of batches drawn from one half
    must be stretched to contain the truth, with the correction fitted on the other half."""
    scores = {n: {"shares": [], "net_score": []} for n in sizes}
    for r, fit, held in _halves(len(y), repeats, seed):
        corr = Q.fit_correction(method, proba[fit], y[fit], list(SENTIMENTS), n_boot=N_BOOT, seed=seed + r)
        rng = np.random.default_rng(seed + 11 * r + int(fit[0]))
        for n in sizes:
            (ci,), truth, net = _simulate([corr], proba[held], y[held], n, reps, rng)
            scores[n]["shares"].append(_scores(ci["share"], ci["lo"], ci["hi"], truth).ravel())
            scores[n]["net_score"].append(_scores(ci["net"], ci["net_lo"], ci["net_hi"], net))
    out = {"n": list(sizes)}
    for what in ("shares", "net_score"):
        s = [np.concatenate(scores[n][what]) for n in sizes]
        out[what] = [round(max(1.0, float(np.quantile(v, min(1.0, level * (1 + 1 / len(v)))))), 4) for v in s]
        out[f"{what}_uncalibrated_coverage"] = [round(float((v <= 1 + 1e-9).mean()), 4) for v in s]
    return out


def coverage(corr: Q.Correction, proba, y, seed: int = 0, sizes=COVERAGE_SIZES, reps: int = COVERAGE_REPS,
             mixes=MIXES) -> dict:
    """Share of simulated batches (multinomial at each mix, from the pool proba/y) whose 95 % interval contains
    the true share; per batch size, over all classes, and for the net score (and, for comparison, the same
    before the calibrated widening)."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in sizes:
        (ci, raw), truth, net = _simulate([corr, replace(corr, widen={})], proba, y, n, reps, rng, mixes)
        inside = _scores(ci["share"], ci["lo"], ci["hi"], truth) <= 1 + 1e-9
        out[str(n)] = {"shares": float(inside.mean()),
                       "net_score": float((_scores(ci["net"], ci["net_lo"], ci["net_hi"], net) <= 1 + 1e-9).mean()),
                       **{s: float(inside[:, j].mean()) for j, s in enumerate(SENTIMENTS)},
                       "shares_unwidened": float((_scores(raw["share"], raw["lo"], raw["hi"], truth) <= 1 + 1e-9).mean()),
                       "net_score_unwidened": float((_scores(raw["net"], raw["net_lo"], raw["net_hi"], net)
                                                     <= 1 + 1e-9).mean()),
                       "mean_width_pp": float(((ci["hi"] - ci["lo"]) * 100).mean()), "batches": int(len(truth))}
    return out


def validation_coverage(method: str, widen: dict, proba, y, repeats: int = 20, seed: int = 5000,
                        sizes=COVERAGE_SIZES) -> dict:
    """A check of the calibration on fresh 2-fold splits of the validation split (other seeds than the
    calibration's): per batch size, the mean coverage over the held-out halves and how it spreads from one half
    (one pool of comments) to another: at large batches a single pool's coverage is mostly all or nothing."""
    per = {n: [] for n in sizes}
    for r, fit, held in _halves(len(y), repeats, seed):
        corr = Q.fit_correction(method, proba[fit], y[fit], list(SENTIMENTS), n_boot=N_BOOT, seed=seed + r)
        corr.widen = widen
        cov = coverage(corr, proba[held], y[held], seed=seed + r, sizes=sizes, reps=CALIBRATION_REPS)
        for n in sizes:
            per[n].append(cov[str(n)]["shares"])
    return {str(n): {"mean": float(np.mean(v)), "p10": float(np.quantile(v, 0.1)), "median": float(np.median(v)),
                     "p90": float(np.quantile(v, 0.9)), "halves_in_93_97": float(np.mean((np.asarray(v) >= 0.93)
                                                                                        & (np.asarray(v) <= 0.97))),
                     "halves": len(v)} for n, v in per.items()}


# -- the command -----------------------------------------------------------------------------------------------
def evaluate_head(val: dict, tests: dict[str, dict], allowed: tuple[str, ...], seed: int = 0,
                  selection: dict | None = None, repeats: int = CALIBRATION_REPEATS) -> tuple[Q.Correction, dict]:
    """Select among `allowed` (predicted MAE from cross-fitting on validation; `selection`, cross_fit_errors' result,
    when already computed), fit on the validation rows, calibrate the intervals on `repeats` cross-fitted
    validation splits, measure on the tests."""
    selection = selection or cross_fit_errors(val["proba"], val["y"], seed=seed)
    method = min(allowed, key=lambda m: selection[m]["predicted_mae_pp"])
    corr = Q.fit_correction(method, val["proba"], val["y"], list(SENTIMENTS), n_boot=N_BOOT, seed=seed)
    calibration = calibrate_widening(method, val["proba"], val["y"], repeats, seed=seed)
    corr.widen = {k: calibration[k] for k in ("n", "shares", "net_score")}
    report = {"method": method, "allowed": list(allowed), "validation_cross_fit": selection,
              **({"calibration": corr.calibration} if corr.calibration else {}),
              "interval_calibration": calibration, "n_fit": int(len(val["y"])), "test": {}, "coverage": {},
              "validation_coverage": validation_coverage(method, corr.widen, val["proba"], val["y"],
                                                         max(1, repeats // 3), seed=seed + 5000)}
    for name, t in tests.items():
        if len(t["y"]) == 0:
            continue
        report["test"][name] = method_errors(val["proba"], val["y"], t["proba"], t["y"], seed)
        if "topic" in t:
            report["test"][name]["per_topic"] = {
                topic: method_errors(val["proba"], val["y"], t["proba"][t["topic"] == topic],
                                     t["y"][t["topic"] == topic], seed, reps=10)
                for topic in TOPICS if (t["topic"] == topic).sum() >= 20}
        report["coverage"][name] = coverage(corr, t["proba"], t["y"], seed)
        if method == "em":
            report["binning_max_error_pp"] = max(report.get("binning_max_error_pp", 0.0),
                                                 binning_error(corr, t["proba"], t["y"], seed))
    return corr, report


def binning_error(corr: Q.Correction, proba, y, seed: int = 0, reps: int = 5) -> float:
    """The largest difference (percentage points) between EM on the warehouse's cells and EM on every comment,
    over samples of SAMPLE_N at every mix."""
    idx, grp, truth = draw_samples(np.random.default_rng(seed), y, MIXES, SAMPLE_N, reps)
    binned = EM.em_shares(corr, proba[idx], grp, len(truth))
    return float(np.abs(binned - EM.em_shares(corr, proba[idx], grp, len(truth), width=None)).max() * 100)


def fit_shares(model_dir: Path | None = None, in_domain: Path | None = None, independent: Path | None = None,
               seed: int = 0) -> dict:
    """Fit and evaluate the share corrections for a model; write quantification.json and the card section."""
    from synpunkt.classifier import Classifier
    from synpunkt.config import IN_DOMAIN_DATA, INDEPENDENT_TEST_DATA, model_dir as default_model_dir
    from synpunkt.data import load_in_domain
    from synpunkt.model_card import write_card_section

    model_dir = Path(model_dir or default_model_dir())
    clf = Classifier.load(model_dir)
    data = load_in_domain(in_domain or IN_DOMAIN_DATA)
    frames = {"validation": data[data.split == "validation"], "in_domain_test": data[data.split == "test"]}
    indep = Path(independent or INDEPENDENT_TEST_DATA)
    if indep.exists():
        frames["independent_test"] = load_in_domain(indep)
    arrays = {name: predict_heldout(clf, f.reset_index(drop=True)) for name, f in frames.items()}
    heads, evaluation = fit_heads(arrays, clf.version, seed)
    Q.save(model_dir / Q.QUANTIFICATION_FILE, clf.version, heads, evaluation)
    write_card_section(model_dir, "quantification", card_section(evaluation))
    return evaluation


def fit_heads(arrays: dict[str, dict[str, dict]], model_version: str, seed: int = 0, repeats: int = CROSS_FIT_REPEATS
              ) -> tuple[dict[str, Q.Correction], dict]:
    """The corrections and their evaluation from held-out arrays ({"validation": ..., test sets: ...}, each
    predict_heldout's result): per head the method chosen among those the warehouse computes (CC, ACC, PACC, EM) by
    the validation cross-fit rule, and for a head in LABELS_FALLBACK_HEADS whose choice needs probabilities also
    its labels-only correction (CC or ACC by the same rule, head + Q.LABELS_SUFFIX) for warehouse groups with
    predictions stored without them. `repeats`: the random 2-fold splits for the choice and the calibration."""
    heads, evaluation = {}, {"model_version": model_version, "mixes": len(MIXES), "sample_n": SAMPLE_N, "reps": REPS,
                             "cross_fit_repeats": repeats}
    for head in HEADS:
        val = arrays["validation"][head]
        tests = {n: a[head] for n, a in arrays.items() if n != "validation"}
        selection = cross_fit_errors(val["proba"], val["y"], repeats, seed)
        heads[head], evaluation[head] = evaluate_head(val, tests, Q.WAREHOUSE_METHODS, seed, selection, repeats)
        if head in LABELS_FALLBACK_HEADS and heads[head].method not in Q.HARD_METHODS:
            name = head + Q.LABELS_SUFFIX
            heads[name], evaluation[name] = evaluate_head(val, tests, Q.HARD_METHODS, seed, selection, repeats)
    return heads, evaluation


def _binning_text(ev: dict) -> str:
    """How far the warehouse's binned EM is from EM on every comment, per head using EM."""
    errors = [f"{ev[h]['binning_max_error_pp']:.4f} ({h})" for h in HEADS if "binning_max_error_pp" in ev.get(h, {})]
    return (f"; on the test sets' samples it differs from EM on every comment by at most {', '.join(errors)} "
            "percentage points") if errors else ""


def card_section(ev: dict) -> str:
    """The model card's section on corrected shares (how they are made; tables of MAE and coverage)."""
    lines = ["## Corrected shares (quantification)", "",
             "Published shares are corrected for the classifier's errors (`synpunkt/quantification.py`), with the "
             "labelled in-domain validation split as the only fitting data (the public sentiment sets were tried "
             "as extra fitting data and rejected: their confusion rates are another domain's, and fitted on them "
             "the corrections' cross-fitted error on in-domain validation was 3 to 6 times larger).", "",
             f"- **Choice of method**, on validation only: {ev.get('cross_fit_repeats', CROSS_FIT_REPEATS)} random "
             f"2-fold splits, each half resampled to {ev['mixes']} class mixes with the correction fitted on the "
             "other half. Each method's error is split into bias (mean signed error per mix and class) and "
             "variance; the method with the lowest MAE predicted for a correction fitted on the whole split and "
             "applied to an independent set of that size (bias kept, variance halved) is chosen among classify-and-"
             "count (CC), adjusted CC (ACC: the confusion matrix inverted), probabilistic ACC (PACC: the same with "
             "the probabilities) and EM. Plain classify-and-count has a bias that does not shrink with more "
             "labelled data; the corrections have little.",
             "- **EM** (Saerens, Latinne and Decaestecker 2002) re-weights each comment's probabilities from the "
             "fitting set's class mix to the batch's until the mix is a fixed point (the maximum-likelihood mix). "
             "It assumes calibrated probabilities: temperature scaling alone leaves per-class miscalibration that "
             "EM turns into bias, so EM runs on probabilities recalibrated with bias-corrected temperature scaling "
             "(BCTS, Alexandari, Kundaje and Shrikumar 2020: softmax(a log p + b), a and the per-class b fitted by "
             "maximum likelihood on the validation rows; `synpunkt/quantification_em.py`). The warehouse computes it "
             "from counts and mean log-probability ratios per group and cell of width "
             f"{EM.CELL_WIDTH:g} in those ratios (an SQL GROUP BY)" + _binning_text(ev) + ".",
             "- **Intervals** (CC, ACC, PACC): 95 % percentile intervals of a bootstrap with three parts: the "
             "batch's comments (sampling error), the correction refitted on a bootstrap resample of the validation "
             "split (its fit uncertainty), and the batch's own error rates, which may differ from the fitting set's "
             "as much as an independent labelled set of the same size (a second bootstrap matrix moves the batch's "
             "predicted shares: the correction's error on other comments). **EM's** intervals have the same three "
             "parts, linearised: the estimate's sampling covariance from the likelihood's observed information, and "
             "its derivatives in the calibration and the fitting mix times the spread of their bootstrap replicates "
             "(one replicate for the fit, an independent one for the batch's own calibration). Each side is then "
             "widened by a factor per batch size (interpolated in log size) calibrated on the cross-fitted "
             "validation halves so that 95 % of their batches' intervals contain the true share.",
             f"- **Measured** on the test sets resampled to the same mixes ({ev['reps']} samples of {ev['sample_n']} "
             "per mix; MAE in percentage points), and coverage: the share of simulated batches (multinomial at "
             f"each mix, {COVERAGE_REPS} per mix and size) whose interval contains the true share. Neither test set "
             "is used to fit or choose anything. A test set is one pool of comments: batches drawn from it share "
             "its own deviation from the fitting set, which the intervals allow for as for a set of the fitting "
             "set's size; a smaller pool deviates more, so at large batches its coverage can fall below 95 %.", "",
             f"Fitted for model version `{ev['model_version']}`; a file fitted for another version is ignored "
             "(the warehouse then falls back to classify-and-count). Reproduce with `synpunkt fit-shares`.", ""]
    for head in [h for head in HEADS for h in (head, head + Q.LABELS_SUFFIX) if h in ev]:
        h = ev[head]
        cf, cal = h["validation_cross_fit"], h["interval_calibration"]
        note = (f" for the groups whose per-topic predictions were stored without probabilities (before they were "
                f"kept); the others use {ev[head[:-len(Q.LABELS_SUFFIX)]]['method'].upper()}"
                if head.endswith(Q.LABELS_SUFFIX) else "")
        bcts = (f"BCTS on the validation rows: a = {h['calibration'][0]:.3f}, b = ("
                + ", ".join(f"{b:.3f}" for b in h["calibration"][1:]) + ") for classes "
                + ", ".join(SENTIMENTS[1:]) + " against positive." if h.get("calibration") else "")
        lines += [f"### {head}: {h['method'].upper()} (fitted on {h['n_fit']} validation rows){note}", "",
                  *([bcts, ""] if bcts else []),
                  "| set | " + " | ".join(m.upper() for m in Q.METHODS) + " | 79/4/17 CC -> chosen | 30/20/50 CC -> chosen |",
                  "|---" * (len(Q.METHODS) + 3) + "|",
                  "| validation, 2-fold cross-fitted | " + " | ".join(f"{cf[m]['mae_pp']:.2f}" for m in Q.METHODS) + " | | |",
                  "| validation, bias (mean abs) | " + " | ".join(f"{cf[m]['bias_pp']:.2f}" for m in Q.METHODS) + " | | |",
                  "| validation, predicted (selection) | " + " | ".join(f"{cf[m]['predicted_mae_pp']:.2f}"
                                                                     for m in Q.METHODS) + " | | |"]
        for name, t in h["test"].items():
            named = [f"{t['cc'].get(f'mae_pp.{k}', float('nan')):.2f} -> {t[h['method']].get(f'mae_pp.{k}', float('nan')):.2f}"
                     for k in NAMED_MIXES]
            lines.append(f"| {name} | " + " | ".join(f"{t[m]['mae_pp']:.2f}" for m in Q.METHODS) + " | "
                         + " | ".join(named) + " |")
        topics = [(name, topic, r) for name, t in h["test"].items() for topic, r in t.get("per_topic", {}).items()
                  if not head.endswith(Q.LABELS_SUFFIX)]  # the same table as the head's own
        if topics:
            lines += ["", "Per topic (test MAE in percentage points, 10 samples per mix; topics with 20 or more rows):",
                      "", "| set | topic | " + " | ".join(m.upper() for m in Q.METHODS) + " |",
                      "|---" * (len(Q.METHODS) + 2) + "|"]
            lines += [f"| {name} | {topic} | " + " | ".join(f"{r[m]['mae_pp']:.2f}" for m in Q.METHODS) + " |"
                      for name, topic, r in topics]
        lines += ["", "Interval widening calibrated on validation (batch size: shares / net score): "
                  + ", ".join(f"{n}: {a:.3f} / {b:.3f}" for n, a, b in zip(cal["n"], cal["shares"], cal["net_score"]))
                  + "; validation coverage before widening: "
                  + ", ".join(f"{n}: {c:.1%}" for n, c in zip(cal["n"], cal["shares_uncalibrated_coverage"])) + ".", "",
                  "Check on fresh 2-fold splits of validation (not the calibration's; one held-out half = one pool of "
                  "comments): coverage of the shares, mean over halves (10th percentile / median / 90th percentile; "
                  "share of halves within 93-97 %): " + "; ".join(
                      f"{n}: {c['mean']:.1%} ({c['p10']:.0%} / {c['median']:.0%} / {c['p90']:.0%}; "
                      f"{c['halves_in_93_97']:.0%})" for n, c in h["validation_coverage"].items()) + ". A test set "
                  "is one pool: at large batches its coverage is that of one draw from this spread.", "",
                  "| set | batch size | coverage, shares | positive | skeptical | negative | net score | "
                  "before widening (shares / net) | mean width (pp) |", "|---|---|---|---|---|---|---|---|---|"]
        for name, cov in h["coverage"].items():
            for n, c in cov.items():
                lines.append(f"| {name} | {n} | {c['shares']:.1%} | {c['positive']:.1%} | {c['skeptical']:.1%} | "
                             f"{c['negative']:.1%} | {c['net_score']:.1%} | {c['shares_unwidened']:.1%} / "
                             f"{c['net_score_unwidened']:.1%} | {c['mean_width_pp']:.1f} |")
        lines.append("")
    return "\n".join(lines)

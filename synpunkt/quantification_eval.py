"""Choosing, fitting and checking the share correction (synpunkt.quantification) for a model:
``synpunkt fit-shares`` (or ``synpunkt evaluate --quantification``).

* Selection: every method's mean absolute error (percentage points) on the in-domain validation split resampled
  to many class mixes, cross-fitted (the correction is fitted on the other folds, never on the rows it is
  measured on). The method with the lowest error is fitted on the whole validation split.
* Measurement: the same errors on the in-domain test split and the independent test set (never used to fit).
* Coverage: the share of simulated batches (drawn from the test sets at each mix) whose 95 % interval contains
  the true share.
"""

from __future__ import annotations

import logging
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt import quantification as Q
from synpunkt.labels import SENTIMENTS, TOPICS, sentiment_index

log = logging.getLogger(__name__)

NAMED_MIXES = {"medborgarpulsen_2020": (0.79, 0.04, 0.17), "even_negative": (0.30, 0.20, 0.50)}
GRID_MIXES = [tuple(round(v, 2) for v in (a, b, 1 - a - b)) for a, b in product(np.arange(0.1, 0.81, 0.1), repeat=2)
              if 1 - a - b > 0.05]
MIXES = list(NAMED_MIXES.values()) + GRID_MIXES
"""38 mixes of (positive, skeptical, negative): the two named ones and a 0.1-step grid over the simplex."""
HEADS = ("sentiment", "topic_sentiment")
SAMPLE_N, REPS = 500, 40
COVERAGE_SIZES, COVERAGE_REPS = (100, 400, 1500), 40


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
        return Q.em_prior(proba, group, n_groups, np.asarray(corr.prior))
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


def cross_fit_errors(proba, y, folds: int = 5, repeats: int = 3, seed: int = 0) -> dict[str, float]:
    """Mean over folds (of `repeats` random fold assignments) of each method's MAE (pp) on the validation split,
    each fold measured with the correction fitted on the other folds."""
    per = []
    for r in range(repeats):
        fold = np.random.default_rng(seed + 100 * r).permutation(len(y)) % folds
        per += [method_errors(proba[fold != f], y[fold != f], proba[fold == f], y[fold == f], seed + f, reps=15)
                for f in range(folds)]
    return {m: float(np.mean([p[m]["mae_pp"] for p in per])) for m in Q.METHODS}


def coverage(corr: Q.Correction, proba, y, seed: int = 0, sizes=COVERAGE_SIZES, reps: int = COVERAGE_REPS,
             mixes=MIXES) -> dict:
    """Share of simulated batches (multinomial at each mix, from the pool proba/y) whose 95 % interval contains
    the true share; per batch size, over all classes, and for the net score."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in sizes:
        idx, grp, truth = draw_samples(rng, y, mixes, n, reps, exact=False)
        stats = Q.group_stats(Q.method_inputs(corr.method, proba[idx]), grp, len(truth))
        draws = Q.bootstrap_shares(corr, stats, seed=seed + n)
        lo, hi = Q.intervals(draws)
        inside = (truth >= lo - 1e-9) & (truth <= hi + 1e-9)
        net_lo, net_hi = Q.intervals(Q.net_draws(draws)[..., None])
        true_net = 100 * (truth[:, 0] - truth[:, 2])
        net_in = (true_net >= net_lo[:, 0] - 1e-9) & (true_net <= net_hi[:, 0] + 1e-9)
        out[str(n)] = {"shares": float(inside.mean()), "net_score": float(net_in.mean()),
                       **{s: float(inside[:, j].mean()) for j, s in enumerate(SENTIMENTS)},
                       "mean_width_pp": float(((hi - lo) * 100).mean()), "batches": int(len(truth))}
    return out


# -- the command -----------------------------------------------------------------------------------------------
def evaluate_head(val: dict, tests: dict[str, dict], allowed: tuple[str, ...], seed: int = 0) -> tuple[Q.Correction, dict]:
    """Select (cross-fitted validation MAE among `allowed`), fit on the validation rows, measure on the tests."""
    selection = cross_fit_errors(val["proba"], val["y"], seed=seed)
    method = min(allowed, key=selection.get)
    corr = Q.fit_correction(method, val["proba"], val["y"], list(SENTIMENTS), seed=seed)
    report = {"method": method, "allowed": list(allowed), "validation_cross_fit_mae_pp": selection,
              "n_fit": int(len(val["y"])), "test": {}, "coverage": {}}
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
    return corr, report


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
    heads, evaluation = {}, {"model_version": clf.version, "mixes": len(MIXES), "sample_n": SAMPLE_N, "reps": REPS}
    for head in HEADS:
        allowed = Q.METHODS if head == "sentiment" else Q.HARD_METHODS  # the warehouse stores per-topic labels only
        tests = {n: a[head] for n, a in arrays.items() if n != "validation"}
        heads[head], evaluation[head] = evaluate_head(arrays["validation"][head], tests, allowed, seed)
    Q.save(model_dir / Q.QUANTIFICATION_FILE, clf.version, heads, evaluation)
    write_card_section(model_dir, "quantification", card_section(evaluation))
    return evaluation


def card_section(ev: dict) -> str:
    """The model card's section on corrected shares (tables of MAE and coverage)."""
    lines = ["## Corrected shares (quantification)", "",
             "Published shares are corrected for the classifier's errors (`synpunkt/quantification.py`). The "
             f"method is chosen by its mean absolute error on the in-domain validation split resampled to "
             f"{ev['mixes']} class mixes (cross-fitted, 5 folds x 3), then fitted on the whole validation split. Below: "
             f"MAE in percentage points on the test sets resampled to the same mixes ({ev['reps']} samples of "
             f"{ev['sample_n']} per mix), and the coverage of the 95 % intervals (share of simulated batches whose "
             "interval contains the true share). Reproduce with `synpunkt fit-shares`.", "",
             f"Fitted for model version `{ev['model_version']}`; a file fitted for another version is ignored "
             "(the warehouse then falls back to classify-and-count).", ""]
    for head in HEADS:
        h = ev[head]
        lines += [f"### {head}: {h['method'].upper()} (fitted on {h['n_fit']} validation rows)", "",
                  "| set | " + " | ".join(m.upper() for m in Q.METHODS) + " | 79/4/17 CC -> chosen | 30/20/50 CC -> chosen |",
                  "|---" * (len(Q.METHODS) + 3) + "|",
                  "| validation (cross-fitted) | " + " | ".join(f"{h['validation_cross_fit_mae_pp'][m]:.2f}"
                                                           for m in Q.METHODS) + " | | |"]
        for name, t in h["test"].items():
            named = [f"{t['cc'].get(f'mae_pp.{k}', float('nan')):.2f} -> {t[h['method']].get(f'mae_pp.{k}', float('nan')):.2f}"
                     for k in NAMED_MIXES]
            lines.append(f"| {name} | " + " | ".join(f"{t[m]['mae_pp']:.2f}" for m in Q.METHODS) + " | "
                         + " | ".join(named) + " |")
        lines += ["", "| set | batch size | coverage, shares | positive | skeptical | negative | net score | "
                      "mean width (pp) |", "|---|---|---|---|---|---|---|---|"]
        for name, cov in h["coverage"].items():
            for n, c in cov.items():
                lines.append(f"| {name} | {n} | {c['shares']:.1%} | {c['positive']:.1%} | {c['skeptical']:.1%} | "
                             f"{c['negative']:.1%} | {c['net_score']:.1%} | {c['mean_width_pp']:.1f} |")
        lines.append("")
    return "\n".join(lines)

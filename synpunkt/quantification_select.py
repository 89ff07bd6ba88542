"""Choosing how the share intervals' widening is calibrated (quantification_eval.WIDENING_SCHEME), on the in-domain
validation split only, by nested cross-fitting.

The widening factors per batch size are themselves fitted (quantification_eval.calibrate_widening), so a scheme is
judged on rows its calibration never saw: each outer fold fits the correction and calibrates every scheme's
factors on one part of the validation split only, then draws batches from the other part exactly as
quantification_eval.coverage draws them from a test set (every mix of MIXES, multinomial batches of 100, 400 and
1,500 comments) and counts the intervals that contain the true share. The outer folds are random 2-fold splits
(both ways round) and the split of the sources into the largest one and the rest (both ways round: a held-out
part written separately from the fitting part). At large batches a held-out part's coverage is nearly all or
nothing (its own deviation from the fitting rows is shared by all its batches), so many folds are needed; the
stretches of every batch are kept so that any scheme's coverage is computed from the same batches.

The rule (RULE) was fixed before the first run.

``python -m synpunkt.quantification_select [OUT.json]`` predicts the validation split with the model and writes
the figures (about 25 minutes on one CPU thread with the defaults).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from synpunkt import quantification as Q
from synpunkt import quantification_eval as E
from synpunkt.labels import SENTIMENTS

CANDIDATES = {"random_halves": "random_halves", "grouped": "source_grouped",
              "pool_adjusted": "source_grouped_pool_adjusted"}
"""calibrate_widening's name for each scheme's factors -> the scheme."""
HEAD_METHODS = {"sentiment": "em", "topic_sentiment": "em", "topic_sentiment_labels": "acc"}
"""The shipped method per head (chosen by quantification_eval's own rule; not what is chosen here)."""
RANDOM_REPEATS, INNER_REPEATS, MATCHED_REPEATS, REPS = 20, 10, 2, 40
TARGET, TIE = 0.95, 0.002
RULE = ("coverage per head and batch size = the mean of (mean over the random folds, mean over the source folds); "
        "the scheme with the lowest mean over heads of its largest |coverage - 95 %| over the batch sizes is "
        "chosen, one scheme for all heads; within 0.002 of the best, the narrower intervals")


def outer_folds(source: np.ndarray, repeats: int = RANDOM_REPEATS, seed: int = 9000):
    """(name, fit rows, held-out rows): the largest source against the rest, both ways round, then `repeats`
    random 2-fold splits, both ways round."""
    source = np.asarray(source, object).astype(str)
    names, counts = np.unique(source, return_counts=True)
    top = names[counts.argmax()]
    largest = source == top
    if 0 < largest.sum() < len(largest):
        yield f"fit_{top}_eval_rest", largest, ~largest
        yield f"fit_rest_eval_{top}", ~largest, largest
    for k, (r, fit, held) in enumerate(E._halves(len(source), repeats, seed)):
        yield f"random{r}{'ab'[k % 2]}", fit, held


def fold_stretches(method: str, proba, y, source, fit, held, inner_repeats: int = INNER_REPEATS,
                   matched_repeats: int = MATCHED_REPEATS, reps: int = REPS, sizes=E.COVERAGE_SIZES,
                   seed: int = 1, batch_seed: int = 3) -> dict:
    """One outer fold: every scheme's factors calibrated on the fitting rows, and how far each held-out batch's
    unwidened interval must be stretched to contain the truth (quantification_eval._scores) per size."""
    corr = Q.fit_correction(method, proba[fit], y[fit], list(SENTIMENTS), n_boot=E.N_BOOT, seed=seed)
    cal = E.calibrate_widening(method, proba[fit], y[fit], inner_repeats, sizes=sizes, seed=seed, source=source[fit],
                               matched_repeats=matched_repeats)
    # one source: no scheme's own factors, every scheme is the random halves' (cal's own)
    factors = {name: {w: list(cal.get(name, cal)[w]) for w in ("shares", "net_score")} for name in CANDIDATES}
    rng = np.random.default_rng(batch_seed)
    stretch = {}
    for n in sizes:
        ci, shares, net = E._batch_scores(corr, proba[held], y[held], n, reps, rng)
        stretch[n] = {"shares": shares, "net_score": net, "width_pp": (ci["hi"] - ci["lo"]) * 100}
    return {"factors": factors, "scheme": cal["scheme"], "stretch": stretch, "held_rows": int(held.sum())}


def _covered(fold: dict, name: str, i: int, n, what: str = "shares") -> float:
    return float((fold["stretch"][n][what] <= fold["factors"][name][what][i] + 1e-9).mean())


def _width(fold: dict, name: str, i: int, n) -> float:
    """Mean width (pp) of the widened shares' intervals (each side stretched by the factor; bounds ignored)."""
    return float(fold["stretch"][n]["width_pp"].mean() * fold["factors"][name]["shares"][i])


def summarise(folds: dict[str, dict], sizes=E.COVERAGE_SIZES) -> dict:
    """Per scheme: coverage (shares, net score) and mean width per size over the random folds, the source folds,
    and their mean (the rule's figure), and the rule's score (largest |coverage - TARGET| over sizes)."""
    blocks = {"random": [f for k, f in folds.items() if k.startswith("random")],
              "source": [f for k, f in folds.items() if not k.startswith("random")]}
    out = {}
    for name in CANDIDATES:
        row = {}
        for block, fs in blocks.items():
            if fs:
                row[block] = {str(n): {"shares": float(np.mean([_covered(f, name, i, n) for f in fs])),
                                       "net_score": float(np.mean([_covered(f, name, i, n, "net_score") for f in fs])),
                                       "sd_over_folds": float(np.std([_covered(f, name, i, n) for f in fs])),
                                       "mean_width_pp": float(np.mean([_width(f, name, i, n) for f in fs]))}
                              for i, n in enumerate(sizes)}
        parts = [row[b] for b in blocks if b in row]
        row["coverage"] = {str(n): float(np.mean([p[str(n)]["shares"] for p in parts])) for n in sizes}
        row["mean_width_pp"] = {str(n): float(np.mean([p[str(n)]["mean_width_pp"] for p in parts])) for n in sizes}
        row["score"] = max(abs(v - TARGET) for v in row["coverage"].values())
        row["mean_factors"] = [float(np.mean([f["factors"][name]["shares"][i] for f in folds.values()]))
                               for i in range(len(sizes))]
        out[CANDIDATES[name]] = row
    return out


def choose(per_head: dict[str, dict]) -> str:
    """The rule: the scheme with the lowest mean over heads of its score; within TIE of it, the narrowest."""
    schemes = list(next(iter(per_head.values())))
    score = {s: float(np.mean([h[s]["score"] for h in per_head.values()])) for s in schemes}
    width = {s: float(np.mean([np.mean(list(h[s]["mean_width_pp"].values())) for h in per_head.values()]))
             for s in schemes}
    best = min(score.values())
    return min((s for s in schemes if score[s] <= best + TIE), key=width.get)


def select_widening(validation: dict[str, dict], head_methods: dict[str, str] | None = None,
                    repeats: int = RANDOM_REPEATS, log=print, **kwargs) -> dict:
    """The nested check on validation arrays (quantification_eval.heldout_arrays' result: per head proba, y,
    source; a head + LABELS_SUFFIX uses its base head's rows): per head and scheme summarise's figures, and the
    rule's choice."""
    per_head = {}
    for head, method in (head_methods or HEAD_METHODS).items():
        a = validation[head.removesuffix(Q.LABELS_SUFFIX)]
        folds = {}
        for k, (name, fit, held) in enumerate(outer_folds(a["source"], repeats)):
            t = time.time()
            folds[name] = fold_stretches(method, a["proba"], a["y"], np.asarray(a["source"], object), fit, held,
                                         batch_seed=3 + k, **kwargs)
            log(f"{head} {name}: {folds[name]['scheme']}, {time.time() - t:.0f} s")
        per_head[head] = summarise(folds)
    return {"heads": per_head, "chosen": choose(per_head), "rule": RULE}


def main(argv: list[str]) -> None:
    """Predict the validation split with the configured model and write the nested check's figures."""
    import torch

    from synpunkt.classifier import Classifier
    from synpunkt.config import IN_DOMAIN_DATA, model_dir
    from synpunkt.data import load_in_domain

    torch.set_num_threads(1)
    clf = Classifier.load(Path(model_dir()))
    data = load_in_domain(IN_DOMAIN_DATA)
    validation = E.predict_heldout(clf, data[data.split == "validation"].reset_index(drop=True))
    result = {"model_version": clf.version, **select_widening(validation)}
    text = json.dumps(result, indent=1)
    Path(argv[0]).write_text(text, encoding="utf-8") if argv else print(text)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Evaluation metrics: macro-F1 and MCC with bootstrap intervals, per-class and per-topic reports, ECE."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, matthews_corrcoef, precision_recall_fscore_support

BOOTSTRAP_SAMPLES = 1000


def bootstrap_ci(metric: Callable[[np.ndarray, np.ndarray], float], y_true: np.ndarray, y_pred: np.ndarray,
                 n: int = BOOTSTRAP_SAMPLES, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval of metric(y_true, y_pred), resampling rows with replacement."""
    rng = np.random.default_rng(seed)
    m = len(y_true)
    stats = [metric(y_true[idx], y_pred[idx]) for idx in (rng.integers(0, m, m) for _ in range(n))]
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """ECE: bin-size-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if len(confidence) == 0:
        return float("nan")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int] | None = None) -> float:
    return float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0))


def sentiment_report(y_true: np.ndarray, proba: np.ndarray, names: tuple[str, ...],
                     proba_uncalibrated: np.ndarray | None = None) -> dict:
    """Macro-F1 and MCC (with 95 % bootstrap CIs), per-class precision/recall/F1, confusion matrix, ECE."""
    labels = list(range(len(names)))
    y_pred = proba.argmax(1)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    report = {
        "n": int(len(y_true)),
        "macro_f1": macro_f1(y_true, y_pred, labels),
        "macro_f1_ci95": bootstrap_ci(lambda a, b: macro_f1(a, b, labels), y_true, y_pred),
        "mcc": float(matthews_corrcoef(y_true, y_pred)),
        "mcc_ci95": bootstrap_ci(lambda a, b: float(matthews_corrcoef(a, b)), y_true, y_pred),
        "accuracy": float((y_true == y_pred).mean()),
        "per_class": {n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, n in enumerate(names)},
        "confusion_matrix": {"labels": list(names),
                             "rows_true_cols_pred": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
        "ece": expected_calibration_error(proba.max(1), y_pred == y_true),
    }
    if proba_uncalibrated is not None:
        report["ece_uncalibrated"] = expected_calibration_error(
            proba_uncalibrated.max(1), proba_uncalibrated.argmax(1) == y_true)
    return report


def topic_report(y_true: np.ndarray, proba: np.ndarray, thresholds: np.ndarray, names: tuple[str, ...],
                 proba_uncalibrated: np.ndarray | None = None) -> dict:
    """Per-topic F1, micro-F1 (95 % bootstrap CI over comments) and binary ECE over all comment-topic pairs."""
    y_pred = (proba >= thresholds).astype(int)

    def micro(a, b):
        return float(f1_score(a, b, average="micro", zero_division=0))

    report = {
        "n": int(len(y_true)),
        "micro_f1": micro(y_true, y_pred),
        "micro_f1_ci95": bootstrap_ci(micro, y_true, y_pred),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "per_topic": {n: {"f1": float(f1_score(y_true[:, j], y_pred[:, j], zero_division=0)),
                          "support": int(y_true[:, j].sum())} for j, n in enumerate(names)},
        "ece": _binary_ece(proba, y_true),
    }
    if proba_uncalibrated is not None:
        report["ece_uncalibrated"] = _binary_ece(proba_uncalibrated, y_true)
    return report


def _binary_ece(proba: np.ndarray, y_true: np.ndarray) -> float:
    """ECE of independent binary predictions: confidence of the predicted side vs. being right."""
    pred = proba >= 0.5
    conf = np.where(pred, proba, 1 - proba).ravel()
    return expected_calibration_error(conf, (pred == y_true.astype(bool)).ravel())

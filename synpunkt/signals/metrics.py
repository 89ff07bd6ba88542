"""The signal heads' metrics and threshold rules (pure): the urgent threshold that keeps false alarms at a rate,
the best-F1 threshold of the repeat head, and the figures evaluation.json and the card report."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_score, recall_score

from synpunkt.signals.data import ALERT_CATEGORIES

MAX_NEGATIVE_FLAG_RATE = 0.05
"""Issue 9's target: at most this share of the non-urgent negative comments flagged."""


def urgent_threshold(p_urgent: np.ndarray, negative_none: np.ndarray, rule_flag: np.ndarray,
                     max_rate: float = MAX_NEGATIVE_FLAG_RATE) -> float:
    """The lowest threshold on p(urgent) that flags at most `max_rate` of the non-urgent negative comments
    (rules included, pure)."""
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        flagged = (p_urgent >= t) | rule_flag
        if flagged[negative_none].mean() <= max_rate:
            return float(t)
    return 0.95


def best_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold with the highest F1 (ties: the lowest, for recall; pure)."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [f1_score(y, p >= t, zero_division=0) for t in grid]
    return float(grid[int(np.argmax(scores))])


def urgent_metrics(frame: pd.DataFrame, detected: pd.DataFrame) -> dict:
    """Per category: n, recall (flagged with any category) and exact recall (the right category); false flags among
    non-urgent comments, negative ones and per none_kind."""
    flagged = detected["category"].notna().to_numpy()
    out: dict = {"categories": {}}
    for c in ALERT_CATEGORIES:
        m = (frame["category"] == c).to_numpy()
        out["categories"][c] = {"n": int(m.sum()), "recall": share(flagged[m]),
                                "recall_exact_category": share((detected["category"].to_numpy() == c)[m])}
    none = (frame["category"] == "none").to_numpy()
    negative = none & (frame["negative_tone"] == True).to_numpy()  # noqa: E712 (None for urgent rows)
    out["none"] = {"n": int(none.sum()), "flag_rate": share(flagged[none]),
                   "n_negative": int(negative.sum()), "negative_flag_rate": share(flagged[negative]),
                   "flag_rate_by_kind": {k: share(flagged[none & (frame["none_kind"] == k).to_numpy()])
                                         for k in sorted(frame.loc[none, "none_kind"].dropna().unique())}}
    out["rule_flags"] = int(detected["rule"].sum())
    return out


def share(mask: np.ndarray) -> float | None:
    """The share of True in mask (4 decimals), None for an empty mask."""
    return round(float(mask.mean()), 4) if len(mask) else None


def repeat_metrics(y: np.ndarray, predicted: np.ndarray) -> dict:
    return {"n": int(len(y)), "positives": int(y.sum()),
            "precision": round(float(precision_score(y, predicted, zero_division=0)), 4),
            "recall": round(float(recall_score(y, predicted, zero_division=0)), 4),
            "f1": round(float(f1_score(y, predicted, zero_division=0)), 4)}

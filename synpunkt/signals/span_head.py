"""The urgent span head (urgent_scoring "max_span"): a second logistic regression that scores each sentence span of
a comment (token means from the same encoder pass as the whole text, synpunkt/signals/spans.py), fitted on
window-level examples, multiple-instance style (synpunkt/signals/mil.py): the most urgent span of each urgent
training text (picked by the whole-text urgent head) as its category, every span of every non-urgent text (angry
ones and the ordinary in-domain comments included) as none.

A comment is flagged when the whole-text head reaches its threshold (unchanged) OR its most urgent span reaches the
span head's own threshold: the lowest that keeps the held-out non-urgent negative comments flagged by the two
together at most at the calibration rate. Measured 2026-11-29 (validation / out-of-fold only): the whole-text head
alone scoring spans, and one head fitted on whole texts and spans with one threshold, both cost held-out recall at
the calibrated rate; a span head of its own with its own threshold kept every held-out figure and recovered
diluted passages (models/signals/README.md).
"""

from __future__ import annotations

import numpy as np

from synpunkt.signals.heads import LinearHead
from synpunkt.signals.mil import most_urgent_span, span_instances

SPAN_C = 0.03
"""Regularisation of the span head (0.03, 0.1, 0.3 compared on held-out and dilution figures: 0.03)."""
SPAN_THRESHOLD_GRID = np.round(np.concatenate([np.arange(0.05, 0.96, 0.01), np.arange(0.955, 0.999, 0.005)]), 3)
"""Span thresholds tried (finer near one: a span head flags angry sentences, so its threshold sits high)."""


def span_training_set(y: np.ndarray, w: np.ndarray, span_x: np.ndarray, span_rows: np.ndarray,
                      selector: LinearHead, selector_x: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, weights) of the span head: each urgent text's most urgent span (by `selector`, on
    selector_x, the same spans in the selector's features; span_x by default) and every span of the none texts.
    y, w: the texts' labels and weights; span_rows: the text of each span."""
    best = most_urgent_span(selector, span_x if selector_x is None else selector_x, span_rows, len(y))
    keep, ys, ws = span_instances(y, w, span_rows, best)
    return span_x[keep], ys, ws


def max_span_urgency(head: LinearHead, span_x: np.ndarray, span_rows: np.ndarray, n: int) -> np.ndarray:
    """Per text (0..n-1), 1 - p(none) of its most urgent span by `head` (0 for a text without spans)."""
    out = np.zeros(n)
    if len(span_rows):
        np.maximum.at(out, span_rows, 1 - head.probabilities(span_x)[:, head.classes.index("none")])
    return out


def span_threshold(p_whole: np.ndarray, p_span: np.ndarray, threshold: float, negative: np.ndarray,
                   rule_flag: np.ndarray, max_rate: float) -> float | None:
    """The lowest span threshold at which the whole-text head (at `threshold`), the span head and the rules
    together flag at most max_rate of the negative rows (the calibration rows' arrays, pure); None when even the
    highest flags more (the span head then stays off)."""
    base = (p_whole >= threshold) | rule_flag
    for t in SPAN_THRESHOLD_GRID:
        if (base | (p_span >= t))[negative].mean() <= max_rate:
            return float(t)
    return None


__all__ = ["SPAN_C", "span_training_set", "max_span_urgency", "span_threshold"]

"""Multiple-instance training rows for the urgent head (urgent_training = "mil"): the head that scores the most
urgent of a text's whole and its sentence spans (urgent_scoring = "max_span") also learns from spans.

An urgent text says somewhere that it is urgent, not in every sentence: its whole text and its most urgent span (by
a whole-text head, the "selector") are positives of its category; texts with at most ``all_spans_upto`` spans give
every span. A non-urgent text is non-urgent everywhere: its whole text and every span are negatives (angry ones
included, so an insulting sentence alone does not become a threat). Each span row takes its text's sample weight.
Pure functions.
"""

from __future__ import annotations

import numpy as np

from synpunkt.signals.heads import LinearHead

NONE = "none"


def most_urgent_span(selector: LinearHead, span_x: np.ndarray, span_rows: np.ndarray, n: int) -> np.ndarray:
    """Per text (0..n-1), the index into span_x of its span with the lowest p(none) by `selector`; -1 without
    spans."""
    best = np.full(n, -1, dtype=int)
    if not len(span_rows):
        return best
    p_none = selector.probabilities(span_x)[:, selector.classes.index(NONE)]
    low = np.full(n, np.inf)
    for j, (r, p) in enumerate(zip(span_rows, p_none)):
        if p < low[r]:
            low[r], best[r] = p, j
    return best


def span_instances(y: np.ndarray, w: np.ndarray, span_rows: np.ndarray, best: np.ndarray,
                   all_spans_upto: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(span indices, labels, weights) of the span rows added to training: every span of a `none` text; of an
    urgent text the span `best` names, or all its spans when it has at most all_spans_upto of them."""
    counts = np.bincount(span_rows, minlength=len(y)) if len(span_rows) else np.zeros(len(y), dtype=int)
    keep = [j for j, r in enumerate(span_rows)
            if y[r] == NONE or best[r] == j or counts[r] <= all_spans_upto]
    keep = np.asarray(keep, dtype=int)
    rows = span_rows[keep] if len(keep) else np.zeros(0, dtype=int)
    return keep, y[rows], w[rows]


def mil_rows(x: np.ndarray, y: np.ndarray, w: np.ndarray, span_x: np.ndarray, span_rows: np.ndarray,
             selector: LinearHead, all_spans_upto: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole texts (x, y, w) and their span instances (span_x, span_rows index into them) as one training set;
    `selector` (a whole-text urgent head, features as span_x's) picks each urgent text's most urgent span."""
    best = most_urgent_span(selector, span_x, span_rows, len(y))
    keep, ys, ws = span_instances(y, w, span_rows, best, all_spans_upto)
    return np.vstack([x, span_x[keep]]), np.concatenate([y, ys]), np.concatenate([w, ws])


__all__ = ["most_urgent_span", "span_instances", "mil_rows"]

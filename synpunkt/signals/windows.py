"""Window scoring for the urgent head: a one-sentence threat inside a long letter is diluted by mean pooling over
the whole text, so the head also scores the text's sentences (and adjacent pairs) and keeps the most urgent.

A text with one window is scored exactly as before (whole text only). Pure functions; the encoder runs elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

WINDOW_SENTENCES = (1,)
"""Window sizes in sentences (sliding, stride one): single sentences (pairs, (1, 2), cost more encoder input)."""
MAX_WINDOW_WORDS = 48
"""Words per window at most (about 64 tokens); a longer sentence is cut into pieces of this many words."""
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def sentences(text: str, max_words: int = MAX_WINDOW_WORDS) -> list[str]:
    """The text's sentences (split after . ! ? … and at line breaks; long ones cut into max_words pieces)."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text or ""):
        words = part.split()
        out += [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]
    return out


def windows(text: str, sizes: Sequence[int] = WINDOW_SENTENCES, max_words: int = MAX_WINDOW_WORDS) -> list[str]:
    """The windows scored besides the whole text: runs of `sizes` consecutive sentences, without duplicates and
    without the whole text itself. Empty for a text of one sentence (it is scored whole, as before)."""
    parts = sentences(text, max_words)
    if len(parts) < 2:
        return []
    whole = " ".join(parts)
    out: list[str] = []
    for size in sizes:
        for start in range(0, len(parts) - size + 1):
            w = " ".join(parts[start:start + size])
            if w != whole and w not in out:
                out.append(w)
    return out


def window_table(texts: Sequence[str], sizes: Sequence[int] = WINDOW_SENTENCES,
                 max_words: int = MAX_WINDOW_WORDS) -> tuple[list[str], np.ndarray]:
    """All texts' windows, flattened, and the row (index into texts) each belongs to."""
    flat: list[str] = []
    rows: list[int] = []
    for i, t in enumerate(texts):
        w = windows(t, sizes, max_words)
        flat += w
        rows += [i] * len(w)
    return flat, np.asarray(rows, dtype=int)


def max_window_probabilities(whole: np.ndarray, per_window: np.ndarray, rows: np.ndarray,
                             none_index: int) -> np.ndarray:
    """Per text, the class probabilities of its most urgent window (lowest p(none)), the whole text included.
    whole: (n, classes); per_window: (m, classes) for windows belonging to rows (m,)."""
    out = whole.copy()
    rows = np.asarray(rows, dtype=int)
    if not len(rows):
        return out
    p_none = per_window[:, none_index]
    order = np.lexsort((np.arange(len(rows)), p_none, rows))  # per row: lowest p(none) first, earliest on ties
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    better = p_none[first] < out[rows[first], none_index]
    out[rows[first][better]] = per_window[first[better]]
    return out


__all__ = ["WINDOW_SENTENCES", "MAX_WINDOW_WORDS", "sentences", "windows", "window_table",
           "max_window_probabilities"]

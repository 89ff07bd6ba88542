"""Label-preserving augmentation for training: casing, emphasis, emoji, typos, diacritics, punctuation.

Reuses the behaviour suite's pure perturbations (synpunkt.behaviour), so the model is trained on the same
kinds of surface change the invariance tests check. Every choice is seeded by the row's text and a seed:
the same input always gives the same augmented frame.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pandas as pd

from synpunkt.behaviour import (add_emoji, add_exclamations, ascii_diacritics, stable_seed, strip_punctuation,
                                swap_typos, to_lower, to_upper)

# Emoji that agree with a comment's label (an emoji "counts by its ordinary meaning", LABELLING.md), plus
# emoji that carry no sentiment and may go on any comment.
EMOJI_BY_SENTIMENT = {
    "positive": ("😊", "👍", "🙏", "❤️", "🎉", "😀", "👌", "🥰"),
    "negative": ("😡", "👎", "😤", "🤬", "😠", "😢", "🙄", "😩"),
    "skeptical": ("🤔", "😐", "🤷", "🤞", "😕", "🙃"),
}
NEUTRAL_EMOJI = ("📄", "🏠", "📞", "🚌", "❄️", "💻", "📬")


def _emoji(text: str, sentiment: str, rng: random.Random) -> str:
    pool = EMOJI_BY_SENTIMENT.get(sentiment, ()) + NEUTRAL_EMOJI
    return add_emoji(text, rng.choice(pool) * rng.choice((1, 1, 2, 3)))


PERTURBATIONS: dict[str, Callable[[str, str, random.Random], str]] = {
    "upper": lambda t, s, r: to_upper(t),
    "lower": lambda t, s, r: to_lower(t),
    "exclamations": lambda t, s, r: add_exclamations(t, "!" * r.choice((2, 3, 3, 4, 5))),
    "emoji": _emoji,
    "typos": lambda t, s, r: swap_typos(t, n=r.choice((1, 1, 2)), seed=r.randrange(1 << 30)),
    "diacritics": lambda t, s, r: ascii_diacritics(t),
    "punctuation": lambda t, s, r: strip_punctuation(t),
}

# Casing and emphasis flip the most predictions (behaviour suite baseline): drawn most often.
WEIGHTS = {"upper": 3.0, "exclamations": 3.0, "emoji": 2.0, "typos": 1.5, "diacritics": 1.5, "punctuation": 0.5,
           "lower": 0.5}


def augment_text(text: str, sentiment: str, seed: int) -> str:
    """One or two perturbations (drawn from PERTURBATIONS) applied to text; the label stays valid."""
    rng = random.Random(seed)
    out = text
    names = sorted(PERTURBATIONS)
    picked = rng.choices(names, weights=[WEIGHTS[n] for n in names], k=rng.choice((1, 1, 1, 2)))
    for name in dict.fromkeys(picked):
        out = PERTURBATIONS[name](out, sentiment, rng)
    return out if out.strip() else text  # e.g. "!!!" without punctuation: keep the original


def augment_frame(df: pd.DataFrame, probability: float, seed: int = 0) -> pd.DataFrame:
    """A copy of a labelled frame where about ``probability`` of the rows have an augmented text."""
    if probability <= 0 or df.empty:
        return df
    out = df.copy()
    texts = []
    for i, (text, sentiment) in enumerate(zip(out["text"], out["sentiment"])):
        row_seed = stable_seed(str(seed), str(i), text)
        pick = random.Random(row_seed).random() < probability
        texts.append(augment_text(text, sentiment, row_seed) if pick else text)
    out["text"] = texts
    return out

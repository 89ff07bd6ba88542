"""Label-preserving augmentation for training: casing, emphasis, emoji, typos, diacritics, punctuation.

Reuses the behaviour suite's pure perturbations (synpunkt.behaviour), so the model is trained on the same
kinds of surface change the invariance tests check. Every choice is seeded by the row's text and a seed:
the same input always gives the same augmented frame.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping

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


def parse_weights(spec: str) -> dict[str, float]:
    """Draw weights from ``"punctuation=7.6,emoji=4.5"``: the named perturbations replace WEIGHTS' values."""
    weights = dict(WEIGHTS)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in PERTURBATIONS:
            raise ValueError(f"augment weight {item!r}: expected NAME=WEIGHT with NAME one of {sorted(PERTURBATIONS)}")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"augment weight {item!r}: the weight is not a number") from None
        if weights[name.strip()] < 0:
            raise ValueError(f"augment weight {item!r}: the weight is negative")
    if not any(weights.values()):
        raise ValueError("augment weights: at least one perturbation needs a weight above 0")
    return weights


def weights_from_flip_rates(rates: Mapping[str, float], floor: float = 0.5, per_point: float = 1.0) -> dict[str, float]:
    """Draw weights from how often each perturbation changes a model's sentiment on VALIDATION comments
    (scripts/validation_invariance.py): ``per_point`` per percentage point, at least ``floor`` so that every
    perturbation stays in training."""
    return {name: round(max(floor, per_point * 100 * rate), 2) for name, rate in rates.items()}


def augment_text(text: str, sentiment: str, seed: int, weights: Mapping[str, float] | None = None) -> str:
    """One or two perturbations (drawn from PERTURBATIONS by ``weights``, default WEIGHTS) applied to text; the
    label stays valid."""
    rng = random.Random(seed)
    names = sorted(PERTURBATIONS)
    weights = WEIGHTS if weights is None else weights
    picked = rng.choices(names, weights=[weights[n] for n in names], k=rng.choice((1, 1, 1, 2)))
    return perturb(text, sentiment, dict.fromkeys(picked), rng)


def perturb(text: str, sentiment: str, names: Iterable[str], rng: random.Random) -> str:
    """``text`` with the named PERTURBATIONS applied in turn; the original where nothing would be left (e.g. "!!!"
    without punctuation)."""
    out = text
    for name in names:
        out = PERTURBATIONS[name](out, sentiment, rng)
    return out if out.strip() else text


def augment_frame(df: pd.DataFrame, probability: float, seed: int = 0,
                  weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """A copy of a labelled frame where about ``probability`` of the rows have an augmented text."""
    if probability <= 0 or df.empty:
        return df
    out = df.copy()
    texts = []
    for i, (text, sentiment) in enumerate(zip(out["text"], out["sentiment"])):
        row_seed = stable_seed(str(seed), str(i), text)
        pick = random.Random(row_seed).random() < probability
        texts.append(augment_text(text, sentiment, row_seed, weights) if pick else text)
    out["text"] = texts
    return out

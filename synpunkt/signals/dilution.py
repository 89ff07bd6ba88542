"""Dilution diagnostic of the urgent head (no test data): validation-split urgent comments and, as negatives,
validation-split angry non-urgent comments, embedded at the start, middle or end of long ordinary in-domain comments
(data/comments, train and validation splits). Measures whether a one-passage threat survives a long letter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synpunkt.config import IN_DOMAIN_DATA
from synpunkt.signals.data import read_jsonl
from synpunkt.signals.windows import sentences

POSITIONS = ("start", "middle", "end")
HOST_MIN_CHARS = 300
"""A host letter is ordinary comments joined until at least this long (about 100 tokens and more)."""


def host_letters(comments: pd.DataFrame, n: int, seed: int, min_chars: int = HOST_MIN_CHARS) -> list[str]:
    """n long ordinary letters, each several train/validation comments of data/comments joined (pure)."""
    rng = np.random.default_rng(seed)
    pool = comments.loc[comments["split"].isin(["train", "validation"]), "text"].dropna().tolist()
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) for p in parts) < min_chars:
            parts.append(pool[int(rng.integers(len(pool)))].strip())
        out.append(" ".join(parts))
    return out


def embed(host: str, passage: str, position: str) -> str:
    """The host letter with the passage at the start, the middle (between sentences) or the end (pure)."""
    parts = sentences(host, max_words=10_000)
    at = {"start": 0, "middle": len(parts) // 2, "end": len(parts)}[position]
    return " ".join([*parts[:at], passage.strip(), *parts[at:]])


def compose(urgent: pd.DataFrame, comments: pd.DataFrame, seed: int = 42) -> pd.DataFrame:
    """text, category, position, negative: every validation urgent row and every validation angry non-urgent row,
    each once in its own host letter, the positions taking turns (start, middle, end; pure)."""
    va = urgent[urgent["split"] == "validation"]
    passages = va[(va["category"] != "none") | (va["negative_tone"] == True)]  # noqa: E712
    hosts = host_letters(comments, len(passages), seed)
    rows = []
    for k, (text, category) in enumerate(zip(passages["text"], passages["category"])):
        position = POSITIONS[k % len(POSITIONS)]
        rows.append({"text": embed(hosts[k], text, position), "category": category,
                     "position": position, "negative": category == "none"})
    return pd.DataFrame(rows)


def dilution_metrics(frame: pd.DataFrame, flagged: np.ndarray) -> dict:
    """Urgent recall per position and category, and the angry negatives' flag rate per position (pure)."""
    out: dict = {"n": int(len(frame)), "positions": {}}
    for position in POSITIONS:
        m = (frame["position"] == position).to_numpy()
        u = m & ~frame["negative"].to_numpy()
        n = m & frame["negative"].to_numpy()
        out["positions"][position] = {"urgent_recall": round(float(flagged[u].mean()), 4),
                                      "negative_flag_rate": round(float(flagged[n].mean()), 4)}
    u = ~frame["negative"].to_numpy()
    out["urgent_recall"] = round(float(flagged[u].mean()), 4)
    out["threat_recall"] = round(float(flagged[(frame["category"] == "threat").to_numpy()].mean()), 4)
    out["negative_flag_rate"] = round(float(flagged[~u].mean()), 4)
    return out


def comments_frame() -> pd.DataFrame:
    """data/comments (id, text, split)."""
    return read_jsonl(IN_DOMAIN_DATA)[["id", "text", "split"]]

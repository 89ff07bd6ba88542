"""The equal-treatment section's data: gender and call-duration fields found in the comments' metadata, and
the groups compared (sentiment per gender, call duration per gender or sentiment).

Municipalities name these fields freely (kön, handläggare_kön, samtalstid_min...); the most used matching key
is taken. Metadata values are data: they are only ever shown escaped, and never parsed as markup or math.
"""

from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd

from synpunkt.labels import SENTIMENTS
from synpunkt.report.statistics import mean_ci, with_shares
from synpunkt.report.text import strings

MIN_GROUP = 5
"""Smallest group shown in the equal-treatment and channel comparisons (also so that no tiny group stands out)."""
GENDER_KEYS = ("kön", "kon", "gender", "handläggare_kön", "handlaggare_kon", "handläggarens_kön",
               "kön_handläggare", "handler_gender", "sex")
DURATION_KEYS = ("samtalstid", "samtalstid_min", "samtalstid_minuter", "samtalslängd", "duration", "duration_min",
                 "call_duration", "call_duration_min")
MISSING_VALUES = {"", "okänt", "okänd", "ok\u00e4nt", "unknown", "uppgift saknas", "saknas", "-", "na", "n/a", "nan",
                  "null", "none", "vill ej uppge"}


def _norm_key(key: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip().lower())


def find_metadata_key(rows: pd.DataFrame, kind: str) -> str | None:
    """The metadata key for 'gender' or 'duration' used by most comments (None when absent)."""
    wanted = {_norm_key(k) for k in (GENDER_KEYS if kind == "gender" else DURATION_KEYS)}
    counts: dict[str, int] = {}
    for meta in rows.get("metadata", []):
        for key, value in meta.items():
            k = _norm_key(key)
            match = k in wanted or (kind == "gender" and (k.endswith("_kön") or k.endswith("_gender"))) or (
                kind == "duration" and (k.startswith("samtalstid") or k.startswith("call_duration")))
            if match and value not in (None, ""):
                counts[key] = counts.get(key, 0) + 1
    return max(counts, key=counts.get) if counts else None


def _group_value(value) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    return None if text.lower() in MISSING_VALUES else text.lower()


def duration_value(value) -> float | None:
    if value is None:
        return None
    try:
        x = float(str(value).strip().replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return x if math.isfinite(x) and x >= 0 else None


def group_label(value: str, lang: str = "sv") -> str:
    """How a metadata group value is shown (known gender values translated, others capitalised)."""
    return strings(lang)["group_values"].get(str(value).lower(), str(value)[:1].upper() + str(value)[1:])


def gender_groups(rows: pd.DataFrame, key: str) -> tuple[pd.DataFrame, int]:
    """Sentiment counts per gender group (groups of at least MIN_GROUP), and how many comments were left out."""
    groups = [_group_value(m.get(key)) for m in rows["metadata"]]
    df = pd.DataFrame({"group": groups, "sentiment": rows["sentiment"].to_numpy()})
    known = df[df["group"].notna()]
    counts = known.groupby("group").agg(n=("sentiment", "size"),
                                        **{f"n_{s}": ("sentiment", lambda x, s=s: int((x == s).sum()))
                                           for s in SENTIMENTS}).reset_index()
    counts = counts[counts["n"] >= MIN_GROUP].sort_values("group").reset_index(drop=True)
    left_out = len(df) - int(counts["n"].sum())
    return with_shares(counts), left_out


def duration_groups(rows: pd.DataFrame, key: str, by: str, gender_key: str | None = None) -> pd.DataFrame:
    """Call durations per group (by='gender' or 'sentiment'): group, values, n, mean, lo, hi."""
    values = [duration_value(m.get(key)) for m in rows["metadata"]]
    if by == "gender":
        groups = [_group_value(m.get(gender_key)) for m in rows["metadata"]]
    else:
        groups = rows["sentiment"].tolist()
    df = pd.DataFrame({"group": groups, "value": values}).dropna()
    out = []
    order = SENTIMENTS if by == "sentiment" else sorted(df["group"].unique())
    for g in order:
        vals = df.loc[df["group"] == g, "value"].to_numpy(dtype=float)
        if len(vals) >= MIN_GROUP:
            mean, lo, hi = mean_ci(vals)
            out.append({"group": g, "values": vals, "n": len(vals), "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(out, columns=["group", "values", "n", "mean", "lo", "hi"])

"""Training and evaluation data of the signal heads (data/urgent, data/repeat_contact, optional RTP-LX)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from synpunkt.config import IN_DOMAIN_DATA, PROJECT_ROOT, shared_datasets

log = logging.getLogger(__name__)

URGENT_CATEGORIES = ("none", "threat", "self_harm", "violence_close_relationship")
"""Class order of the urgent head; every category but ``none`` raises an alert."""
ALERT_CATEGORIES = URGENT_CATEGORIES[1:]
BLIND_SPLITS = ("validation_blind", "validation_blind2", "validation_blind3", "validation_blind4", "validation_blind5",
                "validation_blind6", "validation_blind7", "validation_blind8", "validation_blind9",
                "validation_blind10", "validation_blind11", "validation_blind12", "validation_blind13",
                "validation_blind14")
"""The fresh blind batches of urgent.jsonl in the order they were written (data/urgent/GUIDE.md). No training step
reads one unless asked by name (SignalsConfig.train_on): each judges one decision, and the batches before it (and
`validation`) are worn: they may calibrate thresholds or become training rows, never decide."""
STYLES = ("standard", "dialect", "second_language", "sms", "ids")
"""The optional `style` of a row (rows u11231 on): how it is written (data/urgent/GUIDE.md, "Writing styles"); "ids"
holds identity or reference numbers or their placeholders. Rows without one are "standard" or were not marked."""
URGENT_DATA = PROJECT_ROOT / "data" / "urgent" / "urgent.jsonl"
REPEAT_DATA = PROJECT_ROOT / "data" / "repeat_contact" / "repeat_contact.jsonl"
REPEAT_COMMENT_LABELS = PROJECT_ROOT / "data" / "repeat_contact" / "comments_labels.jsonl"
RTPLX_FILE = Path("aux") / "rtplx_sv_toxicity.parquet"
FIRST_PASS_LAST_URGENT_ID = 1584
"""Rows u0001-u1584 of urgent.jsonl are the first labelling pass (all three splits; the kinds of `none` in the
mix the guide describes). Later rows are targeted training additions (train split only) that over-represent the
hard cases on purpose (veiled and conditional threats, lawful pressure, past violence); the urgent head is fitted
on them and their out-of-fold recall counts when its settings are chosen, but its threshold is calibrated on the
first pass's held-out negative comments only, whose mix of kinds is the guide's (training.CALIBRATION_POOL; the
"all_passes" pool was tried on 2026-11-29 and is stricter than the guide's mix)."""


def read_jsonl(path: Path) -> pd.DataFrame:
    return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])


def urgent_data(path: Path = URGENT_DATA) -> pd.DataFrame:
    """id, text, category, split, negative_tone, none_kind (project-written; see data/urgent/GUIDE.md)."""
    df = read_jsonl(path)
    unknown = set(df["category"]) - set(URGENT_CATEGORIES)
    if unknown:
        raise ValueError(f"{path}: unknown categories {sorted(unknown)}")
    return df


def repeat_data(path: Path = REPEAT_DATA, labels: Path = REPEAT_COMMENT_LABELS,
                comments: Path = IN_DOMAIN_DATA) -> pd.DataFrame:
    """id, text, repeat_contact, split, source ('written' | 'comments'): both files of data/repeat_contact."""
    written = read_jsonl(path).assign(source="written")
    joined = read_jsonl(comments)[["id", "text", "split"]].merge(read_jsonl(labels), on="id", how="inner",
                                                                 validate="one_to_one")
    return pd.concat([written[["id", "text", "repeat_contact", "split", "source"]],
                      joined.assign(source="comments")], ignore_index=True)


def rtplx_data(data_dir: Path | None = None) -> pd.DataFrame | None:
    """RTP-LX Swedish prompts mapped to urgent categories, for development training only (MIT/Apache; never
    copied into the repository). Clear violence -> threat, clear self-harm -> self_harm, clearly harmless
    -> none; ambiguous ratings are left out. None when the file is absent."""
    path = Path(data_dir or shared_datasets()) / RTPLX_FILE
    if not path.exists():
        log.info("RTP-LX not found at %s; training on the project's data only", path)
        return None
    df = pd.read_parquet(path)
    df = df[df["split"] != "test"] if "split" in df else df
    category = pd.Series(None, index=df.index, dtype=object)
    category[(df["toxicity"] < 2) & (df["violence"] < 1.5) & (df["self_harm"] < 1.5)] = "none"
    category[df["violence"] >= 2.5] = "threat"
    category[df["self_harm"] >= 2.0] = "self_harm"
    out = pd.DataFrame({"text": df["text"], "category": category}).dropna()
    return out.reset_index(drop=True)


def train_on(urgent: pd.DataFrame, splits: tuple[str, ...]) -> pd.DataFrame:
    """urgent with the rows of `splits` (worn blind batches) moved to the train split (pure). Their split of
    origin stays in `written_as`, so the "first_pass_blind" calibration pool can find them."""
    unknown = set(splits) - set(BLIND_SPLITS)
    if unknown:
        raise ValueError(f"only worn blind batches can become training rows, not {sorted(unknown)}; "
                         f"expected some of {BLIND_SPLITS}")
    out = urgent.assign(written_as=urgent["split"])
    out.loc[out["split"].isin(splits), "split"] = "train"
    return out


def is_added_urgent_row(ids: pd.Series) -> pd.Series:
    """True for the targeted training additions of urgent.jsonl (ids after FIRST_PASS_LAST_URGENT_ID; pure)."""
    return ids.str[1:].astype(int) > FIRST_PASS_LAST_URGENT_ID

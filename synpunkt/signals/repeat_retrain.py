"""Retrain the repeat-contact head alone (issue 9), keeping the urgent heads exactly as shipped.

The repeat head is refitted by training.py's procedure (``fit_repeat_head``: C from C_GRID and the threshold by best
F1 on the validation splits of both repeat files, fitted on their train splits, encoder features of the shipped
repeat layers + cue phrases); the urgent head, its span head, their thresholds and every other setting are copied
from the shipped heads (``replace_repeat_head``; ``same_urgent_arrays`` checks the arrays). A rule fixed before the
run decides whether the candidate replaces the shipped head (``rule_verdict``); the test splits are read only with
``--test``, after that decision.

    python -m synpunkt.signals.repeat_retrain            # validation figures of the shipped head and the candidate
    python -m synpunkt.signals.repeat_retrain --write    # + write models/signals/ when the rule passes (test too)
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.signals.heads import SIGNALS_DIR, LinearHead, SignalHeads

MIN_COMMENTS_F1 = 0.724
"""The rule of 2026-11-29: the candidate's F1 on the in-domain validation comments must reach this..."""
MAX_WRITTEN_DROP = 0.02
"""...and its F1 on the written validation rows may fall at most this much below the shipped head's."""
SOURCES = ("comments", "written", "both")
COMMAND = "python -m synpunkt.signals.repeat_retrain --write"


@dataclass
class RepeatSet:
    """The repeat head's inputs of every row of both repeat files, with labels, splits and sources."""

    x: np.ndarray
    y: np.ndarray
    split: np.ndarray
    source: np.ndarray

    def mask(self, split: str, source: str = "both") -> np.ndarray:
        return (self.split == split) & ((self.source == source) | (source == "both"))


def repeat_set(frame: pd.DataFrame, features: np.ndarray) -> RepeatSet:
    """RepeatSet of repeat_data()'s frame and its encoder features (the repeat head's layers); cue phrases are
    appended here (pure)."""
    from synpunkt.signals.repeat_spans import repeat_inputs

    return RepeatSet(repeat_inputs(features, frame["text"].tolist()), frame["repeat_contact"].astype(bool).to_numpy(),
                     frame["split"].to_numpy(), frame["source"].to_numpy())


def figures(head: LinearHead, threshold: float, data: RepeatSet, splits: Sequence[str] = ("validation",)) -> dict:
    """repeat_metrics per split and source ("validation_comments", ...) of a head at a threshold (pure)."""
    from synpunkt.signals.metrics import repeat_metrics

    flagged = head.probabilities(data.x)[:, 1] >= threshold
    return {f"{s}_{source}": repeat_metrics(data.y[m], flagged[m]) for s in splits for source in SOURCES
            for m in [data.mask(s, source)]}


def rule_verdict(candidate: dict, shipped: dict, min_comments_f1: float = MIN_COMMENTS_F1,
                 max_written_drop: float = MAX_WRITTEN_DROP) -> tuple[bool, list[str]]:
    """(ship?, reasons) by the fixed rule on validation figures (figures()' dicts; pure)."""
    comments, written = candidate["validation_comments"]["f1"], candidate["validation_written"]["f1"]
    floor = round(shipped["validation_written"]["f1"] - max_written_drop, 4)
    reasons = [f"validation comments F1 {comments:.4f} {'>=' if comments >= min_comments_f1 else '<'} "
               f"{min_comments_f1}",
               f"validation written F1 {written:.4f} {'>=' if written >= floor else '<'} {floor} (shipped "
               f"{shipped['validation_written']['f1']:.4f} - {max_written_drop})"]
    return comments >= min_comments_f1 and written >= floor, reasons


def replace_repeat_head(shipped: SignalHeads, head: LinearHead, c: float, threshold: float, note: dict
                        ) -> SignalHeads:
    """The shipped heads with only the repeat head, its C and threshold replaced and the retrain noted (pure): the
    urgent head, its span head and every other setting are the shipped ones."""
    settings = copy.deepcopy(shipped.settings)
    settings["version"] = f"{shipped.version.split('+')[0]}+repeat-{note['date'].replace('-', '')}"
    settings["thresholds"]["repeat_contact"] = threshold
    settings.setdefault("regularisation", {})["repeat_C"] = c
    settings.setdefault("training_data", {})["repeat_contact"] = (
        f"data/repeat_contact train splits ({note['train_rows']} rows: repeat_contact.jsonl and "
        f"comments_labels.jsonl joined to data/comments; repeat head retrained alone on {note['date']})")
    settings["repeat_retrain"] = note
    return SignalHeads(shipped.urgent, head, settings, shipped.urgent_span)


def same_urgent_arrays(a: SignalHeads, b: SignalHeads) -> bool:
    """Whether the urgent head and its span head hold equal classes and arrays in both (pure)."""
    pairs = [(a.urgent, b.urgent), (a.urgent_span, b.urgent_span)]
    for x, y in pairs:
        if (x is None) != (y is None):
            return False
        if x is not None and (x.classes != y.classes or not all(
                np.array_equal(getattr(x, p), getattr(y, p)) for p in ("mean", "scale", "coef", "intercept"))):
            return False
    return True


def previous_train_rows(settings: dict) -> int | None:
    """The number of repeat training rows heads.json records ("... (2195 rows: ..."), or None (pure)."""
    found = re.search(r"\((\d+) rows", settings.get("training_data", {}).get("repeat_contact", ""))
    return int(found.group(1)) if found else None


def updated_evaluation(evaluation: dict, heads: SignalHeads, repeat_figures: dict) -> dict:
    """evaluation.json with the repeat entries (repeat_<split>_<source>, the summary's repeat F1s), version and
    thresholds replaced and the retrain noted; the urgent entries are the earlier training's (pure)."""
    out = copy.deepcopy(evaluation)
    out["version"], out["thresholds"] = heads.version, dict(heads.thresholds)
    for key, value in repeat_figures.items():
        out[f"repeat_{key}"] = value
    for source in SOURCES:
        if f"test_{source}" in repeat_figures:
            out.setdefault("summary", {})[f"repeat_f1_{source}"] = repeat_figures[f"test_{source}"]["f1"]
    out["repeat_retrain"] = heads.settings["repeat_retrain"]
    return out


def retrain(shipped_dir: Path = SIGNALS_DIR, seed: int = 42, read_test: bool = False) -> dict:
    """Fit the candidate on today's data and compare it with the shipped repeat head: {"shipped", "candidate"
    (figures, C, threshold), "verdict", "reasons", "heads" (the candidate SignalHeads)}; test figures only with
    read_test."""
    from synpunkt.signals.data import repeat_data
    from synpunkt.signals.features import FeatureEncoder, cached_all_layers, select_layers
    from synpunkt.signals.training import fit_repeat_head

    shipped = SignalHeads.load(shipped_dir)
    frame = repeat_data()
    layers = shipped.head_layers["repeat"]
    features = cached_all_layers(FeatureEncoder(base_model=shipped.base_model), frame["text"].tolist(), "repeat")
    data = repeat_set(frame, select_layers(features, layers))
    head, c, t, _ = fit_repeat_head(data.x, data.y, data.split == "train", data.split == "validation", seed)
    splits = ("validation", "test") if read_test else ("validation",)
    old = {"C": shipped.settings.get("regularisation", {}).get("repeat_C"),
           "threshold": shipped.thresholds["repeat_contact"],
           **figures(shipped.repeat, shipped.thresholds["repeat_contact"], data, splits)}
    new = {"C": c, "threshold": t, **figures(head, t, data, splits)}
    ship, reasons = rule_verdict(new, old)
    train_rows = int((data.split == "train").sum())
    before = previous_train_rows(shipped.settings)
    note = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "train_rows": train_rows,
            "rows_added": None if before is None else train_rows - before, "C": c, "threshold": t,
            "replaced": {"version": shipped.version, "C": old["C"], "threshold": old["threshold"]},
            "validation": {k: new[k] for k in new if k.startswith("validation_")},
            "replaced_validation": {k: old[k] for k in old if k.startswith("validation_")},
            "rule": reasons, "command": COMMAND, "seed": seed}
    return {"shipped": old, "candidate": new, "verdict": ship, "reasons": reasons,
            "heads": replace_repeat_head(shipped, head, c, t, note)}


def write(result: dict, output_dir: Path, shipped_dir: Path = SIGNALS_DIR) -> Path:
    """Write the candidate heads, evaluation.json (repeat entries replaced) and the card (hand-written sections
    kept) into output_dir; refuses when the urgent arrays would change."""
    from synpunkt.signals.card import write_card

    heads, shipped = result["heads"], SignalHeads.load(shipped_dir)
    if not same_urgent_arrays(heads, shipped):
        raise RuntimeError("the urgent heads differ from the shipped ones; nothing written")
    candidate = {k: v for k, v in result["candidate"].items() if "_" in k}
    heads.settings["test_summary"] = {**heads.settings.get("test_summary", {}),
                                      **{f"repeat_f1_{s}": candidate[f"test_{s}"]["f1"] for s in SOURCES
                                         if f"test_{s}" in candidate}}
    evaluation_path = Path(shipped_dir) / "evaluation.json"
    evaluation = updated_evaluation(json.loads(evaluation_path.read_text(encoding="utf-8")), heads, candidate)
    heads.save(Path(output_dir))
    written = SignalHeads.load(output_dir)
    if not same_urgent_arrays(written, shipped):
        raise RuntimeError("the written urgent heads differ from the shipped ones")
    (Path(output_dir) / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n", encoding="utf-8")
    old_card = Path(shipped_dir) / "README.md"
    write_card(Path(output_dir), heads.settings, evaluation,
               keep_from=old_card.read_text(encoding="utf-8") if old_card.exists() else None)
    return Path(output_dir)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--test", action="store_true", help="also the test splits (only after a decision)")
    parser.add_argument("--write", action="store_true", help="write the heads when the rule passes (reads test)")
    parser.add_argument("--shipped-dir", type=Path, default=SIGNALS_DIR)
    parser.add_argument("--output-dir", type=Path, default=None, help="default: the shipped directory")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    result = retrain(args.shipped_dir, args.seed, read_test=args.test or args.write)
    if args.write and result["verdict"]:
        write(result, args.output_dir or args.shipped_dir, args.shipped_dir)
    report = {k: v for k, v in result.items() if k != "heads"}
    report["written"] = bool(args.write and result["verdict"])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

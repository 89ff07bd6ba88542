"""Compare two classifiers on a capability batch of data/comments_blind/capabilities.jsonl and the in-domain
validation split: sentiment accuracy per capability (irony, negation, behaviour, ordinary), sentiment macro-F1 and
topic micro-F1. Both run on torch in fp32, so the figures do not depend on this CPU's backend entry.

    python scripts/judge_capabilities.py --candidate DIR --split validation_blind_cap [--shipped DIR]

Each batch judged one decision (the model's NOTES.md, 2026-11-30); prints figures only, no verdict.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from synpunkt.classifier import Classifier
from synpunkt.config import BLIND_CAPABILITIES, model_dir
from synpunkt.data import load_in_domain
from synpunkt.evaluate import evaluate_frame
from synpunkt.labels import SENTIMENTS


HARD = ("irony", "negation", "behaviour")


def figures(directory, batch: pd.DataFrame, validation: pd.DataFrame) -> dict[str, float]:
    """The comparison's figures for one model directory."""
    clf = Classifier.load(directory, backend="torch", precision="fp32")
    logits = clf.logits(batch["text"].tolist())  # once: every figure of the batch reads these
    probs = clf.probabilities(logits)
    right = np.array(SENTIMENTS)[probs["sentiment"].argmax(1)] == batch["sentiment"].to_numpy()
    out = {"capability rows accuracy": float(right[batch["capability"].isin(HARD).to_numpy()].mean())}
    out |= {f"{c} accuracy": float(right[(batch["capability"] == c).to_numpy()].mean()) for c in (*HARD, "ordinary")}
    ordinary = (batch["capability"] == "ordinary").to_numpy()
    out["ordinary sentiment macro-F1"] = evaluate_frame(
        clf, batch[ordinary].reset_index(drop=True), {k: v[ordinary] for k, v in logits.items()})["sentiment"]["macro_f1"]
    whole = evaluate_frame(clf, batch, logits)
    out["all rows sentiment macro-F1"] = whole["sentiment"]["macro_f1"]
    out["all rows topic micro-F1"] = whole["topics"]["micro_f1"]
    held = evaluate_frame(clf, validation)
    out["validation sentiment macro-F1"] = held["sentiment"]["macro_f1"]
    out["validation topic micro-F1"] = held["topics"]["micro_f1"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidate", required=True)
    batches = pd.read_json(BLIND_CAPABILITIES, lines=True)
    parser.add_argument("--split", required=True, choices=sorted(batches["split"].unique()))
    parser.add_argument("--shipped", default=None, help="default: the shipped model")
    args = parser.parse_args()
    batch = batches[batches["split"] == args.split].reset_index(drop=True)
    validation = load_in_domain()
    validation = validation[validation["split"] == "validation"].reset_index(drop=True)
    shipped = figures(args.shipped or model_dir(), batch, validation)
    candidate = figures(args.candidate, batch, validation)
    for name, value in shipped.items():
        print(f"{name:32s} shipped {value:.4f}  candidate {candidate[name]:.4f}  ({candidate[name] - value:+.4f})")


if __name__ == "__main__":
    main()

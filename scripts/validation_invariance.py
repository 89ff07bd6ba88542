"""How often each training perturbation changes a model's sentiment on the in-domain VALIDATION split.

The behaviour suite is a test: a recipe must not be tuned on it. This script measures the same kinds of surface
change (synpunkt.augment.PERTURBATIONS, the ones training draws from) on the validation comments instead, so a
choice such as how often training draws each perturbation can be made on validation figures.

    python scripts/validation_invariance.py [--model DIR] [--copies 2] [--confident 0.8]

Prints, per perturbation, the share of validation comments whose predicted sentiment changes when the text is
perturbed (each comment perturbed ``--copies`` times with different seeds), the draw weights the model was trained
with (its training record), and the weights the rule in
``synpunkt.augment.weights_from_flip_rates`` would give training. ``--confident P`` counts only the comments the
model reads right with a probability of at least P: a borderline comment may change its reading for a reason
(a removed "?" turns a skeptical question into a statement), a clear one should not.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from synpunkt.augment import PERTURBATIONS, WEIGHTS, perturb, weights_from_flip_rates
from synpunkt.behaviour import stable_seed
from synpunkt.classifier import Classifier
from synpunkt.config import model_dir
from synpunkt.data import load_in_domain
from synpunkt.labels import SENTIMENTS
from synpunkt.reproduce import training_record


def perturbed(texts: list[str], sentiments: list[str], name: str, copy: int) -> list[str]:
    """Each text with one perturbation, seeded by the text, the perturbation and the copy."""
    return [perturb(text, sentiment, [name], random.Random(stable_seed(text, name, str(copy))))
            for text, sentiment in zip(texts, sentiments)]


def trained_weights(directory: Path) -> dict[str, float]:
    """The augmentation draw weights the model was trained with (its training record's config; augment.WEIGHTS
    when it records none, as before the option existed)."""
    try:
        config = training_record(directory)["config"]
    except (FileNotFoundError, ValueError):
        config = {}
    return config.get("augment_weights") or dict(WEIGHTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="default: the shipped model")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--confident", type=float, default=None,
                        help="count only comments read right with at least this probability")
    args = parser.parse_args()
    clf = Classifier.load(args.model or model_dir(), backend="torch", precision="fp32")
    frame = load_in_domain()
    frame = frame[frame["split"] == "validation"].reset_index(drop=True)
    texts, sentiments = frame["text"].tolist(), frame["sentiment"].tolist()

    def labels(batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
        predicted = clf.predict(batch, progress=False)
        return predicted["sentiment"].to_numpy(), predicted[[f"p_{c}" for c in SENTIMENTS]].max(axis=1).to_numpy()

    base, confidence = labels(texts)
    if args.confident is not None:
        keep = (base == np.array(sentiments)) & (confidence >= args.confident)
        frame = frame[keep].reset_index(drop=True)
        texts, sentiments, base = frame["text"].tolist(), frame["sentiment"].tolist(), base[keep]
    rates, trained = {}, trained_weights(Path(args.model or model_dir()))
    print(f"{len(texts)} validation comments, {args.copies} perturbed copies each")
    print(f"{'perturbation':14s} {'changed':>8s} {'flip rate':>9s} {'trained with':>12s}")
    for name in sorted(PERTURBATIONS):
        changed = unchanged_text = 0
        for copy in range(args.copies):
            batch = perturbed(texts, sentiments, name, copy)
            same = np.array([a == b for a, b in zip(batch, texts)])
            changed += int(((labels(batch)[0] != base) & ~same).sum())
            unchanged_text += int(same.sum())
        rates[name] = changed / max(1, args.copies * len(texts) - unchanged_text)
        print(f"{name:14s} {changed:8d} {rates[name]:9.1%} {trained.get(name, 0.0):12.2f}")
    print("weights by the rule (1 per percentage point, at least 0.5):", weights_from_flip_rates(rates))


if __name__ == "__main__":
    main()

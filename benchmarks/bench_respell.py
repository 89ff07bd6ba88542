"""What respelling costs and buys: classification throughput with and without it, and invariance on the
in-domain validation split.

In one process, the shipped model (or --model) classifies the same N comments with its input normalisation's
``respell`` off and on, in turns chunk by chunk (synpunkt.inference.compare.interleaved_runs), and prints
comments/s and the ratio; then respell's own time per comment (word caches cold, then warm). With --invariance it
also perturbs the validation split's texts as the behaviour suite's invariance tests do (adjacent letters swapped in
one word per ten, å/ä/ö written as a/a/o) and prints the share of sentiments that change, off and on, with the
validation split's sentiment macro-F1 and topic micro-F1 (never the test sets or the suite's own cases).

    python benchmarks/bench_respell.py [--n 1600] [--backend onnx] [--invariance]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import logging
import time

import numpy as np
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from synpunkt.behaviour import ascii_diacritics, stable_seed, swap_typos
from synpunkt.classifier import Classifier
from synpunkt.data import load_in_domain
from synpunkt.inference.compare import interleaved_runs
from synpunkt.labels import TOPICS
from synpunkt.textnorm import _replacement, respell


def with_respell(clf: Classifier, on: bool) -> Classifier:
    """The same loaded model with respelling switched `on` or off (shares the runner and weights)."""
    other = copy.copy(clf)
    other.settings = dataclasses.replace(clf.settings, respell=on)
    return other


def throughput(clf: Classifier, texts: list[str], chunk: int) -> None:
    engines = {f"respell {'on' if on else 'off'}": with_respell(clf, on).predict for on in (False, True)}
    _, seconds = interleaved_runs({k: (lambda t, f=f: f(t, progress=False)) for k, f in engines.items()}, texts, chunk)
    off, on = (len(texts) / seconds[k] for k in engines)
    print(f"classification, {len(texts)} comments ({clf.backend}): respell off {off:.1f}/s, on {on:.1f}/s "
          f"(on/off {on / off:.3f})")
    _replacement.cache_clear()
    began = time.perf_counter()
    changed = sum(respell(t) != t for t in texts)
    cold = (time.perf_counter() - began) / len(texts) * 1e3
    began = time.perf_counter()
    for t in texts:
        respell(t)
    warm = (time.perf_counter() - began) / len(texts) * 1e3
    print(f"respell alone: {cold:.3f} ms/comment (cold word cache), {warm:.3f} ms (warm); "
          f"{changed} of {len(texts)} comments changed")


def invariance(clf: Classifier) -> None:
    val = load_in_domain()
    val = val[val["split"] == "validation"]
    texts = val["text"].tolist()
    perturbed = {"typos": [swap_typos(t, n=1 + len(t.split()) // 10, seed=stable_seed("typo", t)) for t in texts],
                 "ascii å/ä/ö": [ascii_diacritics(t) for t in texts]}
    mlb = MultiLabelBinarizer(classes=list(TOPICS))
    truth = mlb.fit_transform(val["topics"])
    for on in (False, True):
        model = with_respell(clf, on)
        base = model.predict(texts, progress=False)
        sentiment = f1_score(val["sentiment"], base["sentiment"], average="macro")
        topics = f1_score(truth, mlb.transform(base["topics"]), average="micro")
        flips = {name: float(np.mean(model.predict(p, progress=False)["sentiment"].values != base["sentiment"].values))
                 for name, p in perturbed.items()}
        print(f"respell {'on ' if on else 'off'}: validation ({len(texts)}) sentiment macro-F1 {sentiment:.4f}, topic "
              f"micro-F1 {topics:.4f}; sentiment changed by " + ", ".join(f"{k} {v:.1%}" for k, v in flips.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1600, help="comments for the throughput comparison")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--backend", default=None, help="inference backend (default: this CPU's recorded one)")
    parser.add_argument("--chunk", type=int, default=200, help="comments per turn")
    parser.add_argument("--invariance", action="store_true", help="also the validation split's invariance figures")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    clf = Classifier.load(args.model, backend=args.backend)
    texts = load_in_domain()["text"].tolist()
    throughput(clf, [texts[i % len(texts)] for i in range(args.n)], args.chunk)
    if args.invariance:
        invariance(clf)


if __name__ == "__main__":
    main()

"""Classification throughput: every inference backend against the plain transformers pipeline and against torch.

In one process, on the same N comments (the in-domain set, cycled) and the same model (the shipped default unless
--model): the plain transformers feature-extraction pipeline at batch size 1 with the same pooling and sentiment
head (the baseline), then Classifier.predict on each backend (torch, the reference; onnx; onnx-int8; cuda where a
GPU is present). The engines take turns chunk by chunk, so that each sees the same load on a shared machine. Prints
comments/s, the ratio to the pipeline and to torch, and the share of sentiments equal to torch's.

    python benchmarks/bench_predict.py [--n 1000] [--model DIR] [--backend onnx --backend onnx-int8] [--chunk 200]

--prep-workers N (repeatable) sets how many processes prepare the inputs (tokens, the topic lexicon) while the
network runs, one engine per value: on a GPU, where the CPU side limits, compare 0 with 8.

With --throughput-only the pipeline and the torch reference are left out: only the named backends run, for throughput
at a size where the batch-1 pipeline would take minutes (a GPU: --backend cuda --n 100000 --chunk 20000 --throughput-only).
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import torch

from synpunkt.classifier import BATCH_SIZES, Classifier, softmax
from synpunkt.data import load_in_domain
from synpunkt.inference import REFERENCE, available_backends
from synpunkt.inference.compare import interleaved_runs
from synpunkt.model import mean_pool

SENTIMENT_COLUMNS = ["p_positive", "p_skeptical", "p_negative"]


def comments(n: int) -> list[str]:
    """n project-written comments (the in-domain set, cycled)."""
    texts = load_in_domain()["text"].tolist()
    return [texts[i % len(texts)] for i in range(n)]


def pipeline_baseline(clf: Classifier):
    """Plain transformers feature-extraction pipeline, batch size 1, float32, then the same pooling and sentiment
    head: a function from texts to sentiment probabilities."""
    from transformers import pipeline

    pipe = pipeline("feature-extraction", model=clf.model.encoder, tokenizer=clf.tokenizer, framework="pt", device=-1,
                    batch_size=1, tokenize_kwargs={"truncation": True, "max_length": clf.settings.max_length})

    def run(texts: list[str]) -> np.ndarray:
        probs = []
        with torch.inference_mode():
            for hidden in pipe([clf.settings.text_prefix + t for t in texts], return_tensors=True):
                pooled = mean_pool(hidden, torch.ones(hidden.shape[:2]))
                logits = clf.model.sentiment_head(pooled).numpy()
                probs.append(softmax(logits / clf.settings.sentiment_temperature)[0])
        return np.array(probs).reshape(-1, 3)

    return run


def engine(clf: Classifier, batch_size: int | None):
    """Classifier.predict as a function from texts to sentiment probabilities."""
    return lambda texts: clf.predict(texts, progress=False, batch_size=batch_size)[SENTIMENT_COLUMNS].to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="number of comments")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--backend", action="append", default=None,
                        help="a backend to measure (repeatable; default: every one this machine has)")
    parser.add_argument("--chunk", type=int, default=200, help="comments per turn")
    parser.add_argument("--throughput-only", action="store_true",
                        help="run only the --backend engines (no pipeline, no torch reference, so no ratios)")
    parser.add_argument("--prep-workers", type=int, action="append", default=None,
                        help="processes preparing the inputs while the network runs (repeatable: one engine per "
                             "value for each backend; default: config.prep_workers, 8 at most on a GPU, else 0)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="comments per forward pass (default: the backend's, classifier.BATCH_SIZES)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    reference = Classifier.load(args.model, backend=REFERENCE)
    backends = [b for b in (args.backend or available_backends()) if b != REFERENCE]
    classifiers = {REFERENCE: reference}
    for name in backends:  # built before timing: exports and sessions are not part of the figures
        for workers in args.prep_workers or [None]:
            clf = Classifier(reference.model, reference.tokenizer, reference.settings, reference.version,
                             backend=name, lexicon=reference.lexicon)  # the cuda runner copies the network
            clf.prep_workers = workers
            classifiers[name if workers is None else f"{name}, {workers} prep workers"] = clf
    if args.throughput_only:
        classifiers = {label: clf for label, clf in classifiers.items() if clf.backend in (args.backend or [])}
    engines = {} if args.throughput_only else {"pipeline": pipeline_baseline(reference)}
    engines.update({label: engine(clf, args.batch_size) for label, clf in classifiers.items()})
    texts = comments(args.n)
    print(f"model {reference.version}, {len(texts)} comments, torch threads {torch.get_num_threads()}, "
          f"torch precision {reference.precision}; engines in turns, {args.chunk} comments a turn")
    results, seconds = interleaved_runs(engines, texts, chunk=args.chunk)
    probs = {name: np.concatenate(parts) for name, parts in results.items()}
    rate = {name: len(texts) / s for name, s in seconds.items()}
    if args.throughput_only:
        print("\n| engine | batch | comments/s |\n|---|---|---|")
        for label, clf in classifiers.items():
            print(f"| {label} ({clf.precision}) | {args.batch_size or BATCH_SIZES[clf.backend]} | {rate[label]:.1f} |")
        return
    print("\n| engine | batch | comments/s | x pipeline | x torch | same sentiment as torch |")
    print("|---|---|---|---|---|---|")
    for name in engines:
        batch = 1 if name == "pipeline" else args.batch_size or BATCH_SIZES[classifiers[name].backend]
        label = "transformers pipeline" if name == "pipeline" else f"{name} ({classifiers[name].precision})"
        same = float((probs[name].argmax(1) == probs[REFERENCE].argmax(1)).mean())
        print(f"| {label} | {batch} | {rate[name]:.1f} | {rate[name] / rate['pipeline']:.2f} | "
              f"{rate[name] / rate[REFERENCE]:.2f} | {same:.2%} |")


if __name__ == "__main__":
    main()

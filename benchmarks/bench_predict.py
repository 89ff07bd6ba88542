"""Throughput of Classifier.predict against a plain transformers pipeline with batch size 1.

Both classify the same comments with the same model (the shipped default unless --model), in the same
process; the script prints comments per second for each, the ratio, and whether the two agree.

    python benchmarks/bench_predict.py [--n 2000] [--model DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from synpunkt.classifier import Classifier, softmax
from synpunkt.data import load_in_domain
from synpunkt.model import mean_pool


def comments(n: int) -> list[str]:
    """n project-written comments (the in-domain set, cycled)."""
    texts = load_in_domain()["text"].tolist()
    return [texts[i % len(texts)] for i in range(n)]


def pipeline_baseline(clf: Classifier, texts: list[str]) -> np.ndarray:
    """Plain transformers feature-extraction pipeline, batch size 1, then the same pooling and sentiment head."""
    from transformers import pipeline

    pipe = pipeline("feature-extraction", model=clf.model.encoder, tokenizer=clf.tokenizer, framework="pt",
                    device=-1, batch_size=1, tokenize_kwargs={"truncation": True, "max_length": clf.settings.max_length})
    probs = []
    with torch.inference_mode():
        for hidden in pipe([clf.settings.text_prefix + t for t in texts], return_tensors=True):
            pooled = mean_pool(hidden, torch.ones(hidden.shape[:2]))
            logits = clf.model.sentiment_head(pooled).numpy()
            probs.append(softmax(logits / clf.settings.sentiment_temperature)[0])
    return np.array(probs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="number of comments")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    clf = Classifier.load(args.model)
    texts = comments(args.n)
    print(f"model {clf.version}, {len(texts)} comments, torch threads {torch.get_num_threads()}, "
          f"predict precision {clf.precision} (the baseline runs plain float32)")
    clf.predict(texts[:64])  # warm-up

    t0 = time.perf_counter()
    ours = clf.predict(texts, batch_size=args.batch_size, progress=False)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    base = pipeline_baseline(clf, texts)
    t_base = time.perf_counter() - t0

    agree = float((ours[["p_positive", "p_skeptical", "p_negative"]].to_numpy().argmax(1) == base.argmax(1)).mean())
    max_diff = float(np.abs(ours[["p_positive", "p_skeptical", "p_negative"]].to_numpy() - base).max())
    print(f"Classifier.predict (batch {args.batch_size}, length-sorted): {len(texts) / t_ours:8.1f} comments/s "
          f"({t_ours:.1f} s)")
    print(f"transformers pipeline (batch 1):            {len(texts) / t_base:8.1f} comments/s ({t_base:.1f} s)")
    print(f"speed-up: {t_base / t_ours:.2f}x; same sentiment for {agree:.1%} of comments "
          f"(max probability difference {max_diff:.1e})")


if __name__ == "__main__":
    main()

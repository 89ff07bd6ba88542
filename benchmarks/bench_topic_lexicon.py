"""The topic lexicon's scoring: scikit-learn's TfidfVectorizers against StoredTfidf, in one run.

On N generated comments (benchmarks/synthetic_comments.py, mostly distinct) and the shipped model's lexicon, per
feature set (word 1-2-grams, char_wb 3-5-grams): seconds and comments/s of scikit-learn's TfidfVectorizer with the
stored vocabulary and idf, as TopicLexicon scored before, and of StoredTfidf on a first pass (its word cache empty)
and a second pass over other comments of the same kind; then the whole TopicLexicon.predict_proba both ways, the
ratios, and the largest difference between the matrices and between the probabilities (0.0: the same numbers).

    python benchmarks/bench_topic_lexicon.py [--n 20000] [--model DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_comments import generate_submissions, texts as submission_texts  # noqa: E402

from synpunkt.config import model_dir  # noqa: E402
from synpunkt.topic_lexicon import ANALYZERS, StoredTfidf, TopicLexicon, sklearn_tfidf  # noqa: E402


def timed(fn, *args):
    began = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000, help="comments per pass")
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped model)")
    args = parser.parse_args()
    first = submission_texts(generate_submissions(args.n, seed=0))
    second = submission_texts(generate_submissions(args.n, seed=1))
    n = len(first)
    lexicon = TopicLexicon.load(args.model or model_dir())
    print(f"{n:,} comments per pass; lexicon of {args.model or model_dir()}")
    print("\n| feature set | scikit-learn, comments/s (pass 1 / 2) | StoredTfidf pass 1 (x) | pass 2, words cached (x) "
          "| same matrix |")
    print("|---|---|---|---|---|")
    reference = []
    for (analyzer, ngrams), vocabulary, idf in zip(ANALYZERS, lexicon.vocabularies, lexicon.idf):
        sk = sklearn_tfidf(analyzer, ngrams, vocabulary, idf)
        fast = StoredTfidf(analyzer, vocabulary, idf, ngrams)
        a, t_sk1 = timed(sk.transform, first)
        _, t_sk2 = timed(sk.transform, second)
        b, t_cold = timed(fast.transform, first)
        _, t_warm = timed(fast.transform, second)
        a.sort_indices()
        same = bool((a.indptr == b.indptr).all() and (a.indices == b.indices).all() and (a.data == b.data).all())
        print(f"| {analyzer} {ngrams} | {n / t_sk1:,.0f} / {n / t_sk2:,.0f} | {n / t_cold:,.0f} ({t_sk1 / t_cold:.2f}) "
              f"| {n / t_warm:,.0f} ({t_sk2 / t_warm:.2f}) | {same} |")
        reference.append(sk)

    now, t_now = timed(lexicon.predict_proba, second)
    lexicon._vectorizers = reference  # the lexicon as it scored before StoredTfidf
    before, t_before = timed(lexicon.predict_proba, second)
    print(f"\npredict_proba on pass 2: before {n / t_before:,.0f} comments/s, now {n / t_now:,.0f} "
          f"({t_before / t_now:.2f}x); largest difference in the probabilities {float(np.abs(now - before).max()):.1e}")


if __name__ == "__main__":
    main()

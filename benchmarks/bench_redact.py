"""Name redaction on the test split of the Swedish NER corpus, and throughput.

Runs the full redactor (rules + the shipped name head) and a rules-only redactor (no model) over the test split of
../shared/datasets/aux/swedish_ner_corpus.parquet (sentences = tokens joined by spaces) and prints, for each:
recall of PER tokens, the share of non-PER tokens that were redacted (any placeholder type; also the share redacted
as names), and sentences per second. Optionally also the share of the project's in-domain comments that had
anything redacted (they are written without personal data, so every hit there is a false positive or a leftover
placeholder-like string). Only figures are printed, never text.

    python benchmarks/bench_redact.py [--data PATH] [--limit N] [--batch-size 32] [--in-domain]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from synpunkt.redaction import PLACEHOLDERS, Redactor, load_ner_corpus, ner_corpus_path, score_on_ner


def print_row(name: str, r: dict) -> None:
    print(f"{name:<22} {r['per_recall']:>10.4f} {100 * r['non_per_redacted']:>14.2f} "
          f"{100 * r['non_per_redacted_as_names']:>14.2f} {r['sentences_per_second']:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help=f"NER parquet (default {ner_corpus_path()})")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N test sentences (0: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--in-domain", action="store_true", help="also count redactions in data/comments")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()

    import torch

    df = load_ner_corpus(args.data)
    test = df[df["split"] == "test"]
    if args.limit:
        test = test.head(args.limit)
    tokens, tags = test["tokens"].tolist(), test["tags"].tolist()
    print(f"NER test split: {len(tokens)} sentences, {sum(map(len, tokens))} tokens, "
          f"{sum(t.count('PER') for t in tags)} PER tokens; torch threads {torch.get_num_threads()}")

    full = Redactor()
    t0 = time.perf_counter()
    full.redact_many(["Förstagångsladdning av modellen."])  # loads the encoder; not timed below
    load_s = time.perf_counter() - t0
    results = {"model": score_on_ner(full, tokens, tags, args.batch_size),
               "rules_only": score_on_ner(Redactor(use_model=False), tokens, tags, args.batch_size)}

    print(f"\n{'variant':<22} {'PER recall':>10} {'non-PER red.%':>14} {'as names %':>14} {'sentences/s':>11}")
    print_row("rules + name model", results["model"])
    print_row("rules only", results["rules_only"])
    print(f"\nspans found (model variant): {results['model']['spans']}")
    print(f"encoder load {load_s:.1f} s (once per process, not in the timings)")
    print(f"name head settings: threshold {full.name_model.threshold:.4f}, encoder layer {full.name_model.layer}")

    if args.in_domain:
        from synpunkt.data import load_in_domain

        texts = load_in_domain()["text"].astype(str).tolist()
        out = full.redact_many(texts, args.batch_size)
        changed = np.array([r.total > 0 for r in out])
        by_type = {k: int(sum(r.counts[k] for r in out)) for k in PLACEHOLDERS}
        results["in_domain"] = {"comments": len(texts), "changed": int(changed.sum()), "spans": by_type}
        print(f"in-domain comments: {changed.sum()} of {len(texts)} changed ({100 * changed.mean():.2f} %); "
              f"spans {by_type}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()

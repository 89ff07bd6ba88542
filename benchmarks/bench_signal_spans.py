"""Cost of sentence-span scoring in the signal pass: the shipped detector with urgent_scoring "whole" (the pooled
graph: whole-text means only) against "max_span" (token states out of the same encoder pass, pooled over the whole
text and each sentence, the span head on top), on the same texts, in one process, taking turns.

Texts: the validation splits of data/comments and data/urgent (timing only; nothing is printed but times).

    python benchmarks/bench_signal_spans.py [--backend onnx] [--rounds 4]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="onnx", help="torch, onnx, ... (as SYNPUNKT_BACKEND)")
    parser.add_argument("--rounds", type=int, default=4, help="passes over the texts per setting, taking turns")
    args = parser.parse_args()

    from synpunkt.config import signals_dir
    from synpunkt.signals.data import repeat_data, urgent_data
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.features import FeatureEncoder
    from synpunkt.signals.heads import SignalHeads

    u, r = urgent_data(), repeat_data()
    texts = (r[(r.source == "comments") & (r.split == "validation")].text.tolist()
             + u[u.split == "validation"].text.tolist())
    heads = SignalHeads.load(signals_dir())
    detectors = {}
    for scoring in ("whole", "max_span"):
        setting = SignalHeads(heads.urgent, heads.repeat, {**heads.settings, "urgent_scoring": scoring},
                              heads.urgent_span or heads.urgent)
        detectors[scoring] = Detector(setting, FeatureEncoder(base_model=heads.base_model, layers=heads.encoded_layers,
                                                                 backend=args.backend))
        detectors[scoring].detect(texts[:20])  # load and export before timing
    seconds = dict.fromkeys(detectors, 0.0)
    for round_ in range(args.rounds):
        for scoring in (list(detectors) if round_ % 2 == 0 else list(reversed(detectors))):
            started = time.perf_counter()
            detectors[scoring].detect(texts)
            seconds[scoring] += time.perf_counter() - started
    print(f"{args.backend}: {len(texts)} texts x {args.rounds}; "
          + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items())
          + f"; max_span / whole = {seconds['max_span'] / seconds['whole']:.3f}")


if __name__ == "__main__":
    main()

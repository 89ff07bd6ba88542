"""Ingest's encoder reads on each CPU backend against the torch fp32 reference; records the default.

The reads (synpunkt.ingest_encoders): the signal features ("query: " + text, token means of the heads' layers) and
the name model's word states (layer 6 of "query: " + text, first token of each word; in ingest read from the signal
pass, which then returns layer 6 too: "shared_pass_features_identical" says its signal features are bit for bit
those of the pass without it). For each backend:

- the signal features of the heads' held-out texts (the test splits of data/urgent and data/repeat_contact): the
  largest absolute difference from the reference's features (for heads that do not re-encode windows,
  urgent_scoring "max_span" or "whole", the whole texts' and the spans' means from one pass,
  FeatureEncoder.encode_spans), and how many alerts (urgent category or none) and repeat-contact decisions differ;
- the redactions of the NER corpus' test sentences (--ner sentences) and of --n generated comments with metadata
  cells (benchmarks/personal_data_corpus.py, as bench_personal_data.py): the share redacted exactly as the
  reference redacts them. The reference encodes every text with words (no skipping); the backends skip the name
  model where the rules have decided every word it could mark (names.model_may_add), so the same comparison
  checks that the skip changes nothing.

Speeds are texts/s of each read on the same texts, the backends taking turns. A backend qualifies as ingest's default
when its features stay within FEATURE_TOLERANCE, no alert or repeat decision differs and every redaction is
identical; the default is the fastest that qualifies. --write records it in models/signals/backend.json (read by
synpunkt.ingest_encoders.ingest_backend; SYNPUNKT_BACKEND overrides it).

    python benchmarks/bench_encoder_backends.py [--n 300] [--ner 1000] [--int8] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

FEATURE_TOLERANCE = 1e-3
"""Largest absolute feature difference from the torch fp32 reference a default may have (features are O(1))."""


def held_out_signal_texts() -> list[str]:
    from synpunkt.signals.data import repeat_data, urgent_data

    u, r = urgent_data(), repeat_data()
    return list(dict.fromkeys(u[u.split == "test"]["text"].tolist() + r[r.split == "test"]["text"].tolist()))


def redaction_texts(n: int, ner: int) -> dict[str, list[str]]:
    from personal_data_corpus import generate

    from synpunkt.redaction.name_model_training import load_ner_corpus

    corpus = load_ner_corpus()
    test = corpus[corpus.split == "test"].head(ner)
    return {"ner_test": [" ".join(t) for t in test["tokens"]],
            "personal_data": [s.text for s in generate(n=n, seed=0)]}


def every_text_encoded():
    """A context in which the redactor sends every text with words to the name model (the previous behaviour)."""
    from contextlib import contextmanager

    import synpunkt.redaction.redactor as redactor_module
    from synpunkt.redaction.names import is_wordlike

    @contextmanager
    def patched():
        original = redactor_module.model_may_add
        redactor_module.model_may_add = lambda words, flags: np.array([is_wordlike(w) for w in words], dtype=bool)
        try:
            yield
        finally:
            redactor_module.model_may_add = original

    return patched()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="generated comments (bench_personal_data's corpus)")
    parser.add_argument("--ner", type=int, default=1000, help="NER test sentences")
    parser.add_argument("--int8", action="store_true", help="also measure onnx-int8")
    parser.add_argument("--write", action="store_true", help="record the default in models/signals/backend.json")
    args = parser.parse_args()

    from synpunkt.classifier_encoder import relative_spec
    from synpunkt.config import signals_dir
    from synpunkt.ingest_compute import align_name_model
    from synpunkt.ingest_encoders import BACKEND_FILE
    from synpunkt.redaction import Redactor
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.features import FeatureEncoder

    detector = Detector.load(signals_dir())
    layers, max_length = detector.heads.settings["layers"], detector.heads.settings.get("max_length", 512)
    signal = held_out_signal_texts()
    sets = redaction_texts(args.n, args.ner)
    from synpunkt.inference import cuda_available

    backends = ["torch", "onnx"] + (["onnx-int8"] if args.int8 else []) + (["cuda"] if cuda_available() else [])
    runs = {}
    for b in backends:
        redactor = Redactor()
        redactor.name_model.backend = b
        align_name_model(redactor, detector)  # ingest's: the name model reads the heads' encoder where it can
        encoder = FeatureEncoder(base_model=detector.heads.base_model, layers=layers, max_length=max_length,
                                 backend=b)
        signal_features(encoder, ["Hej. Då."], detector)  # load (and export) before timing
        redactor.name_model.probabilities([["Hej", "Qwxz"]], [[True, False]])
        runs[b] = {"redactor": redactor, "encoder": encoder, "feature_s": 0.0, "redact_s": 0.0, "redacted": {}}
    print(f"{len(signal):,} held-out signal texts; redactions: "
          + ", ".join(f"{k} {len(v):,}" for k, v in sets.items()), flush=True)
    load_start = _load()
    step = 128
    features = {b: [] for b in backends}
    shared = {b: [] for b in backends if b != "torch" and not detector.windowed}
    for start in range(0, len(signal), step):  # the backends take turns
        part = signal[start:start + step]
        for b in backends:
            t0 = time.perf_counter()
            features[b].append(signal_features(runs[b]["encoder"], part, detector))
            runs[b]["feature_s"] += time.perf_counter() - t0
            if b in shared:  # ingest's one pass: the same read with layer 6 for the name model (not timed)
                shared[b].append(signal_features(runs[b]["encoder"], part, detector,
                                                 runs[b]["redactor"].name_model.layer))
    with every_text_encoded():
        reference = {name: [r.text for r in runs["torch"]["redactor"].redact_many(texts)]
                     for name, texts in sets.items()}
    for name, texts in sets.items():
        for start in range(0, len(texts), step):
            part = texts[start:start + step]
            for b in backends:
                t0 = time.perf_counter()
                out = runs[b]["redactor"].redact_many(part)
                runs[b]["redact_s"] += time.perf_counter() - t0
                runs[b]["redacted"].setdefault(name, []).extend(r.text for r in out)
    load_end = _load()
    ref_features = joined(features["torch"])
    spans = (lambda f: f[1:]) if detector.spanned else (lambda f: ())  # whole-text heads ignore the spans
    ref_detected = detector.detect_features(*ref_features[:1], signal, *spans(ref_features))
    n_redacted = sum(len(v) for v in sets.values())
    measured = {}
    for b in backends:
        feats = joined(features[b])
        d = detector.detect_features(*feats[:1], signal, *spans(feats))
        row = {
            "signal_texts": len(signal),
            **({"signal_spans": len(feats[2])} if len(feats) > 1 else {}),
            "features_max_abs_diff": max(float(np.abs(x - y).max()) for x, y in zip(feats[:2], ref_features[:2])
                                         if len(x)),
            "alert_differences": int((d["category"].fillna("-") != ref_detected["category"].fillna("-")).sum()),
            "repeat_differences": int((d["repeat_contact"] != ref_detected["repeat_contact"]).sum()),
            "max_probability_difference": float((d["probability"] - ref_detected["probability"]).abs().max()),
            **({"shared_pass_features_identical": all(np.array_equal(x, y) for x, y in zip(joined(shared[b]), feats))}
               if b in shared else {}),
            "signal_features_texts_per_s": round(len(signal) / runs[b]["feature_s"], 1),
            "redacted_texts": {k: len(v) for k, v in sets.items()},
            "identical_redactions": {k: round(float(np.mean([x == y for x, y in zip(runs[b]["redacted"][k], v)])), 4)
                                     for k, v in reference.items()},
            "redaction_texts_per_s": round(n_redacted / runs[b]["redact_s"], 1),
        }
        row["qualifies"] = bool(row["features_max_abs_diff"] <= FEATURE_TOLERANCE and row["alert_differences"] == 0
                                and row["repeat_differences"] == 0 and row.get("shared_pass_features_identical", True)
                                and all(v == 1.0 for v in row["identical_redactions"].values()))
        measured[b] = row
    for b in backends:
        measured[b]["speed_vs_torch"] = round(
            (runs["torch"]["feature_s"] + runs["torch"]["redact_s"]) / (runs[b]["feature_s"] + runs[b]["redact_s"]), 2)
    print(json.dumps(measured, indent=2))
    qualifying = [b for b in backends if measured[b]["qualifies"]]
    cpu = [b for b in qualifying if b != "cuda"]
    default = max(cpu, key=lambda b: measured[b]["speed_vs_torch"]) if cpu else "torch"  # cuda: where a GPU is
    print(f"default for ingest's encoders: {default}")
    if args.write:
        import os

        from synpunkt.inference.backends import cpu_key, cpu_name, with_machines
        from synpunkt.ingest_encoders import read_record

        record = {
            "default": default,
            "base_model": relative_spec(detector.heads.base_model, signals_dir()),
            "rule": ("The fastest backend whose signal features stay within "
                     f"{FEATURE_TOLERANCE:g} of the torch fp32 reference's, with no alert (urgent category or none) "
                     "or repeat-contact decision changed on the signal heads' held-out texts and every redaction "
                     "identical to the reference's (which encodes every text; the backends skip the name model "
                     "where the rules decided every word it could mark)."),
            "reference": "torch (fp32)",
            "measured": measured,
            "command": "python benchmarks/bench_encoder_backends.py " + " ".join(sys.argv[1:]),
            "date": date.today().isoformat(),
            "machine": {"cpu": cpu_name(), "key": cpu_key(), "threads": len(os.sched_getaffinity(0)),
                        "load_average": {"start": load_start, "end": load_end}},
            "signals_version": detector.version,
        }
        record = with_machines(record, read_record(signals_dir(), detector.heads.base_model))  # other CPUs stay
        path = Path(signals_dir()) / BACKEND_FILE
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"recorded in {path}")


def signal_features(encoder, texts: list[str], detector, name_layer: int | None = None) -> tuple:
    """(whole, spans, rows) from one encoder pass, as Detector.detect and ingest read them (with `name_layer`,
    ingest's shared pass: the graph returns that layer too, handed to a reader that drops it); (whole,) for heads
    that re-encode windows (max_window)."""
    from synpunkt.signals.windows import MAX_WINDOW_WORDS

    if not detector.windowed:
        return encoder.encode_spans(texts, detector.heads.settings.get("max_window_words", MAX_WINDOW_WORDS),
                                    name_layer, None if name_layer is None else lambda *_: None)
    return (encoder.encode(texts),)


def joined(parts: list[tuple]) -> tuple:
    """signal_features of consecutive chunks as one: rows renumbered to the whole list of texts."""
    whole = np.vstack([p[0] for p in parts])
    if len(parts[0]) == 1:
        return (whole,)
    offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
    return (whole, np.vstack([p[1] for p in parts]), np.concatenate([p[2] + o for p, o in zip(parts, offsets)]))


def _load() -> float:
    import os

    return round(os.getloadavg()[0], 1)


if __name__ == "__main__":
    main()

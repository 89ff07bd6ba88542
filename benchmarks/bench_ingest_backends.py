"""Ingest's encoder on every CPU backend against the torch fp32 reference: speed, redactions and signal decisions.

Each backend runs what ingest runs per distinct comment text (synpunkt.text_features): the shared pass (name
features + the signal heads' pooled features) with the redactor's later passes, on

- the evaluation texts of the signal heads (data/urgent and data/repeat_contact, every split), whose alerts
  (urgent category or none) and repeat-contact decisions are compared with the reference's;
- --pool realistic comments with names and phone numbers put in (bench_ingest.text_pool), for the redactions.

The backends take turns sub-batch by sub-batch (the machine is shared: each sees the same load). A backend
qualifies as ingest's default when at least MIN_IDENTICAL of the texts are redacted exactly as the reference
redacts them and no alert differs; the default is the fastest that qualifies. --write records it in
models/signals/backend.json (read by synpunkt.text_features.resolve_backend) and in the heads' model card.

    python benchmarks/bench_ingest_backends.py [--pool 1000] [--limit N] [--write]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

MIN_IDENTICAL = 0.995
SUB_BATCH = 256
REFERENCE = ("torch", "fp32")
CANDIDATES = (("torch", None), ("onnx", None), ("onnx-int8", None))
"""(backend, torch precision): None is the runtime setting (SYNPUNKT_PRECISION, auto: bf16 where the CPU has it)."""


def evaluation_texts(pool: int, limit: int | None) -> tuple[list[str], list[str]]:
    """(every text, the signal heads' evaluation texts), without repeats."""
    from bench_ingest import text_pool

    from synpunkt.signals.data import repeat_data, urgent_data

    signal = list(dict.fromkeys(urgent_data()["text"].tolist() + repeat_data()["text"].tolist()))
    if limit:
        signal = random.Random(3).sample(signal, min(limit, len(signal)))
    return list(dict.fromkeys(text_pool(pool, random.Random(11)) + signal)), signal


def label(backend: str, precision: str | None) -> str:
    if backend != "torch":
        return backend
    from synpunkt.inference.torch_runner import resolve_precision

    return f"torch ({resolve_precision(precision)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=1000, help="comments with names put in, for the redactions")
    parser.add_argument("--limit", type=int, default=None, help="at most this many signal texts (quick runs)")
    parser.add_argument("--write", action="store_true", help="record the default in models/signals/backend.json")
    args = parser.parse_args()

    from synpunkt.config import signals_dir
    from synpunkt.redact import Redactor
    from synpunkt.signals.detect import Detector
    from synpunkt.text_features import BACKEND_FILE, TextEncoder

    detector = Detector.load(signals_dir())
    texts, signal = evaluation_texts(args.pool, args.limit)
    runs = {}
    for backend, precision in (REFERENCE, *CANDIDATES):
        redactor = Redactor()
        redactor.name_model.backend, redactor.name_model.precision = backend, precision
        encoder = TextEncoder(redactor.name_model.base_model, redactor.name_model.layer,
                              detector.heads.settings["layers"], backend, precision=precision)
        name = "reference" if (backend, precision) == REFERENCE else label(backend, precision)
        try:
            redactor.redact_many_shared(["Jag pratade med Anna Berg."], encoder)  # load (and export) before timing
        except Exception as err:  # noqa: BLE001 (a backend that cannot run here is reported, not fatal)
            if name == "reference":
                raise
            print(f"{name}: cannot run ({type(err).__name__}: {str(err)[:200]}); left out")
            continue
        runs[name] = {"redactor": redactor, "encoder": encoder, "seconds": 0.0, "texts": [], "pooled": []}
    print(f"{len(texts):,} texts ({len(signal):,} of them the signal heads' evaluation texts); backends take turns "
          f"every {SUB_BATCH} texts", flush=True)
    for start in range(0, len(texts), SUB_BATCH):
        part = texts[start:start + SUB_BATCH]
        for run in runs.values():
            t0 = time.perf_counter()
            redacted, pooled = run["redactor"].redact_many_shared(part, run["encoder"])
            run["seconds"] += time.perf_counter() - t0
            run["texts"] += [r.text for r in redacted]
            run["pooled"].append(pooled)
    index = {t: i for i, t in enumerate(texts)}
    rows = [index[t] for t in signal]
    for run in runs.values():
        run["detected"] = detector.detect_features(np.vstack(run["pooled"])[rows], signal)
    ref = runs["reference"]
    measured = {}
    for name, run in runs.items():
        d, r = run["detected"], ref["detected"]
        measured[name] = {
            "texts": len(texts), "texts_per_s": round(len(texts) / run["seconds"], 1),
            "speed_vs_torch": round(ref["seconds"] / run["seconds"], 2),
            "identical_redactions": round(float(np.mean([a == b for a, b in zip(run["texts"], ref["texts"])])), 4),
            "signal_texts": len(signal),
            "alert_differences": int((d["category"].fillna("-") != r["category"].fillna("-")).sum()),
            "repeat_differences": int((d["repeat_contact"] != r["repeat_contact"]).sum()),
            "max_probability_difference": round(float((d["probability"] - r["probability"]).abs().max()), 4)}
        measured[name]["qualifies"] = (measured[name]["identical_redactions"] >= MIN_IDENTICAL
                                       and measured[name]["alert_differences"] == 0)
    print(json.dumps(measured, indent=2))
    candidates = {n: m for n, m in measured.items() if n != "reference" and m["qualifies"]}
    best = max(candidates, key=lambda n: candidates[n]["texts_per_s"]) if candidates else "torch"
    backend = best.split(" ")[0]
    print(f"default for ingest's encoder: {backend} (the fastest with >= {MIN_IDENTICAL:.1%} identical redactions "
          "and identical alerts)")
    if args.write:
        record = {
            "backend": backend,
            "rule": f"The fastest backend with at least {MIN_IDENTICAL:.1%} of the texts redacted exactly as the "
                    "torch fp32 reference redacts them and no alert changed (urgent category or none), on the "
                    "signal heads' evaluation texts and realistic comments with names put in (the shared pass and "
                    "the redactor's later passes, as in ingest).",
            "reference": "torch (fp32)", "measured": measured,
            "command": "python benchmarks/bench_ingest_backends.py " + " ".join(sys.argv[1:]),
            "signals_version": detector.version,
        }
        path = Path(signals_dir()) / BACKEND_FILE
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        from synpunkt.signals.card import write_card

        evaluation = json.loads((Path(signals_dir()) / "evaluation.json").read_text(encoding="utf-8"))
        write_card(Path(signals_dir()), detector.heads.settings, evaluation)
        print(f"recorded in {path} and the model card")


if __name__ == "__main__":
    main()

"""Compare the inference backends on one model: speed, agreement with the torch reference, evaluation figures.

    compare_backends(model_dir)  the table, and the default chosen from it (synpunkt compare-backends)
    write_backends(model_dir, report)  backends.json (read by resolve_backend) and the model card's section

Every available backend classifies the same texts (the in-domain comments and the independent test set) in the same
run, interleaved chunk by chunk so that each sees the same machine load; comments/s is the total over all chunks.
A backend qualifies as the default when its sentiments agree with the reference's on at least MIN_AGREEMENT of the
texts and its sentiment macro-F1 and topic micro-F1 on both in-domain test sets lie within the reference's 95 %
bootstrap intervals (synpunkt.evaluate). The default is the fastest backend that qualifies.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from synpunkt.inference.backends import (BACKENDS_FILE, CPU_BACKENDS, MIN_AGREEMENT, REFERENCE, available_backends,
                                         choose_default, cpu_flags, cpu_key, cpu_name, read_backends,
                                         with_machines)

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 256
"""Texts per timed chunk; the backends take turns chunk by chunk."""
METRICS = (("sentiment", "macro_f1"), ("topics", "micro_f1"))
"""The figures that must stay within the reference's intervals, on every evaluation set."""


def evaluation_frames() -> dict[str, pd.DataFrame]:
    """The labelled in-domain test sets: the test split of the project's comments and the independent set."""
    from synpunkt.data import load_in_domain
    from synpunkt.evaluate import load_independent

    in_domain = load_in_domain()
    frames = {"in_domain_test": in_domain[in_domain.split == "test"].reset_index(drop=True)}
    independent = load_independent()
    if independent is not None and len(independent):
        frames["in_domain_test_independent"] = independent
    return frames


def agreement_texts() -> list[str]:
    """Every in-domain comment (all splits) and the independent set: the texts speed and agreement are measured on."""
    from synpunkt.data import load_in_domain
    from synpunkt.evaluate import load_independent

    independent = load_independent()
    texts = load_in_domain()["text"].tolist() + ([] if independent is None else independent["text"].tolist())
    return list(dict.fromkeys(texts))


def compare_backends(model_dir: Path | None = None, backends: tuple[str, ...] | None = None,
                     frames: dict[str, pd.DataFrame] | None = None, texts: list[str] | None = None) -> dict:
    """Run every backend (default: all this machine has) on `texts` and the labelled `frames`; the report."""
    from synpunkt.classifier import BATCH_SIZES, Classifier
    from synpunkt.config import model_dir as default_model_dir

    model_dir = Path(model_dir or default_model_dir())
    frames = evaluation_frames() if frames is None else frames
    texts = agreement_texts() if texts is None else list(dict.fromkeys(texts))
    texts = list(dict.fromkeys(texts + [t for rows in frames.values() for t in rows["text"]]))  # labelled too
    names = [b for b in (backends or available_backends()) if b != REFERENCE]
    reference = Classifier.load(model_dir, backend=REFERENCE)
    classifiers = {REFERENCE: reference}
    for name in names:  # one network, shared by every backend (the cuda runner copies it to the GPU)
        classifiers[name] = Classifier(reference.model, reference.tokenizer, reference.settings, reference.version,
                                       backend=name, lexicon=reference.lexicon)
    load_start = _load_average()
    logits, seconds = _timed_logits(classifiers, texts)
    load_end = _load_average()
    position = {t: i for i, t in enumerate(texts)}
    reference_sets = {}
    rows = []
    for name, clf in classifiers.items():
        sets = {}
        for set_name, frame in frames.items():
            idx = frame["text"].map(position).to_numpy()
            sets[set_name] = _figures(clf, frame, {k: v[idx] for k, v in logits[name].items()})
        if name == REFERENCE:
            reference_sets = sets
        rows.append({"backend": name, "precision": clf.precision, "batch_size": BATCH_SIZES[name],
                     "comments_per_s": round(len(texts) / seconds[name], 1),
                     "sentiment_agreement": _agreement(logits[name], logits[REFERENCE], "sentiment"),
                     "topics_agreement": _topic_agreement(clf, logits[name], logits[REFERENCE]),
                     "max_abs_logit_difference": float(max(np.abs(logits[name][k] - logits[REFERENCE][k]).max()
                                                           for k in logits[name])) if texts else 0.0,
                     "sets": sets})
    for row in rows:
        row["speedup_vs_torch"] = round(row["comments_per_s"] / rows[0]["comments_per_s"], 2)
        row["within_intervals"] = _within(row["sets"], reference_sets)
        row["qualifies"] = bool(row["sentiment_agreement"] >= MIN_AGREEMENT and row["within_intervals"])
    from synpunkt.inference.onnx_export import INT8_SETTINGS

    from synpunkt.model import network_digest

    return {"model_version": reference.version, "network": network_digest(model_dir),
            "date": date.today().isoformat(), "machine": machine(),
            "load_average": {"start": load_start, "end": load_end},
            "reference": REFERENCE, "reference_precision": reference.precision, "texts": len(texts),
            "min_agreement": MIN_AGREEMENT, "int8_settings": INT8_SETTINGS, "backends": rows,
            "default": choose_default(rows),
            "cpu_default": choose_default([r for r in rows if r["backend"] in CPU_BACKENDS])}


def _timed_logits(classifiers: dict, texts: list[str]) -> tuple[dict, dict]:
    """Logits of every classifier on `texts` (interleaved_runs), and the seconds each spent."""
    engines = {name: (lambda clf: lambda chunk: clf.logits(chunk, progress=False))(clf)
               for name, clf in classifiers.items()}
    parts, seconds = interleaved_runs(engines, texts)
    logits = {n: {k: np.concatenate([p[k] for p in parts[n]]) for k in parts[n][0]} if parts[n] else {}
              for n in engines}
    return logits, seconds


def interleaved_runs(engines: dict[str, Callable[[list[str]], T]], texts: list[str], chunk: int = CHUNK,
                     warm_up: int = 64) -> tuple[dict[str, list[T]], dict[str, float]]:
    """Run every engine on `texts`, chunk by chunk in turns (each chunk starting with the next engine), so that all
    see the same machine load; (each engine's results per chunk, the seconds each spent). A short warm-up first."""
    for run in engines.values():
        run(texts[:warm_up])
    names = list(engines)
    results: dict[str, list[T]] = {n: [] for n in names}
    seconds = {n: 0.0 for n in names}
    for c, start in enumerate(range(0, len(texts), chunk)):
        part = texts[start:start + chunk]
        for name in names[c % len(names):] + names[:c % len(names)]:
            began = time.perf_counter()
            results[name].append(engines[name](part))
            seconds[name] += time.perf_counter() - began
        log.info("ran %d of %d texts", min(start + chunk, len(texts)), len(texts))
    return results, seconds


def _agreement(logits: dict, reference: dict, key: str) -> float:
    """Share of texts whose argmax equals the reference's."""
    if not len(reference.get(key, [])):
        return 1.0
    return round(float((logits[key].argmax(1) == reference[key].argmax(1)).mean()), 5)


def _topic_agreement(clf, logits: dict, reference: dict) -> float:
    """Share of texts whose predicted topic set (calibrated, thresholded) equals the reference's."""
    if not len(reference.get("topics", [])):
        return 1.0
    thresholds = np.array([clf.settings.topic_thresholds.get(t, 0.5) for t in clf.settings.topics])
    ours = clf.probabilities(logits)["topics"] >= thresholds
    theirs = clf.probabilities(reference)["topics"] >= thresholds
    return round(float((ours == theirs).all(1).mean()), 5)


def _figures(clf, frame: pd.DataFrame, logits: dict) -> dict:
    """The metrics in METRICS with their 95 % bootstrap intervals (synpunkt.evaluate.evaluate_frame)."""
    from synpunkt.evaluate import evaluate_frame

    report = evaluate_frame(clf, frame, logits)
    out = {"n": int(len(frame))}
    for task, metric in METRICS:
        if task in report:
            out[f"{task}_{metric}"] = round(report[task][metric], 4)
            out[f"{task}_{metric}_ci95"] = [round(x, 4) for x in report[task][f"{metric}_ci95"]]
    return out


def _within(sets: dict, reference: dict) -> bool:
    """True when every figure lies within the reference's 95 % interval for the same set."""
    for name, figures in sets.items():
        for task, metric in METRICS:
            key = f"{task}_{metric}"
            if key in figures:
                lo, hi = reference[name][f"{key}_ci95"]
                if not lo <= figures[key] <= hi:
                    return False
    return True


def _load_average() -> float | None:
    """The machine's 1-minute load average (other work competing for the cores), where the system reports one."""
    import os

    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine() -> dict:
    """What the figures were measured on."""
    import torch

    from synpunkt.config import inference_threads

    return {"cpu": cpu_name(), "flags": list(cpu_flags()), "key": cpu_key(), "threads": inference_threads(),
            "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


# -- the record ------------------------------------------------------------------------------------------------
def write_backends(model_dir: Path, report: dict) -> Path:
    """backends.json in the model directory (the default resolve_backend reads) and the model card's section."""
    from synpunkt.model_card import write_card_section

    path = Path(model_dir) / BACKENDS_FILE
    report = with_machines(report, read_backends(model_dir))
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_card_section(model_dir, "backends", card_section(report))
    return path


def machines_table(report: dict) -> str:
    """One row per CPU measured: its default and each backend's comments/s there (and the model version measured,
    where an entry was kept from an earlier version with the same network)."""
    lines = ["| CPU (inference features) | measured | default | comments/s by backend (qualifying in bold) |",
             "|---|---|---|---|"]
    for key, e in report.get("machines", {}).items():
        speeds = ", ".join(f"**{b} {v:.0f}**" if b in e.get("qualifying", []) else f"{b} {v:.0f}"
                           for b, v in e.get("comments_per_s", {}).items())
        other = e.get("model_version") not in (None, report.get("model_version"))  # kept across a settings change
        when = f"{e.get('date')} (for `{e['model_version']}`)" if other else e.get("date")
        lines.append(f"| {key} | {when} | {e.get('cpu_default')} | {speeds} |")
    return "\n".join(lines)


def markdown_table(report: dict) -> str:
    """One row per backend: speed, agreement with the reference, the evaluation figures with their 95 % intervals."""
    set_names = list(report["backends"][0]["sets"]) if report["backends"] else []
    header = ("| backend | precision | comments/s | x torch | same sentiment | same topics | "
              + " | ".join(f"{s}: sentiment macro-F1 (95 % CI); topic micro-F1" for s in set_names) + " | default? |")
    lines = [header, "|---" * (7 + len(set_names)) + "|"]
    for row in report["backends"]:
        figures = [_figures_cell(row["sets"][s]) for s in set_names]
        lines.append(f"| {row['backend']} | {row['precision']} | {row['comments_per_s']:.1f} | "
                     f"{row['speedup_vs_torch']:.2f} | {row['sentiment_agreement']:.1%} | "
                     f"{row['topics_agreement']:.1%} | " + " | ".join(figures) + f" | {_verdict(row, report)} |")
    return "\n".join(lines)


def _figures_cell(figures: dict) -> str:
    cell = "-"
    if "sentiment_macro_f1" in figures:
        lo, hi = figures["sentiment_macro_f1_ci95"]
        cell = f"{figures['sentiment_macro_f1']:.3f} ({lo:.3f}-{hi:.3f})"
    if "topics_micro_f1" in figures:
        cell += f"; {figures['topics_micro_f1']:.3f}"
    return cell


def _verdict(row: dict, report: dict) -> str:
    """default, qualifies, or why not."""
    if row["backend"] == report["default"]:
        return "**default**"
    if row["qualifies"]:
        return "qualifies (slower)"
    reasons = []
    if row["sentiment_agreement"] < report["min_agreement"]:
        reasons.append(f"agreement under {report['min_agreement']:.1%}")
    if not row["within_intervals"]:
        reasons.append("a figure outside the reference's interval")
    return "no: " + ", ".join(reasons)


def card_section(report: dict) -> str:
    """The model card's section on inference backends."""
    import textwrap

    m = report["machine"]
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU"
    load = report.get("load_average") or {}
    busy = (f" The 1-minute load average was {load['start']:.1f} at the start and {load['end']:.1f} at the end "
            f"({m['threads']} cores); torch slows down far more than ONNX Runtime when other processes compete for "
            "the cores." if load.get("start") is not None else "")
    wrap = lambda text: textwrap.fill(text, width=115, break_on_hyphens=False)  # noqa: E731
    return "\n".join([
        "## Inference backends", "",
        wrap(f"Measured {report['date']} on {m['cpu']} ({m['threads']} threads{gpu}) with `synpunkt compare-backends "
             f"--write`: {report['texts']:,} comments (the in-domain set and the independent test set), every backend "
             "in the same run, taking turns, so that each sees the same load. The "
             f"reference is torch ({report['reference_precision']}). A backend may be the default when its sentiment "
             f"agrees with the reference's on at least {report['min_agreement']:.1%} of the comments and its "
             "sentiment macro-F1 and topic micro-F1 on both in-domain test sets lie within the reference's 95 % "
             "bootstrap intervals; the default is the fastest that does. Other machines differ: run the command "
             f"there to choose for them.{busy}"), "",
        markdown_table(report), "",
        wrap(f"Default on this CPU: **{report['default']}** (`SYNPUNKT_BACKEND` or `--backend` override it; on a "
             "machine with a GPU, cuda). The fastest backend depends on the CPU, so backends.json keeps a default "
             "per CPU, and `auto` takes the one measured on the CPU it runs on (on a CPU not yet measured, the latest "
             "measurement's):"), "",
        machines_table(report) if report.get("machines") else "", "",
        wrap("onnx-int8: ONNX Runtime's dynamic int8 quantisation of the MatMul weights "
             f"(`{json.dumps(report.get('int8_settings', {}))}`); the embedding table and the heads stay float32."),
    ])

"""Which inference backend to use: the names, the recorded default per model, and resolution.

    resolve_backend(requested, model_dir)   argument > SYNPUNKT_BACKEND > the default recorded for the model > torch

A model directory's ``backends.json`` (written by ``synpunkt compare-backends --write``) holds the comparison of the
backends on that model and the default chosen from it: the fastest backend whose answers agree with the torch
reference on at least MIN_AGREEMENT of the sentiments and whose evaluation figures stay within the reference's
95 % intervals. A file written for another model version is ignored (a retrained model has not been compared).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8", "cuda")
"""torch: the reference (CPU, fp32 or bf16 autocast); onnx: ONNX Runtime fp32 on the CPU; onnx-int8: ONNX Runtime
with dynamically quantised int8 weights; cuda: torch on a CUDA GPU in bf16/fp16 autocast."""
AUTO = "auto"
REFERENCE = "torch"
CPU_BACKENDS = ("torch", "onnx", "onnx-int8")
BACKENDS_FILE = "backends.json"
MIN_AGREEMENT = 0.995
"""A backend may be the default only if its sentiment agrees with the reference's on at least this share."""


class BackendError(ValueError):
    """An unknown backend name, or a backend this machine cannot run (the message says which ones it can)."""


def cuda_available() -> bool:
    """True when torch sees a CUDA GPU."""
    import torch

    return bool(torch.cuda.is_available())


def available_backends() -> tuple[str, ...]:
    """The backends this machine can run, in BACKENDS order."""
    return tuple(b for b in BACKENDS if b != "cuda" or cuda_available())


def check_backend(name: str) -> str:
    """`name` normalised, or BackendError naming the allowed ones (and why cuda is not available here)."""
    name = str(name).strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"unknown inference backend {name!r}; choose one of {', '.join(BACKENDS)} or {AUTO} "
                           "(SYNPUNKT_BACKEND, --backend)")
    if name == "cuda" and not cuda_available():
        raise BackendError("inference backend 'cuda' needs a CUDA GPU, and torch sees none here "
                           f"(torch.cuda.is_available() is False); use one of {', '.join(CPU_BACKENDS)} or {AUTO}")
    return name


def read_backends(model_dir: Path | None) -> dict | None:
    """The model directory's backends.json when it exists and was written for this model version, else None."""
    if model_dir is None or not (Path(model_dir) / BACKENDS_FILE).is_file():
        return None
    from synpunkt.model import model_version

    path = Path(model_dir) / BACKENDS_FILE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        current = model_version(model_dir)
    except (OSError, ValueError) as err:
        log.warning("%s ignored: %s", path, type(err).__name__)
        return None
    if recorded.get("model_version") != current:
        log.warning("%s was written for %s, not %s: ignored (run `synpunkt compare-backends --write`)",
                    path, recorded.get("model_version"), current)
        return None
    return recorded


def recorded_default(model_dir: Path | None) -> str:
    """The default for a model on this machine.

    With a GPU: cuda, unless the model's comparison measured cuda and found it wanting (cuda is the torch reference
    in reduced precision, orders of magnitude faster than any CPU backend). Without one: the default recorded in
    backends.json (the CPU default when that was cuda), else the torch reference.
    """
    recorded = read_backends(model_dir) or {}
    rows = {row["backend"]: row for row in recorded.get("backends", [])}
    if cuda_available() and rows.get("cuda", {}).get("qualifies", True):
        return "cuda"
    choice = recorded.get("default", REFERENCE)
    if choice == "cuda" or choice not in CPU_BACKENDS:
        choice = recorded.get("cpu_default", REFERENCE)
    return choice if choice in CPU_BACKENDS else REFERENCE


def resolve_backend(requested: str | None = None, model_dir: Path | None = None) -> str:
    """The backend to run: `requested` > SYNPUNKT_BACKEND > the default recorded for `model_dir` > torch.

    "auto" (in the argument or the setting) means the recorded default. An unknown name, or cuda without a GPU,
    raises BackendError (a ValueError) naming the allowed backends.
    """
    from synpunkt.config import backend as configured

    name = (requested or configured() or AUTO).strip().lower()
    if name == AUTO:
        return recorded_default(model_dir)
    return check_backend(name)


def choose_default(rows: list[dict]) -> str:
    """The fastest backend among `rows` (compare-backends' table) that qualifies; the reference if none does."""
    qualifying = [r for r in rows if r.get("qualifies")]
    return max(qualifying, key=lambda r: r["comments_per_s"])["backend"] if qualifying else REFERENCE

"""Weight averaging ("model soup", Wortsman et al., ICML 2022) of classifier runs that share a base and architecture.

A saved model stores LoRA adapters (A: [r, in], B: [out, r]), whose merged update of a frozen base matrix is
``(alpha / r) B A`` (peft's scaling without rsLoRA), plus LayerNorm weights and heads. The average of N runs is
stored *exactly* as one adapter of rank N*r: ``A = concat(A_i)`` along the rank axis and ``B = concat(B_i / N)``,
with ``lora_alpha`` multiplied by N so that the scaling alpha / r stays the same; then

    (N alpha / (N r)) concat(B_i / N) concat(A_i) = (1/N) sum_i (alpha / r) B_i A_i,

the mean of the runs' merged updates. LayerNorm weights and heads are averaged arithmetically. The adapters are
merged into the base at load time (synpunkt.model.load_model), so the averaged model costs no more to run than
one run; only the stored adapters grow N times. Settings are copied from the first run, and so is its lexical topic
model (topic_lexicon.npz, fitted on that run's training data: a separate linear model that is not averaged); the
calibration, with the lexicon's blend weight, is refitted afterwards (`synpunkt average-models` runs `synpunkt
recalibrate`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import torch

from synpunkt.evaluate import EVAL_FILE
from synpunkt.model import NETWORK_FIELDS, SETTINGS_FILE, WEIGHTS_FILE, ModelSettings, model_version
from synpunkt.topic_lexicon import LEXICON_FILE

LORA_A, LORA_B = ".lora_A.", ".lora_B."
ARCHITECTURE_FIELDS = (*NETWORK_FIELDS, "unshout", "respell")
"""Settings that must agree between averaged runs (same base, input, adapters and heads)."""


class IncompatibleModels(ValueError):
    """The model directories cannot be averaged (different base, settings, tensors or shapes)."""


# -- pure functions -----------------------------------------------------------------------------------------
def check_compatible(settings: Sequence[ModelSettings], states: Sequence[dict[str, torch.Tensor]],
                     names: Sequence[str] | None = None) -> None:
    """Raise IncompatibleModels unless every run has the first one's architecture settings and tensors."""
    if len(settings) != len(states):
        raise ValueError(f"{len(settings)} settings for {len(states)} weight sets")
    if len(states) < 2:
        raise IncompatibleModels(f"averaging needs at least two models, got {len(states)}")
    names = list(names or [f"model {i + 1}" for i in range(len(states))])
    first, reference = settings[0], states[0]
    for name, s, state in zip(names[1:], settings[1:], states[1:]):
        for key in ARCHITECTURE_FIELDS:
            if getattr(s, key) != getattr(first, key):
                raise IncompatibleModels(f"{name}: setting {key} = {getattr(s, key)!r} differs from "
                                         f"{names[0]}'s {getattr(first, key)!r}")
        if set(state) != set(reference):
            extra, missing = sorted(set(state) - set(reference)), sorted(set(reference) - set(state))
            raise IncompatibleModels(f"{name}: its tensors differ from {names[0]}'s ({len(extra)} extra, e.g. "
                                     f"{extra[:2]}; {len(missing)} missing, e.g. {missing[:2]})")
        for key, tensor in state.items():
            if tuple(tensor.shape) != tuple(reference[key].shape):
                raise IncompatibleModels(f"{name}: tensor {key} has shape {tuple(tensor.shape)}, "
                                         f"{names[0]}'s {tuple(reference[key].shape)}")


def average_state_dicts(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The averaged trained weights: LoRA A concatenated and B concatenated and divided by N along the rank
    axis (an exact average of the merged updates once lora_alpha is multiplied by N, see averaged_settings);
    every other tensor (LayerNorms, heads) the arithmetic mean. Computed in float64, returned in the input dtype."""
    n = len(states)
    out = {}
    for key, reference in states[0].items():
        tensors = [s[key].to(torch.float64) for s in states]
        if LORA_A in key:
            value = torch.cat(tensors, dim=0)  # [r, in] each -> [N r, in]
        elif LORA_B in key:
            value = torch.cat([t / n for t in tensors], dim=1)  # [out, r] each -> [out, N r]
        else:
            value = torch.stack(tensors).mean(0)
        out[key] = value.to(reference.dtype).contiguous()
    return out


def averaged_settings(settings: Sequence[ModelSettings]) -> ModelSettings:
    """The first run's settings with the adapter rank and alpha multiplied by N (same scaling alpha / r)."""
    n, first = len(settings), settings[0]
    return replace(first, lora_r=first.lora_r * n, lora_alpha=first.lora_alpha * n)


def lora_scaling(settings: ModelSettings) -> float:
    """peft's LoRA scaling (no rsLoRA): alpha / r."""
    return settings.lora_alpha / settings.lora_r


def merged_deltas(state: dict[str, torch.Tensor], settings: ModelSettings) -> dict[str, torch.Tensor]:
    """The update each adapter adds to its base matrix when merged, (alpha / r) B A, keyed by the module name."""
    out = {}
    for key, a in state.items():
        if LORA_A in key:
            module = key.split(LORA_A)[0]
            b = state[key.replace(LORA_A, LORA_B)]
            out[module] = lora_scaling(settings) * (b.to(torch.float64) @ a.to(torch.float64))
    return out


def training_record(sources: Sequence[dict]) -> dict:
    """The "training" record of an averaged model's evaluation.json: the first run's, plus where it came from,
    each run's own record included (its config and code revision: scripts/reproduce_weights.py trains every run
    again and averages them)."""
    first = sources[0].get("training") or {}
    seeds = [(s.get("training") or {}).get("config", {}).get("seed") for s in sources]
    config = {**first.get("config", {}), "seed": seeds}
    return {**first, "config": config,
            "weight_average": {"date": date.today().isoformat(), "command": "synpunkt average-models",
                               "models": [{k: s.get(k) for k in ("dir", "model_version", "training")}
                                          for s in sources]}}


# -- I/O ----------------------------------------------------------------------------------------------------
def load_weights(model_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    path = Path(model_dir) / WEIGHTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{model_dir}: no {WEIGHTS_FILE}; not a trained Synpunkt model directory")
    return load_file(str(path))


def average_models(model_dirs: Sequence[Path], output_dir: Path) -> dict:
    """Average the trained weights of model_dirs (same base and architecture) into output_dir: settings (the
    first run's, adapter rank and alpha times N), weights, the first run's topic lexicon if it has one, and an
    evaluation.json holding only the "training" record. The calibration is the first run's until refitted
    (synpunkt.evaluate.recalibrate). Returns a summary."""
    from safetensors.torch import save_file

    dirs = [Path(d) for d in model_dirs]
    output_dir = Path(output_dir)
    if any(d.resolve() == output_dir.resolve() for d in dirs):
        raise ValueError(f"--output-dir {output_dir} is one of the models averaged; choose a new folder")
    settings = [ModelSettings.load(d) for d in dirs]
    states = [load_weights(d) for d in dirs]
    check_compatible(settings, states, [str(d) for d in dirs])
    averaged, soup_settings = average_state_dicts(states), averaged_settings(settings)
    sources = []
    for d in dirs:
        report = json.loads((d / EVAL_FILE).read_text()) if (d / EVAL_FILE).exists() else {}
        sources.append({"dir": str(d), "model_version": model_version(d), "training": report.get("training")})
    output_dir.mkdir(parents=True, exist_ok=True)
    soup_settings.save(output_dir)
    save_file(averaged, str(output_dir / WEIGHTS_FILE))
    lexicon = dirs[0] / LEXICON_FILE
    if lexicon.exists():
        shutil.copyfile(lexicon, output_dir / LEXICON_FILE)
    (output_dir / EVAL_FILE).write_text(json.dumps({"training": training_record(sources)}, indent=2,
                                                   ensure_ascii=False))
    return {"output_dir": str(output_dir), "models": [s["model_version"] for s in sources],
            "model_version": model_version(output_dir), "lora_r": soup_settings.lora_r,
            "lora_alpha": soup_settings.lora_alpha, "tensors": len(averaged),
            "bytes": (output_dir / WEIGHTS_FILE).stat().st_size, "settings_file": SETTINGS_FILE,
            "topic_lexicon": str(lexicon) if lexicon.exists() else None}

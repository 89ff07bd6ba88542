"""Can a model be trained again to the same weights? What a training run records, and how two runs compare.

    code_revision()                  the git commit the code and data were read from, and whether the tree was clean
    retraining_config(record, root)  a model's recorded TrainConfig, its project paths moved to another checkout
    weights_difference(a, b)         tensor by tensor: how far two model directories' trained weights are apart

`synpunkt train` stores ``code_revision()`` in the model's training record (evaluation.json, "training"), beside
the TrainConfig it ran with. scripts/reproduce_weights.py checks that revision out in a temporary git worktree,
runs that revision's own training with the recorded config and compares the weights it writes with the model's.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from synpunkt.config import PROJECT_ROOT
from synpunkt.model import WEIGHTS_FILE

PATH_FIELDS = ("output_dir", "in_domain", "data_dir", "corrections")
"""TrainConfig fields that hold paths (the others are numbers, names and flags)."""


def code_revision(root: Path = PROJECT_ROOT) -> dict | None:
    """{"commit": sha, "clean": no tracked file modified} for the project's git checkout; None outside one."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "clean": not changed}


def training_record(model_dir: Path) -> dict:
    """The model's training record (evaluation.json's "training": config, rows, losses, code revision)."""
    from synpunkt.evaluate import EVAL_FILE  # here: train and train-signals import this module for code_revision

    path = Path(model_dir) / EVAL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no evaluation.json, so no record of how the model was trained")
    record = json.loads(path.read_text(encoding="utf-8")).get("training")
    if not record or "config" not in record:
        raise ValueError(f"{path}: no training record (a model made by `synpunkt average-models` or by hand?)")
    return record


def retraining_config(record: dict, checkout: Path, output_dir: Path, shared_data: Path | None) -> dict:
    """The recorded TrainConfig as keyword arguments for a run in `checkout`: a path that was inside the recorded
    project (the folder above data/ in the in-domain path) points to the same file in `checkout` where that exists
    (others stay as recorded), the output goes to `output_dir`, the shared datasets folder is `shared_data` when
    given, and a run recorded with torch's default thread count runs with the count it used (a process's default
    can differ, and so would the order of floating-point sums)."""
    config = dict(record["config"])
    recorded_root = _recorded_root(config.get("in_domain"))
    for field in PATH_FIELDS:
        value = config.get(field)
        if value and recorded_root and Path(value).is_relative_to(recorded_root):
            moved = Path(checkout) / Path(value).relative_to(recorded_root)
            config[field] = str(moved) if moved.exists() else value
    config["output_dir"] = str(output_dir)
    if not config.get("threads") and record.get("torch_threads"):
        config["threads"] = record["torch_threads"]  # torch's default was recorded as used: sums in the same order
    if shared_data is not None:
        config["data_dir"] = str(shared_data)
    return config


def _recorded_root(in_domain: str | None) -> Path | None:
    """The project root of the recorded run: the folder above data/ in its in-domain path (None if not there)."""
    if not in_domain:
        return None
    parts = Path(in_domain).parts
    return Path(*parts[:parts.index("data")]) if "data" in parts[1:] else None


def weights_difference(a: Path, b: Path) -> dict:
    """How two model directories' trained weights differ: tensor names in one only, shape mismatches, the number
    of bit-identical tensors, and the largest absolute difference over the rest."""
    from safetensors.torch import load_file

    left, right = load_file(str(Path(a) / WEIGHTS_FILE)), load_file(str(Path(b) / WEIGHTS_FILE))
    shared = sorted(set(left) & set(right))
    shapes = [k for k in shared if left[k].shape != right[k].shape]
    same = [k for k in shared if k not in shapes]
    identical = sum(bool(left[k].equal(right[k])) for k in same)
    diffs = {k: float((left[k].double() - right[k].double()).abs().max()) for k in same if left[k].numel()}
    worst = max(diffs, key=diffs.get) if diffs else None
    return {"tensors": len(shared), "identical": identical, "only_in_first": sorted(set(left) - set(right)),
            "only_in_second": sorted(set(right) - set(left)), "shape_mismatch": shapes,
            "max_abs_difference": diffs.get(worst, 0.0), "worst_tensor": worst}

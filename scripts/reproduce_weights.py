"""Train a model again from its training record and compare the weights with the model's own.

    python scripts/reproduce_weights.py [--model models/synpunkt-sv-e5small] [--revision COMMIT] [--keep DIR]

Reads the model's training record (evaluation.json, "training": the TrainConfig it ran with and, for models trained
since it was recorded, the git commit of its code and data), checks that commit out in a temporary git worktree,
runs that commit's own ``run_training`` there with the recorded config (in-domain data from the worktree, public
data from the shared datasets folder, output in a temporary folder or --keep) and prints, tensor by tensor, how
far the new weights are from the model's. Exit 0 when every tensor is within --atol, 1 otherwise. The default,
1e-5, allows for CPUs whose kernels round differently: the shipped model, trained on an AMD EPYC and again on an
Intel Xeon, differs by at most 1.7e-6 (the same answers on all 4,277 in-domain comments); on one machine a run is
bit-identical. The shipped model trains on one CPU thread in 33-55 minutes.

A model made by `synpunkt average-models` records each run's own training record: each run is trained again at its
own commit (``--keep`` holds them as run1, run2, ...) and their weights are averaged as average-models averages them
before the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synpunkt.config import PROJECT_ROOT, model_dir, shared_datasets
from synpunkt.reproduce import PATH_FIELDS, retraining_config, training_record, weights_difference

TRAIN = """
import dataclasses, json, sys
from pathlib import Path
import synpunkt
from synpunkt.train import TrainConfig, run_training
print("training with", synpunkt.__file__, flush=True)
config, paths = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
known = {f.name for f in dataclasses.fields(TrainConfig)}
run_training(TrainConfig(**{k: Path(v) if k in paths and v else v for k, v in config.items() if k in known}))
"""
"""Run in the worktree's Python path, so that the recorded commit's code trains (not this checkout's); its arguments
are the config and PATH_FIELDS (passed in: an older commit has no synpunkt.reproduce)."""


def retrain(record: dict, revision: str, output: Path, tmp: Path, shared_data: Path, name: str) -> None:
    """Run `revision`'s own training, in a temporary git worktree, with the recorded config; the model goes to
    `output`."""
    checkout = tmp / f"checkout-{revision[:12]}"
    subprocess.run(["git", "-C", str(PROJECT_ROOT), "worktree", "add", "--detach", "--quiet", str(checkout),
                    revision], check=True)
    try:
        config = retraining_config(record, checkout, output, shared_data)
        print(f"retraining {name} at {revision[:12]}: seed {config.get('seed')}, {config.get('epochs')} epochs, "
              f"{config.get('threads')} thread(s) -> {output}", flush=True)
        env = {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
        subprocess.run([sys.executable, "-c", TRAIN, json.dumps(config), json.dumps(PATH_FIELDS)], check=True,
                       env=env, cwd=checkout)
    finally:
        subprocess.run(["git", "-C", str(PROJECT_ROOT), "worktree", "remove", "--force", str(checkout)], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=model_dir(), help="model directory (default: the shipped one)")
    parser.add_argument("--revision", help="git commit to train with (default: the one in the training record)")
    parser.add_argument("--shared-data", type=Path, default=shared_datasets(), help="the public datasets folder")
    parser.add_argument("--keep", type=Path, help="write the retrained model here (default: a temporary folder)")
    parser.add_argument("--atol", type=float, default=1e-5, help="largest absolute difference accepted per weight")
    args = parser.parse_args()

    record = training_record(args.model)
    members = [m.get("training") for m in (record.get("weight_average") or {}).get("models", [])]
    if members and not all(m and (m.get("code") or {}).get("commit") for m in members):
        parser.error(f"{args.model} is a weight average whose record lacks its runs' code revisions (averaged before "
                     "they were recorded): train each run again with --model on a folder holding its own record")
    if args.revision and len(members) > 1:
        parser.error("--revision names one commit; a weight average's runs each train at their own")
    revision = args.revision or (record.get("code") or {}).get("commit")
    if not members and not revision:
        parser.error(f"{args.model}'s training record names no code revision (trained before it was recorded): "
                     "pass --revision, the commit whose code and data trained it (its model card says which)")
    runs = [(run, run["code"]["commit"]) for run in members] or [(record, revision)]
    with tempfile.TemporaryDirectory(prefix="synpunkt-reproduce-") as tmp:
        output = args.keep or Path(tmp) / "model"
        started = time.perf_counter()
        # a weight average: every run again at its own commit, then averaged by average-models' own code
        dirs = [output / f"run{i}" for i in range(1, len(runs) + 1)] if members else [output]
        for (run, commit), run_dir in zip(runs, dirs):
            retrain(run, commit, run_dir, Path(tmp), args.shared_data, args.model.name)
        if members:
            from synpunkt.weight_averaging import average_models

            average_models(dirs, output)
        seconds = time.perf_counter() - started
        diff = weights_difference(args.model, output)
    recorded = sum(run.get("seconds") or 0 for run, _ in runs)
    print(f"\nretrained in {seconds:.0f} s (recorded: {recorded:.0f} s)")
    print(f"tensors: {diff['tensors']}, bit-identical: {diff['identical']}, "
          f"largest absolute difference: {diff['max_abs_difference']:.3g} ({diff['worst_tensor']})")
    for key in ("only_in_first", "only_in_second", "shape_mismatch"):
        if diff[key]:
            print(f"{key.replace('_', ' ')}: {len(diff[key])} tensors, e.g. {diff[key][:3]}")
    same = not any(diff[k] for k in ("only_in_first", "only_in_second", "shape_mismatch"))
    return 0 if same and diff["max_abs_difference"] <= args.atol else 1


if __name__ == "__main__":
    sys.exit(main())

"""scripts/share_fitting_pool.py (issue 8): the leave-one-source-out comparison of fitting sets for the share
correction, on synthetic calibrated probabilities."""

from __future__ import annotations

import numpy as np

from conftest import load_file_module


def _script():
    return load_file_module("scripts/share_fitting_pool.py")


def _pool(rng, n: int, sources: list[str]) -> dict:
    """Calibrated 3-class probabilities: y drawn from each row's own probabilities."""
    proba = rng.dirichlet([0.6, 0.6, 0.6], n) * 0.7 + 0.1
    proba /= proba.sum(1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in proba])
    return {"proba": proba, "y": y, "source": np.array([sources[i % len(sources)] for i in range(n)], object)}


def test_each_source_is_held_out_and_only_fitted_methods_move():
    script = _script()
    rng = np.random.default_rng(3)
    v, w = _pool(rng, 600, ["a", "b", "c"]), _pool(rng, 400, ["blind", "cap"])
    per = script.compare(v, w)
    assert sorted(per) == ["V:a", "V:b", "V:c", "W:blind", "W:cap"]
    assert per["W:cap"]["rows"] == 200 and per["V:a"]["rows"] == 200
    for d in per.values():
        # classify-and-count fits nothing: the fitting set cannot change it
        assert d["base"]["cc"]["mae_pp"] == d["pooled"]["cc"]["mae_pp"]
        # calibrated synthetic data: the correction beats classify-and-count on every held-out source
        assert max(d["base"]["em"]["mae_pp"], d["pooled"]["em"]["mae_pp"]) < d["base"]["cc"]["mae_pp"]
    summary = script.summary(per)
    assert set(summary) == {"W", "V"}
    # every pool here is drawn from one distribution, so more fitting rows can only help on average
    assert summary["W"]["pooled"] < summary["W"]["base"] and summary["V"]["pooled"] < summary["V"]["base"]
    assert summary["W"]["base"] == round(np.mean([per[k]["base"]["em"]["mae_pp"] for k in ("W:blind", "W:cap")]), 4)

"""Retraining the repeat-contact head alone (synpunkt/signals/repeat_retrain.py) on a tiny setup: training.py's C
and threshold choice, the fixed rule, the urgent heads kept array-identical through save and load, evaluation.json
and the card (hand-written sections kept)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synpunkt.signals.heads import LinearHead, SignalHeads
from synpunkt.signals.repeat_retrain import (RepeatSet, figures, replace_repeat_head, rule_verdict,
                                             same_urgent_arrays, updated_evaluation, write)
from synpunkt.signals.training import C_GRID, fit_repeat_head

URGENT_CLASSES = ["none", "self_harm", "threat", "violence_close_relationship"]


def _head(classes: list[str], dim: int, rng: np.random.Generator) -> LinearHead:
    k = 1 if len(classes) == 2 else len(classes)
    return LinearHead(classes, rng.normal(size=dim).astype(np.float32), np.ones(dim, dtype=np.float32),
                      rng.normal(size=(k, dim)).astype(np.float16).astype(np.float32),
                      rng.normal(size=k).astype(np.float32))


def _tiny_set(n: int = 120, dim: int = 6, seed: int = 0) -> RepeatSet:
    """Two noisy clusters; rows alternate train / validation / test and written / comments."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3 == 0
    x = rng.normal(size=(n, dim)) + np.where(y[:, None], 1.5, -0.5)
    split = np.array(["train", "train", "validation", "train", "test"] * (n // 5))[:n]
    source = np.where(np.arange(n) % 2 == 0, "written", "comments")
    return RepeatSet(x.astype(np.float32), y, split, source)


def _shipped(dim: int = 6) -> SignalHeads:
    rng = np.random.default_rng(1)
    settings = {"version": "signals-20261129", "layers": [8, 12], "seed": 42,
                "thresholds": {"urgent": 0.63, "repeat_contact": 0.75, "urgent_span": 0.98},
                "regularisation": {"urgent_C": 0.1, "repeat_C": 0.01, "urgent_span_C": 0.03},
                "training_data": {"urgent": "u", "repeat_contact": "data/repeat_contact train splits (40 rows: x)"},
                "urgent_scoring": "max_span", "test_summary": {"repeat_f1_comments": 0.7, "recall_threat": 0.82}}
    return SignalHeads(_head(URGENT_CLASSES, dim, rng), _head(["no", "yes"], dim, rng), settings,
                       _head(URGENT_CLASSES, dim, rng))


def _note(data: RepeatSet, c: float, t: float) -> dict:
    v = {f"validation_{s}": {"n": 1, "f1": 0.8} for s in ("comments", "written", "both")}
    return {"date": "2026-11-29", "train_rows": int((data.split == "train").sum()), "rows_added": 8, "C": c,
            "threshold": t, "replaced": {"version": "signals-20261129", "C": 0.01, "threshold": 0.75},
            "validation": v, "replaced_validation": v, "rule": ["a", "b"], "command": "cmd", "seed": 42}


def test_the_repeat_head_is_chosen_as_training_py_chooses_it():
    data = _tiny_set()
    fit, tune = data.split == "train", data.split == "validation"
    head, c, t, f1 = fit_repeat_head(data.x, data.y, fit, tune, 42)
    assert c in C_GRID and 0.05 <= t <= 0.95 and head.classes == ["no", "yes"]
    assert figures(head, t, data)["validation_both"]["f1"] == pytest.approx(f1, abs=1e-4)
    assert f1 > 0.8  # the clusters separate
    assert fit_repeat_head(data.x, data.y, fit, tune, 42)[1:] == (c, t, f1)  # seeded


def test_the_rule_needs_both_the_comments_floor_and_the_written_margin():
    shipped = {"validation_written": {"f1": 0.912}}

    def cand(comments, written):
        return {"validation_comments": {"f1": comments}, "validation_written": {"f1": written}}

    assert rule_verdict(cand(0.73, 0.90), shipped)[0]
    assert not rule_verdict(cand(0.72, 0.95), shipped)[0]  # comments under 0.724
    ok, reasons = rule_verdict(cand(0.80, 0.89), shipped)  # written fell 0.022
    assert not ok and "< 0.892" in reasons[1]


def test_only_the_repeat_head_changes_and_the_urgent_arrays_survive_save_and_load(tmp_path):
    shipped = _shipped()
    shipped.save(tmp_path / "shipped")
    loaded = SignalHeads.load(tmp_path / "shipped")
    data = _tiny_set()
    head, c, t, _ = fit_repeat_head(data.x, data.y, data.split == "train", data.split == "validation", 42)
    new = replace_repeat_head(loaded, head, c, t, _note(data, c, t))
    assert new.thresholds == {**loaded.thresholds, "repeat_contact": t}
    assert new.settings["regularisation"] == {**loaded.settings["regularisation"], "repeat_C": c}
    assert new.version == "signals-20261129+repeat-20261129"
    assert loaded.thresholds["repeat_contact"] == 0.75  # the shipped settings are not mutated
    new.save(tmp_path / "new")
    reloaded = SignalHeads.load(tmp_path / "new")
    assert same_urgent_arrays(reloaded, loaded)
    assert not np.array_equal(reloaded.repeat.coef, loaded.repeat.coef)
    with np.load(tmp_path / "shipped" / "heads.npz") as a, np.load(tmp_path / "new" / "heads.npz") as b:
        for key in a.files:
            if not key.startswith("repeat_"):
                assert np.array_equal(a[key], b[key]) and a[key].dtype == b[key].dtype, key
    other = SignalHeads(_head(URGENT_CLASSES, 6, np.random.default_rng(9)), head, new.settings, new.urgent_span)
    assert not same_urgent_arrays(other, loaded)


def test_evaluation_keeps_the_urgent_entries_and_replaces_the_repeat_ones():
    data = _tiny_set()
    head, c, t, _ = fit_repeat_head(data.x, data.y, data.split == "train", data.split == "validation", 42)
    heads = replace_repeat_head(_shipped(), head, c, t, _note(data, c, t))
    old = {"version": "signals-20261129", "thresholds": {}, "urgent_test": {"x": 1},
           "repeat_test_comments": {"f1": 0.1}, "summary": {"recall_threat": 0.82, "repeat_f1_comments": 0.1}}
    repeat_figures = figures(head, t, data, ("validation", "test"))
    out = updated_evaluation(old, heads, repeat_figures)
    assert out["urgent_test"] == {"x": 1} and out["summary"]["recall_threat"] == 0.82
    assert out["repeat_test_comments"] == repeat_figures["test_comments"]
    assert out["summary"]["repeat_f1_comments"] == repeat_figures["test_comments"]["f1"]
    assert out["thresholds"]["repeat_contact"] == t and out["repeat_retrain"]["C"] == c
    assert old["summary"]["repeat_f1_comments"] == 0.1  # pure


def test_write_keeps_hand_written_card_sections_and_refuses_changed_urgent_heads(tmp_path):
    from synpunkt.signals.card import card_text

    shipped_dir = tmp_path / "shipped"
    shipped = _shipped()
    shipped.save(shipped_dir)
    categories = {c: {"n": 10, "recall": 0.9, "recall_exact_category": 0.8} for c in URGENT_CLASSES[1:]}
    evaluation = {"version": "signals-20261129", "thresholds": shipped.thresholds,
                  "urgent_test": {"categories": categories, "none": {"n": 5, "flag_rate": 0.0, "n_negative": 3,
                                                                     "negative_flag_rate": 0.0,
                                                                     "flag_rate_by_kind": {"ordinary": 0.0}}},
                  "urgent_validation": {"categories": categories},
                  **{f"repeat_test_{s}": {"n": 4, "positives": 2, "precision": 1.0, "recall": 0.5, "f1": 0.667}
                     for s in ("written", "comments", "both")},
                  "summary": {"recall_threat": 0.9, "recall_self_harm": 0.9, "recall_violence_close_relationship": 0.9,
                              "negative_none_flag_rate": 0.0, "repeat_f1_written": 0.667,
                              "repeat_f1_comments": 0.667}}
    (shipped_dir / "evaluation.json").write_text(json.dumps(evaluation))
    card = card_text(shipped.settings, evaluation)
    hand = "## A note added by hand\n\nKept across the repeat retrain.\n"
    (shipped_dir / "README.md").write_text(card.replace("## Limits", hand + "\n## Limits"))
    data = _tiny_set()
    head, c, t, _ = fit_repeat_head(data.x, data.y, data.split == "train", data.split == "validation", 42)
    candidate = {"C": c, "threshold": t, **figures(head, t, data, ("validation", "test"))}
    loaded = SignalHeads.load(shipped_dir)
    result = {"candidate": candidate, "heads": replace_repeat_head(loaded, head, c, t, _note(data, c, t))}
    out = tmp_path / "out"
    write(result, out, shipped_dir)
    text = (out / "README.md").read_text()
    assert "## Repeat head retrained alone (2026-11-29)" in text and "Kept across the repeat retrain." in text
    assert text.index("## A note added by hand") < text.index("## Limits")
    assert text.count("## Repeat head retrained alone") == 1
    written = json.loads((out / "evaluation.json").read_text())
    assert written["summary"]["repeat_f1_comments"] == candidate["test_comments"]["f1"]
    assert written["summary"]["recall_threat"] == 0.9
    assert json.loads((out / "heads.json").read_text())["test_summary"]["recall_threat"] == 0.82
    # rewriting from the written card keeps one retrain section and the hand-written note
    write(result, tmp_path / "again", out)
    again = (tmp_path / "again" / "README.md").read_text()
    assert again.count("## Repeat head retrained alone") == 1 and again.count("## A note added by hand") == 1
    changed = replace_repeat_head(loaded, head, c, t, _note(data, c, t))
    changed.urgent = _head(URGENT_CLASSES, 6, np.random.default_rng(5))
    with pytest.raises(RuntimeError, match="urgent heads differ"):
        write({"candidate": candidate, "heads": changed}, tmp_path / "bad", shipped_dir)
    assert not (tmp_path / "bad" / "heads.npz").exists()

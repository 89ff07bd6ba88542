"""The urgent detector's threshold calibration pool (issue 9): the held-out non-urgent negative comments that set
the whole-text and span thresholds are the validation split and the train rows scored out of fold, the first
labelling pass only ("first_pass", the shipped heads) or targeted additions (hard negatives) included
("all_passes"); validation_blind and test rows are never read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synpunkt.signals.data import FIRST_PASS_LAST_URGENT_ID
from synpunkt.signals.span_head import span_threshold
from synpunkt.signals.training import CALIBRATION_FLAG_RATE, _held_out_splits, calibration_rows, held_out_threshold


def _toy() -> tuple[pd.DataFrame, np.ndarray]:
    """Rows (with their held-out p(urgent)): first-pass train negatives scored low, targeted-addition train hard
    negatives scored 0.6, validation urgent rows scored 0.9, and validation_blind / test negatives scored 0.99."""
    groups = [  # (first id, n, split, category, p)
        (1, 50, "train", "none", 0.1),
        (FIRST_PASS_LAST_URGENT_ID + 1, 50, "train", "none", 0.6),
        (101, 10, "validation", "threat", 0.9),
        (201, 10, "train", "threat", 0.9),
        (3001, 10, "validation_blind", "none", 0.99),
        (1001, 10, "test", "none", 0.99),
    ]
    rows, p = [], []
    for first, n, split, category, score in groups:
        for k in range(n):
            rows.append({"id": f"u{first + k:04d}", "text": f"Kommentar {first + k} om parkering.", "split": split,
                         "category": category, "negative_tone": True if category == "none" else None,
                         "none_kind": "insult_or_complaint" if category == "none" else None})
            p.append(score)
    return pd.DataFrame(rows), np.array(p)


def test_calibration_pools_and_never_blind_or_test_rows():
    urgent, _ = _toy()
    added = urgent["id"].str[1:].astype(int).to_numpy() > FIRST_PASS_LAST_URGENT_ID
    train_added = added & (urgent["split"] == "train").to_numpy()
    for pool_name in ("first_pass", "all_passes"):
        pool = calibration_rows(urgent, pool_name)
        assert pool[(urgent["split"] == "validation").to_numpy()].all()
        assert not pool[urgent["split"].isin(["validation_blind", "test"]).to_numpy()].any()
        assert pool[train_added].all() if pool_name == "all_passes" else not pool[train_added].any()
    assert (calibration_rows(urgent) == calibration_rows(urgent, "first_pass")).all(), "the shipped heads' pool"
    # an encoder trained on the train split (train --signal-heads): held-out means the validation split only
    assert (calibration_rows(urgent, "validation") == (urgent["split"] == "validation").to_numpy()).all()
    with pytest.raises(ValueError, match="unknown calibration pool"):
        calibration_rows(urgent, "everything")


def test_threshold_rises_above_the_targeted_hard_negatives():
    """Half the pool's negatives are targeted additions at 0.6: the threshold must pass them (first-pass only, it
    was 0.11 and flagged every one of them); the blind and test rows at 0.99 do not move it."""
    urgent, p = _toy()
    t, recall = held_out_threshold(urgent, p, "all_passes")
    assert t == 0.61 and recall == 1.0
    assert held_out_threshold(urgent, p, "first_pass")[0] == 0.11, "first pass only: the additions do not count"
    negative = calibration_rows(urgent, "all_passes") & (urgent["category"] == "none").to_numpy()
    assert (p[negative] >= t).mean() <= CALIBRATION_FLAG_RATE
    first_pass_only = negative & ~(urgent["id"].str[1:].astype(int) > FIRST_PASS_LAST_URGENT_ID).to_numpy()
    assert (p[negative] >= 0.11).mean() > CALIBRATION_FLAG_RATE and (p[first_pass_only] >= 0.11).mean() == 0


def test_span_threshold_on_the_same_pool_passes_the_hard_negatives_spans():
    urgent, p_span = _toy()
    pool = calibration_rows(urgent, "all_passes")
    negative = (urgent["category"] == "none").to_numpy()
    t = span_threshold(np.zeros(len(urgent))[pool], p_span[pool], 0.5, negative[pool], np.zeros(pool.sum(), bool),
                       CALIBRATION_FLAG_RATE)
    assert t is not None and 0.6 < t <= 0.9


def test_held_out_splits_fit_and_score_only_train_and_validation_rows():
    urgent, _ = _toy()
    allowed = set(np.flatnonzero(urgent["split"].isin(["train", "validation"]).to_numpy()))
    for fit_rows, score_rows in _held_out_splits(urgent, 42):
        assert set(fit_rows) <= allowed and set(score_rows) <= allowed
        assert (urgent.loc[fit_rows, "split"] == "train").all()


def test_heads_without_a_span_head_are_recorded_as_whole_text_scoring():
    """A max_span training whose span threshold cannot keep the rate must not leave the detector max-scoring the
    sentence spans with the whole-text head at a threshold calibrated on whole texts."""
    from synpunkt.signals.training import recorded_scoring

    assert recorded_scoring("max_span", "whole", has_span_head=False) == "whole"
    assert recorded_scoring("max_span", "whole", has_span_head=True) == "max_span"
    assert recorded_scoring("max_span", "mil", has_span_head=False) == "max_span"
    assert recorded_scoring("max_window", "whole", has_span_head=False) == "max_window"

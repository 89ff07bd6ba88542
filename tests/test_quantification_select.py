"""The choice of the intervals' widening scheme by nested cross-fitting on validation
(synpunkt.quantification_select)."""

from __future__ import annotations

import numpy as np
import pytest

from synpunkt import quantification_eval as E
from synpunkt import quantification_select as S
from test_quantification import sourced


def test_outer_folds_hold_out_the_largest_source_and_random_halves_both_ways():
    source = np.array(["h"] * 50 + ["a"] * 30 + ["b"] * 20, object)
    folds = list(S.outer_folds(source, repeats=2))
    assert [name for name, _, _ in folds] == ["fit_h_eval_rest", "fit_rest_eval_h", "random0a", "random0b",
                                              "random1a", "random1b"]
    for name, fit, held in folds:
        assert not (fit & held).any() and (fit | held).all()
    assert folds[0][2].sum() == 50 and (source[folds[1][2]] == "h").all()
    assert abs(int(folds[2][1].sum()) - 50) <= 1 and (folds[2][1] == folds[3][2]).all()


def _fold(stretch: float, factors: dict[str, list[float]]) -> dict:
    """A fold whose batches all need the same stretch, under given per-scheme factors (one batch size, 100)."""
    s = np.full(100, stretch)
    s[:50] = 0.5  # half the batches are inside whatever the factor
    return {"factors": {name: {"shares": f, "net_score": f} for name, f in factors.items()},
            "stretch": {100: {"shares": s, "net_score": s, "width_pp": np.full(100, 10.0)}}}


def test_the_rule_picks_the_scheme_closest_to_95_percent_and_the_narrower_on_a_tie():
    # each batch needs a stretch of 1.2 in half the batches: factor 1.3 covers all (100 %), 1.0 covers half (50 %)
    folds = {"random0a": _fold(1.2, {"random_halves": [1.0], "grouped": [1.3], "pool_adjusted": [1.25]}),
             "fit_h_eval_rest": _fold(1.2, {"random_halves": [1.0], "grouped": [1.3], "pool_adjusted": [1.1]})}
    summary = S.summarise(folds, sizes=(100,))
    assert summary["random_halves"]["coverage"]["100"] == pytest.approx(0.5)
    assert summary["source_grouped"]["coverage"]["100"] == pytest.approx(1.0)
    assert summary["source_grouped_pool_adjusted"]["coverage"]["100"] == pytest.approx(0.75)  # (1.0 + 0.5) / 2
    assert summary["source_grouped"]["score"] == pytest.approx(0.05)
    assert S.choose({"sentiment": summary}) == "source_grouped"
    # a tie within TIE goes to the narrower intervals
    tied = {s: {**r, "score": 0.05} for s, r in summary.items()}
    assert S.choose({"sentiment": tied}) == "random_halves"


def test_a_fold_calibrates_every_scheme_on_its_fitting_rows_only():
    proba, y, source = sourced(40, {"a": 150, "b": 150, "c": 150, "d": 150}, odd="d")
    held = source == "d"
    fold = S.fold_stretches("acc", proba, y, source, ~held, held, inner_repeats=2, matched_repeats=2, reps=2,
                            sizes=(100, 1500))
    assert fold["scheme"] == E.WIDENING_SCHEME and fold["held_rows"] == 150
    assert set(fold["factors"]) == set(S.CANDIDATES)
    assert all(min(f["shares"]) >= 1.0 and len(f["shares"]) == 2 for f in fold["factors"].values())
    batches = 2 * len(E.MIXES)
    assert fold["stretch"][1500]["shares"].shape == (batches, 3)
    assert fold["stretch"][100]["net_score"].shape == (batches,)
    # the odd source held out: its batches need more stretch than 1 in more than 5 % of the cases
    assert (fold["stretch"][1500]["shares"] > 1).mean() > 0.05
    one = S.fold_stretches("acc", proba, y, np.full(len(y), "a", object), ~held, held, inner_repeats=2, reps=1,
                           sizes=(100,))
    assert one["scheme"] == "random_halves" and len({str(f) for f in one["factors"].values()}) == 1


def test_calibrate_widening_stores_the_chosen_schemes_factors():
    proba, y, source = sourced(20, {"a": 150, "b": 150, "c": 150, "d": 150}, odd="d")
    cals = {s: E.calibrate_widening("acc", proba, y, repeats=2, reps=2, sizes=(100, 1500), source=source, scheme=s)
            for s in E.WIDENING_SCHEMES}
    assert cals["random_halves"]["shares"] == cals["random_halves"]["random_halves"]["shares"]
    assert cals["source_grouped"]["shares"] == cals["source_grouped"]["grouped"]["shares"]
    assert cals["source_grouped_pool_adjusted"]["shares"] == cals["source_grouped"]["pool_adjusted"]["shares"]
    assert all(c["scheme"] == s for s, c in cals.items())
    with pytest.raises(ValueError, match="widening scheme"):
        E.calibrate_widening("acc", proba, y, repeats=1, reps=1, sizes=(100,), source=source, scheme="other")

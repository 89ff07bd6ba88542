"""scripts/behaviour_gate.py (issue 7): a candidate compared with the shipped model case by case on the full
behavioural suite."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import load_file_module

gate = load_file_module("scripts/behaviour_gate.py").paired_gate


def _cases(failed: dict[str, list[bool]]) -> pd.DataFrame:
    return pd.DataFrame([{"test": t, "failed": f} for t, flags in failed.items() for f in flags])


def test_an_equal_or_better_candidate_passes():
    shipped = _cases({"inv_upper": [True, False, False, False], "mft_short": [True, True, False]})
    candidate = _cases({"inv_upper": [False, True, False, False], "mft_short": [True, False, False]})
    table, passes = gate(shipped, candidate)
    assert passes
    assert table.loc["inv_upper", ["shipped", "candidate", "worse", "better", "n"]].tolist() == [1, 1, 1, 1, 4]
    assert table.loc["mft_short", "better"] == 1 and table.loc["mft_short", "p_worse"] == 1.0


def test_more_failures_overall_fail_even_when_no_test_is_significant():
    shipped = _cases({"inv_upper": [False] * 10, "inv_lower": [False] * 10})
    candidate = _cases({"inv_upper": [True] + [False] * 9, "inv_lower": [False] * 10})
    table, passes = gate(shipped, candidate)
    assert not table["significantly_worse"].any() and not passes


def test_one_significantly_worse_test_fails_a_candidate_better_overall():
    shipped = _cases({"inv_name_swap": [False] * 10, "mft_irony": [True] * 10})
    candidate = _cases({"inv_name_swap": [True] * 5 + [False] * 5, "mft_irony": [False] * 10})
    table, passes = gate(shipped, candidate)
    assert table["candidate"].sum() < table["shipped"].sum()
    assert table.loc["inv_name_swap", "p_worse"] == pytest.approx(1 / 32)
    assert table.loc["inv_name_swap", "significantly_worse"] and not passes


def test_frames_of_different_suites_are_refused():
    with pytest.raises(ValueError, match="same suite"):
        gate(_cases({"a": [True, False]}), _cases({"b": [True, False]}))

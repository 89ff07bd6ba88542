"""The published evaluation's bookkeeping: headline (worse of two in-domain sets), targets, behaviour section."""

from __future__ import annotations

from synpunkt.evaluate import behaviour_targets, check_targets, headline
from synpunkt.model_card import behaviour_section

TABLE = [
    {"test": "mft_irony", "type": "MFT", "capability": "irony", "n": 30, "failures": 9, "failure_rate": 0.3},
    {"test": "mft_sms", "type": "MFT", "capability": "sms", "n": 30, "failures": 0, "failure_rate": 0.0},
    {"test": "inv_upper", "type": "INV", "capability": "casing", "n": 100, "failures": 2, "failure_rate": 0.02},
    {"test": "inv_typos", "type": "INV", "capability": "typos", "n": 100, "failures": 8, "failure_rate": 0.08,
     "seed_misread": 6},
    {"test": "inv_ascii_diacritics", "type": "INV", "capability": "diacritics", "n": 100, "failures": 9,
     "failure_rate": 0.09},
]


def _set(sent_f1: float, topic_f1: float, ece: float) -> dict:
    return {"sentiment": {"macro_f1": sent_f1, "ece": ece}, "topics": {"micro_f1": topic_f1, "ece": 0.01}}


def test_headline_is_the_worse_of_the_two_in_domain_sets():
    report = {"sets": {"in_domain_test": _set(0.93, 0.84, 0.02), "in_domain_test_independent": _set(0.87, 0.86, 0.04),
                       "public_cc_by_test_combined": {"sentiment": {"macro_f1": 0.5, "ece": 0.3}}}}
    assert headline(report) == {"sentiment_macro_f1": 0.87, "topics_micro_f1": 0.84, "sentiment_ece": 0.04}
    targets = check_targets(report)
    assert targets["in_domain_test.sentiment.macro_f1"]["met"]
    assert not targets["in_domain_test_independent.sentiment.macro_f1"]["met"]
    assert targets["in_domain_test_independent.sentiment.ece"]["met"]


def test_behaviour_targets_only_where_the_issue_sets_one():
    targets = behaviour_targets(TABLE)
    assert not targets["behaviour.mft_irony.accuracy"]["met"] and targets["behaviour.mft_sms.accuracy"]["met"]
    assert targets["behaviour.inv_upper.failure_rate"]["met"]
    assert not targets["behaviour.inv_typos.failure_rate"]["met"]
    assert "behaviour.inv_ascii_diacritics.failure_rate" not in targets


def test_card_says_plainly_what_still_fails():
    text = behaviour_section(TABLE)
    assert "| inv_upper | INV | casing | 100 | 2 | 2.0% | - |" in text  # a table from before the seed column
    assert "| inv_typos | INV | typos | 100 | 8 | 8.0% | 6 |" in text
    assert "**mft_irony** (irony): wrong on 30% of 30 cases" in text and "target missed" in text
    assert "**inv_typos** (typos): the sentiment changes on 8% of 100 cases" in text
    assert "(6 of the 8 from seeds the model gets wrong without the change)" in text
    assert "`inv_ascii_diacritics` (diacritics, no issue target): fails on 9%" in text
    assert "mft_sms" not in text.split("What still fails")[1]
    assert behaviour_section(None) == ""

"""The shipped model held to the behavioural suite's thresholds (issue 7).

Scored on a fixed subset (the first CASES_PER_TEST cases of every test, in file order) so the slow suite stays
under about two minutes on a loaded 2-core machine; the full table is in the model card
(`synpunkt evaluate --behaviour`). Where the issue's target is met on the subset the threshold IS the target;
where it is not, the threshold is the measured level (plus a small allowance for a retrained model) and the
comment says so: those capabilities still fail, and the card says how often.
"""

from __future__ import annotations

import pytest

from synpunkt.behaviour import load_suite, run_suite

pytestmark = pytest.mark.slow

CASES_PER_TEST = 40  # about 50 s on a loaded 2-core machine

INVARIANCE_TARGET = 0.03  # issue 7: casing, emphasis, emoji and typos must not change the sentiment
MFT_TARGET = 0.85  # issue 7: accuracy of every minimum-functionality test

# Highest failure rate allowed per test on the subset. The target where the shipped model meets it;
# otherwise the MEASURED rate of synpunkt-sv-e5small (issue-7 model) on this subset plus one case, and the
# target is NOT met (the model card lists these as still failing, with the full-suite rates). Candidates are not
# judged by these limits (a model exactly as good passes them all about 1.4 % of the time) but case by case on the
# full suite, `python scripts/behaviour_gate.py --candidate DIR`; re-set these when a model ships.
MAX_FAILURE_RATE = {
    # invariance with an issue target (<= 3 %): met on the subset (at most 1 of 40) by the 2026-12-01 model P
    "inv_upper": INVARIANCE_TARGET,
    "inv_lower": INVARIANCE_TARGET,
    "inv_emoji_neutral": INVARIANCE_TARGET,
    "inv_typos": INVARIANCE_TARGET,
    "inv_exclamations": INVARIANCE_TARGET,  # 1 of 40 here, 1.9 % on the full suite
    # TARGET MISSED on the full suite: emoji matching the mood 3.1 % (5 of 160, every one a seed the model misreads
    # without the emoji; 3.8 % for model N); 1 of 40 here, limit 2 of 40
    "inv_emoji_mood": 2 / 40,
    # invariance without an issue target: measured on the subset plus one case. Diacritics 0 of 40 (1.9 % on the
    # full suite); punctuation removed 1 of 40 (1.9 %); names swapped 2 of 40 (3 of 80, 3.8 %)
    "inv_ascii_diacritics": 1 / 40,
    "inv_no_punctuation": 2 / 40,
    "inv_name_swap": 3 / 40,
    # added 2026-12-02, no issue target, a KNOWN WEAKNESS: a case or reference number appended changes the sentiment
    # on 13 of 40 here (the first 40 seeds are mostly positive), 20 of 160 (12.5 %) on the full suite; limit 14 of 40
    "inv_reference": 14 / 40,
    # directional, no issue target: measured 0 of 40, plus one case
    "dir_add_complaint": 1 / 40,
    "dir_add_praise": 1 / 40,
    # MFT TARGET MISSED (accuracy < 0.85): short comments wrong on 5 of 31 (the whole test; the same for model N).
    # Negation (4 of 40 here, 13.3 % on the full suite; 15.6 % for N), irony (2 of 33, 6.1 %), emphasis and long
    # comments are held to the target
    "mft_short": 6 / 31,
}
MFT_MAX_FAILURE_RATE = 1 - MFT_TARGET  # per MFT test unless listed in MAX_FAILURE_RATE


def limit(test: str) -> float | None:
    """The failure rate a test may reach: its MAX_FAILURE_RATE entry, else the MFT target for an MFT test, else None
    (scripts/behaviour_gate.py --subset applies the same to a candidate)."""
    return MAX_FAILURE_RATE.get(test, MFT_MAX_FAILURE_RATE if test.startswith("mft_") else None)


def guard_table(model_dir):
    """The suite's first CASES_PER_TEST cases of each test scored with the model in `model_dir`, one row per test."""
    from synpunkt.classifier import Classifier

    clf = Classifier.load(model_dir)
    suite = load_suite().groupby("test", sort=False).head(CASES_PER_TEST).reset_index(drop=True)
    return run_suite(lambda texts: clf.predict(texts, progress=False), suite)[0].set_index("test")


@pytest.fixture(scope="module")
def table(shipped_model_dir):
    return guard_table(shipped_model_dir)


def test_every_suite_test_is_scored(table):
    assert set(table.index) == set(load_suite()["test"])
    sizes = load_suite()["test"].value_counts().clip(upper=CASES_PER_TEST)
    assert (table["n"] == sizes.reindex(table.index)).all()


@pytest.mark.parametrize("test", sorted(load_suite()["test"].unique()))
def test_failure_rate_within_threshold(table, test):
    allowed = limit(test)
    assert allowed is not None, f"{test} has no threshold"
    rate = table.at[test, "failure_rate"]
    assert rate <= allowed + 1e-9, (f"{test}: failure rate {rate:.0%} on {table.at[test, 'n']} cases, "
                                    f"threshold {allowed:.0%}")

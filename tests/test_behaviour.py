"""The behavioural test suite: its cases, the perturbations that build them, and the scorer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synpunkt.behaviour import (
    TABLE_COLUMNS,
    add_emoji,
    add_exclamations,
    ascii_diacritics,
    load_suite,
    markdown_table,
    parse_direction,
    predict_texts,
    run_suite,
    score_cases,
    strip_punctuation,
    suite_texts,
    swap_names,
    swap_typos,
    to_lower,
    to_upper,
    validate_suite,
)
from conftest import load_file_module
from synpunkt.config import BEHAVIOUR_SUITE, PROJECT_ROOT
from synpunkt.labels import SENTIMENTS, TOPICS

MFT_CAPABILITIES = {"negation", "irony", "resigned", "conditional", "mixed", "emphasis", "short", "long", "dialect",
                    "sms", "english", "other_languages", "placeholders", "service_named", "implicit_negative"}
INV_CAPABILITIES = {"casing", "emphasis", "emoji", "typos", "diacritics", "punctuation", "names", "reference"}


def rule_predictor(texts: list[str]) -> pd.DataFrame:
    """A tiny deterministic stand-in for a classifier: case-sensitive keywords decide the sentiment."""
    rows = []
    for t in texts:
        pos, neg = t.count("bra") + t.count("Tack"), t.count("dålig") + t.count("aldrig") + t.count("Men ingen")
        p = np.array([1.0 + 2 * pos, 1.5, 1.0 + 2 * neg])  # no cue: skeptical
        p = p / p.sum()
        rows.append({"sentiment": SENTIMENTS[int(p.argmax())], "p_positive": p[0], "p_skeptical": p[1],
                     "p_negative": p[2], "topics": []})
    return pd.DataFrame(rows)


def small_suite() -> pd.DataFrame:
    return pd.DataFrame([
        {"id": "m1", "test": "mft_a", "type": "MFT", "capability": "a", "text": "Det var bra.", "expected": "positive"},
        {"id": "m2", "test": "mft_a", "type": "MFT", "capability": "a", "text": "Aldrig bra.", "expected": "negative"},
        {"id": "i1", "test": "inv_upper", "type": "INV", "capability": "casing", "text": "DET VAR BRA.",
         "original": "Det var bra.", "expected": "same"},
        {"id": "i2", "test": "inv_upper", "type": "INV", "capability": "casing", "text": "NJA.", "original": "Nja.",
         "expected": "same"},
        {"id": "d1", "test": "dir_c", "type": "DIR", "capability": "complaint_added",
         "text": "Det var bra. Men ingen ringde.", "original": "Det var bra.", "expected": "p_positive_not_up"},
        {"id": "d2", "test": "dir_c", "type": "DIR", "capability": "complaint_added",
         "text": "Nja. Tack bra bra.", "original": "Nja.", "expected": "p_positive_not_up"},
    ])


# -- the shipped suite -----------------------------------------------------------------------------------

def test_shipped_suite_covers_every_capability():
    suite = load_suite()
    mft = suite[suite["type"] == "MFT"]
    counts = mft.groupby("capability").size()
    assert set(counts.index) == MFT_CAPABILITIES
    assert (counts >= 25).all(), counts[counts < 25].to_dict()
    assert set(mft["expected"]) == set(SENTIMENTS)
    inv = suite[suite["type"] == "INV"]
    assert set(inv["capability"]) == INV_CAPABILITIES
    assert inv["original"].nunique() >= 150, "invariance tests start from at least 150 seed comments"
    assert set(inv["original_sentiment"]) == {"positive", "negative"}
    assert (inv["text"] != inv["original"]).all()
    assert {"dir_add_complaint", "dir_add_praise"} <= set(suite.loc[suite["type"] == "DIR", "test"])
    assert suite["id"].is_unique and suite["text"].map(len).min() > 0


def suite_builder():
    """data/behaviour/build.py as a module (it is a script beside the data, not part of the package)."""
    return load_file_module("data/behaviour/build.py")


def test_shipped_suite_is_what_build_py_writes():
    build = suite_builder()
    expected = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in build.build())
    assert BEHAVIOUR_SUITE.read_text(encoding="utf-8") == expected, "run data/behaviour/build.py and commit"


def test_an_emoji_only_labelled_comment_removes_only_its_own_case(monkeypatch):
    """A labelled comment of emoji only once normalised to "" and matched every case without an original."""
    build = suite_builder()
    assert build._normalised("🙄") != build._normalised("😡") and build._normalised("Bra!!") == "bra"
    monkeypatch.setattr(build, "labelled_texts", set)
    every = build.build()
    monkeypatch.setattr(build, "labelled_texts", lambda: {build._normalised("🙄"), build._normalised("👍")})
    cases = build.build()
    assert "👍" in {c["text"] for c in every} and "👍" not in {c["text"] for c in cases}
    assert len(cases) == len(every) - 1  # only the suite's own "👍" case goes


def test_suite_does_not_overlap_the_labelled_data():
    from synpunkt.config import IN_DOMAIN_DATA, INDEPENDENT_TEST_DATA

    normalised = suite_builder()._normalised  # compared as the builder compares them
    texts = {normalised(t) for t in suite_texts(load_suite())}
    for path in (IN_DOMAIN_DATA, INDEPENDENT_TEST_DATA):
        other = {normalised(json.loads(line)["text"]) for line in path.read_text(encoding="utf-8").splitlines() if line}
        overlap = texts & other
        assert not overlap, f"{len(overlap)} suite text(s) also in {path.relative_to(PROJECT_ROOT)} (ignoring case)"


def test_independent_test_set_is_complete_and_separate():
    from synpunkt.config import INDEPENDENT_TEST_DATA
    from synpunkt.data import load_in_domain

    df = load_in_domain(INDEPENDENT_TEST_DATA)
    assert len(df) >= 320 and df["text"].is_unique and df["id"].is_unique
    assert (df["split"] == "test_independent").all(), "never a train/validation/test row"
    assert all(t and set(t) <= set(TOPICS) for t in df["topics"])
    assert all(set(d) == set(t) and set(d.values()) <= set(SENTIMENTS)
               for d, t in zip(df["topic_sentiment"], df["topics"]))
    shares = df["sentiment"].value_counts(normalize=True)
    assert shares["positive"] > shares["negative"] > 0.2 and shares["skeptical"] > 0.15
    counts = pd.Series([t for ts in df["topics"] for t in ts]).value_counts()
    assert set(counts.index) == set(TOPICS) and counts.min() >= 50


# -- perturbations ---------------------------------------------------------------------------------------

def test_case_and_diacritics_keep_placeholders():
    text = "Tack [NAMN], ring [TELEFON]. Åsa på Öppna förskolan!"
    assert to_lower(text) == "tack [NAMN], ring [TELEFON]. åsa på öppna förskolan!"
    assert to_upper(text) == "TACK [NAMN], RING [TELEFON]. ÅSA PÅ ÖPPNA FÖRSKOLAN!"
    assert ascii_diacritics(text) == "Tack [NAMN], ring [TELEFON]. Asa pa Oppna forskolan!"


def test_emphasis_emoji_and_punctuation():
    assert add_exclamations("Handläggaren var otrevlig.") == "Handläggaren var otrevlig!!!"
    assert add_exclamations("Tack!") == "Tack!!!"
    assert add_exclamations("Varför?") == "Varför?!!!"
    assert add_emoji("Bra. ", "👍") == "Bra. 👍"
    assert strip_punctuation('Hej, [NAMN]! "Snabbt" svar... e-tjänsten?') == "Hej [NAMN] Snabbt svar e-tjänsten"


def test_typos_are_deterministic_adjacent_swaps():
    text = "Handläggaren var otroligt hjälpsam med [PERSONNUMMER] och blanketten."
    once, again = swap_typos(text, n=2, seed=7), swap_typos(text, n=2, seed=7)
    assert once == again != text
    assert sorted(once) == sorted(text) and len(once) == len(text)
    assert "[PERSONNUMMER]" in once
    changed = [i for i, (a, b) in enumerate(zip(text, once)) if a != b]
    assert len(changed) == 4 and changed[1] == changed[0] + 1 and changed[3] == changed[2] + 1
    assert swap_typos("Ok ja", seed=1) == "Ok ja", "no word long enough: unchanged"


def test_name_swap_goes_both_ways_at_once():
    mapping = {"[NAMN]": "Anna", "Anna": "[NAMN]", "Mohammed": "Erik", "Erik": "Mohammed"}
    assert swap_names("Anna och [NAMN] hjälpte Erik.", mapping) == "[NAMN] och Anna hjälpte Mohammed."
    assert swap_names("Annas bok och Eriksson", mapping) == "Annas bok och Eriksson", "whole words only"


# -- scoring ---------------------------------------------------------------------------------------------

def test_failure_rates_per_test_with_a_rule_predictor():
    table, scored = run_suite(rule_predictor, small_suite())
    assert list(table.columns) == TABLE_COLUMNS
    rates = table.set_index("test")["failure_rate"].to_dict()
    # m1 right; m2 "Aldrig bra.": the case-sensitive rule misses "Aldrig" and says positive -> wrong
    assert rates["mft_a"] == 0.5
    # "DET VAR BRA." loses the case-sensitive "bra" -> sentiment flips; "NJA." stays skeptical
    assert rates["inv_upper"] == 0.5
    # d1: p_positive falls (complaint added); d2: praise added -> p_positive rises beyond the tolerance
    assert rates["dir_c"] == 0.5
    d2 = scored.set_index("id").loc["d2"]
    assert d2["delta"] > 0.05 and bool(d2["failed"])
    assert list(table["type"]) == ["MFT", "INV", "DIR"]
    assert table["seed_misread"].tolist() == [0, 0, 0]  # no seed labels in this suite: nothing counted


def test_failures_on_seeds_the_model_misreads_are_counted():
    """A perturbation can only 'fail' by correcting a seed the model gets wrong: the table says how often."""
    suite = small_suite()
    suite["original_sentiment"] = suite["id"].map({"i1": "positive", "i2": "negative", "d1": "positive",
                                                   "d2": "negative"})
    table, _ = run_suite(rule_predictor, suite)
    misread = table.set_index("test")["seed_misread"].to_dict()
    # i1 fails from a seed read right ("Det var bra." positive); i2's seed "Nja." is misread but i2 does not fail;
    # d2 fails from "Nja." (read skeptical, labelled negative here)
    assert misread == {"mft_a": 0, "inv_upper": 0, "dir_c": 1}
    assert "| dir_c | DIR | complaint_added | 2 | 1 | 50.0% | 1 |" in markdown_table(table)
    assert "| mft_a | MFT | a | 2 | 1 | 50.0% | - |" in markdown_table(table)


def test_tolerance_decides_small_moves():
    suite = small_suite().iloc[[4]]
    preds = pd.DataFrame({"sentiment": ["positive", "positive"], "p_positive": [0.80, 0.83],
                          "p_skeptical": [0.1, 0.1], "p_negative": [0.1, 0.07]},
                         index=["Det var bra.", "Det var bra. Men ingen ringde."])  # p_positive +0.03
    assert not score_cases(suite, preds, tolerance=0.05)["failed"].iloc[0]
    assert score_cases(suite, preds, tolerance=0.01)["failed"].iloc[0]


def test_whole_shipped_suite_scores_with_a_rule_predictor():
    table, scored = run_suite(rule_predictor)
    assert set(table["test"]) == set(load_suite()["test"])
    assert table["failure_rate"].between(0, 1).all() and table["n"].sum() == len(scored)
    md = markdown_table(table)
    assert md.count("\n") == len(table) + 1 and "| mft_negation | MFT | negation |" in md


def test_predictor_output_is_checked():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['p_skeptical'\]"):
        predict_texts(lambda ts: pd.DataFrame({"sentiment": ["positive"] * len(ts), "p_positive": 1.0,
                                               "p_negative": 0.0}), ["a"])
    with pytest.raises(ValueError, match="returned 1 rows for 2 texts"):
        predict_texts(lambda ts: rule_predictor(ts[:1]), ["a", "b"])


def test_bad_cases_are_named_by_line_not_text(tmp_path):
    bad = small_suite()
    bad.loc[1, "expected"] = "glad"
    with pytest.raises(ValueError, match=r"MFT expected must be one of .* \(line\(s\) \[2\]\)") as err:
        validate_suite(bad)
    assert "Aldrig" not in str(err.value)
    bad = small_suite()
    bad.loc[2, "original"] = None
    with pytest.raises(ValueError, match=r"without 'original' on line\(s\) \[3\]"):
        validate_suite(bad)
    bad = small_suite()
    bad.loc[4, "expected"] = "p_happy_not_up"
    with pytest.raises(ValueError, match="line 5: DIR expectation"):
        validate_suite(bad)
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        load_suite(path)


def test_parse_direction():
    assert parse_direction("p_positive_not_up") == ("positive", "up")
    assert parse_direction("p_negative_not_down") == ("negative", "down")


@pytest.mark.slow
def test_shipped_model_on_the_suite(shipped_model_dir):
    from synpunkt.classifier import Classifier

    clf = Classifier.load(shipped_model_dir)
    table, scored = run_suite(clf.predict)
    print("\n" + markdown_table(table))
    suite = load_suite()
    assert set(table["test"]) == set(suite["test"]) and table["n"].sum() == len(suite)
    assert table["failure_rate"].notna().all() and scored["predicted"].isin(SENTIMENTS).all()

"""The personal-data benchmark's generator and scoring (benchmarks/), run fast with the rules only.

The full run with the name model is `python benchmarks/bench_personal_data.py --check` (figures in the README);
here a small generated set checks the rules-level targets for numbers and e-mail addresses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from bench_personal_data import MAX_NON_PERSONAL_REDACTED, TARGETS, missed_targets, run, score  # noqa: E402
from personal_data_corpus import DISTRACTORS, PERSONAL, generate  # noqa: E402

from synpunkt.redaction import Redactor, Span  # noqa: E402


@pytest.fixture(scope="module")
def rules_result() -> dict:
    return run(Redactor(use_model=False), n=400, seed=11)


def test_generator_is_deterministic_and_labelled():
    a, b = generate(60, seed=3), generate(60, seed=3)
    assert [(s.text, s.column, s.items) for s in a] == [(s.text, s.column, s.items) for s in b]
    assert [s.text for s in generate(60, seed=4)] != [s.text for s in a]
    assert sum(s.column == "text" for s in a) == 60 and any(s.column != "text" for s in a)
    for s in a:
        for it in s.items:
            assert it.kind in PERSONAL + DISTRACTORS
            assert 0 <= it.start < it.end <= len(s.text) and s.text[it.start:it.end].strip()


def test_generator_covers_the_formats():
    samples = generate(400, seed=0)
    tags = {(it.kind, tag) for s in samples for it in s.items for tag in it.tags}
    for wanted in [("personnummer", "fel kontrollsiffra"), ("personnummer", "utan nyckelord"),
                   ("samordningsnummer", "med nyckelord"), ("namn", "gemener"), ("namn", "genitiv"),
                   ("namn", "utländskt"), ("telefon", "mobil"), ("telefon", "utland"), ("e-post", "(at)")]:
        assert wanted in tags, wanted
    kinds = {it.kind for s in samples for it in s.items}
    assert set(PERSONAL) <= kinds and set(DISTRACTORS) <= kinds


def test_score_counts_partial_redaction_as_a_miss():
    [sample] = [s for s in generate(200, seed=1) if s.column == "text" and any(i.kind == "namn" for i in s.items)][:1]
    name = next(i for i in sample.items if i.kind == "namn")
    whole = score([sample], [[Span(name.start, name.end, "namn")]])
    part = score([sample], [[Span(name.start, name.start + 1, "namn")]])
    assert part["recall"]["namn"]["recall"] < whole["recall"]["namn"]["recall"]


def test_rules_meet_the_number_and_email_targets(rules_result):
    for kind in ("personnummer", "samordningsnummer", "telefon", "e-post"):
        assert rules_result["recall"][kind]["items"] >= 40, kind
        assert rules_result["recall"][kind]["recall"] >= TARGETS[kind], (kind, rules_result["recall"][kind])
    assert rules_result["non_personal_redacted"] <= MAX_NON_PERSONAL_REDACTED


def test_rules_alone_find_most_names(rules_result):
    """The name rules (lists, context, the common-word test) without the model; the model adds the rest."""
    assert rules_result["recall"]["namn"]["items"] >= 300
    assert rules_result["recall"]["namn"]["recall"] >= 0.93, rules_result["recall"]["namn"]
    assert rules_result["by_tag"]["namn / ej i listorna"]["recall"] >= 0.85, rules_result["by_tag"]


def test_look_alikes_are_not_taken_for_phone_or_personnummer(rules_result):
    for kind in ("belopp", "datum", "ärendenummer", "tid", "årtal", "postnummer", "procent", "annat tal"):
        assert rules_result["look_alikes"][kind]["as_number"] <= 0.01, (kind, rules_result["look_alikes"][kind])
    for kind in ("organisation", "ort"):
        assert rules_result["look_alikes"][kind]["redacted"] <= 0.02, (kind, rules_result["look_alikes"][kind])


def test_missed_targets_names_what_is_missed(rules_result):
    missed = missed_targets(rules_result)
    assert all(k not in " ".join(missed) for k in ("personnummer", "telefon", "e-post"))
    assert missed_targets({**rules_result, "non_personal_redacted": 0.5})[-1].startswith("non-personal")

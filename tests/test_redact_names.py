"""Name rules alone (gazetteer, lowercase, possessives, initials, growing a name) and metadata cells.

Rules only (no model): fast and deterministic. All names and sentences are made up.
"""

from __future__ import annotations

import numpy as np
import pytest

from synpunkt.redaction import Redactor
from synpunkt.redaction.name_lists import CORE_LISTS, GAZETTEER, STOPWORDS
from synpunkt.redaction.names import all_rule_names, extend_names, extra_rule_names, for_names, rule_names, tokenize
from synpunkt.redaction_cache import RedactionCache


@pytest.fixture(scope="module")
def rules() -> Redactor:
    return Redactor(use_model=False)


def marked(text: str, flags: np.ndarray) -> list[str]:
    words, _, _ = tokenize(text)
    return [w for w, f in zip(words, flags) if f]


def test_gazetteer_lists():
    assert len(GAZETTEER.first) > 1500 and len(GAZETTEER.surnames) > 1500
    assert CORE_LISTS.first < GAZETTEER.first and CORE_LISTS.surnames < GAZETTEER.surnames
    # names that are also words or places are never names on their own
    for word in ("Björn", "Klara", "Inga", "Juni", "Mina"):
        assert word not in GAZETTEER.first and word in GAZETTEER.ambiguous
    for word in ("Lund", "Berg", "Ek", "Strand"):
        assert word not in GAZETTEER.surnames and word in GAZETTEER.all_surnames
    assert not {w for w in GAZETTEER.first | GAZETTEER.surnames if w.lower() in STOPWORDS}


@pytest.mark.parametrize("text,expected", [
    ("jag pratade med gunborg igen", ["gunborg"]),
    ("hälsningar sirkka", ["sirkka"]),
    ("ring svensson", ["svensson"]),
    ("Annas bemötande var dåligt", ["Annas"]),
    ("Kontakt: K. Sjöstrand", ["K", ".", "Sjöstrand"]),
    ("Jag bor i Lund och inga svar kom", []),
])
def test_extra_rules(text, expected):
    words, _, ls = tokenize(text)
    assert marked(text, extra_rule_names(words, ls)) == expected


def test_core_rules_are_what_the_model_was_trained_with():
    """With the hand-written lists the core rules miss gazetteer names (the model's feature stays as trained)."""
    words, _, ls = tokenize("Jag pratade med Gunborg Sjöstrand")
    assert not rule_names(words, ls, CORE_LISTS).any()
    assert marked("Jag pratade med Gunborg Sjöstrand", rule_names(words, ls)) == ["Gunborg", "Sjöstrand"]


@pytest.mark.parametrize("text,start,expected", [
    ("Vi träffade Tuulikki Englund", "Englund", ["Tuulikki", "Englund"]),  # a first name before a surname
    ("Filmon Olsson ringde", "Olsson", ["Filmon", "Olsson"]),  # at the start: the name after it is a surname
    ("Hemtjänsten Anna kom inte", "Anna", ["Anna"]),  # at the start, before a first name: not grown
    ("jag pratade med karin lund igen", "karin", ["karin", "lund"]),  # a listed surname in lowercase
    ("Jag ringde Szymon Janczura", "Janczura", ["Szymon", "Janczura"]),
    ("Szymon Janczura", "Janczura", ["Szymon", "Janczura"]),  # at the start: grown by a word that is no word
    ("Hemtjänsten Janczura", "Janczura", ["Janczura"]),  # ... but not by a common one
    ("Lund, Karin", "Karin", ["Lund", "Karin"]),  # a surname and a comma before a first name
    ("Štrbac, Jasna", "Jasna", ["Štrbac", "Jasna"]),  # the whole cell "X, Y"
    ("Ring L. Andersson", "Andersson", ["L", ".", "Andersson"]),
])
def test_extend_names(text, start, expected):
    words, offsets, ls = tokenize(text)
    flags = np.array([w == start for w in words])
    assert marked(text, extend_names(text, words, offsets, ls, flags)) == expected


def test_for_names_title_cases_shouting_only():
    assert for_names("PETTERSSON ELISABET") == "Pettersson Elisabet"
    assert for_names("RING [TELEFON] NU") == "Ring [TELEFON] Nu"
    assert for_names("Ring Anna") == "Ring Anna"
    assert for_names("070-123 45 67") == "070-123 45 67"


@pytest.mark.parametrize("text,expected", [
    ("PETTERSSON ELISABET", "[NAMN]"),
    ("Kontakt: L. Andersson tel 070-123 45 67", "Kontakt: [NAMN] tel [TELEFON]"),
    ("jag pratade med karin lund igen", "jag pratade med [NAMN] igen"),
    ("Hej, det är Björn Berg", "Hej, det är [NAMN]"),
    ("Vi bor i Lund och Inga svar kom från Skatteverket.", "Vi bor i Lund och Inga svar kom från Skatteverket."),
    ("Tack Willys och Försäkringskassan!", "Tack Willys och Försäkringskassan!"),
    ("Hälsningar\nKarin Dnr 2024-7401.", "Hälsningar\n[NAMN] Dnr 2024-7401."),
])
def test_names_through_the_redactor(rules, text, expected):
    assert rules.redact(text).text == expected


def test_all_rule_names_is_both():
    words, _, ls = tokenize("tack till gunborg och Per Holm")
    assert marked("tack till gunborg och Per Holm", all_rule_names(words, ls)) == ["gunborg", "Per", "Holm"]


def test_metadata_cells_are_redacted_alone(rules):
    """As ingest stores them: each metadata value redacted on its own, column names kept where they hold none."""
    cells = {"handläggare": "Karin Lund", "anteckning": "handläggare: Karin Lund", "ansvarig": "Lund, Karin",
             "telefon": "070-123 45 67", "personnummer": "19850312-2398", "förvaltning": "Vård och omsorg",
             "ärende": "2025-1234", "kommun": "Lund"}
    [out] = RedactionCache(rules).mappings([cells])
    # "ansvarig" is a name column: its whole cell is one name placeholder (synpunkt.redaction.columns)
    assert out == {"handläggare": "[NAMN]", "anteckning": "handläggare: [NAMN]", "ansvarig": "[NAMN]",
                   "telefon": "[TELEFON]", "personnummer": "[PERSONNUMMER]", "förvaltning": "Vård och omsorg",
                   "ärende": "2025-1234", "kommun": "Lund"}


def test_the_model_may_add_only_candidates_the_rules_left():
    """model_may_add (the redactor skips the name model where it is False for every word): a model candidate the
    rules have not marked. decide_names marks candidates only, so even a model that says "name" for every word adds
    nothing where model_may_add is False."""
    from synpunkt.redaction.names import decide_names, model_candidate, model_may_add

    words, _, line_start = tokenize("Jag pratade med Anna Berg och Qorsho om VA i går.")
    rules = all_rule_names(words, line_start)
    may = model_may_add(words, rules)
    assert may.tolist() == [model_candidate(w) and not r for w, r in zip(words, rules)]
    assert not may[words.index("Anna")] and not may[words.index("VA")] and not may[words.index(".")]
    assert may[words.index("Qorsho")]
    decided = decide_names(words, line_start, np.ones(len(words)), 0.5, 0.95)
    assert not (decided & ~may & ~rules).any()
    assert not model_may_add(*(lambda w, _, ls: (w, all_rule_names(w, ls)))(*tokenize("Anna Berg, tack!"))).any()

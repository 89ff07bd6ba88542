"""Input normalisation before the encoder: respelling typos and å/ä/ö-less words (synpunkt.textnorm)."""

from __future__ import annotations

import pytest

from synpunkt.behaviour import ascii_diacritics
from synpunkt.textnorm import normalise, respell


@pytest.mark.parametrize("typo, fixed", [
    ("Handläggaern var tervlig men jag väntade en timme.", "Handläggaren var trevlig men jag väntade en timme."),
    ("Det var hoppölöst att få tag på någon.", "Det var hopplöst att få tag på någon."),
    ("Jag fick aldri något svar från kommunen.", "Jag fick aldrig något svar från kommunen."),
    ("BEMÖTANDET VAR OTREVILGT.", "BEMÖTANDET VAR OTREVLIGT."),  # capitals kept
])
def test_a_rare_word_one_edit_from_a_frequent_one_is_written_back(typo, fixed):
    assert respell(typo) == fixed


def test_a_text_without_any_swedish_letters_gets_them_back():
    original = "Jag fick ingen hjälp med ansökan och väntade i två veckor på svar för att ingen läste den."
    assert ascii_diacritics(original) != original
    assert respell(ascii_diacritics(original)) == original


def test_a_writer_who_uses_swedish_letters_is_taken_at_their_word():
    text = "Hon sa att det är klart, men inget hände."  # "sa" (said) stays: the text has å/ä/ö elsewhere
    assert respell(text) == text


@pytest.mark.parametrize("text", [
    "Bygglovsansökan för friggeboden handlades snabbt och korrekt.",  # compounds and inflections are words
    "Tack Sagal för hjälpen, du var jättebra!",  # a capitalised word inside a sentence: a name
    "Ring mig på 070-123 45 67 eller mejla anna.svensson@exempel.se",  # numbers and addresses untouched
    "[NAMN] var otrevlig mot mig i receptionen.",  # placeholders untouched
    "The service was terrible and nobody called back.",  # not Swedish: left as it is
    "Kiitos paljon, hyvä palvelu ja ystävällinen henkilökunta.",
    "fick ngn svar tbx efter 3ggr",  # short sms words and words with digits are not guessed at
    "Supporten var helt useless och chatten likaså.",  # an English word in a Swedish comment is not "corrected"
    "",
])
def test_ordinary_text_other_languages_and_personal_data_are_left_alone(text):
    assert respell(text) == text


def test_normalise_respells_before_unshouting():
    assert normalise("HANDLÄGGAERN VAR OTREVLIG!!!", unshouts=True, respells=True) == "Handläggaren var otrevlig!!!"
    assert normalise("HANDLÄGGAERN VAR OTREVLIG!!!", unshouts=True, respells=False) == "Handläggaern var otrevlig!!!"
    assert normalise("Handläggaern", unshouts=False, respells=False) == "Handläggaern"

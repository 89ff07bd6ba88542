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


PINNED_TEXTS = [
    "Handläggaern var tervlig men jag väntade en timme.", "Jag fick aldri något svar från kommunen.",
    "BEMÖTANDET VAR OTREVILGT.", "HANDLÄGGAREN VAR OTREVLIG!!!", "ALDRIG fått svar!!!",
    "Jag fick ingen hjalp med ansokan och vantade i tva veckor pa svar.", "Hon sa att det är klart, men inget hände.",
    "Tack Sagal för hjälpen, du var jättebra!", "[NAMN] var otrevlig mot mig i receptionen.",
    "The service was terrible and nobody called back.", "fick ngn svar tbx efter 3ggr",
    "Supporten var helt useless och chatten likaså.", "Bygglovsansökan för friggeboden handlades snabbt.",
    "Väntetiden i telfonkön var alldeles för lång, over en timme.", "e-tjansten loggar ut mig hela tiden",
]
PINNED_OUTPUT = {"1": "1678d688b321b24416f46016ee594d9de38ab0e6e0eeb54cc01fb8e027f7fa9d"}
"""The sha256 of normalise(text, True, True) over PINNED_TEXTS for each NORMALISATION_VERSION."""


def test_a_change_in_what_normalisation_writes_comes_with_a_new_version():
    """Predictions made before and after a normalisation change must not share a model version
    (synpunkt.model.model_version hashes NORMALISATION_VERSION): a changed output without a bump fails here."""
    import hashlib

    from synpunkt.textnorm import NORMALISATION_VERSION

    output = "\n".join(normalise(t, unshouts=True, respells=True) for t in PINNED_TEXTS)
    digest = hashlib.sha256(output.encode()).hexdigest()
    assert PINNED_OUTPUT.get(NORMALISATION_VERSION) == digest, (
        "synpunkt.textnorm now writes these texts differently: bump NORMALISATION_VERSION and record "
        f"{NORMALISATION_VERSION!r}'s successor's digest {digest} in PINNED_OUTPUT")

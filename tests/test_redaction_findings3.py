"""Red-team 2, set B findings on redaction: card numbers after a card word whatever their check digit (1), phone
numbers spelled in words, alone or mixed with digit groups (2), and first names that are also words in a clear
name context: after a greeting, or before a workplace (3).

Every card number, phone number and name here is invented for these tests.
"""

from __future__ import annotations

import pytest
from stdnum import luhn

from synpunkt.redaction import Redactor
from synpunkt.redaction.names import tokenize
from synpunkt.redaction.name_context import context_names
from synpunkt.redaction.patterns import pattern_spans


@pytest.fixture(scope="module")
def rules() -> Redactor:
    return Redactor(use_model=False)


# --- 1: card numbers after a card word ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Kortnummer 4716 2290 8813 5062 debiterades två gånger.", "Kortnummer [KORTNUMMER] debiterades två gånger."),
    ("Mitt kortnr: 5312-8841-0097-2316, dras varje månad.", "Mitt kortnr: [KORTNUMMER], dras varje månad."),
    ("Kort nr 4024 0071 2299 4419 spärrades.", "Kort nr [KORTNUMMER] spärrades."),
    ("Pengarna drogs från mitt bankkort 4571 9902 1137 6647 i förrgår.",
     "Pengarna drogs från mitt bankkort [KORTNUMMER] i förrgår."),
    ("kreditkortet 5188 2204 7733 1905 belastades igen", "kreditkortet [KORTNUMMER] belastades igen"),
    ("Betalkort nummer 4929513370011825 godkändes inte.", "Betalkort nummer [KORTNUMMER] godkändes inte."),
    ("Kortnumret är 3742 881903 44127, ett Amex.", "Kortnumret är [KORTNUMMER], ett Amex."),
])
def test_a_number_after_a_card_word_is_a_card_number_whatever_its_check_digit(rules, text, expected):
    assert rules.redact(text).text == expected


def test_the_card_numbers_above_fail_the_luhn_check():
    """The point of finding 1: after a card word the check digit does not matter (these all fail it)."""
    for number in ("4716229088135062", "5312884100972316", "4024007122994419", "4571990211376647"):
        assert not luhn.is_valid(number)


@pytest.mark.parametrize("text", [
    "Fakturan 4716 2290 8813 5062 kom i går.",  # no card word, wrong check digit: left as today
    "Kortet kostade 1 250 kr och kom 2024-03-15.",
    "Kortnummer saknas på ärende 2024-1234 från 12 maj.",
    "Jag fick ett kort brev, dnr 2023/4471, om bygglovet.",
    "Kortet slutar på 4471 men det är inte mitt.",  # four digits: no card number
    "Busskortet laddades med 500 kr den 3/4 kl 08.15.",
])
def test_card_words_without_a_card_number_leave_the_text(rules, text):
    assert rules.redact(text).text == text


# --- 2: phone numbers spelled in words ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Ni når mig på noll sju två, åtta åtta ett, fyra fem, sex tre.",
     "Ni når mig på [TELEFON]."),
    ("Mitt nummer är noll sju sex, tre tre ett, noll nio, åtta två. Tack!",
     "Mitt nummer är [TELEFON]. Tack!"),
    ("Svar till noll åtta fem fem två sju nio fyra, helst efter fem.",  # eight digit words, no phone word
     "Svar till [TELEFON], helst efter fem."),
    ("Ring mig på nolla sju nolla och sen fyra fyra tre.", "Ring mig på [TELEFON]."),
    ("Telefon: noll-sju-noll-fem-fem-ett", "Telefon: [TELEFON]"),
    ("Numret är noll 73 och sedan 518 24 96, ring gärna.", "Numret är [TELEFON], ring gärna."),
    ("Mitt nummer är noll-sju-två 55 41 806.", "Mitt nummer är [TELEFON]."),
    ("Ring mig på noll sju noll, fyra två ett, trettiosex femtioåtta så löser vi det.",
     "Ring mig på [TELEFON] så löser vi det."),
    ("Mobil NOLL SJU TRE NIO ETT ETT FEM ÅTTA", "Mobil [TELEFON]"),
])
def test_phone_numbers_in_words_are_redacted(rules, text, expected):
    assert rules.redact(text).text == expected


def test_a_spelled_phone_number_is_one_phone_span():
    text = "Numret är noll 76 och sedan 902 31 17."
    spans = pattern_spans(text)
    assert [(text[s.start:s.end], s.kind) for s in spans] == [("noll 76 och sedan 902 31 17", "telefon")]


@pytest.mark.parametrize("text", [
    "Vi ringde två eller tre gånger men ingen svarade.",
    "Det tog fem sex veckor innan vi fick svar, och sju dagar till innan beslutet kom.",
    "Räkningen var på tre tusen fem hundra kronor, och ytterligare två tusen.",
    "Ring mig på fem minuter, jag har tre barn och två hundar.",
    "Ett två tre fyra, barnen räknade hela vägen.",  # four digit words: counting
    "Rum nummer tre, fyra och fem är stängda sedan 12 maj.",
    "Jag har ringt numret sju gånger i veckan, ärende 2024-1234.",
    "Bussen kom tjugo minuter sent, sedan fyrtiofem till, klockan 08.15.",
    "Vi var sex vuxna och tre barn, tio personer med chauffören.",
    "Ring 112 eller 1177 om det är akut, inte noll sju.",
])
def test_counting_words_and_amounts_are_no_phone_number(rules, text):
    assert rules.redact(text).text == text


# --- 3: names that are also words, in a clear name context -------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Hej Viola! Tack för att ni ringde upp.", "Hej [NAMN]! Tack för att ni ringde upp."),
    ("Hej Sol, jag undrar över beslutet.", "Hej [NAMN], jag undrar över beslutet."),
    ("Hejsan Björn! Allt är ordnat nu.", "Hejsan [NAMN]! Allt är ordnat nu."),
    ("Tack Stickan för att du lyssnade.", "Tack [NAMN] för att du lyssnade."),
    ("Kära Rosa, vi saknar dig på förskolan.", "Kära [NAMN], vi saknar dig på förskolan."),
    ("Till Sten, från familjen på nummer sju.", "Till [NAMN], från familjen på nummer sju."),
])
def test_a_word_name_after_a_greeting_is_a_name(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text, expected", [
    ("Björn på socialkontoret sa att vi fick vänta.", "[NAMN] på socialkontoret sa att vi fick vänta."),
    ("Rut i kundtjänst förstod direkt vad det gällde.", "[NAMN] i kundtjänst förstod direkt vad det gällde."),
    ("Tack för allt. Ros från hemtjänsten lovade att komma.",
     "Tack för allt. [NAMN] från hemtjänsten lovade att komma."),
    ("Hallå, Stig på bygglovsenheten svarade aldrig.", "Hallå, [NAMN] på bygglovsenheten svarade aldrig."),
    ("jag har väntat i två veckor Viola i receptionen visste ingenting",
     "jag har väntat i två veckor [NAMN] i receptionen visste ingenting"),
])
def test_a_word_name_before_a_workplace_is_a_name(rules, text, expected):
    assert rules.redact(text).text == expected


def test_a_nickname_that_is_a_word_counts_after_a_greeting_only(rules):
    assert rules.redact("Tack Ankan för hjälpen med ansökan!").text == "Tack [NAMN] för hjälpen med ansökan!"
    text = "Ankan i dammen vid förskolan är skadad."
    assert rules.redact(text).text == text


@pytest.mark.parametrize("text", [
    "Inga på kommunen svarade när vi ringde.",  # "inga" = nobody
    "Bara i kundtjänsten förstod de vad jag menade.",
    "Sten på gatan vid skolan har inte tagits bort.",  # a stone, no workplace, no person's verb
    "Sol på förskolan är viktigt för barnen.",  # sentence-initial, no person's verb
    "Tack Hemtjänsten för ett bra år!",
    "Hej Kommunen, varför svarar ingen?",
    "Tack för rosa jackan från klädbanken.",
    "Hej! Tack så mycket för hjälpen.",
    "Tack Gud för att det finns bibliotek.",
    "Tack Lantmäteriet för hjälpen!",  # an authority, not a name: a rare word after a greeting is not enough
])
def test_words_in_those_contexts_stay_words(rules, text):
    assert rules.redact(text).text == text


def test_context_rule_marks_only_the_name():
    words, _, line_start = tokenize("Hej Rut! Björn på kontoret sa nej.")
    flags = context_names(words, line_start)
    assert [w for w, f in zip(words, flags) if f] == ["Rut", "Björn"]

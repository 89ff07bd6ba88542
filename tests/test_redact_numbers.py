"""Personnummer, samordningsnummer and phone numbers: each rule module alone, then through the Redactor (rules only).

All numbers are made up here; check digits are computed with python-stdnum.
"""

from __future__ import annotations

import pytest
from stdnum import luhn

from synpunkt.redaction import Redactor
from synpunkt.redaction.identity_numbers import birth_date_kind, identity_number_spans, keyword_before
from synpunkt.redaction.number_context import case_number_context, is_date_or_time_range, number_ok
from synpunkt.redaction.phones import phone_spans


def right(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def wrong(body: str) -> str:
    return body + str((int(luhn.calc_check_digit(body)) + 3) % 10)


@pytest.fixture(scope="module")
def rules() -> Redactor:
    return Redactor(use_model=False)


# --- the issue's case: a wrong check digit -----------------------------------------------------------------------


def test_issue_case_wrong_check_digit_is_redacted(rules):
    assert not luhn.is_valid("8503122398")
    red = rules.redact("mitt personnummer är 19850312-2398")
    assert red.text == "mitt personnummer är [PERSONNUMMER]"
    assert red.counts["personnummer"] == 1


PNR_WRONG = wrong("850312239")
SAMO_WRONG = wrong("850372239")  # day 12 + 60


@pytest.mark.parametrize("form", [
    f"{PNR_WRONG[:6]}-{PNR_WRONG[6:]}", PNR_WRONG, f"19{PNR_WRONG[:6]}-{PNR_WRONG[6:]}", f"19{PNR_WRONG}",
    f"{PNR_WRONG[:6]} {PNR_WRONG[6:]}", f"19{PNR_WRONG[:6]} {PNR_WRONG[6:]}", f"{PNR_WRONG[:6]}+{PNR_WRONG[6:]}",
    f"{PNR_WRONG[:6]} - {PNR_WRONG[6:]}",
])
@pytest.mark.parametrize("template", [
    "Mitt personnummer är {}.", "pnr {}", "Pers.nr: {}", "personnr {} tack", "födelsenummer {}", "mitt nummer är {}",
    "personummer {}", "Jag ({}) har sökt bidrag.", "{}",
])
def test_wrong_check_digit_forms_with_and_without_keyword(rules, form, template):
    """Whatever the check digit: a keyword or a valid date says it is one (10 and 12 digits, any separator)."""
    red = rules.redact(template.format(form))
    assert red.text == template.format("[PERSONNUMMER]")


@pytest.mark.parametrize("form", [f"{SAMO_WRONG[:6]}-{SAMO_WRONG[6:]}", SAMO_WRONG, f"19{SAMO_WRONG}",
                                  f"19{right('850372239')[:6]}-{right('850372239')[6:]}"])
@pytest.mark.parametrize("template", ["Mitt samordningsnummer är {}.", "samordningsnr: {}", "{}", "pnr {}"])
def test_samordningsnummer_day_plus_60(rules, form, template):
    assert rules.redact(template.format(form)).text == template.format("[SAMORDNINGSNUMMER]")


def test_keyword_says_so_even_with_an_impossible_date_or_a_digit_missing(rules):
    assert rules.redact("personnummer 851332-2398").text == "personnummer [PERSONNUMMER]"
    assert rules.redact("mitt personnummer är 850312-239").text == "mitt personnummer är [PERSONNUMMER]"
    assert rules.redact("samordningsnummer 19850372 239").text == "samordningsnummer [SAMORDNINGSNUMMER]"


def test_birth_date_kind():
    assert birth_date_kind(None, "85", "03", "12") == "personnummer"
    assert birth_date_kind("19", "85", "03", "72") == "samordningsnummer"
    assert birth_date_kind(None, "85", "13", "12") is None  # month 13
    assert birth_date_kind(None, "85", "02", "30") is None  # 30 February
    assert birth_date_kind(None, "85", "03", "45") is None  # day 45: neither a day nor a day + 60
    assert birth_date_kind("20", "99", "01", "01") is None  # in the future


def test_keyword_before():
    assert keyword_before("mitt pnr är 8503122398", 12) == "strong"
    assert keyword_before("mitt nummer är 8503122398", 15) == "weak"
    assert keyword_before("jag har nummer 8503122398", 15) is None
    # a keyword with another number in between says nothing about this one
    text = "personnummer 850312-2398. fakturanummer 3281475995"
    assert keyword_before(text, text.index("3281")) is None


def test_identity_numbers_alone():
    text = f"Ang. {PNR_WRONG[:6]}-{PNR_WRONG[6:]} och 19{SAMO_WRONG}."
    assert [(s.kind, text[s.start:s.end]) for s in identity_number_spans(text)] == [
        ("personnummer", f"{PNR_WRONG[:6]}-{PNR_WRONG[6:]}"), ("samordningsnummer", f"19{SAMO_WRONG}")]


@pytest.mark.parametrize("text", [
    "Referens 811318-9876 gäller.",  # month 13, no keyword
    "Ärende 850312-1234 är öppet.",  # a case number, check digit wrong
    "dnr 850312 1234",
    "fakturanummer 8503122397",
    "Fakturanummer 1234567890 och OCR 123456789012.",
    "Mötet 2024-03-15 kl. 14:30, ärende 2025-1234.",
])
def test_case_numbers_and_dates_are_no_personnummer(rules, text):
    assert rules.redact(text).text == text


def test_a_mobile_number_run_together_is_a_phone_number(rules):
    assert rules.redact("ring 0703123457").text == "ring [TELEFON]"
    assert rules.redact("mitt nummer är 0701234567").text == "mitt nummer är [TELEFON]"
    assert rules.redact(f"ring {wrong('070312345')[:6]}-{wrong('070312345')[6:]}").text == "ring [TELEFON]"


# --- phone numbers ----------------------------------------------------------------------------------------------

PHONE_FORMS = [
    "070-123 45 67", "0701234567", "070 123 45 67", "070-1234567", "+46 70 123 45 67", "+46701234567",
    "+46 (0)70-123 45 67", "0046 70 123 45 67", "0046701234567", "08-123 456 78", "08-123 45 67", "08-12 34 56",
    "(08) 123 456", "031-12 34 56", "031-123 45 67", "0470-123 45", "(0470) 123 45", "070.123.45.67",
    "+47 912 34 567", "+358 40 123 4567",
]


@pytest.mark.parametrize("number", PHONE_FORMS)
def test_phone_formats_alone_and_in_text(rules, number):
    text = f"Ring mig på {number} Min dotter svarar."  # a capitalised "Min" after it is no unit ("min")
    assert [text[s.start:s.end] for s in phone_spans(text)] == [number]
    assert rules.redact(text).text == "Ring mig på [TELEFON] Min dotter svarar."


@pytest.mark.parametrize("text", [
    "Öppet 0800-1700 och 08.00–17.00 på vardagar.",
    "Det kostade 1 500 000 kr och 250 000 kronor.",
    "ordernr 0812345678",
    "Postnummer 12345 och år 2024, 45 % var nöjda.",
    "Mötet är 2024-03-15 kl 14.30.",
])
def test_non_phone_numbers_kept(text):
    assert phone_spans(text) == []


def test_number_context_guards():
    assert is_date_or_time_range("2024-03-15") and is_date_or_time_range("08.00-17.00")
    assert not is_date_or_time_range("070-123 45 67")
    assert case_number_context("Se ärende 2025-1234", 10) and case_number_context("OCR 1234", 4)
    assert not case_number_context("Ring 070-123 45 67", 5)
    text = "Det kostar 1 500 kr"
    assert not number_ok(text, 11, 16) and number_ok("Ring 070-123 45 67", 5, 18)


# --- non-personal numbers through the whole redactor ------------------------------------------------------------

KEPT = [
    "Avgiften är 1 500 kr i månaden och 12 000:- per år.",
    "Ärende 2025-1234 och ärendenummer 2024-000123 är öppna, dnr KS 2023/456.",
    "Vi kom kl 14.30 och gick kl. 16:00, öppet 08.00–17.00.",
    "Sedan 1998, mellan 2010-2015 och år 2024.",
    "Taxan höjdes med 3,5 procent, 45 % var nöjda.",
    "Jag skickade den 2024-03-15, 15/3 och 15.03.2024.",
    "Vecka 12, linje 4, buss 150, rum 203, version 2.4.1.",
    "Gäller OCR 18502015573350 och fakturanummer 5555280874.",
]


@pytest.mark.parametrize("text", KEPT)
def test_non_personal_numbers_kept(rules, text):
    assert rules.redact(text).text == text


def test_postcodes_are_treated_as_before(rules):
    """A postcode written "123 45" is an address (as before); never a phone number or personnummer."""
    red = rules.redact("Vi i 123 45 får aldrig snöröjning, postnummer 41319 inte heller.")
    assert red.text == "Vi i [ADRESS] får aldrig snöröjning, postnummer 41319 inte heller."


def test_file_names_keep_a_municipality_code_and_year_but_not_phone_numbers(rules):
    from synpunkt.redaction_cache import RedactionCache

    cache = RedactionCache(rules)
    assert cache.file_name("synpunkter_0180_2023.csv") == "synpunkter_0180_2023.csv"
    assert cache.file_name("export_1480_2025_070-123 45 67.xlsx") == "export_1480_2025_[TELEFON].xlsx"
    assert cache.file_name("ring_070-1234567.csv") == "ring_[TELEFON].csv"
    assert "[TELEFON]" in cache.file_name("lista_0180-2023.csv"), "only code_year with an underscore is kept"

"""Exploratory-test findings on redaction: grouped personnummer and reference contexts (2), phone numbers after
"nr" or an upper-case word (20), metadata headers (17) and name columns and surnames that are words (10).

Every personnummer here is invented (850612-2384 and the like); every name is made up.
"""

from __future__ import annotations

import logging

import pytest

from synpunkt.redaction import Redactor
from synpunkt.redaction.columns import is_name_column, redact_header
from synpunkt.redaction_cache import RedactionCache

PNR = "850612-2384"  # invented; valid date and right check digit
PNR_WRONG = "850612-2385"  # same date, wrong check digit
SAMO = "850672-2381"  # invented samordningsnummer (day 12 + 60), right check digit


@pytest.fixture(scope="module")
def rules() -> Redactor:
    return Redactor(use_model=False)


# --- finding 2: personnummer written in groups, and after "Referens"/"Ref" ---------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Personnummer 85 06 12-2384, ring mig.", "Personnummer [PERSONNUMMER], ring mig."),
    ("Personnummer: 8506 12 2384", "Personnummer: [PERSONNUMMER]"),
    ("pnr 85-06-12-2384", "pnr [PERSONNUMMER]"),
    ("pnr: 85 06 12 - 2384", "pnr: [PERSONNUMMER]"),
    ("Mitt personnummer är 85-06-12-2384", "Mitt personnummer är [PERSONNUMMER]"),
    ("Personnr 19 850612-2384", "Personnr [PERSONNUMMER]"),
    ("Personnr 1985 06 12-2384 gäller.", "Personnr [PERSONNUMMER] gäller."),
    ("Samordningsnummer 85 06 72-2381", "Samordningsnummer [SAMORDNINGSNUMMER]"),
    ("Personnummer 85 06 12-2384 2024 05 01 hände det.", "Personnummer [PERSONNUMMER] 2024 05 01 hände det."),
])
def test_grouped_personnummer_after_a_keyword(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text, expected", [
    (f"Referens: {PNR}. Jag har väntat sex veckor.", "Referens: [PERSONNUMMER]. Jag har väntat sex veckor."),
    (f"Ref {PNR}, ring mig.", "Ref [PERSONNUMMER], ring mig."),
    (f"Ref: 19{PNR} gäller min mamma", "Ref: [PERSONNUMMER] gäller min mamma"),
    (f"Mitt kundnummer är {PNR}.", "Mitt kundnummer är [PERSONNUMMER]."),
    (f"OCR {PNR.replace('-', '')}", "OCR [PERSONNUMMER]"),  # passes as a personnummer: privacy first
    (f"Referens {SAMO}", "Referens [SAMORDNINGSNUMMER]"),
])
def test_a_reference_that_passes_as_a_personnummer_is_redacted(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", [
    f"Referens {PNR_WRONG} gäller.",  # wrong check digit: a reference number
    "Ref: 18850612-2384 gäller.",  # born 1885: no living person's
    "Fakturanummer 1234567890 och OCR 123456789012.",
    "fakturanummer 8503122397",
    "Gäller ärende nr 2025-1234 sedan i maj.",
    "Personnummer saknas, datum 2024-05-01.",
])
def test_reference_and_case_numbers_stay(rules, text):
    assert rules.redact(text).text == text


# --- finding 20: landline numbers after "nr", "tfn nr", "TEL" and short upper-case words ------------------------

@pytest.mark.parametrize("text, expected", [
    ("Mitt tfn nr 08-123 456 78, jag väntar fortfarande.", "Mitt tfn nr [TELEFON], jag väntar fortfarande."),
    ("Ring mig på telefon nr 031-123 45 67 dagtid.", "Ring mig på telefon nr [TELEFON] dagtid."),
    ("Telefon nr 031-123 45 67 dagtid", "Telefon nr [TELEFON] dagtid"),
    ("tel nr 010-123 45 67 (jobb)", "tel nr [TELEFON] (jobb)"),
    ("TEL 08-123 456 78", "TEL [TELEFON]"),
    ("TFN 031-123 45 67", "TFN [TELEFON]"),
    ("OBS 031-12 34 56 efter 17", "OBS [TELEFON] efter 17"),
    ("mobil nr: 0660-123 45", "mobil nr: [TELEFON]"),
])
def test_landlines_after_nr_or_an_upper_case_word(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", [
    "Gäller ärende nr 2025-1234 sedan i maj.",
    "Se dnr KS 2025/123 och dnr 2024-1234.",
    "Dnr KS 0312-3456 gäller.",
    "Ärendet har nummer BN 2024-000123.",
    "Det kostade 1 234 kr år 2024, den 2024-03-15.",
    "Öppet 0800-1700, nr 12 av 40.",
])
def test_case_numbers_amounts_dates_and_years_stay(rules, text):
    assert rules.redact(text).text == text


# --- finding 17: column headers are no names ---------------------------------------------------------------------

HEADERS = ["line", "value", "handläggare", "enhet", "ärendetyp", "Kön", "Ålder", "Stadsdel", "Förvaltning", "Betyg",
           "Svarstid", "Ort", "Kontaktväg", "Kategori", "Källa", "samtalstid_min", "Ansvarig handläggare"]


def test_headers_keep_their_words(rules):
    assert RedactionCache(rules).labels(HEADERS) == {h: h for h in HEADERS}


def test_headers_lose_identifiers_with_a_fixed_shape(rules):
    cache = RedactionCache(rules)
    assert cache.labels(["Tel 070-123 45 67"]) == {"Tel 070-123 45 67": "Tel [TELEFON]"}
    assert redact_header("anna.exempel@exempel.se") == "[E-POST]"
    assert redact_header(f"pnr_{PNR}") == "pnr_[PERSONNUMMER]"


def test_headers_lose_full_names(rules):
    """A listed first name and a capitalised word after it: a person's name in a header is personal data."""
    assert redact_header(f"Handläggare Karin Lund {PNR}") == "Handläggare [NAMN] [PERSONNUMMER]"
    assert redact_header("Karin_Lund") == "[NAMN]" and redact_header("Anna-Karin Ek") == "[NAMN]"
    assert RedactionCache(rules).labels(["Karin Lund"]) == {"Karin Lund": "[NAMN]"}


def test_file_names_still_lose_names(rules):
    assert RedactionCache(rules).file_name("klagomal_Karin_Andersson.csv") == "klagomal_[NAMN].csv"


def test_metadata_keys_stay_readable(rules):
    [out] = RedactionCache(rules).mappings([{"ärendetyp": "Klagomål", "Svarstid": "3 dagar", "Kontaktväg": "Telefon"}])
    assert out == {"ärendetyp": "Klagomål", "Svarstid": "3 dagar", "Kontaktväg": "Telefon"}


# --- finding 10: name columns and surnames that are words --------------------------------------------------------

WORD_SURNAMES = ["Lund", "Berg", "Ek", "Holm", "Strand", "Lind", "Nord", "Falk", "Blom", "Ström", "Fors", "Lis"]


@pytest.mark.parametrize("header", ["efternamn", "Förnamn", "namn", "Namn", "kontaktperson", "handläggare",
                                    "Ansvarig handläggare", "Handläggarens namn", "name", "surname", "Last_Name",
                                    "inlämnad av", "ansvarig"])
def test_name_columns(header):
    assert is_name_column(header)


@pytest.mark.parametrize("header", ["ärendetyp", "Svarstid", "Kontaktväg", "kommun", "Enhetens namn",
                                    "Skolans namn", "enhet", "Anmälarens ålder", "Handläggare id", "kanal",
                                    "samtalstid_min", "Ansvarig enhet", "filename"])
def test_other_columns(header):
    assert not is_name_column(header)


def test_every_cell_of_a_name_column_is_a_name(rules):
    rows = [{"efternamn": w, "förnamn": "Lis", "kontaktperson": w, "kommun": "Lund", "anteckning": "-"}
            for w in WORD_SURNAMES]
    rows.append({"efternamn": "", "förnamn": "-", "kontaktperson": None, "kommun": "Mora", "anteckning": "ok"})
    out = RedactionCache(rules).mappings(rows)
    for row in out[:-1]:
        assert row == {"efternamn": "[NAMN]", "förnamn": "[NAMN]", "kontaktperson": "[NAMN]", "kommun": "Lund",
                       "anteckning": "-"}
    assert out[-1] == {"efternamn": "", "förnamn": "-", "kontaktperson": None, "kommun": "Mora", "anteckning": "ok"}


def test_quarantined_rows_keep_the_readers_key_and_hide_names(rules):
    [line, cells] = RedactionCache(rules).rows([{"line": "{\"datum\": \"2024-01-03\"}"}, {"Efternamn": "Holm"}])
    assert line == '{"line": "{\\"datum\\": \\"2024-01-03\\"}"}'
    assert cells == '{"Efternamn": "[NAMN]"}'


@pytest.mark.parametrize("text, expected", [
    ("Jag talade med Ek på bygglov och sedan med Lund.", "Jag talade med [NAMN] på bygglov och sedan med [NAMN]."),
    ("Tack till Holm, Lund och Berg på socialkontoret.", "Tack till [NAMN], [NAMN] och [NAMN] på socialkontoret."),
    ("jag har pratat med Berg, Lund och Ek på kontoret.", "jag har pratat med [NAMN], [NAMN] och [NAMN] på kontoret."),
    ("Handläggaren Karin, Holm och Fors svarade.", "Handläggaren [NAMN], [NAMN] och [NAMN] svarade."),
    ("mejla mig på sara.holm@telia", "mejla mig på [E-POST]"),
    ("Skicka svar till karin punkt lund snabel-a gmail punkt com", "Skicka svar till [E-POST]"),
])
def test_surnames_that_are_words_in_person_contexts(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", [
    "Vi bor i Lund och åker till Berg ibland.",
    "Hälsningar från Lund",
    "Tack till Lund kommun för hjälpen.",
    "Ett stort Ek träd föll.",
    "pris 5@10 kr",
])
def test_places_and_words_stay(rules, text):
    assert rules.redact(text).text == text


def test_no_cell_or_text_in_the_logs(rules, caplog):
    caplog.set_level(logging.DEBUG)
    cache = RedactionCache(rules)
    cache.mappings([{"efternamn": "Holm", "Tel 070-123 45 67": f"Referens {PNR}"}])
    rules.redact_many(["Personnummer 85 06 12-2384, ring Ek på TEL 08-123 456 78"])
    logged = caplog.text
    assert "Holm" not in logged and "2384" not in logged and "456 78" not in logged and "Ek" not in logged


# --- red-team finding (2026-12-01): keywords "P nr"/"Sam.nr", spoken and spaced e-mail, contact columns -----------

@pytest.mark.parametrize("text, expected", [
    ("P nr 19420217-9103 gäller ansökan.", "P nr [PERSONNUMMER] gäller ansökan."),  # wrong check digit
    ("P.nr 621014 4959", "P.nr [PERSONNUMMER]"),
    ("Sam.nr 9611798349 gäller", "Sam.nr [SAMORDNINGSNUMMER] gäller"),
    ("samnr 570977 0191", "samnr [SAMORDNINGSNUMMER]"),
    ("Mitt nummer är 45 02 14-6766 om ni undrar.", "Mitt nummer är [PERSONNUMMER] om ni undrar."),
])
def test_identity_numbers_after_short_keywords(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", [
    "ärende 240315-1234 är stängt.",  # a case number with a wrong check digit stays
    "Mitt nummer är 070 12 34 56.",  # a phone number, not an identity number
])
def test_short_keywords_leave_case_and_phone_numbers_to_their_rules(rules, text):
    assert "[PERSONNUMMER]" not in rules.redact(text).text


@pytest.mark.parametrize("text, expected", [
    ("Skriv till kalle_92 @ hotmail.com tack.", "Skriv till [E-POST] tack."),
    ("nils1968 at gmail dot com", "[E-POST]"),
    ("Svara på bullerklagan [at] gmail punkt com.", "Svara på [E-POST]."),
    ("olle.s snabel-a gmail.com", "[E-POST]"),
    ("tant.gron snabel-a telia punkt se", "[E-POST]"),
])
def test_e_mail_written_with_spaces_or_spelled_out(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", ["I looked at it dot dot dot.", "Vi möts at Kulturhuset. Sen fika."])
def test_spoken_e_mail_needs_a_domain(rules, text):
    assert "[E-POST]" not in rules.redact(text).text


def test_a_phone_number_dialled_from_abroad_is_no_card_number(rules):
    assert rules.redact("Ring 0046735987490 efter fem.").text == "Ring [TELEFON] efter fem."


def test_cells_of_contact_columns_are_replaced_whatever_their_format(rules):
    rows = [{"E-post": "nils1968 at gmail dot com", "Mobil": "070/123 45 67", "Pnr": "45 02 14 6766",
             "Telefontid": "08.00-10.00", "Kanal": "telefon"},
            {"E-post": "saknas", "Mobil": "nej", "Pnr": "-", "Telefontid": "stängd", "Kanal": "e-post"}]
    first, second = RedactionCache(rules).mappings(rows)
    assert first == {"E-post": "[E-POST]", "Mobil": "[TELEFON]", "Pnr": "[PERSONNUMMER]",
                     "Telefontid": "08.00-10.00", "Kanal": "telefon"}
    assert second == rows[1]  # no address or number: left as written

"""Red-team 2 findings on redaction: personnummer in date groups without a keyword (1), car registration numbers
(2), a Handelsbanken-style account number before a capitalised word (3), a two-word street with a house letter (4),
a nickname and a hyphenated surname written first (5), names and towns that swallowed the next sentence's first
word (6), and the mode of the pipeline lock (7).

Every personnummer, plate, account, address and name here is invented for these tests.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from synpunkt.redaction import PLACEHOLDERS, Redactor
from synpunkt.redaction.addresses import address_spans
from synpunkt.redaction.identity_numbers import identity_number_spans
from synpunkt.redaction.names import clause_word, stop_at_clause_words, tokenize
from synpunkt.redaction.patterns import pattern_spans
from synpunkt.redaction.vehicles import plate_spans


@pytest.fixture(scope="module")
def rules() -> Redactor:
    return Redactor(use_model=False)


# --- 1: "YY MM DD-NNNN" without a keyword ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Min son 51 09 23-4417 fick ingen plats i kön.", "Min son [PERSONNUMMER] fick ingen plats i kön."),
    ("Ansökan gäller min mor, 37 02 14-2290, som bor ensam.",
     "Ansökan gäller min mor, [PERSONNUMMER], som bor ensam."),
    ("Barnet (14 12 05-8812) har inte fått skolskjuts.", "Barnet ([PERSONNUMMER]) har inte fått skolskjuts."),
    ("Sökande 1961 07 22-5563 har väntat länge.", "Sökande [PERSONNUMMER] har väntat länge."),
    ("Min sambo 88 04 71-3390 har bara samordningsnummer.",
     "Min sambo [SAMORDNINGSNUMMER] har bara samordningsnummer."),
    ("Gäller 85 06 12-2384 och ingen annan.", "Gäller [PERSONNUMMER] och ingen annan."),  # right check digit too
])
def test_grouped_personnummer_without_a_keyword(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", [
    "Det kostade 12 05 30-40 kr i månaden.",  # an amount
    "Mötet 2024 05 12-13 juni var fullbokat.",  # dates
    "Dnr 85 06 12-2385 gäller bygglovet.",  # a case number with a wrong check digit
    "OCR 85 06 12-2385 är betald.",  # a payment reference with a wrong check digit
    "Öppet kl 10 30-1130 på lördagar.",
    "Ärende 2023 11 04-0012 är avslutat.",
])
def test_grouped_look_alikes_are_kept(rules, text):
    assert rules.redact(text).text == text


@pytest.mark.parametrize("text", ["Ring mig på 08 11 05-1234 i kväll.", "Ring växeln 08 12 34-5678 om ni undrar."])
def test_a_phone_number_in_date_groups_stays_a_phone_number(text):
    assert [s.kind for s in pattern_spans(text)] == ["telefon"]


def test_grouped_personnummer_is_no_account_number():
    text = "Min dotter 1977 11 03-9540 fick inte plats."
    assert [s.kind for s in identity_number_spans(text)] == ["personnummer"]
    assert [s.kind for s in pattern_spans(text)] == ["personnummer"]


# --- 2: car registration numbers ----------------------------------------------------------------------------------

def test_regnr_placeholder_is_defined_once():
    assert PLACEHOLDERS["regnr"] == "[REGNR]"


@pytest.mark.parametrize("text, expected", [
    ("Min bil (XKC 415) blev bortforslad utan varning.", "Min bil ([REGNR]) blev bortforslad utan varning."),
    ("Bilen med reg.nr TMB 37K står på gästparkeringen.", "Bilen med reg.nr [REGNR] står på gästparkeringen."),
    ("En granne med bil FRT902 kör för fort.", "En granne med bil [REGNR] kör för fort."),
    ("Regnr: pwz 118, en röd Volvo.", "Regnr: [REGNR], en röd Volvo."),  # lowercase after a keyword
    ("Registreringsnummer NHL-46C har fått böter.", "Registreringsnummer [REGNR] har fått böter."),
    ("Fordonet JIV 902 står kvar.", "Fordonet [REGNR] står kvar."),  # I after a keyword: still a plate
    ("Det står en skåpbil DKP 441 utanför porten.", "Det står en skåpbil [REGNR] utanför porten."),
    ("En vit DKP 441 har stått här i tre veckor.", "En vit [REGNR] har stått här i tre veckor."),  # strict shape
    ("Titta på GUN 28T som parkerar på trottoaren.", "Titta på [REGNR] som parkerar på trottoaren."),
])
def test_plates_are_redacted(rules, text, expected):
    red = rules.redact(text)
    assert red.text == expected and red.counts["regnr"] == 1


@pytest.mark.parametrize("text", [
    "Ring SOS 112 om det brinner.",
    "Beslut enligt LSS 123 och BUP 456.",
    "KPI 215 steg i år, SFI 123 är fullt.",
    "Dnr MBN 123 gäller bygglovet.",
    "Buss 150 går varje timme.",
    "RUM 214 ÄR KALLT OCH HUS 3 LÄCKER",  # a text in capitals: words, not plates
    "Vi har bil 2 gånger i veckan.",
    "Lösenordet ABC123XYZ fungerar inte.",
    "Artikel NPF 125 är slut.",
    "Min bil BMW 320 är gammal.",  # a model, not a plate
    "Vi väntar på IVQ 123.",  # I, V, Q: no Swedish plate without a vehicle word
    "Version ABC 12D3 är fel.",
    "Marknaden är enligt SBF 280 miljoner kronor.",  # a sum
    "Jag parkerade bilen vid 101 i garaget.",  # a common word after a vehicle word: no plate
    "Bilen kostade mig 150 000 kr.",  # part of a grouped number
    "Fordonet har 120 hk.",
])
def test_non_plates_are_kept(rules, text):
    assert plate_spans(text) == [] and "[REGNR]" not in rules.redact(text).text


# --- 3: account number before a capitalised word -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Hej, kontonr 6123-456 789 012 Min son har inte fått pengarna.",
     "Hej, kontonr [KONTONUMMER] Min son har inte fått pengarna."),
    ("Kontonummer 6123-456 789 012 År 2024 kom inget.", "Kontonummer [KONTONUMMER] År 2024 kom inget."),
])
def test_an_account_before_a_capitalised_word_is_redacted(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", ["Kontot var tomt i 45 min igår.", "Konto 1200 kr per månad."])
def test_units_after_a_number_still_say_it_is_no_account(rules, text):
    assert "[KONTONUMMER]" not in rules.redact(text).text


# --- 4: two-word street with a house letter --------------------------------------------------------------------

@pytest.mark.parametrize("text, street", [
    ("Jag bor på Norra Esplanaden 7C och lyset är trasigt.", "Norra Esplanaden 7C"),
    ("Skicka det till Västra Promenaden 14 B, tack.", "Västra Promenaden 14 B"),
    ("Adress: Lilla Torget 3, lgh 1102", "Lilla Torget 3, lgh 1102"),
])
def test_two_word_streets_with_a_house_letter(text, street):
    spans = address_spans(text)
    assert [text[s.start : s.end] for s in spans] == [street]


@pytest.mark.parametrize("text", ["Vid Torget 2 gånger om dagen", "Vid Torget 2 finns en kiosk.",
                                  "Receptionen på Stadshuset, Lilla Torget 4 var stängd.",  # the municipality's
                                  "Kommunhuset, Storgatan 8 har nya öppettider."])
def test_a_preposition_is_no_part_of_a_street(text):
    assert address_spans(text) == []


# --- 5: nickname at a sentence start, hyphenated surname written first ---------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Berra från hemtjänsten kom inte i tisdags.", "[NAMN] från hemtjänsten kom inte i tisdags."),
    ("Hej. Gittan på förskolan har varit fantastisk.", "Hej. [NAMN] på förskolan har varit fantastisk."),
    ("Tjoffe från hemtjänsten har slutat.", "[NAMN] från hemtjänsten har slutat."),  # no list: the context
    ("Undertecknad, Ben-Yousef, Maria Dnr 2024-1234 gäller.", "Undertecknad, [NAMN], [NAMN] Dnr 2024-1234 gäller."),
    ("Med vänlig hälsning El-Amin, Karin", "Med vänlig hälsning [NAMN], [NAMN]"),
    ("Hejsan. Undertecknad, Abu-Salem, Tove skrev detta.", "Hejsan. Undertecknad, [NAMN], [NAMN] skrev detta."),
])
def test_nicknames_and_hyphenated_surnames(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text", [
    "Bygglovet från kommunen kom i går.",
    "E-tjänsten, Anna sa att den fungerar.",  # a common hyphenated word before the comma
    "Hemtjänsten på Solgården är bra.",
])
def test_workplace_and_comma_rules_leave_words(rules, text):
    out = rules.redact(text).text
    assert out.split()[0] == text.split()[0]


# --- 6: a name or town span stops at the next sentence's first word ------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Mvh Åke Lindholm Allt fungerade till slut.", "Mvh [NAMN] Allt fungerade till slut."),
    ("Hälsningar Karin Hoppas på svar", "Hälsningar [NAMN] Hoppas på svar"),
    ("Vänliga hälsningar Maria Sundberg Mötet var dåligt.", "Vänliga hälsningar [NAMN] Mötet var dåligt."),
    ("Postadress Ågatan 3, 733 40 Sala Hoppas på svar.", "Postadress [ADRESS] Hoppas på svar."),
    ("Ny adress: Ekvägen 2, 241 30 Eslöv Hemtjänsten ska komma hit.",
     "Ny adress: [ADRESS] Hemtjänsten ska komma hit."),
])
def test_a_span_stops_at_a_new_sentence(rules, text, expected):
    assert rules.redact(text).text == expected


@pytest.mark.parametrize("text, expected", [
    ("Ekvägen 2, 194 30 Upplands Väsby", "[ADRESS]"),  # towns of two words stay whole
    ("Box 12, 463 30 Lilla Edet", "[ADRESS]"),
    ("Jag pratade med Anna Sommar igår.", "Jag pratade med [NAMN] igår."),  # a surname that is also a word
])
def test_two_word_towns_and_surnames_that_are_words_stay_whole(rules, text, expected):
    assert rules.redact(text).text == expected


def test_a_particle_keeps_the_surname_after_it():
    text = "Hjalmar von Essen svarar inte."
    words, offsets, _ = tokenize(text)
    flags = np.array([w in ("Hjalmar", "von", "Essen") for w in words])
    assert (stop_at_clause_words(text, words, offsets, flags) == flags).all()


def test_clause_word():
    assert clause_word("Allt") and clause_word("Hoppas") and clause_word("Receptionen")
    assert not clause_word("Lindholm") and not clause_word("Berg") and not clause_word("B") and not clause_word("allt")


# --- 7: the pipeline lock is 0600 ----------------------------------------------------------------------------------

def test_pipeline_lock_is_private(tmp_path, monkeypatch):
    from synpunkt.warehouse import HOLDER_FILE, LOCK_FILE, pipeline_lock

    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path))
    old = os.umask(0o022)
    try:
        stale = tmp_path / LOCK_FILE
        stale.touch()
        os.chmod(stale, 0o644)  # left by an older version
        with pipeline_lock(timeout=1, what="a test"):
            assert stat.S_IMODE(os.stat(tmp_path / LOCK_FILE).st_mode) == 0o600
            assert stat.S_IMODE(os.stat(tmp_path / HOLDER_FILE).st_mode) == 0o600
        stale.unlink()
        with pipeline_lock(timeout=1):
            assert stat.S_IMODE(os.stat(tmp_path / LOCK_FILE).st_mode) == 0o600
    finally:
        os.umask(old)

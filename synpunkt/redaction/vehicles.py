"""Car registration numbers (Swedish plates): three letters and two digits and a digit or a letter ("ABC 123",
"ABC 12D", "ABC123", "ABC-123").

A plate identifies its keeper (the vehicle register is public), so it is personal data like an address. It is
redacted

* after a vehicle word ("reg.nr", "regnr", "registreringsnummer", "reg nr", "bil", "bilen", "min bil",
  "fordon", "nummerplåt"...; no other number between), in any case, unless its letters are a known acronym;
* without one only in the strict shape of a plate: capitals from the letters Swedish plates use (never I, Q, V,
  Å, Ä, Ö; no O last), and not when the letters are a known acronym before a number ("SOS 112", "LSS 123",
  "BUP 123"), a common word ("RUM 214" in a text written in capitals) or follow a case or invoice word
  ("dnr MBN 123"), nor before a sum or unit ("SBF 280 miljoner kronor").
"""

from __future__ import annotations

import re

from synpunkt.redaction.lexicon import zipf
from synpunkt.redaction.spans import Span

_PLATE_RE = re.compile(
    r"(?<![\w\-/.])(?P<letters>[A-Za-z]{3})[ \u00a0-]?(?P<digits>\d{2})(?P<last>[0-9A-Za-z])(?![\w])(?![/.,:–-]\w)")
"""Any three letters, two digits and a digit or letter; the rules below decide."""
_STRICT_LETTERS = re.compile(r"[A-HJ-PR-UW-Z]{3}")
_STRICT_LAST = re.compile(r"[0-9A-HJ-NPR-UW-Z]")

_VEHICLE_WORD_RE = re.compile(
    r"(?i)(?<![\w])(?:reg(?:istrerings)?\.?\s?(?:nr|nummer|numret|nummret|skylt|skylten)|regnr|regnummer|regnumret|"
    r"registreringsnummer|registreringsnumret|registreringsskylt(?:en)?|nummerplåt(?:en)?|nummerskylt(?:en)?|"
    r"bilnummer|bilnumret|(?:last|hus|tjänste|grann)?bil(?:en|ens|ar|arna)?|fordon(?:et|ets)?|"
    r"moped(?:en)?|motorcykel(?:n)?|mc|släpvagn(?:en)?|taxi(?:n)?)\.?(?![\w])")
"""A word saying a vehicle or its plate follows."""
_VEHICLE_CONTEXT_CHARS = 30

KNOWN_ACRONYMS = frozenset("""
SOS LSS SFI BUP KPI SKR SKL SCB MSB IVO BRF HVB BVC MVC VVS RUT ROT LVU LVM HSL PBL VAB AKK SMS MMS GPS USB PDF
DVD SVT CSN AMS BUN VON KFN MBN SBN BMN GVN KSF KSA KSO UAN OFN MHN SHN TKN TFN MBR SON FHS SAS FYS NPF EKG MRT
CPU RAM HDD SSD TEL NUM ISO SIS SEK EUR USD NOK DKK GBP KWH MWH TWH GWH ETT TVA AVG MOM LON ARB LAS MBL
TVL HLR AKS UNG KOM RES BIB MAT EXP REF NRS FAX PIN PUK OCR MFL BLT NVB GYN GRU SOC IFO LSO AST PGA SFS
BMW DAF GTA KTH SLU LTU KBT ESS ABB SKF SEB SHB DNB JAK LRF HSB SBB MTR
""".split())
"""Acronyms written before a number that are no plates ("SOS 112", "BUP 123", "KFN 210"): never redacted."""

_CASE_BEFORE_RE = re.compile(
    r"(?i)(?<![\w])(?:dnr|diarienr|diarienummer|ärende|ärendet|ärendenr|ärendenummer|nr|nummer|ref|referens|"
    r"referensnummer|faktura|fakturanr|fakturanummer|ocr|order|ordernr|kundnr|kundnummer|rum|lokal|sal|linje|"
    r"buss|artikel|art|modell|version|paragraf|§)\.?:?\s?$")
"""A case, invoice or model word right before: the letters are a register code, not a plate ("dnr KFN 123")."""
COMMON_LETTERS_ZIPF = 4.0
"""Letters this frequent as a Swedish word ("RUM", "HUS", "DAG": a text in capitals) are no plate without a vehicle
word (acronyms such as "OFC" or "HMF" are rarer)."""
_UNIT_AFTER_RE = re.compile(
    r"\s?(?i:kr\b|kronor|sek\b|:-|%|procent|miljoner|miljarder|tusen|mkr|mdkr|st\b|stycken|km\b|meter|mil\b|ton\b)")
"""A sum or a measure after the digits: "SBF 280 miljoner kronor" is an organisation's figure, no plate."""
_GROUP_AFTER_RE = re.compile(r"[ \u00a0]\d")
"""Another digit group after: the digits are part of a larger number ("kostade mig 150 000 kr"), no plate."""
_DIGIT_RE = re.compile(r"\d")
_SENTENCE_END_RE = re.compile(r"[.!?]\s")


def _vehicle_word_before(text: str, start: int) -> bool:
    """A vehicle word in the characters before ``start``, with no digit and no sentence end between."""
    before = text[max(0, start - _VEHICLE_CONTEXT_CHARS) : start]
    ends = [m.end() for m in _VEHICLE_WORD_RE.finditer(before)]
    if not ends:
        return False
    between = before[max(ends) :]
    return not _DIGIT_RE.search(between) and not _SENTENCE_END_RE.search(between)


def plate_spans(text: str) -> list[Span]:
    """Spans of Swedish car registration numbers (see the module's docstring)."""
    out = []
    for m in _PLATE_RE.finditer(text):
        letters = m["letters"].upper()
        if letters in KNOWN_ACRONYMS or _UNIT_AFTER_RE.match(text, m.end()) or _GROUP_AFTER_RE.match(text, m.end()):
            continue
        if _vehicle_word_before(text, m.start()):
            if m["letters"].isupper() or zipf(letters) < COMMON_LETTERS_ZIPF:  # not "bilen vid 101", "har 120 hk"
                out.append(Span(m.start(), m.end(), "regnr"))
            continue
        if not (_STRICT_LETTERS.fullmatch(m["letters"]) and _STRICT_LAST.fullmatch(m["last"])):
            continue
        if zipf(letters) >= COMMON_LETTERS_ZIPF or _CASE_BEFORE_RE.search(text[max(0, m.start() - 20) : m.start()]):
            continue
        out.append(Span(m.start(), m.end(), "regnr"))
    return out

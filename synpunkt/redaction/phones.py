"""Phone numbers: Swedish and international, by the phonenumbers library and by hand-written shapes.

phonenumbers (Google's libphonenumber) finds numbers that are valid in the Swedish numbering plan in any common
format (070-123 45 67, 0701234567, +46 70 123 45 67, 0046 8 123 456 78, 031-12 34 56, (08) 123 456) and foreign
numbers written with their country code. The hand-written shapes add numbers outside the plan's known ranges
(a typo or a made-up number is still a number someone can ring). Both are filtered the same way: dates, time
ranges ("0800-1700", "08.00–17.00"), sums ("1 500 kr") and case or invoice numbers ("ordernr 0812345678") are no
phone numbers. A phone word just before the number ("tfn nr", "telefon nr", "TEL") wins over the case-number
guess, and so does a national number valid in the plan after a bare upper-case word ("OBS 031-12 34 56").
"""

from __future__ import annotations

import re

import phonenumbers

from synpunkt.redaction.number_context import (
    NUMBER_START,
    case_number_context,
    currency_follows,
    is_date_or_time_range,
    payment_reference_context,
)
from synpunkt.redaction.spans import Span

_S = r"(?:[ \u00a0]?[-–/][ \u00a0]?|[ \u00a0])"  # separators inside a phone number
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?:\+|00)[ ]?46{_S}?(?:\(0\){_S}?|0{_S}?)?[1-9](?:{_S}?\d){{6,8}}"  # +46 / 0046
    rf"|\+(?!46)[1-9]\d{{0,2}}{_S}?\d(?:{_S}?\d){{5,11}}"  # other countries
    + r")(?![\w])(?![-/.,–]?\d)"
    + "|" + NUMBER_START + r"(?:"
    rf"\(0\d{{1,3}}\){_S}?\d(?:{_S}?\d){{4,7}}"  # (08) 123 456
    rf"|0[1-9](?:{_S}?\d){{6,8}}"  # 08-123 45 67, 070-123 45 67, 0701234567
    r"|07\d\.\d{3}\.\d{2}\.\d{2}"  # 070.123.45.67
    + r")(?![\w])(?![-/.,–]?\d)"
)
_PHONE_BEFORE_RE = re.compile(
    r"(?i)(?<![\w])(?:tel|tfn|telefon|telefonnummer|telefonnumret|telefonnr|telnr|tfnnr|mobil|mobilnr|mobilnummer|"
    r"mobiltelefon|hemtelefon|jobbtelefon|direktnummer|direktnr|växel|växeln|ring|ringa|ringer|nås|sms|sms:a)"
    r"\.?:?(?:\s?(?:nr|nummer|numret|no)\.?:?)?(?:\s(?:mig|oss|henne|honom|dem|hen))?(?:\s(?:på|till|är|:))?\s?:?\s?$")
"""A phone word right before a number ("tfn nr ", "Ring mig på telefon nr ", "TEL ", "mobil: ")."""
_CASE_WORD_RE = re.compile(
    r"(?i)\b(?:dnr|diarienr|diarienummer|ärende|ärendet|ärendenr|ärendenummer|nr|referens|referensnummer|ref|"
    r"beslut|order|ordernr|ordernummer|kundnummer|kundnr|bokningsnummer|avtalsnummer)\.?:?\s?"
    r"(?-i:[A-ZÅÄÖ]{1,5}\s?)?$")
"""A case-number word before a number, also with an upper-case register letter code between ("dnr KS ")."""
_MIN_DIGITS = 7  # texts with fewer digits hold no phone number: the library is not asked
_DIGIT_RE = re.compile(r"\d")


def _keep(text: str, start: int, end: int) -> bool:
    """False for a date, time range, sum, or a case number not written as a phone number."""
    if is_date_or_time_range(text[start:end]) or currency_follows(text, end):
        return False
    if payment_reference_context(text, start):
        return False
    number = text[start:end]
    if not case_number_context(text, start) or number.startswith(("+", "(", "07")):
        return True
    before = text[max(0, start - 40) : start]
    if _PHONE_BEFORE_RE.search(before):
        return True  # "tfn nr 08-123 456 78", "TEL 031-123 45 67"
    # only a bare upper-case word before ("OBS 031-12 34 56"): a national number the plan accepts is a phone number
    return not _CASE_WORD_RE.search(before[-25:]) and number.startswith("0") and _valid_national(number)


def _valid_national(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, "SE"))
    except phonenumbers.NumberParseException:
        return False


def _library_spans(text: str) -> list[tuple[int, int]]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.VALID)
    return [(m.start, m.end) for m in matcher]


def _rule_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in PHONE_RE.finditer(text)]


def phone_spans(text: str) -> list[Span]:
    """Spans of phone numbers: the library's and the shapes', the longer one where they overlap."""
    if len(_DIGIT_RE.findall(text)) < _MIN_DIGITS:
        return []
    candidates = {(s, e) for s, e in _library_spans(text) + _rule_spans(text) if _keep(text, s, e)}
    chosen: list[tuple[int, int]] = []
    for s, e in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if not any(s < ce and cs < e for cs, ce in chosen):
            chosen.append((s, e))
    return [Span(s, e, "telefon") for s, e in sorted(chosen)]

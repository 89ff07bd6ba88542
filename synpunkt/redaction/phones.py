"""Phone numbers: Swedish and international, by the phonenumbers library and by hand-written shapes.

phonenumbers (Google's libphonenumber) finds numbers that are valid in the Swedish numbering plan in any common
format (070-123 45 67, 0701234567, +46 70 123 45 67, 0046 8 123 456 78, 031-12 34 56, (08) 123 456) and foreign
numbers written with their country code. The hand-written shapes add numbers outside the plan's known ranges
(a typo or a made-up number is still a number someone can ring). Both are filtered the same way: dates, time
ranges ("0800-1700", "08.00–17.00"), sums ("1 500 kr") and case or invoice numbers ("ordernr 0812345678") are no
phone numbers.
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
_MIN_DIGITS = 7  # texts with fewer digits hold no phone number: the library is not asked
_DIGIT_RE = re.compile(r"\d")


def _keep(text: str, start: int, end: int) -> bool:
    """False for a date, time range, sum, or a case number not written as a phone number."""
    if is_date_or_time_range(text[start:end]) or currency_follows(text, end):
        return False
    if payment_reference_context(text, start):
        return False
    return not case_number_context(text, start) or text[start:end].startswith(("+", "(", "07"))


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

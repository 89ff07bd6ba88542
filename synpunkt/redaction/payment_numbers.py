"""Card numbers (Luhn-checked, or after a card word), IBANs (checked), bank accounts, bankgiro and plusgiro numbers.

python-stdnum checks the Luhn digit of card numbers and the check digits of IBANs. After a card word
("kortnummer", "kortnr", "kort nr", "bankkort", "kreditkortet") a number of 13-19 digits is a card number whatever
its check digit (people mistype them, and a mistyped card number is still one). Bank accounts are found after
a keyword ("kontonummer", "bankgiro", "pg") or in the clearing-number shape ("8327-9, 123 456 789-0").
"""

from __future__ import annotations

import re

from stdnum import iban, luhn

from synpunkt.redaction.number_context import NUMBER_START, case_number_context, digits, number_ok
from synpunkt.redaction.spans import Span

_CARD_RE = re.compile(
    NUMBER_START + r"(?:\d{4}(?P<s>[ -])\d{4}(?P=s)\d{4}(?P=s)\d{1,4}(?:(?P=s)\d{1,3})?"
    r"|\d{4}(?P<s2>[ -])\d{6}(?P=s2)\d{4,5}"
    r"|\d{13,19})" + r"(?![\w])(?![ \-/.,–]\d)"
)

_CARD_KEYWORD_RE = re.compile(
    r"(?i)(?<![\w])(?:(?:bank|kredit|betal|konto|debit|debet|visa|master|mastercard)-?kort(?:et|s)?"
    r"(?:nummer|numret|nr)?|kort(?:et|ets|s)?[ -]?(?:nummer|numret|nr))(?![\w])"
    r"\.?[ \t:=]*(?:(?:nr|nummer|numret|no|är|var|mitt|med|slutar|på)\.?[ \t:=]+){0,3}"
    r"(?P<num>\d(?:[ \-–]?\d){12,18})(?!\d)(?![ \-–]\d)"
)
"""A card word ("kortnummer", "kortnr", "kort nr", "bankkort", "kreditkortet", "betalkort nummer") and a number of
13-19 digits, grouped or not, at most three short words between ("Kortnumret är ..."). "kort" or "kortet" alone is
no card word here (a number after it needs its right check digit, as without a keyword)."""

_IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])")

_ACCOUNT_KEYWORD_RE = re.compile(
    r"(?i)(?<![\w])(?:bank)?(?:konto(?:nummer|numret|nr|t)?|kontonr|kto|clearing(?:nummer|nr)?|"
    r"(?:bank|plus|post)giro(?:nummer|numret|nr|t)?|bg|pg|giro)(?![\w])"
    r"\.?[ \t:=]*(?:(?:nr|nummer|numret|är|till|mitt|min|vårt|vår|hos|på|i)\.?[ \t:=]+){0,3}"
    r"(?P<num>\d(?:\d|[ \-–](?=\d)|,[ ]?(?=\d))*)"
)

_CLEARING_RE = re.compile(
    NUMBER_START + r"(?P<clr>[1-9]\d{3}(?:-\d)?)(?:,[ ]?|[ ]?[-–][ ]?|[ ])(?P<acc>\d(?:[ -]?\d){5,11})"
    r"(?![\w])(?![ \-/.,–]?\d)"
)
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def card_spans(text: str) -> list[Span]:
    """Card numbers of 13-19 digits whose Luhn digit is right (not all one digit), not after "OCR", "faktura"...,
    and any number of 13-19 digits after a card word (``_CARD_KEYWORD_RE``).
    A card number never starts with 0 (its first digit names the card network): "0046735987490" is a phone number
    dialled from abroad, left to the phone rule."""
    out = []
    for m in _CARD_RE.finditer(text):
        d = digits(m.group())
        if (13 <= len(d) <= 19 and not d.startswith("0") and luhn.is_valid(d) and len(set(d)) > 1
                and not case_number_context(text, m.start())):
            out.append(Span(m.start(), m.end(), "kortnummer"))
    for m in _CARD_KEYWORD_RE.finditer(text):
        start, end = m.span("num")
        if not any(sp.start < end and start < sp.end for sp in out) and number_ok(text, start, end):
            out.append(Span(start, end, "kortnummer"))
    return sorted(out, key=lambda sp: sp.start)


def account_spans(text: str) -> list[Span]:
    """IBANs, numbers after an account or giro keyword, and clearing number + account number."""
    out = [Span(m.start(), m.end(), "kontonummer") for m in _IBAN_RE.finditer(text) if iban.is_valid(m.group())]
    for m in _ACCOUNT_KEYWORD_RE.finditer(text):
        num = m["num"].rstrip(" ,-–")
        start, end = m.start("num"), m.start("num") + len(num)
        if 4 <= len(digits(num)) <= 34 and number_ok(text, start, end) and not _ISO_DATE_RE.search(num):
            out.append(Span(start, end, "kontonummer"))
    for m in _CLEARING_RE.finditer(text):
        clr, acc = m["clr"], digits(m["acc"])
        lo = 6 if "-" in clr else 7
        if not lo <= len(acc) <= 10 or _ISO_DATE_RE.search(m.group()):
            continue
        if case_number_context(text, m.start()) or not number_ok(text, m.start(), m.end()):
            continue
        out.append(Span(m.start(), m.end(), "kontonummer"))
    return out

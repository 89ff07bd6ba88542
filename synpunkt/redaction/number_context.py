"""What the characters around a number say it is: a date, a time range, a sum, a case or invoice number.

Shared by the rules for personnummer, phone and account numbers so that each of them leaves the same
non-personal numbers alone.
"""

from __future__ import annotations

import re

NUMBER_START = r"(?<![\w+\-/.,–])(?<!\d )"
"""Regex lookbehinds: a number starts a run of digits (not after a word character, '+', '-', '/', '.', ',' or a
"digit "). Each pattern ends with lookaheads saying the run of digits ends there too."""

_DATE_LIKE_RE = re.compile(
    r"^(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{2}|\d{4})|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{2}[-/]\d{2})$"
)
_TIME_RANGE_RE = re.compile(r"^([01]\d|2[0-3])[.:]?([0-5]\d)\s?[-–]\s?([01]\d|2[0-3])[.:]?([0-5]\d)$")
_AMOUNT_AFTER_RE = re.compile(
    r"^\s?(?:(?i:kr\b|kronor|sek\b|procent|stycken|meter|minuter)|:-|%|(?:st|ST|år|ÅR|km|KM|m|M|min|MIN)\b)")
"""A unit after a number. The short ones only in lowercase or capitals: a capitalised "Min", "St", "År" starts the
next sentence ("kontonr 6123-456 789 012 Min son ...": the number is no sum of minutes)."""
_CASE_PREFIX_RE = re.compile(
    r"(?:\b[A-ZÅÄÖ]{1,5}|(?i:\b(?:dnr|diarienr|diarienummer|ärende|ärendet|ärendenr|ärendenummer|nr|referens|"
    r"referensnummer|ref|beslut|faktura|fakturanr|fakturanummer|ocr|ocr-nummer|order|ordernr|ordernummer|"
    r"kundnummer|kundnr|bokningsnummer|avtalsnummer)\.?:?))\s?$")
_BANK_NAMES = re.compile(r"(?:SEB|ICA|SBAB|LF|SHB|DNB|BNP|JAK)\s?$")


def digits(s: str) -> str:
    """The digits of ``s`` only."""
    return re.sub(r"\D", "", s)


_PAYMENT_REFERENCE_RE = re.compile(
    r"(?i)\b(?:ocr|ocr-nummer|ocr-nr|faktura|fakturanr|fakturanummer|kundnummer|kundnr|ordernr|ordernummer|"
    r"referensnummer|referens|ref|avtalsnummer|bokningsnummer)\.?:?\s?$")


def case_number_context(text: str, start: int) -> bool:
    """True where the words before a number mark it as a case, invoice or reference number."""
    before = text[max(0, start - 15) : start]
    return bool(_CASE_PREFIX_RE.search(before)) and not _BANK_NAMES.search(before)


def payment_reference_context(text: str, start: int) -> bool:
    """True right after "OCR", "fakturanummer", "kundnummer", "referens": such numbers carry check digits of their
    own, so a right Luhn digit says nothing about a personnummer or card there."""
    return bool(_PAYMENT_REFERENCE_RE.search(text[max(0, start - 18) : start]))


def is_date_or_time_range(s: str) -> bool:
    """"2024-03-15", "15/3", "01-02-2024", "08.00-17.00", "0800-1700"."""
    s = s.strip()
    return bool(_DATE_LIKE_RE.match(s) or _TIME_RANGE_RE.match(s))


def amount_follows(text: str, end: int) -> bool:
    """True where a unit follows the number: "kr", "%", "st", "år", "km", "minuter"."""
    return bool(_AMOUNT_AFTER_RE.match(text[end : end + 12]))


_CURRENCY_AFTER_RE = re.compile(r"^\s?(?:kr\b|kronor|sek\b|:-|%|procent)", re.IGNORECASE)


def currency_follows(text: str, end: int) -> bool:
    """True where a currency or percent sign follows the number ("1 500 000 kr", "45 %")."""
    return bool(_CURRENCY_AFTER_RE.match(text[end : end + 10]))


def number_ok(text: str, start: int, end: int) -> bool:
    """False for matches that are really dates, time ranges or sums."""
    return not is_date_or_time_range(text[start:end]) and not amount_follows(text, end)

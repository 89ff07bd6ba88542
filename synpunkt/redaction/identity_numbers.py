"""Personnummer and samordningsnummer: found by shape, date and context, whatever the check digit.

A number of the shape ``[CC]YYMMDD[-+ ]NNNN`` (10 or 12 digits; "-", "+", "–", a space or nothing between the
parts) is redacted when

* a word before it says it is one ("personnummer", "pnr", "pers.nr", "födelsenummer", "samordningsnummer",
  "mitt nummer är", with common misspellings), whatever its date and check digit; or
* its first part is a valid date (day + 60 for a samordningsnummer), whatever its check digit, unless the words
  before it mark a case, invoice or reference number ("ärende", "dnr", "faktura", "OCR"), where the check digit
  must be right, or it is a phone number written without separators (0701234567).

Right after an explicit keyword, a number that has lost or gained a digit ("personnummer 850312-239") is redacted
too. python-stdnum checks the check digit (Luhn) and the dates come from ``datetime``.
"""

from __future__ import annotations

import datetime
import re

from stdnum import luhn

from synpunkt.redaction.number_context import NUMBER_START, case_number_context
from synpunkt.redaction.spans import Span

PNR_RE = re.compile(
    NUMBER_START + r"(?P<cc>1[89]|20)?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>[ \u00a0]?[-+–][ \u00a0]?|[ \u00a0])?(?P<tail>\d{4})" + r"(?![\w])(?![-/.,–]\d)(?! \d)"
)

_SAMO_WORD = r"samordnings(?:num{1,2}e?r(?:et)?|nr)"
_PNR_WORD = (
    r"person{1,2}um{1,2}e?r(?:et)?|person\s?nr|pers\.?\s?(?:nr|num{1,2}er)|p-?nr|prsnr|personbeteckning|"
    r"födelsenum{1,2}er(?:et)?|födelsenr|fodelsenum{1,2}er|social security number|ssn|"
    r"personal (?:identity )?number|id-?num{1,2}er|" + _SAMO_WORD
)
_KEYWORD_RE = re.compile(rf"(?i)(?<![\w])(?:{_PNR_WORD})(?![\w])")
_WEAK_KEYWORD_RE = re.compile(r"(?i)(?<![\w])(?:mitt|mina?) (?:nummer|nr)(?![\w])|(?<![\w])född(?![\w])")
_SAMO_KEYWORD_RE = re.compile(rf"(?i){_SAMO_WORD}")
_CONTEXT_CHARS = 40

_AFTER_KEYWORD_RE = re.compile(
    rf"(?i)(?<![\w])(?:{_PNR_WORD})(?![\w])\.?[ \t]*(?::|=|är|ar|nr|-)?[ \t]*(?:(?:är|ar)[ \t]+)?"
    r"(?P<num>\d{5,8}(?:[ \u00a0]?[-+–][ \u00a0]?|[ \u00a0])\d{3,5}|\d{9,13})(?![\w])(?![-/.,–]\d)"
)
"""A number right after an explicit keyword, with a digit too few or too many ("personnummer 850312-239")."""


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def birth_date_kind(cc: str | None, yy: str, mm: str, dd: str) -> str | None:
    """"personnummer" or "samordningsnummer" where YYMMDD (day + 60 for the latter) is a real date, else None.

    Without a century any year is accepted (2000 is a leap year, so 29 February always passes); with one, the
    date must not lie in the future.
    """
    day = int(dd)
    kind = "samordningsnummer" if day > 60 else "personnummer"
    day = day - 60 if day > 60 else day
    year = int(cc + yy) if cc else 2000 + int(yy)
    born = _date(year, int(mm), day)
    if born is None or (cc and born > datetime.date.today()):
        return None
    return kind


def keyword_before(text: str, start: int) -> str | None:
    """"strong" for an explicit keyword in the words before ``start``, "weak" for "mitt nummer"/"född", else None."""
    before = text[max(0, start - _CONTEXT_CHARS) : start]
    if _KEYWORD_RE.search(before):
        return "strong"
    if _WEAK_KEYWORD_RE.search(before):
        return "weak"
    return None


def _samordning_said(text: str, start: int) -> bool:
    return bool(_SAMO_KEYWORD_RE.search(text[max(0, start - _CONTEXT_CHARS) : start]))


def _decide(text: str, m: re.Match) -> str | None:
    """The kind of an identity-number-shaped match, or None to leave it (to other rules)."""
    cc, sep = m["cc"], (m["sep"] or "")
    ten = m["yy"] + m["mm"] + m["dd"] + m["tail"]
    kind = birth_date_kind(cc, m["yy"], m["mm"], m["dd"])
    context = keyword_before(text, m.start())
    check_ok = luhn.is_valid(ten)
    by_day = "samordningsnummer" if int(m["dd"]) > 60 else "personnummer"
    if context == "strong":
        return "samordningsnummer" if _samordning_said(text, m.start()) else by_day
    if cc is None and m["yy"].startswith("0") and (not sep.strip() or not check_ok):
        return None  # 0701234567 or 070312-3456 (check digit wrong): the phone rule decides
    if kind is None:
        return by_day if context == "weak" else None
    if case_number_context(text, m.start()) and not context:
        if not check_ok or (sep and not sep.strip() and cc is None):
            return None  # "ärende 240315-1234", "dnr 850312 1234": a case number unless the check digit says not
    return kind


def identity_number_spans(text: str) -> list[Span]:
    """Spans of personnummer and samordningsnummer in ``text``."""
    out = [Span(m.start(), m.end(), kind) for m in PNR_RE.finditer(text) if (kind := _decide(text, m))]
    for m in _AFTER_KEYWORD_RE.finditer(text):
        start, end = m.start("num"), m.end("num")
        if any(s.start < end and start < s.end for s in out):
            continue
        kind = "samordningsnummer" if _samordning_said(text, end) else "personnummer"
        out.append(Span(start, end, kind))
    return sorted(out, key=lambda s: s.start)

"""Personnummer and samordningsnummer: found by shape, date and context, whatever the check digit.

A number of the shape ``[CC]YYMMDD[-+ ]NNNN`` (10 or 12 digits; "-", "+", "–", a space or nothing between the
parts) is redacted when

* a keyword before it says it is one ("personnummer", "pnr", "P nr", "pers.nr", "födelsenummer",
  "samordningsnummer", "sam.nr", misspelt too: "personummer", "preson nr"), whatever its date and check digit;
* its first part is a valid date (day + 60 for a samordningsnummer), whatever its check digit, unless it follows
  a payment reference ("OCR", "fakturanummer": never) or a case number ("ärende", "dnr": only with a right check
  digit), or reads as a Swedish phone number written together (0701234567, or "ring 070312-3456");
* "mitt nummer är" or "född" comes before it and it is no phone number.

After "referens", "ref", "kundnummer", "OCR", "faktura" (a reference or payment number) it is redacted when its
date is valid and its check digit right: "Referens" is where people are asked to write their personnummer, and a
reference number that passes as one is taken for one (privacy before a false alarm).

Without a keyword, a number whose date is written in groups, "YY MM DD-NNNN" ("85 06 12-2384", "1985 06 12-2384"),
is redacted when its date is valid, whatever its check digit, with the same guards (payment and case numbers, a
unit after it, an account word before it, a phone number after a phone word).

After a keyword, a number with a digit too few or too many ("personnummer 850312-239") is redacted too, and so is
one whose date is written in groups ("85 06 12-2384", "85-06-12-2384", "19 850612-2384"). A keyword
with another number between it and this one says nothing about this one. python-stdnum checks the check digit
(Luhn), phonenumbers whether the digits make a phone number, and the dates come from ``datetime``.
"""

from __future__ import annotations

import datetime
import re

import phonenumbers
from stdnum import luhn

from synpunkt.redaction.number_context import (
    NUMBER_START,
    amount_follows,
    case_number_context,
    digits,
    payment_reference_context,
)
from synpunkt.redaction.spans import PLACEHOLDER_RE, Span

PNR_RE = re.compile(
    NUMBER_START + r"(?P<cc>1[89]|20)?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>[ \u00a0]?(?P<dash>[-+–])[ \u00a0]?|[ \u00a0])?(?P<tail>\d{4})"
    r"(?![\w])(?![-/.,–]\d)(?(dash)|(?! \d))"
)
"""[CC]YYMMDD[-+ ]NNNN; without a dash it must not run on into more digits ("850312 2398 45")."""

_SAMO_WORD = r"samordnings(?:num{1,2}e?r(?:et)?|nr)|samordn\.?\s?nr|sam(?:\.\s?|\s)?nr"
_PNR_WORD = (
    r"person{1,2}um{1,2}e?r(?:et)?|person\s?nr|pers\.?\s?(?:nr|num{1,2}er)|p(?:-|\.\s?|\s)?nr|prsnr|personbeteckning|"
    r"födelsenum{1,2}er(?:et)?|födelsenr|fodelsenum{1,2}er|social security number|ssn|"
    r"personal (?:identity )?number|id-?num{1,2}er|" + _SAMO_WORD
)
_KEYWORD_RE = re.compile(rf"(?i)(?<![\w\[])(?:{_PNR_WORD})(?![\w\]])")
_WEAK_KEYWORD_RE = re.compile(r"(?i)(?<![\w])(?:mitt|mina?) (?:nummer|nr)(?![\w])|(?<![\w])född(?![\w])")
_SAMO_KEYWORD_RE = re.compile(rf"(?i){_SAMO_WORD}")
_CONTEXT_CHARS = 40
_PHONE_WORD_RE = re.compile(r"(?i)(?<![\w])(?:ring|ringa|tel|telefon|tfn|mobil|mobilnr|sms|sms:a|nås)(?![\w])")
_DIGIT_RE = re.compile(r"\d")

_LOOSE_RE = re.compile(
    NUMBER_START + r"\d{5,8}(?:[ \u00a0]?[-+–][ \u00a0]?|[ \u00a0])\d{3,5}(?![\w])(?![-/.,–]\d)|"
    + NUMBER_START + r"\d{9,13}(?![\w])(?![-/.,–]\d)"
)
"""A number after a keyword with a digit too few or too many ("personnummer 850312-239")."""

_GROUPED_RE = re.compile(NUMBER_START + r"\d+(?:(?:[ \u00a0]?[-+–.][ \u00a0]?|[ \u00a0])\d+)+(?![\w])")
"""Digits in groups ("85 06 12-2384", "19 850612-2384", "85-06-12-2384"); cut to a personnummer by _grouped_end."""
_GROUP_RE = re.compile(r"\d+")

_BARE_GROUPED_RE = re.compile(
    NUMBER_START + r"(?:(?P<cc>1[89]|20)[ \u00a0]?)?(?P<yy>\d{2})[ \u00a0](?P<mm>\d{2})[ \u00a0](?P<dd>\d{2})"
    r"[ \u00a0]?[-+–][ \u00a0]?(?P<tail>\d{4})(?![\w])(?![-/.,–]\d)(?![ \u00a0]\d)"
)
"""A personnummer with its date in groups and no keyword: "85 06 12-2384", "1985 06 12-2384" (YY MM DD-NNNN)."""
_ACCOUNT_WORD_BEFORE_RE = re.compile(
    r"(?i)(?<![\w])(?:bank)?(?:konto\w*|kto|clearing\w*|(?:bank|plus|post)?giro\w*|bg|pg)\W{0,4}"
    r"(?:(?:nr|nummer|är|till|mitt|min)\W{1,3}){0,2}$")

_FUZZY_KEYWORDS = ("personnummer", "personnumret", "personnr", "persnr", "födelsenummer", "samordningsnummer",
                   "samordningsnr")
_NOT_KEYWORDS = frozenset({"personer", "personal", "personen", "personens", "personalen", "persons"})
_WORD_RE = re.compile(r"[^\W\d_]+")


def _edit_distance(a: str, b: str) -> int:
    """Edit distance with insertions, deletions, substitutions and swaps of neighbours (optimal string alignment)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def fuzzy_keyword(word: str) -> bool:
    """A misspelt identity-number keyword: "persnonumer", "perrsnr" (a word, or two run together)."""
    w = word.lower()
    if len(w) < 6 or w in _NOT_KEYWORDS:
        return False
    return any(abs(len(w) - len(k)) <= 2 and _edit_distance(w, k) <= (1 if len(k) <= 8 else 2)
               for k in _FUZZY_KEYWORDS)


def _last_keyword_end(before: str) -> int | None:
    """Where the last (possibly misspelt) identity-number keyword in ``before`` ends."""
    ends = [m.end() for m in _KEYWORD_RE.finditer(before)]
    words = list(_WORD_RE.finditer(before))
    for k, m in enumerate(words):
        pair = m.group() + words[k + 1].group() if k + 1 < len(words) else ""
        if fuzzy_keyword(m.group()):
            ends.append(m.end())
        elif pair and before[m.end() : words[k + 1].start()].strip(" .") == "" and fuzzy_keyword(pair):
            ends.append(words[k + 1].end())  # "perrs nr"
    return max(ends) if ends else None


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
    """"strong" for an identity-number keyword (misspelt too) in the words before ``start``, "weak" for "mitt
    nummer"/"född", else None (a keyword with another number between it and ``start`` says nothing about it)."""
    before = text[max(0, start - _CONTEXT_CHARS - 20) : start]
    before = PLACEHOLDER_RE.sub(lambda m: "0" * len(m.group()), before)[-_CONTEXT_CHARS:]  # as a number
    weak = [m.end() for m in _WEAK_KEYWORD_RE.finditer(before)]
    for strength, end in (("strong", _last_keyword_end(before)), ("weak", max(weak) if weak else None)):
        if end is not None and not _DIGIT_RE.search(before[end:]):
            return strength
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
    if cc is None and m["yy"].startswith("0") and _phone_like(m.group()) and (
            not sep.strip() or (not check_ok and _phone_word_before(text, m))):
        return None  # 0701234567, or "ring 070312-3456" with a wrong check digit: the phone rule decides
    if kind is None:
        return by_day if context == "weak" else None
    if payment_reference_context(text, m.start()) and not context:
        # "OCR 0718742380": its own check digit, not a personnummer's; one that passes as a personnummer (a real
        # date of birth and the right check digit) is taken for one ("Referens: 850612-2384")
        return kind if check_ok and _plausible_birth(cc, m["yy"]) else None
    if case_number_context(text, m.start()) and not context:
        if not check_ok or (sep and not sep.strip() and cc is None):
            return None  # "ärende 240315-1234", "dnr 850312 1234": a case number unless the check digit says not
    return kind


def _plausible_birth(cc: str | None, yy: str) -> bool:
    """A year of birth someone alive may have: any two-digit year, or a century year after 1890."""
    return cc is None or int(cc + yy) > 1890


def _grouped_end(text: str, m: re.Match) -> int | None:
    """Where a grouped number after a keyword ends as a personnummer (10 or 12 digits, or 9-13 in all), or None.

    The groups are taken until 10 digits (12 where it starts with a century: "19 85 06 12 2384"); digits after
    them ("85 06 12-2384 2024") are left.
    """
    groups = list(_GROUP_RE.finditer(m.group()))
    total = sum(len(g.group()) for g in groups)
    if 9 <= total <= 13:
        return m.end()
    count = 0
    want = 12 if m.group()[:2] in ("18", "19", "20") else 10
    for g in groups:
        count += len(g.group())
        if count == want or (count > 10 and want == 10):
            return m.start() + g.end() if count <= 13 else None
    return None


def _grouped_spans(text: str, taken: list[Span]) -> list[Span]:
    """Numbers written in groups after an identity-number keyword (or "mitt nummer"/"född" with a real date of birth
    and either the right check digit or digits that make no phone number)."""
    out = []
    for m in _GROUPED_RE.finditer(text):
        if any(s.start < m.end() and m.start() < s.end for s in taken):
            continue
        context = keyword_before(text, m.start())
        end = _grouped_end(text, m) if context else None
        if end is None:
            continue
        ds = digits(text[m.start() : end])
        ten = ds[-10:]
        if context == "weak" and not (len(ds) in (10, 12) and not ds.startswith("0")
                                      and (luhn.is_valid(ten) or not _phone_like(ds))
                                      and birth_date_kind(ds[:-10] or None, ten[:2], ten[2:4], ten[4:6])):
            continue  # after "mitt nummer"/"född": a real date of birth, and no phone number unless it checks
        kind = "samordningsnummer" if _samordning_said(text, m.start()) or (
            len(ds) >= 10 and ten[4:6].isdigit() and int(ten[4:6]) > 60) else "personnummer"
        out.append(Span(m.start(), end, kind))
    return out


def _bare_grouped_spans(text: str, taken: list[Span]) -> list[Span]:
    """Personnummer written "YY MM DD-NNNN" (or "[CC]YY MM DD-NNNN") without a keyword: redacted when the date is
    real (day + 60 for a samordningsnummer), whatever the check digit, with the guards of the ungrouped shape: after
    "OCR", "faktura" or a case number only with a right check digit; not before a unit ("kr", "%"); not after an
    account word (the account rule takes it); not a number in the phone plan after a phone word."""
    out = []
    for m in _BARE_GROUPED_RE.finditer(text):
        if any(s.start < m.end() and m.start() < s.end for s in taken):
            continue
        kind = birth_date_kind(m["cc"], m["yy"], m["mm"], m["dd"])
        if kind is None or amount_follows(text, m.end()):
            continue
        if _ACCOUNT_WORD_BEFORE_RE.search(text[max(0, m.start() - 30) : m.start()]):
            continue
        check_ok = luhn.is_valid(m["yy"] + m["mm"] + m["dd"] + m["tail"])
        if (payment_reference_context(text, m.start()) or case_number_context(text, m.start())) and not (
                check_ok and _plausible_birth(m["cc"], m["yy"])):
            continue
        if m["cc"] is None and m["yy"].startswith("0") and _phone_like(m.group()) and _phone_word_before(text, m):
            continue
        out.append(Span(m.start(), m.end(), kind))
    return out


def _phone_like(number: str) -> bool:
    """A valid Swedish phone number when read as one (0701234567 is; 0008096265 is not)."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits(number), "SE"))
    except phonenumbers.NumberParseException:
        return False


def _phone_word_before(text: str, m: re.Match) -> bool:
    return bool(_PHONE_WORD_RE.search(text[max(0, m.start() - 20) : m.start()]))


def identity_number_spans(text: str) -> list[Span]:
    """Spans of personnummer and samordningsnummer in ``text``."""
    out: list[Span] = []
    masked = text
    while True:  # again with the numbers found masked: "19610115-6260 1109874212" holds two
        new = [Span(m.start(), m.end(), kind) for m in PNR_RE.finditer(masked) if (kind := _decide(text, m))]
        new = [s for s in new if not any(s.start < o.end and o.start < s.end for o in out)]
        if not new:
            break
        out += new
        for s in new:
            masked = masked[: s.start] + "#" * (s.end - s.start) + masked[s.end :]
    for m in _LOOSE_RE.finditer(text):
        if any(s.start < m.end() and m.start() < s.end for s in out):
            continue
        context = keyword_before(text, m.start())
        if context == "strong" or (context == "weak" and not m.group().startswith("0")):
            kind = "samordningsnummer" if _samordning_said(text, m.start()) else "personnummer"
            out.append(Span(m.start(), m.end(), kind))
    out += _grouped_spans(text, out)
    out += _bare_grouped_spans(text, out)
    return sorted(out, key=lambda s: s.start)

"""Phone numbers: Swedish and international, by the phonenumbers library and by hand-written shapes.

phonenumbers (Google's libphonenumber) finds numbers that are valid in the Swedish numbering plan in any common
format (070-123 45 67, 0701234567, +46 70 123 45 67, 0046 8 123 456 78, 031-12 34 56, (08) 123 456) and foreign
numbers written with their country code. The hand-written shapes add numbers outside the plan's known ranges
(a typo or a made-up number is still a number someone can ring). Both are filtered the same way: dates, time
ranges ("0800-1700", "08.00–17.00"), sums ("1 500 kr") and case or invoice numbers ("ordernr 0812345678") are no
phone numbers. A phone word just before the number ("tfn nr", "telefon nr", "TEL") wins over the case-number
guess, and so does a national number valid in the plan after a bare upper-case word ("OBS 031-12 34 56").

Numbers spelled in words ("noll sju tre, fyra fem sex, sju åtta, nio noll") are phone numbers when they are a run
of at least seven bare digit words, or five after a phone word ("nummer", "ring mig på", "tel"); after a phone
word a run may also mix digit words, tens read as one word ("fyrtiofem") and digit groups ("noll 72 och sedan
789 63 67"), up to 12 digits. Counting and amounts stay: "två eller tre gånger", "fem sex veckor", "tre tusen fem
hundra kronor" (a run is broken by any other word, and "hundra", "tusen" are no digit words).
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


_DIGIT_WORDS = {"noll": 0, "nolla": 0, "ett": 1, "en": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6,
                "sju": 7, "åtta": 8, "nio": 9}
"""Digit words as a phone number is read out ("nolla" too), and their digits."""
_DATE_AT_RE = re.compile(r"(?:19|20)\d\d-\d\d?-\d\d?(?!\d)|\d{1,2}/\d{1,2}(?!\d)")
"""A date starting at a digit group: the end of a spoken number ("Nås på noll sju noll, 2024-03-15")."""
_TENS_WORD_RE = re.compile(
    r"(?:tio|elva|tolv|tretton|fjorton|femton|sexton|sjutton|arton|nitton|"
    r"(?:tjugo|tjugi|trettio|tretti|fyrtio|förti|femtio|femti|sextio|sexti|"
    r"sjuttio|sjutti|åttio|åtti|nittio|nitti)"
    r"(?:ett|en|två|tre|fyra|fem|sex|sju|åtta|nio)?)")
"""Two digits read as one word ("fyrtiofem", "sjutti"): part of a spoken number only after a phone word and three
bare digit words ("noll sju noll, ett två tre, fyrtiofem sextiosju")."""
_SPOKEN_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_SPOKEN_FILLERS = frozenset({"och", "sedan", "sen", "så"})
"""Words read between the parts of a spoken number ("noll 72 och sedan 789 63 67")."""
_SPOKEN_SEPARATORS = frozenset({",", "-", "–", "/"})
_SPOKEN_PHONE_WORD_RE = re.compile(
    r"(?i)(?<![\w])(?:nummer|numret|nr|tel|tfn|telefon\w*|mobil\w*|hemnummer|ring|ringa|ringer|nå|nås|når|"
    r"sms|sms:a)(?![\w])[^.!?\n\d]{0,25}$")
"""A phone word before a spoken number, in the same sentence ("Mitt nummer är ", "Ring mig på ", "Tel: ")."""
SPOKEN_MIN_WORDS = 7
"""Bare digit words that make a phone number on their own."""
SPOKEN_MIN_WORDS_AFTER_PHONE_WORD = 5
SPOKEN_MAX_MIXED_DIGITS = 12
SPOKEN_MIN_DIGITS_MIXED = 7
"""After a phone word, a mixed run of 7-12 digits ("noll 72 och sedan 789 63 67")."""


def _spoken_kind(token: str) -> tuple[str, int] | None:
    """("word", 1) for a digit word, ("tens", 2) for a tens word, ("group", n) for n digits; None for anything
    else."""
    low = token.lower()
    if low in _DIGIT_WORDS:
        return "word", 1
    if _TENS_WORD_RE.fullmatch(low):
        return "tens", 2
    if token.isdigit() and len(token) <= 8:
        return "group", len(token)
    return None


def _article(text: str, token: tuple[str, int, int, int]) -> bool:
    return text[token[2] : token[3]].lower() == "en"


def _longest_word_stretch(run: list[tuple[str, int, int, int]]) -> list[tuple[str, int, int, int]]:
    """The longest stretch of bare digit words in a run."""
    best: list[tuple[str, int, int, int]] = []
    cur: list[tuple[str, int, int, int]] = []
    for tok in run:
        cur = cur + [tok] if tok[0] == "word" else []
        if len(cur) > len(best):
            best = cur
    return best


def _spoken_span(text: str, run: list[tuple[str, int, int, int]]) -> tuple[int, int] | None:
    """The span of a run of (kind, digits, start, end) tokens if it reads as a spoken phone number."""
    phone_word = bool(_SPOKEN_PHONE_WORD_RE.search(text[max(0, run[0][2] - 40) : run[0][2]]))
    while run and (run[0][0] == "group" or _article(text, run[0])):
        run = run[1:]  # digits first are the digit rules' number; "en" first is the article
    while run and _article(text, run[-1]):
        run = run[:-1]  # "... en gång": the article, not a one
    if not run:
        return None
    values = [_DIGIT_WORDS[text[s:e].lower()] for kind, _, s, e in run if kind == "word"]
    if len(values) >= 3 and all(b == a + 1 for a, b in zip(values, values[1:])):
        return None  # "ett två tre fyra fem sex sju": counting
    stretch = _longest_word_stretch(run)
    alone = (stretch[0][2], stretch[-1][3]) if len(stretch) >= SPOKEN_MIN_WORDS else None
    if len(stretch) == len(run):  # bare digit words only
        if alone or (phone_word and len(run) >= SPOKEN_MIN_WORDS_AFTER_PHONE_WORD):
            return run[0][2], run[-1][3]
        return None
    if not phone_word:
        return alone
    kept: list[tuple[str, int, int, int]] = []
    total = words = 0
    for kind, n, s, e in run:  # after a phone word: digit words, tens and digit groups, up to 12 digits
        if (kind == "tens" and words < 3) or total + n > SPOKEN_MAX_MIXED_DIGITS or (
                kind == "group" and _DATE_AT_RE.match(text, s)):
            break  # "tjugo", "fyrtiofem" only after three digit words; a date ends the number
        kept.append((kind, n, s, e))
        total += n
        words += kind == "word"
    if total < SPOKEN_MIN_DIGITS_MIXED:
        return alone
    return kept[0][2], kept[-1][3]


def spoken_phone_spans(text: str) -> list[tuple[int, int]]:
    """Phone numbers spelled in words, alone or with digit groups (see the module's docstring)."""
    out: list[tuple[int, int]] = []
    run: list[tuple[str, int, int, int]] = []
    gap = 0
    for m in _SPOKEN_TOKEN_RE.finditer(text):
        tok = m.group()
        kind = _spoken_kind(tok)
        if kind is not None:
            run.append((kind[0], kind[1], m.start(), m.end()))
            gap = 0
            continue
        if run and gap < 2 and (tok in _SPOKEN_SEPARATORS or tok.lower() in _SPOKEN_FILLERS):
            gap += 1
            continue
        if run:
            span = _spoken_span(text, run)
            if span:
                out.append(span)
        run, gap = [], 0
    if run:
        span = _spoken_span(text, run)
        if span:
            out.append(span)
    return [(s, e) for s, e in out if not currency_follows(text, e)]


def phone_spans(text: str) -> list[Span]:
    """Spans of phone numbers: the library's, the shapes' and numbers spelled in words, the longer one where they
    overlap."""
    spoken = spoken_phone_spans(text)
    if len(_DIGIT_RE.findall(text)) < _MIN_DIGITS and not spoken:
        return []
    candidates = {(s, e) for s, e in _library_spans(text) + _rule_spans(text) if _keep(text, s, e)}
    candidates |= set(spoken)
    chosen: list[tuple[int, int]] = []
    for s, e in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if not any(s < ce and cs < e for cs, ce in chosen):
            chosen.append((s, e))
    return [Span(s, e, "telefon") for s, e in sorted(chosen)]

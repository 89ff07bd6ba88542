"""Numbers, percentages, p-values and dates as each language writes them, with Babel (CLDR locale data).

Swedish: 1 234,5 · 58 % · −12 · 28 november 2025 (non-breaking spaces, the typographic minus);
English: 1,234.5 · 58% · −12 · 28 November 2025 (the typographic minus too, as in the prose). Missing values (None, NaN) are shown as an en dash.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, datetime

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent

from synpunkt.report.statistics import ALPHA
from synpunkt.report.text import strings

MISSING = "–"
P_MAX_DIGITS = 4
"""Most decimals fmt_p writes to keep a p-value below ALPHA from being printed as ALPHA (else "p < 0,05")."""
P_TWO_DECIMALS_FROM = 0.1
"""fmt_p writes p-values that round to this or more with two decimals, smaller ones with three (APA style): the
decimals around ALPHA say on which side of it a p-value lies."""


def locale_of(lang: str) -> str:
    """The Babel locale of a report language (sv -> sv_SE, en -> en_GB)."""
    return strings(lang)["locale"]


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _rounded(x: float, digits: int) -> float:
    value = round(float(x), digits)
    return 0.0 if value == 0 else value  # no "−0"


def shown_difference(a: float | None, b: float | None, digits: int = 0) -> float:
    """a − b as a reader computes it from the printed figures: the difference of the two values rounded as
    fmt_num / fmt_signed print them (a net score of −28,6 against −15,4 is shown as −29 and −15: 14 lower,
    not the unrounded 13). NaN when either is missing."""
    if _missing(a) or _missing(b):
        return float("nan")
    return _rounded(_rounded(a, digits) - _rounded(b, digits), digits)


MINUS = "\u2212"


def _minus(text: str) -> str:
    """Babel writes a hyphen (and en_GB keeps it): the typographic minus U+2212 in every language, as the
    prose of both languages writes it ("−100 to +100")."""
    return MINUS + text[1:] if text.startswith("-") else text


def fmt_num(x: float | None, digits: int = 0, lang: str = "sv") -> str:
    """A number with the language's decimal mark and grouping: 1 234,5 (sv), 1,234.5 (en)."""
    if _missing(x):
        return MISSING
    loc = locale_of(lang)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return _minus(format_decimal(_rounded(x, digits), format=pattern, locale=loc))


def fmt_int(n: int | float | None, lang: str = "sv") -> str:
    return fmt_num(None if _missing(n) else float(n), 0, lang)


@functools.lru_cache(maxsize=None)
def _percent_pattern(locale: str, digits: int) -> str:
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return pattern.replace("#,##0", "#,##0" + ("." + "0" * digits if digits else ""), 1)


def fmt_pct(share: float | None, lang: str = "sv", digits: int = 0) -> str:
    """A share (0-1) as a percentage: 58 % (sv, with a non-breaking space) or 58% (en)."""
    if _missing(share):
        return MISSING
    loc = locale_of(lang)
    value = _rounded(100 * float(share), digits) / 100
    return _minus(format_percent(value, format=_percent_pattern(loc, digits), locale=loc))


def fmt_signed(x: float | None, lang: str = "sv", digits: int = 0) -> str:
    """A net score or change with its sign: +35, −12, 0."""
    if _missing(x):
        return MISSING
    value = _rounded(x, digits)
    text = fmt_num(value, digits, lang)
    return "+" + text if value > 0 else text


def fmt_p(p: float | None, lang: str = "sv") -> str:
    """A p-value as APA writes it: "p < 0,001" below 0,001, three decimals up to P_TWO_DECIMALS_FROM (p = 0,004,
    p = 0,048, p = 0,052), two from there (p = 0,31). The printed value is on the same side of ALPHA as p: p ≥ ALPHA
    never rounds below it (0,0504 is "p = 0,050", not significant), and a p below ALPHA that three decimals would
    round up to it gets more (p = 0,0496), or "p < 0,05" when even P_MAX_DIGITS decimals would."""
    if _missing(p):
        return "p = " + MISSING
    if p < 0.001:
        return "p < " + fmt_num(0.001, 3, lang)
    digits = 3 if _rounded(p, 3) < P_TWO_DECIMALS_FROM else 2
    if p < ALPHA:
        while digits <= P_MAX_DIGITS and _rounded(p, digits) >= ALPHA:
            digits += 1
        if digits > P_MAX_DIGITS:
            return "p < " + fmt_num(ALPHA, 2, lang)
    return "p = " + fmt_num(p, digits, lang)


def fmt_interval(lo: float | None, hi: float | None, lang: str = "sv") -> str:
    """A net-score interval: +12 till +30 (sv), +12 to +30 (en)."""
    word = " till " if lang == "sv" else " to "
    return f"{fmt_signed(lo, lang)}{word}{fmt_signed(hi, lang)}"


def fmt_date(value, lang: str = "sv") -> str:
    """A date in words: 28 november 2025 (sv), 28 November 2025 (en)."""
    if _missing(value):
        return MISSING
    d = _as_datetime(value)
    return MISSING if d is None else format_date(d, "long", locale=locale_of(lang))


def fmt_datetime(value, lang: str = "sv") -> str:
    """A date and time: 28 november 2025 14:05."""
    if _missing(value):
        return MISSING
    d = _as_datetime(value)
    if d is None:
        return MISSING
    loc = locale_of(lang)
    return f"{format_date(d, 'long', locale=loc)} {format_time(d, 'HH:mm', locale=loc)}"


def _as_datetime(value) -> datetime | date | None:
    if isinstance(value, (datetime, date)):
        return value
    try:
        import pandas as pd

        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if ts is pd.NaT else ts.to_pydatetime()


@dataclass(frozen=True)
class Formatter:
    """The formatting functions bound to one language, for templates: ``{{ fmt.pct(share) }}``."""

    lang: str

    def num(self, x, digits: int = 0) -> str:
        return fmt_num(x, digits, self.lang)

    def int(self, n) -> str:
        return fmt_int(n, self.lang)

    def pct(self, share, digits: int = 0) -> str:
        return fmt_pct(share, self.lang, digits)

    def signed(self, x, digits: int = 0) -> str:
        return fmt_signed(x, self.lang, digits)

    def p(self, p) -> str:
        return fmt_p(p, self.lang)

    def interval(self, lo, hi) -> str:
        return fmt_interval(lo, hi, self.lang)

    def date(self, value) -> str:
        return fmt_date(value, self.lang)

    def datetime(self, value) -> str:
        return fmt_datetime(value, self.lang)

"""Contact dates as Swedish exports write them, parsed exactly and never guessed.

Accepted: ``2025-03-14`` (also ``2025/03/14``, ``2025.03.14``), with an optional time (``2025-03-14 10:22``,
``2025-03-14T10:22:00Z``); ``20250314``; Excel serial day numbers for 2000-2099 (``45730``, ``45730.4375``);
day-first ``14/3/2025``, ``14.03.2025``, ``14-03-2025``; month names in Swedish or English, full or abbreviated
(``14 mars 2025``, ``den 14 mars 2025``, ``fredag 14 mars 2025``, ``14 mar. 2025``, ``14 Mars, 2025``,
``March 14, 2025``); ``date``, ``datetime``, ``pd.Timestamp`` and ``numpy.datetime64`` values.

Refused, each with its own problem code: two-digit years (``25-03-14``, ``14/03/25``) are ``ambiguous_date``;
a year alone, a month and year, or a day and month (``2025``, ``2025-03``, ``mars 2025``, ``14 mars``) are
``partial_date``; impossible dates (``2025-02-30``), month-first US dates (``03/25/2025`` is not swapped) and
anything else are ``invalid_date``; an empty cell is ``missing_date``.

A timestamp with a UTC offset (``...Z``, ``...+02:00``) is converted to Swedish local time before its date is
taken, so a contact at 00:30 in Stockholm is dated that day even when the export writes it in UTC.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from numbers import Integral, Real
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

LOCAL_TIMEZONE = ZoneInfo("Europe/Stockholm")
"""Time zone in which an offset-aware timestamp's calendar date is taken."""
EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's (1900, Lotus-compatible) serial day numbers."""
EXCEL_SERIAL_RANGE = (36526, 73050)
"""Serial numbers accepted as Excel dates: 2000-01-01 to 2099-12-31 (others are not read as dates)."""

MISSING, INVALID, AMBIGUOUS, PARTIAL = "missing_date", "invalid_date", "ambiguous_date", "partial_date"

MONTHS: dict[str, int] = {
    **{name: i for i, name in enumerate(("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                                         "september", "oktober", "november", "december"), start=1)},
    **{name: i for i, name in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"), start=1)},
    **{name: i for i, name in enumerate(("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt",
                                         "nov", "dec"), start=1)},
    "may": 5, "oct": 10, "sept": 9,
}
"""Month names and abbreviations (Swedish and English, case-folded) -> month number."""
WEEKDAYS: dict[str, int] = {
    **{name: i for i, name in enumerate(("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"))},
    **{name: i for i, name in enumerate(("måndagen", "tisdagen", "onsdagen", "torsdagen", "fredagen", "lördagen",
                                         "söndagen"))},
    **{name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                         "sunday"))},
}
"""Weekday names (Swedish, also the definite form, and English) -> ``date.weekday()``."""

_PROBLEM_TEXT = {
    "not_a_date": "is not a date in a recognised format; write it like 2025-03-14, 14/3/2025 or 14 mars 2025",
    "no_such_day": "is not a real calendar date (no such month, or no such day in that month)",
    "month_first": "cannot be read day-first (its second number is not a month); month-first (US) dates are "
                   "not accepted, write it like 2025-03-14",
    "no_such_time": "has a time of day that does not exist",
    "weekday": "names a weekday that does not match its date",
    "serial_range": "is a number outside the range of Excel dates for 2000-2099",
    "two_digit_year": "is a two-digit-year date, which is ambiguous; write the year with four digits",
    "year_only": "gives only a year; a full date (day, month and year) is needed",
    "month_year": "gives only a month and year; a full date (day, month and year) is needed",
    "day_month": "gives a day and month without a year; a full date (day, month and year) is needed",
    "empty": "is empty",
}


@dataclass(frozen=True)
class DateParse:
    """The outcome of reading one date cell: a date, or a problem code with an explanation.

    ``detail`` completes a sentence about the cell ("the value in column 'datum' ..."); it never quotes the value.
    """

    value: date | None
    problem: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


def _problem(code: str, key: str) -> DateParse:
    return DateParse(None, code, _PROBLEM_TEXT[key])


def _build(year: int, month: int, day: int) -> DateParse:
    try:
        return DateParse(date(year, month, day))
    except ValueError:
        return _problem(INVALID, "no_such_day")


_TIME = r"(?:[ t]+(?:kl\.?\s*)?(?P<clock>\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:[.,]\d+)?)?))"
_OFFSET = r"(?:\s*(?P<tz>z|utc|[+-]\d{2}(?::?\d{2})?))"
_YMD = re.compile(rf"(?P<y>\d{{4}})(?P<s>[-/.])(?P<m>\d{{1,2}})(?P=s)(?P<d>\d{{1,2}})(?:{_TIME}{_OFFSET}?)?")
_COMPACT = re.compile(rf"(?P<y>\d{{4}})(?P<m>\d{{2}})(?P<d>\d{{2}})(?:{_TIME}{_OFFSET}?)?")
_DMY = re.compile(rf"(?P<d>\d{{1,2}})(?P<s>[-/.])(?P<m>\d{{1,2}})(?P=s)(?P<y>\d{{4}}|\d{{2}})(?:,?{_TIME})?")
_TWO_DIGIT_YMD = re.compile(rf"\d{{2}}(?P<s>[-/.])\d{{1,2}}(?P=s)\d{{1,2}}(?:,?{_TIME})?")
_SERIAL = re.compile(r"\d+(?:[.,]\d+)?")
_YEAR_MONTH = re.compile(r"\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{4}")
_DAY_NAME = re.compile(rf"(?:(?P<wd>[^\W\d_]+),?\s+)?(?:den\s+)?(?P<d>\d{{1,2}})(?::?[ae]|\.)?[\s-]+"
                       rf"(?P<mon>[^\W\d_]+)\.?,?(?:[\s-]+(?P<y>\d+))?(?:,?{_TIME})?")
_NAME_DAY = re.compile(rf"(?:(?P<wd>[^\W\d_]+),?\s+)?(?P<mon>[^\W\d_]+)\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?"
                       rf"(?:\s+(?P<y>\d+))?(?:,?{_TIME})?")
_NAME_YEAR = re.compile(r"(?P<mon>[^\W\d_]+)\.?,?[\s-]+(?P<y>\d{4})")


def parse_date(value: object) -> DateParse:
    """Read one date cell exactly (see the module docstring for what is accepted and what is refused)."""
    if value is None or value is pd.NaT or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return _problem(MISSING, "empty")
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):  # pd.Timestamp is a datetime
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TIMEZONE)
        return DateParse(value.date())
    if isinstance(value, date):
        return DateParse(value)
    if isinstance(value, (bool, np.bool_)):
        return _problem(INVALID, "not_a_date")
    if isinstance(value, (Integral, Real)):
        return _parse_number(float(value))
    if isinstance(value, bytes):
        return _problem(INVALID, "not_a_date")
    text = str(value)
    if not text.strip():
        return _problem(MISSING, "empty")
    return _parse_text(text)


def to_date(value: object) -> date | None:
    """The date in a cell, or None when it is missing, invalid, ambiguous or partial."""
    return parse_date(value).value


def _parse_number(number: float) -> DateParse:
    """A number from a typed source (JSON, Parquet, Excel): an Excel serial, 20250314, or a bare year."""
    if not math.isfinite(number):
        return _problem(INVALID, "not_a_date")
    if number.is_integer() and 19_000_101 <= number <= 21_001_231:
        n = int(number)
        return _build(n // 10_000, n // 100 % 100, n % 100)
    if number.is_integer() and 1000 <= number <= 2999:
        return _problem(PARTIAL, "year_only")
    return _excel_serial(number)


def _excel_serial(number: float) -> DateParse:
    low, high = EXCEL_SERIAL_RANGE
    if not low <= number < high + 1:
        return _problem(INVALID, "serial_range")
    return DateParse(EXCEL_EPOCH + timedelta(days=math.floor(number)))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "").replace("\u200b", "")
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=65_536)
def _parse_text(raw: str) -> DateParse:
    """Parse a date string (cached: exports repeat the same dates many times)."""
    s = _normalise(raw)
    if m := _YMD.fullmatch(s):
        return _timed(_build(int(m["y"]), int(m["m"]), int(m["d"])), m)
    if m := _COMPACT.fullmatch(s):
        if not 1900 <= int(m["y"]) <= 2100:
            return _problem(INVALID, "not_a_date")
        return _timed(_build(int(m["y"]), int(m["m"]), int(m["d"])), m)
    if m := _DMY.fullmatch(s):
        if len(m["y"]) == 2:
            return _problem(AMBIGUOUS, "two_digit_year")
        if int(m["m"]) > 12:
            return _problem(INVALID, "month_first")
        return _timed(_build(int(m["y"]), int(m["m"]), int(m["d"])), m)
    if _TWO_DIGIT_YMD.fullmatch(s) or re.fullmatch(r"\d{6}", s):
        return _problem(AMBIGUOUS, "two_digit_year")
    if re.fullmatch(r"\d{4}", s):
        return _problem(PARTIAL, "year_only")
    if _YEAR_MONTH.fullmatch(s):
        return _problem(PARTIAL, "month_year")
    if _SERIAL.fullmatch(s):
        return _excel_serial(float(s.replace(",", ".")))
    for pattern in (_DAY_NAME, _NAME_DAY):
        if (m := pattern.fullmatch(s)) and m["mon"] in MONTHS:
            return _named(m)
    if (m := _NAME_YEAR.fullmatch(s)) and m["mon"] in MONTHS:
        return _problem(PARTIAL, "month_year")
    return _problem(INVALID, "not_a_date")


def _timed(parsed: DateParse, m: re.Match) -> DateParse:
    """Check the time of day, if any; move an offset-aware timestamp's date to Swedish local time."""
    if parsed.value is None or not m["clock"]:
        return parsed
    hour, minute, second = (int(p) for p in (re.findall(r"\d+", m["clock"]) + ["0"])[:3])
    if hour > 23 or minute > 59 or second > 59:
        return _problem(INVALID, "no_such_time")
    tz = m.groupdict().get("tz")
    if not tz:
        return parsed
    if tz in ("z", "utc"):
        offset = timedelta(0)
    else:
        digits = tz[1:].replace(":", "")
        offset = (-1 if tz[0] == "-" else 1) * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    if offset >= timedelta(hours=24) or offset <= -timedelta(hours=24):
        return _problem(INVALID, "no_such_time")
    day = parsed.value
    moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=timezone(offset))
    return DateParse(moment.astimezone(LOCAL_TIMEZONE).date())


def _named(m: re.Match) -> DateParse:
    """A date with a month name: needs a four-digit year; an optional weekday must match the date."""
    weekday = m["wd"] if m["wd"] != "den" else None
    if weekday and weekday not in WEEKDAYS:
        return _problem(INVALID, "not_a_date")
    if not m["y"]:
        return _problem(PARTIAL, "day_month")
    if len(m["y"]) == 2:
        return _problem(AMBIGUOUS, "two_digit_year")
    if len(m["y"]) != 4:
        return _problem(INVALID, "not_a_date")
    parsed = _timed(_build(int(m["y"]), MONTHS[m["mon"]], int(m["d"])), m)
    if parsed.value is not None and weekday and WEEKDAYS[weekday] != parsed.value.weekday():
        return _problem(INVALID, "weekday")
    return parsed

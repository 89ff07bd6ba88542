"""Validation of a received table: find the columns, check each row, split accepted from quarantined.

Pure functions on DataFrames. Each rejected row gets a reason code and a specific reason; reasons never quote
cell values (they may hold personal data). Row numbers are 1-based positions among the data rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from synpunkt.tables import TEXT_COLUMN_CANDIDATES

DATE_COLUMN_CANDIDATES = ("datum", "date", "kontaktdatum", "contact_date", "inkom", "inkommen", "inkomdatum",
                          "skapad", "created", "created_at", "tidpunkt", "timestamp")
ID_COLUMN_CANDIDATES = ("id", "ärende", "ärendenummer", "arendenummer", "ärende_id", "comment_id", "kommentar_id",
                        "löpnummer", "lopnummer", "external_id")
CHANNEL_COLUMN_CANDIDATES = ("kanal", "channel", "kontaktväg", "kontaktvag", "kontaktsätt")
MUNICIPALITY_COLUMN_CANDIDATES = ("kommunkod", "kommun_kod", "municipality_code")

CHANNELS = ("telefon", "e-post", "chatt", "besök")
CHANNEL_SYNONYMS = {
    "telefon": "telefon", "tel": "telefon", "phone": "telefon", "samtal": "telefon", "växel": "telefon",
    "e-post": "e-post", "epost": "e-post", "e-mail": "e-post", "email": "e-post", "mejl": "e-post", "mail": "e-post",
    "chatt": "chatt", "chat": "chatt", "webbchatt": "chatt", "livechatt": "chatt",
    "besök": "besök", "besok": "besök", "visit": "besök", "reception": "besök", "fysiskt besök": "besök",
    "personligt besök": "besök", "kontaktcenter besök": "besök",
}
MAX_TEXT_CHARS = 20_000
EARLIEST_DATE = date(2000, 1, 1)


class MissingColumn(ValueError):
    """The table lacks a required column: the whole batch fails with this reason."""


@dataclass
class ColumnMap:
    text: str
    date: str
    id: str | None
    channel: str | None
    municipality: str | None
    metadata: list[str]


@dataclass
class Validated:
    accepted: pd.DataFrame  # row_number, external_id, contact_date, channel, text, metadata
    rejected: pd.DataFrame  # row_number, reason_code, reason, row
    columns: ColumnMap


def _pick(df: pd.DataFrame, candidates: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in df.columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def map_columns(df: pd.DataFrame) -> ColumnMap:
    """Find the comment, date, id, channel and municipality columns; the rest is kept as metadata."""
    text = _pick(df, TEXT_COLUMN_CANDIDATES)
    if text is None:
        raise MissingColumn(f"no comment column; expected one of {', '.join(TEXT_COLUMN_CANDIDATES)} "
                            f"(found: {', '.join(map(str, df.columns))})")
    when = _pick(df, DATE_COLUMN_CANDIDATES)
    if when is None:
        raise MissingColumn(f"no date column; expected one of {', '.join(DATE_COLUMN_CANDIDATES)} "
                            f"(found: {', '.join(map(str, df.columns))})")
    ident, channel = _pick(df, ID_COLUMN_CANDIDATES), _pick(df, CHANNEL_COLUMN_CANDIDATES)
    muni = _pick(df, MUNICIPALITY_COLUMN_CANDIDATES)
    used = {text, when, ident, channel, muni}
    return ColumnMap(text, when, ident, channel, muni, [c for c in df.columns if c not in used])


def parse_date(value) -> date | None:
    """A contact date from ISO dates/datetimes, 20240315, 15/3/2024 or 15.3.2024; None if it is not a date."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    if not s:
        return None
    for kwargs in ({"format": "ISO8601"}, {"format": "%Y%m%d"}, {"dayfirst": True, "format": "mixed"}):
        try:
            ts = pd.to_datetime(s, **kwargs)
        except (ValueError, OverflowError, TypeError):
            continue
        if pd.notna(ts):
            return ts.date()
    return None


def normalise_channel(value) -> tuple[str | None, str | None]:
    """(channel, unrecognised original) for a channel cell; unknown values are kept aside, not rejected."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip():
        return None, None
    key = " ".join(str(value).strip().lower().split())
    if key in CHANNEL_SYNONYMS:
        return CHANNEL_SYNONYMS[key], None
    return None, str(value).strip()


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def validate_rows(df: pd.DataFrame, municipality_code: str, today: date | None = None) -> Validated:
    """Check every row; returns accepted rows (normalised) and rejected rows (with reasons)."""
    cols = map_columns(df)
    today = today or date.today()
    accepted, rejected = [], []
    seen: dict[tuple, int] = {}
    for number, row in enumerate(df.to_dict("records"), start=1):
        text = _clean(row.get(cols.text))
        when = parse_date(row.get(cols.date))
        external_id = _clean(row.get(cols.id)) if cols.id else None
        external_id = external_id.strip() if external_id and external_id.strip() else None
        problem = None
        if text is None or not text.strip():
            problem = ("empty_text", "the comment is empty")
        elif len(text) > MAX_TEXT_CHARS:
            problem = ("text_too_long", f"the comment is longer than {MAX_TEXT_CHARS} characters")
        elif not (_clean(row.get(cols.date)) or "").strip():
            problem = ("missing_date", f"the date column '{cols.date}' is empty")
        elif when is None:
            problem = ("invalid_date", f"the value in '{cols.date}' is not a date (expected e.g. 2025-03-14)")
        elif when > today + timedelta(days=1):
            problem = ("future_date", "the contact date is in the future")
        elif when < EARLIEST_DATE:
            problem = ("date_too_early", f"the contact date is before {EARLIEST_DATE.isoformat()}")
        elif cols.municipality and _clean(row.get(cols.municipality)) and \
                str(row[cols.municipality]).strip().zfill(4) != municipality_code:
            problem = ("wrong_municipality", f"the row's '{cols.municipality}' differs from the batch's "
                                             f"municipality {municipality_code}")
        if problem is None:
            key = ("id", external_id) if external_id else ("content", when, " ".join(text.split()))
            if key in seen:
                problem = ("duplicate_in_batch", f"duplicate of row {seen[key]} in the same batch")
            else:
                seen[key] = number
        if problem:
            rejected.append({"row_number": number, "reason_code": problem[0], "reason": problem[1], "row": row})
            continue
        channel, unknown_channel = normalise_channel(row.get(cols.channel)) if cols.channel else (None, None)
        metadata = {str(c): _clean(row.get(c)) for c in cols.metadata if _clean(row.get(c)) not in (None, "")}
        if unknown_channel:
            metadata["channel_raw"] = unknown_channel
        accepted.append({"row_number": number, "external_id": external_id, "contact_date": when,
                         "channel": channel, "text": text.strip(), "metadata": metadata})
    return Validated(
        pd.DataFrame(accepted, columns=["row_number", "external_id", "contact_date", "channel", "text", "metadata"]),
        pd.DataFrame(rejected, columns=["row_number", "reason_code", "reason", "row"]),
        cols,
    )

"""Validation of a received table: find the columns, check each row, split accepted from quarantined.

Pure functions on DataFrames. The table's index holds each row's 1-based data-row number (the readers set it,
with gaps where they already removed bad rows); a default 0-based RangeIndex is read as positions, numbered
from 1. Each rejected row gets a reason code and a specific reason naming the column and row; reasons and
errors never quote cell values, and name only recognised columns (the others may hold personal data).
Duplicates are not judged here (see synpunkt.dedupe).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from numbers import Integral, Real

import numpy as np
import pandas as pd

from synpunkt.dates import MISSING, DateParse, parse_date, to_date
from synpunkt.municipalities import UnknownMunicipality, validate_code
# The header matching lives with the readers (they pick headers and sheets by it; readers may not import this
# module, which imports them): it is imported, and re-exported, from there.
from synpunkt.readers.common import (CHANNEL_COLUMN_CANDIDATES, DATE_COLUMN_CANDIDATES,
                                     ID_COLUMN_CANDIDATES, INVISIBLE_CHARS, MUNICIPALITY_COLUMN_CANDIDATES,
                                     TEXT_COLUMN_CANDIDATES, header_key, loose_comment_columns,
                                     matches_candidate, pick_column)

__all__ = ["MissingColumn", "ColumnMap", "Validated", "DateParse", "map_columns", "header_key", "parse_date",
           "to_date", "normalise_channel", "normalise_municipality_code", "row_numbers", "validate_rows"]

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
    other_comment_columns: list[str] = field(default_factory=list)  # also named like a comment column: metadata
    text_shown: str | None = None  # how reasons name a loosely matched comment column (its header is not shown)

    @property
    def text_label(self) -> str:
        """The comment column as reasons name it: its header where it matched a known name, else its position."""
        return self.text_shown or f"'{shown_column(self.text)}'"


@dataclass
class Validated:
    accepted: pd.DataFrame  # row_number, external_id, contact_date, channel, text, metadata
    rejected: pd.DataFrame  # row_number, reason_code, reason, row
    columns: ColumnMap


def _missing(role: str, n_columns: int, candidates: tuple[str, ...]) -> MissingColumn:
    """The message names how many columns there are and what was expected, never the names found: a file
    without a header has its first data row as column names."""
    found = f"{n_columns} column" + ("" if n_columns == 1 else "s")
    return MissingColumn(f"no {role} column among the file's {found}; expected a header naming one of "
                         f"{', '.join(candidates)} (a file whose first line is data, not a header, has none)")


def _loose_comment_column(columns: list, roles: tuple[tuple[str, ...], ...]) -> int | None:
    """The one column whose multi-word header holds a comment word ("Beskrivning av synpunkten") and nothing
    naming another role; None when there is none. Raises MissingColumn when several could be it (by position:
    loosely matched headers are not shown)."""
    found = loose_comment_columns(columns, roles)
    if len(found) > 1:
        listed = ", ".join(str(i + 1) for i in found[:-1]) + f" and {found[-1] + 1}"
        raise MissingColumn(f"no column is named exactly like a comment column, and columns {listed} could each "
                            f"hold the comments; name the comment column one of {', '.join(TEXT_COLUMN_CANDIDATES)}")
    return found[0] if found else None


def _column_positions(df: pd.DataFrame) -> tuple[int, int, int | None, int | None, int | None]:
    columns, used = list(df.columns), set()
    found = []
    roles = (("comment", TEXT_COLUMN_CANDIDATES, True), ("date", DATE_COLUMN_CANDIDATES, True),
             ("id", ID_COLUMN_CANDIDATES, False), ("channel", CHANNEL_COLUMN_CANDIDATES, False),
             ("municipality", MUNICIPALITY_COLUMN_CANDIDATES, False))
    for role, candidates, required in roles:
        position = pick_column(columns, used, candidates)
        if position is None and role == "comment":
            position = _loose_comment_column(columns, tuple(r[1] for r in roles[1:]))
        if position is None and required:
            raise _missing(role, len(columns), candidates)
        if position is not None:
            used.add(position)
        found.append(position)
    return tuple(found)  # type: ignore[return-value]


def map_columns(df: pd.DataFrame) -> ColumnMap:
    """Find the comment, date, id, channel and municipality columns; every other column is kept as metadata.

    Names are compared with ``header_key``; when several columns match a role the first in the file wins and
    the others stay metadata (a second comment column is never lost). Without a comment column so named, the one
    header holding a comment word is taken (synpunkt.readers.common.COMMENT_WORDS: "Beskrivning av synpunkten").
    Raises MissingColumn without a comment or a date column, or when several headers could each name the comment
    column.
    """
    columns = list(df.columns)
    positions = _column_positions(df)
    label = [None if p is None else columns[p] for p in positions]
    used = {p for p in positions if p is not None}
    metadata = [c for i, c in enumerate(columns) if i not in used]
    wanted = {header_key(c) for c in TEXT_COLUMN_CANDIDATES}
    loose = not matches_candidate(header_key(label[0]), wanted)  # a header holding a comment word: may hold more
    return ColumnMap(label[0], label[1], label[2], label[3], label[4], metadata,
                     [c for c in metadata if matches_candidate(header_key(c), wanted)],
                     f"{positions[0] + 1} (the comment column)" if loose else None)


def normalise_channel(value) -> tuple[str | None, str | None]:
    """(channel, unrecognised original) for a channel cell; unknown values are kept aside, not rejected."""
    if _missing_value(value) or not str(value).strip():
        return None, None
    key = " ".join(str(value).strip().lower().split())
    if key in CHANNEL_SYNONYMS:
        return CHANNEL_SYNONYMS[key], None
    return None, str(value).strip()


_CODE = re.compile(r"(\d{1,4})(?:[.,]0+)?")


def normalise_municipality_code(value) -> str | None:
    """Four-digit form of a municipality-code cell: 180, "180", 180.0, "180.0", "0180", " 0180 " -> "0180".

    None when the cell is not a whole number of one to four digits (membership of the reference list is not
    checked here; see ``synpunkt.municipalities.validate_code``).
    """
    if _missing_value(value) or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (Integral, Real)):
        number = float(value)
        return f"{int(number):04d}" if number.is_integer() and 0 <= number <= 9999 else None
    match = _CODE.fullmatch(unicodedata.normalize("NFKC", str(value)).translate(INVISIBLE_CHARS).strip())
    return match[1].zfill(4) if match else None


def row_numbers(index: pd.Index) -> list[int]:
    """The 1-based data-row numbers of a table: its index, or position + 1 for a default 0-based RangeIndex.

    Raises ValueError for any other index that is not unique integers from 1 (a caller's mistake).
    """
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return list(range(1, len(index) + 1))
    if len(index) == 0:
        return []
    if not pd.api.types.is_integer_dtype(index) or index.min() < 1 or not index.is_unique:
        raise ValueError("the table's index must hold its unique 1-based data-row numbers "
                         "(or be a default 0-based RangeIndex)")
    return [int(i) for i in index]


def _missing_value(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _clean(value) -> str | None:
    return None if _missing_value(value) else str(value)


def _unique_labels(columns: pd.Index) -> list:
    """Column labels made unique the way pandas' CSV reader does it ("a", "a.1")."""
    seen: dict[str, int] = {}
    labels = []
    for c in columns:
        label, n = c, seen.get(str(c), 0)
        while str(label) in seen:
            n += 1
            label = f"{c}.{n}"
        seen[str(c)] = n
        seen[str(label)] = 0
        labels.append(label)
    return labels


def _date_problem(parsed: DateParse, column: str, today: date) -> tuple[str, str] | None:
    if parsed.value is None:
        if parsed.problem == MISSING:
            return MISSING, f"the date column '{column}' is empty"
        return str(parsed.problem), f"the value in column '{column}' {parsed.detail}"
    if parsed.value > today + timedelta(days=1):
        return "future_date", f"the date in column '{column}' is in the future"
    if parsed.value < EARLIEST_DATE:
        return "date_too_early", f"the date in column '{column}' is before {EARLIEST_DATE.isoformat()}"
    return None


def _municipality_problem(value, column: str, municipality_code: str) -> tuple[str, str] | None:
    if _missing_value(value) or not str(value).strip():
        return None
    code = normalise_municipality_code(value)
    if code is None:
        return ("invalid_municipality_code", f"the value in column '{column}' is not a municipality code "
                                             "(expected a four-digit SCB code such as 0180)")
    try:
        code = validate_code(code)
    except UnknownMunicipality:
        return ("invalid_municipality_code", f"the value in column '{column}' is not a current Swedish "
                                             "municipality code (see data/reference/municipalities.csv)")
    if code != municipality_code:
        return ("wrong_municipality", f"the code in column '{column}' differs from the batch's municipality "
                                      f"{municipality_code}")
    return None


def shown_column(column: object) -> str:
    """A matched column's name as reasons show it (it matched a known header, so it holds no personal data)."""
    return str(column).translate(INVISIBLE_CHARS).strip()


def _check(row: dict, cols: ColumnMap, municipality_code: str, today: date) -> tuple[str, str] | DateParse:
    """The row's problem (code, reason), or its parsed date when it passes every check."""
    if isinstance(row.get(cols.text), (dict, list, tuple, bool)):  # a JSON object, list or true/false
        return "not_text", (f"the value in column {cols.text_label} is not text (a JSON object, list or "
                            "true/false)")
    text = _clean(row.get(cols.text))
    if text is None or not text.strip():
        return "empty_text", f"the comment in column {cols.text_label} is empty"
    if len(text) > MAX_TEXT_CHARS:
        return ("text_too_long", f"the comment in column {cols.text_label} is longer than "
                                 f"{MAX_TEXT_CHARS} characters")
    parsed = parse_date(row.get(cols.date))
    problem = _date_problem(parsed, shown_column(cols.date), today)
    if problem is None and cols.municipality is not None:
        problem = _municipality_problem(row.get(cols.municipality), shown_column(cols.municipality),
                                        municipality_code)
    return problem or parsed


def validate_rows(df: pd.DataFrame, municipality_code: str, today: date | None = None) -> Validated:
    """Check every row; returns accepted rows (normalised) and rejected rows (with reasons).

    ``df.index`` holds the 1-based data-row numbers (see ``row_numbers``); they are carried into both outputs.
    Every row ends up in exactly one of the two. Duplicates are left to ``synpunkt.dedupe``.
    """
    numbers = row_numbers(df.index)
    if not df.columns.is_unique:
        df = df.set_axis(_unique_labels(df.columns), axis=1)
    cols = map_columns(df)
    today = today or date.today()
    accepted, rejected = [], []
    for number, row in zip(numbers, df.to_dict("records")):
        outcome = _check(row, cols, municipality_code, today)
        if isinstance(outcome, tuple):
            code, reason = outcome
            rejected.append({"row_number": number, "reason_code": code, "reason": f"row {number}: {reason}",
                             "row": row})
            continue
        external_id = _clean(row.get(cols.id)) if cols.id is not None else None
        external_id = external_id.strip() if external_id and external_id.strip() else None
        channel, unknown_channel = normalise_channel(row.get(cols.channel)) if cols.channel is not None \
            else (None, None)
        metadata = {str(c): _clean(row.get(c)) for c in cols.metadata if _clean(row.get(c)) not in (None, "")}
        if unknown_channel:
            metadata["channel_raw"] = unknown_channel
        accepted.append({"row_number": number, "external_id": external_id, "contact_date": outcome.value,
                         "channel": channel, "text": str(row.get(cols.text)).strip(), "metadata": metadata})
    return Validated(
        pd.DataFrame(accepted, columns=["row_number", "external_id", "contact_date", "channel", "text", "metadata"]),
        pd.DataFrame(rejected, columns=["row_number", "reason_code", "reason", "row"]),
        cols,
    )

"""What every table reader shares: the row and chunk types, the read error, header cleaning and detection,
and the chunk builder. Errors and reasons name files, lines, sheets and columns by position, never cell text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from synpunkt.decoding import Line, NotText, TextEncoding, open_text

TEXT_COLUMN_CANDIDATES: tuple[str, ...] = (
    "text", "kommentar", "synpunkt", "fritext", "comment", "svar", "meddelande", "beskrivning", "feedback",
)
"""Column names (compared case-insensitively) that may hold the free-text comment."""

HEADER_SEARCH_ROWS = 20
"""A header (the first row naming a comment column) is looked for among this many non-blank rows."""

DEFAULT_CHUNK_ROWS = 10_000


class TableReadError(ValueError):
    """A table file could not be read as a whole. The message names the file and the problem, never cell text."""


def open_text_file(path: Path) -> tuple[BinaryIO, TextEncoding]:
    """synpunkt.decoding.open_text with its failures as TableReadError; the caller closes the stream."""
    try:
        return open_text(path)
    except OSError as exc:
        raise TableReadError(f"{path}: cannot read the file ({type(exc).__name__})") from None
    except NotText as exc:
        raise TableReadError(f"{path}: not a text file: {exc}") from None


def is_blank(text: str) -> bool:
    """A line with nothing but white space (or NUL padding, which some exports append)."""
    return not text.replace("\x00", "").strip()


def undecodable_reason(line: Line) -> str:
    """Why a line was flagged undecodable, naming its number and never its content."""
    if "\x00" in line.text:
        return f"line {line.number}: a NUL byte (binary data) in the text"
    return (f"line {line.number}: no supported text encoding (UTF-8, UTF-16, Windows-1252, code page 850) "
            "explains its bytes")


@dataclass
class BadRow:
    """A data row that could not be read; it keeps its row number (rows_received = good + bad)."""

    row_number: int
    reason_code: str  # malformed_row | malformed_json | not_an_object | undecodable_text
    reason: str  # names the line, column or sheet, never a cell value
    cells: dict[str, str | None] | None = None  # what could be recovered, raw and unredacted


@dataclass
class TableChunk:
    """Good rows (index = their 1-based data-row numbers) and the bad rows among the same stretch of the file."""

    frame: pd.DataFrame
    bad_rows: list[BadRow] = field(default_factory=list)


def header_token(name: object) -> str:
    """A header cell compared loosely: BOM, quotes and surrounding space dropped, case-folded."""
    return str(name).replace("\ufeff", "").strip().strip('"').strip().casefold()


_COMMENT_NAMES = frozenset(header_token(c) for c in TEXT_COLUMN_CANDIDATES)
_DATA_LIKE = re.compile(r"[-+]?\d+(?:[.,]\d+)?|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?:[ T].*)?")


def names_comment_column(cells: Iterable[object]) -> bool:
    """True if one of the cells is a known comment column name (kommentar, text, synpunkt, ...)."""
    return any(header_token(c) in _COMMENT_NAMES for c in cells if c is not None)


def looks_like_data(cells: Iterable[object]) -> bool:
    """True if a would-be header row holds a number or a date: the file's first row is data, not names."""
    return any(_DATA_LIKE.fullmatch(str(c).strip()) for c in cells if c is not None and str(c).strip())


def _filled(cells: Sequence[object]) -> int:
    return sum(1 for c in cells if c is not None and str(c).strip())


def pick_header(rows: Sequence[Sequence[object]]) -> int:
    """Index of the header among the first non-blank rows (as cells): the first naming a comment column, if
    every row above it is a title (fewer filled cells than the header), else 0."""
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if names_comment_column(cells):
            width = _filled(cells)
            return i if all(_filled(above) < width for above in rows[:i]) else 0
    return 0


def clean_headers(names: Sequence[object]) -> list[str]:
    """Header names stripped (BOM and spaces); empty ones named "Unnamed: i"; duplicates, compared without case,
    made unique with a suffix ("kommentar", "kommentar_2"), the first keeping its name."""
    stripped = [str(n).replace("\ufeff", "").strip() if n is not None else "" for n in names]
    stripped = [s or f"Unnamed: {i}" for i, s in enumerate(stripped)]
    taken = {s.casefold() for s in stripped}
    seen: set[str] = set()
    out = []
    for name in stripped:
        key = name.casefold()
        if key in seen:
            k = 2
            while f"{key}_{k}" in taken:
                k += 1
            name, key = f"{name}_{k}", f"{key}_{k}"
            taken.add(key)
        seen.add(key)
        out.append(name)
    return out


def make_frame(rows: list[Any], numbers: list[int], columns: list[str]) -> pd.DataFrame:
    """A chunk's frame: rows (lists in column order, or dicts by column) indexed by their row numbers."""
    index = pd.Index(numbers, dtype="int64")
    if rows and isinstance(rows[0], dict):
        return pd.DataFrame.from_records(rows, columns=columns, index=index)
    return pd.DataFrame(rows, columns=columns, index=index) if rows else \
        pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}, index=index)


class ChunkBuilder:
    """Collects good and bad rows and hands out chunks of at most `chunk_rows` rows (good and bad together)."""

    def __init__(self, columns: list[str], chunk_rows: int, attrs: dict[str, Any] | None = None) -> None:
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")
        self.columns, self.chunk_rows, self.attrs = columns, chunk_rows, attrs or {}
        self.rows: list[Any] = []
        self.numbers: list[int] = []
        self.bad: list[BadRow] = []
        self.emitted = 0

    def add(self, number: int, row: Any) -> TableChunk | None:
        self.rows.append(row)
        self.numbers.append(number)
        return self._maybe_flush()

    def add_bad(self, bad: BadRow) -> TableChunk | None:
        self.bad.append(bad)
        return self._maybe_flush()

    def _maybe_flush(self) -> TableChunk | None:
        return self.flush() if len(self.rows) + len(self.bad) >= self.chunk_rows else None

    def flush(self) -> TableChunk:
        frame = make_frame(self.rows, self.numbers, self.columns)
        frame.attrs = dict(self.attrs)
        chunk = TableChunk(frame, self.bad)
        self.rows, self.numbers, self.bad = [], [], []
        self.emitted += 1
        return chunk

    def finish(self) -> Iterator[TableChunk]:
        """The last chunk: always one if nothing was emitted yet, so that the columns are known."""
        if self.rows or self.bad or not self.emitted:
            yield self.flush()


class TableStream(Iterator[TableChunk]):
    """The chunks of one file, plus what was learnt reading it (`attrs`: encoding, separator, sheets, ...)."""

    def __init__(self, chunks: Iterator[TableChunk], attrs: dict[str, Any]) -> None:
        self._chunks, self.attrs = chunks, attrs

    def __next__(self) -> TableChunk:
        return next(self._chunks)

    def __iter__(self) -> TableStream:
        return self

    def close(self) -> None:
        """Stop reading early and release the file."""
        close = getattr(self._chunks, "close", None)
        if close:
            close()


def cells_of(columns: Sequence[str], values: Sequence[Any]) -> dict[str, str | None]:
    """A bad row's recovered cells by column name; values beyond the header as extra_1, extra_2, ..."""
    cells: dict[str, str | None] = {}
    for i, value in enumerate(values):
        key = columns[i] if i < len(columns) else f"extra_{i - len(columns) + 1}"
        cells[key] = None if value is None else str(value)
    return cells

"""What every table reader shares: the row and chunk types, the read error, header cleaning and detection,
the column-name matching the validator also uses (synpunkt.validate imports it from here, so that a reader can
ask "would the validator find a comment column here?" without importing the validator), and the chunk builder.
Errors and reasons name files, lines, sheets and columns by position, never cell text."""

from __future__ import annotations

import re
import unicodedata
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
DATE_COLUMN_CANDIDATES: tuple[str, ...] = (
    "datum", "date", "kontaktdatum", "contact_date", "inkom", "inkommen", "inkomdatum", "skapad", "created",
    "created_at", "tidpunkt", "timestamp",
)
ID_COLUMN_CANDIDATES: tuple[str, ...] = (
    "id", "ärende", "ärendenummer", "arendenummer", "ärende_id", "comment_id", "kommentar_id", "löpnummer",
    "lopnummer", "external_id",
)
CHANNEL_COLUMN_CANDIDATES: tuple[str, ...] = ("kanal", "channel", "kontaktväg", "kontaktvag", "kontaktsätt")
MUNICIPALITY_COLUMN_CANDIDATES: tuple[str, ...] = ("kommunkod", "kommun_kod", "municipality_code")
OTHER_ROLE_CANDIDATES: tuple[tuple[str, ...], ...] = (
    DATE_COLUMN_CANDIDATES, ID_COLUMN_CANDIDATES, CHANNEL_COLUMN_CANDIDATES, MUNICIPALITY_COLUMN_CANDIDATES,
)
"""The candidates of every role but the comment, in the validator's order (date first)."""
COMMENT_WORDS = ("synpunkt", "kommentar", "fritext", "beskrivning", "meddelande", "comment", "feedback")
"""A multi-word header holding one of these words (or its inflected form) may name the comment column
("Beskrivning av synpunkten"), when no header names it exactly and no other header looks like one."""
_COMMENT_ENDINGS = ("", "en", "er", "erna", "ar", "arna", "et", "t", "n", "na", "s")
_NOT_COMMENT_WORDS = frozenset(("id", "nr", "nummer", "number", "no", "datum", "date", "typ", "type", "kategori",
                                "category", "kod", "code", "tid", "time", "status", "antal", "count", "längd"))
"""A header with one of these words names something about the comment ("Synpunkt id", "Typ av synpunkt")."""

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


INVISIBLE_CHARS = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))
"""BOM and zero-width characters, dropped before comparing names (a str.translate table)."""
_DEDUP_SUFFIX = re.compile(r"(?:_\(\d{1,3}\)|[._]\d{1,3})$")


def header_key(name: object) -> str:
    """A column name compared loosely: BOM and zero-width characters dropped, NFC, case-folded, stripped,
    inner spaces and hyphens as one underscore ("Kontakt-datum " -> "kontakt_datum")."""
    text = unicodedata.normalize("NFC", str(name)).translate(INVISIBLE_CHARS).casefold()
    return "_".join(text.replace("-", " ").replace("_", " ").split())


def matches_candidate(key: str, wanted: set[str]) -> bool:
    """The key is a candidate, or a candidate with a de-duplication suffix ("kommentar_2", "kommentar.1")."""
    return key in wanted or _DEDUP_SUFFIX.sub("", key) in wanted


def pick_column(columns: Sequence[object], used: set[int], candidates: tuple[str, ...]) -> int | None:
    """Position of the first column (in file order) not yet used whose name matches one of the candidates."""
    wanted = {header_key(c) for c in candidates}
    return next((i for i, c in enumerate(columns)
                 if i not in used and matches_candidate(header_key(c), wanted)), None)


def _comment_word(word: str) -> bool:
    """A word of a header that is a comment word or an inflection of one ("synpunkten", "kommentarer")."""
    return any(word.startswith(w) and word[len(w):] in _COMMENT_ENDINGS for w in COMMENT_WORDS)


def loose_comment_columns(columns: Sequence[object],
                          roles: tuple[tuple[str, ...], ...] = OTHER_ROLE_CANDIDATES) -> list[int]:
    """Positions of the columns whose header holds a comment word ("Beskrivning av synpunkten") and nothing
    naming another role (`roles`: their candidates). More than one is ambiguous: the validator refuses that."""
    taken = {header_key(c) for candidates in roles for c in candidates}
    found = []
    for i, c in enumerate(columns):
        key = header_key(c)
        words = key.split("_")
        if matches_candidate(key, taken) or _NOT_COMMENT_WORDS.intersection(words):
            continue
        if any(_comment_word(w) for w in words):
            found.append(i)
    return found


def _header_cells(cells: Iterable[object]) -> list[str]:
    """Would-be header cells as names: quotes around them dropped (a title or header line split naively)."""
    return ["" if c is None else str(c).strip().strip('"') for c in cells]


def comment_column_like(cells: Iterable[object]) -> bool:
    """True if the validator would find a comment column among these header cells: one named like a comment
    column, or one (or, ambiguously, several) multi-word headers holding a comment word."""
    names = _header_cells(cells)
    return pick_column(names, set(), TEXT_COLUMN_CANDIDATES) is not None or bool(loose_comment_columns(names))


def names_required_columns(cells: Iterable[object]) -> bool:
    """True if the validator would find both required columns, a comment and a date column, among these cells
    (the same matching as synpunkt.validate.map_columns: the comment column first, the date among the rest)."""
    names = _header_cells(cells)
    comment = pick_column(names, set(), TEXT_COLUMN_CANDIDATES)
    if comment is None:
        loose = loose_comment_columns(names)
        comment = loose[0] if loose else None
    return comment is not None and pick_column(names, {comment}, DATE_COLUMN_CANDIDATES) is not None


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
    """Index of the header among the first non-blank rows (as cells): the first naming both a comment and a date
    column as the validator matches them; failing that, the first naming a comment column, if every row above it
    is a title (fewer filled cells than the header), else 0."""
    search = rows[:HEADER_SEARCH_ROWS]
    # A title may be as wide as the header (a merged group header, a title holding the separator), so a row
    # naming the required columns wins whatever lies above it; the width rule only guards weaker evidence.
    named = next((i for i, cells in enumerate(search) if names_required_columns(cells)), None)
    if named is not None:
        return named
    for i, cells in enumerate(search):
        if names_comment_column(cells):
            width = _filled(cells)
            return i if all(_filled(above) < width for above in rows[:i]) else 0
    return 0


def strip_header(name: object) -> str:
    """A header name as clean_headers keeps it: BOM and surrounding spaces dropped ("" for None)."""
    return str(name).replace("\ufeff", "").strip() if name is not None else ""


def header_fold(name: object) -> str:
    """What makes two header names the same column: the stripped name, case-folded ("Kommentar " = "kommentar")."""
    return strip_header(name).casefold()


def clean_headers(names: Sequence[object]) -> list[str]:
    """Header names stripped (BOM and spaces); empty ones named "Unnamed: i"; duplicates, compared without case,
    made unique with a suffix ("kommentar", "kommentar_2"), the first keeping its name."""
    stripped = [strip_header(n) for n in names]
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
    """A chunk's frame: rows (lists in column order, or dicts by column) indexed by their row numbers. Every
    column is of object dtype, each cell the value as read: pandas' type inference would turn a column of whole
    numbers with one missing value into floats (101 -> 101.0, a 17-digit case id rounded)."""
    index = pd.Index(numbers, dtype="int64")
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}, index=index)
    return pd.DataFrame(rows, columns=columns, index=index, dtype=object)


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

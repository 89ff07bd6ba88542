"""Read and write tables of citizen comments: CSV/TSV/TXT, XLSX, JSON, JSONL/NDJSON and Parquet.

`iter_table` streams a file in chunks of good rows plus the bad rows met on the way (a malformed CSV record, a
bad JSONL line, an undecodable line), each numbered: every data row of the file gets one 1-based number,
so rows received = good rows + bad rows. `read_table` gathers it all into one frame (index = row numbers,
df.attrs["bad_rows"]). Delimited text and XLSX are read as text only ("" for empty cells; "NA" stays "NA");
JSON, JSONL and Parquet keep their types, lists included. Errors name the file and the problem, never cell
contents. Encodings: see synpunkt.decoding; format details: synpunkt.readers.
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from synpunkt.decoding import PARQUET_MAGIC, ZIP_MAGIC, decode_text
from synpunkt.readers.common import (DEFAULT_CHUNK_ROWS, TEXT_COLUMN_CANDIDATES, BadRow, TableChunk,
                                     TableReadError, TableStream)
from synpunkt.readers.delimited import SEPARATORS, detect_separator, read_delimited
from synpunkt.readers.jsonfiles import read_json, read_jsonl
from synpunkt.readers.parquet import read_parquet
from synpunkt.readers.workbook import read_xlsx

log = logging.getLogger(__name__)

__all__ = ["TEXT_COLUMN_CANDIDATES", "READ_SUFFIXES", "WRITE_SUFFIXES", "SEPARATORS", "BadRow", "TableChunk",
           "TableStream", "TableReadError", "TableWriteError", "estimated_rows", "iter_table", "read_table", "write_table",
           "neutralise_formula", "keep_formulas_as_text", "join_list_cells", "find_column", "decode_text", "detect_separator"]

READ_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")
WRITE_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl", ".parquet")
LIST_SEPARATOR = ";"
_LISTS = (list, tuple, np.ndarray)


class TableWriteError(ValueError):
    """A table could not be written (unsupported suffix)."""


def iter_table(path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS,
               sheet: str | int | None = None) -> TableStream:
    """Stream a file in chunks with bounded memory: each chunk holds at most `chunk_rows` rows, good and bad
    together; chunk.frame holds the good ones (index = their 1-based data-row numbers; all chunks share the
    columns) and chunk.bad_rows the others. Whole-file failures (unsupported type, missing, empty, not a
    workbook, no header, ...) raise TableReadError here, before the first chunk. `sheet` (XLSX only) reads one
    sheet instead of all. The returned stream's `attrs` say what was detected (encoding, separator, sheets)."""
    path, suffix = _check_suffix(path, READ_SUFFIXES, TableReadError)
    if not path.is_file():
        raise TableReadError(f"{path}: {'is a directory, not a file' if path.is_dir() else 'file not found'}")
    if path.stat().st_size == 0:
        raise TableReadError(f"{path}: file is empty")
    suffix = content_suffix(path, suffix)
    if suffix == ".xlsx":
        return read_xlsx(path, sheet=sheet, chunk_rows=chunk_rows)
    if suffix == ".parquet":
        return read_parquet(path, chunk_rows=chunk_rows)
    if suffix == ".json":
        return read_json(path, chunk_rows=chunk_rows)
    if suffix in (".jsonl", ".ndjson"):
        return read_jsonl(path, chunk_rows=chunk_rows)
    return read_delimited(path, default_sep="\t" if suffix == ".tsv" else ",", chunk_rows=chunk_rows)


BINARY_FORMATS = {ZIP_MAGIC: ".xlsx", PARQUET_MAGIC: ".parquet"}
"""The suffix each binary format's first bytes (synpunkt.decoding) call for."""


def estimated_rows(path: str | Path) -> int | None:
    """About how many data rows a file holds, read cheaply for a progress bar's total: line breaks of delimited
    text (less the header) and JSONL, the row count of a Parquet file's footer; None for other formats or when
    the file cannot be read. An upper bound for text (a quoted cell may span lines)."""
    path = Path(path)
    try:
        suffix = binary_format(path) or path.suffix.lower()
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if suffix not in (".csv", ".tsv", ".txt", ".jsonl", ".ndjson"):
            return None
        lines, last = 0, b"\n"
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                lines, last = lines + block.count(b"\n"), block[-1:]
        lines += last != b"\n"  # a last line without a line break
        return max(lines - (suffix in (".csv", ".tsv", ".txt")), 0)
    except Exception:  # noqa: BLE001 - only a progress bar's total: the reader reports real problems
        return None


def binary_format(path: Path) -> str | None:
    """The suffix of the binary format the file's first bytes announce (BINARY_FORMATS), or None."""
    with open(path, "rb") as f:
        head = f.read(4)
    return next((real for magic, real in BINARY_FORMATS.items() if head.startswith(magic)), None)


def zip_content(names: set[str], mimetype: bytes) -> str | None:
    """What a zip archive holding the members `names` is, when it is not an Excel workbook (None when it may be
    one). `mimetype`: the start of its "mimetype" member (OpenDocument files have one)."""
    if any(name.startswith("xl/") for name in names):
        return None  # a workbook's parts, whole or not: the workbook reader reads or reports them
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "an OpenDocument spreadsheet (.ods), not an Excel workbook; save it as .xlsx"
    if any(name.startswith("word/") for name in names):
        return "a Word document (.docx), not a table"
    return "a zip archive that is not an Excel workbook; unpack it and submit the file inside"


def _not_a_workbook(path: Path) -> str | None:
    """Why a zip archive is not an Excel workbook, or None; a damaged archive is left to the workbook reader,
    which reports it. Member names are not echoed: they may hold personal data."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(64)
            else:
                mimetype = b""
    except Exception:  # noqa: BLE001 - truncated, encrypted, unsupported: the workbook reader reports it
        return None
    return zip_content(names, mimetype)


def content_suffix(path: Path, suffix: str) -> str:
    """The suffix the file's content calls for: an Excel workbook or a Parquet file saved under another name
    ("export.csv") is read as what it is, with a warning (the name is not logged: it may hold personal data).
    A zip archive that is not a workbook is refused here, saying what it is, before the workbook reader would
    fail on it with a less telling message."""
    real = binary_format(path)
    if real == ".xlsx" and (why := _not_a_workbook(path)):
        raise TableReadError(f"{path}: {why}")
    if real is not None and suffix != real:
        log.warning("a file named *%s holds %s content: read as %s", suffix, real, real)
        return real
    return suffix


def read_table(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a whole table of comments (the good rows; index = their 1-based data-row numbers).
    df.attrs: "bad_rows" (list of BadRow), and what was detected: "encoding" and "separator" for delimited
    text, "encoding" for JSON(L), "sheets"/"ignored_sheets"/"empty_sheets" and "sheet_rows" (each sheet's first
    and last data-row number) for XLSX."""
    stream = iter_table(path, sheet=sheet)
    frames, bad = [], []
    for chunk in stream:
        frames.append(chunk.frame)
        bad.extend(chunk.bad_rows)
    nonempty = [f for f in frames if len(f)] or frames[:1]
    df = pd.concat(nonempty) if len(nonempty) > 1 else nonempty[0]
    df.attrs = {**stream.attrs, "bad_rows": bad}
    df.attrs.pop("header_line", None)
    return df


READ_ERROR_COLUMN = "read_error"


def with_unread_rows(out: pd.DataFrame, bad_rows: list[BadRow]) -> pd.DataFrame:
    """The classified rows with the rows that could not be read put back in their place (pure): their recovered
    cells, no predictions, and the reason (which names lines and columns, never values) in READ_ERROR_COLUMN, so
    that the output has a row for every data row of the input."""
    if not bad_rows:
        return out
    unread = pd.DataFrame([{**{k: v for k, v in (b.cells or {}).items() if k in out.columns},
                            READ_ERROR_COLUMN: b.reason} for b in bad_rows],
                          index=[b.row_number for b in bad_rows])
    return pd.concat([out.assign(**{READ_ERROR_COLUMN: ""}), unread]).sort_index()


SHEET_COLUMN = "sheet"


def with_sheet_column(out: pd.DataFrame, sheet_rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    """`out` (index: data-row numbers) with the name of the workbook sheet each row came from as its first column,
    when rows came from more than one sheet (pure; sheet_rows: read_table's attrs["sheet_rows"]). Row numbers run on
    from sheet to sheet, so without it a row of the second sheet could not be found in the workbook."""
    if len(sheet_rows) < 2:
        return out
    names = pd.Series(pd.NA, index=out.index, dtype="object")
    for name, first, last in sheet_rows:
        names[(out.index >= first) & (out.index <= last)] = name
    column = SHEET_COLUMN if SHEET_COLUMN not in out.columns else f"source_{SHEET_COLUMN}"
    return out.assign(**{column: names})[[column, *out.columns]]


def _check_suffix(path: str | Path, suffixes: tuple[str, ...], error: type[ValueError]) -> tuple[Path, str]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise error(f"{path}: unsupported file type {suffix or '(no suffix)'!r}; supported: {', '.join(suffixes)}")
    return path, suffix


# --- writing --------------------------------------------------------------------------------------------------

_FORMULA = re.compile(r"\s*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r]")


def is_formula_like(value: object) -> bool:
    """True for text a spreadsheet would run as a formula: starting with = + - @ (after any spaces, tabs,
    line breaks), or with a tab or a carriage return."""
    return isinstance(value, str) and _FORMULA.match(value) is not None


def neutralise_formula(value: object) -> object:
    """Text a spreadsheet would run as a formula, prefixed with ' (OWASP's advice for CSV); other values as is."""
    return "'" + value if is_formula_like(value) else value


def join_list_cells(df: pd.DataFrame, sep: str = LIST_SEPARATOR) -> pd.DataFrame:
    """Copy of df where list cells become one string: ["handler", "wait_time"] -> "handler;wait_time"."""
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object:
            out.isetitem(i, col.map(lambda v: sep.join(map(str, v)) if isinstance(v, _LISTS) else v))
    return out


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write df by suffix (.csv as UTF-8 with BOM, .xlsx, .json, .jsonl, .parquet), creating folders.
    CSV and XLSX get list cells joined with ";" and are safe to open in a spreadsheet: in CSV, text that would
    run as a formula is prefixed with ' and fields holding a line break or carriage return are quoted; in
    XLSX such text is stored as text marked quote-prefixed (shown and kept as text, value unchanged).
    JSON, JSONL and Parquet are data, written unchanged with real lists."""
    path, suffix = _check_suffix(path, WRITE_SUFFIXES, TableWriteError)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _write_csv(join_list_cells(df), path)
    elif suffix == ".xlsx":
        _write_xlsx(join_list_cells(df), path)
    elif suffix == ".json":
        df.to_json(path, orient="records", force_ascii=False, indent=2, date_format="iso")
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False, date_format="iso")
    else:
        df.to_parquet(path, index=False)
    return path


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with "\\r\\n" line ends: the csv module then quotes every field holding \\r or \\n."""
    out = df.map(neutralise_formula)
    out.columns = [neutralise_formula(c) for c in df.columns]
    out.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    """Write with openpyxl, dropping characters Excel forbids (e.g. \\x0b pasted from Word). Text that starts
    like a formula stays text: typed as a string (openpyxl would store "=..." as a formula and the comment
    would be lost) and quote-prefixed, so that Excel shows it as text and keeps it text when edited."""
    df = df.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
    df.columns = [ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in df.columns]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        df.to_excel(writer, index=False)
        keep_formulas_as_text(writer.sheets["Sheet1"])


def keep_formulas_as_text(sheet) -> None:
    """Every cell of an openpyxl worksheet whose text starts like a formula ("=HYPERLINK(...)", "+46 70...", "-")
    typed as a string and quote-prefixed: Excel shows it as text and never runs it (OWASP's CSV-injection advice,
    for XLSX). Citizens' comments reach contact-centre staff in such sheets."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or is_formula_like(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True


def find_column(df: pd.DataFrame, preferred: str | None, candidates: tuple[str, ...]) -> str:
    """`preferred` if it is a column (else ValueError), otherwise the first column whose stripped,
    lower-cased name is one of `candidates` (else ValueError). Messages count the columns and name only those
    whose name is one of `candidates`: a file without a header has its first row, personal data and all, as
    column names."""
    count = f"{len(df.columns)} column" + ("" if len(df.columns) == 1 else "s")
    wanted = {c.strip().lower() for c in candidates}
    matching = [c for c in df.columns if str(c).strip().lower() in wanted]
    if preferred is not None:
        if preferred in df.columns:
            return preferred
        hint = f"; columns named like {'/'.join(candidates)}: {', '.join(map(repr, matching))}" if matching else ""
        raise ValueError(f"column {preferred!r} not found among the file's {count}{hint}")
    if matching:
        return matching[0]
    raise ValueError(f"no column named like {'/'.join(candidates)} (any case) among the file's {count}")

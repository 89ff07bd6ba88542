"""Read and write tables of citizen comments: CSV/TSV/TXT, XLSX, JSON, JSONL/NDJSON and Parquet.
Delimited text and XLSX are read as text only ("" for empty cells; "NA" stays "NA"); JSON, JSONL and
Parquet keep their types, lists included. Errors name file and problem, never cell contents."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from charset_normalizer import from_bytes
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

TEXT_COLUMN_CANDIDATES: tuple[str, ...] = (
    "text", "kommentar", "synpunkt", "fritext", "comment", "svar", "meddelande", "beskrivning", "feedback",
)
"""Column names (lower case) that may hold the free-text comment."""

READ_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")
WRITE_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl", ".parquet")
SEPARATORS = ",;\t|"
LIST_SEPARATOR = ";"
_SNIFF_CHARS = 64_000
_LISTS = (list, tuple, np.ndarray)


class TableReadError(ValueError):
    """A table file could not be read. The message names the file and the reason, never cell text."""


class TableWriteError(ValueError):
    """A table could not be written (unsupported suffix)."""


def read_table(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a table of comments, choosing the reader by suffix; `sheet` applies to .xlsx only.
    For delimited text, df.attrs["encoding"] and df.attrs["separator"] say what was detected."""
    path, suffix = _check_suffix(path, READ_SUFFIXES, TableReadError)
    if not path.is_file():
        raise TableReadError(f"{path}: {'is a directory, not a file' if path.is_dir() else 'file not found'}")
    if path.stat().st_size == 0:
        raise TableReadError(f"{path}: file is empty")
    if suffix == ".xlsx":
        df = _read_xlsx(path, sheet)
    elif suffix == ".parquet":
        df = _read_parquet(path)
    else:
        try:
            text, encoding = decode_text(path.read_bytes())
        except UnicodeError:
            raise TableReadError(f"{path}: cannot decode the text (not UTF-8, UTF-16 or Windows-1252)") from None
        if not text.strip():
            raise TableReadError(f"{path}: file is empty")
        if suffix == ".json":
            df = _read_json(text, path)
        elif suffix in (".jsonl", ".ndjson"):
            df = _read_jsonl(text, path)
        else:
            df = _read_delimited(text, path, default_sep="\t" if suffix == ".tsv" else ",")
            df.attrs["encoding"] = encoding
    df.columns = [c.strip().lstrip("\ufeff").strip() if isinstance(c, str) else c for c in df.columns]
    return df


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM stripped), UTF-16 with BOM or Windows-1252; charset-normalizer only
    when all of those fail. Returns (text, encoding); raises UnicodeError if nothing fits."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    best = from_bytes(raw).best()
    if best is None:
        raise UnicodeError("no known text encoding fits")
    return str(best).lstrip("\ufeff"), best.encoding


def detect_separator(text: str, default: str = ",") -> str:
    """Guess the separator among , ; tab | with csv.Sniffer, checked against the header line; falls
    back to the one most frequent in the header line. A one-column file gets one that splits no row."""
    header, sample = text.partition("\n")[0], text[:_SNIFF_CHARS]
    if not any(sep in header for sep in SEPARATORS):
        return min((default, *SEPARATORS), key=sample.count)
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
        if sep in header:
            return sep
    except csv.Error:
        pass
    return max(SEPARATORS, key=header.count)


def _check_suffix(path: str | Path, suffixes: tuple[str, ...], error: type[ValueError]) -> tuple[Path, str]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise error(f"{path}: unsupported file type {suffix or '(no suffix)'!r}; supported: {', '.join(suffixes)}")
    return path, suffix


def _read_delimited(text: str, path: Path, default_sep: str) -> pd.DataFrame:
    sep = detect_separator(text, default_sep)
    try:
        # index_col=False: a trailing separator on data rows must not shift the columns
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f" near line {line.group(1)}" if line else ""
        raise TableReadError(f"{path}: malformed delimited text{where} (separator {sep!r})") from None
    df = df.fillna("")  # rows with missing trailing fields
    df.attrs["separator"] = sep
    return df


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    sheet = 0 if sheet is None else sheet
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
            if sheet in (names if isinstance(sheet, str) else range(len(names))):
                return pd.read_excel(book, sheet_name=sheet, dtype=str, keep_default_na=False).fillna("")
    except Exception as exc:  # zipfile, openpyxl and XML errors alike
        raise TableReadError(f"{path}: not a valid .xlsx workbook ({type(exc).__name__})") from None
    raise TableReadError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(names)}")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError, ...
        raise TableReadError(f"{path}: not a valid Parquet file ({type(exc).__name__})") from None
    return pd.DataFrame(table.to_pydict())  # via Python objects so that list cells are lists, not arrays


def _read_json(text: str, path: Path) -> pd.DataFrame:
    """A list of objects, an object with one list of objects (e.g. {"comments": [...]}),
    or pandas "columns" orientation ({column: {row: value}})."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise TableReadError(f"{path}: malformed JSON at {where}: {exc.msg}") from None
    not_table = f"{path}: JSON shape is not a table"
    if isinstance(data, dict):
        tables = [k for k, v in data.items() if isinstance(v, list) and all(isinstance(r, dict) for r in v)]
        if len(tables) > 1:
            raise TableReadError(f"{not_table}: it is ambiguous which list of objects to use ({', '.join(tables)})")
        if tables:
            data = data[tables[0]]
        elif data and all(isinstance(v, dict) for v in data.values()):
            index = list(dict.fromkeys(key for column in data.values() for key in column))
            return pd.DataFrame({name: [col.get(key) for key in index] for name, col in data.items()})
        else:
            raise TableReadError(f"{not_table}: the object holds no list of objects and is not column-oriented")
    if not isinstance(data, list):
        raise TableReadError(f"{not_table}: top level is {type(data).__name__}, not a list or an object")
    bad = next((n for n, row in enumerate(data, 1) if not isinstance(row, dict)), None)
    if bad is not None:
        raise TableReadError(f"{not_table}: item {bad} of the list is not an object")
    return pd.DataFrame(data)


def _read_jsonl(text: str, path: Path) -> pd.DataFrame:
    rows = []
    for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may sit inside strings
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            where = f"line {lineno}, column {exc.colno}"
            raise TableReadError(f"{path}: malformed JSON on {where}: {exc.msg}") from None
        if not isinstance(row, dict):
            raise TableReadError(f"{path}: line {lineno} is not a JSON object")
        rows.append(row)
    return pd.DataFrame(rows)


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
    CSV and XLSX get list cells joined with ";"; JSON, JSONL and Parquet keep real lists."""
    path, suffix = _check_suffix(path, WRITE_SUFFIXES, TableWriteError)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        join_list_cells(df).to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        _write_xlsx(join_list_cells(df), path)
    elif suffix == ".json":
        df.to_json(path, orient="records", force_ascii=False, indent=2, date_format="iso")
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False, date_format="iso")
    else:
        df.to_parquet(path, index=False)
    return path


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    """Write with openpyxl, dropping characters Excel forbids (e.g. \\x0b pasted from Word) and keeping
    text that starts with "=" as text: openpyxl would store it as a formula and the comment would be lost."""
    df = df.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        df.to_excel(writer, index=False)
        for row in writer.sheets["Sheet1"].iter_rows():
            for cell in row:
                cell.data_type = "s" if cell.data_type == "f" else cell.data_type


def find_column(df: pd.DataFrame, preferred: str | None, candidates: tuple[str, ...]) -> str:
    """`preferred` if it is a column (else ValueError), otherwise the first column whose stripped,
    lower-cased name is one of `candidates`; ValueError listing the available columns if none is."""
    available = ", ".join(map(str, df.columns)) or "(none)"
    if preferred is not None:
        if preferred in df.columns:
            return preferred
        raise ValueError(f"column {preferred!r} not found; available columns: {available}")
    wanted = {c.strip().lower() for c in candidates}
    for column in df.columns:
        if str(column).strip().lower() in wanted:
            return column
    raise ValueError(f"no column named like {'/'.join(candidates)} (any case); available columns: {available}")

"""Read and write tables of citizen comments: CSV/TSV/TXT, XLSX, JSON, JSONL/NDJSON and Parquet.

Delimited text and XLSX are read as text only ("" for empty cells; "NA" stays "NA"); JSON, JSONL and
Parquet keep their types, lists included. Errors name file and problem, never cell contents.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

TEXT_COLUMN_CANDIDATES: tuple[str, ...] = (
    "text", "kommentar", "synpunkt", "fritext", "comment", "svar", "meddelande", "beskrivning", "feedback",
)
"""Column names (lower case) that hold the free-text comment, tried in the table's column order."""

DELIMITED_SUFFIXES = (".csv", ".tsv", ".txt")
READ_SUFFIXES = (*DELIMITED_SUFFIXES, ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")
WRITE_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl", ".parquet")
SEPARATORS = ",;\t|"
LIST_SEPARATOR = ";"
_SNIFF_CHARS = 64_000


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
            raise TableReadError(f"{path}: could not decode the text (not UTF-8, UTF-16 or Windows-1252)") from None
        if not text.strip():
            raise TableReadError(f"{path}: file is empty")
        if suffix == ".json":
            df = _read_json(text, path)
        elif suffix in (".jsonl", ".ndjson"):
            df = _read_jsonl(text, path)
        else:
            df = _read_delimited(text, path, default_sep="\t" if suffix == ".tsv" else ",")
            df.attrs.update(encoding=encoding)
    df.columns = [clean_header(c) for c in df.columns]
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
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise UnicodeError("no known text encoding fits")
    return str(best).lstrip("\ufeff"), best.encoding


def detect_separator(text: str, default: str = ",") -> str:
    """Guess the separator among , ; tab | with csv.Sniffer, checked against the header line."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header = text.partition("\n")[0]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
        if sep in header:
            return sep
    except csv.Error:
        pass
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else default


def _check_suffix(path: str | Path, suffixes: tuple[str, ...], error: type[ValueError]) -> tuple[Path, str]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise error(f"{path}: unsupported file type {suffix or '(no suffix)'!r}; supported: {', '.join(suffixes)}")
    return path, suffix


def clean_header(name: Any) -> Any:
    """Strip whitespace and a stray BOM from a column name; leave case (and non-strings) alone."""
    return name.strip().lstrip("\ufeff").strip() if isinstance(name, str) else name


def _read_delimited(text: str, path: Path, default_sep: str) -> pd.DataFrame:
    sep = detect_separator(text, default_sep)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, quotechar='"', dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise TableReadError(f"{path}: file has no columns") from None
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f" near line {line.group(1)}" if line else ""
        raise TableReadError(f"{path}: malformed delimited text{where} (separator {sep!r})") from None
    df = df.fillna("")  # rows with missing trailing fields
    df.attrs["separator"] = sep
    return df


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # zipfile, openpyxl and XML errors alike
        raise TableReadError(f"{path}: not a valid .xlsx workbook ({type(exc).__name__})") from None
    with book:
        names, sheet = book.sheet_names, 0 if sheet is None else sheet
        if sheet not in (names if isinstance(sheet, str) else range(len(names))):
            raise TableReadError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(names)}")
        try:
            df = book.parse(sheet, dtype=str, keep_default_na=False)
        except Exception as exc:
            raise TableReadError(f"{path}: could not read sheet {sheet!r} ({type(exc).__name__})") from None
    return df.fillna("")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        raise TableReadError(f"{path}: not a valid Parquet file ({type(exc).__name__})") from None
    return _map_cells(df, lambda v: isinstance(v, np.ndarray), lambda v: v.tolist())  # pyarrow gives arrays


def _read_json(text: str, path: Path) -> pd.DataFrame:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (one object per line? name the file .jsonl)" if exc.msg == "Extra data" else ""
        raise TableReadError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None
    try:
        return json_to_frame(data)
    except ValueError as exc:
        raise TableReadError(f"{path}: {exc}") from None


def json_to_frame(data: Any) -> pd.DataFrame:
    """Turn parsed JSON into a table: a list of objects, an object with one list of objects
    (e.g. {"comments": [...]}), or pandas "columns" orientation ({column: {row: value}})."""
    if isinstance(data, dict):
        tables = [key for key, value in data.items() if isinstance(value, list) and all(isinstance(r, dict) for r in value)]
        if len(tables) > 1:
            raise ValueError(f"JSON shape is ambiguous: several lists of objects ({', '.join(tables)})")
        if tables:
            data = data[tables[0]]
        elif data and all(isinstance(value, dict) for value in data.values()):
            index = list(dict.fromkeys(key for column in data.values() for key in column))
            return pd.DataFrame({name: [col.get(key) for key in index] for name, col in data.items()})
        else:
            raise ValueError("JSON shape is not a table: the object holds no list of objects and is not column-oriented")
    if not isinstance(data, list):
        raise ValueError(f"JSON shape is not a table: top level is {type(data).__name__}, not a list or an object")
    bad = next((n for n, row in enumerate(data, 1) if not isinstance(row, dict)), None)
    if bad is not None:
        raise ValueError(f"JSON shape is not a table: item {bad} of the list is not an object")
    return pd.DataFrame(data)


def _read_jsonl(text: str, path: Path) -> pd.DataFrame:
    rows = []
    for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may sit inside strings
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TableReadError(f"{path}: malformed JSON on line {lineno}, column {exc.colno}: {exc.msg}") from None
        if not isinstance(row, dict):
            raise TableReadError(f"{path}: line {lineno} is not a JSON object")
        rows.append(row)
    return pd.DataFrame(rows)


def _map_cells(df: pd.DataFrame, test: Callable[[Any], bool], change: Callable[[Any], Any]) -> pd.DataFrame:
    """Copy of df with change(v) for every cell v of an object column where test(v) holds."""
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object and col.map(test).any():
            out.isetitem(i, col.map(lambda v: change(v) if test(v) else v))
    return out


def join_list_cells(df: pd.DataFrame, sep: str = LIST_SEPARATOR) -> pd.DataFrame:
    """Copy of df where list cells become one joined string: ["handler", "wait_time"] -> "handler;wait_time"."""
    return _map_cells(df, lambda v: isinstance(v, (list, tuple, np.ndarray)), lambda v: sep.join(map(str, v)))


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
    """Write with openpyxl, dropping characters Excel forbids and keeping "=..." text as text, not formulas."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    df = df.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)  # e.g. \x0b from Word
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        df.to_excel(writer, index=False)
        for row in writer.sheets["Sheet1"].iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"

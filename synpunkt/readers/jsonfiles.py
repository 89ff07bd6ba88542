"""JSON and JSONL/NDJSON. Values keep their JSON types (lists included).

JSONL is streamed twice, line by line: once for the columns (the union of the objects' keys, in order of first
appearance; keys equal but for case and surrounding space are one column, see _column_names), once for the rows; a line that is not valid JSON or not an object becomes a BadRow. A JSON document
is read whole (a list of objects, an object holding one such list, or pandas' "columns" orientation); an item of
the list that is not an object becomes a BadRow.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synpunkt.decoding import Line, TextEncoding, iter_lines
from synpunkt.readers.common import (BadRow, ChunkBuilder, TableChunk, TableReadError, TableStream,
                                     clean_headers, header_fold, is_blank, open_text_file, undecodable_reason)

_UNDECODABLE = "no supported text encoding (UTF-8, UTF-16, Windows-1252, code page 850) explains its bytes"


def _raw_cells(value: Any) -> dict[str, str | None]:
    return {"value": value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}


def _renamed(row: dict, names: dict[str, str]) -> dict:
    return {names[k]: v for k, v in row.items()}


def _clashes(row: dict) -> set[str]:
    """The folded names (header_fold) that two or more keys of one object share ("Kommentar" and "kommentar")."""
    counts = Counter(header_fold(k) for k in row)
    return {fold for fold, n in counts.items() if n > 1}


def _column_names(keys: list[str], clashing: set[str]) -> dict[str, str]:
    """Each key's column: keys that differ only in case or surrounding space (one export writing "Kommentar",
    another "kommentar") share the column of the first spelling met. Where one object holds two such keys
    (`clashing`) they are two values, so each spelling keeps a column of its own ("kommentar_2")."""
    first: dict[str, str] = {}
    spelling: dict[str, str] = {}
    for key in keys:
        fold = header_fold(key)
        spelling[key] = key if fold in clashing else first.setdefault(fold, key)
    distinct = list(dict.fromkeys(spelling.values()))
    cleaned = dict(zip(distinct, clean_headers(distinct)))
    return {key: cleaned[spelling[key]] for key in keys}


# --- JSONL ----------------------------------------------------------------------------------------------------


def _parse_line(line: Line, number: int) -> dict | BadRow:
    where = f"line {line.number}"
    if line.undecodable:
        return BadRow(number, "undecodable_text", undecodable_reason(line), {"line": line.text.rstrip("\r\n")})
    try:
        value = json.loads(line.text)
    except json.JSONDecodeError as exc:
        return BadRow(number, "malformed_json", f"{where}, column {exc.colno}: malformed JSON: {exc.msg}",
                      {"line": line.text.rstrip("\r\n")})
    if not isinstance(value, dict):
        return BadRow(number, "not_an_object", f"{where} is not a JSON object (a {type(value).__name__})",
                      _raw_cells(value))
    return value


def _jsonl_rows(stream, encoding: TextEncoding) -> Iterator[tuple[int, dict | BadRow]]:
    number = 0
    for line in iter_lines(stream, encoding):
        if not is_blank(line.text):  # lines split at \n only: U+2028 may sit inside strings
            number += 1
            yield number, _parse_line(line, number)


def read_jsonl(path: Path, *, chunk_rows: int) -> TableStream:
    """Open a JSONL file: a first pass collects the columns (errors raised now); the rows follow as chunks."""
    stream, encoding = open_text_file(path)
    try:
        keys: dict[str, None] = {}
        clashing: set[str] = set()
        rows = 0
        for _, row in _jsonl_rows(stream, encoding):
            rows += 1
            if isinstance(row, dict):
                keys.update(dict.fromkeys(row))
                clashing |= _clashes(row)
        if not rows:
            raise TableReadError(f"{path}: file is empty")
    except BaseException:
        stream.close()
        raise
    names = _column_names(list(keys), clashing)
    attrs = {"encoding": encoding.label}
    return TableStream(_jsonl_chunks(stream, encoding, names, chunk_rows, attrs), attrs)


def _jsonl_chunks(stream, encoding: TextEncoding, names: dict[str, str], chunk_rows: int,
                  attrs: dict) -> Iterator[TableChunk]:
    with stream:
        builder = ChunkBuilder(list(dict.fromkeys(names.values())), chunk_rows, attrs)
        for number, row in _jsonl_rows(stream, encoding):
            chunk = builder.add_bad(row) if isinstance(row, BadRow) else builder.add(number, _renamed(row, names))
            if chunk is not None:
                yield chunk
        yield from builder.finish()


# --- JSON -----------------------------------------------------------------------------------------------------


def _document(path: Path) -> tuple[Any, bool, str]:
    """The parsed document, whether some line could not be decoded, and the encoding label."""
    stream, encoding = open_text_file(path)
    with stream:
        lines = list(iter_lines(stream, encoding))
    text = "".join(line.text for line in lines).rstrip("\x00 \t\r\n")  # NUL padding after the document
    if not text.strip():
        raise TableReadError(f"{path}: file is empty")
    bad = next((line for line in lines if line.undecodable and not is_blank(line.text)), None)
    try:
        return json.loads(text), bad is not None, encoding.label
    except json.JSONDecodeError as exc:
        if bad is not None:
            raise TableReadError(f"{path}: {undecodable_reason(bad)}") from None
        where = f"line {exc.lineno}, column {exc.colno}"
        raise TableReadError(f"{path}: malformed JSON at {where}: {exc.msg}") from None


def _items(data: Any, path: Path) -> list[Any]:
    """The table's rows: a list of objects, an object with one list of objects, or column orientation."""
    not_table = f"{path}: JSON shape is not a table"
    if isinstance(data, dict):
        tables = [k for k, v in data.items() if isinstance(v, list) and any(isinstance(r, dict) for r in v)]
        if len(tables) > 1:
            raise TableReadError(f"{not_table}: it is ambiguous which list of objects to use "
                                 f"({len(tables)} lists of objects)")
        if tables:
            data = data[tables[0]]
        elif data and all(isinstance(v, dict) for v in data.values()):
            index = list(dict.fromkeys(key for column in data.values() for key in column))
            return [{name: col.get(key) for name, col in data.items()} for key in index]
        else:
            raise TableReadError(f"{not_table}: the object holds no list of objects and is not column-oriented")
    if not isinstance(data, list):
        raise TableReadError(f"{not_table}: top level is {type(data).__name__}, not a list or an object")
    if data and not any(isinstance(r, dict) for r in data):
        raise TableReadError(f"{not_table}: no item of the list is an object")
    return data


def _has_replacement(value: Any) -> bool:
    if isinstance(value, str):
        return "\ufffd" in value
    if isinstance(value, dict):
        return any(_has_replacement(k) or _has_replacement(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_replacement, value))
    return False


def read_json(path: Path, *, chunk_rows: int) -> TableStream:
    """Read a JSON document whole (errors raised now); its rows follow as chunks."""
    data, undecodable, label = _document(path)
    items = _items(data, path)
    objects = [item for item in items if isinstance(item, dict)]
    keys = list(dict.fromkeys(k for item in objects for k in item))
    names = _column_names(keys, set().union(*map(_clashes, objects)))
    attrs = {"encoding": label}
    return TableStream(_json_chunks(items, undecodable, names, chunk_rows, attrs), attrs)


def _json_chunks(items: list[Any], undecodable: bool, names: dict[str, str], chunk_rows: int,
                 attrs: dict) -> Iterator[TableChunk]:
    builder = ChunkBuilder(list(dict.fromkeys(names.values())), chunk_rows, attrs)
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            chunk = builder.add_bad(BadRow(number, "not_an_object", f"item {number} of the list is not an object "
                                           f"(a {type(item).__name__})", _raw_cells(item)))
        elif undecodable and _has_replacement(item):
            chunk = builder.add_bad(BadRow(number, "undecodable_text", f"item {number}: {_UNDECODABLE}",
                                           {k: _raw_cells(v)["value"] for k, v in item.items()}))
        else:
            chunk = builder.add(number, _renamed(item, names))
        if chunk is not None:
            yield chunk
    yield from builder.finish()

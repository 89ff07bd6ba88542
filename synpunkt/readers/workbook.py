"""XLSX workbooks, streamed sheet by sheet with openpyxl's read-only mode.

Every sheet is read unless one is named. In each, the header is found by readers.common.pick_header among the
first 20 non-empty rows (the first naming a comment and a date column): title rows above it are skipped. Sheets
with the same columns (names compared without case or surrounding space) are read one after the other, row
numbers running on; empty sheets are skipped. If the sheets' columns differ, the data sheets (those where the
validator would find a comment column, loosely named ones included) are read when they agree; the others are
ignored, logged and listed in attrs["ignored_sheets"]. Data sheets that disagree fail the workbook, naming two of
them: no sheet of comments is ever dropped.
Cells come out as text the validator can parse: dates as ISO "YYYY-MM-DD" (with the time if it is not
midnight), whole numbers without ".0", empty cells as "".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from synpunkt.readers.common import (HEADER_SEARCH_ROWS, BadRow, ChunkBuilder, TableChunk, TableReadError,
                                     TableStream, cells_of, clean_headers, comment_column_like, header_fold,
                                     looks_like_data, pick_header)

log = logging.getLogger(__name__)


def cell_text(value: object) -> str:
    """An Excel cell value as text: "" for empty, ISO dates, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _blank(row: tuple) -> bool:
    return all(v is None or v == "" for v in row)


def _rows(sheet) -> Iterator[tuple[int, tuple]]:
    """(Excel row number, values) of a sheet's non-empty rows."""
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
    for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
        if not _blank(row):
            yield number, row


@dataclass
class _Layout:
    name: str
    header_row: int  # Excel row number of the header
    columns: list[str]
    named: bool  # the validator would find a comment column in the header: a data sheet
    data_like: bool  # the header holds numbers or dates


def _layout(sheet) -> _Layout | None:
    """Where a sheet's header is and what it names; None for an empty sheet."""
    found: list[tuple[int, list[str]]] = []
    for number, row in _rows(sheet):
        found.append((number, [cell_text(v) for v in row]))
        if len(found) >= HEADER_SEARCH_ROWS:
            break
    if not found:
        return None
    number, names = found[pick_header([cells for _, cells in found])]
    while names and not names[-1].strip():
        names.pop()
    return _Layout(sheet.title, number, clean_headers(names), comment_column_like(names), looks_like_data(names))


def _folded(columns: list[str]) -> list[str]:
    """Column names as sheets are matched by them: "Kommentar" on one sheet is "kommentar" on another."""
    return [header_fold(c) for c in columns]


def _same(a: _Layout, b: _Layout) -> bool:
    """The sheets have the same columns, in any order (clean_headers made each sheet's folded names unique)."""
    return len(a.columns) == len(b.columns) and set(_folded(a.columns)) == set(_folded(b.columns))


def _order(layout: _Layout, columns: list[str]) -> list[int]:
    """Where each of `columns` (the first sheet's) sits in this sheet, matched as _same matches them."""
    folded = _folded(layout.columns)
    return [folded.index(header_fold(c)) for c in columns]


def _select(layouts: list[_Layout], path: Path) -> tuple[list[_Layout], list[str]]:
    """The sheets to read and the names of those ignored (see the module docstring)."""
    if all(_same(layout, layouts[0]) for layout in layouts):
        return layouts, []
    commented = [layout for layout in layouts if layout.named]
    if commented and all(_same(layout, commented[0]) for layout in commented):
        return commented, [layout.name for layout in layouts if not layout.named]
    group = commented or layouts
    other = next(layout for layout in group if not _same(layout, group[0]))
    # Two sheets of comments that cannot be read as one table fail the batch: ignoring one would lose its rows
    # without counting them.
    hint = "both hold comments" if commented else "neither names a comment column"
    raise TableReadError(f"{path}: sheets {group[0].name!r} and {other.name!r} have different columns ({hint}); "
                         "give every sheet the same header, or submit the sheets as separate files")


def _open_book(path: Path):
    try:  # openpyxl goes by the suffix: a workbook saved as "export.csv" is read from memory instead
        source = path if path.suffix.lower() == ".xlsx" else BytesIO(path.read_bytes())
        return openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, openpyxl and XML errors alike
        raise TableReadError(f"{path}: not a valid .xlsx workbook ({type(exc).__name__})") from None


def read_xlsx(path: Path, *, sheet: str | int | None, chunk_rows: int) -> TableStream:
    """Open a workbook and settle which sheets to read and their header (errors raised now); rows follow."""
    book = _open_book(path)
    try:
        names = book.sheetnames
        if sheet is not None:
            if sheet not in (names if isinstance(sheet, str) else range(len(names))):
                raise TableReadError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(names)}")
            wanted = [sheet if isinstance(sheet, str) else names[sheet]]
        else:
            wanted = [ws.title for ws in book.worksheets]
        found = {name: _layout(book[name]) for name in wanted}
        layouts = [layout for layout in found.values() if layout is not None]
        if not layouts:
            raise TableReadError(f"{path}: no data: {'the sheet is' if sheet is not None else 'every sheet is'} "
                                 "empty")
        selected, ignored = _select(layouts, path)
        for layout in selected:
            if not layout.named and layout.data_like:
                raise TableReadError(f"{path}: sheet {layout.name!r}: no header row found: row "
                                     f"{layout.header_row} holds values (numbers or dates), not column names")
    except TableReadError:
        book.close()
        raise
    except Exception as exc:
        book.close()
        raise TableReadError(f"{path}: not a valid .xlsx workbook ({type(exc).__name__})") from None
    if ignored:
        log.warning("%d sheet(s) without a comment column ignored: %s", len(ignored), ", ".join(ignored))
    attrs = {"sheets": [layout.name for layout in selected], "ignored_sheets": ignored,
             "empty_sheets": [name for name, layout in found.items() if layout is None]}
    return TableStream(_chunks(book, path, selected, chunk_rows, attrs), attrs)


def _chunks(book, path: Path, selected: list[_Layout], chunk_rows: int, attrs: dict) -> Iterator[TableChunk]:
    columns = selected[0].columns
    builder = ChunkBuilder(columns, chunk_rows, attrs)
    number = 0
    attrs["sheet_rows"] = []  # (sheet, its first and last data-row number), filled as each sheet is read
    try:
        for layout in selected:
            first = number + 1
            width = len(layout.columns)
            order = _order(layout, columns)
            for excel_row, row in _rows(book[layout.name]):
                if excel_row <= layout.header_row:
                    continue
                number += 1
                texts = [cell_text(v) for v in row]
                extra = next((i for i in range(width, len(texts)) if texts[i].strip()), None)
                if extra is not None:
                    chunk = builder.add_bad(BadRow(
                        number, "malformed_row", f"sheet {layout.name!r}, row {excel_row}: a value in column "
                        f"{get_column_letter(extra + 1)}, which has no header", cells_of(layout.columns, texts)))
                else:
                    texts += [""] * (width - len(texts))
                    chunk = builder.add(number, [texts[i] for i in order])
                if chunk is not None:
                    yield chunk
            if number >= first:
                attrs["sheet_rows"].append((layout.name, first, number))
        yield from builder.finish()
    except TableReadError:
        raise
    except Exception as exc:
        raise TableReadError(f"{path}: the workbook is damaged ({type(exc).__name__})") from None
    finally:
        book.close()

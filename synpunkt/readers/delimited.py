"""Delimited text (CSV, TSV, TXT), streamed line by line with bounded memory.

Before the data: an Excel "sep=;" line is honoured and skipped; title rows above the header are skipped (the
header is the first of the first 20 non-blank lines naming a comment column). Each data record gets the next
row number; a record that cannot be read becomes a BadRow and the lines after it are read as usual:

- too many fields (empty trailing fields are dropped; too few are padded with ""),
- a quote that is not closed: a quoted field running over several lines whose closing quote is followed by
  text, that reaches the end of the file, or that swallows lines which are records of their own (a stray quote
  "closed" by another one rows later: most lines it swallowed are formatted like records, see _Records._is_row).
  The opening line is quarantined and the lines after it are read as rows. A quote that closes properly is
  kept whole however many lines it spans, even when its lines begin like records ("2025-03-02, ingen svarade").
- a quoted field of more than MAX_SPAN_CHARS characters whose lines are not records: one bad row (text_too_long).
- a line whose bytes no supported text encoding explains (see synpunkt.decoding).

A quote opening an unquoted cell (`"Bra" sa jag;...`) is kept as written, as Excel reads it.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from synpunkt.decoding import Line, iter_lines
from synpunkt.readers.common import (HEADER_SEARCH_ROWS, BadRow, ChunkBuilder, TableChunk, TableReadError,
                                     TableStream, cells_of, clean_headers, is_blank, looks_like_data,
                                     names_comment_column, open_text_file, pick_header, undecodable_reason)

SEPARATORS = ",;\t|"
_SNIFF_CHARS = 64_000
_SNIFF_LINES = 200
_SEP_LINE = re.compile(r'\s*"?sep=(.)"?[,;\t|]*\s*', re.IGNORECASE)
_ANY_SEP = re.compile(r"[,;\t|]")
MAX_SPAN_CHARS = 200_000
"""Memory bound on a record spanning lines: ten times validate.MAX_TEXT_CHARS, so that a comment over the text
limit still reaches the validator whole (and is quarantined there as one row). A span this long is an unclosed
quote if its lines are records, else one bad row. Lines are not counted: a closed quote is one record."""

def detect_separator(text: str, default: str = ",") -> str:
    """Guess the separator among , ; tab | with csv.Sniffer, checked against the header line; falls
    back to the one most frequent in the header line. A one-column file gets one that splits no row."""
    header, sample = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0], text[:_SNIFF_CHARS]
    if not any(sep in header for sep in SEPARATORS):
        return min((default, *SEPARATORS), key=sample.count)
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
        if sep in header:
            return sep
    except csv.Error:
        pass
    return max(SEPARATORS, key=header.count)


class _Lines:
    """Decoded lines with push-back (for re-reading lines after an unclosed quote)."""

    def __init__(self, lines: Iterator[Line]) -> None:
        self._lines, self._back = lines, deque()

    def next(self) -> Line | None:
        if self._back:
            return self._back.popleft()
        return next(self._lines, None)

    def push_back(self, lines: list[Line]) -> None:
        self._back.extendleft(reversed(lines))


def scan_quotes(text: str, sep: str, quoted: bool) -> tuple[bool, bool]:
    """Follow the csv module's quoting over one line: (ends inside a quoted field, a closing quote was followed
    by text other than a separator, which a well-formed file never has)."""
    if '"' not in text:
        return quoted, False
    i, end, bad = 0, len(text), False
    state = "quoted" if quoted else "start"
    while i < end:
        if state == "quoted":
            j = text.find('"', i)
            if j < 0:
                return True, bad
            after = text[j + 1] if j + 1 < end else ""
            if after == '"':  # an escaped quote
                i = j + 2
            elif after == sep:
                state, i = "start", j + 2
            elif after in ("", "\r", "\n"):
                return False, bad
            else:
                bad, state, i = True, "field", j + 1
            continue
        if state == "start":
            if text[i] == '"':
                state, i = "quoted", i + 1
                continue
            if text[i] == sep:
                i += 1
                continue
        j = text.find(sep, i)  # an unquoted field: quotes in it are literal
        if j < 0:
            return False, bad
        state, i = "start", j + 1
    return state == "quoted", bad


def _closing_quote(text: str, start: int) -> int | None:
    """Index of the quote closing a quoted field whose text starts at `start` ("" is an escaped quote)."""
    i = text.find('"', start)
    while i >= 0 and text.startswith('""', i):
        i = text.find('"', i + 2)
    return i if i >= 0 else None


def literal_fields(text: str, sep: str) -> list[str]:
    """The fields of one line (no terminator) read as Excel does: a field opening with a quote is quoted only if
    its closing quote ends the field; if text follows it (`"Bra" sa jag`), the field's quotes are text, kept as
    written (the csv module would drop them). A quote never closed runs to the end of the line."""
    fields, i = [], 0
    while True:
        j = text.find(sep, i)
        if text.startswith('"', i):
            close = _closing_quote(text, i + 1)
            if close is None:
                fields.append(text[i + 1:].replace('""', '"'))
                return fields
            if text.startswith(sep, close + 1) or close + 1 == len(text):
                fields.append(text[i + 1:close].replace('""', '"'))
                j = close + 1 if close + 1 < len(text) else -1
            else:  # the quoted part is followed by text: the field runs on to the next separator
                j = text.find(sep, close + 1)
                fields.append(text[i:j] if j >= 0 else text[i:])
        else:
            fields.append(text[i:j] if j >= 0 else text[i:])
        if j < 0:
            return fields
        i = j + 1


def parse_record(texts: list[str], sep: str) -> list[str]:
    """The fields of one record (its physical lines); raises csv.Error if they are not exactly one record."""
    if len(texts) == 1:
        body = texts[0].rstrip("\r\n")
        if "\r" not in body and "\n" not in body:
            if '"' not in body:
                return body.split(sep)
            if scan_quotes(body, sep, False)[1]:  # a closing quote followed by text
                return literal_fields(body, sep)
    reader = csv.reader(texts, delimiter=sep)
    fields = next(reader, [])
    if reader.line_num != len(texts):
        raise csv.Error("record boundaries disagree")
    if fields and len(texts) == 1 and scan_quotes(texts[0], sep, False)[0]:
        fields[-1] = fields[-1].rstrip("\r\n")  # the unclosed quote's field ends with the line
    return fields


def _shape(value: str) -> str:
    """A value's outline: digit runs as 9, letter runs as a ("2025-03-14" -> "9-9-9", "17" -> "9")."""
    return re.sub(r"\d+", "9", re.sub(r"[^\W\d_]+", "a", value.strip()))


def _fit(fields: list[str], n: int) -> list[str] | None:
    """Fields fitted to n columns: empty trailing extras dropped, missing ones padded; None if too many."""
    if len(fields) > n:
        if any(f.strip() for f in fields[n:]):
            return None
        return fields[:n]
    return fields + [""] * (n - len(fields))


class _Records:
    """Turns lines into rows and bad rows, numbering every record."""

    def __init__(self, lines: _Lines, sep: str, columns: list[str]) -> None:
        self.lines, self.sep, self.columns, self.n = lines, sep, columns, len(columns)
        self.number = 0

    def __iter__(self) -> Iterator[tuple[int, list[str] | BadRow]]:
        while (line := self.lines.next()) is not None:
            if is_blank(line.text):
                continue
            quoted, _ = scan_quotes(line.text, self.sep, False)
            self.number += 1
            yield self.number, (self._quoted(line) if quoted else self._record([line]))

    def _quoted(self, first: Line) -> list[str] | BadRow:
        """The record opened by a line ending inside a quoted field. The csv module's quote balancing is
        trusted; a quote that closes properly is overruled only when most lines it swallowed are formatted
        like records of this file (a stray quote closed by another one rows later)."""
        span, end = self._span(first)
        if end == "closed" and not self._swallows(span):
            return self._record(span)
        if end == "too_long" and not self._swallows(span):
            return self._too_long(first, span[-1])
        self.lines.push_back(span[1:])  # an unclosed quote: the lines after the opening one are read again
        return self._unclosed(first)

    def _span(self, first: Line) -> tuple[list[Line], str]:
        """The lines from `first` to where its quoted field ends, and how it ends: "closed", "bad_close" (a
        closing quote followed by text), "eof", or "too_long" (more than MAX_SPAN_CHARS characters)."""
        span, chars = [first], len(first.text)
        while (line := self.lines.next()) is not None:
            span.append(line)
            chars += len(line.text)
            quoted, bad_close = scan_quotes(line.text, self.sep, True)
            if bad_close:
                return span, "bad_close"
            if not quoted:
                return span, "closed"
            if chars > MAX_SPAN_CHARS:
                return span, "too_long"
        return span, "eof"

    def _swallows(self, span: list[Line]) -> bool:
        """Whether the lines after the opening one are records swallowed by a stray quote: more than half of
        them read as records (not all: a swallowed record may be short of fields)."""
        try:
            shapes = [_shape(field) for field in parse_record([span[0].text], self.sep)[:-1]]  # the closed fields
        except csv.Error:
            return False
        inner = [line for line in span[1:] if not is_blank(line.text)]
        rows = sum(self._is_row(line.text, shapes) for line in inner)
        return 2 * rows > len(inner)

    def _is_row(self, text: str, shapes: list[str]) -> bool:
        """A line inside a quoted field that reads as a record of its own: the header's number of fields, the
        fields before the opening row's quoted one shaped like the opening row's (ids, dates: with digits), and
        no space after the separators up to the quoted column's field. That last test tells a writer's records
        from prose: the opening row's quote follows its separator directly, while people type "2025-03-02, ingen
        svarade" with a space."""
        if self.n < 2 or not any("9" in shape for shape in shapes) or scan_quotes(text, self.sep, False)[0]:
            return False
        try:
            fields = parse_record([text], self.sep)
        except csv.Error:
            return False
        return (_fit(fields, self.n) is not None and len(fields) >= self.n
                and [_shape(field) for field in fields[:len(shapes)]] == shapes
                and not any(field[:1].isspace() for field in fields[:len(shapes) + 1]))

    def _too_long(self, first: Line, last: Line) -> BadRow:
        """One bad row for a quoted field too long to hold: the rest of it is skipped, not kept, up to the line
        where the quote closes (or the end of the file)."""
        quoted, line = True, last
        while quoted and (following := self.lines.next()) is not None:
            line = following
            quoted, bad_close = scan_quotes(line.text, self.sep, True)
            quoted = quoted and not bad_close
        try:
            cells = cells_of(self.columns, parse_record([first.text], self.sep)[:-1])  # the fields before it
        except csv.Error:
            cells = None
        closed = "never closed" if quoted else "closed"
        return BadRow(self.number, "text_too_long", f"lines {first.number}-{line.number}: a quoted field of more "
                      f"than {MAX_SPAN_CHARS:,} characters ({closed}); the record is not read", cells)

    def _unclosed(self, line: Line) -> BadRow:
        try:
            cells = cells_of(self.columns, parse_record([line.text], self.sep))
        except csv.Error:
            cells = {"line": line.text.rstrip("\r\n")}
        return BadRow(self.number, "malformed_row", f"line {line.number}: a quote opened on this line is not "
                      "closed properly; the lines after it are read as rows of their own", cells)

    def _record(self, span: list[Line]) -> list[str] | BadRow:
        where = f"line {span[0].number}" if len(span) == 1 else f"lines {span[0].number}-{span[-1].number}"
        texts = [line.text for line in span]
        try:
            fields = parse_record(texts, self.sep)
        except csv.Error:
            return BadRow(self.number, "malformed_row", f"{where}: malformed quoting or a line break inside an "
                          "unquoted field", {"line": "".join(texts).rstrip("\r\n")})
        undecodable = next((line for line in span if line.undecodable), None)
        if undecodable is not None:
            return BadRow(self.number, "undecodable_text", undecodable_reason(undecodable),
                          cells_of(self.columns, fields))
        fitted = _fit(fields, self.n)
        if fitted is None:
            return BadRow(self.number, "malformed_row", f"{where}: {len(fields)} fields where the header has "
                          f"{self.n} (a separator too many or an unquoted separator in a value)",
                          cells_of(self.columns, fields))
        return fitted


def _header(lines: _Lines, path: Path, forced_sep: str | None) -> tuple[Line, list[Line], bool]:
    """(header line, the lines read after it, whether it names a comment column); title rows are dropped."""
    ahead: list[Line] = []
    nonblank: list[Line] = []
    while len(nonblank) < HEADER_SEARCH_ROWS and (line := lines.next()) is not None:
        ahead.append(line)
        if not is_blank(line.text):
            nonblank.append(line)
    if not nonblank:
        raise TableReadError(f"{path}: file is empty")
    split = (lambda text: text.split(forced_sep)) if forced_sep else _ANY_SEP.split
    cells = [split(line.text) for line in nonblank]
    i = pick_header(cells)
    header, named = nonblank[i], names_comment_column(cells[i])
    after = ahead[ahead.index(header) + 1:]
    chars = sum(len(line.text) for line in after)
    while chars < _SNIFF_CHARS and len(after) < _SNIFF_LINES and (line := lines.next()) is not None:
        after.append(line)
        chars += len(line.text)
    return header, after, named


def read_delimited(path: Path, *, default_sep: str, chunk_rows: int) -> TableStream:
    """Open a delimited text file: encoding, separator and header are settled here (errors raised now);
    the rows follow as chunks."""
    stream, encoding = open_text_file(path)
    try:
        lines = _Lines(iter_lines(stream, encoding))
        first = lines.next()
        while first is not None and is_blank(first.text):
            first = lines.next()
        if first is None:
            raise TableReadError(f"{path}: file is empty")
        sep_line = _SEP_LINE.fullmatch(first.text.rstrip("\r\n"))
        if not sep_line:
            lines.push_back([first])
        forced = sep_line.group(1) if sep_line else None
        header, after, named = _header(lines, path, forced)
        if header.undecodable:
            raise TableReadError(f"{path}: the header: {undecodable_reason(header)}")
        sep = forced or detect_separator("".join([header.text, *(line.text for line in after)]), default_sep)
        try:
            names = parse_record([header.text], sep)
        except csv.Error:
            raise TableReadError(f"{path}: line {header.number} (the header) is malformed") from None
        while len(names) > 1 and not names[-1].strip():
            names.pop()  # a trailing separator on the header line
        if not named and looks_like_data(names):
            raise TableReadError(f"{path}: no header row found: line {header.number}, the first row, holds "
                                 "values (numbers or dates), not column names")
        lines.push_back(after)
    except BaseException:
        stream.close()
        raise
    columns = clean_headers(names)
    attrs = {"encoding": encoding.label, "separator": sep, "header_line": header.number}
    return TableStream(_chunks(stream, _Records(lines, sep, columns), columns, chunk_rows, attrs), attrs)


def _chunks(stream, records: _Records, columns: list[str], chunk_rows: int, attrs: dict) -> Iterator[TableChunk]:
    with stream:
        builder = ChunkBuilder(columns, chunk_rows, attrs)
        for number, row in records:
            chunk = builder.add_bad(row) if isinstance(row, BadRow) else builder.add(number, row)
            if chunk is not None:
                yield chunk
        yield from builder.finish()

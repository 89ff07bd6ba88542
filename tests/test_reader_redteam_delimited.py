"""Red-team findings on the delimited reader, the encoding detection and the content sniffing (synthetic data)."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import pytest

from synpunkt.decoding import NotText, detect_encoding
from synpunkt.tables import TableReadError, read_table

SECRET = "Mitt personnummer är 19121212-1212"
"""Cell text that must never turn up in a message."""


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def bad_summary(df) -> list[tuple[int, str]]:
    return [(b.row_number, b.reason_code) for b in df.attrs["bad_rows"]]


def error_for(path: Path) -> str:
    with pytest.raises(TableReadError) as info:
        read_table(path)
    return str(info.value)


# --- 1: a balanced quoted comment whose lines start like records is not split ------------------------------


def test_diary_comment_with_dated_lines_is_one_row(tmp_path: Path) -> None:
    comment = "Jag ringde flera gånger:\n2025-03-02, ingen svarade\n2025-03-03, fick vänta en timme"
    text = f"datum,kommentar\n2025-03-05,{quoted(comment)}\n2025-03-06,Vanlig rad\n"
    df = read_table(write_bytes(tmp_path, "dagbok.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Vanlig rad"]
    assert df.index.tolist() == [1, 2] and df.attrs["bad_rows"] == []


@pytest.mark.parametrize("sep", [",", ";"])
def test_dated_lines_in_a_three_column_comment_are_kept(tmp_path: Path, sep: str) -> None:
    comment = f"Logg:\n7{sep} 2025-03-02{sep} ingen svarade\n8{sep} 2025-03-03{sep} fick vänta"
    text = f"id{sep}datum{sep}kommentar\n1{sep}2025-03-05{sep}{quoted(comment)}\n2{sep}2025-03-06{sep}Ok\n"
    df = read_table(write_bytes(tmp_path, "logg.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Ok"] and df.attrs["bad_rows"] == []


def test_swallowed_records_are_still_recovered_when_the_quote_closes_at_a_line_end(tmp_path: Path) -> None:
    # The real case the record heuristic is for: a stray quote, "closed" by another one rows later.
    text = ('id;datum;kommentar\n1;2025-03-14;"Bra\n2;2025-03-15;Dålig service\n\n3;2025-03-16;Ok sa hon"\n'
            "4;2025-03-17;Tack\n")
    df = read_table(write_bytes(tmp_path, "strö.csv", text.encode()))
    assert df["id"].tolist() == ["2", "3", "4"] and bad_summary(df) == [(1, "malformed_row")]


# --- 2: a closed quote is kept whole whatever its number of lines ------------------------------------------


def test_quoted_comment_of_more_than_1000_lines_is_one_row(tmp_path: Path) -> None:
    comment = "\n".join(["- ok"] * 1200) + "\nslut"
    text = f"kommentar;datum\n{quoted(comment)};2025-03-01\nKort rad;2025-03-02\n"
    df = read_table(write_bytes(tmp_path, "lång.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Kort rad"]
    assert df.index.tolist() == [1, 2] and df.attrs["bad_rows"] == []


def test_quoted_comment_longer_than_the_text_limit_stays_one_row(tmp_path: Path) -> None:
    comment = "\n".join(["Det här är en rad i en mycket lång kommentar."] * 600)  # ~28,000 characters
    text = f"kommentar;datum\n{quoted(comment)};2025-03-01\nKort rad;2025-03-02\n"
    df = read_table(write_bytes(tmp_path, "lång.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Kort rad"] and df.attrs["bad_rows"] == []


def test_closed_quote_beyond_the_span_limit_is_one_bad_row(tmp_path: Path) -> None:
    from synpunkt.readers.delimited import MAX_SPAN_CHARS

    line = f"En rad i en orimligt lång text. {SECRET}"
    comment = "\n".join([line] * (MAX_SPAN_CHARS // len(line) + 50))
    text = f"kommentar;datum\n{quoted(comment)};2025-03-01\nKort rad;2025-03-02\n"
    df = read_table(write_bytes(tmp_path, "jätte.csv", text.encode()))
    assert df["kommentar"].tolist() == ["Kort rad"] and df.index.tolist() == [2]
    assert bad_summary(df) == [(1, "text_too_long")]
    reason = df.attrs["bad_rows"][0].reason
    assert "lines 2-" in reason and "characters" in reason and SECRET not in reason


def test_unclosed_quote_beyond_the_span_limit_still_frees_the_rows(tmp_path: Path) -> None:
    from synpunkt.readers.delimited import MAX_SPAN_CHARS

    rows = [f"{i};2025-03-14;Synpunkt nummer {i} om snöröjningen vid skolan" for i in range(2, 6000)]
    assert sum(map(len, rows)) > MAX_SPAN_CHARS
    text = "id;datum;kommentar\n1;2025-03-13;\"Aldrig stängd\n" + "\n".join(rows) + "\n"
    df = read_table(write_bytes(tmp_path, "öppen.csv", text.encode()))
    assert len(df) == len(rows) and df.index[0] == 2 and bad_summary(df) == [(1, "malformed_row")]


# --- 3: Mac Roman is recognised, implausible code pages are not picked silently -------------------------------


def test_mac_roman_file_is_read_as_mac_roman(tmp_path: Path) -> None:
    texts = ["Jättebra hjälp från Åsa på förskolan", "Öppettiderna är för korta, idé: öppna tidigare"]
    raw = ("kommentar;datum\n" + "".join(f"{t};2025-03-01\n" for t in texts)).encode("mac_roman")
    df = read_table(write_bytes(tmp_path, "mac.csv", raw))
    assert df["kommentar"].tolist() == texts and df.attrs["encoding"] == "mac_roman"


@pytest.mark.parametrize("codepage", ["cp850", "cp1252", "mac_roman"])
@pytest.mark.parametrize("sentence", ["Snö", "Hälsa", "Åå", "Idé", "Grön, grå, blå", "Ölet var gött"])
def test_three_code_pages_are_told_apart(tmp_path: Path, codepage: str, sentence: str) -> None:
    df = read_table(write_bytes(tmp_path, "en.csv", f"kommentar\n{sentence}\n".encode(codepage)))
    assert df["kommentar"].tolist() == [sentence] and df.attrs["encoding"] == codepage


def test_implausible_legacy_decoding_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    # Bytes that no candidate reads as Swedish: whichever wins, the choice is not silent.
    raw = "kommentar\nÌÍÎÏ ìíîï òóôõ ùúûü\n".encode("cp1252")
    with caplog.at_level(logging.WARNING, logger="synpunkt.decoding"):
        encoding = detect_encoding(io.BytesIO(raw))
    assert any(encoding.label in r.getMessage() and "encoding" in r.getMessage() for r in caplog.records)


def test_plain_swedish_legacy_file_gives_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    raw = "kommentar\nÄntligen någon som lyssnar på förskolan\n".encode("cp1252")
    with caplog.at_level(logging.WARNING, logger="synpunkt.decoding"):
        assert detect_encoding(io.BytesIO(raw)).label == "cp1252"
    assert not caplog.records


# --- 4: a leading quote in an unquoted cell is kept -------------------------------------------------------------


@pytest.mark.parametrize(("cell", "sep"), [
    ('"Bra" sa jag till handläggaren', ";"),
    ('"Bra, sa jag" till handläggaren', ";"),
    ('"Bra" sa jag, till handläggaren', ";"),
    ('"Bra" sa jag till handläggaren', ","),
])
def test_leading_quote_in_an_unquoted_cell_is_kept(tmp_path: Path, cell: str, sep: str) -> None:
    text = f"kommentar{sep}datum\n{cell}{sep}2025-03-01\nOk{sep}2025-03-02\n"
    df = read_table(write_bytes(tmp_path, "citat.csv", text.encode()))
    assert df["kommentar"].tolist() == [cell, "Ok"] and df["datum"].tolist() == ["2025-03-01", "2025-03-02"]


def test_literal_fields_keep_quotes_that_do_not_close_a_field() -> None:
    from synpunkt.readers.delimited import literal_fields

    assert literal_fields('"Bra" sa jag;"a;b";"x""y";', ";") == ['"Bra" sa jag', "a;b", 'x"y', ""]
    assert literal_fields('a;"öppen', ";") == ["a", "öppen"]


def test_properly_quoted_cells_are_still_unquoted(tmp_path: Path) -> None:
    text = 'kommentar;datum\n"Han sa ""nej""";2025-03-01\n"a;b";"2025-03-02"\n'
    df = read_table(write_bytes(tmp_path, "q.csv", text.encode()))
    assert df["kommentar"].tolist() == ['Han sa "nej"', "a;b"] and df["datum"].tolist()[1] == "2025-03-02"


# --- 5: what a file that is not a table is -------------------------------------------------------------


def test_zip_archive_named_csv_says_what_it_is(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.csv", f"kommentar;datum\n{SECRET};2025-03-01\n")
    message = error_for(write_bytes(tmp_path, "export.csv", buf.getvalue()))
    assert "zip archive that is not an Excel workbook" in message and "KeyError" not in message
    assert SECRET not in message and "data.csv" not in message


def test_zip_archive_named_xlsx_says_what_it_is(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "Det här är ingen arbetsbok.")
    message = error_for(write_bytes(tmp_path, "bok.xlsx", buf.getvalue()))
    assert "zip archive that is not an Excel workbook" in message


@pytest.mark.parametrize(("member", "data", "what"), [
    ("word/document.xml", b"<w/>", "a Word document (.docx)"),
    ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", "an OpenDocument spreadsheet (.ods)"),
])
def test_office_archives_that_are_not_workbooks_are_named(tmp_path: Path, member: str, data: bytes,
                                                          what: str) -> None:
    with zipfile.ZipFile(tmp_path / "fil.csv", "w") as z:
        z.writestr(member, data)
    assert what in error_for(tmp_path / "fil.csv")


def test_workbook_named_csv_is_still_read(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "bok.xlsx"
    pd.DataFrame({"kommentar": ["Hej"], "datum": ["2025-03-01"]}).to_excel(path, index=False)
    df = read_table(path.rename(tmp_path / "bok.csv"))
    assert df["kommentar"].tolist() == ["Hej"]


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.mark.parametrize(("head", "what"), [
    (PDF, "a PDF document"),
    (b"\x89PNG\r\n\x1a\nkommentar\n", "a PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIFkommentar\n", "a JPEG image"),
    (b"GIF89akommentar\n", "a GIF image"),
    (b"\x1f\x8b\x08\x00kommentar\n", "gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1kommentar\n", ".xls"),
])
def test_common_binary_formats_are_named(tmp_path: Path, head: bytes, what: str) -> None:
    message = error_for(write_bytes(tmp_path, "fil.csv", head))
    assert what in message and "not a table" in message and "column" not in message
    with pytest.raises(NotText, match=what.replace(".", r"\.")):
        detect_encoding(io.BytesIO(head))


def test_one_record_like_line_in_a_closed_comment_does_not_split_it(tmp_path: Path) -> None:
    comment = "Logg:\n2;2025-03-02;ringde\nsen gav jag upp"
    text = f"id;datum;kommentar\n1;2025-03-05;{quoted(comment)}\n2;2025-03-06;Ok\n"
    df = read_table(write_bytes(tmp_path, "logg.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Ok"] and df.attrs["bad_rows"] == []


def test_swallowed_records_with_a_short_one_among_them_are_recovered(tmp_path: Path) -> None:
    text = ('id;datum;kommentar\n1;2025-03-14;"Bra\n2;2025-03-15;Dålig service\n3;2025-03-16\n'
            '4;2025-03-17;Ok sa hon"\n5;2025-03-18;Tack\n')
    df = read_table(write_bytes(tmp_path, "strö.csv", text.encode()))
    assert df["id"].tolist() == ["2", "3", "4", "5"] and bad_summary(df) == [(1, "malformed_row")]

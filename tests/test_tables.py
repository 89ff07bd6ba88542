"""Tests for synpunkt.tables: reading and writing comment tables in every supported format."""

from __future__ import annotations

import codecs
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from corpus_builders import workbook
from synpunkt.tables import (
    TEXT_COLUMN_CANDIDATES,
    TableReadError,
    TableWriteError,
    decode_text,
    detect_separator,
    find_column,
    iter_table,
    read_table,
    write_table,
)

COMMENTS = [
    "Handläggaren var trevlig och hjälpsam.",
    "Väntetiden på bygglovet var för lång, över två månader.",
    "Svårt att hitta blanketten på e-tjänsten; sökfunktionen är värdelös.",
]
SECRET = "Mitt personnummer är 19121212-1212 och jag bor på Åkervägen 3"
"""Cell text that must never turn up in an error message."""


def comments_frame() -> pd.DataFrame:
    return pd.DataFrame({"id": ["1", "2", "3"], "text": COMMENTS})


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error_for(path: Path, **kwargs) -> str:
    """Read path, expecting a TableReadError; return its message after the common checks."""
    with pytest.raises(TableReadError) as info:
        read_table(path, **kwargs)
    message = str(info.value)
    assert path.name in message
    assert SECRET not in message and "personnummer" not in message
    return message


# --- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json", ".jsonl", ".parquet"])
def test_each_format_round_trips(tmp_path: Path, suffix: str) -> None:
    df = comments_frame()
    path = write_table(df, tmp_path / f"comments{suffix}")
    back = read_table(path)
    assert back.to_dict("list") == df.to_dict("list")


def test_ndjson_suffix_reads_like_jsonl(tmp_path: Path) -> None:
    path = write_table(comments_frame(), tmp_path / "comments.jsonl").rename(tmp_path / "comments.NDJSON")
    assert read_table(path)["text"].tolist() == COMMENTS


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "SVAR.CSV", "id,text\n1,Hej då\n".encode())
    assert read_table(path)["text"].tolist() == ["Hej då"]


# --- delimited text: encodings and separators -------------------------------------------------------


def test_csv_utf8(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.csv", "id,text\n1,Bra bemötande i växeln\n".encode("utf-8"))
    df = read_table(path)
    assert df["text"].tolist() == ["Bra bemötande i växeln"]
    assert df.attrs == {"encoding": "utf-8", "separator": ",", "bad_rows": []}
    assert df.index.tolist() == [1]


def test_csv_utf8_bom_gives_clean_first_header(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.csv", codecs.BOM_UTF8 + "id,text\n1,Öppettiderna är för korta\n".encode())
    df = read_table(path)
    assert list(df.columns) == ["id", "text"]
    assert df["text"].tolist() == ["Öppettiderna är för korta"]
    assert df.attrs["encoding"] == "utf-8-sig"


def test_csv_cp1252_with_semicolons(tmp_path: Path) -> None:
    text = (
        "id;kommentar\n1;Väntetiden var lång, men personalen var snäll\n"
        "2;Åtgärda gatlyset på Ängsvägen\n"
    )
    df = read_table(write_bytes(tmp_path, "excel.csv", text.encode("cp1252")))
    assert df.attrs == {"encoding": "cp1252", "separator": ";", "bad_rows": []}
    assert df["kommentar"].tolist() == [
        "Väntetiden var lång, men personalen var snäll",
        "Åtgärda gatlyset på Ängsvägen",
    ]


def test_short_cp1252_file_is_not_guessed_as_cyrillic(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "kort.csv", "text\nBra!\nFör dåligt\n".encode("cp1252")))
    assert df["text"].tolist() == ["Bra!", "För dåligt"]
    assert df.attrs["encoding"] == "cp1252"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "u16.txt", "id\ttext\n1\tSnabbt svar från kommunen\n".encode("utf-16"))
    df = read_table(path)
    assert df.attrs == {"encoding": "utf-16", "separator": "\t", "bad_rows": []}
    assert df["text"].tolist() == ["Snabbt svar från kommunen"]


def test_tab_separated(tmp_path: Path) -> None:
    text = "id\ttext\n1\tKön till förskolan är för lång, tyvärr\n2\tTack för hjälpen; toppen!\n"
    df = read_table(write_bytes(tmp_path, "a.tsv", text.encode()))
    assert df.attrs["separator"] == "\t"
    assert df["text"].tolist() == ["Kön till förskolan är för lång, tyvärr", "Tack för hjälpen; toppen!"]


def test_pipe_separated_txt(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "a.txt", "id|text\n1|Fler cykelställ vid stationen, tack\n".encode()))
    assert df.attrs["separator"] == "|"
    assert df["text"].tolist() == ["Fler cykelställ vid stationen, tack"]


def test_quoted_fields_with_newlines_and_separators(tmp_path: Path) -> None:
    text = (
        'id;text\r\n'
        '1;"Bra service;\r\nmen lång kö, tyvärr"\r\n'
        '2;"Hon sa ""vänta"" i två timmar"\r\n'
        '3;Kort svar\r\n'
    )
    df = read_table(write_bytes(tmp_path, "q.csv", text.encode("utf-8")))
    assert df.attrs["separator"] == ";"
    assert df["text"].tolist() == [
        "Bra service;\r\nmen lång kö, tyvärr",
        'Hon sa "vänta" i två timmar',
        "Kort svar",
    ]


def test_one_column_file_with_commas_in_text(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "en.csv", "Kommentar\nBra, men dyrt\nSnällt bemötande\n".encode()))
    assert list(df.columns) == ["Kommentar"]
    assert df["Kommentar"].tolist() == ["Bra, men dyrt", "Snällt bemötande"]


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")  # pandas notes the dropped empty field
def test_trailing_separator_does_not_shift_columns(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "t.csv", "id;text\n1;Hej;\n2;Då;\n".encode()))
    assert df["id"].tolist() == ["1", "2"]
    assert df["text"].tolist() == ["Hej", "Då"]


def test_na_null_and_empty_cells_stay_strings(tmp_path: Path) -> None:
    text = "id,text,score\n1,NA,\n2,null,N/A\n3,,None\n4,Missnöjd\n"
    df = read_table(write_bytes(tmp_path, "na.csv", text.encode()))
    assert not df.isna().any().any()
    assert df["text"].tolist() == ["NA", "null", "", "Missnöjd"]
    assert df["score"].tolist() == ["", "N/A", "None", ""]
    assert df["id"].tolist() == ["1", "2", "3", "4"]  # no numeric conversion


def test_xlsx_cells_are_strings_and_na_stays(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [1, 2], "text": ["NA", None]})
    back = read_table(write_table(df, tmp_path / "na.xlsx"))
    assert back.to_dict("list") == {"id": ["1", "2"], "text": ["NA", ""]}


def test_headers_are_stripped_but_keep_case(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "h.csv", " Id ; Kommentar \n1;Fint\n".encode("cp1252")))
    assert list(df.columns) == ["Id", "Kommentar"]


def test_detect_separator_falls_back_to_header_count() -> None:
    assert detect_separator("a;b;c\n") == ";"
    assert detect_separator("a|b\n1|2\n") == "|"
    assert detect_separator("text\nhej\n") == ","
    assert detect_separator("text\nhej\n", default="\t") == "\t"


def test_decode_text_order() -> None:
    assert decode_text("å".encode()) == ("å", "utf-8")
    assert decode_text(codecs.BOM_UTF8 + "ä".encode()) == ("ä", "utf-8-sig")
    assert decode_text("ö".encode("utf-16")) == ("ö", "utf-16")
    assert decode_text("åäö".encode("cp1252")) == ("åäö", "cp1252")


# --- xlsx and json specifics --------------------------------------------------------------------


def test_xlsx_sheet_by_name_and_index(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"text": ["Första bladet"]}).to_excel(writer, sheet_name="Blad1", index=False)
        pd.DataFrame({"text": ["Andra bladet, fler åsikter"]}).to_excel(writer, sheet_name="Svar", index=False)
    both = read_table(path)  # every sheet with the same columns, numbered on
    assert both["text"].tolist() == ["Första bladet", "Andra bladet, fler åsikter"]
    assert both.index.tolist() == [1, 2] and both.attrs["sheets"] == ["Blad1", "Svar"]
    assert read_table(path, sheet="Svar")["text"].tolist() == ["Andra bladet, fler åsikter"]
    assert read_table(path, sheet=1)["text"].tolist() == ["Andra bladet, fler åsikter"]
    assert "no sheet 'Saknas'" in error_for(path, sheet="Saknas")
    assert "no sheet 5" in error_for(path, sheet=5)


def test_xlsx_keeps_text_that_looks_like_a_formula(tmp_path: Path) -> None:
    df = pd.DataFrame({"text": ["=bra service", "ok\x0bmen långsamt"]})
    back = read_table(write_table(df, tmp_path / "f.xlsx"))
    assert back["text"].tolist() == ["=bra service", "okmen långsamt"]


ROWS = [{"id": "1", "text": "Fin lekplats"}, {"id": "2", "text": "Smutsig strand"}]


@pytest.mark.parametrize("payload", [ROWS, {"meta": {"källa": "e-tjänst"}, "comments": ROWS}])
def test_json_list_or_wrapped_list(tmp_path: Path, payload) -> None:
    path = write_bytes(tmp_path, "c.json", json.dumps(payload, ensure_ascii=False).encode())
    assert read_table(path).to_dict("list") == {"id": ["1", "2"], "text": ["Fin lekplats", "Smutsig strand"]}


@pytest.mark.parametrize("orient", ["records", "columns"])
def test_json_pandas_orientations_keep_row_order(tmp_path: Path, orient: str) -> None:
    df = pd.DataFrame({"id": [str(i) for i in range(12)], "text": [f"Synpunkt {i} om gångväg" for i in range(12)]})
    path = tmp_path / "o.json"
    df.to_json(path, orient=orient, force_ascii=False)
    assert read_table(path).to_dict("list") == df.to_dict("list")


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    text = '{"text": "Snöröjningen var usel"}\n\n{"text": "Tack för snabb återkoppling"}\n'
    assert read_table(write_bytes(tmp_path, "c.jsonl", text.encode()))["text"].tolist() == [
        "Snöröjningen var usel",
        "Tack för snabb återkoppling",
    ]


# --- list columns on output -------------------------------------------------------------------------


def topics_frame() -> pd.DataFrame:
    return pd.DataFrame({"text": COMMENTS[:2], "topics": [["handler", "wait_time"], []]})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_lists_are_joined_with_semicolons_in_csv_and_xlsx(tmp_path: Path, suffix: str) -> None:
    back = read_table(write_table(topics_frame(), tmp_path / f"out{suffix}"))
    assert back["topics"].tolist() == ["handler;wait_time", ""]
    assert back["text"].tolist() == COMMENTS[:2]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".parquet"])
def test_lists_stay_lists_in_json_jsonl_parquet(tmp_path: Path, suffix: str) -> None:
    back = read_table(write_table(topics_frame(), tmp_path / f"out{suffix}"))
    assert back["topics"].tolist() == [["handler", "wait_time"], []]
    assert all(type(v) is list for v in back["topics"])


def test_csv_is_written_with_bom_and_commas(tmp_path: Path) -> None:
    raw = write_table(topics_frame(), tmp_path / "out.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert raw[3:].decode().splitlines()[:2] == ["text,topics", f"{COMMENTS[0]},handler;wait_time"]


def test_json_is_readable_utf8_records(tmp_path: Path) -> None:
    text = write_table(topics_frame(), tmp_path / "out.json").read_text(encoding="utf-8")
    assert "Handläggaren" in text and "\n  " in text
    assert json.loads(text)[0] == {"text": COMMENTS[0], "topics": ["handler", "wait_time"]}


def test_write_creates_parent_folders(tmp_path: Path) -> None:
    path = write_table(comments_frame(), tmp_path / "rapporter" / "2024" / "ut.csv")
    assert path.is_file()


def test_write_rejects_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(TableWriteError, match=r"unsupported file type '\.docx'.*\.csv") as info:
        write_table(comments_frame(), tmp_path / "ut.docx")
    assert isinstance(info.value, ValueError)


# --- errors -----------------------------------------------------------------------------------------


def test_error_unsupported_suffix(tmp_path: Path) -> None:
    message = error_for(write_bytes(tmp_path, "svar.docx", SECRET.encode()))
    assert "unsupported file type '.docx'" in message
    for suffix in (".csv", ".tsv", ".xlsx", ".json", ".jsonl", ".parquet"):
        assert suffix in message


def test_error_missing_file(tmp_path: Path) -> None:
    assert "file not found" in error_for(tmp_path / "saknas.csv")


def test_error_directory(tmp_path: Path) -> None:
    (tmp_path / "mapp.csv").mkdir()
    assert "directory" in error_for(tmp_path / "mapp.csv")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("tom.csv", b""),
        ("tom.json", b""),
        ("tom.xlsx", b""),
        ("tom.parquet", b""),
        ("blank.csv", b" \r\n\n"),
        ("bom.csv", codecs.BOM_UTF8),
        ("blank.jsonl", b"\n\n"),
    ],
)
def test_error_empty_file(tmp_path: Path, name: str, data: bytes) -> None:
    assert "file is empty" in error_for(write_bytes(tmp_path, name, data))


def test_error_undecodable_header(tmp_path: Path) -> None:
    # binary bytes: symbols in both code pages, invalid as UTF-8
    path = write_bytes(tmp_path, "trasig.csv", b"\xb0\xb1\xb2\xdb\x9f;text\n1;" + SECRET.encode("cp1252"))
    message = error_for(path)
    assert "the header: line 1" in message and "encoding" in message





def test_error_malformed_json_names_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fel.json", f'[\n  {{"text": "ok"}},\n  {{"text": "{SECRET}" "x"}}\n]'.encode())
    message = error_for(path)
    assert "malformed JSON" in message and "line 3" in message




@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (SECRET, "top level is str"),
        ([SECRET, 17], "no item of the list is an object"),
        ({"text": SECRET, "antal": 1}, "no list of objects"),
        ({"a": [{"text": SECRET}], "b": [{"text": "ok"}]}, "ambiguous"),
    ],
)
def test_error_json_shape_not_a_table(tmp_path: Path, payload, reason: str) -> None:
    path = write_bytes(tmp_path, "form.json", json.dumps(payload, ensure_ascii=False).encode())
    message = error_for(path)
    assert "JSON shape is not a table" in message and reason in message


def test_error_corrupt_xlsx(tmp_path: Path) -> None:
    assert "not a valid .xlsx workbook" in error_for(write_bytes(tmp_path, "trasig.xlsx", SECRET.encode()))
    with zipfile.ZipFile(tmp_path / "zip.xlsx", "w") as archive:
        archive.writestr("xl/sharedStrings.xml", SECRET)
    assert "not a valid .xlsx workbook" in error_for(tmp_path / "zip.xlsx")


def test_error_corrupt_parquet(tmp_path: Path) -> None:
    good = write_table(pd.DataFrame({"text": [SECRET]}), tmp_path / "bra.parquet").read_bytes()
    path = write_bytes(tmp_path, "trasig.parquet", good[: len(good) // 2])
    assert "not a valid Parquet file" in error_for(path)


# --- find_column ------------------------------------------------------------------------------------


def test_find_column_picks_kommentar_case_insensitively() -> None:
    df = pd.DataFrame(columns=["id", "Datum", " Kommentar "])
    assert find_column(df, None, TEXT_COLUMN_CANDIDATES) == " Kommentar "
    df = pd.DataFrame(columns=["ID", "KOMMENTAR", "Svar"])
    assert find_column(df, None, TEXT_COLUMN_CANDIDATES) == "KOMMENTAR"  # first in table order


def test_find_column_prefers_the_named_column() -> None:
    df = pd.DataFrame(columns=["text", "Fritext"])
    assert find_column(df, "Fritext", TEXT_COLUMN_CANDIDATES) == "Fritext"


def test_find_column_errors_count_but_never_name_columns() -> None:
    df = pd.DataFrame(columns=["id", SECRET])  # a file without a header: its first row as names
    with pytest.raises(ValueError, match=r"column 'text' not found among the file's 2 columns") as info:
        find_column(df, "text", TEXT_COLUMN_CANDIDATES)
    assert SECRET not in str(info.value)
    with pytest.raises(ValueError, match=r"no column named like text/kommentar.* among the file's 2 columns") as info:
        find_column(df, None, TEXT_COLUMN_CANDIDATES)
    assert SECRET not in str(info.value)
    df = pd.DataFrame(columns=[SECRET, "Kommentar "])  # names from the candidate list may be suggested
    with pytest.raises(ValueError, match=r"'nej' not found among the file's 2 columns; .*: 'Kommentar '$") as info:
        find_column(df, "nej", TEXT_COLUMN_CANDIDATES)
    assert SECRET not in str(info.value)


def test_read_then_find_column_with_stripped_header(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "s.csv", codecs.BOM_UTF8 + " Kommentar ;id\nBra;1\n".encode()))
    assert find_column(df, None, TEXT_COLUMN_CANDIDATES) == "Kommentar"


def test_openpyxl_sees_joined_lists_as_plain_strings(tmp_path: Path) -> None:
    path = write_table(topics_frame(), tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert [cell.value for cell in sheet["B"]] == ["topics", "handler;wait_time", None]


# === issue 12: readers keep every good row ===================================================================


# --- CSV: malformed rows, unclosed quotes, chunks ----------------------------------------------------------------


def bad_summary(df: pd.DataFrame) -> list[tuple[int, str]]:
    return [(b.row_number, b.reason_code) for b in df.attrs["bad_rows"]]


def assert_no_values_in_reasons(df: pd.DataFrame, *values: str) -> None:
    for bad in df.attrs["bad_rows"]:
        for value in (SECRET, *values):
            assert value not in bad.reason


def test_unclosed_quote_does_not_swallow_the_following_rows(tmp_path: Path) -> None:
    text = (
        "id,datum,kommentar\n"
        f'1,2025-03-14,"{SECRET}\n'
        "2,2025-03-15,Dålig skyltning vid återvinningen\n"
        "3,2025-03-16,Bra\n"
        '4,2025-03-17,"Tack, för hjälpen"\n'
        "5,2025-03-18,Hej\n"
    )
    df = read_table(write_bytes(tmp_path, "oppen.csv", text.encode()))
    assert df["id"].tolist() == ["2", "3", "4", "5"] and df.index.tolist() == [2, 3, 4, 5]
    assert df.loc[4, "kommentar"] == "Tack, för hjälpen"
    assert bad_summary(df) == [(1, "malformed_row")]
    bad = df.attrs["bad_rows"][0]
    assert "line 2" in bad.reason and "quote" in bad.reason
    assert bad.cells == {"id": "1", "datum": "2025-03-14", "kommentar": SECRET}
    assert_no_values_in_reasons(df)


def test_unclosed_quote_running_to_the_end_of_the_file(tmp_path: Path) -> None:
    text = 'id;datum;kommentar\n1;2025-03-14;Bra\n2;2025-03-15;"Kön var lång\n3;2025-03-16;Ok\n4;2025-03-17;Tack\n'
    df = read_table(write_bytes(tmp_path, "slut.csv", text.encode()))
    assert df["id"].tolist() == ["1", "3", "4"]
    assert bad_summary(df) == [(2, "malformed_row")] and "line 3" in df.attrs["bad_rows"][0].reason


def test_unclosed_quote_closed_by_a_stray_quote_rows_later(tmp_path: Path) -> None:
    # The quote "closes" cleanly at a stray quote two rows on; the rows in between are records of their own.
    text = ('id,datum,kommentar\n1,2025-03-14,"Bra\n2,2025-03-15,Dålig service\n3,2025-03-16,Ok sa hon"\n'
            "4,2025-03-17,Tack\n")
    df = read_table(write_bytes(tmp_path, "strö.csv", text.encode()))
    assert df["id"].tolist() == ["2", "3", "4"]
    assert df.loc[3, "kommentar"] == 'Ok sa hon"'
    assert bad_summary(df) == [(1, "malformed_row")]


def test_legitimate_multiline_quoted_comments_are_kept(tmp_path: Path) -> None:
    comment = 'Hej,\r\nJag tycker att a, b, c\r\n\r\nblev fel. Han sa "nej"\r\n/Mvh'
    quoted = comment.replace('"', '""')
    text = f'id,datum,kommentar\r\n1,2025-03-14,"{quoted}"\r\n2,2025-03-15,"Två\nrader, tack"\r\n3,2025-03-16,Ok\r\n'
    df = read_table(write_bytes(tmp_path, "rader.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Två\nrader, tack", "Ok"]
    assert df.index.tolist() == [1, 2, 3] and df.attrs["bad_rows"] == []


def test_multiline_comment_in_a_two_column_file(tmp_path: Path) -> None:
    text = 'id,text\n1,"Hej,\nBra service, men dyrt.\nMvh"\n2,Ok\n'
    df = read_table(write_bytes(tmp_path, "två.csv", text.encode()))
    assert df["text"].tolist() == ["Hej,\nBra service, men dyrt.\nMvh", "Ok"]


def test_too_few_fields_are_padded(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "kort.csv", "id;datum;kommentar\n1;2025-03-14\n2\n".encode()))
    assert df.to_dict("list") == {"id": ["1", "2"], "datum": ["2025-03-14", ""], "kommentar": ["", ""]}


def test_carriage_return_inside_an_unquoted_field_is_a_bad_row(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "cr.csv", b"id,text\n1,\r=1+3\n2,Bra\n"))
    assert df["text"].tolist() == ["Bra"] and bad_summary(df) == [(1, "malformed_row")]


def test_blank_lines_take_no_row_number(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "blank.csv", "id,text\n\n1,a\n \n2,b\n".encode()))
    assert df.index.tolist() == [1, 2]


def test_chunks_account_for_every_row(tmp_path: Path) -> None:
    lines = ["id,text"] + [f"{i},Synpunkt {i}" if i % 4 else f"{i},trasig,rad,{i}" for i in range(1, 24)]
    path = write_bytes(tmp_path, "många.csv", ("\n".join(lines) + "\n").encode())
    chunks = list(iter_table(path, chunk_rows=5))
    assert all(len(c.frame) + len(c.bad_rows) <= 5 for c in chunks)
    assert all(list(c.frame.columns) == ["id", "text"] for c in chunks)
    good = [n for c in chunks for n in c.frame.index]
    bad = [b.row_number for c in chunks for b in c.bad_rows]
    assert sorted(good + bad) == list(range(1, 24)) and bad == [4, 8, 12, 16, 20]
    assert all(c.frame.index.dtype == "int64" for c in chunks)


def test_whole_file_errors_come_before_the_first_chunk(tmp_path: Path) -> None:
    with pytest.raises(TableReadError, match="file is empty"):
        iter_table(write_bytes(tmp_path, "tom.csv", b"\n\n"))
    with pytest.raises(TableReadError, match="unsupported file type"):
        iter_table(write_bytes(tmp_path, "x.docx", b"a"))


def test_streaming_memory_is_bounded(tmp_path: Path) -> None:
    import tracemalloc

    row = "Synpunkt om snöröjningen på Åkervägen, som var alldeles för dålig i vintras. " * 2
    path = tmp_path / "stor.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("id;datum;kommentar\n")
        for i in range(30_000):
            out.write(f'{i};2025-03-14;"{row}{i}"\n')
    size = path.stat().st_size
    tracemalloc.start()
    try:
        rows = sum(len(chunk.frame) for chunk in iter_table(path, chunk_rows=500))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == 30_000
    assert peak < size / 3, f"peak {peak} bytes for a {size}-byte file"


# --- header detection, sep= line, duplicate names --------------------------------------------------------


@pytest.mark.parametrize(("first", "sep"), [("sep=;", ";"), ('"sep=|"', "|"), ("SEP=\t", "\t"), ("sep=,", ",")])
def test_excel_sep_line_is_honoured_and_skipped(tmp_path: Path, first: str, sep: str) -> None:
    body = sep.join(["id", "datum", "kommentar"]) + "\r\n" + sep.join(["1", "2025-03-14", "Bra; men, dyrt"
                                                                       if sep not in ";," else "Bra men dyrt"])
    df = read_table(write_bytes(tmp_path, "excel.csv", f"{first}\r\n{body}\r\n".encode("cp1252")))
    assert list(df.columns) == ["id", "datum", "kommentar"]
    assert df.attrs["separator"] == sep and df.index.tolist() == [1]
    assert df.loc[1, "datum"] == "2025-03-14"


def test_title_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    text = "Synpunkter 2025\n\nExporterad ur kontaktcenter\nid;datum;kommentar\n1;2025-03-14;Bra\n2;2025-03-15;Dålig\n"
    df = read_table(write_bytes(tmp_path, "titel.csv", text.encode()))
    assert list(df.columns) == ["id", "datum", "kommentar"]
    assert df["kommentar"].tolist() == ["Bra", "Dålig"] and df.index.tolist() == [1, 2]


def test_sep_line_and_title_row_together(tmp_path: Path) -> None:
    text = "sep=;\nSynpunkter 2025;;\n;;\nid;datum;kommentar\n1;2025-03-14;Bra\n"
    df = read_table(write_bytes(tmp_path, "båda.csv", text.encode()))
    assert list(df.columns) == ["id", "datum", "kommentar"] and df.index.tolist() == [1]


def test_a_data_row_naming_a_comment_column_is_not_taken_for_the_header(tmp_path: Path) -> None:
    text = "id,meddelande_text\n1,Bra\n2,Feedback\n3,Svar\n"  # no candidate in line 1; rows 2 and 3 are data
    df = read_table(write_bytes(tmp_path, "data.csv", text.encode()))
    assert list(df.columns) == ["id", "meddelande_text"] and len(df) == 3


def test_file_without_a_header_fails_without_echoing_cells(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "utan.csv", f"1,2025-03-14,{SECRET}\n2,2025-03-15,Bra\n".encode())
    message = error_for(path)
    assert "no header row found" in message and "line 1" in message
    assert "2025-03-14" not in message


def test_duplicate_and_near_duplicate_header_names(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "dubbel.csv", "id,kommentar,Kommentar ,kommentar_2\n1,a,b,c\n".encode()))
    assert list(df.columns) == ["id", "kommentar", "Kommentar_3", "kommentar_2"]
    assert df.loc[1, "kommentar"] == "a"
    df = read_table(write_bytes(tmp_path, "dubbel2.csv", "kommentar,kommentar \nFörsta,Andra\n".encode()))
    assert list(df.columns) == ["kommentar", "kommentar_2"] and df.loc[1, "kommentar"] == "Första"
    assert find_column(df, None, TEXT_COLUMN_CANDIDATES) == "kommentar"


def test_trailing_separator_on_the_header_adds_no_column(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "t.csv", "id;text;\n1;Hej;\n".encode()))
    assert list(df.columns) == ["id", "text"] and df.attrs["bad_rows"] == []


# --- encodings --------------------------------------------------------------------------------------------

SWEDISH = [
    "Äntligen någon som lyssnar! Öppettiderna på Åkervägen är för korta.",
    "Väntetiden i växeln var över en timme, och ingen ringde tillbaka.",
    "Snöröjningen på gång- och cykelvägen vid ån sköts dåligt.",
    "ÅÄÖ åäö: Är det möjligt att få besök av en handläggare före jul?",
    "Idén om fler bänkar i parken är bra - tack! Bäste hälsningar, René.",
    "Skolmaten är god, men portionerna är små, barnen är hungriga.",
]
CP1252_EXTRA = "“Fantastiskt bemötande” – sa min granne. Kostade 50 € … för mycket."


def swedish_file(encoding: str) -> str:
    rows = SWEDISH + ([CP1252_EXTRA] if encoding not in ("cp850",) else [])
    return "id;kommentar\r\n" + "".join(f"{i};{text}\r\n" for i, text in enumerate(rows, 1))


@pytest.mark.parametrize(
    ("encoding", "bom", "label"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16", b"", "utf-16"),  # Python writes a BOM
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
        ("cp1252", b"", "cp1252"),
        ("cp850", b"", "cp850"),
    ],
)
def test_swedish_text_survives_every_encoding(tmp_path: Path, encoding: str, bom: bytes, label: str) -> None:
    text = swedish_file(encoding)
    df = read_table(write_bytes(tmp_path, "sv.csv", bom + text.encode(encoding)))
    assert df.attrs["encoding"] == label
    expected = SWEDISH + ([CP1252_EXTRA] if encoding != "cp850" else [])
    assert df["kommentar"].tolist() == expected
    assert df.attrs["bad_rows"] == []
    assert decode_text(bom + text.encode(encoding)) == (text, label)


@pytest.mark.parametrize("sentence", SWEDISH + ["Snö", "Hälsa", "Åå", "Idé", "Grön, grå, blå"])
@pytest.mark.parametrize("codepage", ["cp850", "cp1252"])
def test_cp850_and_cp1252_are_told_apart_sentence_by_sentence(tmp_path: Path, sentence: str, codepage: str) -> None:
    df = read_table(write_bytes(tmp_path, "en.csv", f"kommentar\n{sentence}\n".encode(codepage)))
    assert df["kommentar"].tolist() == [sentence] and df.attrs["encoding"] == codepage


def test_cp850_is_not_stored_as_mojibake(tmp_path: Path) -> None:
    raw = "id;kommentar\n1;Äntligen någon\n".encode("cp850")
    df = read_table(write_bytes(tmp_path, "dos.csv", raw))
    assert df.loc[1, "kommentar"] == "Äntligen någon"
    assert "Ž" not in df.loc[1, "kommentar"] and "†" not in df.loc[1, "kommentar"]


def test_mixed_utf8_and_cp1252_lines_and_mojibake_are_repaired(tmp_path: Path) -> None:
    raw = (
        "id;kommentar\n".encode()
        + f"1;{SWEDISH[0]}\n".encode("utf-8")
        + f"2;{SWEDISH[1]}\n".encode("cp1252")
        + f"3;{SWEDISH[2]}\n".encode("utf-8").decode("cp1252").encode("utf-8")  # mojibake stored as UTF-8
        + f"4;{SWEDISH[3]}\n".encode("utf-8")
        + "5;Så bra. På Åland.\n".encode("utf-8").decode("cp1252").encode("utf-8")  # what ftfy leaves alone
    )
    df = read_table(write_bytes(tmp_path, "blandad.csv", raw))
    assert df["kommentar"].tolist() == SWEDISH[:4] + ["Så bra. På Åland."]
    assert df.attrs["encoding"] == "utf-8+cp1252" and df.attrs["bad_rows"] == []


def test_text_that_only_resembles_mojibake_is_left_alone(tmp_path: Path) -> None:
    texts = ["OJ DÅ… vad dyrt", "Å” sa hon", "Öppet 08–17", "Ölet var 5 °C"]
    df = read_table(write_bytes(tmp_path, "lik.csv", ("text\n" + "\n".join(texts) + "\n").encode()))
    assert df["text"].tolist() == texts


@pytest.mark.parametrize("stray", [b"\x81", b"\x9d", b"\xff", b"\x9c\x9f"])
def test_a_line_no_encoding_explains_is_quarantined(tmp_path: Path, stray: bytes) -> None:
    raw = "id;kommentar\n1;Hej då\n".encode() + b"2;Bra" + stray + b" service\n" + "3;Åter i tjänst\n".encode()
    df = read_table(write_bytes(tmp_path, "strö.csv", raw))
    assert df["kommentar"].tolist() == ["Hej då", "Åter i tjänst"]
    assert bad_summary(df) == [(2, "undecodable_text")]
    bad = df.attrs["bad_rows"][0]
    assert "line 3" in bad.reason and bad.cells["id"] == "2" and "\ufffd" in bad.cells["kommentar"]


def test_undecodable_line_in_a_cp1252_file(tmp_path: Path) -> None:
    raw = "id;kommentar\n1;Väntetid\n".encode("cp1252") + b"2;\x81\x8d\x90\n" + "3;Åtgärd\n".encode("cp1252")
    df = read_table(write_bytes(tmp_path, "cp.csv", raw))
    assert df["kommentar"].tolist() == ["Väntetid", "Åtgärd"] and bad_summary(df) == [(2, "undecodable_text")]


def test_jsonl_in_utf16_without_bom(tmp_path: Path) -> None:
    raw = '{"text": "Äntligen"}\n{"text": "Öppet"}\n'.encode("utf-16-le")
    df = read_table(write_bytes(tmp_path, "u.jsonl", raw))
    assert df["text"].tolist() == ["Äntligen", "Öppet"] and df.attrs["encoding"] == "utf-16-le"


# --- JSON ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrapped", [False, True])
def test_json_item_that_is_not_an_object_is_a_bad_row(tmp_path: Path, wrapped: bool) -> None:
    items = [{"text": "Fin lekplats"}, SECRET, ["a", 1], {"text": "Smutsig strand"}]
    payload = {"comments": items} if wrapped else items
    df = read_table(write_bytes(tmp_path, "c.json", json.dumps(payload, ensure_ascii=False).encode()))
    assert df["text"].tolist() == ["Fin lekplats", "Smutsig strand"] and df.index.tolist() == [1, 4]
    assert bad_summary(df) == [(2, "not_an_object"), (3, "not_an_object")]
    assert df.attrs["bad_rows"][0].reason == "item 2 of the list is not an object (a str)"
    assert df.attrs["bad_rows"][1].cells == {"value": '["a", 1]'}


def test_jsonl_keys_union_and_chunks(tmp_path: Path) -> None:
    text = '{"text": "a"}\n{"text": "b", "datum": "2025-01-01"}\nnot json\n{"datum": "2025-01-02", "text": "c"}\n'
    chunks = list(iter_table(write_bytes(tmp_path, "k.jsonl", text.encode()), chunk_rows=2))
    assert [list(c.frame.columns) for c in chunks] == [["text", "datum"]] * 2
    assert [c.frame.index.tolist() for c in chunks] == [[1, 2], [4]]
    assert [b.row_number for c in chunks for b in c.bad_rows] == [3]


def test_parquet_is_read_in_batches(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [str(i) for i in range(7)], "text": [f"Synpunkt {i}" for i in range(7)]})
    path = write_table(df, tmp_path / "p.parquet")
    chunks = list(iter_table(path, chunk_rows=3))
    assert [c.frame.index.tolist() for c in chunks] == [[1, 2, 3], [4, 5, 6], [7]]
    assert pd.concat([c.frame for c in chunks])["text"].tolist() == df["text"].tolist()


# --- XLSX -------------------------------------------------------------------------------------------------




def test_xlsx_every_sheet_with_the_same_columns_is_read(tmp_path: Path) -> None:
    from datetime import date, datetime

    path = workbook(tmp_path / "år.xlsx", {
        "2024": [["Synpunkter 2024"], [], ["ärendenummer", "datum", "kommunkod", "kommentar"],
                 [1, datetime(2024, 3, 14), 180.0, "Bra"], [], [2, datetime(2024, 3, 15, 10, 30), 180, "Dålig"]],
        "Tom": [],
        "2025": [["kommentar", "datum", "ärendenummer", "kommunkod"], ["Ok", date(2025, 1, 2), 1, 1.5]],
    })
    df = read_table(path)
    assert list(df.columns) == ["ärendenummer", "datum", "kommunkod", "kommentar"]
    assert df.to_dict("list") == {
        "ärendenummer": ["1", "2", "1"], "datum": ["2024-03-14", "2024-03-15 10:30:00", "2025-01-02"],
        "kommunkod": ["180", "180", "1.5"], "kommentar": ["Bra", "Dålig", "Ok"],
    }
    assert df.index.tolist() == [1, 2, 3]
    assert df.attrs["sheets"] == ["2024", "2025"] and df.attrs["empty_sheets"] == ["Tom"]
    assert df.attrs["ignored_sheets"] == [] and df.attrs["bad_rows"] == []


def test_xlsx_sheet_without_a_comment_column_is_ignored_and_said_so(tmp_path: Path) -> None:
    path = workbook(tmp_path / "info.xlsx", {
        "Info": [["Export skapad", "2025-03-14"], ["Kontakt", SECRET]],
        "Svar": [["id", "datum", "kommentar"], [1, "2025-03-14", "Bra"]],
    })
    df = read_table(path)
    assert df["kommentar"].tolist() == ["Bra"]
    assert df.attrs["sheets"] == ["Svar"] and df.attrs["ignored_sheets"] == ["Info"]


def test_xlsx_sheets_with_different_columns_fail_naming_them(tmp_path: Path) -> None:
    path = workbook(tmp_path / "olika.xlsx", {
        "A": [["id", "kommentar"], [1, SECRET]],
        "B": [["id", "text", "datum"], [1, SECRET, "2025-03-14"]],
    })
    assert "sheets 'A' and 'B' have different columns" in error_for(path)


def test_xlsx_without_a_header_fails_without_echoing_cells(tmp_path: Path) -> None:
    path = workbook(tmp_path / "utan.xlsx", {"Blad1": [[1, "2025-03-14", SECRET]]})
    message = error_for(path)
    assert "no header row found" in message and "2025-03-14" not in message


def test_xlsx_value_outside_the_header_is_a_bad_row(tmp_path: Path) -> None:
    path = workbook(tmp_path / "bred.xlsx", {"S": [["id", "kommentar"], [1, "Bra"], [2, "Ok", None, SECRET], [3, "Tack"]]})
    df = read_table(path)
    assert df["kommentar"].tolist() == ["Bra", "Tack"] and bad_summary(df) == [(2, "malformed_row")]
    bad = df.attrs["bad_rows"][0]
    assert "row 3" in bad.reason and "column D" in bad.reason and bad.cells["extra_2"] == SECRET
    assert_no_values_in_reasons(df)


def test_xlsx_all_sheets_empty(tmp_path: Path) -> None:
    assert "empty" in error_for(workbook(tmp_path / "tom.xlsx", {"A": [], "B": []}))


# --- writing: spreadsheet formula injection ---------------------------------------------------------------

DANGEROUS = ["=2*3", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1+3", "  =HYPERLINK(\"x\")", "\n=1"]


def test_csv_output_neutralises_formulas_and_quotes_line_breaks(tmp_path: Path) -> None:
    import csv

    df = pd.DataFrame({"text": DANGEROUS + ["Vanlig text", "5 - 3"], "n": range(len(DANGEROUS) + 2)})
    path = write_table(df, tmp_path / "ut.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == len(df) + 1  # "\r=1+3" makes no extra row
    assert [r[0] for r in rows[1:]] == ["'" + v for v in DANGEROUS] + ["Vanlig text", "5 - 3"]
    assert pd.read_csv(path, dtype=str, keep_default_na=False).shape == (len(df), 2)


def test_xlsx_output_keeps_formula_like_text_as_quoted_text(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"text": DANGEROUS[:4] + ["Vanlig"]}), tmp_path / "ut.xlsx")
    cells = list(openpyxl.load_workbook(path).active["A"])[1:]
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells] == \
        [(v, "s", True) for v in DANGEROUS[:4]] + [("Vanlig", "s", False)]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".parquet"])
def test_data_formats_are_written_unchanged(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"text": DANGEROUS})
    assert read_table(write_table(df, tmp_path / f"ut{suffix}"))["text"].tolist() == DANGEROUS


def test_a_comment_line_that_looks_like_a_short_record_stays_in_its_comment(tmp_path: Path) -> None:
    comment = "Mina frågor:\n1, 2, 3\n4, 2025-03-14, fyra"
    text = f'id,datum,kommentar\n1,2025-03-14,"{comment}"\n2,2025-03-15,Ok\n'
    df = read_table(write_bytes(tmp_path, "lista.csv", text.encode()))
    assert df["kommentar"].tolist() == [comment, "Ok"] and df.attrs["bad_rows"] == []


def test_error_binary_file(tmp_path: Path) -> None:
    import random

    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(12).randbytes(4000)
    assert "not a text file" in error_for(write_bytes(tmp_path, "bild.csv", data))
    assert "not a text file" in error_for(write_bytes(tmp_path, "bild.jsonl", data))



def test_a_workbook_saved_under_a_csv_name_is_read_as_a_workbook(tmp_path: Path) -> None:
    import io

    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"kommentar": ["Bra", "Dålig kö"], "datum": ["2025-03-14", "2025-03-15"]}).to_excel(buffer, index=False)
    df = read_table(write_bytes(tmp_path, "svar.csv", buffer.getvalue()))
    assert df["kommentar"].tolist() == ["Bra", "Dålig kö"] and df.attrs["sheets"] == ["Sheet1"]
    message = error_for(write_bytes(tmp_path, "trasig.csv", b"PK\x03\x04 not a workbook"))
    assert "not a valid .xlsx workbook" in message


def test_nul_padding_is_ignored_and_a_nul_in_a_cell_quarantines_the_row(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "pad.csv", b"id,text\n1,Bra\n2,Ok\n" + b"\x00" * 40))
    assert df["text"].tolist() == ["Bra", "Ok"] and df.attrs["bad_rows"] == []
    df = read_table(write_bytes(tmp_path, "nul.csv", b"id,text\n1,Bra\x00 service\n2,Ok\n"))
    assert df["text"].tolist() == ["Ok"] and bad_summary(df) == [(1, "undecodable_text")]
    assert "NUL" in df.attrs["bad_rows"][0].reason
    df = read_table(write_bytes(tmp_path, "pad.json", b'[{"text": "Bra"}]\n' + b"\x00" * 40))
    assert df["text"].tolist() == ["Bra"]


def test_too_many_fields_quarantines_the_row(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fel.csv", f"id,text\n1,ok\n2,{SECRET},extra,fält\n3,också ok\n".encode())
    df = read_table(path)
    assert df["text"].tolist() == ["ok", "också ok"] and df.index.tolist() == [1, 3]
    [bad] = df.attrs["bad_rows"]
    assert (bad.row_number, bad.reason_code) == (2, "malformed_row")
    assert "line 3" in bad.reason and "4 fields where the header has 2" in bad.reason
    assert SECRET not in bad.reason
    assert bad.cells == {"id": "2", "text": SECRET, "extra_1": "extra", "extra_2": "fält"}


def test_malformed_jsonl_line_is_a_bad_row(tmp_path: Path) -> None:
    text = f'{{"text": "ok"}}\n{{"text": "{SECRET}"\n\n{{"text": "också ok"}}\n'
    df = read_table(write_bytes(tmp_path, "fel.jsonl", text.encode()))
    assert df["text"].tolist() == ["ok", "också ok"] and df.index.tolist() == [1, 3]
    [bad] = df.attrs["bad_rows"]
    assert (bad.row_number, bad.reason_code) == (2, "malformed_json")
    assert bad.reason.startswith("line 2, column") and SECRET not in bad.reason
    assert bad.cells == {"line": f'{{"text": "{SECRET}"'}


def test_jsonl_line_not_an_object_is_a_bad_row(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "fel.jsonl", f'{{"text": "ok"}}\n"{SECRET}"\n[1, 2]\n'.encode()))
    assert df["text"].tolist() == ["ok"]
    bad = df.attrs["bad_rows"]
    assert [(b.row_number, b.reason_code) for b in bad] == [(2, "not_an_object"), (3, "not_an_object")]
    assert bad[0].reason == "line 2 is not a JSON object (a str)" and bad[0].cells == {"value": SECRET}
    assert bad[1].cells == {"value": "[1, 2]"}


def test_cp1252_typography_is_plausible(tmp_path: Path) -> None:
    texts = ["• Bra bemötande", "BankID™ krånglade", "© Kommunen – ”tack”", "Öppet 8–17 • 50 €"]
    df = read_table(write_bytes(tmp_path, "typo.csv", ("text\n" + "\n".join(texts) + "\n").encode("cp1252")))
    assert df["text"].tolist() == texts and df.attrs["encoding"] == "cp1252"


def test_old_mac_cr_line_ends(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "mac.csv", "id;text\r1;Bra\r2;Ok, tack\r".encode("cp1252")))
    assert df["text"].tolist() == ["Bra", "Ok, tack"] and df.attrs["separator"] == ";"


def test_stream_attrs_say_what_was_detected(tmp_path: Path) -> None:
    stream = iter_table(write_bytes(tmp_path, "a.csv", "Rubrik\n\nid;kommentar\n1;Hej\n".encode("cp850")))
    assert stream.attrs == {"encoding": "utf-8", "separator": ";", "header_line": 3}
    [chunk] = list(stream)
    assert chunk.frame.attrs["header_line"] == 3 and chunk.frame.index.tolist() == [1]


def test_estimated_rows_counts_cheaply_for_a_progress_bar(tmp_path: Path) -> None:
    from synpunkt.tables import estimated_rows, read_table, write_table

    df = pd.DataFrame({"kommentar": [f"rad {i}" for i in range(25)], "datum": ["2025-01-01"] * 25})
    for suffix in (".csv", ".jsonl", ".parquet"):
        path = write_table(df, tmp_path / f"a{suffix}")
        assert estimated_rows(path) == len(read_table(path)) == 25, suffix
    (tmp_path / "b.csv").write_text("kommentar\nett\ntvå")  # no line break after the last row
    assert estimated_rows(tmp_path / "b.csv") == 2
    (tmp_path / "c.csv").write_text('kommentar\n"två\nrader"\n')  # a quoted cell over two lines: an upper bound
    assert estimated_rows(tmp_path / "c.csv") == 2 >= len(read_table(tmp_path / "c.csv"))
    assert estimated_rows(write_table(df, tmp_path / "d.xlsx")) is None
    assert estimated_rows(tmp_path / "missing.csv") is None

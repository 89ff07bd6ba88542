"""Tests for synpunkt.tables: reading and writing comment tables in every supported format."""

from __future__ import annotations

import codecs
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from synpunkt import tables
from synpunkt.tables import (
    TEXT_COLUMN_CANDIDATES,
    TableReadError,
    TableWriteError,
    decode_text,
    detect_separator,
    find_column,
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
    assert df.attrs == {"encoding": "utf-8", "separator": ","}


def test_csv_utf8_bom_gives_clean_first_header(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.csv", codecs.BOM_UTF8 + "id,text\n1,Öppettiderna är för korta\n".encode())
    df = read_table(path)
    assert list(df.columns) == ["id", "text"]
    assert df["text"].tolist() == ["Öppettiderna är för korta"]
    assert df.attrs["encoding"] == "utf-8-sig"


def test_csv_cp1252_with_semicolons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_guessing(raw: bytes):
        raise AssertionError("charset-normalizer must not be asked for Windows-1252 text")

    monkeypatch.setattr(tables, "from_bytes", no_guessing)
    text = (
        "id;kommentar\n1;Väntetiden var lång, men personalen var snäll\n"
        "2;Åtgärda gatlyset på Ängsvägen\n"
    )
    df = read_table(write_bytes(tmp_path, "excel.csv", text.encode("cp1252")))
    assert df.attrs == {"encoding": "cp1252", "separator": ";"}
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
    assert df.attrs == {"encoding": "utf-16", "separator": "\t"}
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
    assert read_table(path)["text"].tolist() == ["Första bladet"]
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


def test_error_undecodable_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMatch:
        def best(self):
            return None

    monkeypatch.setattr(tables, "from_bytes", lambda raw: NoMatch())
    # 0x81 and 0x8d are undefined in Windows-1252 and invalid as UTF-8
    path = write_bytes(tmp_path, "trasig.csv", b"text\n\x81\x8d" + SECRET.encode("cp1252"))
    assert "cannot decode" in error_for(path)


def test_error_malformed_delimited_text(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fel.csv", f"id,text\n1,ok\n2,{SECRET},extra,fält\n".encode())
    message = error_for(path)
    assert "malformed delimited text" in message and "line 3" in message


def test_error_malformed_json_names_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fel.json", f'[\n  {{"text": "ok"}},\n  {{"text": "{SECRET}" "x"}}\n]'.encode())
    message = error_for(path)
    assert "malformed JSON" in message and "line 3" in message


def test_error_malformed_jsonl_names_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fel.jsonl", f'{{"text": "ok"}}\n{{"text": "{SECRET}"\n'.encode())
    message = error_for(path)
    assert "malformed JSON on line 2" in message


def test_error_jsonl_line_not_an_object(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "fel.jsonl", f'{{"text": "ok"}}\n"{SECRET}"\n'.encode())
    assert "line 2 is not a JSON object" in error_for(path)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (SECRET, "top level is str"),
        ([{"text": "ok"}, SECRET], "item 2 of the list is not an object"),
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


def test_find_column_errors_list_available_columns() -> None:
    df = pd.DataFrame(columns=["id", "datum"])
    with pytest.raises(ValueError, match=r"column 'text' not found; available columns: id, datum"):
        find_column(df, "text", TEXT_COLUMN_CANDIDATES)
    with pytest.raises(ValueError, match=r"no column named like text/kommentar.*available columns: id, datum"):
        find_column(df, None, TEXT_COLUMN_CANDIDATES)


def test_read_then_find_column_with_stripped_header(tmp_path: Path) -> None:
    df = read_table(write_bytes(tmp_path, "s.csv", codecs.BOM_UTF8 + " Kommentar ;id\nBra;1\n".encode()))
    assert find_column(df, None, TEXT_COLUMN_CANDIDATES) == "Kommentar"


def test_openpyxl_sees_joined_lists_as_plain_strings(tmp_path: Path) -> None:
    path = write_table(topics_frame(), tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert [cell.value for cell in sheet["B"]] == ["topics", "handler;wait_time", None]

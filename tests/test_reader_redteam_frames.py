"""Red-team findings on the table readers (bugs 4, 5, 7, 8 and 9): exact whole numbers, no silently dropped
sheet, JSON keys differing in case, title rows as wide as the header, sheets whose headers differ in case.
Each test goes through synpunkt.tables' public entry points (and the validator where the finding was about what
ends up stored)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from corpus_builders import workbook
from synpunkt.tables import TableReadError, read_table
from synpunkt.validate import validate_rows

SECRET = "Mitt personnummer är 19121212-1212"
"""Cell text that must never turn up in an error message."""


def write_json(path: Path, payload: object) -> Path:
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path




def read_error(path: Path) -> str:
    with pytest.raises(TableReadError) as info:
        read_table(path)
    message = str(info.value)
    assert SECRET not in message
    return message


def stored(df: pd.DataFrame) -> list[dict]:
    """What the validator accepts: external id, text and metadata of each accepted row."""
    return validate_rows(df, "0180").accepted[["external_id", "text", "metadata"]].to_dict("records")


# --- bug 4: whole numbers with a missing value stay whole -----------------------------------------------------

BIG_ID = 20250301123456789  # more digits than a float holds


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_whole_numbers_next_to_a_null_keep_their_digits(tmp_path: Path, suffix: str) -> None:
    rows = [{"ärendenummer": BIG_ID, "kommentar": "Stort id", "datum": "2025-03-01", "antal": 2},
            {"ärendenummer": None, "kommentar": "Utan id", "datum": "2025-03-01", "antal": 1.5},
            {"ärendenummer": 101, "kommentar": "Litet id", "datum": "2025-03-02", "antal": 2.0},
            {"ärendenummer": 7, "kommentar": None, "datum": "2025-03-02"}]
    path = (write_json if suffix == ".json" else write_jsonl)(tmp_path / f"ids{suffix}", rows)
    out = stored(read_table(path))
    assert [r["external_id"] for r in out[:1]] + [r["external_id"] for r in out[2:]] == [str(BIG_ID), "101"]
    # a float stays as written: 1.5 and 2.0; the int 2 stays "2"
    assert [r["metadata"].get("antal") for r in out] == ["2", "1.5", "2.0"]


def test_json_numeric_comment_next_to_a_null_is_not_made_a_float(tmp_path: Path) -> None:
    path = write_json(tmp_path / "tal.json", [{"kommentar": 12345, "datum": "2025-03-01"},
                                              {"kommentar": None, "datum": "2025-03-01"}])
    assert [r["text"] for r in stored(read_table(path))] == ["12345"]


def test_parquet_nullable_ints_stay_whole(tmp_path: Path) -> None:
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"id": pd.array([101, None, BIG_ID], dtype="Int64"), "kommentar": ["Bra", "Dåligt", "Ok"],
                  "datum": ["2025-03-01"] * 3, "antal": pd.array([2, None, 3], dtype="Int64"),
                  "andel": [1.5, None, 2.0]}).to_parquet(path, index=False)
    out = stored(read_table(path))
    assert [r["external_id"] for r in out if not pd.isna(r["external_id"])] == ["101", str(BIG_ID)]
    assert [r["metadata"] for r in out] == [{"antal": "2", "andel": "1.5"}, {}, {"antal": "3", "andel": "2.0"}]


# --- bug 5: a sheet of comments is never dropped silently -----------------------------------------------------


def test_sheets_of_comments_that_cannot_be_joined_fail_naming_them(tmp_path: Path) -> None:
    path = workbook(tmp_path / "blad.xlsx", {
        "Januari": [["Kommentar", "Datum"], [SECRET, "2025-01-15"]],
        "Mars": [["Beskrivning av synpunkten", "Datum"], [SECRET, "2025-03-15"]],
    })
    assert "sheets 'Januari' and 'Mars' have different columns" in read_error(path)


def test_loosely_named_sheet_is_a_data_sheet_and_an_info_sheet_is_skipped_by_name(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = workbook(tmp_path / "info.xlsx", {
        "Info": [["Export skapad", "2025-03-14"], ["Kontakt", "Växeln"]],
        "Mars": [["Beskrivning av synpunkten", "Datum"], ["Lång väntetid", "2025-03-15"]],
    })
    with caplog.at_level(logging.WARNING, logger="synpunkt.readers.workbook"):
        df = read_table(path)
    assert df.attrs["sheets"] == ["Mars"] and df.attrs["ignored_sheets"] == ["Info"]
    assert [r["text"] for r in stored(df)] == ["Lång väntetid"]
    assert "Info" in caplog.text


# --- bug 7: JSON keys differing only in case are one column --------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_keys_differing_in_case_are_one_column(tmp_path: Path, suffix: str) -> None:
    rows = [{"Kommentar": "Versal nyckel", "Datum": "2025-03-01"},
            {"kommentar": "Gemen nyckel", " datum ": "2025-03-02"}]
    df = read_table((write_json if suffix == ".json" else write_jsonl)(tmp_path / f"k{suffix}", rows))
    assert list(df.columns) == ["Kommentar", "Datum"]
    assert [r["text"] for r in stored(df)] == ["Versal nyckel", "Gemen nyckel"]


def test_json_keys_differing_in_case_in_one_object_stay_two_columns(tmp_path: Path) -> None:
    rows = [{"kommentar": "Första", "Kommentar": "Andra", "datum": "2025-03-01"},
            {"Kommentar": "Tredje", "datum": "2025-03-02"}]
    df = read_table(write_json(tmp_path / "dubbel.json", rows))
    assert list(df.columns) == ["kommentar", "Kommentar_2", "datum"]
    assert df["Kommentar_2"].tolist() == ["Andra", "Tredje"]


# --- bug 8: a title row as wide as the header ----------------------------------------------------------------


def test_csv_title_holding_the_separator_is_not_the_header(tmp_path: Path) -> None:
    path = tmp_path / "titel.csv"
    path.write_text("Rapport: synpunkter; kommun Stockholm; period 2025-01-01 till 2025-03-31\n"
                    "Kommentar;Datum\nBra info;2025-03-01\n", encoding="utf-8")
    df = read_table(path)
    assert list(df.columns) == ["Kommentar", "Datum"]
    assert [r["text"] for r in stored(df)] == ["Bra info"]


def test_xlsx_merged_group_header_above_the_header(tmp_path: Path) -> None:
    path = workbook(tmp_path / "grupp.xlsx", {"S": [["Synpunkt", None, "Övrigt"], ["Kommentar", "Datum", "Kanal"],
                                                   ["Bra", "2025-03-01", "telefon"]]}, merged={"S": "A1:B1"})
    df = read_table(path)
    assert list(df.columns) == ["Kommentar", "Datum", "Kanal"] and df["Kommentar"].tolist() == ["Bra"]


def test_xlsx_title_over_three_cells_above_the_header(tmp_path: Path) -> None:
    path = workbook(tmp_path / "titel.xlsx", {"S": [["Synpunkter 2025", "Kommun", "Stockholm"],
                                                   ["Kommentar", "Datum", "Kanal"], ["Bra", "2025-03-01", "chatt"]]})
    assert [r["text"] for r in stored(read_table(path))] == ["Bra"]


# --- bug 9: sheets whose headers differ only in case ----------------------------------------------------------


def test_sheets_whose_headers_differ_in_case_are_read_as_one(tmp_path: Path) -> None:
    path = workbook(tmp_path / "fall.xlsx", {
        "Jan": [["Kommentar", "Datum"], ["Jan bra", "2025-01-10"]],
        "Feb": [[" datum", "KOMMENTAR"], ["2025-02-10", "Feb bra"]],  # other case, space and order
    })
    df = read_table(path)
    assert df.attrs["sheets"] == ["Jan", "Feb"] and list(df.columns) == ["Kommentar", "Datum"]
    assert df.to_dict("list") == {"Kommentar": ["Jan bra", "Feb bra"], "Datum": ["2025-01-10", "2025-02-10"]}

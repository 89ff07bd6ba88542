"""Row validation: column mapping, dates, municipality codes, channels, row numbers and every quarantine reason."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest

from synpunkt.dates import DateParse, parse_date, to_date
from synpunkt.validate import (MissingColumn, header_key, map_columns, normalise_channel,
                               normalise_municipality_code, row_numbers, validate_rows)

TODAY = date(2025, 6, 1)
MARCH_14 = date(2025, 3, 14)
SENTINEL = "Karin Lund 19850312-2398"


def frame(dates, texts=None, **extra) -> pd.DataFrame:
    texts = texts or [f"Synpunkt {i}" for i in range(len(dates))]
    return pd.DataFrame({"kommentar": texts, "datum": dates, **extra})


# --- columns -------------------------------------------------------------------------------------------------

def test_swedish_headers_are_found_and_extra_columns_kept_as_metadata():
    df = pd.DataFrame({"Ärendenummer": ["A1"], "Kontaktdatum": ["2025-01-02"], "Kanal": ["Telefon"],
                       "Synpunkt": ["Bra"], "kön": ["kvinna"]})
    cols = map_columns(df)
    assert (cols.text, cols.date, cols.id, cols.channel) == ("Synpunkt", "Kontaktdatum", "Ärendenummer", "Kanal")
    assert cols.metadata == ["kön"]


@pytest.mark.parametrize("name", ["kommentar", "Kommentar ", "KOMMENTAR", "\ufeffkommentar", " kommentar\u200b",
                                  "kommentar_2", "kommentar.1", "Kommentar (2)"])
def test_comment_header_variants_are_recognised(name):
    assert map_columns(pd.DataFrame(columns=[name, "datum"])).text == name


def test_header_key_folds_case_space_bom_and_hyphens():
    assert header_key("\ufeff Kontakt-Datum ") == header_key("kontakt_datum") == "kontakt_datum"
    assert header_key("ÄRENDE ID") == "ärende_id"


@pytest.mark.parametrize("columns,text,kept", [
    (["kommentar", "kommentar ", "datum"], "kommentar", ["kommentar "]),
    (["kommentar", "kommentar_2", "datum"], "kommentar", ["kommentar_2"]),
    (["text", "datum", "kommentar"], "text", ["kommentar"]),
    (["kommentar", "datum", "text"], "kommentar", ["text"]),
])
def test_first_matching_comment_column_wins_and_the_other_is_kept_as_metadata(columns, text, kept):
    cols = map_columns(pd.DataFrame(columns=columns))
    assert cols.text == text and cols.metadata == kept
    assert cols.other_comment_columns == kept, "ingest warns about the second comment column"


def test_second_comment_column_is_stored_as_metadata_not_lost():
    df = pd.DataFrame({"kommentar": ["Första"], "Kommentar ": ["Andra"], "datum": ["2025-03-14"]})
    v = validate_rows(df, "0180", today=TODAY)
    assert v.accepted.iloc[0]["text"] == "Första" and v.accepted.iloc[0]["metadata"] == {"Kommentar ": "Andra"}


def test_duplicate_column_labels_keep_both_columns():
    df = pd.DataFrame([["Första", "Andra", "2025-03-14"]], columns=["kommentar", "kommentar", "datum"])
    v = validate_rows(df, "0180", today=TODAY)
    assert v.accepted.iloc[0]["text"] == "Första" and v.accepted.iloc[0]["metadata"] == {"kommentar.1": "Andra"}


@pytest.mark.parametrize("columns,missing", [(["datum", "kanal"], "comment"), (["kommentar", "kanal"], "date")])
def test_missing_required_column_fails_the_batch(columns, missing):
    with pytest.raises(MissingColumn, match=f"no {missing} column among the file's 2 columns; expected a header"):
        map_columns(pd.DataFrame(columns=columns))


def test_missing_column_message_never_lists_the_found_names():
    """A file without a header has its first data row as column names: they must not reach the message."""
    headerless = pd.DataFrame([["2", "2025-03-15", "Ring mig"]], columns=["1", "2025-03-14", SENTINEL])
    with pytest.raises(MissingColumn) as err:
        validate_rows(headerless, "0180", today=TODAY)
    message = str(err.value)
    assert SENTINEL not in message and "2025-03-14" not in message
    assert "3 columns" in message and "kommentar" in message
    with pytest.raises(MissingColumn) as err:
        map_columns(pd.DataFrame(columns=["kommentar", SENTINEL]))
    assert SENTINEL not in str(err.value) and "no date column" in str(err.value)


# --- dates ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "2025-03-14", "2025-3-14", "2025/03/14", "2025.03.14", "2025-03-14 10:22", "2025-03-14 13:45:00",
    "2025-03-14T10:22:00Z", "2025-03-14T10:22:00.000Z", "2025-03-14T10:22:00+01:00", "20250314", "20250314 10:22",
    "45730", "45730.0", "45730.4375", "45730,4375", 45730, 45730.0, 45730.4375, np.int64(45730), 20250314,
    "14/03/2025", "14/3/2025", "14.03.2025", "14-03-2025", "14/03/2025 10:22", "14.03.2025 kl. 10.22",
    "14 mars 2025", "14 Mars 2025", "14 MARS 2025", "14 mar 2025", "14 mar. 2025", "14 mars, 2025",
    "den 14 mars 2025", "fredag 14 mars 2025", "Fredagen den 14 mars 2025", "14:e mars 2025", "14-MAR-2025",
    "14 March 2025", "14 Mar 2025", "March 14, 2025", "Friday, March 14, 2025", " 2025-03-14 ", "\ufeff2025-03-14",
    MARCH_14, datetime(2025, 3, 14, 10, 22), pd.Timestamp("2025-03-14 10:22"), np.datetime64("2025-03-14"),
])
def test_dates_in_swedish_export_formats_are_read_exactly(value):
    assert parse_date(value) == DateParse(MARCH_14)
    assert to_date(value) == MARCH_14


@pytest.mark.parametrize("value", ["4/3/2025", "04.03.2025", "4 mars 2025", "2025-03-04"])
def test_numeric_dates_are_day_first(value):
    assert to_date(value) == date(2025, 3, 4)


@pytest.mark.parametrize("value,expected", [
    ("2025-03-14T23:30:00Z", date(2025, 3, 15)),  # 00:30 in Stockholm
    ("2025-03-14T23:30:00+01:00", MARCH_14),
    ("2025-03-14 23:30", MARCH_14),  # no offset: local time as written
    (datetime(2025, 3, 14, 23, 30, tzinfo=timezone.utc), date(2025, 3, 15)),
])
def test_timestamps_with_an_offset_are_dated_in_swedish_time(value, expected):
    assert to_date(value) == expected


@pytest.mark.parametrize("value,code", [
    ("25-03-14", "ambiguous_date"), ("14/03/25", "ambiguous_date"), ("14.3.25", "ambiguous_date"),
    ("14 mars 25", "ambiguous_date"), ("250314", "ambiguous_date"), ("25-3-4", "ambiguous_date"),
    ("2025", "partial_date"), (2025, "partial_date"), ("mars 2025", "partial_date"), ("Mars, 2025", "partial_date"),
    ("March 2025", "partial_date"), ("2025-03", "partial_date"), ("03/2025", "partial_date"),
    ("14 mars", "partial_date"),
    ("03/25/2025", "invalid_date"), ("3/25/2025 10:00", "invalid_date"), ("2025-02-30", "invalid_date"),
    ("2025-13-45", "invalid_date"), ("31/04/2025", "invalid_date"), ("30 februari 2025", "invalid_date"),
    ("20250230", "invalid_date"), ("14032025", "invalid_date"), ("2025-03-14 25:00", "invalid_date"),
    ("torsdag 14 mars 2025", "invalid_date"), ("14 smarch 2025", "invalid_date"), ("not a date", "invalid_date"),
    ("12345", "invalid_date"), ("99999", "invalid_date"), (12345, "invalid_date"), (float("inf"), "invalid_date"),
    (True, "invalid_date"), ("NA", "invalid_date"),
    ("", "missing_date"), ("   ", "missing_date"), (None, "missing_date"), (float("nan"), "missing_date"),
    (pd.NaT, "missing_date"),
])
def test_ambiguous_partial_and_invalid_dates_are_never_guessed(value, code):
    parsed = parse_date(value)
    assert parsed.value is None and parsed.problem == code and parsed.detail
    assert to_date(value) is None


def test_date_problem_details_explain_the_fix():
    assert "two-digit-year" in parse_date("25-03-14").detail and "four digits" in parse_date("25-03-14").detail
    assert "only a year" in parse_date("2025").detail
    assert "month and year" in parse_date("mars 2025").detail
    assert "month-first" in parse_date("03/25/2025").detail
    assert "calendar date" in parse_date("2025-02-30").detail


# --- municipality codes and channels -------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    (180, "0180"), ("180", "0180"), (180.0, "0180"), ("180.0", "0180"), ("0180", "0180"), (" 0180 ", "0180"),
    (np.int64(1480), "1480"), ("1480", "1480"), ("18O", None), ("0180a", None), (12345, None), ("12345", None),
    (180.5, None), ("-180", None), (True, None), (None, None), (float("nan"), None),
])
def test_municipality_codes_are_normalised(value, expected):
    assert normalise_municipality_code(value) == expected


def test_row_municipality_codes_are_checked_after_normalisation():
    codes = [180, "180", 180.0, "180.0", "0180", " 0180 ", "", "1480", 1480.0, "Stockholm", "18.5", "9999"]
    v = validate_rows(frame(["2025-03-14"] * len(codes), kommunkod=codes), "0180", today=TODAY)
    assert list(v.accepted.row_number) == [1, 2, 3, 4, 5, 6, 7]
    assert dict(zip(v.rejected.row_number, v.rejected.reason_code)) == {
        8: "wrong_municipality", 9: "wrong_municipality", 10: "invalid_municipality_code",
        11: "invalid_municipality_code", 12: "invalid_municipality_code"}
    assert all("'kommunkod'" in r for r in v.rejected.reason)


@pytest.mark.parametrize("value,expected", [("Telefon", ("telefon", None)), ("mejl", ("e-post", None)),
                                            ("Chat", ("chatt", None)), ("besok", ("besök", None)),
                                            ("brevduva", (None, "brevduva")), ("", (None, None))])
def test_channels_are_normalised_and_unknown_ones_kept_aside(value, expected):
    assert normalise_channel(value) == expected


# --- rows ----------------------------------------------------------------------------------------------------

def test_every_row_is_accepted_or_quarantined_with_a_specific_reason():
    df = pd.DataFrame({
        "id": ["1", "2", "3", "4", "5", "6", "1", "7", "8", "9", "10", "11"],
        "datum": ["2025-01-10", "2025-02-10", "", "2025-02-30", "2030-01-01", "1999-12-31", "2025-01-10",
                  "2025-03-01", "2025-03-02", "25-03-14", "2025", "14 mars 2025"],
        "kanal": ["telefon", "brevduva", "chatt", "chatt", "chatt", "chatt", "telefon", "besök", "e-post", "chatt",
                  "chatt", "chatt"],
        "kommentar": ["Bra bemötande", "Lång kö", "Text", "Text", "Text", "Text", "Bra bemötande", "   ",
                      "x" * 20_001, "Text", "Text", "Text"],
        "kommunkod": ["0180"] * 12,
    })
    v = validate_rows(df, "0180", today=TODAY)
    assert len(v.accepted) + len(v.rejected) == len(df)
    reasons = dict(zip(v.rejected.row_number, v.rejected.reason_code))
    assert reasons == {3: "missing_date", 4: "invalid_date", 5: "future_date", 6: "date_too_early",
                       8: "empty_text", 9: "text_too_long", 10: "ambiguous_date", 11: "partial_date"}
    assert list(v.accepted.row_number) == [1, 2, 7, 12]
    assert v.accepted.iloc[3]["contact_date"] == MARCH_14
    assert pd.isna(v.accepted.iloc[1]["channel"]) and v.accepted.iloc[1]["metadata"] == {"channel_raw": "brevduva"}
    by_row = dict(zip(v.rejected.row_number, v.rejected.reason))
    assert by_row[3] == "row 3: the date column 'datum' is empty"
    assert by_row[10].startswith("row 10: the value in column 'datum' is a two-digit-year date, which is ambiguous")
    assert by_row[8] == "row 8: the comment in column 'kommentar' is empty"


def test_json_values_that_are_not_text_are_quarantined_not_stored_as_python_text():
    df = pd.DataFrame({"datum": ["2025-01-10"] * 4,
                       "kommentar": [{"a": "Ett objekt"}, ["en", "lista"], True, "Riktig text"]})
    v = validate_rows(df, "0180", today=TODAY)
    assert dict(zip(v.rejected.row_number, v.rejected.reason_code)) == {1: "not_text", 2: "not_text", 3: "not_text"}
    assert v.rejected.reason.iloc[0] == "row 1: the value in column 'kommentar' is not text (a JSON object, list or " \
        "true/false)"
    assert list(v.accepted.row_number) == [4]


def test_duplicates_are_not_judged_here():
    """In-batch duplicates are synpunkt.dedupe's job: identical rows all pass validation."""
    df = frame(["2025-01-01"] * 3, ["Bra service.", "Bra service.", "Bra  service."], id=["1", "1", ""])
    v = validate_rows(df, "0180", today=TODAY)
    assert list(v.accepted.row_number) == [1, 2, 3] and v.rejected.empty


def test_typed_cells_from_json_parquet_and_excel_are_read():
    df = frame([pd.Timestamp("2025-03-14"), 45730.0, 20250314, MARCH_14, None],
               kommunkod=[180, 180.0, "180", None, 180])
    v = validate_rows(df, "0180", today=TODAY)
    assert list(v.accepted.contact_date) == [MARCH_14] * 4
    assert list(v.rejected.reason_code) == ["missing_date"]


# --- row numbers ---------------------------------------------------------------------------------------------

def test_row_numbers_come_from_the_index():
    df = frame(["2025-03-14", "", "2025-03-15", "25-03-14"]).set_axis([2, 3, 7, 10])
    v = validate_rows(df, "0180", today=TODAY)
    assert list(v.accepted.row_number) == [2, 7]
    assert list(v.rejected.row_number) == [3, 10]
    assert v.rejected.reason.iloc[1].startswith("row 10: ")


def test_a_default_zero_based_index_is_numbered_from_one():
    assert row_numbers(pd.RangeIndex(3)) == [1, 2, 3]
    assert row_numbers(pd.RangeIndex(1, 4)) == [1, 2, 3]
    assert row_numbers(pd.Index([4, 9])) == [4, 9]
    assert row_numbers(pd.Index([], dtype=object)) == []
    v = validate_rows(frame(["2025-03-14", "x"]), "0180", today=TODAY)
    assert list(v.accepted.row_number) == [1] and list(v.rejected.row_number) == [2]


@pytest.mark.parametrize("index", [pd.Index([0, 2]), pd.Index([1, 1]), pd.Index(["a", "b"]), pd.Index([-1, 3])])
def test_an_index_that_is_not_row_numbers_is_refused(index):
    with pytest.raises(ValueError, match="1-based data-row numbers"):
        row_numbers(index)


# --- no cell values in reasons -------------------------------------------------------------------------------

def test_no_cell_value_ever_appears_in_a_reason():
    dates = [SENTINEL, f"14 {SENTINEL}", "2025", "25-03-14", "03/25/2025", "2025-02-30", "2030-01-01", "1999-12-31",
             "2025-03-14", "2025-03-14", "2025-03-14", "", "2025-03-14", "2025-03-14"]
    texts = [SENTINEL] * len(dates)
    texts[-2], texts[-1] = " ", SENTINEL * 1000
    codes = ["0180"] * len(dates)
    codes[8], codes[9] = SENTINEL, "1480"
    df = frame(dates, texts, kommunkod=codes, id=[SENTINEL] * len(dates), kanal=[SENTINEL] * len(dates))
    df[SENTINEL] = SENTINEL  # a header holding personal data, kept as metadata
    v = validate_rows(df, "0180", today=TODAY)
    assert list(v.accepted.row_number) == [11]
    assert set(v.rejected.reason_code) == {
        "invalid_date", "partial_date", "ambiguous_date", "future_date", "date_too_early",
        "invalid_municipality_code", "wrong_municipality", "missing_date", "empty_text", "text_too_long"}
    for reason in v.rejected.reason:
        assert SENTINEL not in reason and "Karin" not in reason and "19850312" not in reason

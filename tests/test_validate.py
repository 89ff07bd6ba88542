"""Row validation: column mapping, dates, channels, and every quarantine reason."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from synpunkt.validate import MissingColumn, map_columns, normalise_channel, parse_date, validate_rows

TODAY = date(2025, 6, 1)


def test_swedish_headers_are_found_and_extra_columns_kept_as_metadata():
    df = pd.DataFrame({"Ärendenummer": ["A1"], "Kontaktdatum": ["2025-01-02"], "Kanal": ["Telefon"],
                       "Synpunkt": ["Bra"], "kön": ["kvinna"]})
    cols = map_columns(df)
    assert (cols.text, cols.date, cols.id, cols.channel) == ("Synpunkt", "Kontaktdatum", "Ärendenummer", "Kanal")
    assert cols.metadata == ["kön"]


@pytest.mark.parametrize("columns,missing", [(["datum", "kanal"], "comment"), (["kommentar", "kanal"], "date")])
def test_missing_required_column_fails_the_batch(columns, missing):
    with pytest.raises(MissingColumn, match=f"no {missing} column"):
        map_columns(pd.DataFrame(columns=columns))


@pytest.mark.parametrize("value,expected", [
    ("2025-03-14", date(2025, 3, 14)), ("2025-03-14 13:45:00", date(2025, 3, 14)), ("20250314", date(2025, 3, 14)),
    ("14/3/2025", date(2025, 3, 14)), ("14.03.2025", date(2025, 3, 14)), ("2025-03-14T08:00:00Z", date(2025, 3, 14)),
    ("not a date", None), ("2025-13-45", None), ("", None), (None, None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value,expected", [("Telefon", ("telefon", None)), ("mejl", ("e-post", None)),
                                            ("Chat", ("chatt", None)), ("besok", ("besök", None)),
                                            ("brevduva", (None, "brevduva")), ("", (None, None))])
def test_channels_are_normalised_and_unknown_ones_kept_aside(value, expected):
    assert normalise_channel(value) == expected


def test_every_row_is_accepted_or_quarantined_with_a_specific_reason():
    df = pd.DataFrame({
        "id": ["1", "2", "3", "4", "5", "6", "1", "7", "8"],
        "datum": ["2025-01-10", "2025-02-10", "", "2025-02-30", "2030-01-01", "1999-12-31", "2025-01-10",
                  "2025-03-01", "2025-03-02"],
        "kanal": ["telefon", "brevduva", "chatt", "chatt", "chatt", "chatt", "telefon", "besök", "e-post"],
        "kommentar": ["Bra bemötande", "Lång kö", "Text", "Text", "Text", "Text", "Bra bemötande", "   ", "x" * 20_001],
        "kommunkod": ["0180"] * 9,
    })
    v = validate_rows(df, "0180", today=TODAY)
    assert len(v.accepted) + len(v.rejected) == len(df)
    reasons = dict(zip(v.rejected.row_number, v.rejected.reason_code))
    assert reasons == {3: "missing_date", 4: "invalid_date", 5: "future_date", 6: "date_too_early",
                       7: "duplicate_in_batch", 8: "empty_text", 9: "text_too_long"}
    assert list(v.accepted.row_number) == [1, 2]
    assert pd.isna(v.accepted.iloc[1]["channel"]) and v.accepted.iloc[1]["metadata"] == {"channel_raw": "brevduva"}
    assert not any("Bra bemötande" in r for r in v.rejected.reason), "reasons never quote cell text"


def test_row_for_another_municipality_is_quarantined():
    df = pd.DataFrame({"kommentar": ["Bra", "Dåligt"], "datum": ["2025-01-01", "2025-01-02"],
                       "kommunkod": ["180", "1480"]})
    v = validate_rows(df, "0180", today=TODAY)
    assert list(v.rejected.reason_code) == ["wrong_municipality"] and list(v.accepted.row_number) == [1]


def test_duplicates_without_ids_are_found_by_date_and_text():
    df = pd.DataFrame({"kommentar": ["Bra  hjälp", "Bra hjälp", "Bra hjälp"],
                       "datum": ["2025-01-01", "2025-01-01", "2025-01-02"]})
    v = validate_rows(df, "0180", today=TODAY)
    assert list(v.rejected.row_number) == [2] and list(v.accepted.row_number) == [1, 3]

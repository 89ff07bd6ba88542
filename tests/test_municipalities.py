"""The municipality reference table and its lookups."""

from __future__ import annotations

import pytest

from synpunkt.municipalities import (
    UnknownMunicipality,
    load_municipalities,
    municipality_name,
    validate_code,
)


def test_table_shape() -> None:
    df = load_municipalities()
    assert list(df.columns) == ["code", "name", "county_code", "county"]
    assert len(df) == 290
    assert df["code"].is_unique
    assert df["code"].str.fullmatch(r"\d{4}").all()
    assert df["county_code"].str.fullmatch(r"\d{2}").all()
    assert list(df["code"]) == sorted(df["code"])


def test_counties() -> None:
    df = load_municipalities()
    assert df["county_code"].nunique() == 21
    assert df["county"].nunique() == 21
    assert (df["code"].str[:2] == df["county_code"]).all()
    # one county name per county code
    assert (df.groupby("county_code")["county"].nunique() == 1).all()
    assert df["county"].str.endswith("län").all()


@pytest.mark.parametrize(
    "code,name,county",
    [
        ("0180", "Stockholm", "Stockholms län"),
        ("0114", "Upplands Väsby", "Stockholms län"),
        ("1480", "Göteborg", "Västra Götalands län"),
        ("1280", "Malmö", "Skåne län"),
        ("0380", "Uppsala", "Uppsala län"),
        ("0580", "Linköping", "Östergötlands län"),
        ("1880", "Örebro", "Örebro län"),
        ("2480", "Umeå", "Västerbottens län"),
        ("0980", "Gotland", "Gotlands län"),
        ("2584", "Kiruna", "Norrbottens län"),
    ],
)
def test_known_pairs(code: str, name: str, county: str) -> None:
    assert municipality_name(code) == name
    df = load_municipalities().set_index("code")
    assert df.loc[code, "county"] == county


def test_normalisation() -> None:
    assert validate_code(180) == "0180"
    assert validate_code("180") == "0180"
    assert validate_code(" 0180 ") == "0180"
    assert validate_code("2584") == "2584"
    assert municipality_name(180) == "Stockholm"


def test_unknown_code() -> None:
    with pytest.raises(UnknownMunicipality, match=r"unknown municipality code '9999'"):
        validate_code("9999")
    with pytest.raises(ValueError, match=r"such as 0180 \(Stockholm\).*municipalities\.csv"):
        validate_code(9999)
    for bad in ("", "abc", "01800", -180):
        with pytest.raises(UnknownMunicipality):
            validate_code(bad)


def test_load_returns_copy() -> None:
    df = load_municipalities()
    df.loc[0, "name"] = "changed"
    assert load_municipalities().loc[0, "name"] == "Upplands Väsby"

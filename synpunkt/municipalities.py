"""Reference list of Sweden's 290 municipalities (kommuner) with SCB codes and counties (län).

The table lives in ``data/reference/municipalities.csv`` (columns ``code,name,county_code,county``);
codes are four-digit strings whose first two digits are the county code, e.g. ``0180`` Stockholm.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

MUNICIPALITIES_CSV: Path = (
    Path(__file__).resolve().parent.parent / "data" / "reference" / "municipalities.csv"
)
"""Location of the reference CSV, relative to the package."""


class UnknownMunicipality(ValueError):
    """Raised for a code that is not a current SCB municipality code."""


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    """Read the CSV once, every column as a string (keeps leading zeros)."""
    return pd.read_csv(MUNICIPALITIES_CSV, dtype=str, encoding="utf-8", keep_default_na=False)


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Code -> name lookup built from the cached table."""
    df = _table()
    return dict(zip(df["code"], df["name"]))


def load_municipalities() -> pd.DataFrame:
    """Return all municipalities as a DataFrame (code, name, county_code, county), sorted by code.

    The file is read once and cached; callers get a copy so they may modify it freely.
    """
    return _table().copy()


def _unknown(code: object) -> UnknownMunicipality:
    return UnknownMunicipality(
        f"unknown municipality code {str(code)!r}; expected a four-digit SCB code such as "
        "0180 (Stockholm); see data/reference/municipalities.csv"
    )


def validate_code(code: str | int) -> str:
    """Normalise a municipality code to four digits (``180`` / ``" 180 "`` -> ``"0180"``).

    Raises ``UnknownMunicipality`` if the result is not in the reference table.
    """
    if isinstance(code, bool):
        raise _unknown(code)
    if isinstance(code, int):
        text = str(code)
    elif isinstance(code, str):
        text = code.strip()
    else:
        raise _unknown(code)
    normalised = text.zfill(4) if text.isdigit() and len(text) < 4 else text
    if normalised not in _names():
        raise _unknown(text)
    return normalised


def municipality_name(code: str | int) -> str:
    """Return the municipality name for a code, e.g. ``"1480"`` -> ``"Göteborg"``."""
    return _names()[validate_code(code)]

"""Reference list of Sweden's 290 municipalities (kommuner) with SCB codes and counties (län).

The table lives in ``data/reference/municipalities.csv`` (columns ``code,name,county_code,county``);
codes are four-digit strings whose first two digits are the county code, e.g. ``0180`` Stockholm.
SKR's municipality groups (kommungruppsindelning 2023, A1..C9) are in ``data/reference/kommungrupper.csv``
(columns ``code,kommungrupp``; source and caveats in ``data/reference/README.md``).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd

MUNICIPALITIES_CSV: Path = (
    Path(__file__).resolve().parent.parent / "data" / "reference" / "municipalities.csv"
)
"""Location of the reference CSV, relative to the package."""
KOMMUNGRUPPER_CSV: Path = MUNICIPALITIES_CSV.with_name("kommungrupper.csv")
"""SKR's kommungruppsindelning 2023: one group (A1..C9) per municipality code."""
KOMMUNGRUPPER: tuple[str, ...] = ("A1", "A2", "B3", "B4", "B5", "C6", "C7", "C8", "C9")


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


def _fold(text: str) -> str:
    """Case, accents, hyphens and spacing folded: ``"Upplands-Bro"`` / ``"upplands bro"`` -> ``"upplands bro"``,
    ``"Göteborg"`` -> ``"goteborg"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("-", " "))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _variants(key: str) -> tuple[str, ...]:
    return (key, f"{key} kommun", f"{key}s kommun", f"{key} stad", f"{key}s stad")


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, str]:
    """Case-folded name (also as '<name> kommun', '<name>s kommun', '<name> stad', '<name>s stad') -> code."""
    lookup: dict[str, str] = {}
    for code, name in _names().items():
        for variant in _variants(unicodedata.normalize("NFC", name).casefold()):
            lookup.setdefault(variant, code)
    return lookup


@lru_cache(maxsize=1)
def _codes_by_folded_name() -> dict[str, tuple[str, ...]]:
    """Folded name and its variants (see ``_fold``) -> the codes it may mean (Håbo and Habo fold alike)."""
    lookup: dict[str, list[str]] = {}
    for code, name in _names().items():
        for variant in _variants(_fold(name)):
            if code not in lookup.setdefault(variant, []):
                lookup[variant].append(code)
    return {key: tuple(codes) for key, codes in lookup.items()}


def close_matches(value: str, limit: int = 5) -> list[str]:
    """Municipalities whose name looks like `value` (a near spelling or a name starting with it), as
    ``"Göteborg (1480)"``, the closest first."""
    import difflib

    key = _fold(str(value))
    if not key:
        return []
    names = _names()
    folded = {code: _fold(name) for code, name in names.items()}
    by_fold: dict[str, list[str]] = {}
    for code, name in folded.items():
        by_fold.setdefault(name, []).append(code)
    near = difflib.get_close_matches(key, list(by_fold), n=limit, cutoff=0.75)
    starting = sorted(name for name in by_fold if len(key) >= 3 and name.startswith(key) and name not in near)
    codes = [code for name in [*near, *starting] for code in by_fold[name]]
    return [f"{names[code]} ({code})" for code in codes[:limit]]


def resolve_municipality(value: str | int) -> str:
    """A four-digit code from a code (``"0180"``, ``180``) or a name (``"Göteborg"``, ``"goteborg"``,
    ``"göteborgs kommun"``, ``"Upplands Bro"``): exact names first, then names without accents.

    Raises ``UnknownMunicipality`` when nothing matches, or when a name without accents matches more than one
    municipality; the message lists the close matches.
    """
    text = str(value).strip() if not isinstance(value, bool) else ""
    if text.isdigit():
        return validate_code(text)
    code = _codes_by_name().get(" ".join(unicodedata.normalize("NFC", text).casefold().split()))
    if code is not None:
        return code
    codes = _codes_by_folded_name().get(_fold(text), ())
    if len(codes) == 1:
        return codes[0]
    if codes:
        listed = ", ".join(f"{_names()[c]} ({c})" for c in codes)
        raise UnknownMunicipality(f"municipality {text!r} is ambiguous: {listed}; give the name with its accents "
                                  "or the four-digit SCB code")
    close = close_matches(text)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise UnknownMunicipality(f"unknown municipality {text!r}{hint}; give a four-digit SCB code such as 0180 or a "
                              "name such as Stockholm (see data/reference/municipalities.csv)")


@lru_cache(maxsize=1)
def _kommungrupper() -> dict[str, str]:
    """Code -> SKR municipality group, read once from KOMMUNGRUPPER_CSV."""
    df = pd.read_csv(KOMMUNGRUPPER_CSV, dtype=str, encoding="utf-8", keep_default_na=False)
    return dict(zip(df["code"], df["kommungrupp"]))


def load_kommungrupper() -> pd.DataFrame:
    """Return SKR's municipality groups as a DataFrame (code, kommungrupp), one row per municipality."""
    return pd.DataFrame(sorted(_kommungrupper().items()), columns=["code", "kommungrupp"])


def kommungrupp(code: str | int) -> str:
    """SKR's municipality group (A1..C9) of a municipality, e.g. ``"1480"`` -> ``"A1"``."""
    return _kommungrupper()[validate_code(code)]

"""Every quarantine reason code, with the words reports and the data dictionary use for it (one place).

Codes are written by the readers (a row that cannot be read), validation (a row that breaks a rule) and
deduplication (a row already seen). ``tests/test_quarantine_reasons.py`` checks that every code the source writes
is listed here, so a new rule cannot reach a report as a bare code.
"""

from __future__ import annotations

QUARANTINE_REASONS: dict[str, dict[str, str]] = {
    # readers: the row itself could not be read
    "malformed_row": {"sv": "felaktig rad (citattecken eller antal fält)",
                      "en": "malformed row (quoting or number of fields)"},
    "malformed_json": {"sv": "felaktig JSON", "en": "malformed JSON"},
    "not_an_object": {"sv": "JSON-post som inte är ett objekt", "en": "JSON item that is not an object"},
    "undecodable_text": {"sv": "oläsbara tecken", "en": "undecodable characters"},
    # validation: the row breaks a rule
    "empty_text": {"sv": "tom kommentar", "en": "empty comment"},
    "not_text": {"sv": "kommentaren är inte text", "en": "comment is not text"},
    "text_too_long": {"sv": "för lång kommentar", "en": "comment too long"},
    "missing_date": {"sv": "datum saknas", "en": "missing date"},
    "invalid_date": {"sv": "ogiltigt datum", "en": "invalid date"},
    "ambiguous_date": {"sv": "tvetydigt datum (tvåsiffrigt år)", "en": "ambiguous date (two-digit year)"},
    "partial_date": {"sv": "ofullständigt datum", "en": "incomplete date"},
    "future_date": {"sv": "datum i framtiden", "en": "date in the future"},
    "date_too_early": {"sv": "för tidigt datum", "en": "date too early"},
    "invalid_municipality_code": {"sv": "ogiltig kommunkod", "en": "invalid municipality code"},
    "wrong_municipality": {"sv": "annan kommun än filens", "en": "another municipality than the file's"},
    # deduplication: the row was seen before
    "duplicate_in_batch": {"sv": "dubblett i filen", "en": "duplicate in file"},
    "duplicate_stored": {"sv": "redan inläst", "en": "already stored"},
    "possible_duplicate": {"sv": "trolig dubblett av inläst rad", "en": "probable duplicate of a stored row"},
}
"""code -> {"sv": label, "en": label}."""


def reason_labels(language: str) -> dict[str, str]:
    """code -> label in ``language`` ("sv" or "en")."""
    return {code: labels[language] for code, labels in QUARANTINE_REASONS.items()}


def reason_codes_text() -> str:
    """The codes as one comma-separated line (for the data dictionary)."""
    return ", ".join(QUARANTINE_REASONS)

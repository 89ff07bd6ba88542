"""Every quarantine reason code the source writes has a Swedish and an English label (reports never show bare codes)."""

from __future__ import annotations

import re
from pathlib import Path

import synpunkt
from synpunkt import dates
from synpunkt.quarantine_reasons import QUARANTINE_REASONS, reason_codes_text, reason_labels
from synpunkt.report.text import STRINGS

SOURCE = Path(synpunkt.__file__).parent

# How the readers, validation and deduplication write a code: BadRow(number, "code", ...),
# return "code", f"..." / return ("code", f"..."), and out.append((row.row_number, "code", ...)).
EMITTERS = [
    re.compile(r'BadRow\(\s*[\w.]+,\s*"([a-z_]+)"'),
    re.compile(r'return \(?"([a-z_]+)",\s*f?"'),
    re.compile(r'append\(\(row\.row_number,\s*"([a-z_]+)"'),
]


def emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in [*SOURCE.glob("readers/*.py"), SOURCE / "validate.py", SOURCE / "dedupe.py"]:
        text = path.read_text(encoding="utf-8")
        for pattern in EMITTERS:
            codes.update(pattern.findall(text))
    return codes | {dates.MISSING, dates.INVALID, dates.AMBIGUOUS, dates.PARTIAL}


def test_the_scan_finds_codes_from_each_stage():
    codes = emitted_codes()
    # one known code per stage, so a change in how codes are written cannot empty the scan unnoticed
    assert {"malformed_row", "empty_text", "wrong_municipality", "duplicate_in_batch", "ambiguous_date"} <= codes


def test_every_emitted_code_has_labels():
    missing = sorted(emitted_codes() - set(QUARANTINE_REASONS))
    assert not missing, f"add these reason codes to synpunkt/quarantine_reasons.py: {missing}"
    for code, labels in QUARANTINE_REASONS.items():
        assert labels["sv"] and labels["en"] and labels["sv"] != code and labels["en"] != code


def test_reports_use_the_registry_in_both_languages():
    assert STRINGS["sv"]["reasons"] == reason_labels("sv")
    assert STRINGS["en"]["reasons"]["ambiguous_date"] == "ambiguous date (two-digit year)"
    assert reason_codes_text().startswith("malformed_row, ")

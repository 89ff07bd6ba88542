"""Placeholders, spans of personal data and how they are applied to a text (no detection here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDERS: dict[str, str] = {
    "personnummer": "[PERSONNUMMER]",
    "samordningsnummer": "[SAMORDNINGSNUMMER]",
    "telefon": "[TELEFON]",
    "e-post": "[E-POST]",
    "adress": "[ADRESS]",
    "kontonummer": "[KONTONUMMER]",
    "kortnummer": "[KORTNUMMER]",
    "regnr": "[REGNR]",
    "namn": "[NAMN]",
}
"""Type of personal data -> the placeholder that replaces it."""

PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
"""Any placeholder already in a text (left alone by every rule)."""


@dataclass
class Redaction:
    """A redacted text and how many of each type were replaced (never the removed values)."""

    text: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLACEHOLDERS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Span:
    """A character range of the original text and the type of personal data in it."""

    start: int
    end: int
    kind: str


def overlaps(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    """True where [start, end) overlaps any of the (start, end) ranges."""
    return any(start < e and s < end for s, e in ranges)


def placeholder_ranges(text: str) -> list[tuple[int, int]]:
    """Where the placeholders already in ``text`` are."""
    return [(m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)]


def apply_spans(text: str, spans: list[Span]) -> Redaction:
    """Replace non-overlapping spans with their placeholders."""
    counts = dict.fromkeys(PLACEHOLDERS, 0)
    parts, pos = [], 0
    for sp in sorted(spans, key=lambda s: s.start):
        parts.append(text[pos : sp.start])
        parts.append(PLACEHOLDERS[sp.kind])
        counts[sp.kind] += 1
        pos = sp.end
    parts.append(text[pos:])
    return Redaction("".join(parts), counts)


def to_original(pos: int, spans: list[Span]) -> int:
    """Map a position in the redacted text (``spans`` applied) back to the original text."""
    shift = 0
    for sp in sorted(spans, key=lambda s: s.start):
        red_start = sp.start + shift
        if pos <= red_start:
            break
        shift += len(PLACEHOLDERS[sp.kind]) - (sp.end - sp.start)
    return pos - shift

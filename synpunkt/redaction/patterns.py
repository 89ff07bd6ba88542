"""Identifiers with a fixed shape (everything but names), in the order their rules take precedence.

E-mail first (an address may hold digits), then cards (Luhn over 13-19 digits, or after a card word),
personnummer and samordningsnummer, bank accounts, phone numbers (also in words), postal addresses and car
registration numbers. A span overlapping an earlier rule's span or a placeholder already in the text is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from synpunkt.redaction.addresses import address_spans
from synpunkt.redaction.identity_numbers import identity_number_spans
from synpunkt.redaction.payment_numbers import account_spans, card_spans
from synpunkt.redaction.phones import phone_spans
from synpunkt.redaction.spans import Span, overlaps, placeholder_ranges
from synpunkt.redaction.vehicles import plate_spans

EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.%+-]+(?:\s?@\s?|\s?[(\[{]\s?(?i:at|a|snabel-a)\s?[)\]}]\s?)"
    r"[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])"
)
"""An e-mail address, also written "namn @ exempel.se", "namn (at) exempel.se" or "namn[at]exempel.se"."""
_BARE_EMAIL_RE = re.compile(r"(?<![\w.%+-])[^\W\d_][\w.%+-]*@[^\W\d_][\w-]+(?![\w@-])(?!\.\w)")
"""An address without its top-level domain ("sara.holm@telia"): the name before "@" is personal all the same."""
_SPOKEN_DOT = r"(?:\.|\s(?:punkt|dot)\s)"
_SPOKEN_EMAIL_RE = re.compile(
    r"(?i)(?<![\w.%+-])[\w%+-]*[^\W\d_][\w%+-]*(?:" + _SPOKEN_DOT + r"[\w%+-]+)*"
    r"\s?(?:\s(?:snabel-?a|at-tecken)\s|\s?[(\[{]\s?(?:at|snabel-?a)\s?[)\]}]\s?|\s(?:at|@)\s(?=[\w-]+"
    + _SPOKEN_DOT + r"))"
    r"[\w-]+(?:" + _SPOKEN_DOT + r"[\w-]+)*" + _SPOKEN_DOT + r"(?!(?:dot|punkt)\b)[^\W\d_]{2,}(?![\w])")
"""An address spelled out: "karin punkt lund snabel-a gmail punkt com", "nils1968 at gmail dot com",
"klagomal [at] gmail punkt com", "olle.s snabel-a gmail.com"."""


def email_spans(text: str) -> list[Span]:
    """Spans of e-mail addresses (also without a top-level domain, or spelled out with "snabel-a")."""
    out = [Span(m.start(), m.end(), "e-post") for m in EMAIL_RE.finditer(text)]
    for rx in (_BARE_EMAIL_RE, _SPOKEN_EMAIL_RE):
        out += [Span(m.start(), m.end(), "e-post") for m in rx.finditer(text)
                if not any(m.start() < s.end and s.start < m.end() for s in out)]
    return sorted(out, key=lambda s: s.start)


RULES: tuple[tuple[str, Callable[[str], list[Span]]], ...] = (
    ("e-post", email_spans),
    ("kortnummer", card_spans),
    ("personnummer", identity_number_spans),
    ("kontonummer", account_spans),
    ("telefon", phone_spans),
    ("adress", address_spans),
    ("regnr", plate_spans),
)
"""(type, rule) in order of precedence; the personnummer rule also yields samordningsnummer."""


def pattern_spans(text: str, kinds: Collection[str] | None = None) -> list[Span]:
    """Spans of identifiers with a fixed shape (everything but names; with `kinds`, only the RULES of those types),
    non-overlapping, in text order."""
    taken = placeholder_ranges(text)
    spans: list[Span] = []
    for kind, rule in RULES:
        if kinds is not None and kind not in kinds:
            continue
        for sp in rule(text):
            if overlaps(sp.start, sp.end, taken):
                continue
            taken.append((sp.start, sp.end))
            spans.append(sp)
    return sorted(spans, key=lambda s: s.start)

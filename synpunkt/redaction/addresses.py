"""Postal addresses: street + house number (+ flat, postcode and town), Box addresses, postcode + town.

A postcode alone is redacted when written "123 45" (the Swedish form); five digits in a row ("12345") only with
a town after them. Street words that are no street name on their own ("vägen", "riksväg 40") are left.
"""

from __future__ import annotations

import re

from synpunkt.redaction.number_context import NUMBER_START
from synpunkt.redaction.spans import Span

_STREET_SUFFIX = (r"(?:gatan|gata|vägen|väg|gränden|gränd|stigen|stig|backen|backe|torget|torg|allén|allé|alle|"
                  r"platsen|kajen|kaj|esplanaden|promenaden|slingan|svängen|liden|höjden|leden|stråket|"
                  r"gärdet|tået|udden|bryggan)")
_NOT_STREETS = {"riksväg", "riksvägen", "länsväg", "länsvägen", "motorväg", "motorvägen", "europaväg", "cykelväg",
                "cykelvägen", "gångväg", "gångvägen", "genväg", "omväg", "landsväg", "landsvägen", "arbetsplatsen",
                "parkeringsplatsen", "busshållplatsen", "hållplatsen", "uppförsbacke", "uppförsbacken",
                "bilväg", "vägen", "väg", "gatan", "gata", "torget", "torg", "tunnelbanestig", "stig", "backen",
                "backe", "parken", "leden", "ringen", "liden", "höjden", "platsen", "allé", "allén", "kaj", "kajen",
                "skidbacken", "gräsmattan", "fotbollsplanen", "lekparken", "hundparken", "skolgården", "bryggan",
                "stigen", "slingan", "svängen", "udden", "gränd", "gränden", "esplanaden", "promenaden", "stråket",
                "gärdet"}
_STREET_PREFIX = r"(?:(?:Gamla|Norra|Södra|Östra|Västra|Lilla|Stora|Nya|Övre|Nedre|Sankt|S:t|S:ta|St\.)\s)?"
_HOUSE_NUMBER = r"\d{1,4}(?:[A-Za-z](?![\wåäö])|\s[A-H](?![\wåäö]))?(?:\s?[-–]\s?\d{1,4}[A-Za-z]?)?(?![\d])"
_POSTCODE_TOWN = r"(?:SE-?\s?)?[1-9]\d{2}\s?\d{2}\s+[A-ZÅÄÖ][\wåäö-]+(?:\s[A-ZÅÄÖ][\wåäö-]+)?"
_ADDRESS_TAIL = (r"(?:,?\s(?:lgh|lägenhet|lght)\.?\s?(?:nr\.?\s?)?\d{3,4})?"
                 rf"(?:,?\s+{_POSTCODE_TOWN})?")
_STREET_RE = re.compile(
    r"(?<![\w])(?P<street>" + _STREET_PREFIX
    + r"(?:[A-ZÅÄÖa-zåäöéü][\wåäöéü-]*" + _STREET_SUFFIX + r"|(?:[A-ZÅÄÖ][\wåäöéü:.]*\s){1,3}"
    r"(?:gata|väg|allé|torg|gränd|backe|stig))"
    r")\s(?P<num>" + _HOUSE_NUMBER + r")(?!\s?(?:%|kr\b|kronor|st\b|km\b|m\b|meter|minuter|min\b|år\b|gånger|ggr))"
    + _ADDRESS_TAIL
)
_BOX_RE = re.compile(r"(?<![\w])(?:Box|box|BOX)\s\d{1,5}(?![\w])" + rf"(?:,?\s+{_POSTCODE_TOWN})?")
_POSTCODE_RE = re.compile(
    NUMBER_START + r"(?:(?:SE-?\s?)?[1-9]\d{2}\s\d{2}(?:\s+[A-ZÅÄÖ][\wåäö-]+(?:\s[A-ZÅÄÖ][\wåäö-]+)?)?"
    r"|(?:SE-?\s?)?[1-9]\d{4}\s+[A-ZÅÄÖ][a-zåäö-]+)"
    r"(?![\w])(?![ \-/.,–]?\d)(?!\s?(?:%|kr\b|kronor|sek\b|:-|st\b|km\b|m\b|meter|minuter|min\b|år\b))"
)
_TOWN_STOP = {"Kr", "Kronor", "Sek", "St", "Jag", "Vi", "Det", "Den", "Och", "Men", "Hej", "Tack", "Kommunen"}


def _trim_town(text: str, start: int, end: int) -> int:
    """Drop trailing words after a postcode that are no town (a sentence going on)."""
    words = list(re.finditer(r"[\wåäö-]+", text[start:end]))
    while words and words[-1].group() in _TOWN_STOP:
        end = start + words[-1].start()
        words.pop()
        end = start + len(text[start:end].rstrip(" ,"))
    return end


def address_spans(text: str) -> list[Span]:
    """Spans of street addresses, Box addresses and postcodes (with their towns)."""
    out = []
    for m in _STREET_RE.finditer(text):
        street = m["street"].split()[-1].lower()
        if street in _NOT_STREETS and len(m["street"].split()) == 1:
            continue
        out.append(Span(m.start(), _trim_town(text, m.start(), m.end()), "adress"))
    for m in _BOX_RE.finditer(text):
        out.append(Span(m.start(), _trim_town(text, m.start(), m.end()), "adress"))
    for m in _POSTCODE_RE.finditer(text):
        end = _trim_town(text, m.start(), m.end())
        if re.fullmatch(r"(?:SE-?\s?)?\d{5}", text[m.start() : end]):
            continue  # five digits in a row are a postcode only with a town after them
        out.append(Span(m.start(), end, "adress"))
    return out

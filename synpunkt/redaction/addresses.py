"""Postal addresses: street + house number (+ flat, postcode and town), Box addresses, postcode + town.

A postcode alone is redacted when written "123 45" (the Swedish form); five digits in a row ("12345") only with
a town after them. Street words that are no street name on their own ("vägen", "riksväg 40") are left, and so is
the address of a municipal building named before it ("Stadshuset, Kungsgatan 11"). A street word may be a name of
its own after one or two capitalised words ("Östra Promenaden 11B"). A town of two words after a postcode is cut
before a common word that starts the next sentence ("821 43 Sala Hoppas på svar").
"""

from __future__ import annotations

import re

from synpunkt.redaction.lexicon import common_word
from synpunkt.redaction.number_context import NUMBER_START
from synpunkt.redaction.spans import Span

_STREET_SUFFIX = (r"(?:gatan|gata|vägen|väg|gränden|gränd|stigen|stig|backen|backe|torget|torg|allén|allé|alle|"
                  r"platsen|kajen|kaj|esplanaden|promenaden|slingan|svängen|liden|höjden|leden|stråket|"
                  r"gärdet|tået|udden|bryggan)")
_CAPITAL_SUFFIX = "(?:" + "|".join(w.capitalize() for w in _STREET_SUFFIX[3:-1].split("|")) + ")"
"""A street word written as a name of its own after one or two capitalised words: "Östra Promenaden",
"Stora Torget", "Norra Esplanaden"."""
_NOT_STREETS = {"riksväg", "riksvägen", "länsväg", "länsvägen", "motorväg", "motorvägen", "europaväg", "cykelväg",
                "cykelvägen", "gångväg", "gångvägen", "genväg", "omväg", "landsväg", "landsvägen", "arbetsplatsen",
                "parkeringsplatsen", "busshållplatsen", "hållplatsen", "uppförsbacke", "uppförsbacken",
                "bilväg", "vägen", "väg", "gatan", "gata", "torget", "torg", "tunnelbanestig", "stig", "backen",
                "backe", "parken", "leden", "ringen", "liden", "höjden", "platsen", "allé", "allén", "kaj", "kajen",
                "skidbacken", "gräsmattan", "fotbollsplanen", "lekparken", "hundparken", "skolgården", "bryggan",
                "stigen", "slingan", "svängen", "udden", "gränd", "gränden", "esplanaden", "promenaden", "stråket",
                "gärdet"}
_NOT_STREET_START = {"vid", "på", "i", "till", "från", "mot", "och", "om", "vi", "jag", "det", "den", "där", "här",
                     "hos", "nära", "utanför", "efter", "bakom", "framför", "över", "under", "mellan", "längs",
                     "genom", "förbi", "se", "ny"}
"""Capitalised words that start a sentence before a street word, never part of its name ("Vid Torget 2"; and a
label with its colon, "Adress: Lilla Torget 3")."""
_PUBLIC_BUILDING_BEFORE_RE = re.compile(
    r"(?i)(?<![\w])(?:stadshuset|kommunhuset|rådhuset|stadshus|kommunhus|medborgarkontoret|medborgarhuset|"
    r"kontaktcenter|servicecenter|stadsbiblioteket|huvudbiblioteket|kommunens reception|kommunkontoret|"
    r"kommunförvaltningen|stadsbyggnadskontoret|kulturhuset)\s?[,:]\s?$")
"""A municipal building named right before a street address ("Stadshuset, Kungsgatan 11"): the address is the
municipality's, not a resident's, and is kept."""
_STREET_PREFIX = r"(?:(?:Gamla|Norra|Södra|Östra|Västra|Lilla|Stora|Nya|Övre|Nedre|Sankt|S:t|S:ta|St\.)\s)?"
_HOUSE_NUMBER = r"\d{1,4}(?:[A-Za-z](?![\wåäö])|\s[A-H](?![\wåäö]))?(?:\s?[-–]\s?\d{1,4}[A-Za-z]?)?(?![\d])"
_POSTCODE_TOWN = r"(?:SE-?\s?)?[1-9]\d{2}\s?\d{2}\s+[A-ZÅÄÖ][\wåäö-]+(?:\s[A-ZÅÄÖ][\wåäö-]+)?"
_ADDRESS_TAIL = (r"(?:,?\s(?:lgh|lägenhet|lght)\.?\s?(?:nr\.?\s?)?\d{3,4})?"
                 rf"(?:,?\s+{_POSTCODE_TOWN})?")
_STREET_RE = re.compile(
    r"(?<![\w])(?P<street>" + _STREET_PREFIX
    + r"(?:[A-ZÅÄÖa-zåäöéü][\wåäöéü-]*" + _STREET_SUFFIX + r"|(?:[A-ZÅÄÖ][\wåäöéü:.]*\s){1,3}"
    r"(?:gata|väg|allé|torg|gränd|backe|stig)|(?:[A-ZÅÄÖ][\wåäöéü:.-]*\s){1,2}" + _CAPITAL_SUFFIX + r")"
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


_TOWN_PREFIXES = {"Upplands", "Lilla", "Stora", "Västra", "Östra", "Norra", "Södra", "Sankt", "S:t", "Gamla", "Nya",
                  "Övre", "Nedre", "Öster", "Väster", "Norr", "Söder", "Kungens", "Skogs", "Bergs", "Norrfjärdens"}
"""First words of towns of two words ("Upplands Väsby", "Lilla Edet", "Västra Frölunda")."""


def _town_goes_on(first: str, second: str) -> bool:
    """Whether ``second`` after the town ``first`` (both capitalised, after a postcode) is the town's second word:
    after a prefix ("Upplands Väsby", "Lilla Edet"), or a word of no language ("Sankt Olof"); a common Swedish word
    starts the next sentence of a comment that left out its full stop ("821 43 Sala Hoppas på svar")."""
    return first in _TOWN_PREFIXES or not common_word(second)


def _trim_town(text: str, start: int, end: int) -> int:
    """Drop trailing words after a postcode that are no town (a sentence going on)."""
    words = list(re.finditer(r"[\wåäö:-]+", text[start:end]))
    if (len(words) >= 2 and words[-1].group()[:1].isupper() and words[-2].group()[:1].isupper()
            and text[start + words[-2].end() : start + words[-1].start()] == " "
            and re.search(r"\d\s+$", text[start : start + words[-2].start()])
            and not _town_goes_on(words[-2].group(), words[-1].group())):
        end = start + words[-2].end()  # "821 43 Sala Hoppas": the town is "Sala"
        words.pop()
    while words and words[-1].group() in _TOWN_STOP:
        end = start + words[-1].start()
        words.pop()
        end = start + len(text[start:end].rstrip(" ,"))
    return end


def address_spans(text: str) -> list[Span]:
    """Spans of street addresses, Box addresses and postcodes (with their towns)."""
    out = []
    for m in _STREET_RE.finditer(text):
        parts = m["street"].split()
        start = m.start()
        while len(parts) > 1 and (parts[0].lower() in _NOT_STREET_START or parts[0].endswith((":", ","))):
            start = text.index(parts[1], start + len(parts[0]))  # "Vid Torget 2": the street is "Torget"
            parts = parts[1:]
        if parts[-1].lower() in _NOT_STREETS and len(parts) == 1:
            continue
        if _PUBLIC_BUILDING_BEFORE_RE.search(text[max(0, start - 40) : start]):
            continue  # "Stadshuset, Stora Torget 5": the municipality's address, no person's
        out.append(Span(start, _trim_town(text, start, m.end()), "adress"))
    for m in _BOX_RE.finditer(text):
        out.append(Span(m.start(), _trim_town(text, m.start(), m.end()), "adress"))
    for m in _POSTCODE_RE.finditer(text):
        end = _trim_town(text, m.start(), m.end())
        if re.fullmatch(r"(?:SE-?\s?)?\d{5}", text[m.start() : end]):
            continue  # five digits in a row are a postcode only with a town after them
        out.append(Span(m.start(), end, "adress"))
    return out

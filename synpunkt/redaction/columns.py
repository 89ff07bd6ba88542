"""Metadata column headers: which say their cells hold a person's name, and how a header itself is redacted.

A header is no personal data in the normal case ("ärendetyp", "Svarstid", "Kontaktväg"), so only identifiers with
a fixed shape (a personnummer, phone number or e-mail address: ``pattern_spans``) and full names (a listed first
name and a capitalised word after it) are taken out of one; the other name rules and the name model are not run on
headers. A header that says its column holds a person's name
("efternamn", "förnamn", "namn", "kontaktperson", "handläggare", "surname") makes every non-empty cell of it a name,
whatever the word: surnames that are also words ("Lund", "Berg", "Ek") are names there. A header that says its
column holds e-mail addresses, phone numbers or identity numbers ("E-post", "Mobilnummer", "Pnr") makes every cell
of it with such a value personal data of that kind, however it is written ("nils1968 at gmail dot com",
"070/123 45 67").
"""

from __future__ import annotations

import re
from functools import lru_cache

from synpunkt.redaction.patterns import pattern_spans
from synpunkt.redaction.spans import apply_spans, overlaps

NAME_WORDS = frozenset("""
namn name names förnamn fornamn efternamn tilltalsnamn mellannamn personnamn surname surnames firstname lastname
forename givenname familyname fullname handläggarnamn kontaktnamn
""".split())
"""Words that make a header a name column wherever they stand ("Efternamn", "Handläggarens namn")."""
PERSON_WORDS = frozenset("""
kontaktperson kontaktpersoner kontaktpersonen handläggare handlaggare handläggaren ansvarig ansvarige anmälare
avsändare uppgiftslämnare klagande sökande brukare contact person officer caseworker handler
""".split())
"""Words that make a header a name column when every word of it is one ("Kontaktperson", "Ansvarig handläggare";
not "Anmälarens ålder", "Handläggare id")."""
NAME_PHRASES = frozenset({
    "first name", "last name", "given name", "family name", "full name", "case officer", "case worker",
    "inlämnad av", "inskickad av", "insänd av", "inkommen från", "skickad av", "registrerad av", "handlagd av",
})
"""Phrases that make a header a name column (their words alone do not: "first", "av", "case")."""
NOT_NAME_HEADER_WORDS = frozenset("""
kommun kommunnamn enhet enhetens enhetsnamn förvaltning förvaltningens skola skolans skolnamn verksamhet
verksamhetens gata gatunamn gatan ort orten område områdets fil filnamn kolumn kategori typ kanal ärende ärendet
ärendets projekt projektets tjänst tjänstens produkt bilaga dokument formulär formulärets blankett
file unit street organisation organization company department school municipality project service product
category channel area place city town region
""".split())
"""Words that make a header about a place, unit or thing even beside "namn" ("Enhetens namn", "Skolans namn")."""
CONTACT_WORDS: dict[str, str] = {
    **dict.fromkeys("epost e-post epostadress e-postadress email e-mail mail mejl mejladress mailadress".split(),
                    "e-post"),
    **dict.fromkeys("telefon telefonnummer telefonnr tel tfn mobil mobilnummer mobilnr mobiltelefon phone".split(),
                    "telefon"),
    **dict.fromkeys("personnummer personnr pnr födelsenummer".split(), "personnummer"),
    **dict.fromkeys("samordningsnummer samordningsnr".split(), "samordningsnummer"),
}
"""Header words that say a column holds a person's contact detail or identity number ("E-post", "Telefon",
"Kontaktpersonens mobilnummer", "Pnr"); "e-post"/"e-mail" also as the two words the header split makes of them."""
NOT_CONTACT_HEADER_WORDS = frozenset("""
tid tider öppettider svarstid väntetid kanal kontaktväg typ antal andel kö kön via ja nej samtal kostnad
""".split())
"""Words that make a header about the channel or a count ("Telefontid", "Kanal: telefon", "Antal samtal")."""
_CONTACT_VALUE_RE = {
    "e-post": re.compile(r"(?i)@|\b(?:at|snabel-?a)\b|[(\[{]\s?at\s?[)\]}]"),
    "telefon": re.compile(r"(?:\d\D?){5}"),
    "personnummer": re.compile(r"(?:\d\D?){6}"),
    "samordningsnummer": re.compile(r"(?:\d\D?){6}"),
}
_SPLIT_RE = re.compile(r"[\s_\-.:/()\[\],;]+")


def _header_words(header: str) -> list[str]:
    return [w for w in _SPLIT_RE.split(str(header).lower()) if w]


@lru_cache(maxsize=4096)
def is_name_column(header: str) -> bool:
    """Whether a metadata header says its cells hold a person's name ("efternamn", "Kontaktperson", "Name")."""
    words = _header_words(header)
    if not words or any(w in NOT_NAME_HEADER_WORDS for w in words):
        return False
    joined = f" {' '.join(words)} "
    return (any(w in NAME_WORDS for w in words) or all(w in PERSON_WORDS for w in words)
            or any(f" {p} " in joined for p in NAME_PHRASES))


@lru_cache(maxsize=4096)
def contact_column(header: str) -> str | None:
    """The kind of personal data ("e-post", "telefon", "personnummer", "samordningsnummer") a metadata header says
    its cells hold, else None. ``contact_cell`` says which of its cells are replaced whole."""
    raw = str(header).lower()
    words = [w for w in _SPLIT_RE.split(raw) if w]
    if not words or any(w in NOT_CONTACT_HEADER_WORDS or w in NOT_NAME_HEADER_WORDS for w in words):
        return None
    joined = re.sub(r"[\s_.:/()\[\],;]+", " ", raw)  # "E-post" keeps its hyphen here
    for w in [*words, *joined.split()]:
        if w in CONTACT_WORDS:
            return CONTACT_WORDS[w]
    return None


def contact_cell(kind: str, value: object) -> bool:
    """A cell of a contact column that is replaced whole: one with an e-mail's "@" (or "at", "snabel-a") in an
    e-mail column, five digits or more in a phone column, six or more in an identity-number column. Other cells
    ("saknas", "nej", "-") are left to the rules for free text."""
    return isinstance(value, str) and bool(_CONTACT_VALUE_RE[kind].search(value))


def redact_header(header: str) -> str:
    """A header with identifiers of a fixed shape replaced ("_" read as a space) and full names, a listed first name
    followed by a capitalised word ("Handläggare Karin Lund"); other words are kept ("Svarstid", "Kontaktväg")."""
    text = str(header)
    spaced = text.replace("_", " ")  # same offsets
    spans = pattern_spans(spaced)
    taken = [(sp.start, sp.end) for sp in spans]
    spans += [sp for sp in _full_names(spaced) if not overlaps(sp.start, sp.end, taken)]
    return apply_spans(text, sorted(spans, key=lambda sp: sp.start)).text


def _full_names(text: str) -> list:
    """Spans of a listed first name and the capitalised word after it ("Karin Lund", "Anna-Karin Ek")."""
    from synpunkt.redaction.names import is_cap, is_wordlike, known_first, name_spans, tokenize

    words, offsets, _ = tokenize(text)
    flags = [False] * len(words)
    for i in range(len(words) - 1):
        first, last = words[i], words[i + 1]
        if is_cap(first) and known_first(first) and is_cap(last) and is_wordlike(last):
            flags[i] = flags[i + 1] = True
    return name_spans(text, offsets, flags)


def name_cell(value: object) -> bool:
    """A cell of a name column that is replaced whole: a string with a letter or digit (not "-", not empty)."""
    return isinstance(value, str) and any(c.isalnum() for c in value)

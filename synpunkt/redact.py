"""Redact personal data from citizen comments before anything is stored.

Rules find identifiers with a fixed shape: personnummer and samordningsnummer (Luhn-validated, day+60 for
samordningsnummer), phone numbers, e-mail addresses, postal addresses, bank account and card numbers
(Luhn-validated). Person names are found by a small logistic-regression head on frozen features of the base
encoder (multilingual-E5-small, layer 6 of 12, so only half the encoder runs) combined with rules (first-name
and surname lists, titles and words such as "heter" or "handläggaren" before a capitalised word).

Every hit is replaced with a typed placeholder (``PLACEHOLDERS``). Placeholders already in the text are left
alone and redaction is idempotent: the redactor re-runs on its own output until nothing more is found (at most
``max_passes`` times), so ``redact(redact(x).text).text == redact(x).text``.

Nothing here logs or prints comment text; only counts.

Train the name head (writes ``models/redaction/``)::

    python -m synpunkt.redact train [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synpunkt.config import PROJECT_ROOT, shared_datasets

log = logging.getLogger(__name__)

PLACEHOLDERS: dict[str, str] = {
    "personnummer": "[PERSONNUMMER]",
    "samordningsnummer": "[SAMORDNINGSNUMMER]",
    "telefon": "[TELEFON]",
    "e-post": "[E-POST]",
    "adress": "[ADRESS]",
    "kontonummer": "[KONTONUMMER]",
    "kortnummer": "[KORTNUMMER]",
    "namn": "[NAMN]",
}
"""Type of personal data -> the placeholder that replaces it."""

DEFAULT_REDACTION_DIR = PROJECT_ROOT / "models" / "redaction"
HEAD_FILE = "name_head.npz"
SETTINGS_FILE = "name_head.json"
TRAIN_COMMAND = "python -m synpunkt.redact train"
NER_CORPUS = Path("aux") / "swedish_ner_corpus.parquet"


def redaction_model_dir() -> Path:
    """Where the name head lives (SYNPUNKT_REDACTION_MODEL, default models/redaction)."""
    return Path(os.environ.get("SYNPUNKT_REDACTION_MODEL", DEFAULT_REDACTION_DIR))


def ner_corpus_path() -> Path:
    return shared_datasets() / NER_CORPUS


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


# ---------------------------------------------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits; the last digit is the check digit."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban_valid(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    rearranged = s[4:] + s[:4]
    try:
        number = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


# ---------------------------------------------------------------------------------------------------------------
# Rules for identifiers with a fixed shape
# ---------------------------------------------------------------------------------------------------------------

_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))

# A number must start a run of digits: not preceded by a word character, '+', '-', '/', '.', ',' or "digit ".
# (Each pattern ends with lookaheads saying the run of digits ends there too.)
_B = r"(?<![\w+\-/.,–])(?<!\d )"

_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")

_PNR_RE = re.compile(
    _B + r"(?P<cc>1[89]|20)?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>[ \u00a0]?[-+–][ \u00a0]?|[ \u00a0])?(?P<tail>\d{4})" + r"(?![\w])(?![-/.,–]\d)(?! \d)"
)

_CARD_RE = re.compile(
    _B + r"(?:\d{4}(?P<s>[ -])\d{4}(?P=s)\d{4}(?P=s)\d{1,4}(?:(?P=s)\d{1,3})?"
    r"|\d{4}(?P<s2>[ -])\d{6}(?P=s2)\d{4,5}"
    r"|\d{13,19})" + r"(?![\w])(?![ \-/.,–]\d)"
)

_IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])")

_ACCOUNT_KEYWORD_RE = re.compile(
    r"(?i)(?<![\w])(?:bank)?(?:konto(?:nummer|numret|nr|t)?|kontonr|kto|clearing(?:nummer|nr)?|"
    r"(?:bank|plus|post)giro(?:nummer|numret|nr|t)?|bg|pg|giro)(?![\w])"
    r"\.?[ \t:=]*(?:(?:nr|nummer|numret|är|till|mitt|min|vårt|vår|hos|på|i)\.?[ \t:=]+){0,3}"
    r"(?P<num>\d(?:\d|[ \-–](?=\d)|,[ ]?(?=\d))*)"
)

_CLEARING_RE = re.compile(
    _B + r"(?P<clr>[1-9]\d{3}(?:-\d)?)(?:,[ ]?|[ ]?[-–][ ]?|[ ])(?P<acc>\d(?:[ -]?\d){5,11})"
    r"(?![\w])(?![ \-/.,–]?\d)"
)

_S = r"(?:[ \u00a0]?[-–/][ \u00a0]?|[ \u00a0])"  # separators inside a phone number
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    rf"(?:\+|00)[ ]?46{_S}?(?:\(0\){_S}?|0{_S}?)?[1-9](?:{_S}?\d){{6,8}}"  # +46 / 0046
    rf"|\+(?!46)[1-9]\d{{0,2}}{_S}?\d(?:{_S}?\d){{5,11}}"  # other countries
    + r")(?![\w])(?![-/.,–]?\d)"
    + "|" + _B + r"(?:"
    rf"\(0\d{{1,3}}\){_S}?\d(?:{_S}?\d){{4,7}}"  # (08) 123 456
    rf"|0[1-9](?:{_S}?\d){{6,8}}"  # 08-123 45 67, 070-123 45 67, 0701234567
    r"|07\d\.\d{3}\.\d{2}\.\d{2}"  # 070.123.45.67
    + r")(?![\w])(?![-/.,–]?\d)"
)

_DATE_LIKE_RE = re.compile(
    r"^(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{2}|\d{4})|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{2}[-/]\d{2})$"
)
_TIME_RANGE_RE = re.compile(r"^([01]\d|2[0-3])[.:]?([0-5]\d)\s?[-–]\s?([01]\d|2[0-3])[.:]?([0-5]\d)$")
_AMOUNT_AFTER_RE = re.compile(r"^\s?(?:kr\b|kronor|sek\b|:-|%|procent|st\b|stycken|år\b|km\b|m\b|meter|min\b|minuter)",
                              re.IGNORECASE)
_CASE_PREFIX_RE = re.compile(r"(?:\b[A-ZÅÄÖ]{1,5}|(?i:\b(?:dnr|diarienr|diarienummer|ärende|ärendenr|ärendenummer|nr|"
                             r"referens|ref|beslut|faktura|fakturanr|fakturanummer|ocr|order|ordernr)\.?:?))\s?$")

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
    _B + r"(?:(?:SE-?\s?)?[1-9]\d{2}\s\d{2}(?:\s+[A-ZÅÄÖ][\wåäö-]+(?:\s[A-ZÅÄÖ][\wåäö-]+)?)?"
    r"|(?:SE-?\s?)?[1-9]\d{4}\s+[A-ZÅÄÖ][a-zåäö-]+)"
    r"(?![\w])(?![ \-/.,–]?\d)(?!\s?(?:%|kr\b|kronor|sek\b|:-|st\b|km\b|m\b|meter|minuter|min\b|år\b))"
)
_TOWN_STOP = {"Kr", "Kronor", "Sek", "St", "Jag", "Vi", "Det", "Den", "Och", "Men", "Hej", "Tack", "Kommunen"}


_BANK_NAMES = re.compile(r"(?:SEB|ICA|SBAB|LF|SHB|DNB|BNP|JAK)\s?$")


def _case_number_context(text: str, start: int) -> bool:
    """True where the words before a number mark it as a case, invoice or reference number."""
    before = text[max(0, start - 15) : start]
    return bool(_CASE_PREFIX_RE.search(before)) and not _BANK_NAMES.search(before)


def _number_ok(text: str, start: int, end: int) -> bool:
    """False for matches that are really dates, time ranges, sums or case numbers."""
    s = text[start:end]
    if _DATE_LIKE_RE.match(s.strip()) or _TIME_RANGE_RE.match(s.strip()):
        return False
    if _AMOUNT_AFTER_RE.match(text[end : end + 12]):
        return False
    return True


def _pnr_spans(text: str) -> list[Span]:
    out = []
    for m in _PNR_RE.finditer(text):
        mm, dd = int(m["mm"]), int(m["dd"])
        ten = m["yy"] + m["mm"] + m["dd"] + m["tail"]
        if not 1 <= mm <= 12 or not luhn_valid(ten):
            continue
        if 1 <= dd <= 31:
            kind = "personnummer"
        elif 61 <= dd <= 91:
            kind = "samordningsnummer"
        else:
            continue
        sep = (m["sep"] or "").strip()
        if not m["cc"] and not sep and m["yy"].startswith("0"):
            continue  # ten digits from 0 with no separator: a phone number (0701234567) more likely
        if m["sep"] and not sep and m["cc"] is None and _case_number_context(text, m.start()):
            continue
        out.append(Span(m.start(), m.end(), kind))
    return out


def _card_spans(text: str) -> list[Span]:
    out = []
    for m in _CARD_RE.finditer(text):
        d = _digits(m.group())
        if 13 <= len(d) <= 19 and luhn_valid(d) and len(set(d)) > 1:
            out.append(Span(m.start(), m.end(), "kortnummer"))
    return out


def _account_spans(text: str) -> list[Span]:
    out = []
    for m in _IBAN_RE.finditer(text):
        if _iban_valid(m.group()):
            out.append(Span(m.start(), m.end(), "kontonummer"))
    for m in _ACCOUNT_KEYWORD_RE.finditer(text):
        num = m["num"].rstrip(" ,-–")
        start, end = m.start("num"), m.start("num") + len(num)
        d = _digits(num)
        if 4 <= len(d) <= 34 and _number_ok(text, start, end) and not re.search(r"\d{4}-\d{2}-\d{2}", num):
            out.append(Span(start, end, "kontonummer"))
    for m in _CLEARING_RE.finditer(text):
        clr, acc = m["clr"], _digits(m["acc"])
        lo = 6 if "-" in clr else 7
        if not lo <= len(acc) <= 10 or re.search(r"\d{4}-\d{2}-\d{2}", m.group()):
            continue
        if _case_number_context(text, m.start()) or not _number_ok(text, m.start(), m.end()):
            continue
        out.append(Span(m.start(), m.end(), "kontonummer"))
    return out


def _phone_spans(text: str) -> list[Span]:
    out = []
    for m in _PHONE_RE.finditer(text):
        if not _number_ok(text, m.start(), m.end()):
            continue
        if _case_number_context(text, m.start()) and not m.group().startswith(("+", "(", "07")):
            continue
        out.append(Span(m.start(), m.end(), "telefon"))
    return out


def _address_spans(text: str) -> list[Span]:
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


def _trim_town(text: str, start: int, end: int) -> int:
    """Drop trailing words after a postcode that are no town (a sentence going on)."""
    words = list(re.finditer(r"[\wåäö-]+", text[start:end]))
    while words and words[-1].group() in _TOWN_STOP:
        end = start + words[-1].start()
        words.pop()
        end = start + len(text[start:end].rstrip(" ,"))
    return end


_RULES = (
    ("e-post", lambda t: [Span(m.start(), m.end(), "e-post") for m in _EMAIL_RE.finditer(t)]),
    ("kortnummer", _card_spans),
    ("personnummer", _pnr_spans),
    ("kontonummer", _account_spans),
    ("telefon", _phone_spans),
    ("adress", _address_spans),
)


def pattern_spans(text: str) -> list[Span]:
    """Spans of identifiers with a fixed shape (everything but names), non-overlapping, in text order."""
    taken = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    spans: list[Span] = []
    for _, rule in _RULES:
        for sp in rule(text):
            if any(sp.start < e and s < sp.end for s, e in taken):
                continue
            taken.append((sp.start, sp.end))
            spans.append(sp)
    return sorted(spans, key=lambda s: s.start)


# ---------------------------------------------------------------------------------------------------------------
# Words and name rules
# ---------------------------------------------------------------------------------------------------------------

_WORD_RE = re.compile(_PLACEHOLDER_RE.pattern + r"|\w+(?:[-'’:]\w+)*|[^\w\s]")
_SENTENCE_END = {".", "!", "?", ":", ";", '"', "”", "“", "»", "«", "-", "–", "—", "•", "*", "(", ")"}

FIRST_NAMES = frozenset("""
Anna Eva Maria Karin Kristina Lena Sara Sarah Kerstin Emma Ingrid Marie Malin Jenny Hanna Hannah Sofia Sofie Annika
Susanne Monica Monika Elin Johanna Birgitta Carina Elisabeth Elisabet Helena Ulla Camilla Åsa Ida Julia Therese Emelie
Emilie Louise Anneli Annelie Cecilia Josefin Josefine Frida Agneta Gunilla Ann Anette Annette Margareta Inger Marianne
Elsa Alice Maja Ella Wilma Alva Ebba Astrid Vera Olivia Selma Stella Agnes Freja Matilda Mathilda Moa Nora Tove Tilda
Ellen Amanda Felicia Jessica Rebecka Rebecca Madeleine Caroline Charlotte Ulrika Pia Lotta Mia Petra Sanna Jonna
Helen Siv Britt Barbro Gunnel Berit Solveig Yvonne Viktoria Victoria Fatima Fatma Amina Aisha Aicha Leila Layla Yasmin
Jasmin Zainab Zeynep Maryam Mariam Noor Nour Hiba Rana Dalia Ayan Hodan Nadia Elena Natalia Olga Irina Katarina Jelena
Ana Ewa Agnieszka Magdalena Jasmina Amra Emina Lejla Erika Veronica Veronika Emilia Hedvig Linn Evelina Tindra Minna
Signe Majken Greta Lea Leah Tyra Elvira Mikaela Michaela Gabriella Isabelle Isabella Nathalie Natalie Sandra
Angelica Angelika Jeanette Marina Marita Mona Rose-Marie Ann-Marie Ann-Sofie Anna-Karin Eva-Lena Lisbeth Lisbet
Gudrun Gertrud Ingegerd Ingela Ingeborg Elise Lise Anja Nina Jennie Lovisa Ronja Hilda Hilma
Alicia Cornelia Elina Esther Ester Leia Thea Tea Meja Melissa Miranda Nellie Novalie Smilla Vilma Wilja Ylva Åse
Lars Mikael Michael Anders Johan Erik Eric Peter Thomas Tomas Daniel Fredrik Andreas Stefan Staffan Mats Magnus Mattias
Matthias Jonas Marcus Markus Niklas Nicklas Martin Bengt Göran Henrik Nils Leif Alexander Christer Krister Patrik
Patric Oskar Oscar Simon Viktor Victor David Emil Jakob Jacob Gustav Gustaf Sebastian Jonathan Tobias Kristoffer
Christoffer Robert Joakim Ulf Gunnar Roger Kent Sven Rolf Olof Åke Lennart Kjell Ingvar Bertil Rune Tommy Håkan
Torbjörn Claes Klas Kenneth Christian Kristian Filip Philip Linus Hugo William Liam Noah Noa Oliver Elias Lucas Lukas
Adam Axel Alfred Theo Teo Vincent Leo Ludvig Isak Albin Edvin Arvid Melvin Valter Walter Wilhelm Vilhelm Sixten Ebbe
Harry Olle Elliot Gabriel Samuel Anton Rasmus Jesper Jimmy Johnny Robin Kevin Dennis Pontus Carl Hampus Ola Jörgen
Janne Pelle Kalle Bosse Lasse Nisse Sigge Micke Jocke Stina Lisen Kicki Conny Sune Gösta Evert Arne Tage Folke
Holger Einar Erling Egon Allan Alf Yngve
Mohammed Mohamed Muhammad Muhammed Mohammad Mohamad Ahmed Ahmad Ali Hassan Hussein Hussain Omar Abdullah Abdallah
Yusuf Youssef Yousef Ibrahim Mustafa Mahmoud Mahmud Khalid Khaled Karim Amir Reza Mehdi Hamid Abdi Abdirahman
Abdullahi Ismail Mehmet Murat Emre Kemal Jamal Samir Tariq Bilal Adnan Zoran Goran Dragan Nikola Marko Tomasz
Piotr Krzysztof Pavel Sergei Sergej Dmitri Ivan Aleksandr Aleksander Juan Carlos Jose José Luis Pablo Miguel Ahmet Hadi
Nabil Rami Fadi Yassin Yasin Hamza Zakaria Idris Abdul Anas Walid Tarek Majid Saeed Saied Farid Faisal Hashim Osman
Mehmed Selim Ömer Hasan Hüseyin Ayşe Elif Merve Emine Hatice Leyla Shirin Parisa Maryan Sahra Hamdi Kader Yonas
Dawit Minh Linh Huong Wei Jing Hui Raj Amit Priya Anil Sunil Sanjay Arjun Johannes Anders-Erik
Per-Olof Per-Erik Jan-Erik Lars-Erik Karl-Erik Bengt-Göran Nils-Erik Sven-Erik Jan-Olof Lars-Göran
""".split())

AMBIGUOUS_FIRST_NAMES = frozenset(
    "Per Bo Hans Dan Stig Björn Karl Klara Liv Linda Saga Lina Iris Rune Jan Said Lisa Linnea Viola Ros Rut Ruth Maj "
    "Sol Tor Sten Milan Tina Lova".split()
)
"""Names that are also common Swedish words: a name only beside a surname or after a title."""

SURNAMES = frozenset("""
Lindberg Lindström Lindqvist Lindkvist Lindgren Bergström Lundberg Lundgren Lundqvist Lundkvist Berglund Sandberg
Forsberg Sjöberg Wallin Engström Eklund Lundin Bergman Wikström Bergqvist Nyström Holmberg Löfgren
Söderberg Nyberg Blomqvist Nordström Lundström Viklund Björklund Berggren Sandström Nordin Åberg Ekström
Holmgren Sundberg Hedlund Dahlberg Hellström Sjögren Öberg Strömberg Lindholm Holmqvist Sundström
Hedberg Åström Lindell Jakobsen Hansen Nielsen Jensen Pedersen Olsen Larsen Andersen Johansen Nguyen Pham
Yilmaz Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Nowak Kowalski Wiśniewski Kowalczyk Jovanović Petrović Nikolić
Hodžić Hadžić Ahmadi Hosseini Mohammadi Rezaei Karimi Hussein Hassan Ahmed Mohamed Abdullahi Warsame Farah Jama
Axelsson Ekberg Engberg Lundmark Marklund Öhman Lindblom Söderström Wahlberg Westerberg Åkerlund
""".split())

_NAME_SUFFIX_RE = re.compile(r"^[A-ZÅÄÖ][a-zåäöé]+(?:sson|sdotter)s?$")

TITLE_WORDS = frozenset("""
heter hette kallas herr fru fröken dr doktor prof professor mvh hälsningar hälsning hälsar signerat
handläggare handläggaren handläggarna handläggarens handläggarn biståndshandläggare biståndshandläggaren
socialsekreterare socialsekreteraren rektor rektorn lärare läraren lärarna mentor mentorn förskollärare
förskoläraren förskolläraren fritidsledaren pedagogen chef chefen enhetschef enhetschefen avdelningschef
avdelningschefen förvaltningschef förvaltningschefen kommunchef kommundirektör kommundirektören kommunalråd
kommunalrådet oppositionsråd oppositionsrådet ordförande ordföranden politiker politikern läkare läkaren
sjuksköterska sjuksköterskan undersköterska undersköterskan kontaktperson kontaktpersonen kontaktman kontaktmannen
assistent assistenten tjänsteman tjänstemannen inspektör inspektören bygglovshandläggare
bygglovshandläggaren utredare utredaren kurator kuratorn skolsköterskan vaktmästare vaktmästaren chauffören
busschauffören föraren sekreterare sekreteraren kollegan kollega grannen granne grannar maken makan frun mannen
sambon pojkvännen flickvännen vännen sonen dottern mamma mamman pappa pappan mormor morfar farmor farfar
brodern bror systern syster
""".split())

TITLE_SUFFIXES = (
    "chef", "chefen", "handläggare", "handläggaren", "sekreterare", "sekreteraren", "ordförande", "ordföranden",
    "minister", "ministern", "direktör", "direktören", "samordnare", "samordnaren", "sköterska", "sköterskan",
    "lärare", "läraren", "ledare", "ledaren", "behandlare", "behandlaren", "rådgivare", "rådgivaren", "skötare",
    "skötaren", "bibliotekarie", "bibliotekarien", "kurator", "kuratorn", "assistent", "assistenten", "inspektör",
    "inspektören", "tekniker", "teknikern", "kommunalråd", "kommunalrådet", "rektor", "rektorn", "pedagog",
    "pedagogen", "vaktmästare", "vaktmästaren", "chaufför", "chauffören", "talesperson", "talespersonen", "läkare",
    "läkaren", "kontaktperson", "kontaktpersonen", "utredare", "utredaren", "psykolog", "psykologen",
)
"""Endings of job titles ("Enhetschefen", "familjebehandlare"): a capitalised word after one is taken for a name."""


def _is_title(low: str) -> bool:
    return low in TITLE_WORDS or low.endswith(TITLE_SUFFIXES)


_STOPWORDS = frozenset("""
jag du han hon hen vi ni de dem den det detta denna dessa man min mitt mina din ditt dina er ert era vår vårt våra hans
hennes deras sin sitt sina och men eller att som inte tack hej hejsan med mvh ja nej på i om till från efter innan när
var vad vem vilken vilket vilka hur varför en ett alla ingen inget inga jo nu då här där idag igår imorgon sedan också
även bara så kommunen kommun staden regionen vänliga vänlig hälsningar hälsning kl klockan nr tel telefon mejl mail
januari februari mars april maj juni juli augusti september oktober november december måndag tisdag onsdag torsdag
fredag lördag söndag sverige stockholm göteborg malmö uppsala herr fru dr sms bankid swish ok okej bra dålig dåligt
toppen kanon super grattis snälla bästa stort tusen fantastiskt underbart värdelöst katastrof skandal äntligen tyvärr
dessvärre jättebra fick får har hade kan kunde vill ska skulle finns gillar älskar hatar undrar önskar saknar behöver
ring ringde kom trots dock alltså typ hallå nä japp mycket lite helt väldigt riktigt verkligen varje ingenting någon
något några många flera hela samma annan andra ju väl redan fortfarande aldrig alltid ibland ofta igen mer mest
thank thanks thx the we you it my our this that hi hello please great lovely good bad very not and but
fran nar ar pa ocksa aven sa da nagon nagot nagra manga varfor battre sjalv hander annu inga
""".split())


def _is_surname(w: str) -> bool:
    """A listed surname or one ending in -sson/-sdotter, also in the genitive (Anderssons)."""
    return w in SURNAMES or (w.endswith("s") and w[:-1] in SURNAMES) or bool(_NAME_SUFFIX_RE.match(w))


def _tokenize(text: str) -> tuple[list[str], list[tuple[int, int]], list[bool]]:
    """Words, their character offsets, and whether each starts a line."""
    words, offsets, line_start = [], [], []
    prev_end = 0
    for m in _WORD_RE.finditer(text):
        words.append(m.group())
        offsets.append((m.start(), m.end()))
        line_start.append(not words[:-1] or "\n" in text[prev_end : m.start()])
        prev_end = m.end()
    return words, offsets, line_start


def _is_cap(w: str) -> bool:
    return w[:1].isupper() and any(c.isalpha() for c in w) and not (len(w) > 1 and w.isupper())


def _is_wordlike(w: str) -> bool:
    return any(c.isalpha() for c in w) and not any(c.isdigit() for c in w) and not _PLACEHOLDER_RE.fullmatch(w)


_ACRONYM_RE = re.compile(r"^[A-ZÅÄÖ]{2,3}$|^[A-ZÅÄÖ]{2,}:[a-zåäö]+$")


def _model_candidate(w: str) -> bool:
    """Words the name model may mark: not stopwords, numbers, placeholders or acronyms (VA, SYV:n)."""
    return _is_wordlike(w) and w.lower() not in _STOPWORDS and not _ACRONYM_RE.match(w)


def _sentence_initial(words: list[str], line_start: list[bool]) -> list[bool]:
    return [line_start[i] or i == 0 or words[i - 1] in _SENTENCE_END for i in range(len(words))]


def _known_first(w: str) -> bool:
    if w in FIRST_NAMES:
        return True
    parts = w.split("-")
    return len(parts) > 1 and all(p in FIRST_NAMES or p in AMBIGUOUS_FIRST_NAMES for p in parts)


def rule_names(words: list[str], line_start: list[bool] | None = None) -> np.ndarray:
    """Which words the name rules mark as (parts of) person names."""
    n = len(words)
    line_start = line_start or [False] * n
    initial = _sentence_initial(words, line_start)
    low = [w.lower() for w in words]
    name = np.zeros(n, dtype=bool)

    def surname_like(i: int) -> bool:
        w = words[i]
        return _is_cap(w) and _is_wordlike(w) and low[i] not in _STOPWORDS and (not initial[i] or w in SURNAMES)

    for i, w in enumerate(words):
        if not _is_wordlike(w):
            continue
        after_title = i > 0 and _is_title(low[i - 1])
        cap = _is_cap(w)
        start = False
        if cap and _known_first(w) and low[i] not in _STOPWORDS:
            start = True
        elif cap and w in AMBIGUOUS_FIRST_NAMES and (after_title or (i + 1 < n and surname_like(i + 1)
                                                                      and _is_surname(words[i + 1]))):
            start = True
        elif cap and after_title and low[i] not in _STOPWORDS and not _is_title(low[i]):
            start = True
        elif not cap and w.islower() and after_title and (w.title() in FIRST_NAMES) and low[i] not in _STOPWORDS:
            start = True
        elif not cap and w.islower() and i > 0 and low[i - 1] in {"med", "till", "och", "från", "av", "åt", "heter"} \
                and w.title() in FIRST_NAMES and w.title() not in AMBIGUOUS_FIRST_NAMES and low[i] not in _STOPWORDS:
            start = True
        elif cap and _is_surname(w) and low[i] not in _STOPWORDS:
            start = True
        if not start:
            continue
        name[i] = True
        j = i + 1  # a capitalised word or two after a name is a (second) surname
        while j < n and j <= i + 2 and surname_like(j):
            name[j] = True
            j += 1
    return name


def _cheap_features(words: list[str], line_start: list[bool]) -> np.ndarray:
    """A few hand-made per-word features fed to the name head next to the encoder features."""
    n = len(words)
    initial = _sentence_initial(words, line_start)
    rules = rule_names(words, line_start)
    low = [w.lower() for w in words]
    f = np.zeros((n, len(CHEAP_FEATURES)), dtype=np.float32)
    for i, w in enumerate(words):
        cap = _is_cap(w)
        f[i] = (
            cap,
            len(w) > 1 and w.isupper(),
            w[:1].islower(),
            initial[i],
            _known_first(w) or w.title() in FIRST_NAMES,
            w in AMBIGUOUS_FIRST_NAMES,
            _is_surname(w),
            i > 0 and _is_title(low[i - 1]),
            i > 0 and _is_cap(words[i - 1]) and not initial[i - 1],
            i + 1 < n and _is_cap(words[i + 1]),
            any(c.isdigit() for c in w),
            not any(c.isalnum() for c in w),
            low[i] in _STOPWORDS,
            rules[i],
        )
    return f


CHEAP_FEATURES = ("capitalised", "all_caps", "lowercase", "sentence_initial", "first_name", "ambiguous_first_name",
                  "surname", "after_title", "after_capitalised", "before_capitalised", "has_digit", "punctuation",
                  "stopword", "rule_name")


# ---------------------------------------------------------------------------------------------------------------
# The name model: frozen encoder (first n layers) + logistic-regression head
# ---------------------------------------------------------------------------------------------------------------

LONE_INITIAL_THRESHOLD = 0.95
"""A first word of a sentence, in no name list and with no capitalised word after it ("Version", "Hemsidan"),
needs this probability: comments often start with words the news-trained head has not seen."""


def decide_names(words: list[str], line_start: list[bool], probs: np.ndarray, threshold: float,
                 lone_initial_threshold: float) -> np.ndarray:
    initial = _sentence_initial(words, line_start)
    n = len(words)
    out = np.zeros(n, dtype=bool)
    for i, w in enumerate(words):
        if not _model_candidate(w):
            continue
        t = threshold
        if initial[i] and not (_known_first(w) or _is_surname(w)) and not (
                i + 1 < n and _is_cap(words[i + 1]) and _is_wordlike(words[i + 1])):
            t = max(threshold, lone_initial_threshold)
        out[i] = probs[i] >= t
    return out


_CHUNK_WORDS = 96  # words per encoder input; longer texts are split in chunks
_MAX_TOKENS = 512


_ENCODERS: dict[tuple[str, int], tuple] = {}
_ENCODERS_LOCK = threading.Lock()


def _truncated_encoder(base_model: str | None, layer: int):
    """The base encoder cut after ``layer`` layers, and its tokenizer: loaded once per process and setting."""
    from synpunkt.config import DEFAULT_BASE_MODEL

    key = (base_model or DEFAULT_BASE_MODEL, layer)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            import torch  # noqa: F401  (imported here so rules-only use never needs torch)

            from synpunkt.base_model import load_base

            encoder, tokenizer, _ = load_base(key[0])
            encoder.encoder.layer = encoder.encoder.layer[:layer]  # only the layers the head reads
            encoder.config.num_hidden_layers = layer
            encoder.eval()
            _ENCODERS[key] = (encoder, tokenizer)
        return _ENCODERS[key]


class NameModel:
    """Encoder features (first subword of each word at ``layer``) + a linear head -> P(word is part of a name)."""

    def __init__(self, layer: int, coef: np.ndarray | None = None, intercept: float = 0.0,
                 threshold: float = 0.5, lone_initial_threshold: float = LONE_INITIAL_THRESHOLD,
                 base_model: str | None = None):
        self.layer = layer
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold
        self.lone_initial_threshold = lone_initial_threshold
        self.base_model = base_model
        self._encoder = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path | None = None) -> "NameModel":
        directory = Path(directory or redaction_model_dir())
        head, settings = directory / HEAD_FILE, directory / SETTINGS_FILE
        if not head.exists() or not settings.exists():
            raise FileNotFoundError(
                f"the name-redaction model is missing ({head.name} and {settings.name} in {directory}); "
                f"train it with `{TRAIN_COMMAND}` (needs ../shared/datasets/{NER_CORPUS.as_posix()}), "
                f"or use Redactor(use_model=False) for rules only"
            )
        meta = json.loads(settings.read_text())
        with np.load(head) as z:
            coef, intercept = z["coef"].astype(np.float32), float(z["intercept"])
        if coef.shape[0] != meta["feature_dim"]:
            raise ValueError(f"{head} does not match {settings} "
                             f"(feature size {coef.shape[0]} vs {meta['feature_dim']})")
        from synpunkt.config import DEFAULT_BASE_MODEL

        return cls(layer=int(meta["layer"]), coef=coef, intercept=intercept, threshold=float(meta["threshold"]),
                   lone_initial_threshold=float(meta.get("lone_initial_threshold", LONE_INITIAL_THRESHOLD)),
                   base_model=meta.get("base_model", DEFAULT_BASE_MODEL))

    def _load_encoder(self):
        with self._lock:
            if self._encoder is None:
                self._encoder, self._tokenizer = _truncated_encoder(self.base_model, self.layer)
        return self._encoder, self._tokenizer

    def encode(self, word_lists: list[list[str]], batch_size: int = 32) -> list[np.ndarray]:
        """Encoder features per word (first subword), one (n_words, hidden) array per word list."""
        import torch

        encoder, tokenizer = self._load_encoder()
        hidden = encoder.config.hidden_size
        out = [np.zeros((len(ws), hidden), dtype=np.float32) for ws in word_lists]
        chunks = [(k, s, ws[s : s + _CHUNK_WORDS]) for k, ws in enumerate(word_lists)
                  for s in range(0, len(ws), _CHUNK_WORDS)]
        chunks.sort(key=lambda c: sum(len(w) for w in c[2]))  # similar lengths together: less padding
        with torch.inference_mode():
            for b in range(0, len(chunks), batch_size):
                batch = chunks[b : b + batch_size]
                enc = tokenizer([c[2] for c in batch], is_split_into_words=True, return_tensors="pt", padding=True,
                                truncation=True, max_length=_MAX_TOKENS)
                states = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
                states = states.float().numpy()
                for j, (k, s, ws) in enumerate(batch):
                    seen = set()
                    for pos, w in enumerate(enc.word_ids(j)):
                        if w is not None and w not in seen:
                            seen.add(w)
                            out[k][s + w] = states[j, pos]
        return out

    def decide(self, words: list[str], line_start: list[bool], probs: np.ndarray) -> np.ndarray:
        """Which words the head marks as names (before the rules are added)."""
        return decide_names(words, line_start, probs, self.threshold, self.lone_initial_threshold)

    def features(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32
                 ) -> list[np.ndarray]:
        enc = self.encode(word_lists, batch_size)
        return [np.hstack([h, _cheap_features(ws, ls)]) for h, ws, ls in zip(enc, word_lists, line_starts)]

    def probabilities(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32
                      ) -> list[np.ndarray]:
        feats = self.features(word_lists, line_starts, batch_size)
        return [1.0 / (1.0 + np.exp(-(f @ self.coef + self.intercept))) for f in feats]


# ---------------------------------------------------------------------------------------------------------------
# The redactor
# ---------------------------------------------------------------------------------------------------------------


def _name_spans(text: str, offsets: list[tuple[int, int]], is_name: np.ndarray) -> list[Span]:
    """Merge name words that follow each other (only whitespace between) into one span each."""
    spans: list[Span] = []
    for (s, e), flag in zip(offsets, is_name):
        if not flag:
            continue
        if spans and text[spans[-1].end : s].strip() == "" and s - spans[-1].end <= 2:
            spans[-1] = Span(spans[-1].start, e, "namn")
        else:
            spans.append(Span(s, e, "namn"))
    return spans


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


def _to_original(pos: int, spans: list[Span]) -> int:
    """Map a position in the redacted text (spans applied) back to the original text."""
    shift = 0
    for sp in sorted(spans, key=lambda s: s.start):
        red_start = sp.start + shift
        if pos <= red_start:
            break
        shift += len(PLACEHOLDERS[sp.kind]) - (sp.end - sp.start)
    return pos - shift


class Redactor:
    """Finds and replaces personal data. Holds the name model (loaded lazily, once)."""

    _default: "Redactor | None" = None
    _default_lock = threading.Lock()

    def __init__(self, model_dir: Path | str | None = None, use_model: bool = True, max_passes: int = 3):
        self.use_model = use_model
        self.max_passes = max_passes
        self.name_model = NameModel.load(Path(model_dir) if model_dir else None) if use_model else None

    @classmethod
    def default(cls) -> "Redactor":
        """The shared redactor with the shipped name model (created on first use, then cached)."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def _find(self, texts: list[str], batch_size: int) -> list[list[Span]]:
        """One pass: spans in each text (no overlaps, placeholders untouched)."""
        result = []
        tokenised = []
        for text in texts:
            spans = pattern_spans(text)
            words, offsets, line_start = _tokenize(text)
            tokenised.append((words, offsets, line_start))
            result.append(spans)
        names = [rule_names(w, ls) for w, _, ls in tokenised]
        if self.name_model is not None:
            todo = [k for k, (w, _, _) in enumerate(tokenised) if any(_is_wordlike(x) for x in w)]
            if todo:
                probs = self.name_model.probabilities([tokenised[k][0] for k in todo], [tokenised[k][2] for k in todo],
                                                      batch_size)
                for k, p in zip(todo, probs):
                    names[k] = names[k] | self.name_model.decide(tokenised[k][0], tokenised[k][2], p)
        for k, (text, (words, offsets, _)) in enumerate(zip(texts, tokenised)):
            taken = [(s.start, s.end) for s in result[k]]
            taken += [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
            flags = np.array([bool(f) and _is_wordlike(w) and not any(s < e2 and s2 < e for s2, e2 in taken)
                              for f, w, (s, e) in zip(names[k], words, offsets)], dtype=bool)
            result[k] = sorted(result[k] + _name_spans(text, offsets, flags), key=lambda s: s.start)
        return result

    def find_spans_many(self, texts: list[str], batch_size: int = 32) -> list[list[Span]]:
        """Spans (in original-text offsets) that redaction replaces, re-running until nothing more is found."""
        texts = list(texts)
        found: list[list[Span]] = [[] for _ in texts]
        current = list(texts)
        todo = list(range(len(texts)))
        for _ in range(self.max_passes):
            if not todo:
                break
            new = self._find([current[k] for k in todo], batch_size)
            still = []
            for k, spans in zip(todo, new):
                if not spans:
                    continue
                mapped = [Span(_to_original(s.start, found[k]), _to_original(s.end, found[k]), s.kind) for s in spans]
                found[k] = sorted(found[k] + mapped, key=lambda s: s.start)
                current[k] = apply_spans(texts[k], found[k]).text
                still.append(k)
            todo = still
        return found

    def find_spans(self, text: str) -> list[Span]:
        return self.find_spans_many([text])[0]

    def redact_many(self, texts: list[str], batch_size: int = 32) -> list[Redaction]:
        """Redact many texts; the encoder runs over them in batches of ``batch_size``."""
        texts = ["" if t is None else str(t) for t in texts]
        spans = self.find_spans_many(texts, batch_size)
        out = [apply_spans(t, s) for t, s in zip(texts, spans)]
        log.debug("redacted %d texts: %s", len(out),
                  {k: sum(r.counts[k] for r in out) for k in PLACEHOLDERS})
        return out

    def redact(self, text: str) -> Redaction:
        return self.redact_many([text])[0]


def redact(text: str) -> Redaction:
    """Redact one text with the default redactor (rules + the shipped name model)."""
    return Redactor.default().redact(text)


def redact_many(texts: list[str], batch_size: int = 32) -> list[Redaction]:
    """Redact many texts with the default redactor; batched through the encoder."""
    return Redactor.default().redact_many(texts, batch_size)


# ---------------------------------------------------------------------------------------------------------------
# Training the name head
# ---------------------------------------------------------------------------------------------------------------


def load_ner_corpus(path: Path | None = None):
    import pandas as pd

    path = Path(path or ner_corpus_path())
    if not path.exists():
        raise FileNotFoundError(f"NER corpus not found at {path} (expected ../shared/datasets/{NER_CORPUS.as_posix()})")
    df = pd.read_parquet(path, columns=["tokens", "tags", "split", "has_person"])
    df["tokens"] = df["tokens"].map(list)
    df["tags"] = df["tags"].map(list)
    return df


def choose_threshold(probs: np.ndarray, rules: np.ndarray, is_per: np.ndarray, target_recall: float,
                     max_fp_rate: float, lone: np.ndarray | None = None, lone_threshold: float = 0.0
                     ) -> tuple[float, float, float]:
    """Highest threshold whose (model OR rules) recall reaches target_recall with FP rate <= max_fp_rate.

    ``probs`` is 0 for words the model may not mark; ``lone`` marks words that need at least ``lone_threshold``.
    Falls back to the threshold with the best recall within the FP limit. Returns (threshold, recall, fp_rate).
    """
    pos, neg = is_per.sum(), (~is_per).sum()
    lone = np.zeros_like(is_per) if lone is None else lone
    best = None
    for t in np.unique(np.concatenate([probs[is_per], [0.5]]))[::-1]:
        pred = rules | (probs >= np.where(lone, max(t, lone_threshold), t))
        recall = (pred & is_per).sum() / max(pos, 1)
        fpr = (pred & ~is_per).sum() / max(neg, 1)
        if fpr > max_fp_rate:
            break
        best = (float(t), float(recall), float(fpr))
        if recall >= target_recall:
            break
    if best is None:
        raise RuntimeError("no threshold meets the false-positive limit")
    return best


def _augment(words: list[list[str]], tags: list[list[str]], n_cut: int, n_lower: int, rng
             ) -> tuple[list[list[str]], list[list[str]]]:
    """Extra training sentences in the style of comments, made from the news sentences.

    ``n_cut``: sentences cut to start at a lowercase word, capitalised ("Gillar att ...", "Hemsidan är ..."), so a
    capital on the first word of a comment is not taken for a name. ``n_lower``: sentences with persons written all
    in lowercase, as many comments are ("tack till anna").
    """
    out_w, out_t = [], []
    for k in rng.permutation(len(words)):
        if len(out_w) >= n_cut:
            break
        toks, tg = words[k], tags[k]
        cands = [j for j in range(1, len(toks) - 3) if tg[j] == "O" and toks[j].isalpha() and toks[j].islower()]
        if cands:
            j = int(rng.choice(cands))
            out_w.append([toks[j][:1].upper() + toks[j][1:]] + list(toks[j + 1 :]))
            out_t.append(list(tg[j:]))
    with_person = [k for k in rng.permutation(len(words)) if "PER" in tags[k]][:n_lower]
    for k in with_person:
        out_w.append([w.lower() for w in words[k]])
        out_t.append(list(tags[k]))
    return out_w, out_t


def train(data: Path | None = None, out_dir: Path | None = None, layer: int = 6, max_negative: int = 1000,
          augment_cut: int = 1000, augment_lower: int = 0, heldout_fraction: float = 0.2,
          target_recall: float = 0.95, max_fp_rate: float = 0.05, C: float = 0.5,
          seed: int = 0, batch_size: int = 32) -> dict:
    """Train the name head on the NER corpus' train split and write it to ``out_dir`` (models/redaction)."""
    from sklearn.linear_model import LogisticRegression

    from synpunkt.config import DEFAULT_BASE_MODEL

    t0 = time.time()
    out_dir = Path(out_dir or redaction_model_dir())
    df = load_ner_corpus(data)
    tr = df[df["split"] == "train"].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(tr))
    n_held = int(len(tr) * heldout_fraction)
    held, rest = order[:n_held], order[n_held:]
    pos = [i for i in rest if tr.at[i, "has_person"]]
    neg = [i for i in rest if not tr.at[i, "has_person"]]
    neg = list(rng.choice(neg, size=min(max_negative, len(neg)), replace=False))
    fit = sorted(pos + neg)
    log.info("name head: %d fit sentences (%d with persons), %d held-out", len(fit), len(pos), len(held))

    model = NameModel(layer=layer, base_model=DEFAULT_BASE_MODEL)

    def build(words, tags):
        starts = [[False] * len(w) for w in words]
        feats = model.features(words, starts, batch_size)
        y = np.concatenate([np.array(t) == "PER" for t in tags])
        rules = np.concatenate([rule_names(w) for w in words])
        return np.vstack(feats), y, rules

    fit_words, fit_tags = [tr.at[i, "tokens"] for i in fit], [tr.at[i, "tags"] for i in fit]
    aug_words, aug_tags = _augment(fit_words, fit_tags, augment_cut, augment_lower, rng)
    X, y, _ = build(fit_words + aug_words, fit_tags + aug_tags)
    Xh, yh, rules_h = build([tr.at[i, "tokens"] for i in held], [tr.at[i, "tags"] for i in held])
    t_feat = time.time() - t0
    mean, scale = X.mean(0), X.std(0) + 1e-6
    clf = LogisticRegression(C=C, max_iter=3000).fit((X - mean) / scale, y)
    coef = (clf.coef_[0] / scale).astype(np.float32)  # fold the standardisation into the weights
    intercept = float(clf.intercept_[0] - (clf.coef_[0] * mean / scale).sum())
    probs_h = 1.0 / (1.0 + np.exp(-(Xh @ coef + intercept)))
    held_words = [tr.at[i, "tokens"] for i in held]
    candidate = np.concatenate([[_model_candidate(w) for w in ws] for ws in held_words])
    rules_h &= np.concatenate([[_is_wordlike(w) for w in ws] for ws in held_words])
    # words that need LONE_INITIAL_THRESHOLD: what decide_names gives with threshold 0 vs 1 - epsilon
    lone = np.concatenate([decide_names(ws, [False] * len(ws), np.full(len(ws), 0.5), 0.0, 1.0) != np.array(
        [_model_candidate(w) for w in ws], dtype=bool) for ws in held_words])
    threshold, recall, fpr = choose_threshold(np.where(candidate, probs_h, 0.0), rules_h, yh, target_recall,
                                              max_fp_rate, lone, LONE_INITIAL_THRESHOLD)
    model_only = np.concatenate([decide_names(ws, [False] * len(ws), p, threshold, LONE_INITIAL_THRESHOLD)
                                 for ws, p in zip(held_words, np.split(probs_h, np.cumsum([len(w) for w in
                                                                                            held_words])[:-1]))])
    combined = model_only | rules_h
    recall = float((combined & yh).sum() / yh.sum())
    fpr = float((combined & ~yh).sum() / (~yh).sum())
    settings = {
        "layer": layer,
        "base_model": DEFAULT_BASE_MODEL,
        "feature_dim": int(coef.shape[0]),
        "features": f"encoder layer {layer} (first subword of each word, {X.shape[1] - len(CHEAP_FEATURES)} dims) "
                    f"+ {', '.join(CHEAP_FEATURES)}",
        "threshold": threshold,
        "lone_initial_threshold": LONE_INITIAL_THRESHOLD,
        "decision": "word is a name if the name rules mark it, or P >= threshold (lone_initial_threshold for a "
                    "sentence's first word in no name list and without a capitalised word after it); never for "
                    "stopwords, acronyms, numbers or placeholders",
        "training": {
            "data": "klintan swedish_ner_corpus (CC BY 4.0), split=train",
            "fit_sentences": len(fit), "fit_sentences_with_person": len(pos), "fit_words": int(len(y)),
            "augmented_sentences": {"cut_and_capitalised": augment_cut, "lowercased": augment_lower},
            "heldout_sentences": int(n_held), "C": C, "seed": seed, "max_negative": max_negative,
            "target_recall": target_recall, "max_fp_rate": max_fp_rate,
        },
        "heldout": {
            "per_tokens": int(yh.sum()), "non_per_tokens": int((~yh).sum()),
            "per_recall": round(recall, 4), "non_per_redacted": round(fpr, 5),
            "model_only_per_recall": round(float((model_only & yh).sum() / yh.sum()), 4),
            "rules_only_per_recall": round(float((rules_h & yh).sum() / yh.sum()), 4),
            "rules_only_non_per_redacted": round(float((rules_h & ~yh).sum() / (~yh).sum()), 5),
        },
        "seconds": {"features": round(t_feat, 1), "total": round(time.time() - t0, 1)},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / HEAD_FILE, coef=coef, intercept=np.float32(intercept))
    (out_dir / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return settings


def score_on_ner(redactor: Redactor, tokens: list[list[str]], tags: list[list[str]], batch_size: int = 32) -> dict:
    """Token-level figures on NER-tagged sentences (tokens joined by spaces): PER recall, non-PER redacted, speed.

    A token counts as redacted when any redacted span overlaps it (names, numbers, addresses alike).
    """
    texts = [" ".join(t) for t in tokens]
    t0 = time.perf_counter()
    spans = redactor.find_spans_many(texts, batch_size)
    seconds = time.perf_counter() - t0
    per = per_hit = other = other_hit = other_hit_names = 0
    for toks, tg, sp in zip(tokens, tags, spans):
        pos = 0
        for tok, tag in zip(toks, tg):
            s, e = pos, pos + len(tok)
            pos = e + 1
            hits = [a for a in sp if a.start < e and s < a.end]
            if tag == "PER":
                per += 1
                per_hit += bool(hits)
            else:
                other += 1
                other_hit += bool(hits)
                other_hit_names += any(a.kind == "namn" for a in hits)
    counts = dict.fromkeys(PLACEHOLDERS, 0)
    for sp in spans:
        for a in sp:
            counts[a.kind] += 1
    return {
        "sentences": len(texts), "per_tokens": per, "non_per_tokens": other,
        "per_recall": per_hit / max(per, 1),
        "non_per_redacted": other_hit / max(other, 1),
        "non_per_redacted_as_names": other_hit_names / max(other, 1),
        "seconds": seconds, "sentences_per_second": len(texts) / max(seconds, 1e-9),
        "spans": counts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synpunkt.redact", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train the name head on the NER corpus and write models/redaction/")
    p.add_argument("--data", type=Path, default=None, help=f"NER parquet (default ../shared/datasets/{NER_CORPUS})")
    p.add_argument("--out", type=Path, default=None, help="output directory (default models/redaction)")
    p.add_argument("--layer", type=int, default=6, help="encoder layer whose features the head reads")
    p.add_argument("--max-negative", type=int, default=1000, help="sentences without persons used for fitting")
    p.add_argument("--augment-cut", type=int, default=1000, help="extra sentences cut to start at a lowercase word")
    p.add_argument("--augment-lower", type=int, default=0,
                   help="extra sentences with persons, lowercased (off: it made the head mark misspelt words)")
    p.add_argument("--target-recall", type=float, default=0.95)
    p.add_argument("--max-fp-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "train":
        settings = train(args.data, args.out, layer=args.layer, max_negative=args.max_negative,
                         augment_cut=args.augment_cut, augment_lower=args.augment_lower,
                         target_recall=args.target_recall, max_fp_rate=args.max_fp_rate)
        print(json.dumps({"threshold": settings["threshold"], "heldout": settings["heldout"],
                          "seconds": settings["seconds"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

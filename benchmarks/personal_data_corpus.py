"""Generator of the personal-data benchmark: made-up comments with labelled personal data and look-alikes.

``generate(n, seed)`` returns, for ``n`` comments, the comment text and a few metadata cells per comment (a
column name and its value, redacted alone as ingest does), each as a ``Sample`` whose ``items`` say where the
personal data are (personnummer with right and wrong check digits, samordningsnummer, phone numbers, e-mail
addresses, names, postal addresses) and where the non-personal look-alikes are (amounts, dates, case numbers,
times, years, postcodes alone, percentages, other numbers, organisations and places). Formats are those people
write, with separators or none, with the keywords people use (misspelt too), in lowercase, without Swedish
letters, and with typos in the surrounding words. Everything is deterministic for a seed (random.Random and
Faker's seeded instances). All data are made up; Faker's name lists are used for names.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

from faker import Faker
from stdnum import luhn

import personal_data_vocabulary as vocab

PERSONAL = ("personnummer", "samordningsnummer", "telefon", "e-post", "namn", "adress")
"""Types of personal data in the benchmark (the redactor's type names)."""
DISTRACTORS = ("belopp", "datum", "ärendenummer", "tid", "årtal", "postnummer", "procent", "annat tal",
               "organisation", "ort")
"""Kinds of non-personal look-alikes."""


@dataclass
class Item:
    """A labelled stretch of a sample: personal data (``kind`` in PERSONAL) or a look-alike (in DISTRACTORS)."""

    start: int
    end: int
    kind: str
    tags: tuple[str, ...] = ()


@dataclass
class Sample:
    """A comment text (``column`` "text") or a metadata cell (``column`` its column name), with its items."""

    text: str
    column: str
    items: list[Item] = field(default_factory=list)


@dataclass
class _Style:
    lowercase: bool = False
    ascii_only: bool = False
    typo_rate: float = 0.0


_ASCII = str.maketrans("åäöÅÄÖéü", "aaoAAOeu")


class _Builder:
    """Concatenates literal text and labelled values, recording the values' offsets."""

    def __init__(self, rng: random.Random, style: _Style):
        self.rng, self.style, self.parts, self.items, self.pos = rng, style, [], [], 0

    def _shape(self, s: str) -> str:
        if self.style.lowercase:
            lowered = s.lower()
            s = lowered if len(lowered) == len(s) else s
        return s.translate(_ASCII) if self.style.ascii_only else s

    def lit(self, s: str) -> None:
        s = self._shape(_typos(s, self.rng, self.style.typo_rate))
        self.parts.append(s)
        self.pos += len(s)

    def add(self, value: str, kind: str, tags: tuple[str, ...] = ()) -> None:
        value = self._shape(value)
        if self.style.lowercase and kind == "namn":
            tags = tags + ("gemener",)
        self.items.append(Item(self.pos, self.pos + len(value), kind, tags))
        self.parts.append(value)
        self.pos += len(value)

    def fill(self, template: str, **values: tuple[str, str, tuple[str, ...]]) -> None:
        """Literal parts of ``template`` and its {fields} (value, kind, tags) in order."""
        for literal, name, _, _ in string.Formatter().parse(template):
            if literal:
                self.lit(literal)
            if name is not None:
                self.add(*values[name])

    def sample(self, column: str) -> Sample:
        return Sample("".join(self.parts), column, self.items)


def _typos(s: str, rng: random.Random, rate: float) -> str:
    """Swap, drop or double a letter in some words (never in the labelled values)."""
    if rate <= 0:
        return s
    out = []
    for tok in re.split(r"(\s+)", s):
        if len(tok) > 3 and tok.isalpha() and rng.random() < rate:
            i = rng.randrange(1, len(tok) - 1)
            op = rng.choice(("swap", "drop", "double"))
            tok = (tok[:i] + tok[i + 1] + tok[i] + tok[i + 2:] if op == "swap" else
                   tok[:i] + tok[i + 1:] if op == "drop" else tok[:i] + tok[i] + tok[i:])
        out.append(tok)
    return "".join(out)


# --- personal data ----------------------------------------------------------------------------------------------


class _People:
    """First and last names: Faker's Swedish, Finnish, Polish and Croatian lists, and vocab's."""

    def __init__(self, seed: int):
        self.fakers = {loc: Faker(loc) for loc in ("sv_SE", "fi_FI", "pl_PL", "hr_HR")}
        for k, f in enumerate(self.fakers.values()):
            f.seed_instance(seed + k)

    def name(self, rng: random.Random) -> tuple[str, str, str]:
        """(first, last, origin)."""
        r = rng.random()
        if r < 0.55:
            f = self.fakers["sv_SE"]
            return f.first_name(), f.last_name(), "svenskt"
        if r < 0.70:
            loc = rng.choice(("fi_FI", "pl_PL", "hr_HR"))
            return self.fakers[loc].first_name(), self.fakers[loc].last_name(), "utländskt"
        first = rng.choice(vocab.IMMIGRANT_FIRST)
        last = rng.choice(vocab.IMMIGRANT_LAST) if rng.random() < 0.8 else self.fakers["sv_SE"].last_name()
        return first, last, "utländskt"

    def street(self, rng: random.Random) -> str:
        f = self.fakers["sv_SE"]
        number = str(rng.randint(1, 150)) + (rng.choice("ABC") if rng.random() < 0.2 else "")
        addr = f"{f.street_name()} {number}"
        if rng.random() < 0.15:
            addr += f" lgh {rng.randint(1001, 1404)}"
        if rng.random() < 0.35:
            addr += f", {rng.randint(100, 999)} {rng.randint(10, 99)} {f.city()}"
        return addr


def personnummer(rng: random.Random, samordning: bool = False, right_check: bool = True) -> tuple[str, str]:
    """A made-up personnummer (or samordningsnummer) in one of the written formats, and that format's name."""
    year = rng.randint(1921, 2012)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28) + (60 if samordning else 0)
    body = f"{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    check = int(luhn.calc_check_digit(body))
    check = check if right_check else (check + rng.randint(1, 9)) % 10
    ten = body + str(check)
    cc = str(year // 100)
    plus = 2025 - year >= 100
    forms = {
        "ÅÅMMDD-NNNN": f"{ten[:6]}{'+' if plus else '-'}{ten[6:]}",
        "ÅÅMMDDNNNN": ten,
        "ÅÅÅÅMMDD-NNNN": f"{cc}{ten[:6]}-{ten[6:]}",
        "ÅÅÅÅMMDDNNNN": cc + ten,
        "ÅÅMMDD NNNN": f"{ten[:6]} {ten[6:]}",
        "ÅÅÅÅMMDD NNNN": f"{cc}{ten[:6]} {ten[6:]}",
        "ÅÅMMDD - NNNN": f"{ten[:6]} - {ten[6:]}",
    }
    weights = [30, 12, 25, 12, 8, 8, 5]
    name = rng.choices(list(forms), weights)[0]
    return forms[name], name


def phone(rng: random.Random) -> tuple[str, str]:
    """A made-up Swedish (or, rarely, foreign) phone number and its format's name."""
    d = lambda n: "".join(str(rng.randint(0, 9)) for _ in range(n))  # noqa: E731
    kind = rng.choices(("mobil", "08", "0XX", "0XXX", "utland"), [50, 15, 20, 10, 5])[0]
    if kind == "mobil":
        sub = rng.choice("02369") + d(7)
        forms = [f"07{sub[0]}-{sub[1:4]} {sub[4:6]} {sub[6:]}", f"07{sub}",
                 f"07{sub[0]} {sub[1:4]} {sub[4:6]} {sub[6:]}",
                 f"07{sub[0]}-{sub[1:]}", f"+46 7{sub[0]} {sub[1:4]} {sub[4:6]} {sub[6:]}", f"+467{sub}",
                 f"0046 7{sub[0]} {sub[1:4]} {sub[4:6]} {sub[6:]}", f"0046 7{sub}",
                 f"07{sub[0]}.{sub[1:4]}.{sub[4:6]}.{sub[6:]}",
                 f"+46 (0)7{sub[0]}-{sub[1:4]} {sub[4:6]} {sub[6:]}", f"07{sub[0]} - {sub[1:4]} {sub[4:6]} {sub[6:]}"]
    elif kind == "08":
        sub = rng.choice("1234567") + d(rng.choice((5, 6, 7)))
        grouped = {6: f"{sub[:2]} {sub[2:4]} {sub[4:]}", 7: f"{sub[:3]} {sub[3:5]} {sub[5:]}",
                   8: f"{sub[:3]} {sub[3:6]} {sub[6:]}"}[len(sub)]
        forms = [f"08-{grouped}", f"08 {grouped}", f"08{sub}", f"(08) {grouped}", f"+46 8 {grouped}", f"08-{sub}"]
    elif kind == "0XX":
        area = rng.choice(("31", "40", "18", "13", "19", "21", "11", "16", "90", "60", "46", "54"))
        sub = rng.choice("2345678") + d(rng.choice((5, 6)))
        grouped = f"{sub[:2]} {sub[2:4]} {sub[4:]}" if len(sub) == 6 else f"{sub[:3]} {sub[3:5]} {sub[5:]}"
        forms = [f"0{area}-{grouped}", f"0{area} {grouped}", f"0{area}{sub}", f"+46 {area} {grouped}",
                 f"0046 {area} {grouped}", f"0{area}-{sub}"]
    elif kind == "0XXX":
        area = rng.choice(("470", "480", "910", "920", "520", "240", "300", "650", "980", "500"))
        sub = rng.choice("12345678") + d(4)
        grouped = f"{sub[:3]} {sub[3:]}" if rng.random() < 0.5 else f"{sub[:1]}{sub[1:3]} {sub[3:]}"
        forms = [f"0{area}-{grouped}", f"0{area} {grouped}", f"0{area}-{sub}", f"(0{area}) {grouped}"]
    else:
        forms = [f"+47 {d(3)} {d(2)} {d(3)}", f"+358 40 {d(3)} {d(4)}", f"+45 {d(2)} {d(2)} {d(2)} {d(2)}",
                 f"+49 151 {d(8)}", f"+44 7{d(3)} {d(6)}"]
    return rng.choice(forms), kind


def email(rng: random.Random, first: str, last: str) -> tuple[str, str]:
    """A made-up e-mail address built on a name, and its form's name."""
    clean = lambda s: re.sub(r"[^a-z0-9åäö]", "", s.lower())  # noqa: E731
    f, la = clean(first) or "x", clean(last) or "y"
    if rng.random() < 0.7:
        f, la = f.translate(_ASCII), la.translate(_ASCII)
    domain = rng.choice(("gmail.com", "hotmail.com", "outlook.com", "yahoo.se", "telia.com", "live.se", "icloud.com",
                         "kommun.se", "foretag.se", "bredband.net", "protonmail.com"))
    local = rng.choice((f"{f}.{la}", f"{f}{la}", f"{f}_{la}{rng.randint(1, 99)}", f"{f[0]}.{la}",
                        f"{f}{rng.randint(50, 2010)}",
                        f"{la}.{f}", f"{f}.{la}-{rng.randint(1, 9)}"))
    if rng.random() < 0.08:
        return f"{local} (at) {domain}", "(at)"
    if rng.random() < 0.1:
        return f"{local}@{domain}".upper() if rng.random() < 0.3 else f"{local.title()}@{domain}", "versaler"
    return f"{local}@{domain}", "vanlig"


# --- non-personal look-alikes -----------------------------------------------------------------------------------


def distractor(rng: random.Random, kind: str) -> str:
    """A non-personal look-alike of ``kind`` (one of DISTRACTORS)."""
    r = rng.randint
    if kind == "belopp":
        n = rng.choice((r(1, 9) * 100 + 50 * r(0, 1), r(1, 50) * 500, r(1, 200) * 1000, r(10, 999)))
        amount = f"{n:,}".replace(",", rng.choice((" ", "", ".")))
        return rng.choice((f"{amount} kr", f"{amount} kronor", f"{amount}:-", f"{amount} SEK", f"{amount}kr"))
    if kind == "datum":
        y, m, d = r(2015, 2025), r(1, 12), r(1, 28)
        return rng.choice((f"{y}-{m:02d}-{d:02d}", f"{d}/{m}", f"{d}/{m} {y}", f"{d:02d}.{m:02d}.{y}",
                           f"{d} mars {y}", f"den {d}:e", f"{y}{m:02d}{d:02d}", f"{d}-{m}-{y}"))
    if kind == "ärendenummer":
        y = r(2018, 2025)
        return rng.choice((f"ärende {y}-{r(100, 9999)}", f"ärendenummer {y}-{r(1, 999999):06d}",
                           f"dnr KS {y}/{r(10, 999)}", f"Dnr {y}-{r(100, 9999)}", f"BN {y}-{r(1, 999999):06d}",
                           f"referensnummer {r(100000, 999999)}", f"fakturanummer {r(10**9, 10**10 - 1)}",
                           f"OCR {_with_luhn(rng, r(10, 15))}", f"ordernr {r(10**6, 10**8)}"))
    if kind == "tid":
        h, mi = r(7, 20), rng.choice((0, 15, 30, 45))
        return rng.choice((f"kl {h}.{mi:02d}", f"kl. {h}:{mi:02d}", f"klockan {h}",
                           f"{h:02d}.{mi:02d}–{h + 2:02d}.00",
                           f"{h:02d}00-{h + 3:02d}00", f"kl {h:02d}{mi:02d}", f"mellan {h} och {h + 2}"))
    if kind == "årtal":
        y = r(1950, 2025)
        return rng.choice((f"{y}", f"sedan {y}", f"{y}-{y + r(1, 8)}", f"år {y}", f"{y}/{(y + 1) % 100:02d}"))
    if kind == "postnummer":
        return rng.choice((f"{r(100, 999)} {r(10, 99)}", f"{r(10000, 99999)}", f"postnummer {r(100, 999)} {r(10, 99)}"))
    if kind == "procent":
        return rng.choice((f"{r(1, 99)} %", f"{r(1, 99)}%", f"{r(1, 9)},{r(1, 9)} procent", f"{r(1, 99)} procent"))
    if kind == "annat tal":
        return rng.choice((f"vecka {r(1, 52)}", f"linje {r(1, 99)}", f"buss {r(1, 800)}", f"rum {r(100, 599)}",
                           f"plan {r(1, 9)}", f"version {r(1, 9)}.{r(0, 9)}.{r(0, 9)}", f"{r(2, 40)} personer",
                           f"{r(2, 12)} barn", f"{r(1, 40)} minuter", f"{r(2, 30)} km", f"{r(1, 25)} grader"))
    if kind == "organisation":
        return rng.choice(vocab.ORGANISATIONS)
    return rng.choice(vocab.PLACES)


def _with_luhn(rng: random.Random, n: int) -> str:
    body = "".join(str(rng.randint(0, 9)) for _ in range(n - 1))
    return body + luhn.calc_check_digit(body)


_DISTRACTOR_TEMPLATES = {
    "belopp": ["Avgiften höjdes till {x} per månad.", "Jag fick betala {x} för ingenting.", "Det kostar {x}."],
    "datum": ["Mötet var {x}.", "Jag skickade ansökan {x}.", "Senast {x} skulle jag få svar."],
    "ärendenummer": ["Gäller {x}.", "Se {x}.", "Jag har {x} sedan länge.", "({x})"],
    "tid": ["Vi kom {x} men det var stängt.", "Öppet {x} på vardagar.", "Bussen gick {x}."],
    "årtal": ["Jag har bott här {x}.", "Det har varit så {x}.", "Skolan byggdes {x}."],
    "postnummer": ["Vi i {x} får aldrig snöröjning.", "Gäller området {x}.", "Alla i {x} klagar."],
    "procent": ["Taxan höjdes med {x}.", "Bara {x} av bussarna gick.", "Ungefär {x} var nöjda."],
    "annat tal": ["Det gäller {x}.", "Vi var {x} som väntade.", "Jag väntade i {x}."],
    "organisation": ["{x} svarar aldrig.", "Jag har kontaktat {x} flera gånger.", "Tack {x} för hjälpen!",
                     "Varför hänvisar {x} till kommunen?"],
    "ort": ["Vi som bor i {x} glöms bort.", "Bussen till {x} är alltid full.", "{x} behöver fler poliser.",
            "Flyttade hit från {x} förra året."],
}


# --- comments and metadata cells --------------------------------------------------------------------------------

_PERSONAL_WEIGHTS = {"personnummer": 20, "samordningsnummer": 9, "telefon": 22, "e-post": 17, "namn": 27, "adress": 5}


def _possessive(name: str) -> str:
    return name if name[-1:].lower() in "sxz" else name + "s"


def _name_value(people: _People, rng: random.Random, possessive: bool = False, metadata: bool = False
                ) -> tuple[str, tuple[str, ...], str, str]:
    """A written name (full, first only, initial + surname; in metadata also "Surname, First"), tags, first, last."""
    first, last, origin = people.name(rng)
    r = rng.random()
    if metadata:
        forms = [(f"{first} {last}", "för- och efternamn"), (f"{last}, {first}", "efternamn, förnamn"),
                 (f"{first[0]}. {last}", "initial"), (first, "förnamn"), (f"{last} {first}", "efternamn förnamn")]
        value, form = forms[0] if r < 0.55 else rng.choice(forms[1:])
    elif r < 0.55:
        value, form = f"{first} {last}", "för- och efternamn"
    elif r < 0.93:
        value, form = first, "förnamn"
    else:
        value, form = f"{first[0]}. {last}", "initial"
    tags = (origin, form)
    if possessive:
        value, tags = _possessive(value), tags + ("genitiv",)
    return value, tags, first, last


def _personal_piece(b: _Builder, people: _People, rng: random.Random, kind: str) -> None:
    if kind in ("personnummer", "samordningsnummer"):
        right = rng.random() < 0.65
        number, form = personnummer(rng, samordning=kind == "samordningsnummer", right_check=right)
        tags = (form, "rätt kontrollsiffra" if right else "fel kontrollsiffra")
        contexts = vocab.PNR_CONTEXTS if kind == "personnummer" else vocab.SAMO_CONTEXTS
        if rng.random() < 0.55:
            template, tags = rng.choice(contexts), tags + ("med nyckelord",)
            if rng.random() < 0.06:
                cut = rng.randrange(len(number) - 3, len(number))
                number, tags = number[:cut] + number[cut + 1:], tags + ("siffra saknas",)
        else:
            template, tags = rng.choice(vocab.BARE_CONTEXTS), tags + ("utan nyckelord",)
        b.fill(template.replace("{}", "{x}"), x=(number, kind, tags))
    elif kind == "telefon":
        number, form = phone(rng)
        b.fill(rng.choice(vocab.CONTACT_WORDS["telefon"]).replace("{}", "{x}"), x=(number, kind, (form,)))
    elif kind == "e-post":
        first, last, _ = people.name(rng)
        address, form = email(rng, first, last)
        b.fill(rng.choice(vocab.CONTACT_WORDS["e-post"]).replace("{}", "{x}"), x=(address, kind, (form,)))
    elif kind == "adress":
        b.fill(rng.choice(vocab.CONTACT_WORDS["adress"]).replace("{}", "{x}"), x=(people.street(rng), kind, ()))
    else:
        possessive = rng.random() < 0.12
        value, tags, _, _ = _name_value(people, rng, possessive)
        title = rng.choice(vocab.TITLES)
        if possessive:
            template = rng.choice(vocab.POSSESSIVE_CONTEXTS)
            b.fill(template.replace("{title}", title), pos=(value, "namn", tags))
        else:
            template = rng.choice(vocab.NAME_CONTEXTS).replace("{title}", title)
            second = _name_value(people, rng)
            b.fill(template, name=(value, "namn", tags), name2=(second[0], "namn", second[1]))


def _comment(people: _People, rng: random.Random) -> Sample:
    style = _Style(lowercase=rng.random() < 0.12, ascii_only=rng.random() < 0.05,
                   typo_rate=0.06 if rng.random() < 0.4 else 0.0)
    b = _Builder(rng, style)
    pieces = [("filler", None)] * rng.choice((0, 1, 1, 2))
    pieces += [("personal", k) for k in rng.choices(list(_PERSONAL_WEIGHTS), list(_PERSONAL_WEIGHTS.values()),
                                                     k=rng.choice((0, 1, 1, 2, 2, 3)))]
    pieces += [("distractor", rng.choice(DISTRACTORS)) for _ in range(rng.choice((1, 2, 2, 3)))]
    rng.shuffle(pieces)
    for i, (what, kind) in enumerate(pieces):
        if i:
            b.lit(rng.choice((" ", " ", "\n", "  ")))
        if what == "filler":
            b.lit(rng.choice(vocab.FILLER))
        elif what == "personal":
            _personal_piece(b, people, rng, kind)
        else:
            b.fill(rng.choice(_DISTRACTOR_TEMPLATES[kind]), x=(distractor(rng, kind), kind, ()))
        if b.parts and b.parts[-1][-1:] not in ".!?)\n" and rng.random() < 0.7:
            b.lit(".")
    return b.sample("text")


def _metadata_cell(people: _People, rng: random.Random) -> Sample:
    b = _Builder(rng, _Style(lowercase=rng.random() < 0.08))
    r = rng.random()
    if r < 0.5:
        column = rng.choice(list(vocab.METADATA_PERSONAL))
        kind = vocab.METADATA_PERSONAL[column]
        if kind == "namn":
            value, tags, _, _ = _name_value(people, rng, metadata=True)
            if rng.random() < 0.05:
                value, tags = value.upper(), tags + ("versaler",)
            b.add(value, "namn", tags)
        elif kind == "personnummer":
            number, form = personnummer(rng, right_check=rng.random() < 0.65)
            b.add(number, kind, (form, "metadata"))
        elif kind == "telefon":
            b.add(phone(rng)[0], kind, ())
        elif kind == "e-post":
            first, last, _ = people.name(rng)
            b.add(email(rng, first, last)[0], kind, ())
        else:
            b.add(people.street(rng), kind, ())
        return b.sample(column)
    if r < 0.8:
        column = rng.choice(list(vocab.METADATA_OTHER))
        value = rng.choice(vocab.METADATA_OTHER[column])
        b.add(value, "organisation" if column in ("förvaltning", "enhet") else "ort" if column == "kommun" else
              "annat tal", ())
        return b.sample(column)
    value, tags, _, _ = _name_value(people, rng, metadata=True)
    label = rng.choice(("handläggare: ", "Handläggare ", "Kontakt: ", "Ansvarig: ", "Ring upp ", "Hänvisad till "))
    b.lit(label)
    b.add(value, "namn", tags)
    if rng.random() < 0.4:
        b.lit(rng.choice((", ", " på ", " tel ")))
        b.add(phone(rng)[0], "telefon", ())
    return b.sample("anteckning")


def generate(n: int = 2000, seed: int = 0) -> list[Sample]:
    """``n`` comments, each followed by 0-3 of its metadata cells (deterministic for ``seed``)."""
    rng = random.Random(seed)
    people = _People(seed)
    out: list[Sample] = []
    for _ in range(n):
        out.append(_comment(people, rng))
        out.extend(_metadata_cell(people, rng) for _ in range(rng.choice((0, 1, 2, 3))))
    return out

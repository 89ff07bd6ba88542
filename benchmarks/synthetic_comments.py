"""Synthetic submissions for the end-to-end benchmark (benchmarks/bench_pipeline.py): mostly distinct Swedish
citizen comments as municipalities send them, one file per municipality and year (split into parts when large).

Each comment is built by code, either around one of the project's own written comments (data/comments/
comments.jsonl, its placeholders [NAMN], [TELEFON], ... filled with made-up values) with sentences written here
added before or after it, or wholly from the sentence templates and vocabulary below. Some carry personal data
(names, personnummer, phone numbers, e-mail addresses, street addresses: the made-up values of
benchmarks/personal_data_corpus.py), in the text and in metadata columns. Lengths, channels, case ids, column names
and file formats (CSV with comma or semicolon, XLSX, JSONL) vary by municipality and year. Municipalities are real
SCB codes from the project's table, as many as keep the files near ROWS_PER_FILE rows (so that batch sizes do not
change with N); each municipality and year gets its own sentiment mix, so trends have something to find.
Nothing is read from ../shared/datasets. Deterministic for a seed.

    from synthetic_comments import generate_submissions, write_inbox
    subs = generate_submissions(5000, seed=0)
    write_inbox(subs, home / "inbox")          # inbox/<kod>/<file>, as a municipality drops them
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

import personal_data_corpus as pdc
import personal_data_vocabulary as vocab

SENTIMENTS = ("positive", "skeptical", "negative")
ALWAYS = ("0180", "1480", "1280", "0380")  # Stockholm, Göteborg, Malmö, Uppsala: always among the municipalities
ROWS_PER_FILE = 250
"""Mean rows of a file when the number of municipalities is chosen from N (a month's export of a mid-size
municipality): the files, and so the batches the pipeline sees, keep their size whatever N is."""
MAX_ROWS_PER_FILE = 5_000  # larger municipality-years come as several files (quarterly exports, say)

# --- vocabulary (all made up here) ------------------------------------------------------------------------------

SERVICES = ["bygglovet", "hemtjänsten", "förskoleplatsen", "skolskjutsen", "färdtjänsten", "sophämtningen",
            "snöröjningen", "VA-fakturan", "parkeringstillståndet", "bostadsanpassningen", "försörjningsstödet",
            "tomtkön", "bibliotekskortet", "felanmälan om gatubelysningen", "ansökan om LSS", "SFI-anmälan",
            "komvux-ansökan", "fritidsplatsen", "vattenläckan", "matlådorna från hemtjänsten", "bredbandet",
            "kulturskolan", "äldreboendet", "avgiften för barnomsorg", "nybyggnadskartan", "strandskyddet"]
TITLES = ["handläggaren", "personen i växeln", "kundtjänst", "min kontaktperson", "enhetschefen", "rektorn",
          "biståndshandläggaren", "personalen", "den som svarade", "chatten", "socialsekreteraren", "inspektören"]
DEPARTMENTS = ["kontaktcenter", "bygglovsenheten", "socialtjänsten", "skolförvaltningen", "tekniska förvaltningen",
               "miljöförvaltningen", "äldreomsorgen", "kommunens växel", "Mina sidor", "e-tjänsten"]
WEEKDAYS = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]
MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december"]
OPENERS = ["Hej!", "Hej,", "Hej kommunen.", "Hallå.", "Till den det berör:", "Synpunkt angående {service}.",
           "Jag vill lämna en synpunkt.", "Hej, jag ringer för min mammas räkning.", "Gäller {service}.",
           "Ang. ärende {case}.", "Jag skriver här eftersom ingen svarar på mejl.", "Hej igen."]
CLOSINGS = ["Mvh {first}", "Med vänlig hälsning\n{first} {last}", "Tack på förhand!", "/{first}", "Tack.",
            "Hälsningar {first} {last}", "Återkom gärna.", "Vänligen, {first}", "MVH {first} {last}",
            "Hoppas på svar snart."]

TEMPLATES: dict[str, list[str]] = {
    "positive": [
        "Tack för snabb hjälp med {service}!", "{Title} var trevlig och tog sig tid att förklara allt.",
        "Jag fick svar inom {days} dagar, mycket bra.", "Smidigt att sköta {service} via e-tjänsten.",
        "Kom fram direkt när jag ringde {weekday} morgon.", "Bästa bemötandet jag fått av {department}.",
        "Beslutet om {service} kom fortare än utlovat.",
        "Allt fungerade, från ansökan till beslut på {weeks} veckor.", "Tack {first} för att du lyssnade!",
        "Bra information på webben om {service}.", "{Title} ringde tillbaka samma dag som lovat.",
        "Enkelt och tydligt, tack!", "Vi är jättenöjda med {service} i år.",
        "Äntligen fungerar {service} som det ska.", "Fick hjälp på {minutes} minuter i chatten, toppen.",
        "Mycket proffsigt av {department}.",
    ],
    "skeptical": [
        "Bra bemötande men jag väntar fortfarande på besked om {service}.",
        "Vi får väl se om det blir av den här gången.",
        "{Title} var trevlig, men det tog {weeks} veckor innan något hände.",
        "Det är bra att {service} finns men varför tar det så lång tid?",
        "Jag fick ett svar, men inte på min fråga.", "Lovade att ringa tillbaka {weekday}, vi får se.",
        "E-tjänsten gick att använda till slut, efter {tries} försök.",
        "Okej service, men svårt att nå {department}.", "Vet inte riktigt om beslutet om {service} stämmer.",
        "Hoppas att det fungerar bättre nästa gång.",
        "Kön var {minutes} minuter men {title} var hjälpsam när jag väl kom fram.",
        "Det blev rätt till slut, efter {tries} samtal.",
    ],
    "negative": [
        "Jag har väntat i {weeks} veckor på beslut om {service}.",
        "Ingen svarar i telefon, jag ringde {tries} gånger i {weekday}s.",
        "E-tjänsten för {service} kraschade tre gånger.", "{Title} var otrevlig och lyssnade inte.",
        "Det tog {minutes} minuter i kön innan någon svarade.", "Ingen har hört av sig sedan i {month}.",
        "Fakturan var fel igen, {amount} kronor för mycket.", "Helt oacceptabelt hur {department} sköter det här.",
        "Jag skickade in allt i {month} och har fortfarande inget svar.",
        "Ni har tappat bort mina papper två gånger.",
        "{Title} hänvisade mig till {department} som hänvisade tillbaka.", "Värdelöst bemötande.",
        "BankID-inloggningen fungerar inte i appen sedan {weekday}.",
        "Varför ska det ta {weeks} veckor att få {service}?", "Chatten stängde efter {minutes} minuter utan svar.",
        "Det här är fjärde gången jag hör av mig om {service}.",
    ],
}
DETAILS = [
    "Jag ringde {weekday} kl {hour}.{minute:02d}.", "Det gäller ärende {case}.", "Vi bor i {place} sedan {year}.",
    "Det var den {day} {month}.", "Jag har {kids} barn som berörs.", "Min mamma är {age} år.",
    "Jag har väntat {weeks} veckor.", "Jag har ringt {tries} gånger.", "Avgiften är {amount} kronor.",
    "Det gäller {service}.", "Jag har pratat med {department} om det.", "Senast jag hörde av mig var i {month}.",
]
PERSONAL = ("namn", "telefon", "e-post", "personnummer", "adress")
PERSONAL_WEIGHTS = (40, 25, 15, 12, 8)

# --- file layouts: one per municipality and year (round robin) --------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How one export looks: suffix, CSV separator and encoding, and its column names."""

    suffix: str
    id: str | None
    date: str
    channel: str
    text: str
    extra: tuple[str, ...]  # metadata columns, from: handläggare, ärendetyp, kön, samtalstid_min, enhet
    sep: str = ","
    encoding: str = "utf-8"


LAYOUTS = [
    Layout(".csv", "ärendenummer", "datum", "kanal", "kommentar", ("ärendetyp", "handläggare")),
    Layout(".csv", "Ärendenummer", "Kontaktdatum", "Kanal", "Synpunkt", ("Enhet", "Kön"), sep=";",
           encoding="utf-8-sig"),
    Layout(".xlsx", "id", "datum", "kanal", "fritext", ("kategori", "samtalstid_min")),
    Layout(".jsonl", "id", "date", "channel", "text", ("handläggare", "kön")),
    Layout(".csv", None, "inkommen", "kontaktväg", "synpunkt", ("enhet",)),
]
CHANNEL_SPELLINGS = {"telefon": ["telefon", "Telefon", "tel"], "e-post": ["e-post", "mejl", "E-post"],
                     "chatt": ["chatt", "Chatt", "webbchatt"], "besök": ["besök", "Besök", "reception"]}
CHANNEL_WEIGHTS = {"telefon": 45, "e-post": 25, "chatt": 20, "besök": 10}


@dataclass
class Submission:
    """One file as a municipality sends it: its rows in `frame`, columns named by `layout`."""

    municipality: str
    year: int
    name: str
    layout: Layout
    frame: pd.DataFrame


# --- text generation --------------------------------------------------------------------------------------------


class _Writer:
    """Builds comment texts for a seed: the project's comments by sentiment, Faker's names, the templates here."""

    def __init__(self, seed: int):
        from synpunkt.data import load_in_domain

        self.rng = random.Random(seed)
        self.people = pdc._People(seed)
        pool = load_in_domain()
        pool = pool[pool.text.str.strip().str.len() > 0]
        self.pool = {s: pool[pool.sentiment == s]["text"].tolist() for s in SENTIMENTS}

    def slots(self) -> dict:
        rng = self.rng
        first, last, _ = self.people.name(rng)
        title = rng.choice(TITLES)
        return {"service": rng.choice(SERVICES), "title": title, "Title": title[0].upper() + title[1:],
                "department": rng.choice(DEPARTMENTS), "weekday": rng.choice(WEEKDAYS), "month": rng.choice(MONTHS),
                "days": rng.randint(1, 14), "weeks": rng.randint(2, 30), "minutes": rng.randint(5, 95),
                "tries": rng.randint(2, 9), "hour": rng.randint(7, 18), "minute": rng.choice((0, 5, 15, 30, 45, 50)),
                "case": f"{rng.randint(2019, 2025)}-{rng.randint(100, 99999)}", "place": rng.choice(vocab.PLACES),
                "year": rng.randint(1975, 2024), "day": rng.randint(1, 28), "kids": rng.randint(1, 5),
                "age": rng.randint(67, 98), "amount": rng.randint(2, 400) * 25, "first": first, "last": last}

    def personal(self, kind: str) -> str:
        """A sentence carrying one piece of made-up personal data of `kind`."""
        rng = self.rng
        if kind == "namn":
            first, last, _ = self.people.name(rng)
            name = f"{first} {last}" if rng.random() < 0.6 else first
            return rng.choice(vocab.NAME_CONTEXTS).format(title=rng.choice(vocab.TITLES), name=name,
                                                          name2=self.people.name(rng)[0])
        if kind == "telefon":
            return rng.choice(vocab.CONTACT_WORDS["telefon"]).format(pdc.phone(rng)[0]) + "."
        if kind == "e-post":
            first, last, _ = self.people.name(rng)
            return rng.choice(vocab.CONTACT_WORDS["e-post"]).format(pdc.email(rng, first, last)[0])
        if kind == "personnummer":
            return rng.choice(vocab.PNR_CONTEXTS).format(pdc.personnummer(rng)[0]) + "."
        return rng.choice(vocab.CONTACT_WORDS["adress"]).format(self.people.street(rng)) + "."

    def fill_placeholders(self, text: str) -> str:
        rng = self.rng
        for placeholder, make in (("[NAMN]", lambda: " ".join(self.people.name(rng)[:2])),
                                  ("[TELEFON]", lambda: pdc.phone(rng)[0]),
                                  ("[PERSONNUMMER]", lambda: pdc.personnummer(rng)[0]),
                                  ("[E-POST]", lambda: pdc.email(rng, *self.people.name(rng)[:2])[0]),
                                  ("[ADRESS]", lambda: self.people.street(rng))):
            while placeholder in text:
                text = text.replace(placeholder, make(), 1)
        return text

    def templated(self, sentiment: str, k: int) -> list[str]:
        s = self.slots()
        return [t.format(**s) for t in self.rng.sample(TEMPLATES[sentiment], k)]

    def comment(self, sentiment: str) -> str:
        """One comment of roughly this sentiment: 1-8 sentences, personal data in about a quarter of them."""
        rng = self.rng
        parts: list[str] = []
        if rng.random() < 0.55:  # around one of the project's comments
            parts.append(self.fill_placeholders(rng.choice(self.pool[sentiment])))
            if rng.random() < 0.25:
                parts.append(self.fill_placeholders(rng.choice(self.pool[sentiment])))
            if rng.random() < 0.8:
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(DETAILS).format(**self.slots()))
        else:  # from the templates written here
            parts.extend(self.templated(sentiment, rng.choice((1, 1, 2, 2, 3))))
            if rng.random() < 0.6:
                parts.append(rng.choice(DETAILS).format(**self.slots()))
        if rng.random() < 0.07:  # a long one
            parts.extend(self.templated(sentiment, 2) + [rng.choice(DETAILS).format(**self.slots())])
        if rng.random() < 0.18:
            parts.insert(0, rng.choice(OPENERS).format(**self.slots()))
        if rng.random() < 0.25:
            kind = rng.choices(PERSONAL, PERSONAL_WEIGHTS)[0]
            parts.insert(rng.randint(1, len(parts)), self.personal(kind))
        if rng.random() < 0.14:
            parts.append(rng.choice(CLOSINGS).format(**self.slots()))
        text = rng.choice((" ", " ", " ", "\n")).join(parts)
        if rng.random() < 0.06:
            text = text.lower()
        return text


# --- files ------------------------------------------------------------------------------------------------------


def pick_municipalities(k: int, rng: random.Random) -> list[str]:
    """`k` real SCB codes from the project's table: the four largest cities first, then a seeded sample."""
    from synpunkt.municipalities import load_municipalities

    codes = load_municipalities()["code"].tolist()
    rest = [c for c in codes if c not in ALWAYS]
    return list(ALWAYS[:k]) + rng.sample(rest, max(0, k - len(ALWAYS)))


def _sentiment_mix(rng: random.Random) -> list[float]:
    positive = rng.uniform(0.3, 0.65)
    skeptical = rng.uniform(0.1, 0.25)
    return [positive, skeptical, max(0.05, 1 - positive - skeptical)]


def _extra(column: str, writer: _Writer, channel: str) -> str:
    rng = writer.rng
    key = column.lower()
    if key == "handläggare":  # a name in most rows: personal data in a metadata column
        if rng.random() < 0.7:
            first, last, _ = writer.people.name(rng)
            return f"{first} {last}" if rng.random() < 0.7 else f"{last}, {first}"
        return ""
    if key in ("ärendetyp", "kategori"):
        return rng.choice(vocab.METADATA_OTHER["kategori"] + ["Bygglov", "Hemtjänst", "Skola", "Avfall"])
    if key == "kön":
        return rng.choice(("kvinna", "man", "kvinna", "man", "okänt"))
    if key == "samtalstid_min":
        return f"{rng.lognormvariate(1.6, 0.5):.1f}" if channel == "telefon" else ""
    return rng.choice(vocab.METADATA_OTHER["enhet"])


def _rows(writer: _Writer, layout: Layout, code: str, year: int, n: int, start: int) -> pd.DataFrame:
    rng = writer.rng
    mix = _sentiment_mix(rng)
    today = date.today()
    last_day = min(date(year, 12, 31), today - timedelta(days=1))
    span = (last_day - date(year, 1, 1)).days + 1
    records = []
    for i in range(n):
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        day = date(year, 1, 1) + timedelta(days=rng.randrange(span))
        row = {}
        if layout.id:
            row[layout.id] = f"{code}-{year}-{start + i + 1:06d}" if rng.random() < 0.9 else ""
        row[layout.date] = f"{day:%d.%m.%Y}" if layout.sep == ";" else day.isoformat()  # Excel's Swedish CSV: day first
        row[layout.channel] = rng.choice(CHANNEL_SPELLINGS[channel])
        row[layout.text] = writer.comment(rng.choices(SENTIMENTS, mix)[0])
        for column in layout.extra:
            row[column] = _extra(column, writer, channel)
        records.append(row)
    return pd.DataFrame(records)


def municipality_count(n: int, years: int = 3, rows_per_file: int = ROWS_PER_FILE) -> int:
    """How many municipalities `n` comments come from when each sends about `rows_per_file` rows a year (2-290)."""
    return max(2, min(290, round(n / (years * rows_per_file))))


def generate_submissions(n: int, seed: int = 0, municipalities: int | None = None, years: int = 3,
                         rows_per_file: int = ROWS_PER_FILE) -> list[Submission]:
    """`n` comments over the last `years` full years, from `municipalities` municipalities (default: as many as
    keep the files near `rows_per_file` rows), one file per municipality and year (split in parts of at most
    MAX_ROWS_PER_FILE rows), sizes varying by municipality."""
    writer = _Writer(seed)
    rng = writer.rng
    codes = pick_municipalities(municipalities or municipality_count(n, years, rows_per_file), rng)
    last = date.today().year - 1
    cells = [(code, year) for code in codes for year in range(last - years + 1, last + 1)]
    weights = [rng.lognormvariate(0, 0.6) for _ in cells]
    counts = [int(n * w / sum(weights)) for w in weights]
    for k in range(n - sum(counts)):
        counts[k % len(counts)] += 1
    subs = []
    for cell, ((code, year), count) in enumerate(zip(cells, counts)):
        layout = LAYOUTS[cell % len(LAYOUTS)]  # export systems differ between municipalities and change over years
        parts = max(1, -(-count // MAX_ROWS_PER_FILE))
        for part in range(parts):
            size = count // parts + (part < count % parts)
            if size == 0:
                continue
            frame = _rows(writer, layout, code, year, size, start=part * (count // parts + 1))
            suffix = f"_del{part + 1}" if parts > 1 else ""
            subs.append(Submission(code, year, f"synpunkter_{code}_{year}{suffix}{layout.suffix}", layout, frame))
    return subs


def write_submission(sub: Submission, path: Path) -> Path:
    """Write the file in its layout's format (CSV with the layout's separator and encoding, XLSX or JSONL)."""
    layout = sub.layout
    if layout.suffix == ".xlsx":
        sub.frame.to_excel(path, index=False)
    elif layout.suffix == ".jsonl":
        sub.frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        sub.frame.to_csv(path, index=False, sep=layout.sep, encoding=layout.encoding)
    return path


def write_inbox(subs: list[Submission], inbox: Path) -> list[Path]:
    """Drop every file into inbox/<kod>/ as a municipality would."""
    paths = []
    for sub in subs:
        folder = inbox / sub.municipality
        folder.mkdir(parents=True, exist_ok=True)
        paths.append(write_submission(sub, folder / sub.name))
    return paths


def texts(subs: list[Submission]) -> list[str]:
    """Every comment text of the submissions, in order."""
    return [t for s in subs for t in s.frame[s.layout.text].tolist()]

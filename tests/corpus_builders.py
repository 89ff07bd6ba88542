"""Builders for the malformed-file corpus (tests/malformed_corpus.py): comment texts, dates, and writers for
delimited text, workbooks, Parquet and JSONL, plus the Corpus collector and the manifest's outcome helpers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
import json
from datetime import date, timedelta

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

MAX_ROWS_PER_BATCH = 500
"""The row limit the harness sets (SYNPUNKT_MAX_ROWS_PER_BATCH) while ingesting the corpus."""

PNR = "19850312-2395"  # Luhn-valid, so the redactor must catch it
SENTINELS = (PNR, "198503122395", "850312-2395", "Karin Lund", "Anna Berg")
"""Personal data planted in the corpus; none of it may reach the warehouse."""

ANY = "ANY"
"""A reason-code pattern meaning: any specific (non-generic) reason code."""

DUPLICATE = r"duplicate\w*"
MALFORMED = ANY  # the reader's code for a malformed row is its own choice, as long as it is specific

TEXTS = (
    "Handläggaren var trevlig och hjälpsam.",
    "Jag väntade en timme i telefonkön.",
    "E-tjänsten för bygglov krånglade hela kvällen.",
    "Snöröjningen på vår gata fungerar inte.",
    "Tack för snabb hjälp med fakturan!",
    "Bemötandet var dåligt och ingen ringde tillbaka.",
    "Vi får väl se om det blir gjort den här gången.",
    "Förskolan är fantastisk men kön var lång.",
    "Äntligen någon som lyssnar på oss äldre.",
    "Öppettiderna på återvinningscentralen är för korta.",
    "Det tog tre veckor att få svar på mitt mejl.",
    "Chatten fungerade smidigt och jag fick svar direkt.",
    "Bibliotekets personal är alltid vänlig.",
    "Hemtjänsten kommer ofta för sent.",
    "Hemsidan är rörig och svår att hitta i.",
    "Bra service i receptionen, tack så mycket.",
    "Gatlyktorna på cykelvägen har varit släckta i en månad.",
    "Jag fick olika besked av två olika handläggare.",
    "Skolmaten har blivit mycket bättre i år.",
    "Parkeringsavgiften är orimligt hög.",
    "Bygglovet gick snabbare än jag trodde.",
    "Ingen återkoppling trots tre samtal.",
    "Simhallen är ren och fräsch efter renoveringen.",
    "Kön till äldreboendet är alldeles för lång.",
    "Trevligt bemötande men ärendet är fortfarande inte löst.",
    "Svårt att förstå beslutet, det borde förklaras bättre.",
    "Sophämtningen missade vår tunna igen.",
    "Mycket bra information om vattenavstängningen.",
    "Det är omöjligt att komma fram på telefon före lunch.",
    "Personalen på fritidsgården gör ett fantastiskt jobb.",
    "Blanketten på webben gick inte att skicka in.",
    "Jag blev kopplad runt mellan fyra olika avdelningar.",
    "Lekplatsen i parken behöver rustas upp.",
    "Fick en tydlig förklaring av reglerna, tack!",
    "Busshållplatsen saknar tak och bänkar.",
    "Ärendet handlades snabbt och korrekt.",
)

CP850_TEXTS = (
    "Äntligen någon som lyssnar på oss äldre.",
    "Öppettiderna på återvinningscentralen är för korta.",
    "Väntetiden i kön är för lång, över en timme på måndagar.",
    "Jättebra bemötande från receptionen på Åby bibliotek.",
    "Förskolans pedagoger är fantastiska, ÅÄÖ åäö é ü.",
)

CP1252_TEXTS = (
    "Avgiften höjdes med 200 € utan förvarning – varför?",
    "Handläggaren sa ”vi återkommer” men ingen hörde av sig…",
    "Bra att man kan boka tid på nätet, det är smidigt.",
    "Fakturan på 1 250 kr stämmer inte – jag har redan betalat.",
)

EMOJI_TEXTS = (
    "Toppen 👍🏽 tack för hjälpen!",
    "😡 Ingen svarade på tre dagar.",
    "Min dotter 👩‍💻 fick hjälp med e-tjänsten direkt.",
    "ÅÄÖ åäö fungerar äntligen i formuläret ✅",
    "Väntetid 45 min ⏳ – alldeles för länge.",
)


# -- small builders ------------------------------------------------------------------------------------------


def day(i: int, start: date = date(2025, 1, 7)) -> date:
    """A distinct day per row index (weekly steps), so that a swapped or shifted date is noticed."""
    return start + timedelta(days=7 * i + i % 5)


def excel_serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days


def pick(n: int, offset: int) -> list[str]:
    return [TEXTS[(offset + i) % len(TEXTS)] for i in range(n)]


def delimited(header: list[str] | None, rows: list[list[str]], sep: str = ",", eol: str = "\n",
              quote_all: bool = False, trailing_sep: bool = False, preamble: str = "") -> str:
    """Delimited text as csv.writer writes it (fields with separators, quotes or newlines quoted)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=eol,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for row in ([header] if header else []) + rows:
        writer.writerow(list(row) + ([""] if trailing_sep else []))
    return preamble + buf.getvalue()


def xlsx(sheets: dict[str, list[list]], merged: dict[str, str] | None = None) -> bytes:
    """A workbook with one sheet per entry (rows of Python values: str, int, float, datetime); `merged`: sheet ->
    a range of cells merged in it ("A1:B1")."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if merged and title in merged:
            sheet.merge_cells(merged[title])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def workbook(path: Path, sheets: dict[str, list[list]], merged: dict[str, str] | None = None) -> Path:
    """`xlsx` written to `path`."""
    path.write_bytes(xlsx(sheets, merged))
    return path


def parquet(columns: dict[str, pa.Array | list]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def jsonl(objects: list) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)


def ingested(stored: list[tuple[int, str, date]], quarantined: list[tuple[int, str]] = (),
             row_numbers: bool = True) -> dict:
    return {"status": "ingested", "stored": [[r, t, d.isoformat()] for r, t, d in stored],
            "quarantined": [[r, c] for r, c in quarantined], "row_numbers": row_numbers}


def failed(error: str) -> dict:
    return {"status": "failed", "error": error}


def std_rows(n: int, offset: int, start: date = date(2025, 1, 7), id_prefix: str = "",
             date_format=date.isoformat) -> tuple[list[list[str]], list[tuple[int, str, date]]]:
    """n rows of id, datum, kanal, kommentar and the rows the ingest must store from them."""
    texts = pick(n, offset)
    days = [day(i, start) for i in range(n)]
    channels = ("telefon", "e-post", "chatt", "besök")
    rows = [[f"{id_prefix}{i + 1}", date_format(d), channels[i % 4], t] for i, (t, d) in enumerate(zip(texts, days))]
    return rows, [(i + 1, t, d) for i, (t, d) in enumerate(zip(texts, days))]


STD_HEADER = ["id", "datum", "kanal", "kommentar"]


class Corpus:
    """Collects cases: file bytes plus expected outcomes; each case gets the next municipality code."""

    def __init__(self, codes: list[str]):
        self.cases: list[dict] = []
        self.data: dict[str, bytes] = {}
        self._codes = iter(codes)

    def next_code(self) -> str:
        return next(self._codes)

    def add(self, file: str, data: bytes, expect: dict | list[dict], note: str, code: str | None = None,
            name: str | None = None, forbidden: list[str] = ()) -> str:
        file = f"{len(self.cases) + 1:02d}_{file}"
        assert file not in self.data
        self.data[file] = data
        self.cases.append({"file": file, "name": name or file, "code": code or self.next_code(), "note": note,
                           "expect": expect if isinstance(expect, list) else [expect],
                           "forbidden": list(forbidden)})
        return file


def municipality_codes() -> list[str]:
    """Every municipality code of the reference table (so that each case can have its own)."""
    from synpunkt.municipalities import load_municipalities

    return sorted(load_municipalities()["code"])

"""A generated corpus of awkward and malformed submission files, each with the outcome the ingest must give.

Nothing here is committed as a binary: every file is built from code. ``build_corpus(outdir)`` writes the files
and ``manifest.json`` and returns the manifest; ``python tests/malformed_corpus.py OUTDIR`` does the same from a
shell, so the files can be inspected. tests/test_malformed_corpus.py lands every file through the real landing
and ingest path and checks the outcomes.

Manifest, one entry per file (``cases``, in the order they are landed and ingested):

``file`` the file's name in OUTDIR; ``name`` the name it is submitted under (may differ, e.g. one holding personal
data); ``code`` the municipality; ``note`` what the case is about; ``expect`` a list of acceptable outcomes (the
first is the preferred one; a case passes when any matches), each one of

* ``{"status": "ingested", "stored": [[row, text, "YYYY-MM-DD"], ...], "quarantined": [[row, code_regex], ...],
  "row_numbers": bool}``: the rows stored (text exactly as written, date as it must be stored) and the rows
  quarantined (reason code as a regex, full match; ``ANY`` = any specific code). ``row_numbers`` false where the
  1-based data-row numbering is open to interpretation (blank lines, title rows, several sheets): rows are then
  matched by text only.
* ``{"status": "failed", "error": regex}``: a failed batch whose reason matches (searched, case-insensitive).
* ``{"status": "refused", "error": regex}``: ``land_bytes`` refuses the file with a ValueError that matches.
* ``{"status": "duplicate_of", "file": other}``: landing returns the other file's batch (same bytes).

``forbidden`` lists cell values that must not appear in any error or reason of that batch. Texts are written
without personal data, so that redaction leaves them unchanged, except in the cases about personal data, whose
expected texts are the redacted ones. Every file has its own municipality unless a case needs two files of one
(ids restarting in a new year, re-sent rows, a re-sent file), so that no two cases interact by accident.
"""

from __future__ import annotations

import codecs
import io
import json
import random
import sys
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from corpus_builders import (ANY, CP850_TEXTS, CP1252_TEXTS, DUPLICATE, EMOJI_TEXTS, MALFORMED, MAX_ROWS_PER_BATCH,
                             PNR, SENTINELS, STD_HEADER, TEXTS, Corpus, day, delimited, excel_serial, failed,
                             ingested, jsonl, municipality_codes, parquet, pick, std_rows, xlsx)

__all__ = ["ANY", "MAX_ROWS_PER_BATCH", "SENTINELS", "build_corpus"]

# -- the cases ------------------------------------------------------------------------------------------------


def formats_and_encodings(c: Corpus) -> None:
    rows, stored = std_rows(4, 0)
    rows[1][3] = 'Bra, men "långsamt" svar.'
    stored[1] = (2, rows[1][3], stored[1][2])
    c.add("csv_comma_lf_utf8.csv", delimited(STD_HEADER, rows).encode(), ingested(stored),
          "comma, LF, UTF-8 without BOM; a quoted field with a comma and doubled quotes")

    rows, stored = std_rows(4, 4)
    c.add("csv_comma_crlf_bom.csv", codecs.BOM_UTF8 + delimited(STD_HEADER, rows, eol="\r\n").encode(),
          ingested(stored), "comma, CRLF, UTF-8 with BOM")

    texts = list(CP1252_TEXTS)
    rows = [[str(i + 1), day(i).isoformat(), "telefon", t] for i, t in enumerate(texts)]
    c.add("csv_semicolon_cp1252_crlf.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n").encode("cp1252"),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "Excel's Swedish CSV: semicolon, CRLF, Windows-1252 with €, en dash, curly quotes and an ellipsis")

    rows, stored = std_rows(4, 8)
    c.add("csv_tab.csv", delimited(STD_HEADER, rows, sep="\t").encode(), ingested(stored), "tab-separated .csv")

    rows, stored = std_rows(4, 12)
    c.add("csv_pipe.csv", delimited(STD_HEADER, rows, sep="|").encode(), ingested(stored), "pipe-separated .csv")

    rows, stored = std_rows(4, 16)
    c.add("plain.tsv", delimited(STD_HEADER, rows, sep="\t").encode(), ingested(stored), ".tsv")

    rows, stored = std_rows(4, 20)
    c.add("semicolon.txt", delimited(STD_HEADER, rows, sep=";").encode(), ingested(stored), ".txt with semicolons")

    rows, stored = std_rows(4, 24)
    c.add("excel_unicode_text_utf16le_bom.txt",
          codecs.BOM_UTF16_LE + delimited(STD_HEADER, rows, sep="\t", eol="\r\n").encode("utf-16-le"),
          ingested(stored), "Excel's 'Unicode text': UTF-16 LE with BOM, tab, CRLF")

    rows, stored = std_rows(4, 28)
    c.add("utf16le_no_bom.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n").encode("utf-16-le"),
          ingested(stored), "UTF-16 LE without BOM")

    rows, stored = std_rows(4, 32)
    c.add("utf16be_bom.csv", codecs.BOM_UTF16_BE + delimited(STD_HEADER, rows, sep=";").encode("utf-16-be"),
          ingested(stored), "UTF-16 BE with BOM")

    rows, stored = std_rows(4, 2)
    c.add("utf16be_no_bom.tsv", delimited(STD_HEADER, rows, sep="\t").encode("utf-16-be"),
          ingested(stored), "UTF-16 BE without BOM")

    rows, stored = std_rows(4, 6)
    c.add("cr_line_ends.csv", delimited(STD_HEADER, rows, sep=";", eol="\r").encode(), ingested(stored),
          "old Mac line ends (CR only)")

    texts = list(CP850_TEXTS)
    rows = [[str(i + 1), day(i).isoformat(), "besök", t] for i, t in enumerate(texts)]
    c.add("dos_cp850.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n").encode("cp850"),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "DOS code page 850 export (issue: stored as 'Žntligen n†gon')")

    texts = list(CP850_TEXTS[:2]) + list(CP1252_TEXTS[2:4]) + [CP850_TEXTS[2]]
    lines = [",".join(STD_HEADER).encode()]
    for i, t in enumerate(texts):
        line = ",".join([str(i + 1), day(i).isoformat(), "chatt", f'"{t}"'])
        lines.append(line.encode("utf-8" if i % 2 == 0 else "cp1252"))
    c.add("mixed_utf8_latin1_lines.csv", b"\n".join(lines) + b"\n",
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "UTF-8 and Windows-1252 lines in one file (issue: stored as 'Ã„ntligen')")

    rows, stored = std_rows(4, 10)
    stray = "Bra kaffe i caf\x00et vid stationen."  # \x00 marks where the one Windows-1252 byte goes
    rows[2][3] = stray
    stored[2] = (3, stray.replace("\x00", "é"), stored[2][2])
    raw = delimited(STD_HEADER, rows).encode().replace(b"\x00", "é".encode("cp1252"))
    c.add("one_stray_latin1_byte.csv", raw, ingested(stored),
          "a UTF-8 file with one stray Windows-1252 byte (ä) in one row")

    rows, stored = std_rows(5, 14)
    rows[2][3] = "Trasig rad \x01 här"
    raw = delimited(STD_HEADER, rows).encode().replace(b"\x01", b"\x81\x8d\x8f\x90\x9d")
    c.add("undecodable_line.csv", raw, ingested(stored[:2] + stored[3:], [(3, "undecodable_text")]),
          "one line with bytes that are neither UTF-8 nor Windows-1252: that row quarantined, the rest stored")

    texts = list(EMOJI_TEXTS)
    rows = [[str(i + 1), day(i).isoformat(), "chatt", t] for i, t in enumerate(texts)]
    c.add("emoji_and_aao.csv", delimited(STD_HEADER, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "emoji (skin tone, ZWJ sequence), ÅÄÖ, en dash")

    rows, stored = std_rows(4, 18)
    multiline = ["Första stycket.\nAndra stycket efter radbrytning.", rows[1][3],
                 "Tre rader:\n- väntetid\n- bemötande", "Tomt stycke emellan.\n\nSlut."]
    for i, t in enumerate(multiline):
        rows[i][3] = t
        stored[i] = (i + 1, t, stored[i][2])
    c.add("excel_multiline_cells_crlf.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n").encode(),
          ingested(stored), "Excel style: LF inside quoted cells, CRLF between records, a blank line in a cell")

    rows, stored = std_rows(4, 22)
    rows[0][3] = 'Han sa "vi ringer", men\nsen hände inget, alls.'
    rows[3][3] = "Två rader,\nmed komma och ; semikolon."
    stored[0] = (1, rows[0][3], stored[0][2])
    stored[3] = (4, rows[3][3], stored[3][2])
    c.add("quoted_newlines_lf.csv", delimited(STD_HEADER, rows).encode(), ingested(stored),
          "LF inside quoted fields with commas and doubled quotes")

    rows, stored = std_rows(4, 26)
    c.add("quote_all_crlf.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n", quote_all=True).encode(),
          ingested(stored), "every field quoted, semicolon, CRLF")

    texts = ["Bra, snabbt, trevligt, tack.", "Långsamt, krångligt, dyrt, och ingen svarade.", TEXTS[0],
             "Ja, nej, kanske, vi får se."]
    rows = [[str(i + 1), day(i).isoformat(), "telefon", t] for i, t in enumerate(texts)]
    c.add("semicolons_commas_in_text.csv", delimited(STD_HEADER, rows, sep=";").encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "semicolon-separated, more (unquoted) commas than semicolons in the comments")

    rows, stored = std_rows(5, 9)
    lines = delimited(STD_HEADER, rows).split("\n")[:-1]
    text = "".join(line + ("\r\n" if k % 2 else "\n") for k, line in enumerate(lines))
    c.add("mixed_line_ends.csv", text.encode(), ingested(stored), "CRLF and LF line ends mixed in one file")


def awkward_layouts(c: Corpus) -> None:
    rows, stored = std_rows(4, 30)
    c.add("trailing_separators.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n", trailing_sep=True).encode(),
          ingested(stored), "a trailing separator on the header and every row (an empty extra column)")

    rows, stored = std_rows(4, 34)
    text = delimited(STD_HEADER, rows)
    lines = text.split("\n")
    text = "\n".join([lines[0]] + [line + "," for line in lines[1:-1]] + [""])
    c.add("trailing_separator_rows_only.csv", text.encode(), ingested(stored),
          "a trailing separator on data rows but not on the header")

    rows, stored = std_rows(4, 1)
    text = delimited(STD_HEADER, rows)
    lines = text.split("\n")
    text = "\n".join([lines[0], lines[1], "", lines[2], "", "", lines[3], lines[4], "", "", ""])
    c.add("blank_lines.csv", text.encode(), ingested(stored, row_numbers=False),
          "blank lines between rows and at the end (not rows)")

    rows, stored = std_rows(4, 5)
    preamble = "Synpunkter kontaktcenter 2025;;;\r\nExporterad 2025-04-01;;;\r\n;;;\r\n"
    c.add("title_rows_above_header.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n", preamble=preamble)
          .encode("cp1252"), ingested(stored, row_numbers=False),
          "two title rows and an empty row above the header (issue: rejected the whole batch)")

    rows, stored = std_rows(4, 9)
    c.add("excel_sep_line.csv", delimited(STD_HEADER, rows, sep=";", eol="\r\n", preamble="sep=;\r\n")
          .encode("cp1252"), ingested(stored, row_numbers=False),
          "Excel's 'sep=;' first line (issue: rejected the whole batch)")

    texts = pick(4, 13)
    header = ["Kommentar", "Kanal", "Handläggarens enhet", "Datum", "Ärendenummer"]
    rows = [[t, "Telefon", "Bygglov", day(i).isoformat(), f"Ä-{100 + i}"] for i, t in enumerate(texts)]
    c.add("odd_order_swedish_headers.csv", delimited(header, rows, sep=";").encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "columns in odd order with Swedish, capitalised names (Kommentar, Kanal, Datum, Ärendenummer)")

    texts = pick(4, 17)
    header = ["Ärendenummer", "Kontaktdatum", "Kön", "Ålder", "Samtalstid (min)", "Synpunkt", "Kanal", "Enhet"]
    rows = [[str(700 + i), day(i).isoformat(), "kvinna" if i % 2 else "man", str(30 + i), str(4 + i), t,
             "e-post", "Socialtjänsten"] for i, t in enumerate(texts)]
    c.add("extra_metadata_columns.csv", delimited(header, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "extra metadata columns (Kön, Ålder, Samtalstid, Enhet), Synpunkt and Kontaktdatum")

    texts = pick(4, 21)
    header = [" ID ", "Datum ", " KOMMENTAR ", "kanal"]
    rows = [[str(i + 1), day(i).isoformat(), t, "chatt"] for i, t in enumerate(texts)]
    c.add("header_case_and_spaces.csv", delimited(header, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]), "header names in upper case with spaces")

    texts = pick(4, 25)
    header = ["id", "datum", "kommentar", "kommentar "]
    rows = [[str(i + 1), day(i).isoformat(), t, "intern notering"] for i, t in enumerate(texts)]
    c.add("kommentar_twice_trailing_space.csv", delimited(header, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "'kommentar,kommentar ' (issue: the second column was stored): the first column is the comment")

    texts = ["=) Bra service i växeln.", "+1 på förra kommentaren om snöröjningen.",
             "-Inget att tillägga, allt fungerade.", "@kommunen svara gärna på mejl.",
             "=SUMMA(A1:A3) syns i blanketten, trasigt."]
    rows = [[str(i + 1), day(i).isoformat(), "e-post", t] for i, t in enumerate(texts)]
    c.add("formula_like_texts.csv", delimited(STD_HEADER, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "comments starting with = + - @ are stored as written")

    texts = ["Väntetid\u00a030\u00a0min i kön.", "«Vi återkommer» sa de – men inget hände…",
             "Pris: 1\u202f250 kr, för dyrt.", "Tab\ti texten och ’apostrofer’."]
    rows = [[str(i + 1), day(i).isoformat(), "telefon", t] for i, t in enumerate(texts)]
    c.add("unicode_punctuation.csv", delimited(STD_HEADER, rows, sep=";").encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "no-break spaces, narrow no-break space, guillemets, a tab inside a quoted field")

    rows, stored = std_rows(4, 29)
    channels = ["Telefon", "mejl", "webbchatt", "okänd kanal"]
    for r, ch in zip(rows, channels):
        r[2] = ch
    c.add("channel_variants.csv", delimited(STD_HEADER, rows).encode(), ingested(stored),
          "channel spellings, one unknown (kept as metadata, not rejected)")


def malformed_rows(c: Corpus) -> None:
    rows, stored = std_rows(6, 3)
    text = delimited(STD_HEADER, rows)
    lines = text.split("\n")
    lines[3] = f"3,{day(2).isoformat()},telefon,Bra bemötande, men lång väntan, igen"  # unquoted commas
    c.add("malformed_row_extra_fields.csv", "\n".join(lines).encode(),
          ingested(stored[:2] + stored[3:], [(3, MALFORMED)]),
          "one row with unquoted commas (too many fields): that row quarantined, the others stored")

    rows, stored = std_rows(6, 7)
    text = delimited(STD_HEADER, rows)
    lines = text.split("\n")
    lines[2] = f'2,{day(1).isoformat()},telefon,"Citatet tar aldrig slut'
    c.add("unclosed_quote.csv", "\n".join(lines).encode(),
          ingested(stored[:1] + stored[2:], [(2, MALFORMED)]),
          "an unclosed quote in row 2 (issue: it swallowed the next four rows into one comment)")

    rows, stored = std_rows(5, 11)
    text = delimited(STD_HEADER, rows)
    lines = text.split("\n")
    lines[4] = f"4,{day(3).isoformat()}"
    c.add("short_row.csv", "\n".join(lines).encode(), ingested(stored[:3] + stored[4:], [(4, ANY)]),
          "a row with too few fields (no comment): quarantined with a reason, the others stored")

    rows, stored = std_rows(4, 15)
    rows[1][3] = "Bra\x00 service i kundtjänsten."
    others = stored[:1] + stored[2:]
    d = stored[1][2]
    c.add("nul_byte_in_cell.csv", delimited(STD_HEADER, rows).encode(), [
        ingested(others + [(2, "Bra service i kundtjänsten.", d)]),
        ingested(others + [(2, "Bra\x00 service i kundtjänsten.", d)]),
        ingested(others, [(2, ANY)]),
    ], "a NUL byte inside a comment: stored without it (or with it), or that row quarantined; the rest stored")

    rows, stored = std_rows(4, 19)
    c.add("nul_padding_at_end.csv", delimited(STD_HEADER, rows).encode() + b"\x00" * 32, [
        ingested(stored), ingested(stored, [(5, ANY)]),
    ], "NUL padding after the last line (some exports do this); must not be taken for UTF-16")

    objects = [{"id": i + 1, "datum": day(i).isoformat(), "kanal": "chatt", "kommentar": t}
               for i, t in enumerate(pick(6, 23))]
    lines = jsonl(objects).split("\n")
    lines[2] = lines[2][: len(lines[2]) // 2]  # truncated object
    lines[4] = json.dumps([5, day(4).isoformat(), "chatt", "en lista, inte ett objekt"], ensure_ascii=False)
    stored = [(i + 1, o["kommentar"], day(i)) for i, o in enumerate(objects) if i not in (2, 4)]
    c.add("jsonl_bad_lines.jsonl", "\n".join(lines).encode(), ingested(stored, [(3, ANY), (5, ANY)]),
          "JSONL with one truncated line and one array line (issue: one bad line rejected the whole batch)")

    items: list = [{"id": i + 1, "datum": day(i).isoformat(), "kommentar": t} for i, t in enumerate(pick(5, 27))]
    items[1] = "bara en sträng"
    items[3] = 42
    stored = [(i + 1, o["kommentar"], day(i)) for i, o in enumerate(items) if isinstance(o, dict)]
    c.add("json_non_object_items.json", json.dumps(items, ensure_ascii=False).encode(),
          ingested(stored, [(2, ANY), (4, ANY)]), "a JSON list with a string and a number among the objects")

    rows, stored = std_rows(4, 31)
    long_ok = " ".join(TEXTS[i % len(TEXTS)] for i in range(140))[:5000].rstrip()
    long_bad = " ".join(TEXTS[i % len(TEXTS)] for i in range(700))[:25_000]
    rows[1][3], rows[3][3] = long_ok, long_bad
    stored[1] = (2, long_ok, stored[1][2])
    c.add("very_long_comments.csv", delimited(STD_HEADER, rows).encode(),
          ingested(stored[:3], [(4, r"\w*(too_long|length)\w*")]),
          "a 5,000-character comment (stored whole) and a 25,000-character one (quarantined as too long)")

    rows, stored = std_rows(6, 33)
    rows[1][3], rows[4][3] = "", "   "
    c.add("empty_comments.csv", delimited(STD_HEADER, rows).encode(),
          ingested([s for k, s in enumerate(stored) if k not in (1, 4)], [(2, "empty_text"), (5, "empty_text")]),
          "empty and blank comments quarantined as empty_text")


def dates(c: Corpus) -> None:
    written = [
        ("2025-03-04", date(2025, 3, 4)), ("20250305", date(2025, 3, 5)),
        (str(excel_serial(date(2025, 3, 10))), date(2025, 3, 10)), ("06/03/2025", date(2025, 3, 6)),
        ("7.3.2025", date(2025, 3, 7)), ("14 mars 2025", date(2025, 3, 14)),
        ("2025-03-08 10:22", date(2025, 3, 8)), ("2025-03-09T10:22:00", date(2025, 3, 9)),
        ("den 3 februari 2025", date(2025, 2, 3)), ("04.03.2025", date(2025, 3, 4)),
        ("2025-03-13T23:30:00Z", date(2025, 3, 14)), ("1 Apr 2025", date(2025, 4, 1)),
    ]
    texts = pick(len(written), 0)
    rows = [[str(i + 1), w, "telefon", t] for i, ((w, _), t) in enumerate(zip(written, texts))]
    c.add("dates_accepted_formats.csv", delimited(STD_HEADER, rows, sep=";").encode(),
          ingested([(i + 1, t, d) for i, ((_, d), t) in enumerate(zip(written, texts))]),
          "ISO, 20250305, an Excel serial, dd/mm/yyyy, d.m.yyyy, '14 mars 2025', timestamps, a UTC timestamp "
          "after 23:00 (the Swedish date), day-first 04.03 (never swapped)")

    refused = [
        ("25-03-14", "ambiguous_date"), ("14/03/25", "ambiguous_date"), ("2025", "partial_date"),
        ("mars 2025", "partial_date"), ("2025-02-30", "invalid_date"), ("2025-13-01", "invalid_date"),
        ("igår", "invalid_date"), ("", "missing_date"), ("2090-01-01", "future_date"),
    ]
    texts = pick(len(refused) + 2, 12)
    rows = [[str(i + 1), w, "telefon", t] for i, ((w, _), t) in enumerate(zip(refused, texts))]
    rows.append([str(len(refused) + 1), "2025-05-02", "telefon", texts[-2]])
    rows.append([str(len(refused) + 2), "2 maj 2025", "telefon", texts[-1]])
    c.add("dates_refused.csv", delimited(STD_HEADER, rows).encode(),
          ingested([(len(refused) + 1, texts[-2], date(2025, 5, 2)), (len(refused) + 2, texts[-1], date(2025, 5, 2))],
                   [(i + 1, code) for i, (_, code) in enumerate(refused)]),
          "two-digit years ambiguous_date (issue: '25-03-14' stored as 2014-03-25), a year or month alone "
          "partial_date (issue: '2025' stored as 2025-01-01), impossible invalid_date, empty, future")

    header = ["Ärendenummer", "Datum", "Kommentar"]
    texts = pick(6, 20)
    cells = [datetime(2025, 3, 14, 9, 30), excel_serial(date(2025, 3, 17)), "14 mars 2025", "25-03-14",
             date(2025, 3, 18), "2025-03-19"]
    cell_dates = [date(2025, 3, 14), date(2025, 3, 17), date(2025, 3, 14), None, date(2025, 3, 18),
                  date(2025, 3, 19)]
    rows = [header] + [[f"A{i}", cell, t] for i, (cell, t) in enumerate(zip(cells, texts))]
    c.add("dates_in_workbook.xlsx", xlsx({"Synpunkter": rows}),
          ingested([(i + 1, t, d) for i, (t, d) in enumerate(zip(texts, cell_dates)) if d],
                   [(4, "ambiguous_date")]),
          "a workbook with date cells, an Excel serial number cell, '14 mars 2025' and an ambiguous text date")


def municipality_codes_cases(c: Corpus) -> None:
    texts = pick(5, 2)
    values = ["180", "180.0", "0180", " 0180 ", "1480"]
    header = ["id", "datum", "kommunkod", "kommentar"]
    rows = [[str(i + 1), day(i).isoformat(), v, t] for i, (v, t) in enumerate(zip(values, texts))]
    c.add("kommunkod_variants.csv", delimited(header, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts[:4])], [(5, r"\w*municipality\w*")]),
          "kommunkod 180, 180.0, 0180 and ' 0180 ' are all 0180 (issue: 180.0 rejected the batch); 1480 is not",
          code="0180")

    texts = pick(3, 6)
    rows = [["id", "datum", "kommunkod", "kommentar"]] + [[i + 1, datetime.combine(day(i), datetime.min.time()),
                                                          v, t] for i, (v, t) in enumerate(zip([114, 114.0, "0114"],
                                                                                               texts))]
    c.add("kommunkod_numbers.xlsx", xlsx({"Blad1": rows}), ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "kommunkod as numeric cells (114, 114.0) and text '0114' in a workbook", code="0114")

    texts = pick(3, 9)
    items = [{"id": i + 1, "datum": day(i).isoformat(), "kommunkod": v, "kommentar": t}
             for i, (v, t) in enumerate(zip([115, 115.0, "0115"], texts))]
    c.add("kommunkod_json_numbers.json", json.dumps(items, ensure_ascii=False).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]), "kommunkod as JSON numbers 115 and 115.0",
          code="0115")

    texts = pick(3, 15)
    data = parquet({"id": [1, 2, 3], "datum": [day(i).isoformat() for i in range(3)],
                    "kommunkod": pa.array([117.0, 117.0, 117.0], pa.float64()), "kommentar": texts})
    c.add("kommunkod_float.parquet", data, ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "kommunkod as a float column (117.0) in Parquet", code="0117")


def workbooks_json_parquet(c: Corpus) -> None:
    texts = pick(4, 3)
    rows = [["Ärendenummer", "Datum", "Kanal", "Kommentar"]] + [
        [f"2025-{i + 1:03d}", datetime.combine(day(i), datetime.min.time()), "Telefon", t] for i, t in enumerate(texts)]
    c.add("workbook_plain.xlsx", xlsx({"Blad1": rows}), ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "a workbook with Swedish headers and real date cells")

    t1, t2 = pick(3, 7), pick(3, 10)
    header = ["id", "datum", "kommentar"]
    sheets = {"Januari": [header] + [[f"J{i}", day(i).isoformat(), t] for i, t in enumerate(t1)],
              "Februari": [header] + [[f"F{i}", day(i + 3).isoformat(), t] for i, t in enumerate(t2)]}
    stored = [(i + 1, t, day(i)) for i, t in enumerate(t1)] + [(i + 4, t, day(i + 3)) for i, t in enumerate(t2)]
    c.add("workbook_two_sheets.xlsx", xlsx(sheets), ingested(stored, row_numbers=False),
          "two sheets with the same columns (issue: the second sheet was ignored)")

    texts = pick(3, 14)
    rows = [["Synpunkter från kontaktcenter"], ["Period: första kvartalet"], [],
            ["Datum", "Kommentar", "Kanal"]] + [[day(i).isoformat(), t, "chatt"] for i, t in enumerate(texts)]
    c.add("workbook_title_rows.xlsx", xlsx({"Rapport": rows}),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)], row_numbers=False),
          "a workbook with title rows and an empty row above the header")

    texts = pick(3, 18)
    sheets = {"Synpunkter": [["datum", "kommentar"]] + [[day(i).isoformat(), t] for i, t in enumerate(texts)],
              "Info": [["Exporterad av", "System"], ["kontaktcenter", "E-tjänst"]]}
    c.add("workbook_data_and_info_sheet.xlsx", xlsx(sheets), [
        ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]), failed(r"Info|sheet|blad")],
          "a data sheet and an info sheet with other columns: the data read, or a failure naming the sheets")

    texts = pick(4, 22)
    items = [{"id": f"k{i}", "datum": day(i).isoformat(), "kanal": "e-post", "kommentar": t,
              "ämnen": ["väntetid", "bemötande"][: i % 3], "betyg": i + 1} for i, t in enumerate(texts)]
    c.add("json_records.json", json.dumps(items, ensure_ascii=False, indent=2).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]), "a JSON list of objects with list values")

    texts = pick(3, 26)
    doc = {"export": {"system": "kontaktcenter", "version": 2},
           "synpunkter": [{"datum": day(i).isoformat(), "text": t} for i, t in enumerate(texts)]}
    c.add("json_wrapped.json", json.dumps(doc, ensure_ascii=False).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]), "a JSON object holding one list of objects")

    texts = pick(4, 30)
    cells = [20250314, excel_serial(date(2025, 3, 17)), "14 mars 2025", "2025-03-19T08:00:00"]
    expect = [date(2025, 3, 14), date(2025, 3, 17), date(2025, 3, 14), date(2025, 3, 19)]
    items = [{"id": i + 1, "datum": cell, "kommentar": t} for i, (cell, t) in enumerate(zip(cells, texts))]
    c.add("json_typed_dates.json", json.dumps(items, ensure_ascii=False).encode(),
          ingested([(i + 1, t, d) for i, (t, d) in enumerate(zip(texts, expect))]),
          "JSON dates as the number 20250314, an Excel serial number and Swedish text")

    texts = pick(4, 34)
    objects = [{"id": i + 1, "datum": day(i).isoformat(), "kommentar": t} for i, t in enumerate(texts)]
    c.add("jsonl_bom_crlf.jsonl", codecs.BOM_UTF8 + jsonl(objects).replace("\n", "\r\n").encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]), "JSONL with a BOM and CRLF line ends")

    texts = pick(3, 1)
    objects = [{"id": i + 1, "datum": day(i).isoformat(), "kommentar": t} for i, t in enumerate(texts)]
    raw = "\n" + jsonl(objects[:2]) + "\n  \n" + jsonl(objects[2:]) + "\n"
    c.add("blank_lines.ndjson", raw.encode(), ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)],
                                                       row_numbers=False), "NDJSON with blank lines")

    texts = pick(4, 5)
    data = parquet({"id": pa.array([1, 2, 3, 4], pa.int64()),
                    "datum": pa.array([day(i) for i in range(4)], pa.date32()),
                    "kanal": ["telefon", None, "chatt", "besök"], "kommentar": texts,
                    "ämnen": pa.array([["väntetid"], [], ["bemötande", "väntetid"], None], pa.list_(pa.string()))})
    c.add("parquet_typed.parquet", data, ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "Parquet with a date32 column, int ids, a null channel and a list column")

    texts = pick(3, 8)
    stamps = [datetime(2025, 3, 14, 10, 22), datetime(2025, 3, 15, 0, 5), datetime(2025, 3, 16, 23, 59)]
    data = parquet({"skapad": pa.array(stamps, pa.timestamp("us")), "fritext": texts})
    c.add("parquet_timestamps.parquet", data,
          ingested([(i + 1, t, s.date()) for i, (t, s) in enumerate(zip(texts, stamps))]),
          "Parquet with naive timestamps (skapad) and the comment in 'fritext'")


def duplicates(c: Corpus) -> None:
    rows, stored = std_rows(4, 4)
    rows.append(list(rows[1]))
    c.add("duplicate_row_in_file.csv", delimited(STD_HEADER, rows).encode(), ingested(stored, [(5, DUPLICATE)]),
          "the same case id, date and text twice in one file: the second quarantined as a duplicate")

    code = c.next_code()
    header = ["Ärendenummer", "Datum", "Kommentar"]
    t24, t25 = pick(5, 11), pick(5, 16)
    y24 = [[str(i + 1), day(i, date(2024, 2, 5)).isoformat(), t] for i, t in enumerate(t24)]
    y25 = [[str(i + 1), day(i, date(2025, 2, 3)).isoformat(), t] for i, t in enumerate(t25)]
    first = c.add("ids_restart_2024.csv", delimited(header, y24, sep=";").encode(),
                  ingested([(i + 1, t, day(i, date(2024, 2, 5))) for i, t in enumerate(t24)]),
                  "ärendenummer 1-5 in 2024", code=code)
    c.add("ids_restart_2025.csv", delimited(header, y25, sep=";").encode(),
          ingested([(i + 1, t, day(i, date(2025, 2, 3))) for i, t in enumerate(t25)]),
          "ärendenummer 1-5 again in 2025, other dates and texts (issue: quarantined as duplicate_stored)",
          code=code)
    c.add("ids_restart_2024_resent_copy.csv", delimited(header, y24, sep=";").encode(),
          {"status": "duplicate_of", "file": first}, "the 2024 file sent again under another name: one batch",
          code=code, name="synpunkter_2024_igen.csv")
    extra = pick(2, 21)
    resent = y24[:2] + [["6", day(5, date(2024, 2, 5)).isoformat(), extra[0]],
                        ["7", day(6, date(2024, 2, 5)).isoformat(), extra[1]]]
    c.add("resent_rows.csv", delimited(header, resent, sep=",").encode(),
          ingested([(3, extra[0], day(5, date(2024, 2, 5))), (4, extra[1], day(6, date(2024, 2, 5)))],
                   [(1, DUPLICATE), (2, DUPLICATE)]),
          "a new file re-sending two stored rows (same id, date and text) plus two new rows", code=code)

    t = pick(6, 19)
    header = ["ärendenummer", "datum", "kommentar"]
    rows = [[str(k + 1), day(k, date(2024, 5, 6)).isoformat(), t[k]] for k in range(3)] + \
           [[str(k + 1), day(k, date(2025, 5, 5)).isoformat(), t[3 + k]] for k in range(3)]
    stored = [(k + 1, t[k], day(k, date(2024, 5, 6))) for k in range(3)] + \
             [(k + 4, t[3 + k], day(k, date(2025, 5, 5))) for k in range(3)]
    c.add("ids_restart_in_one_file.csv", delimited(header, rows).encode(), ingested(stored),
          "ids 1-3 for 2024 and 1-3 again for 2025 in one file: six distinct comments")

    other = pick(2, 24)
    rows = [["2025-03-14", "Bra service."], ["2025-03-14", other[0]], ["2025-03-14", "Bra service."],
            ["2025-03-14", "Bra service."], ["2025-03-15", other[1]]]
    d14, d15 = date(2025, 3, 14), date(2025, 3, 15)
    c.add("identical_short_comments_no_ids.csv", delimited(["datum", "kommentar"], rows).encode(),
          ingested([(1, "Bra service.", d14), (2, other[0], d14), (3, "Bra service.", d14),
                    (4, "Bra service.", d14), (5, other[1], d15)]),
          "three citizens wrote 'Bra service.' the same day, no ids (issue: two quarantined as duplicates)")

    redacted = "Jag pratade med [NAMN]. Bra hjälp!"
    rows = [["2025-03-14", "Jag pratade med Anna Berg. Bra hjälp!"],
            ["2025-03-14", "Jag pratade med Karin Lund. Bra hjälp!"], ["2025-03-14", TEXTS[3]]]
    c.add("two_names_same_text.csv", delimited(["datum", "kommentar"], rows).encode(),
          ingested([(1, redacted, d14), (2, redacted, d14), (3, TEXTS[3], d14)]),
          "comments differing only in a name (issue: PRIMARY KEY crash that stopped every later run)")

    objects = [{"id": "a1", "datum": "2025-03-14", "kommentar": "Jag pratade med Anna Berg. Bra hjälp!"},
               {"id": "a2", "datum": "2025-03-14", "kommentar": "Jag pratade med Karin Lund. Bra hjälp!"}]
    c.add("two_names_with_ids.jsonl", jsonl(objects).encode(), ingested([(1, redacted, d14), (2, redacted, d14)]),
          "the same with case ids, in JSONL")


def personal_data(c: Corpus) -> None:
    rows, stored = std_rows(3, 12)
    c.add("pii_file_name.csv", delimited(STD_HEADER, rows).encode(), ingested(stored),
          "a file name holding a name and personnummer (must not reach batches.original_name)",
          name=f"synpunkter från Karin Lund {PNR}.csv")

    texts = pick(3, 16)
    header = ["id", "datum", "kommentar", f"Handläggare Karin Lund {PNR}"]
    rows = [[str(i + 1), day(i).isoformat(), t, "ja"] for i, t in enumerate(texts)]
    c.add("pii_column_header.csv", delimited(header, rows).encode(),
          ingested([(i + 1, t, day(i)) for i, t in enumerate(texts)]),
          "a column header holding a name and personnummer (must not reach metadata keys)")

    texts = [f"Mitt personnummer är {PNR}, ring mig.", TEXTS[5], f"Karin Lund {PNR} väntar på svar."]
    rows = [["1", "2025-03-14", "telefon", texts[0]], ["2", "2025-03-15", "telefon", texts[1]],
            ["3", "", "telefon", texts[2]]]
    c.add("pii_in_comments.csv", delimited(STD_HEADER, rows).encode(),
          ingested([(1, "Mitt personnummer är [PERSONNUMMER], ring mig.", date(2025, 3, 14)),
                    (2, TEXTS[5], date(2025, 3, 15))], [(3, "missing_date")]),
          "a personnummer in a stored comment (redacted) and in a quarantined row (its copy redacted)")

    first = ["1", "2025-03-14", "telefon", f"Ring mig på 070-123 45 67, Karin Lund {PNR}"]
    rows = [first] + [[str(i + 2), day(i).isoformat(), "chatt", t] for i, t in enumerate(pick(3, 20))]
    c.add("no_header.csv", delimited(None, rows).encode(), failed(r"header|column|kolumn"),
          "no header row, the first row holds personal data (issue: its cells ended up in batches.error)",
          forbidden=["2025-03-14", "070-123", "Ring mig", "Karin", PNR, "telefon"])


def whole_file_failures(c: Corpus) -> None:
    c.add("empty.csv", b"", [{"status": "refused", "error": "empty"}, failed("empty")], "a file of 0 bytes")

    c.add("whitespace_only.csv", b"\r\n  \r\n\t\r\n", failed(r"empty|blank|no (header|rows|data)"),
          "only blank lines")

    c.add("header_only.csv", (",".join(STD_HEADER) + "\r\n").encode(), [
        ingested([]), failed(r"no (data )?rows|empty|only (a|the) header|header only|no comments")],
          "a header and no rows: an empty batch, or a clear failure")

    rnd = random.Random(12)
    c.add("binary_named.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rnd.randbytes(4000),
          failed(r"decod|binary|encoding|not (a )?text"),
          "a binary file (PNG) named .csv: the reason says it is not text, not that a column is missing")

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "Det här är ingen arbetsbok.")
    c.add("zip_named.xlsx", buf.getvalue(), failed(r"xlsx|workbook|excel|arbetsbok"),
          "a zip archive that is not a workbook, named .xlsx")

    book = xlsx({"Blad1": [["datum", "kommentar"]] + [[day(i).isoformat(), t] for i, t in enumerate(pick(20, 0))]})
    c.add("truncated.xlsx", book[: len(book) // 2], failed(r"xlsx|workbook|excel|arbetsbok"),
          "a workbook cut off half way")

    c.add("not_parquet.parquet", b"PAR1" + b"nonsense" * 20, failed(r"parquet"), "a broken Parquet file")

    c.add("json_scalar.json", json.dumps("bara en sträng").encode(), failed(r"json|table|tabell"),
          "JSON that is a string, not a table")

    items = json.dumps([{"datum": day(i).isoformat(), "kommentar": t} for i, t in enumerate(pick(4, 2))],
                       ensure_ascii=False)
    c.add("json_truncated.json", items[: len(items) - 30].encode(), failed(r"json"), "a JSON array cut off")

    rows = [[str(i + 1), day(i).isoformat(), str(3 + i % 3)] for i in range(4)]
    c.add("no_comment_column.csv", delimited(["id", "datum", "betyg"], rows).encode(),
          failed(r"comment|kommentar|text"), "no comment column", forbidden=[day(i).isoformat() for i in range(4)])

    rows = [[str(i + 1), t] for i, t in enumerate(pick(3, 6))]
    c.add("no_date_column.csv", delimited(["id", "kommentar"], rows).encode(), failed(r"dat"),
          "no date column", forbidden=pick(3, 6))

    prose = "Hej!\nJag vill bara säga att snöröjningen har varit bra i år.\nMed vänlig hälsning\n"
    c.add("prose.txt", prose.encode(), failed(r"comment|kommentar|column|kolumn|header|table|tabell"),
          "a letter, not a table", forbidden=["snöröjningen", "vänlig"])


def row_limit(c: Corpus) -> None:
    n = MAX_ROWS_PER_BATCH + 20
    start = date(2023, 1, 2)
    rows = [[str(i + 1), (start + timedelta(days=i)).isoformat(), "telefon", t] for i, t in enumerate(pick(n, 0))]
    c.add("over_row_limit.csv", delimited(STD_HEADER, rows).encode(), failed(r"row|rad|limit|max"),
          f"{n} rows with SYNPUNKT_MAX_ROWS_PER_BATCH={MAX_ROWS_PER_BATCH}: the batch fails with a clear reason")

    n = MAX_ROWS_PER_BATCH - 20
    texts = pick(n, 3)
    rows = [[str(i + 1), (start + timedelta(days=i)).isoformat(), "telefon", t] for i, t in enumerate(texts)]
    c.add("under_row_limit.csv", delimited(STD_HEADER, rows).encode(),
          ingested([(i + 1, t, start + timedelta(days=i)) for i, t in enumerate(texts)]),
          f"{n} rows, under the limit: all stored")


def corpus_cases() -> Corpus:
    """Every case, in landing order. The two-names batch comes early: later batches must not be blocked."""
    c = Corpus(municipality_codes_pool())
    duplicates(c)
    formats_and_encodings(c)
    awkward_layouts(c)
    malformed_rows(c)
    dates(c)
    municipality_codes_cases(c)
    workbooks_json_parquet(c)
    personal_data(c)
    whole_file_failures(c)
    row_limit(c)
    return c


def municipality_codes_pool() -> list[str]:
    """Codes for cases without a fixed one (the codes the kommunkod cases need are kept out)."""
    reserved = {"0180", "0114", "0115", "0117", "1480"}
    return [code for code in municipality_codes() if code not in reserved]


def build_corpus(outdir: str | Path) -> dict:
    """Write every file of the corpus and manifest.json into outdir; returns the manifest."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    c = corpus_cases()
    for file, data in c.data.items():
        (outdir / file).write_bytes(data)
    manifest = {"max_rows_per_batch": MAX_ROWS_PER_BATCH, "sentinels": list(SENTINELS), "cases": c.cases}
    (outdir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/malformed_corpus.py OUTDIR", file=sys.stderr)
        return 2
    manifest = build_corpus(argv[0])
    print(f"{len(manifest['cases'])} files and manifest.json written to {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
    raise SystemExit(main(sys.argv[1:]))

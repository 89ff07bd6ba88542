"""Red-team findings on the annual reports: true first-year texts, gap wording for the country marks, no quotes
from small groups or naming a role at a place, an unwritable output folder as one line, and an index that keeps
its reports' language and their own render times."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from synpunkt import report as R
from synpunkt.report import sections as S
from test_report import published, visible_text  # noqa: F401  (the module's warehouse fixture)


@pytest.fixture
def open_rep(published):  # noqa: F811
    path, model_dir = published
    opened = []

    def _open(year, code, lang="sv"):
        rep = R.open_report(year, code, lang, path, model_dir)
        opened.append(rep)
        return rep

    yield _open
    for rep in opened:
        rep.close()


# -- 1. the first year: no false "only year" sentence, no "change since" a year without data ---------------------

def test_first_year_says_what_is_true_and_has_no_change_column(open_rep):
    rep = open_rep(2023, "0180")
    trends = visible_text(str(R.section_trends(rep)))
    lead = visible_text(str(R.section_title(rep)))
    assert "Det finns inga synpunkter från Stockholm före 2023 i lagret, så det finns ingen utveckling att visa " \
           "ännu." in trends
    assert "Lagret har bara" not in trends + lead  # the warehouse holds 2024 too
    assert "2022" not in trends + lead  # no "Förändring sedan 2022": there is no 2022
    assert "Mot övriga landet" in lead and "högre/lägre än övriga landet" in lead

    en = open_rep(2023, "0180", "en")
    text = visible_text(str(R.section_trends(en))) + visible_text(str(R.section_title(en)))
    assert "The warehouse has no comments from Stockholm before 2023, so there is no trend to show yet." in text
    assert "only has comments" not in text and "2022" not in text

    national = open_rep(2023, None)
    text = visible_text(str(R.section_trends(national))) + visible_text(str(R.section_title(national)))
    assert "Det finns inga synpunkter före 2023 i lagret" in text and "2022" not in text


def test_a_year_with_a_previous_year_keeps_its_change_column(open_rep):
    lead = visible_text(str(R.section_title(open_rep(2024, "0180"))))
    assert "Förändring sedan 2023" in lead


# -- 2. marks against the rest of the country use gap wording, not change wording -----------------------------------

def _titles(html: str) -> list[str]:
    return re.findall(r'class="sp-(?:up|down|nochange)" title="([^"]+)"', html)


def test_gap_marks_say_higher_or_lower_than_the_rest_of_the_country(open_rep):
    for lang, gap_words, change_words in (
            ("sv", ("statistiskt säkerställt högre än övriga landet", "statistiskt säkerställt lägre än övriga "
                    "landet", "ingen säkerställd skillnad"), ("ökning", "minskning", "förändring")),
            ("en", ("higher than the rest of the country", "lower than the rest of the country",
                    "no significant difference"), ("increase", "decrease", "change"))):
        rep = open_rep(2024, "0180", lang)
        lead = str(R.section_title(rep))
        rows = re.findall(r'<tr data-topic="[^"]+" data-change-mark[^>]*>(.*?)</tr>', lead, flags=re.S)
        assert rows
        gap_titles, change_titles = [], []
        for row in rows:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            change_titles += _titles(cells[2])
            gap_titles += _titles(cells[3])
        assert gap_titles and change_titles
        assert all(any(w in t for w in gap_words) for t in gap_titles), gap_titles
        assert not any(w in t for t in gap_titles for w in change_words), gap_titles
        assert all(any(w in t for w in change_words) for t in change_titles), change_titles
        bench = str(R.section_benchmark(rep))
        table = re.search(r'<table class="sp-table" data-table="benchmark">.*?</table>', bench, flags=re.S).group(0)
        marks = _titles(table)
        assert marks and all(any(w in t for w in gap_words) for t in marks), marks


# -- 3. quotes: none from a small municipality-year, none naming a role at a place ----------------------------------

def test_no_quotes_below_the_small_sample_bar(open_rep):
    assert R.MIN_QUOTE_GROUP == R.MIN_RANK_N == 30
    small = str(R.section_quotes(open_rep(2024, "1480")))  # Göteborg: 25 comments
    assert "<blockquote" not in small
    assert "Göteborg har 25 synpunkter 2024, färre än 30" in visible_text(small)
    en = str(R.section_quotes(open_rep(2024, "1480", "en")))
    assert "<blockquote" not in en and "Göteborg has 25 comments in 2024, fewer than 30" in visible_text(en)
    large = str(R.section_quotes(open_rep(2024, "0180")))  # Stockholm: 40
    assert "<blockquote" in large and 'data-note="quotes-too-few"' not in large
    assert '<p lang="sv">' in str(R.section_quotes(open_rep(2024, "0180", "en")))  # Swedish text in English


def test_national_quotes_leave_out_small_municipalities(open_rep):
    page = str(R.section_quotes(open_rep(2024, None)))
    quotes = re.findall(r"<blockquote.*?</blockquote>", page, flags=re.S)
    assert quotes
    assert not any("från 1480" in q or "från 0114" in q for q in quotes)  # Göteborg 25, Upplands Väsby 20


@pytest.mark.parametrize("text", [
    "Undertecknad, ordförande i PRO Sjöbo, vill framföra klagomål",
    "Jag är rektor på Ekskolan och undrar varför",
    "Enhetschefen för Hemtjänsten Norr svarade aldrig",
    "Som kontaktperson för Villaföreningen Eken skriver jag",
])
def test_a_role_next_to_an_organisation_or_place_is_detected(text):
    assert R.names_a_role(text)


@pytest.mark.parametrize("text", [
    "Bra bemötande i telefon när jag ringde om bygglov.",
    "Ordföranden sa nej.",
    "Chefen var trevlig i telefon.",
    "Jag ringde kontaktperson för [NAMN].",
    "Tack för hjälpen i Kundtjänst",
])
def test_ordinary_comments_are_not_taken_for_roles(text):
    assert not R.names_a_role(text)


def test_quotes_naming_a_role_at_a_place_are_skipped(open_rep, monkeypatch):
    role = "Undertecknad, ordförande i PRO Sjöbo, är missnöjd med svaret"
    fake = pd.DataFrame({"topic": ["handler"] * 3, "topic_sentiment": ["negative"] * 3,
                         "text": [role, "Ingen ringde tillbaka.", "Svaret dröjde."],
                         "channel": ["telefon"] * 3, "municipality": ["Stockholm"] * 3, "confidence": [0.9, 0.8, 0.7]})
    monkeypatch.setattr(S, "representative_comments", lambda *a, **k: fake)
    page = visible_text(str(R.section_quotes(open_rep(2024, "0180"))))
    assert "PRO Sjöbo" not in page
    assert "Ingen ringde tillbaka." in page and "Svaret dröjde." in page  # the next ones take its place


# -- 4. an output folder the reports cannot be written into: one line, exit 2 --------------------------------------

def test_cli_report_out_folder_not_writable_is_one_line(published, tmp_path, monkeypatch):  # noqa: F811
    from typer.testing import CliRunner

    from synpunkt.cli import app

    path, _ = published
    runner = CliRunner()
    out = tmp_path / "out"
    out.mkdir()
    (out / "notebooks").write_text("a file where the flow makes a folder\n")  # fails as root too
    res = runner.invoke(app, ["report", "--year", "2024", "--no-pdf", "--out", str(out), "--warehouse", str(path)])
    assert res.exit_code == 2, res.output
    assert "notebooks" in res.output and "not a folder" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1

    (out / "notebooks").unlink()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.NamedTemporaryFile", refuse)
    res = runner.invoke(app, ["report", "--year", "2024", "--no-pdf", "--out", str(out), "--warehouse", str(path)])
    assert res.exit_code == 2, res.output
    assert "cannot write into" in res.output and "Permission denied" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_unwritable_reason_leaves_no_file_behind(tmp_path):
    assert R.unwritable_reason(tmp_path) is None
    assert R.unwritable_reason(tmp_path / "not-yet") is None  # made by the flow
    assert list(tmp_path.iterdir()) == []


# -- 5. the index keeps its reports' language and each report's own render time --------------------------------------

def _entry(out, name, lang, generated=None):
    html = f"synpunkt-2025-{name}-{lang}.html"
    (out / html).write_text("<html></html>")
    return {"year": 2025, "municipality": name, "name": name.capitalize(), "lang": lang, "html": str(out / html),
            "pdf": None, "notebook": None, "n": 40, "net_score": -13.0, "net_score_lo": -30.0,
            "net_score_hi": 4.0, "seconds": 1.0, "generated": generated}


def test_index_keeps_the_language_of_most_reports_and_their_own_times(tmp_path):
    swedish = [_entry(tmp_path, f"{1000 + i}", "sv", "2025-01-02T10:00:00") for i in range(9)]
    R.write_index(tmp_path, 2025, swedish, lang="sv")
    english = _entry(tmp_path, "0180", "en", "2025-03-04T09:30:00")
    index = R.write_index(tmp_path, 2025, [english], lang="en").read_text(encoding="utf-8")  # one more, in English
    text = visible_text(index)
    assert '<html lang="sv">' in index and "Synpunkter 2025: årsrapporter" in text
    assert "Citizen comments" not in text
    assert "engelska" in text and "svenska" in text and 'hreflang="en"' in index
    assert text.count("2 januari 2025 10:00") == 9 and "4 mars 2025 09:30" in text
    assert "Senaste rendering: 4 mars 2025 09:30" in text

    # mostly English: English index; a report from before the field shows when its HTML was written
    only_en = tmp_path / "en"
    only_en.mkdir()
    old = _entry(only_en, "0180", "en")
    os.utime(Path(old["html"]), (datetime(2024, 5, 6, 7, 8).timestamp(),) * 2)
    index = R.write_index(only_en, 2025, [old], lang="sv").read_text(encoding="utf-8")
    assert '<html lang="en">' in index and "6 May 2024 07:08" in visible_text(index)
    assert "Latest render: 6 May 2024 07:08" in visible_text(index)
    manifest = json.loads((only_en / "index.json").read_text(encoding="utf-8"))
    assert manifest[0]["generated"] == "2024-05-06T07:08:00"


def test_a_tie_or_an_empty_index_is_swedish():
    assert R.index_language([]) == "sv"
    assert R.index_language([{"lang": "en"}, {"lang": "sv"}]) == "sv"
    assert R.index_language([{"lang": "en"}, {"lang": "en"}, {"lang": "sv"}]) == "en"


# -- 6. the typographic minus in English too -----------------------------------------------------------------------

def test_english_numbers_use_the_typographic_minus():
    assert R.fmt_signed(-13, "en") == "\u221213" and R.fmt_interval(-5, 3, "en") == "\u22125 to +3"
    assert R.fmt_num(-1234.5, 1, "en") == "\u22121,234.5"

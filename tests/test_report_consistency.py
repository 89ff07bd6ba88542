"""Reports agree with themselves and with the README: a p-value below 5 % is never printed as 0,05; a stated
difference is the difference of the rounded figures printed beside it; every figure resting on fewer than
MIN_RANK_N (30) comments carries the small-sample mark with a legend under its table, grey cells (under
MIN_TEST_N) always have theirs; one rankable municipality and counts of one read as Swedish and English.

The sections are rendered straight from a small hand-made warehouse (no notebook): Stockholm 39 comments in
2024 (ranked, every area under 30, one under 10), Aneby 5 (not ranked), Kiruna 1 in 2023."""

from __future__ import annotations

import html as htmlmod
import json
import math
import re
from datetime import date, datetime

import pandas as pd
import pytest

from synpunkt import report as R
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt.report.formatting import shown_difference
from synpunkt.report.lead import section_title
from synpunkt.report.sections import section_benchmark, section_trends
from synpunkt.report.statistics import SMALL_MARK
from synpunkt.report.templating import environment

VERSION = "synpunkt-test@consistency"
# (municipality, year) -> (positive, skeptical, negative). Stockholm 2024: net −33,3 against the country's
# −22,7, printed −33 and −23: a gap of 10 to the reader, 10,6 (rounds to 11) unrounded.
MIX = {("0180", 2023): (20, 5, 10), ("0180", 2024): (10, 6, 23), ("0604", 2024): (4, 0, 1),
       ("2584", 2023): (1, 0, 0)}


def _topics(i: int) -> list[str]:
    """Four areas in turn (about 10 comments each at n = 39) and the fifth only for the first five comments."""
    return [TOPICS[i % 4]] + ([TOPICS[4]] if i < 5 else [])


def _frames() -> dict[str, pd.DataFrame]:
    comments, predictions, batches = [], [], []
    for (code, year), counts in MIX.items():
        sentiments = [s for s, k in zip(SENTIMENTS, counts) for _ in range(k)]
        batches.append({"batch_id": f"{code}-{year}", "municipality_code": code, "origin": "inbox",
                        "original_name": "export.csv", "file_format": "csv", "checksum_sha256": "0" * 64,
                        "size_bytes": 100, "received_at": datetime(year + 1, 1, 1), "status": "ingested",
                        "rows_received": len(sentiments), "rows_accepted": len(sentiments), "rows_quarantined": 0,
                        "processed_at": datetime(year + 1, 1, 2)})
        for i, sentiment in enumerate(sentiments):
            cid, topics = f"{code}-{year}-{i}", _topics(i)
            comments.append({"comment_id": cid, "batch_id": f"{code}-{year}", "municipality_code": code,
                             "row_number": i + 1, "external_id": str(i), "contact_date": date(year, 1 + i % 12, 1),
                             "year": year, "channel": "telefon", "text": f"Synpunkt {i} ({sentiment})",
                             "redactions": json.dumps({}), "metadata": None, "ingested_at": datetime(year + 1, 1, 2)})
            predictions.append({"comment_id": cid, "model_version": VERSION, "sentiment": sentiment,
                                **{prob_column(s): 0.9 if s == sentiment else 0.05 for s in SENTIMENTS},
                                "topics": topics, **{prob_column(t): 0.9 if t in topics else 0.05 for t in TOPICS},
                                "topic_sentiment": json.dumps({t: sentiment for t in topics}),
                                "classified_at": datetime(year + 1, 1, 3)})
    return {"batches": pd.DataFrame(batches), "comments": pd.DataFrame(comments),
            "predictions": pd.DataFrame(predictions)}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from synpunkt.publish import publish
    from synpunkt.warehouse import connect, insert_frame, refresh_trends, set_current_model

    tmp = tmp_path_factory.mktemp("report-consistency")
    con = connect(tmp / "warehouse.duckdb")
    for table, df in _frames().items():
        insert_frame(con, table, df)
    set_current_model(con, VERSION)
    refresh_trends(con, VERSION)
    path = publish(con, tmp / "published" / "synpunkt.duckdb")
    con.close()
    return path


def render(path, year: int, code: str | None, lang: str = "sv") -> dict[str, str]:
    """The first screen, trends and benchmark sections of a report, as HTML."""
    rep = R.open_report(year, code, lang, path)
    try:
        return {"lead": str(section_title(rep)), "trends": str(section_trends(rep)),
                "benchmark": str(section_benchmark(rep))}
    finally:
        rep.close()


def visible(page: str) -> str:
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def net_all(path, code: str | None, year: int) -> float:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        if code:
            sql, args = ("SELECT net_score FROM yearly_shares WHERE municipality_code = ? AND year = ? AND "
                         "topic = 'all'", [code, year])
        else:
            sql, args = "SELECT net_score FROM national_shares WHERE year = ? AND topic = 'all'", [year]
        return con.execute(sql, args).fetchall()[0][0]
    finally:
        con.close()


def rows(table_html: str) -> list[tuple[str, list[str]]]:
    """(<tr> attributes, cell HTML) for each body row with a data-topic."""
    return [(m.group(1), re.findall(r"<td\b[^>]*>.*?</td>", m.group(2), re.S))
            for m in re.finditer(r'<tr\b([^>]*data-topic="[^"]+"[^>]*)>(.*?)</tr>', table_html, re.S)]


def number(text: str) -> int:
    """A signed whole number as the report prints it: +12, −12 (typographic minus) or 0."""
    m = re.search(r"([+\u2212-]?)(\d+)", text)
    return -int(m.group(2)) if m.group(1) in ("\u2212", "-") else int(m.group(2))


# -- finding 8: p-values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,mark", [("sv", ","), ("en", ".")])
def test_a_p_value_below_five_percent_is_never_printed_as_five_percent(lang, mark):
    for k in range(10, 5000):
        p = k / 100000  # 0.0001 ... 0.04999
        text = R.fmt_p(p, lang)
        if text.startswith("p < "):
            continue
        value = float(text.removeprefix("p = ").replace(mark, "."))
        assert value < R.ALPHA, (p, text)
    assert R.fmt_p(0.048, lang) == f"p = 0{mark}048"
    assert R.fmt_p(0.0496, lang) == f"p = 0{mark}0496"
    assert R.fmt_p(0.049999, lang) == f"p < 0{mark}05"
    # APA: three decimals below 0.1, two from there, "p < 0,001" at the bottom
    assert R.fmt_p(0.004, lang) == f"p = 0{mark}004" and R.fmt_p(0.31, lang) == f"p = 0{mark}31"
    assert R.fmt_p(0.044, lang) == f"p = 0{mark}044" and R.fmt_p(0.0004, lang) == f"p < 0{mark}001"
    assert R.fmt_p(0.05, lang) == f"p = 0{mark}050" and R.fmt_p(0.052, lang) == f"p = 0{mark}052"  # not significant


@pytest.mark.parametrize("lang,mark", [("sv", ","), ("en", ".")])
def test_a_p_value_near_five_percent_shows_on_which_side_it_lies(lang, mark):
    """From 0,05 up to 0,1 three decimals (APA): 0,0504 and 0,052 are no longer both "p = 0,05", the figure a reader
    takes for the threshold itself. A p-value at or above ALPHA never prints below it, and no text is printed both
    for a p-value below ALPHA and for one at or above it."""
    below, above = set(), set()
    for k in range(10, 20000):
        p = k / 200000  # 0.00005 ... 0.099995
        text = R.fmt_p(p, lang)
        (below if p < R.ALPHA else above).add(text)
        if p >= R.ALPHA:
            value = text.removeprefix("p = ")
            assert text.startswith("p = ") and len(value.split(mark)[1]) == (3 if p < 0.0995 else 2), (p, text)
            assert float(value.replace(mark, ".")) >= R.ALPHA, (p, text)
    assert not below & above
    assert R.fmt_p(0.0504, lang) == f"p = 0{mark}050" and R.fmt_p(0.0496, lang) == f"p = 0{mark}0496"
    assert R.fmt_p(0.0549, lang) == f"p = 0{mark}055" and R.fmt_p(0.0996, lang) == f"p = 0{mark}10"
    assert R.fmt_p(0.1, lang) == f"p = 0{mark}10" and R.fmt_p(0.0123, lang) == f"p = 0{mark}012"
    assert R.fmt_p(None, lang) == "p = –"


# -- finding 10: differences of the printed figures ------------------------------------------------------------

def test_shown_difference_is_the_difference_of_the_rounded_figures():
    assert shown_difference(-28.6, -15.4) == -14 and round(-28.6 - -15.4) == -13  # the explorer's Stockholm
    assert shown_difference(46.4, 32.6) == 13 and round(46.4 - 32.6) == 14  # the explorer's Umeå
    assert shown_difference(12.34, 2.1, 1) == pytest.approx(10.2)
    assert math.isnan(shown_difference(float("nan"), 3)) and math.isnan(shown_difference(3, None))
    assert R.fmt_signed(shown_difference(0.4, -0.4)) == "0"  # printed 0 and 0, though 0.8 apart
    assert R.fmt_signed(shown_difference(0.6, 0.4)) == "+1"  # printed +1 and 0, though 0.2 apart


def _n(path, code: str | None, year: int) -> tuple[int, float]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        view, where, args = ("yearly_shares", "municipality_code = ? AND", [code]) if code else \
            ("national_shares", "", [])
        return con.execute(f"SELECT n, net_score_se FROM {view} WHERE {where} year = ? AND topic = 'all'",
                           [*args, year]).fetchall()[0]
    finally:
        con.close()


def test_gap_sentence_and_column_use_the_printed_net_scores_of_the_comparison_tested(published):
    """Finding 11: the gap printed is against the rest of the country (every other municipality), the comparison
    its test makes, and it is the difference of the two net scores printed beside it."""
    own, national = net_all(published, "0180", 2024), net_all(published, None, 2024)
    (n_own, _), (n_nat, se_nat) = _n(published, "0180", 2024), _n(published, None, 2024)
    rest, _ = R.rest_estimate(national, se_nat, n_nat, own, n_own)
    assert (R.fmt_signed(own), R.fmt_signed(national)) == ("\u221233", "\u221223")
    gap_shown = shown_difference(own, rest)
    lead = render(published, 2024, "0180")["lead"]
    gap = re.search(r'<li [^>]*data-fact="gap"[^>]*>(.*?)</li>', lead, re.S)
    words = "högre" if gap_shown > 0 else "lägre"
    assert (f"Nettotal \u221233 mot övriga landets {R.fmt_signed(rest)} (hela riket \u221223): "
            f"{R.fmt_num(abs(gap_shown))} procentenheter {words}") in visible(gap.group(1))
    assert float(re.search(r'data-gap="([^"]+)"', gap.group(0)).group(1)) == pytest.approx(own - rest, abs=1e-5)
    table = re.search(r'<table class="sp-table sp-areas".*?</table>', lead, re.S).group(0)
    assert "Mot övriga landet" in table
    all_row = next(cells for attrs, cells in rows(table) if 'data-topic="all"' in attrs)
    assert number(visible(all_row[3])) == gap_shown  # the "vs rest of country" column says the same

    en = render(published, 2024, "0180", "en")["lead"]
    assert "Net score -33 against the rest of the country's" in visible(en).replace("\u2212", "-")


def test_every_printed_change_is_the_difference_of_the_printed_net_scores(published):
    for code in ("0180", None):
        page = render(published, 2024, code)
        table = re.search(r'<table class="sp-table" data-table="changes">.*?</table>', page["trends"], re.S).group(0)
        body = rows(table)
        assert body
        for attrs, cells in body:  # topic, n prev, n now, share, net prev, net now, change, p, mark
            prev, now, change = (number(visible(c)) for c in cells[4:7])
            assert change == now - prev, (code, attrs)
        lead = re.search(r'<table class="sp-table sp-areas".*?</table>', page["lead"], re.S).group(0)
        shown = {re.search(r'data-topic="([^"]+)"', a).group(1): number(visible(c[2])) for a, c in rows(lead)}
        changes = {re.search(r'data-topic="([^"]+)"', a).group(1): number(visible(c[6])) for a, c in body}
        assert shown == changes  # the first screen and the trends table print the same change


# -- finding 9: small samples ----------------------------------------------------------------------------------

def _area_counts(path, code: str, year: int) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT topic, n FROM yearly_shares WHERE municipality_code = ? AND year = ? "
                                "AND n > 0", [code, year]).fetchall())
    finally:
        con.close()


def test_areas_under_thirty_comments_carry_a_mark_and_a_legend(published):
    counts = _area_counts(published, "0180", 2024)
    assert counts["all"] >= R.MIN_RANK_N
    assert all(n < R.MIN_RANK_N for t, n in counts.items() if t != "all")
    assert any(R.MIN_TEST_N <= n for t, n in counts.items() if t != "all")  # marked but not grey
    assert any(n < R.MIN_TEST_N for n in counts.values())  # grey as well
    lead = render(published, 2024, "0180")["lead"]
    table = re.search(r'<table class="sp-table sp-areas".*?</table>', lead, re.S).group(0)
    for attrs, cells in rows(table):
        topic = re.search(r'data-topic="([^"]+)"', attrs).group(1)
        n, net_cell = counts[topic], cells[1]
        assert ('class="sp-smallmark"' in net_cell) == (n < R.MIN_RANK_N), topic
        assert (f">{SMALL_MARK}</sup>" in net_cell) == (n < R.MIN_RANK_N), topic
        assert ("sp-small" in net_cell.split(">", 1)[0]) == (n < R.MIN_TEST_N), topic
    text = visible(lead)
    small = sum(n < R.MIN_RANK_N for t, n in counts.items() if t != "all")
    assert f"{small} områden bygger på färre än 30 synpunkter (markerade {SMALL_MARK}); läs dem med " \
           "försiktighet." in text
    assert f"{SMALL_MARK} = bygger på färre än 30 synpunkter" in text
    assert "Värden i grått bygger på färre än 10 synpunkter" in text
    assert "för få för test" in text  # under 10: still no test
    en = visible(render(published, 2024, "0180", "en")["lead"])
    assert f"{small} areas rest on fewer than 30 comments (marked {SMALL_MARK}); read them with care." in en
    assert f"{SMALL_MARK} = rests on fewer than 30 comments" in en and "Values in grey rest on fewer than 10" in en


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_section_with_marked_or_grey_figures_explains_them(published, lang):
    seen = set()
    for year, code in ((2024, "0180"), (2024, "0604"), (2024, None), (2023, "0180")):
        for name, section in render(published, year, code, lang).items():
            marked, grey = 'class="sp-smallmark"' in section, re.search(r'class="[^"]*\bsp-small\b', section)
            assert marked == ('data-note="small-sample"' in section), (year, code, name)
            assert bool(grey) == ('data-note="small-grey"' in section), (year, code, name)
            seen |= {name} if marked else set()
    assert seen == {"lead", "trends", "benchmark"}  # the fixture has small figures in each


def test_small_sample_legend_only_where_needed(published):
    rep = R.open_report(2024, "0180", "sv", published)
    try:
        template = environment().from_string('{% import "macros.html.j2" as m %}{{ m.small_notes(ns, rep) }}')
        assert template.render(ns=[R.MIN_RANK_N, 120], rep=rep).strip() == ""
        only_mark = template.render(ns=[R.MIN_RANK_N - 1, 120], rep=rep)
        assert 'data-note="small-sample"' in only_mark and "small-grey" not in only_mark
        both = template.render(ns=[R.MIN_TEST_N - 1, None], rep=rep)
        assert 'data-note="small-sample"' in both and 'data-note="small-grey"' in both
    finally:
        rep.close()


def test_national_report_with_one_ranked_municipality_and_singulars(published):
    text = visible(render(published, 2024, None)["lead"])
    assert f"Bara en kommun, Stockholm, har minst 30 synpunkter och rangordnas (nettotal " \
           f"{R.fmt_signed(net_all(published, '0180', 2024))})." in text
    assert "lägst" not in text and "1 kommun har färre synpunkter och rangordnas inte." in text
    assert "1 kommuner" not in text
    en = visible(render(published, 2024, None, "en")["lead"])
    assert "Only one municipality, Stockholm, has at least 30 comments and is ranked" in en
    assert "the lowest" not in en and "1 municipality has fewer comments and is not ranked." in en
    # two ranked (or more) keep the plural sentence
    kiruna = visible(render(published, 2023, "2584")["lead"])
    assert "Kiruna har 1 synpunkt 2023, färre än de 30 som krävs för att rangordnas." in kiruna
    kiruna_en = visible(render(published, 2023, "2584", "en")["lead"])
    assert "Kiruna has 1 comment in 2023, fewer than the 30 needed to be ranked." in kiruna_en


def test_aneby_is_warned_not_ranked_and_not_tested(published):
    lead = render(published, 2024, "0604")["lead"]
    text = visible(lead)
    assert "Aneby har 5 synpunkter 2024, färre än de 30 som krävs för att rangordnas." in text
    assert 'data-fact="rank"' not in lead and "(för få för test)" in text
    table = re.search(r'<table class="sp-table sp-areas".*?</table>', lead, re.S).group(0)
    all_row = next(cells for attrs, cells in rows(table) if 'data-topic="all"' in attrs)
    assert 'class="sp-smallmark"' in all_row[1] and "sp-small" in all_row[1].split(">", 1)[0]


def test_singular_strings_exist_in_both_languages():
    for lang in R.LANGUAGES:
        table = R.strings(lang)
        singular = {k for k in table if k.endswith("_one")}
        assert singular and all(k.removesuffix("_one") in table for k in singular)


def test_method_section_explains_the_small_sample_mark(published):
    from synpunkt.report.appendix import section_method

    for lang, sentence in (("sv", f"Varje siffra som bygger på färre än 30 synpunkter (en kommun, ett område) är "
                                  f"markerad med {SMALL_MARK}."),
                           ("en", f"Every figure resting on fewer than 30 comments (a municipality, an area) is "
                                  f"marked {SMALL_MARK}.")):
        rep = R.open_report(2024, "0180", lang, published)
        try:
            assert sentence in visible(str(section_method(rep)))
        finally:
            rep.close()


# -- findings 7, 8, 13, 16 (round 3) --------------------------------------------------------------------------------

def test_areas_without_comments_are_listed_with_a_dash_and_a_note(published):
    lead = render(published, 2023, "2584")["lead"]  # one comment: one area has it, the others none
    table = re.search(r'<table class="sp-table sp-areas".*?</table>', lead, re.S).group(0)
    listed = re.findall(r'<tr data-topic="([^"]+)"', table)
    assert set(listed) == {"all", *TOPICS}
    empty = re.findall(r'<tr data-topic="([^"]+)" data-empty="1">', table)
    assert empty and "all" not in empty
    assert 'data-note="empty-areas"' in lead and "inga synpunkter om området 2023" in visible(lead)


def test_small_channels_are_called_small_not_missing(published, monkeypatch):
    from synpunkt.report import sections
    from synpunkt.report.statistics import with_shares

    small = with_shares(pd.DataFrame({"channel": ["telefon", "e-post", "chatt", "besök"], "n": [2, 2, 2, 1],
                                      "n_positive": [1, 1, 0, 1], "n_skeptical": [0, 0, 1, 0],
                                      "n_negative": [1, 1, 1, 0]}))
    monkeypatch.setattr(sections, "channel_counts", lambda *a, **k: small)
    rep = R.open_report(2024, "0604", "sv", published)
    try:
        html = visible(str(sections.section_channels(rep)))
    finally:
        rep.close()
    assert "saknar uppgift om kanal" not in html
    assert "telefon 2, e-post 2, chatt 2, besök 1" in html and "färre än 5 synpunkter" in html


def test_one_urgent_comment_is_singular_and_no_delivery_is_claimed(published, monkeypatch):
    from synpunkt.report import signals

    monkeypatch.setattr(signals, "alert_counts", lambda *a, **k: {"threat": 1})
    for lang, wanted in (("sv", "flaggades 1 synpunkt som brådskande för uppföljning"),
                         ("en", "1 comment was flagged as urgent for follow-up")):
        rep = R.open_report(2024, "0180", lang, published)
        try:
            html = visible(str(signals.section_signals(rep)))
        finally:
            rep.close()
        assert wanted in html and "direkt till kommunen" not in html and "sent to the municipality" not in html


def test_peer_column_never_has_a_zero_width_interval():
    from synpunkt.report.statistics import net_bounds_counts, pooled_estimates

    peers = pd.DataFrame({"topic": ["digital"] * 2, "n": [6, 4], "share_positive": [0.0, 0.0],
                          "share_skeptical": [0.0, 0.0], "share_negative": [1.0, 1.0], "net_score": [-100.0, -100.0],
                          "net_score_se": [0.0, 0.0]})
    row = pooled_estimates(peers).iloc[0]
    assert row["net_score"] == -100 and row["net_score_lo"] == -100 and row["net_score_hi"] > -50
    lo, hi = net_bounds_counts(0, 10, 10)
    assert lo == -100 and -50 < hi < -30
    # a large group: the corrected estimates' own (weighted) standard error sets the interval when it is wider
    big = pd.DataFrame({"topic": ["all"] * 2, "n": [400, 600], "share_positive": [0.5, 0.4],
                        "share_skeptical": [0.2, 0.3], "share_negative": [0.3, 0.3], "net_score": [20.0, 10.0],
                        "net_score_se": [6.0, 4.0]})
    row = pooled_estimates(big).iloc[0]
    assert row["net_score"] == pytest.approx(14.0) and row["net_score_se"] == pytest.approx(4.8)
    assert row["net_score_lo"] == pytest.approx(14.0 - 1.96 * 4.8)

"""Annual reports: a small hand-made warehouse, one municipal report rendered directly and the national run
through the Prefect flow; the numbers in the HTML must be the warehouse's (the first screen's rank, gap and
arrows included), every plot present, comments escaped, no server path or command in a report."""

from __future__ import annotations

import html as htmlmod
import json
import math
import re
import stat
import unicodedata
from datetime import date, datetime

import pandas as pd
import pytest

from synpunkt import report as R
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt.report import pdf as report_pdf

VERSION = "synpunkt-test@0123456789"
YEARS = (2023, 2024)
MARKUP = "<script>alert(1)</script> Handläggaren var <b>fet</b> och jättebra"
PLACEHOLDER = "Tack [NAMN] för hjälpen, ring mig gärna på [TELEFON]"
RAW_NAME = "Lindqvist"  # in metadata the report must never print
RAW_PNR = "121212-1212"  # in a file name and a quarantine row the report must never print
# (municipality, year) -> (positive, skeptical, negative). In 2024 Stockholm (40) and Malmö (35) have the
# MIN_RANK_N = 30 comments needed to be ranked, Göteborg (25) and Upplands Väsby (20) do not. Stockholm, Malmö
# and Göteborg are SKR's group A1; Upplands Väsby (A2) is alone in its group, so its peers are its county's.
MIX = {("0180", 2023): (6, 6, 18), ("0180", 2024): (28, 6, 6),
       ("0114", 2023): (10, 5, 5), ("0114", 2024): (12, 4, 4),
       ("1480", 2023): (12, 6, 7), ("1480", 2024): (10, 5, 10),
       ("1280", 2023): (12, 8, 10), ("1280", 2024): (14, 8, 13)}
CHANNELS = ["telefon", "e-post", "chatt", "besök"]


def _comments_and_predictions() -> tuple[pd.DataFrame, pd.DataFrame]:
    comments, predictions = [], []
    for (code, year), counts in MIX.items():
        sentiments = [s for s, k in zip(SENTIMENTS, counts) for _ in range(k)]
        for i, sentiment in enumerate(sentiments):
            topic = TOPICS[i % len(TOPICS)]
            topics = [topic, TOPICS[(i + 1) % len(TOPICS)]]  # two areas each: every area has enough to test
            text = f"Synpunkt {i} från {code} om {topic} ({sentiment})"
            conf = 0.7
            if code == "0180" and year == 2024 and i == 0:
                text, topics, conf = MARKUP, ["handler"], 0.999
            elif code == "0180" and year == 2024 and i == 1:
                text, topics, conf = PLACEHOLDER, ["experience"], 0.998
            meta = None
            if code == "0180":
                meta = {"kön": ["kvinna", "man", "kvinna", "man", "okänt"][i % 5],
                        "samtalstid_min": f"{3 + (i % 7) * 1.5:.1f}".replace(".", ",") if i % 4 != 3 else "",
                        "handläggare": "Karin " + RAW_NAME}
            cid = f"{code}-{year}-{i}"
            comments.append({
                "comment_id": cid, "batch_id": f"{code}-{year}", "municipality_code": code, "row_number": i + 1,
                "external_id": str(i), "contact_date": date(year, 1 + i % 12, 1 + i % 28), "year": year,
                "channel": None if code == "1480" else CHANNELS[i % len(CHANNELS)], "text": text,
                "redactions": json.dumps({}), "metadata": json.dumps(meta, ensure_ascii=False) if meta else None,
                "ingested_at": datetime(year + 1, 1, 2)})
            probs = {s: (conf if s == sentiment else (1 - conf) / 2) for s in SENTIMENTS}
            row = {"comment_id": cid, "model_version": VERSION, "sentiment": sentiment,
                   **{prob_column(s): probs[s] for s in SENTIMENTS}, "topics": topics,
                   **{prob_column(t): (conf if t in topics else 0.05) for t in TOPICS},
                   "topic_sentiment": json.dumps({t: sentiment for t in topics}),
                   "classified_at": datetime(year + 1, 1, 3)}
            predictions.append(row)
    return pd.DataFrame(comments), pd.DataFrame(predictions)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse built by hand (3 municipalities, 2 years, quarantine, a failed batch), then published."""
    from synpunkt.publish import publish
    from synpunkt.warehouse import connect, insert_frame, refresh_trends, set_current_model

    tmp = tmp_path_factory.mktemp("report-warehouse")
    con = connect(tmp / "warehouse.duckdb")
    comments, predictions = _comments_and_predictions()
    batches = []
    for (code, year), counts in MIX.items():
        quarantined = 2 if (code, year) == ("0180", 2024) else 0
        batches.append({"batch_id": f"{code}-{year}", "municipality_code": code, "origin": "inbox",
                        "original_name": f"export_{RAW_PNR}.csv", "file_format": "csv", "checksum_sha256": "0" * 64,
                        "size_bytes": 100, "received_at": datetime(year + 1, 1, 1), "status": "ingested",
                        "rows_received": sum(counts) + quarantined, "rows_accepted": sum(counts),
                        "rows_quarantined": quarantined, "error": None, "processed_at": datetime(year + 1, 1, 2)})
    batches.append({"batch_id": "1480-broken", "municipality_code": "1480", "origin": "inbox",
                    "original_name": "broken.xlsx", "file_format": "xlsx", "checksum_sha256": "1" * 64,
                    "size_bytes": 10, "received_at": datetime(2025, 1, 1), "status": "failed", "rows_received": 0,
                    "rows_accepted": 0, "rows_quarantined": 0, "error": "not a workbook",
                    "processed_at": datetime(2025, 1, 2)})
    quarantine = pd.DataFrame([
        {"batch_id": "0180-2024", "row_number": 90, "municipality_code": "0180", "reason_code": "empty_text",
         "reason": "empty comment", "row_redacted": json.dumps({"personnummer": RAW_PNR}),
         "quarantined_at": datetime(2025, 1, 2)},
        {"batch_id": "0180-2024", "row_number": 91, "municipality_code": "0180", "reason_code": "invalid_date",
         "reason": "invalid date", "row_redacted": json.dumps({"datum": "2024-13-40"}),
         "quarantined_at": datetime(2025, 1, 2)}])
    insert_frame(con, "batches", pd.DataFrame(batches))
    insert_frame(con, "comments", comments)
    insert_frame(con, "predictions", predictions)
    insert_frame(con, "quarantine", quarantine)
    set_current_model(con, VERSION)
    refresh_trends(con, VERSION)
    path = publish(con, tmp / "published" / "synpunkt.duckdb")
    con.close()
    model_dir = tmp / "synpunkt-test"
    model_dir.mkdir()
    (model_dir / "evaluation.json").write_text(json.dumps({
        "model_version": VERSION, "date": "2026-01-01",
        "sets": {"in_domain_test": {"sentiment": {"n": 254, "macro_f1": 0.9123, "macro_f1_ci95": [0.881, 0.944]},
                                    "topics": {"n": 254, "micro_f1": 0.7712, "micro_f1_ci95": [0.736, 0.806]}}},
        "targets": {"in_domain_test.sentiment.macro_f1": {"target": 0.85, "value": 0.9123, "met": True},
                    "in_domain_test.topics.micro_f1": {"target": 0.85, "value": 0.7712, "met": False}}}))
    return path, model_dir


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (tags removed, entities decoded, spaces collapsed)."""
    body = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", body)))


def figures(page: str) -> list[str]:
    """The data-fig keys of the embedded PNG figures, in page order."""
    return re.findall(r'<figure class="sp-fig" data-fig="([^"]+)">\s*<img [^>]*src="data:image/png;base64,', page)


def warehouse_counts(path, code, year) -> tuple[int, int]:
    """n and positive comments straight from the tables (not the report's views)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT count(*), count(*) FILTER (p.sentiment = 'positive') FROM comments c JOIN predictions p "
            "USING (comment_id) WHERE c.municipality_code = ? AND c.year = ? AND p.model_version = ?",
            [code, year, VERSION]).fetchall()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def municipal(published, tmp_path_factory):
    """Stockholm's report in Swedish; with a PDF where Chromium is installed."""
    path, model_dir = published
    out = tmp_path_factory.mktemp("reports-sv")
    result = R.render_report(2024, "0180", lang="sv", out_dir=out, warehouse=path, model_dir=model_dir,
                             pdf=report_pdf.find_chromium() is not None)
    return result, (out / result.html).read_text(encoding="utf-8")


def shares(path, code: str | None, year: int) -> dict[str, tuple[int, int, int, float]]:
    """topic -> (n, positive, negative, net score) straight from yearly_shares / national_shares."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        if code:
            rows = con.execute("SELECT topic, n, share_positive, share_negative, net_score FROM yearly_shares "
                               "WHERE municipality_code = ? AND year = ?", [code, year]).fetchall()
        else:
            rows = con.execute("SELECT topic, n, share_positive, share_negative, net_score FROM national_shares "
                               "WHERE year = ?", [year]).fetchall()
    finally:
        con.close()
    return {t: (n, round(p * n), round(q * n), net) for t, n, p, q, net in rows}


def estimates(path, code: str | None, year: int) -> dict[str, tuple[int, float, float]]:
    """topic -> (n, corrected net score, its standard error) from yearly_shares / national_shares."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        where, args = ("yearly_shares WHERE municipality_code = ? AND", [code]) if code else ("national_shares WHERE", [])
        rows = con.execute(f"SELECT topic, n, net_score, net_score_se FROM {where} year = ?", [*args, year]).fetchall()
    finally:
        con.close()
    return {t: (n, net, se) for t, n, net, se in rows}


def _vs_rest(own: tuple[int, float, float], nat: tuple[int, float, float]) -> tuple[float, float]:
    """(difference, p) of a municipality against the rest of the country on the corrected estimates."""
    rest_net, rest_se = R.rest_estimate(nat[1], nat[2], nat[0], own[1], own[0])
    d, _, p = R.estimate_change_test(rest_net, rest_se, nat[0] - own[0], own[1], own[2], own[0])
    return d, p


def tags(page: str, name: str, attribute: str) -> list[tuple[dict, str]]:
    """Every <name ...> element with `attribute`: (its attributes, its HTML). Attribute order is not kept by the
    notebook's HTML export, so it is parsed."""
    found = []
    for m in re.finditer(rf"<{name}\b([^>]*)>(.*?)</{name}>", page, re.S):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        if attribute in attrs:
            found.append((attrs, m.group(0)))
    return found


def fact(page: str, kind: str) -> tuple[dict, str] | None:
    """The first screen's <li data-fact="kind"> element (attributes, HTML), or None."""
    return next(((a, h) for a, h in tags(page, "li", "data-fact") if a["data-fact"] == kind), None)


def test_municipal_report_numbers_match_the_warehouse(published, municipal):
    path, _ = published
    result, page = municipal
    n, positive = warehouse_counts(path, "0180", 2024)
    assert (n, positive) == (40, 28)
    text = visible_text(page)
    assert f'data-n="{n}"' in page
    assert f"{n} synpunkter under 2024: {round(100 * positive / n)}\u00a0% positiva" in text
    assert result.n == n and (result.pdf is None) == (report_pdf.find_chromium() is None)
    net = 100 * (28 - 6) / 40
    assert math.isclose(result.net_score, net)
    assert f"Nettotal {R.fmt_signed(net)} (95\u00a0%\u00a0KI" in text
    # the year's 'all' row of the stacked-bar table and the method section agree
    assert re.search(r"Synpunkter i rapporten \(2024\) 40 ", text)
    assert "Synpunkter 2024: Stockholm" in text


def test_municipal_report_has_every_plot(municipal):
    _, page = municipal
    expected = ["year-shares", "trend-net", "trend-shares", "benchmark", "ranking", "channels", "equal-sentiment",
                "equal-duration"]
    assert figures(page) == expected
    assert page.count("<img") == len(expected)
    for section in ("year", "trends", "benchmark", "channels", "equal", "quotes", "method"):
        assert f'data-section="{section}"' in page


def test_municipal_report_marks_significant_change_and_names_the_tests(municipal):
    _, page = municipal
    changes = re.search(r'<table class="sp-table" data-table="changes">.*?</table>', page, re.S).group(0)
    first_row = next(h for a, h in tags(changes, "tr", "data-topic") if a["data-topic"] == "all")
    assert 'class="sp-sig"' in first_row and "▲" in first_row  # 0180 went from 6/30 to 28/40 positive
    text = visible_text(page)
    assert "skillnaden mellan de korrigerade nettotalen med ett z-test" in text
    assert "rikets skattning utan kommunens synpunkter" in text  # the rest of the country, as national_gaps
    assert "Chi-två-test" in text and "Welch t-test" in text
    # the comparison group is SKR's group A1 (Göteborg and Malmö have data), not the county
    assert 'data-peers="group"' in page and "Storstäder (Göteborg, Malmö)" in text


def test_first_screen_rank_gap_and_area_arrows_match_the_warehouse(published, municipal):
    """Rank among the municipalities with >= MIN_RANK_N comments, the gap to the country with the z-test against
    the rest of the country, and each area's change since last year with ▲/▼: all recomputed here from the
    warehouse's views and the statistics tested against hand computation below."""
    path, _ = published
    _, page = municipal
    lead = page[:page.index('data-section="year"')]  # everything before the first section
    ranked = sorted(((net, code) for code in {c for c, _ in MIX}
                     if (row := shares(path, code, 2024)["all"])[0] >= R.MIN_RANK_N for net in [row[3]]),
                    reverse=True)
    assert [c for _, c in ranked] == ["0180", "1280"]
    attrs, html = fact(lead, "rank")
    assert (attrs["data-rank"], attrs["data-total"]) == ("1", str(len(ranked)))
    assert "Plats 1 av 2" in visible_text(html)

    own_now, own_prev, nat = shares(path, "0180", 2024), shares(path, "0180", 2023), shares(path, None, 2024)
    own_est, nat_est = estimates(path, "0180", 2024), estimates(path, None, 2024)
    diff, p = _vs_rest(own_est["all"], nat_est["all"])
    assert diff > 0 and p < 0.05  # Stockholm is significantly above the rest of the country
    attrs, html = fact(lead, "gap")  # the gap printed is the one tested: against the rest of the country
    assert math.isclose(float(attrs["data-gap"]), diff, abs_tol=1e-5) and attrs["data-mark"] == "▲"
    assert "mot övriga landets" in visible_text(html)
    assert f"procentenheter högre ▲ (statistiskt säkerställd skillnad, {R.fmt_p(p)})" in visible_text(html)

    area_rows = [a for a, _ in tags(lead, "tr", "data-change-mark")]
    rows = {a["data-topic"]: a["data-change-mark"] for a in area_rows}
    gaps = {a["data-topic"]: a["data-gap-mark"] for a in area_rows}
    assert set(rows) == set(gaps) == {"all", *TOPICS}
    marks = set()
    for topic in ("all", *TOPICS):
        (n1, p1, q1, _), (n2, p2, q2, _) = own_prev[topic], own_now[topic]
        d, _, pv = R.net_change_test(p1, q1, n1, p2, q2, n2)
        expected = "-" if pv != pv or pv >= 0.05 else ("▲" if d > 0 else "▼")
        assert rows[topic] == expected, topic
        marks.add(expected)
        d, pv = _vs_rest(own_est[topic], nat_est[topic])
        assert gaps[topic] == ("-" if pv != pv or pv >= 0.05 else ("▲" if d > 0 else "▼")), topic
    assert "▲" in marks  # the fixture has significant changes to show
    above = sum(gaps[t] == "▲" for t in TOPICS)
    assert fact(lead, "areas")[0]["data-above"] == str(above)


def test_a_municipality_below_the_minimum_is_warned_not_ranked(published, tmp_path):
    path, model_dir = published
    result = R.render_report(2024, "Göteborg", lang="sv", out_dir=tmp_path, warehouse=path, model_dir=model_dir,
                             pdf=False)
    page = (tmp_path / result.html).read_text(encoding="utf-8")
    assert result.n == 25 < R.MIN_RANK_N
    assert fact(page, "rank") is None
    warning = visible_text(fact(page, "unranked")[1])
    assert "25 synpunkter 2024, färre än de 30 som krävs för att rangordnas" in warning
    assert "Rangordnas inte (färre än 30 synpunkter): Upplands Väsby, Göteborg." in visible_text(page) or \
        "Rangordnas inte (färre än 30 synpunkter): Göteborg, Upplands Väsby." in visible_text(page)


def test_peer_groups_are_skr_groups_with_the_county_as_fallback(published):
    """A1 has three municipalities with data: the group. Upplands Väsby is alone in A2: its county. Without
    Malmö's data, Göteborg has too small a group and no county neighbour: no comparison group."""
    import duckdb

    from synpunkt.publish import open_published

    path, _ = published
    con = open_published(path)
    try:
        stockholm, vasby = R.peer_group(con, 2024, "0180"), R.peer_group(con, 2024, "0114")
    finally:
        con.close()
    assert (stockholm.kind, stockholm.group, sorted(stockholm.codes)) == ("group", "A1", ["1280", "1480"])
    assert (vasby.kind, vasby.group, vasby.codes) == ("county", "A2", ["0180"])

    mem = duckdb.connect()
    mem.execute("CREATE TABLE municipalities AS SELECT * FROM (VALUES ('0180', 'Stockholm', '01', 'Stockholms län'), "
                "('1480', 'Göteborg', '14', 'Västra Götalands län')) t(code, name, county_code, county)")
    mem.execute("CREATE TABLE yearly_shares AS SELECT * FROM (VALUES ('0180', 'Stockholm', 'Stockholms län', 2024, "
                "'all', 40), ('1480', 'Göteborg', 'Västra Götalands län', 2024, 'all', 25)) "
                "t(municipality_code, municipality, county, year, topic, n)")
    alone = R.peer_group(mem, 2024, "1480")
    assert (alone.kind, alone.codes) == ("none", [])


def test_kommungrupper_reference_table():
    from synpunkt.municipalities import KOMMUNGRUPPER, kommungrupp, load_kommungrupper, load_municipalities

    groups = load_kommungrupper()
    assert list(groups.columns) == ["code", "kommungrupp"]
    assert sorted(groups["code"]) == sorted(load_municipalities()["code"])  # all 290, each once
    assert set(groups["kommungrupp"]) == set(KOMMUNGRUPPER)
    assert sorted(groups.loc[groups["kommungrupp"] == "A1", "code"]) == ["0180", "1280", "1480"]
    assert kommungrupp(180) == "A1"
    assert set(R.STRINGS["sv"]["kommungrupper"]) == set(R.STRINGS["en"]["kommungrupper"]) == set(KOMMUNGRUPPER)


def test_no_server_path_or_command_in_any_report(published, municipal, tmp_path):
    """Reports are public: no warehouse or model path, no home or temp folder, no command line."""
    import os
    import tempfile

    path, model_dir = published
    result, page = municipal
    national = R.render_report(2024, None, lang="en", out_dir=tmp_path, warehouse=path, model_dir=model_dir,
                               pdf=False)
    index = R.write_index(tmp_path, 2024, [national], lang="en", warehouse=path)
    for html in (page, (tmp_path / national.html).read_text(encoding="utf-8"), index.read_text(encoding="utf-8")):
        html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)  # base64 may spell anything
        text = visible_text(html)
        for secret in (str(path), str(path.parent), str(model_dir), "evaluation.json", "synpunkt report",
                       "--warehouse", "--municipality", os.path.expanduser("~"), tempfile.gettempdir() + "/",
                       str(R.NOTEBOOK.parent)):
            assert secret not in html, secret
        assert not re.search(r"(?<![\w.])/(?:home|tmp|var|usr|root|opt|srv|work)/", text)


def test_comments_are_escaped_and_personal_data_never_shown(municipal):
    _, page = municipal
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;fet&lt;/b&gt;" in page
    assert "<script" not in page.lower()  # the page has no scripts at all, and no comment can add one
    assert "<b>fet</b>" not in page
    assert "[NAMN]" in page and "[TELEFON]" in page
    assert RAW_NAME not in page and RAW_PNR not in page


def test_method_section(published, municipal):
    path, _ = published
    _, page = municipal
    text = visible_text(page)
    assert VERSION in text
    assert "0,91 (95\u00a0%\u00a0KI 0,88–0,94)" in text and "0,77 (95\u00a0%\u00a0KI 0,74–0,81)" in text
    assert "Rader mottagna / godkända / i karantän 72 / 70 / 2" in text  # 0180: two batches, two rows quarantined
    assert "Filer som inte kunde läsas 0" in text
    assert "Om siffrorna" in text and "kommungruppsindelning 2023" in text  # the appendix, in plain language
    assert "minst 30 synpunkter" in text
    assert "Korrigering av andelarna" in text  # the share correction used, named


def test_flow_renders_national_and_every_municipality_in_english(published, tmp_path):
    from prefect.testing.utilities import prefect_test_harness

    from flows.report import report_flow

    path, model_dir = published
    (tmp_path / "out").mkdir()
    (tmp_path / "out").chmod(0o750)  # as the flow makes it (it keeps a folder's mode)
    (tmp_path / "out" / "STALE.txt").write_text("batch withdrawn since (synpunkt.report.mark_stale)\n")
    with prefect_test_harness(server_startup_timeout=120):
        folder = report_flow(year=2024, lang="en", out_dir=tmp_path / "out", warehouse=path, pdf=False,
                             model_dir=model_dir)
    out = tmp_path / "out"
    assert folder == str(out)
    assert not (out / "STALE.txt").exists(), "the whole year rendered again: no longer stale"
    # explicit modes, whatever the umask: the analysts' group reads the reports, nobody else
    assert {stat.S_IMODE(p.stat().st_mode) for p in (out, out / "notebooks")} == {0o750}
    assert {stat.S_IMODE(p.stat().st_mode) for p in [*out.glob("*.html"), *out.glob("notebooks/*")]} == {0o640}
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    assert set(pages) == {"index.html", "synpunkt-2024-national-en.html", "synpunkt-2024-0180-stockholm-en.html",
                          "synpunkt-2024-0114-upplands-vasby-en.html", "synpunkt-2024-1480-goteborg-en.html",
                          "synpunkt-2024-1280-malmo-en.html"}
    index = pages["index.html"]
    for name in pages:
        if name != "index.html":
            assert f'href="{name}"' in index

    national = pages["synpunkt-2024-national-en.html"]
    text = visible_text(national)
    n = sum(sum(v) for (code, year), v in MIX.items() if year == 2024)
    positive = sum(v[0] for (code, year), v in MIX.items() if year == 2024)
    assert f"{n} comments in 2024: {round(100 * positive / n)}% positive" in text
    for heading in ("The year at a glance", "Trends", "Benchmark", "Channels", "Equal treatment",
                    "What citizens say", "About the figures"):
        assert f">{heading}</h2>" in national
    assert "Året i en bild" not in national and "Jämförelse" not in national
    assert figures(national) == ["year-shares", "trend-net", "trend-shares", "ranking", "channels",
                                 "equal-sentiment", "equal-duration"]
    assert "Files that could not be read 1" in text  # the failed Göteborg batch
    assert fact(national, "spread")[0]["data-total"] == "2"  # Stockholm and Malmö are ranked, two are not
    assert "Not ranked (fewer than 30 comments): Upplands Väsby, Göteborg." in text
    assert "&lt;script&gt;" in national and "<script" not in national.lower()

    gothenburg = pages["synpunkt-2024-1480-goteborg-en.html"]
    gtext = visible_text(gothenburg)
    assert "have no metadata on gender" in gtext  # equal treatment: a sentence, no empty plots
    assert "carry no channel" in gtext
    assert figures(gothenburg) == ["year-shares", "trend-net", "trend-shares", "benchmark", "ranking"]


def test_statistics_match_the_warehouse_and_hand_computation(published):
    from synpunkt.publish import open_published

    path, _ = published
    con = open_published(path)
    try:
        row = con.execute("SELECT n, share_positive, share_positive_lo, share_positive_hi, net_score, net_score_lo, "
                          "net_score_hi FROM yearly_shares WHERE municipality_code = '0180' AND year = 2024 "
                          "AND topic = 'all'").fetchall()[0]
    finally:
        con.close()
    lo, hi = R.wilson(28, 40)
    assert math.isclose(lo, row[2]) and math.isclose(hi, row[3])
    net, nlo, nhi = R.net_score(28, 6, 40)
    assert math.isclose(net, row[4]) and math.isclose(nlo, row[5]) and math.isclose(nhi, row[6])
    # pooled two-sample z-test on the net score: 6-18 of 30 -> 28-6 of 40
    diff, z, p = R.net_change_test(6, 18, 30, 28, 6, 40)
    pos, neg = 34 / 70, 24 / 70
    se = math.sqrt((pos + neg - (pos - neg) ** 2) * (1 / 30 + 1 / 40))
    assert math.isclose(diff, 100 * (22 / 40 + 12 / 30)) and math.isclose(z, (22 / 40 + 12 / 30) / se)
    assert p < 0.001
    assert math.isnan(R.net_change_test(1, 0, 3, 5, 5, 40)[2])  # too few comments to test


def test_formatting_and_palette():
    assert R.fmt_pct(0.5, "sv") == "50\u00a0%" and R.fmt_pct(0.5, "en") == "50%"
    assert R.fmt_signed(-12.4) == "\u221212" and R.fmt_signed(0.2) == "0" and R.fmt_signed(35) == "+35"
    assert R.fmt_num(1234.5, 1, "sv") == "1\u00a0234,5" and R.fmt_num(1234.5, 1, "en") == "1,234.5"
    assert R.fmt_p(0.0001, "sv") == "p < 0,001"
    for color in R.COLORS.values():  # labels drawn on the bars reach at least 3:1 (large bold text)
        assert R.contrast_ratio(color, R.label_color(color)) >= 3.0
    for color in R.TEXT_COLORS.values():  # coloured text on white reaches 4.5:1
        assert R.contrast_ratio(color, "#ffffff") >= 4.5
    assert set(R.STRINGS["sv"]) == set(R.STRINGS["en"])
    with pytest.raises(ValueError):
        R.strings("de")


def test_dates_and_numbers_come_from_babel():
    assert R.fmt_date("2026-01-01", "sv") == "1 januari 2026" and R.fmt_date("2026-01-01", "en") == "1 January 2026"
    assert R.fmt_datetime(datetime(2025, 11, 28, 14, 5), "sv") == "28 november 2025 14:05"
    assert R.fmt_pct(0.1234, "sv", 1) == "12,3\u00a0%" and R.fmt_pct(None) == "–"
    assert R.fmt_num(-0.2) == "0" and R.fmt_num(-1234, 0, "sv") == "\u22121\u00a0234"


@pytest.mark.skipif(report_pdf.find_chromium() is None, reason="headless Chromium (Debian: chromium) not installed")
def test_pdf_has_page_numbers_a_running_header_and_no_orphaned_heading(municipal):
    from pypdf import PdfReader

    result, page = municipal
    pages = [[unicodedata.normalize("NFKC", line).strip() for line in p.extract_text().splitlines() if line.strip()]
             for p in PdfReader(result.pdf).pages]  # NFKC: the PDF's ligatures (ﬀ, ﬁ) as letters
    total = len(pages)
    assert total > 1
    title = "Synpunkter 2024: Stockholm"
    for number, lines in enumerate(pages, start=1):
        assert f"Sida {number} av {total}" in lines  # the footer on every page
        assert title in lines  # the running header (page 1: the title itself)
    assert pages[0].count(title) == 1 and "Så står sig Stockholm 2024" in pages[0]  # the first screen leads
    headings = [unicodedata.normalize("NFKC", htmlmod.unescape(h))
                for h in re.findall(r"<h[23][^>]*>([^<]+)</h[23]>", page)]
    assert len(headings) > 8
    for heading in headings:
        where = [(i, lines.index(heading)) for i, lines in enumerate(pages) if heading in lines]
        assert where, heading
        for i, at in where:  # something of its section follows the heading on the same page
            rest = [line for line in pages[i][at + 1:] if line != title and not line.startswith("Sida ")]
            assert rest, f"heading {heading!r} is the last line of page {i + 1}"


def test_pdf_is_skipped_with_a_hint_without_chromium(tmp_path, monkeypatch, caplog):
    page = tmp_path / "r.html"
    page.write_text(R.page_html("<p>x</p>", "t", "sv"))
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: None)
    with caplog.at_level("WARNING"):
        assert R.print_pdf(page, tmp_path / "r.pdf") is False
    assert not (tmp_path / "r.pdf").exists()
    assert "apt-get install chromium" in caplog.text


def test_unknown_year_or_municipality_is_a_clear_error(published):
    path, _ = published
    with pytest.raises(ValueError, match="years with data: 2023, 2024"):
        R.open_report(2019, None, "sv", path)
    with pytest.raises(ValueError, match="unknown municipality"):
        R.open_report(2024, "9999", "sv", path)
    with pytest.raises(ValueError, match=r"Vallentuna \(0115\) has no classified comments for 2024; its years with "
                                         r"data: none"):
        R.open_report(2024, "Vallentuna", "sv", path)


def test_cli_report_errors_are_clear(published, tmp_path):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    path, _ = published
    runner = CliRunner()
    missing = runner.invoke(app, ["report", "--warehouse", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no published warehouse" in missing.output
    wrong_year = runner.invoke(app, ["report", "--year", "2019", "--warehouse", str(path)])
    assert wrong_year.exit_code == 2 and "years with data: 2023, 2024" in wrong_year.output


MATH = "$\\undefinedmacro{x}$ <i>x</i>"  # text from data that matplotlib would parse as math, HTML as markup


def test_text_from_data_is_never_parsed_as_math_or_markup(tmp_path):
    """A metadata value like `$\\undefinedmacro{x}$` is drawn as written in the figures and escaped in the HTML."""
    from synpunkt.publish import publish
    from synpunkt.warehouse import connect, insert_frame, refresh_trends, set_current_model

    comments, predictions = _comments_and_predictions()
    comments["metadata"] = comments["metadata"].map(
        lambda m: m.replace('"kvinna"', json.dumps(MATH)) if isinstance(m, str) else m)
    batches = pd.DataFrame([{"batch_id": f"{code}-{year}", "municipality_code": code, "origin": "inbox",
                             "original_name": "export.csv", "file_format": "csv", "checksum_sha256": "0" * 64,
                             "size_bytes": 100, "received_at": datetime(year + 1, 1, 1), "status": "ingested",
                             "rows_received": sum(counts), "rows_accepted": sum(counts), "rows_quarantined": 0,
                             "processed_at": datetime(year + 1, 1, 2)} for (code, year), counts in MIX.items()])
    con = connect(tmp_path / "warehouse.duckdb")
    for table, df in (("batches", batches), ("comments", comments), ("predictions", predictions)):
        insert_frame(con, table, df)
    set_current_model(con, VERSION)
    refresh_trends(con, VERSION)
    path = publish(con, tmp_path / "published.duckdb")
    con.close()

    result = R.render_report(2024, None, lang="en", out_dir=tmp_path / "out", warehouse=path,
                             model_dir=tmp_path / "no-model", pdf=False)
    page = (tmp_path / "out" / result.html).read_text(encoding="utf-8")
    assert "equal-sentiment" in figures(page) and "equal-duration" in figures(page)
    assert htmlmod.escape(MATH) in page  # the group's name in the test sentence, escaped
    assert "<i>x</i>" not in page


def test_channels_section_without_a_group_large_enough_has_no_figure(published, monkeypatch):
    """Two channels with fewer comments than the minimum group each: a sentence, not an empty chart (this used to
    fail in matplotlib with 'bottom cannot be >= top')."""
    from synpunkt.report import queries, sections

    path, model_dir = published
    rep = R.open_report(2024, "0180", "sv", path, model_dir)
    try:
        few = queries.channel_counts(rep.con, 2024, "0180").head(2).assign(n=2, n_positive=1, n_skeptical=0,
                                                                            n_negative=1)
        monkeypatch.setattr(sections, "channel_counts", lambda con, year, code=None: few)
        html = str(sections.section_channels(rep))
    finally:
        rep.close()
    assert "<img" not in html and 'data-section="channels"' in html


def test_the_method_section_publishes_the_worse_test_set(tmp_path):
    """The report's accuracy is the model card's headline: per figure, the worse of the two in-domain test sets."""
    import json

    from synpunkt.report.queries import model_evaluation

    sets = {"in_domain_test": {"sentiment": {"n": 254, "macro_f1": 0.95, "macro_f1_ci95": [0.92, 0.97]},
                               "topics": {"micro_f1": 0.84, "micro_f1_ci95": [0.81, 0.87]}},
            "in_domain_test_independent": {"sentiment": {"n": 438, "macro_f1": 0.92, "macro_f1_ci95": [0.90, 0.95]},
                                           "topics": {"micro_f1": 0.86, "micro_f1_ci95": [0.84, 0.88]}}}
    targets = {"in_domain_test_independent.sentiment.macro_f1": {"target": 0.88, "met": True},
               "in_domain_test.topics.micro_f1": {"target": 0.85, "met": False}}
    (tmp_path / "evaluation.json").write_text(json.dumps({"model_version": "m@1", "sets": sets, "targets": targets}))
    ev = model_evaluation(tmp_path, "m@1")
    assert (ev["sentiment_macro_f1"], ev["sentiment_macro_f1_ci"], ev["sentiment_macro_f1_set"]) == \
        (0.92, [0.90, 0.95], "in_domain_test_independent")
    assert (ev["topic_micro_f1"], ev["topic_micro_f1_set"]) == (0.84, "in_domain_test")
    assert ev["sentiment_target"]["met"] and not ev["topic_target"]["met"]
    assert (ev["n"], ev["n_sets"]) == (692, 2)

"""Red-team findings on the review loop: an agreeing reviewer leaves the per-area sentiments alone, Swedish and
English label names are read in any case (a near miss gets a hint, never the cell echoed), the workbook explains
itself, a re-saved workbook adds nothing, an import marks rendered reports stale, and an unwritable review file
is one line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from synpunkt.cli import app
from synpunkt.review import (ReviewExportError, ReviewImportError, export_review, import_review, parse_sentiment,
                             parse_topics)

runner = CliRunner()
MODEL_AREAS = {"wait_time": "negative", "experience": "positive"}  # overall positive, wait time negative


def _two_area_comment(con) -> str:
    """Give one 2025 Stockholm comment the tester's prediction: overall positive, wait time negative, experience
    positive; returns its id."""
    cid = "0180-2025-1"
    con.execute("UPDATE predictions SET sentiment = 'positive', topics = ['wait_time', 'experience'], "
                "topic_sentiment = ? WHERE comment_id = ?", [json.dumps(MODEL_AREAS), cid])
    return cid


def _review_file(con, tmp_path: Path, answers: dict[str, dict], name: str = "g.xlsx") -> Path:
    """A review file with one row per comment in `answers` (column -> value), as a reviewer fills it."""
    out = tmp_path / name
    export_review(con, "0180", 2025, 4, out)
    sheet = pd.read_excel(out, dtype=str, keep_default_na=False).iloc[0:0]
    rows = [{"comment_id": cid, "sample_kind": "random", "corrected_sentiment": "", "corrected_topics": "",
             "reviewer": "Kim Andersson", **a} for cid, a in answers.items()]
    pd.concat([sheet, pd.DataFrame(rows)], ignore_index=True).fillna("").to_excel(out, index=False)
    return out


def _shown(con, cid: str) -> dict:
    return json.loads(con.execute("SELECT topic_sentiment FROM comments_classified WHERE comment_id = ?",
                                  [cid]).fetchall()[0][0])


def _both_branches(con, cid: str) -> dict:
    """The per-area sentiments comments_classified shows live and from the comment mart (they must agree)."""
    from analyst_warehouse import VERSION

    from synpunkt.marts import build_comment_mart

    live = _shown(con, cid)
    build_comment_mart(con, VERSION)
    assert con.execute("SELECT comment_mart_fresh()").fetchall()[0][0]
    mart = _shown(con, cid)
    assert live == mart
    return mart


# -- 1. per-area sentiments of a corrected comment ----------------------------------------------------------------
@pytest.mark.parametrize("answer, expected", [
    ({}, MODEL_AREAS),  # agree: the model's per-area sentiments stay
    ({"corrected_sentiment": "negative"},  # wait time had its own sentiment; experience followed the overall
     {"wait_time": "negative", "experience": "negative"}),
    ({"corrected_sentiment": "skeptical", "corrected_topics": "wait_time; experience; handler"},  # an added area
     {"wait_time": "negative", "experience": "skeptical", "handler": "skeptical"}),
    ({"corrected_topics": "experience"}, {"experience": "positive"}),  # an area removed, the other kept
    ({"corrected_topics": "-"}, {}),
])
def test_correction_sets_area_sentiments_by_the_documented_rule(con, tmp_path, answer, expected):
    cid = _two_area_comment(con)
    assert import_review(con, _review_file(con, tmp_path, {cid: answer}))["imported"] == 1
    assert _both_branches(con, cid) == expected
    topics = dict(con.execute("SELECT topic, topic_sentiment FROM comment_topics WHERE comment_id = ?",
                              [cid]).fetchall())
    assert topics == expected


def test_agree_only_changes_no_area_count(con, tmp_path):
    """The per-area counts behind the per-area figures (comment_topics) are the same before and after an
    agree-only review."""
    cid = _two_area_comment(con)
    sql = ("SELECT topic, topic_sentiment, count(*) FROM comment_topics WHERE municipality_code = '0180' "
           "AND year = 2025 GROUP BY ALL ORDER BY ALL")
    before = con.execute(sql).fetchall()
    import_review(con, _review_file(con, tmp_path, {cid: {}}))
    assert con.execute(sql).fetchall() == before


def test_agree_only_keeps_the_yearly_area_counts(con, tmp_path):
    from analyst_warehouse import VERSION

    from synpunkt.warehouse import refresh_trends

    cid = _two_area_comment(con)
    sql = ("SELECT n_positive, n_skeptical, n_negative FROM yearly_shares WHERE municipality_code = '0180' "
           "AND year = 2025 AND topic = 'wait_time'")
    refresh_trends(con, VERSION)
    before = con.execute(sql).fetchall()
    import_review(con, _review_file(con, tmp_path, {cid: {}}))
    refresh_trends(con, VERSION)
    assert con.execute(sql).fetchall() == before


# -- 4. label names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, code", [("negativ", "negative"), (" Skeptisk ", "skeptical"), ("POSITIVE", "positive"),
                                        ("positiv", "positive"), ("", None)])
def test_sentiment_names_in_swedish_and_english_any_case(cell, code):
    assert parse_sentiment(cell) == (code, None)


def test_area_names_in_swedish_and_english_any_case():
    assert parse_topics(" Väntetid ;wait time, Digitala tjänster", ["handler"]) == (
        ["wait_time", "digital_services"], None)
    assert parse_topics("Case handler and treatment; EXPERIENCE", []) == (["handler", "experience"], None)
    assert parse_topics("", ["handler"]) == (["handler"], None) and parse_topics(" - ", ["handler"]) == ([], None)


def test_near_misses_get_a_hint_without_the_cell(con, tmp_path):
    out = _review_file(con, tmp_path, {"0180-2025-1": {"corrected_sentiment": "negatve"},
                                       "0180-2025-2": {"corrected_topics": "wait_time;experiance"},
                                       "0180-2025-3": {"corrected_sentiment": "Skeptisk",
                                                       "corrected_topics": "Väntetid"}})
    with pytest.raises(ReviewImportError) as err:
        import_review(con, out)
    msg = str(err.value)
    assert "2 malformed row(s)" in msg and "\n" not in msg
    assert "row 2, column corrected_sentiment: not a sentiment (did you mean negative?)" in msg
    assert "row 3, column corrected_topics: area 2 of 2 is not an area (did you mean experience?)" in msg
    assert "negatve" not in msg and "experiance" not in msg and "row 4" not in msg
    assert "negative (negativ)" in msg  # the allowed values, with their Swedish names


def test_swedish_labels_are_imported(con, tmp_path):
    out = _review_file(con, tmp_path, {"0180-2025-1": {"corrected_sentiment": "negativ"},
                                       "0180-2025-2": {"corrected_sentiment": " Skeptisk ",
                                                       "corrected_topics": "Väntetid; handläggare och bemötande"}})
    assert import_review(con, out)["imported"] == 2
    got = {cid: (s, t) for cid, s, t in con.execute("SELECT comment_id, sentiment, topics FROM latest_corrections")
           .fetchall()}
    assert got["0180-2025-1"][0] == "negative"
    assert got["0180-2025-2"] == ("skeptical", ["wait_time", "handler"])


def test_workbook_has_instructions_and_a_sentiment_drop_down(con, tmp_path):
    out = tmp_path / "g.xlsx"
    export_review(con, "0180", 2025, 6, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["granskning", "instruktioner"]
    text = " ".join(str(c) for row in wb["instruktioner"].values for c in row if c)
    for name in ("positive", "skeptisk", "wait_time", "Väntetid", "Wait time", "'-'", "overall sentiment"):
        assert name in text, name
    header = [c.value for c in wb["granskning"][1]]
    letter = openpyxl.utils.get_column_letter(header.index("corrected_sentiment") + 1)
    lists = [v for v in wb["granskning"].data_validations.dataValidation if v.type == "list"]
    assert len(lists) == 1 and "negativ" in lists[0].formula1 and f"{letter}2:{letter}7" in str(lists[0].sqref)
    assert import_review(con, out)["rows_reviewed"] == 0  # the sheet as exported: nothing reviewed yet


# -- 5. a re-saved workbook ---------------------------------------------------------------------------------------
def test_resaved_workbook_adds_nothing_but_a_new_answer_is_added(con, tmp_path):
    out = _review_file(con, tmp_path, {"0180-2025-1": {"corrected_sentiment": "negative"},
                                       "0180-2025-2": {}})
    assert import_review(con, out) == {"rows_reviewed": 2, "imported": 2, "already_imported": 0}
    wb = openpyxl.load_workbook(out)
    wb.properties.modified = datetime(2030, 1, 1)  # what opening and saving in Excel does: new bytes
    resaved = tmp_path / "g (2).xlsx"
    wb.save(resaved)
    assert resaved.read_bytes() != out.read_bytes()
    assert import_review(con, resaved) == {"rows_reviewed": 2, "imported": 0, "already_imported": 2}
    df = pd.read_excel(out, dtype=str, keep_default_na=False)
    df.loc[0, "reviewer"] = "Åsa Öberg"  # the same answer from another reviewer is a new correction
    df.loc[1, "corrected_topics"] = "experience"  # a changed answer too
    changed = tmp_path / "g (3).xlsx"
    df.to_excel(changed, index=False)
    assert import_review(con, changed) == {"rows_reviewed": 2, "imported": 2, "already_imported": 0}
    assert con.execute("SELECT count(*) FROM corrections").fetchall()[0][0] == 4


# -- 3. the import marks rendered reports stale -------------------------------------------------------------------
@pytest.fixture
def home_warehouse(home):
    """SYNPUNKT_HOME with the analyst fixture's warehouse and rendered 2024 and 2025 reports."""
    from analyst_warehouse import VERSION, frames

    from synpunkt.warehouse import connect, insert_frame, refresh_trends, set_current_model

    con = connect()
    comments, predictions = frames()
    insert_frame(con, "comments", comments)
    insert_frame(con, "predictions", predictions)
    set_current_model(con, VERSION)
    refresh_trends(con, VERSION)
    con.close()
    for year in (2024, 2025):
        (home / "reports" / str(year)).mkdir(parents=True)
        (home / "reports" / str(year) / "index.html").write_text("rendered before the review")
    return home


def test_import_marks_the_corrected_years_reports_stale(home_warehouse, tmp_path):
    home = home_warehouse
    out = tmp_path / "granskning.xlsx"
    done = runner.invoke(app, ["review", "export", "--municipality", "0180", "--year", "2025", "-n", "4", "-o",
                               str(out)])
    assert done.exit_code == 0, done.output
    df = pd.read_excel(out, dtype=str, keep_default_na=False)
    df.loc[0, ["corrected_sentiment", "reviewer"]] = ["negativ", "Kim"]
    df.to_excel(out, index=False)
    done = runner.invoke(app, ["review", "import", str(out)])
    assert done.exit_code == 0, done.output
    assert "1 corrections imported" in done.output and "published:" in done.output
    assert "reports and exports now have" not in done.output and "rendered reports do not" in done.output
    assert f"reports in {home / 'reports' / '2025'} are stale" in done.output
    note = (home / "reports" / "2025" / "STALE.txt").read_text()
    assert "granskning.xlsx" in note and "synpunkt report --year 2025" in note
    assert not (home / "reports" / "2024" / "STALE.txt").exists()  # no 2024 comment was corrected
    again = runner.invoke(app, ["review", "import", str(out)])
    assert again.exit_code == 0 and "0 corrections imported (1 already there" in again.output
    assert "stale" not in again.output and note == (home / "reports" / "2025" / "STALE.txt").read_text()


# -- 6. an unwritable review file -----------------------------------------------------------------------------------
def test_unwritable_review_file_is_one_line(con, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with pytest.raises(ReviewExportError, match="cannot make the folder"):
        export_review(con, "0180", 2025, 4, blocker / "g.xlsx")
    (tmp_path / "g.labelstudio.json").mkdir()  # the Label Studio file's name is taken by a folder
    with pytest.raises(ReviewExportError, match=r"g.labelstudio.json: cannot write the review file \("):
        export_review(con, "0180", 2025, 4, tmp_path / "g.xlsx")


def test_unwritable_review_file_from_the_cli_is_one_line(home_warehouse, tmp_path):
    (tmp_path / "g.labelstudio.json").mkdir()
    done = runner.invoke(app, ["review", "export", "--municipality", "0180", "--year", "2025", "-n", "4", "-o",
                               str(tmp_path / "g.csv")])
    lines = done.output.strip().splitlines()
    assert done.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:"), done.output
    assert "cannot write the review file" in lines[0] and "Traceback" not in done.output


def test_wilson_bounds_are_exact_at_the_ends(con):
    """Finding 8: share_repeat_contact_lo was 6.3e-18 for no repeat contact."""
    assert con.execute("SELECT wilson_lo_exact(0, 7), wilson_hi_exact(7, 7), wilson_lo_exact(0, 0)").fetchall() == [
        (0.0, 1.0, None)]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_comment_that_looks_like_a_formula_stays_text_in_the_review_file(con, tmp_path, suffix):
    """A citizen's comment "=HYPERLINK(...)" must not become a live formula in the sheet sent to staff (CSV/formula
    injection): quote-prefixed text in XLSX, a leading ' in CSV."""
    evil = '=HYPERLINK("http://example.invalid","Klicka här")'
    con.execute("UPDATE comments SET text = ? WHERE comment_id = '0180-2025-1'", [evil])
    out = tmp_path / f"g{suffix}"
    export_review(con, "0180", 2025, 4, out)
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out)["granskning"]
        cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
        assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    else:
        assert "'" + evil.replace('"', '""') in out.read_text(encoding="utf-8-sig")

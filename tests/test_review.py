"""The review loop: export -> fill -> import round trips (XLSX, Swedish-Excel CSV, Label Studio JSON)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from synpunkt.review import ReviewImportError, export_review, import_review


def _fill(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.loc[0, ["corrected_sentiment", "corrected_topics", "reviewer"]] = ["skeptical", "handler; wait_time", "Åsa Öberg"]
    df.loc[1, ["reviewer"]] = ["Örjan Ärlig"]  # agrees with the model
    return df


@pytest.mark.parametrize("suffix, saved_as", [(".xlsx", None), (".csv", "utf-8-sig"), (".csv", "cp1252")])
def test_export_fill_import_round_trip(con, tmp_path, suffix, saved_as):
    """Filled in and saved as Excel does: XLSX, or CSV with semicolons in UTF-8 with a BOM or, Swedish Excel's
    "CSV (semikolonavgränsad)", Windows-1252 with CRLF."""
    out = tmp_path / f"granskning{suffix}"
    ls, rows = export_review(con, "0180", 2025, 20, out)
    assert rows == 20 and ls.exists()
    if suffix == ".csv":
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.split(b"\n")[0]
        df = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        df = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert set(df["sample_kind"]) == {"uncertain", "random"} and "Västerås" in df["text"].iloc[0]
    filled = _fill(df)
    if suffix == ".csv":
        filled.to_csv(out, sep=";", index=False, encoding=saved_as, errors="replace", lineterminator="\r\n")
    else:
        filled.to_excel(out, index=False)
    assert import_review(con, out) == {"rows_reviewed": 2, "imported": 2, "already_imported": 0}
    assert import_review(con, out)["imported"] == 0  # idempotent
    got = con.execute("SELECT reviewer, sentiment, topics FROM corrections ORDER BY source_row").fetchall()
    assert got[0] == ("Åsa Öberg", "skeptical", ["handler", "wait_time"])
    assert got[1][0] == "Örjan Ärlig"
    cid = df["comment_id"].iloc[0]
    assert con.execute("SELECT sentiment FROM comments_classified WHERE comment_id = ?", [cid]).fetchall()[0][0] \
        == "skeptical"


def test_label_studio_export_is_imported(con, tmp_path):
    ls, _ = export_review(con, "0180", 2025, 6, tmp_path / "g.xlsx")
    tasks = json.loads(ls.read_text(encoding="utf-8"))
    tasks[0]["annotations"] = [{"completed_by": {"email": "åsa@kommun.se"}, "result": [
        {"from_name": "sentiment", "value": {"choices": ["negative"]}},
        {"from_name": "topics", "value": {"choices": ["digital_services"]}}]}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    assert import_review(con, export)["imported"] == 1
    assert con.execute("SELECT reviewer, sentiment, topics FROM corrections").fetchall() == [
        ("åsa@kommun.se", "negative", ["digital_services"])]


def test_malformed_rows_are_rejected_by_row_and_column(con, tmp_path):
    out = tmp_path / "g.csv"
    export_review(con, "0180", 2025, 6, out)
    df = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[0, ["corrected_sentiment", "reviewer"]] = ["jättebra", "Åsa"]
    df.loc[2, ["corrected_topics", "reviewer"]] = ["väder", ""]
    df.to_csv(out, sep=";", index=False, encoding="utf-8-sig")
    with pytest.raises(ReviewImportError) as err:
        import_review(con, out)
    msg = str(err.value)
    assert "row 2, column corrected_sentiment" in msg and "row 4, column reviewer" in msg
    assert "row 4, column corrected_topics" in msg
    assert "jättebra" not in msg and "väder" not in msg  # never cell values
    assert con.execute("SELECT count(*) FROM corrections").fetchall()[0][0] == 0
    out.write_bytes(b"")
    with pytest.raises(ReviewImportError, match="g.csv: the file is empty"):
        import_review(con, out)


def test_random_sample_reviews_give_the_reports_accuracy_figure(con, tmp_path):
    from analyst_warehouse import VERSION

    from synpunkt.report.queries import review_accuracy

    assert review_accuracy(con, "0180", VERSION) == {"n_reviewed": 0}
    out = tmp_path / "g.xlsx"
    export_review(con, "0180", 2025, 20, out)
    df = pd.read_excel(out, dtype=str, keep_default_na=False)
    random_rows = df[df["sample_kind"] == "random"].reset_index(drop=True)
    assert len(random_rows) >= 2
    flipped = {"positive": "negative", "negative": "positive", "skeptical": "positive"}
    random_rows.loc[0, "corrected_sentiment"] = flipped[random_rows.loc[0, "model_sentiment"]]
    random_rows["reviewer"] = "Åsa"
    random_rows.to_excel(out, index=False)
    import_review(con, out)
    got = review_accuracy(con, "0180", VERSION)
    n = len(random_rows)
    assert got["n_reviewed"] == n and got["accuracy"] == pytest.approx((n - 1) / n)
    assert got["accuracy_lo"] < got["accuracy"] < got["accuracy_hi"]
    assert review_accuracy(con, "1480", VERSION)["n_reviewed"] == 0


def test_export_refuses_an_empty_selection_and_makes_the_folder(con, tmp_path):
    with pytest.raises(ValueError, match="no classified comments from municipality 0180 in 1990"):
        export_review(con, "0180", 1990, 20, tmp_path / "g.xlsx")
    assert not (tmp_path / "g.xlsx").exists(), "no empty review file"
    ls, rows = export_review(con, "0180", 2025, 4, tmp_path / "ny mapp" / "g.csv")
    assert rows == 4 and ls.parent == tmp_path / "ny mapp"

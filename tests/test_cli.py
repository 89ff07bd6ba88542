"""The `synpunkt` CLI: classify round trips on every input format, evaluate, and clear errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from synpunkt.cli import app
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt.tables import read_table, write_table

runner = CliRunner()
COMMENTS = pd.DataFrame({
    "id": ["1", "2", "3"],
    "kommentar": ["Handläggaren var trevlig", "Kön var alldeles för lång; jag väntade", "Vi får väl se, säger jag"],
    "kanal": ["telefon", "chatt", "e-post"],
})


def _classify(args):
    result = runner.invoke(app, ["classify", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json", ".jsonl", ".parquet"])
def test_classify_round_trip_each_format(trained, tmp_path, suffix):
    model_dir, _ = trained
    src = tmp_path / f"in{suffix}"
    write_table(COMMENTS, src)
    out = tmp_path / f"out{suffix}"
    result = _classify([src, "-o", out, "--text-column", "kommentar", "--model", model_dir])
    assert "3 comments classified" in result.output
    df = read_table(out)
    assert list(df["kommentar"]) == list(COMMENTS["kommentar"]) and list(df["kanal"]) == list(COMMENTS["kanal"])
    assert df["sentiment"].isin(SENTIMENTS).all()
    for col in [*map(prob_column, SENTIMENTS), *map(prob_column, TOPICS), "topics", "model_version"]:
        assert col in df.columns


def test_classify_excel_csv_in_windows_1252_with_semicolons(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "excel.csv"
    src.write_bytes("id;Synpunkt\n1;Bemötandet var väldigt bra\n2;Snöröjningen är dålig\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    _classify([src, "-o", out, "--model", model_dir])  # the text column is found by its Swedish name
    df = read_table(out)
    assert list(df["Synpunkt"]) == ["Bemötandet var väldigt bra", "Snöröjningen är dålig"]
    assert len(df) == 2 and df["sentiment"].isin(SENTIMENTS).all()


def test_classify_keeps_blank_comments_as_null_rows(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"text": t}) for t in ["Bra hjälp", "   ", "Dålig service"]))
    out = tmp_path / "out.parquet"
    result = _classify([src, "-o", out, "--model", model_dir])
    df = pd.read_parquet(out)
    assert len(df) == 3 and df["sentiment"].isna().tolist() == [False, True, False]
    assert "1 blank" in result.output


def test_classify_unknown_column_is_a_clear_error(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.csv"
    write_table(COMMENTS, src)
    result = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "o.csv"), "--text-column", "nope",
                                 "--model", str(model_dir)])
    assert result.exit_code == 2 and "nope" in result.output and "kommentar" in result.output


def test_classify_unsupported_input_is_a_clear_error(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.docx"
    src.write_text("x")
    result = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(model_dir)])
    assert result.exit_code == 2 and ".docx" in result.output


def test_evaluate_any_labelled_file(trained, tmp_path):
    model_dir, _ = trained
    labelled = pd.DataFrame({"text": ["Bra bemötande", "Lång kö", "Vi får se", "Toppen"],
                             "label": ["positive", "negative", "skeptical", "positive"],
                             "topics": ["handler", "wait_time", "municipal_services", "experience;handler"]})
    src = tmp_path / "labelled.csv"
    write_table(labelled, src)
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["evaluate", "--data", str(src), "--model", str(model_dir), "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "Confusion matrix" in result.output
    saved = json.loads(report.read_text())["sets"]["labelled"]
    assert saved["sentiment"]["n"] == 4 and "micro_f1" in saved["topics"]


def test_evaluate_rejects_unknown_labels(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "bad.csv"
    write_table(pd.DataFrame({"text": ["a", "b"], "sentiment": ["positive", "happy"]}), src)
    result = runner.invoke(app, ["evaluate", "--data", str(src), "--model", str(model_dir)])
    assert result.exit_code == 2 and "happy" in result.output


def test_submit_lands_a_file_and_status_lists_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "home"))
    for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED"):
        monkeypatch.delenv(var, raising=False)
    src = tmp_path / "export.csv"
    write_table(COMMENTS.assign(datum="2025-01-01"), src)
    first = runner.invoke(app, ["submit", str(src), "--municipality", "180"])
    assert first.exit_code == 0 and "landed: batch 0180-" in first.output
    again = runner.invoke(app, ["submit", str(src), "--municipality", "0180"])
    assert "already received" in again.output
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0 and "waiting for the next run" in status.output
    bad = runner.invoke(app, ["submit", str(src), "--municipality", "9999"])
    assert bad.exit_code == 2 and "unknown municipality code" in bad.output

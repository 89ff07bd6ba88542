"""Predictions of a backend whose answers are not the reference's (onnx-int8) carry the model version with a suffix
("name@hash+onnx-int8"), so that the warehouse keeps them apart from the reference's: classification, the current
model, the share correction and the review import all see which answers they hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from synpunkt.inference import BackendError, predictions_version, reference_version, stored_version
from synpunkt.inference import backends as B

INT8 = "+onnx-int8"


def test_only_a_backend_whose_answers_differ_gets_a_suffix():
    assert B.VERSION_SUFFIXES == {"onnx-int8": INT8}
    for backend in ("torch", "onnx", "cuda"):  # the model's own float weights: the reference's answers
        assert stored_version("m@1", backend) == "m@1"
    assert stored_version("m@1", "onnx-int8") == "m@1+onnx-int8"
    assert stored_version("m@1+onnx-int8", "onnx-int8") == "m@1+onnx-int8"  # never twice
    assert stored_version("m@1+onnx-int8", "torch") == "m@1" and reference_version("m@1+onnx-int8") == "m@1"
    assert reference_version("m@1") == "m@1"


def test_the_flow_s_version_is_resolved_as_the_workers_resolve_the_backend(monkeypatch):
    monkeypatch.delenv("SYNPUNKT_BACKEND", raising=False)
    monkeypatch.setattr(B, "recorded_default", lambda model_dir: "onnx-int8")  # auto: this CPU's recorded default
    assert predictions_version("m@1") == "m@1" + INT8 and predictions_version("m@1", "auto") == "m@1" + INT8
    assert predictions_version("m@1", "torch") == "m@1"
    monkeypatch.setenv("SYNPUNKT_BACKEND", "onnx")
    assert predictions_version("m@1") == "m@1" and predictions_version("m@1", "onnx-int8") == "m@1" + INT8
    monkeypatch.setattr(B, "cuda_available", lambda: False)
    assert predictions_version("m@1", "cuda") == "m@1"  # run by GPU workers: not refused here
    with pytest.raises(BackendError):
        predictions_version("m@1", "tpu")


def test_a_classifier_on_int8_predicts_under_the_suffixed_version(trained):
    from synpunkt import scaleout
    from synpunkt.classifier import Classifier
    from synpunkt.model import model_version

    model_dir, _ = trained
    version = model_version(model_dir)
    int8 = Classifier.load(model_dir, backend="onnx-int8")
    assert (int8.version, int8.base_version) == (version + INT8, version)
    got = int8.predict(["Handläggaren var trevlig", "", "Kön var lång"])
    assert got["model_version"].eq(version + INT8).all()
    torch_ = Classifier(int8.model, int8.tokenizer, int8.settings, int8.version, backend="torch")
    assert torch_.version == version and torch_.predict(["Bra"])["model_version"].tolist() == [version]
    torch_.version = version + INT8  # what training assigns is the model files' version
    assert torch_.version == version and torch_.base_version == version
    try:  # a worker keeps its int8 classifier: its version is not the model files' but its base_version is
        first = scaleout.cached_classifier(model_dir, "onnx-int8")
        assert scaleout.cached_classifier(model_dir, "onnx-int8") is first and first.version == version + INT8
    finally:
        scaleout.forget_classifiers()


def _comments(n: int) -> pd.DataFrame:
    texts = ["Handläggaren var trevlig och hjälpsam", "Jag väntade en timme i telefonkön", "Appen kraschar"]
    start = datetime(2025, 3, 1, 8, 0)
    return pd.DataFrame({
        "comment_id": [f"c{i:03d}" for i in range(n)], "batch_id": "b1", "municipality_code": "0180",
        "row_number": range(1, n + 1), "external_id": None,
        "contact_date": [date(2025, 1 + i % 12, 1) for i in range(n)], "year": 2025, "channel": "telefon",
        "text": [f"{texts[i % 3]} ({i})" for i in range(n)], "redactions": "{}", "metadata": None,
        "ingested_at": [start + timedelta(seconds=i) for i in range(n)],
    })


def test_switching_to_int8_classifies_again_and_the_views_read_one_version(trained, tmp_path, monkeypatch):
    """The reference's predictions are not taken for int8's: switching backends classifies every comment again
    under the other version and makes it current (the views never mix them); switching back needs no work."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import classify_flow
    from synpunkt.model import model_version
    from synpunkt.warehouse import connect, insert_frame

    model_dir, _ = trained
    version = model_version(model_dir)
    path = tmp_path / "w.duckdb"
    con = connect(path)
    insert_frame(con, "comments", _comments(9))
    con.close()

    def current():
        con = connect(path)
        try:
            return (con.execute("SELECT model_version FROM current_model").fetchall()[0][0],
                    con.execute("SELECT DISTINCT model_version FROM comments_classified").fetchall(),
                    dict(con.execute("SELECT model_version, count(*) FROM predictions GROUP BY ALL").fetchall()))
        finally:
            con.close()

    with prefect_test_harness(server_startup_timeout=120):
        monkeypatch.setenv("SYNPUNKT_BACKEND", "torch")
        assert classify_flow(path, model_dir) == {"classified": 9, "model_version": version}
        monkeypatch.setenv("SYNPUNKT_BACKEND", "onnx-int8")
        assert classify_flow(path, model_dir) == {"classified": 9, "model_version": version + INT8}
        assert current() == (version + INT8, [(version + INT8,)], {version: 9, version + INT8: 9})
        monkeypatch.setenv("SYNPUNKT_BACKEND", "onnx")  # the reference's answers: the reference's predictions
        assert classify_flow(path, model_dir) == {"classified": 0, "model_version": version}
        assert current()[:2] == (version, [(version,)])


def test_a_blank_review_cell_agrees_with_the_answer_the_file_showed(con, tmp_path):
    """Exported under one version, imported after the comments were classified again under another (here int8's,
    which answers one reviewed comment differently): a blank means the answer the reviewer saw; the accuracy
    figures keep the current model's answer."""
    from analyst_warehouse import VERSION
    from synpunkt.review import export_review, import_corrections
    from synpunkt.warehouse import insert_frame, set_current_model

    out = tmp_path / "granskning.csv"
    export_review(con, "0180", 2025, 6, out)
    df = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[0, "reviewer"] = "Åsa Öberg"  # agrees with what she saw
    df.to_csv(out, sep=";", index=False, encoding="utf-8-sig")
    cid, shown, shown_topics = df.loc[0, ["comment_id", "model_sentiment", "model_topics"]]
    other = next(s for s in ("positive", "skeptical", "negative") if s != shown)
    int8 = con.execute("SELECT * FROM predictions WHERE model_version = ?", [VERSION]).df()
    int8["model_version"] = VERSION + INT8
    int8.loc[int8["comment_id"] == cid, "sentiment"] = other
    int8["topics"] = [["experience"] if c == cid else list(t) for c, t in zip(int8["comment_id"], int8["topics"])]
    insert_frame(con, "predictions", int8)
    set_current_model(con, VERSION + INT8)
    assert import_corrections(con, out).imported == 1
    got = con.execute("SELECT sentiment, topics, model_sentiment, model_version FROM corrections").fetchall()
    assert got == [(shown, [t for t in shown_topics.split("; ") if t], other, VERSION + INT8)]


def test_the_shown_answer_is_the_current_model_s_where_the_row_shows_none():
    from synpunkt.review import shown_answer

    current = ("negative", ["wait_time"])
    shown = {"model_sentiment": "positive", "model_topics": "handler; experience"}
    assert shown_answer(shown, current) == ("positive", ["handler", "experience"])
    assert shown_answer({"model_sentiment": "Positiv", "model_topics": ""}, current) == ("positive", [])
    for row in ({}, {"model_sentiment": "", "model_topics": ""}, {"model_sentiment": "positive"},
                {"model_sentiment": "positive", "model_topics": "handler; okänt"}):
        assert shown_answer(row, current) == current, row


def test_a_share_correction_fitted_on_the_reference_s_answers_is_not_applied_to_int8_s(tmp_path):
    from synpunkt import quantification as Q

    Q.save(tmp_path / Q.QUANTIFICATION_FILE, "m@1", {}, {})
    assert Q.load(tmp_path, "m@1").status.startswith("corrected")
    int8 = Q.load(tmp_path, "m@1" + INT8)
    assert int8.heads == {} and "classify-and-count" in int8.status and "another backend" in int8.status
    assert "another backend" not in Q.load(tmp_path, "m@2").status

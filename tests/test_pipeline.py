"""The pipeline flows under Prefect's test harness: formats, accounting, redaction, idempotence, crashes,
trends and the published snapshot."""

from __future__ import annotations

import io
import json
import logging

import duckdb
import pandas as pd
import pytest

PHONE = "070-123 45 67"
MARKER = "Snöröjningen på Ekvägen var usel"  # a comment text that must never reach the logs


@pytest.fixture(scope="module", autouse=True)
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def rows(n: int, start: int = 0, year: int = 2024) -> pd.DataFrame:
    texts = ["Handläggaren var trevlig och hjälpsam", "Jag väntade en timme i telefonkön",
             f"Ring mig på {PHONE}, ingen har svarat", MARKER, "E-tjänsten krånglade med BankID",
             "Tack för snabb hjälp med bygglovet"]
    return pd.DataFrame({
        "id": [f"r{start + i}" for i in range(n)],
        "datum": [f"{year}-{1 + i % 12:02d}-{1 + i % 27:02d}" for i in range(n)],
        "kanal": ["telefon", "chatt", "e-post", "besök"][0:1] * n,
        "kommentar": [texts[(start + i) % len(texts)] + f" ({start + i})" for i in range(n)],
        "kön": ["kvinna", "man"][0:1] * n,
    })


def encoded(df: pd.DataFrame, fmt: str) -> tuple[str, bytes]:
    if fmt == "csv":
        return "a.csv", df.to_csv(index=False).encode()
    if fmt == "csv-bom":
        return "b.csv", df.to_csv(index=False).encode("utf-8-sig")
    if fmt == "csv-1252-semicolon":
        return "c.csv", df.to_csv(index=False, sep=";").encode("cp1252")
    if fmt == "tsv":
        return "d.tsv", df.to_csv(index=False, sep="\t").encode()
    if fmt == "xlsx":
        buf = io.BytesIO()
        df.to_excel(buf, index=False)
        return "e.xlsx", buf.getvalue()
    if fmt == "json":
        return "f.json", df.to_json(orient="records", force_ascii=False).encode()
    if fmt == "jsonl":
        return "g.jsonl", df.to_json(orient="records", lines=True, force_ascii=False).encode()
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return "h.parquet", buf.getvalue()


FORMATS = ["csv", "csv-bom", "csv-1252-semicolon", "tsv", "xlsx", "json", "jsonl", "parquet"]


def drop_in_inbox(home, code: str, name: str, data: bytes) -> None:
    folder = home / "inbox" / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def run(model_dir):
    from flows.pipeline import pipeline_flow

    return pipeline_flow(model_dir=model_dir)


def query(home, sql: str, params=None):
    con = duckdb.connect(str(home / "published" / "synpunkt.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_format_and_encoding_is_ingested_with_full_accounting(home, trained):
    model_dir, _ = trained
    for k, fmt in enumerate(FORMATS):
        df = rows(6, start=10 * k)
        if fmt == "csv":  # bad rows: empty comment, broken date, duplicate id
            df.loc[6] = ["bad1", "2024-02-02", "telefon", "   ", "man"]
            df.loc[7] = ["bad2", "2024-02-31", "telefon", "Text", "man"]
            df.loc[8] = df.loc[0].to_dict()
        drop_in_inbox(home, "0180", *encoded(df, fmt))
    drop_in_inbox(home, "1480", "broken.xlsx", b"PK\x03\x04 definitely not a workbook")
    drop_in_inbox(home, "1480", "Karin Lundqvist.csv", b"")  # cannot land: reported, name redacted, kept

    result = run(model_dir)
    assert len(result["inbox_not_landed"]) == 1 and "Lundqvist" not in result["inbox_not_landed"][0]
    assert result["inbox_not_landed"][0].endswith("the file is empty")
    assert (home / "inbox" / "1480" / "Karin Lundqvist.csv").exists()

    batches = query(home, "SELECT original_name, status, rows_received, rows_accepted, rows_quarantined, error "
                          "FROM batch_overview ORDER BY original_name")
    assert len(batches) == len(FORMATS) + 1
    by_name = {b[0]: b for b in batches}
    assert by_name["broken.xlsx"][1] == "failed" and "xlsx" in by_name["broken.xlsx"][5]
    for name, status, received, accepted, quarantined, _ in batches:
        assert received == accepted + quarantined, name
        if name != "broken.xlsx":
            assert status == "ingested" and accepted == 6, name
    assert by_name["a.csv"][4] == 3
    reasons = {r[0] for r in query(home, "SELECT reason_code FROM quarantine")}
    assert reasons == {"empty_text", "invalid_date", "duplicate_in_batch"}
    # å ä ö survive every encoding
    assert query(home, "SELECT count(*) FROM comments WHERE text LIKE 'Handläggaren var trevlig%'")[0][0] == 8
    # classified, trends and metadata
    n_comments = query(home, "SELECT count(*) FROM comments")[0][0]
    assert result["classify"]["classified"] == n_comments == 6 * len(FORMATS)
    assert query(home, "SELECT count(*) FROM comments_classified")[0][0] == n_comments
    assert query(home, "SELECT json_extract_string(metadata, '$.kön') FROM comments LIMIT 1")[0][0] == "kvinna"
    national = query(home, "SELECT n FROM national_shares WHERE year = 2024 AND topic = 'all'")[0][0]
    assert national == n_comments
    # the raw landing copy is the only unredacted text
    assert not query(home, "SELECT count(*) FROM comments WHERE text LIKE ?", [f"%{PHONE}%"])[0][0]
    assert query(home, "SELECT count(*) FROM comments WHERE text LIKE '%[TELEFON]%'")[0][0] > 0
    assert not list((home / "inbox" / "0180").iterdir()), "inbox files are removed once landed"


def test_rerun_and_resubmission_add_nothing(home, trained):
    from synpunkt.landing import land_bytes

    model_dir, _ = trained
    name, data = encoded(rows(8), "csv")
    drop_in_inbox(home, "0180", name, data)
    run(model_dir)
    before = query(home, "SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM predictions), "
                         "(SELECT count(*) FROM batches)")[0]
    assert land_bytes(data, "0180", "again.csv", "api").duplicate  # same file: same batch
    # the same rows in another file (other bytes): every row is a stored duplicate, kept in quarantine
    drop_in_inbox(home, "0180", *encoded(rows(8), "jsonl"))
    run(model_dir)
    run(model_dir)
    after = query(home, "SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM predictions), "
                        "(SELECT count(*) FROM batches)")[0]
    assert after == (before[0], before[1], before[2] + 1)
    assert query(home, "SELECT count(*) FROM quarantine WHERE reason_code = 'duplicate_stored'")[0][0] == 8


class Killed(BaseException):
    """Stands for kill -9 or Ctrl-C in the middle of a run: not an error of a batch, so nothing is marked failed."""


def crash_on_call(n: int, real):
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise Killed("simulated crash while writing a batch")
        return real(*args, **kwargs)

    return crashing


def test_crash_during_ingest_then_rerun_completes_without_duplicates_or_loss(home, trained, monkeypatch):
    import synpunkt.ingest as ingest

    model_dir, _ = trained
    for k, fmt in enumerate(["csv", "jsonl", "parquet"]):
        drop_in_inbox(home, "0180", *encoded(rows(5, start=10 * k), fmt))
    real_write = ingest.write_chunk
    monkeypatch.setattr(ingest, "write_chunk", crash_on_call(2, real_write))
    with pytest.raises(BaseException, match="simulated crash"):
        run(model_dir)
    monkeypatch.setattr(ingest, "write_chunk", real_write)
    run(model_dir)
    assert query(home, "SELECT count(*), count(DISTINCT comment_id) FROM comments")[0] == (15, 15)
    assert query(home, "SELECT count(*) FROM batches WHERE status = 'ingested'")[0][0] == 3


def stored_content(home) -> tuple:
    """Everything a run stores, without timestamps and model-independent of the installation."""
    return (query(home, "SELECT comment_id, batch_id, row_number, external_id, contact_date, year, channel, text, "
                        "redactions, metadata FROM comments ORDER BY ALL"),
            query(home, "SELECT batch_id, row_number, reason_code, reason, row_redacted FROM quarantine ORDER BY ALL"),
            query(home, "SELECT batch_id, original_name, status, rows_received, rows_accepted, rows_quarantined, "
                        "rows_done, error FROM batches ORDER BY ALL"),
            query(home, "SELECT comment_id, sentiment, topics FROM predictions ORDER BY ALL"),
            query(home, "SELECT scope, municipality_code, year, topic, n, n_positive, n_negative FROM yearly_trends "
                        "ORDER BY ALL"))


def test_crash_in_the_middle_of_a_chunked_batch_resumes_to_a_clean_runs_warehouse(home, trained, monkeypatch,
                                                                                     tmp_path):
    import synpunkt.ingest as ingest

    model_dir, _ = trained
    monkeypatch.setenv("SYNPUNKT_INGEST_CHUNK_ROWS", "4")
    big = rows(18)
    big.loc[18] = big.loc[2].to_dict()  # a duplicate in a later chunk
    big.loc[19] = ["", "2024-05-05", "telefon", "Bra service.", "man"]  # no case id, the same text twice
    big.loc[20] = ["", "2024-05-05", "telefon", "Bra service.", "man"]
    drop_in_inbox(home, "0180", *encoded(big, "csv"))
    drop_in_inbox(home, "1480", *encoded(rows(6, start=50), "jsonl"))
    real_write = ingest.write_chunk
    monkeypatch.setattr(ingest, "write_chunk", crash_on_call(3, real_write))  # third chunk of the big batch
    with pytest.raises(BaseException, match="simulated crash"):
        run(model_dir)
    monkeypatch.setattr(ingest, "write_chunk", real_write)
    run(model_dir)
    resumed = stored_content(home)

    clean = tmp_path / "clean"
    (clean / "secrets").mkdir(parents=True)
    (clean / "secrets" / "comment_id.key").write_bytes((home / "secrets" / "comment_id.key").read_bytes())
    monkeypatch.setenv("SYNPUNKT_HOME", str(clean))
    drop_in_inbox(clean, "0180", *encoded(big, "csv"))
    drop_in_inbox(clean, "1480", *encoded(rows(6, start=50), "jsonl"))
    run(model_dir)
    assert stored_content(clean) == resumed
    comments, quarantine, batches, _, _ = resumed
    assert len(comments) == 20 + 6 and [q[2] for q in quarantine] == ["duplicate_in_batch"]
    assert all(b[2] == "ingested" and b[3] == b[4] + b[5] for b in batches)


def test_a_failing_batch_never_stops_the_others_and_the_run_exits_3(home, trained, monkeypatch):
    import duckdb as db
    from typer.testing import CliRunner

    import synpunkt.ingest as ingest
    from synpunkt.cli import app

    model_dir, _ = trained
    two_names = pd.DataFrame({"datum": ["2025-03-14", "2025-03-14"],
                              "kommentar": ["Jag pratade med Anna Berg. Bra hjälp!",
                                            "Jag pratade med Karin Lund. Bra hjälp!"]})
    drop_in_inbox(home, "0180", "namn.csv", two_names.to_csv(index=False).encode())
    drop_in_inbox(home, "1480", *encoded(rows(6), "csv"))
    drop_in_inbox(home, "1280", "broken.csv", b"id;kommentar\n1;Ring Karin Lund\n")  # no date column
    drop_in_inbox(home, "0580", *encoded(rows(4, start=40), "jsonl"))
    real_write = ingest.write_chunk

    def constraint_error_for_0580(con, batch_id, *args, **kwargs):
        if batch_id.startswith("0580-"):
            raise db.ConstraintException('Duplicate key "comment_id: Karin Lund" violates primary key constraint')
        return real_write(con, batch_id, *args, **kwargs)

    monkeypatch.setattr(ingest, "write_chunk", constraint_error_for_0580)
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--model", str(model_dir)])
    assert result.exit_code == 3, result.output
    failed = dict(query(home, "SELECT municipality_code, error FROM batches WHERE status = 'failed'"))
    assert set(failed) == {"1280", "0580"}
    assert failed["1280"].startswith("validating rows 1-1: MissingColumn: no date column")
    assert failed["0580"] == "storing rows 1-4: ConstraintException: a warehouse constraint was violated " \
                             "(please report this)"
    assert "Karin" not in result.output and all("Karin" not in e for e in failed.values())
    assert all(code in result.output for code in ("1280-", "0580-"))
    # the other batches went all the way: both two-names comments stored, classified, in the trends
    assert query(home, "SELECT municipality_code, count(*) FROM comments_classified GROUP BY 1 ORDER BY 1") == \
        [("0180", 2), ("1480", 6)]
    assert query(home, "SELECT count(*) FROM yearly_shares WHERE municipality_code = '0180'")[0][0] > 0

    monkeypatch.setattr(ingest, "write_chunk", real_write)
    assert runner.invoke(app, ["run", "--model", str(model_dir)]).exit_code == 0  # failed batches wait
    retry = runner.invoke(app, ["run", "--model", str(model_dir), "--retry-failed"])
    assert retry.exit_code == 3  # the file without a date column still fails; the other one went through
    assert query(home, "SELECT municipality_code, status FROM batches ORDER BY 1") == \
        [("0180", "ingested"), ("0580", "ingested"), ("1280", "failed"), ("1480", "ingested")]
    assert query(home, "SELECT count(*) FROM comments_classified WHERE municipality_code = '0580'")[0][0] == 4


def test_crash_during_classification_then_rerun_scores_each_comment_once(home, trained, monkeypatch):
    import flows.pipeline as pipeline
    from synpunkt.classifier import Classifier

    model_dir, _ = trained
    drop_in_inbox(home, "0180", *encoded(rows(12), "csv"))
    monkeypatch.setattr(pipeline, "CLASSIFY_CHUNK", 5)
    real_predict = Classifier.predict
    calls = {"n": 0}

    def crash_on_second_chunk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash while classifying")
        return real_predict(self, *args, **kwargs)

    monkeypatch.setattr(Classifier, "predict", crash_on_second_chunk)
    with pytest.raises(RuntimeError, match="simulated crash"):
        pipeline.pipeline_flow(model_dir=model_dir)
    monkeypatch.setattr(Classifier, "predict", real_predict)
    pipeline.pipeline_flow(model_dir=model_dir, )
    assert query(home, "SELECT count(*), count(DISTINCT comment_id) FROM predictions")[0] == (12, 12)
    assert query(home, "SELECT count(*) FROM comments_classified")[0][0] == 12


def test_published_snapshot_stays_readable_while_the_pipeline_writes(home, trained):
    model_dir, _ = trained
    drop_in_inbox(home, "0180", *encoded(rows(4), "csv"))
    run(model_dir)
    reader = duckdb.connect(str(home / "published" / "synpunkt.duckdb"), read_only=True)
    assert reader.execute("SELECT count(*) FROM comments").fetchone()[0] == 4
    drop_in_inbox(home, "1480", *encoded(rows(6, start=50), "jsonl"))
    run(model_dir)  # writes the warehouse and publishes a new snapshot while `reader` is open
    assert reader.execute("SELECT count(*) FROM comments_classified").fetchone()[0] == 4  # its snapshot
    reader.close()
    assert query(home, "SELECT count(*) FROM comments")[0][0] == 10  # a new reader sees the new snapshot
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(home / "published" / "synpunkt.duckdb"), read_only=True).execute(
            "INSERT INTO municipalities VALUES ('9999', 'x', '99', 'x')")


def test_logs_never_contain_comment_text(home, trained, caplog):
    model_dir, _ = trained
    drop_in_inbox(home, "0180", *encoded(rows(6), "csv"))
    with caplog.at_level(logging.DEBUG):
        run(model_dir)
    assert caplog.records, "the pipeline logs its progress"
    assert MARKER not in caplog.text and PHONE not in caplog.text


def test_trends_have_wilson_intervals_and_net_score(home, trained):
    from statistics import NormalDist  # noqa: F401 (documents the z value below)

    model_dir, _ = trained
    drop_in_inbox(home, "0180", *encoded(rows(20), "csv"))
    drop_in_inbox(home, "0180", *encoded(rows(10, start=100, year=2025), "jsonl"))
    run(model_dir)
    for n, k_pos, k_neg, p, lo, hi, net, net_lo, net_hi in query(
            home, "SELECT n, round(share_positive * n), round(share_negative * n), share_positive, share_positive_lo, "
                  "share_positive_hi, net_score, net_score_lo, net_score_hi FROM yearly_shares"):
        z = 1.96
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
        assert lo == pytest.approx(centre - half) and hi == pytest.approx(centre + half)
        assert -1e-9 <= lo <= p + 1e-9 and p <= hi + 1e-9 <= 1 + 2e-9
        assert net == pytest.approx(100 * (k_pos - k_neg) / n)
        assert net_lo <= net <= net_hi
    years = {r[0] for r in query(home, "SELECT DISTINCT year FROM yearly_shares WHERE municipality_code = '0180'")}
    assert years == {2024, 2025}
    # every prediction keeps its per-topic sentiment probabilities, one vector per topic
    assert query(home, "SELECT count(*) FROM predictions WHERE topic_sentiment_p IS NULL "
                       "OR len(topic_sentiment_p) <> len(topics)") == [(0,)]


def test_raw_copies_are_private_and_purged_after_retention(home, trained, monkeypatch):
    import os
    import stat
    from datetime import datetime, timedelta, timezone

    from synpunkt.ingest import purge_expired_raw
    from synpunkt.landing import landed_batches
    from synpunkt.warehouse import connect

    model_dir, _ = trained
    drop_in_inbox(home, "0180", *encoded(rows(3), "csv"))
    run(model_dir)
    receipt = landed_batches()[0]
    raw = receipt.raw_path()
    assert stat.S_IMODE(os.stat(raw).st_mode) == 0o400
    assert stat.S_IMODE(os.stat(raw.parent).st_mode) == 0o700
    con = connect()
    assert purge_expired_raw(con, 30) == 0  # fresh: kept
    later = datetime.now(timezone.utc) + timedelta(days=31)
    assert purge_expired_raw(con, 30, now_utc=later) == 1
    assert not raw.exists()
    assert con.execute("SELECT raw_purged_at IS NOT NULL FROM batches").fetchone()[0]
    stored_name = con.execute("SELECT original_name FROM batches").fetchone()[0]
    kept = json.loads((raw.parent / "receipt.json").read_text())
    assert kept["original_name"] == stored_name and kept["checksum_sha256"] == receipt.checksum_sha256
    assert stat.S_IMODE(os.stat(raw.parent / "receipt.json").st_mode) == 0o600
    status = json.loads((raw.parent / "status.json").read_text())
    assert status["status"] == "ingested" and status["rows_accepted"] == 3
    con.close()


def test_a_file_whose_rows_are_all_rejected_is_quarantined_and_the_run_succeeds(home, trained, monkeypatch):
    """Finding 19: every row invalid (in the whole file, or in one chunk of it) is quarantined row by row."""
    from typer.testing import CliRunner

    from synpunkt.cli import app

    model_dir, _ = trained
    monkeypatch.setenv("SYNPUNKT_INGEST_CHUNK_ROWS", "3")
    drop_in_inbox(home, "0183", "olddates.csv", b"datum,kommentar\n1900-01-01,Excel\n0,Noll\n2024-02-30,Fel dag\n")
    mixed = rows(6)
    mixed.loc[3:5, "datum"] = "inte ett datum"  # the second chunk: all rejected
    drop_in_inbox(home, "0180", *encoded(mixed, "csv"))
    result = CliRunner().invoke(app, ["run", "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert query(home, "SELECT municipality_code, status, rows_received, rows_accepted, rows_quarantined, error "
                       "FROM batches ORDER BY 1") == [("0180", "ingested", 6, 3, 3, None),
                                                      ("0183", "ingested", 3, 0, 3, None)]


def test_a_run_that_adds_data_marks_that_years_rendered_reports_stale(home, trained):
    """Reports rendered before a run are out of date once it publishes new comments for their year: STALE.txt says
    so, as after a review import or a withdrawal; another year's reports are left alone."""
    model_dir, _ = trained
    for year in (2023, 2024):
        folder = home / "reports" / str(year)
        folder.mkdir(parents=True)
        (folder / "index.html").write_text("<html></html>")
    drop_in_inbox(home, "0180", *encoded(rows(3, year=2024), "csv"))
    run(model_dir)
    assert "new data published by the run of" in (home / "reports" / "2024" / "STALE.txt").read_text()
    assert not (home / "reports" / "2023" / "STALE.txt").exists()


def test_changed_years_are_the_new_batches_years_or_all_after_a_reclassification():
    import duckdb

    from flows.pipeline import changed_years

    con = duckdb.connect()
    con.execute("CREATE TABLE comments AS SELECT * FROM (VALUES ('b1', 2023), ('b2', 2024), ('b2', 2025), "
                "('b3', 2022)) t(batch_id, year)")
    batches = [{"batch_id": "b2", "rows_accepted": 2}, {"batch_id": "b9", "rows_accepted": 0}]
    assert changed_years(con, batches, classified=2) == [2024, 2025]
    assert changed_years(con, batches, classified=40) == [2022, 2023, 2024, 2025]  # a new model: every year
    assert changed_years(con, [], classified=0) == []

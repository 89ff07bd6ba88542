"""Streaming ingest without Prefect: chunks, resume after an interruption, batch isolation, the duplicate policy
end to end, personal data in file names, headers and quarantined cells, the row limit and the comment-id key."""

from __future__ import annotations

import json
import os
import stat

import duckdb
import pandas as pd
import pytest

from synpunkt.redact import Redactor

PNR = "19850312-2395"  # Luhn-valid


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path))
    for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_SOURCES", "SYNPUNKT_INGEST_CHUNK_ROWS",
                "SYNPUNKT_MAX_ROWS_PER_BATCH"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


class CountingRedactor:
    """Rules-only redaction that records how many texts each call got (no model: fast)."""

    def __init__(self):
        self.inner = Redactor(use_model=False)
        self.calls: list[int] = []

    def redact_many(self, texts, batch_size=32):
        self.calls.append(len(texts))
        return self.inner.redact_many(texts, batch_size)

    def find_spans_many(self, texts, batch_size=32):
        return self.inner.find_spans_many(texts, batch_size)


def comments_frame(n: int, start: int = 0) -> pd.DataFrame:
    texts = ["Bra service.", "Jag väntade en timme i kön", "Ring mig på 070-123 45 67", "Tack för hjälpen"]
    return pd.DataFrame({
        "datum": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(start, start + n)],
        "kommentar": [f"{texts[i % len(texts)]} ({i % 7})" for i in range(start, start + n)],
        "kanal": ["telefon"] * n,
    })


def land(df: pd.DataFrame, name: str = "export.csv", code: str = "0180"):
    from synpunkt.landing import land_bytes

    return land_bytes(df.to_csv(index=False).encode(), code, name, "cli")


def ingest_all(redactor, retry: bool = False, **kwargs):
    from synpunkt.ingest import ingest_batch, pending_batches
    from synpunkt.warehouse import connect

    con = connect()
    try:
        return [ingest_batch(con, r, redactor, **kwargs) for r in pending_batches(con, retry)]
    finally:
        con.close()


def table(sql: str, params=None) -> list[tuple]:
    from synpunkt.warehouse import connect

    con = connect()
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def content() -> tuple[list, list]:
    """The stored rows without timestamps: what must be identical however the batch was ingested."""
    return (table("SELECT comment_id, batch_id, row_number, external_id, contact_date, channel, text, redactions, "
                  "metadata FROM comments ORDER BY batch_id, row_number"),
            table("SELECT batch_id, row_number, reason_code, reason, row_redacted FROM quarantine "
                  "ORDER BY batch_id, row_number"))


def test_two_comments_equal_after_redaction_are_both_stored_and_block_nobody(home):
    df = pd.DataFrame({"datum": ["2025-03-14", "2025-03-14"],
                       "kommentar": ["Jag pratade med Anna Berg. Bra hjälp!",
                                     "Jag pratade med Karin Lund. Bra hjälp!"]})
    land(df, "a.csv", "0180")
    land(comments_frame(5), "b.csv", "1480")
    results = ingest_all(Redactor.default())
    assert [r.status for r in results] == ["ingested", "ingested"]
    rows = table("SELECT text, count(DISTINCT comment_id) FROM comments WHERE municipality_code = '0180' GROUP BY 1")
    assert rows == [("Jag pratade med [NAMN]. Bra hjälp!", 2)]
    assert ingest_all(Redactor.default()) == []  # and the next run has nothing left to do


def test_chunked_ingest_stores_exactly_what_one_chunk_stores(home, tmp_path, monkeypatch):
    df = comments_frame(23)
    df.loc[5, "kommentar"] = ""  # quarantined
    df.loc[9, "datum"] = "inte ett datum"
    land(df)
    redactor = CountingRedactor()
    [result] = ingest_all(redactor, chunk_rows=4)
    assert (result.status, result.rows_received, result.rows_accepted, result.rows_quarantined) == \
        ("ingested", 23, 21, 2)
    chunked = content()
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "other"))
    (tmp_path / "other" / "secrets").mkdir(parents=True)
    (tmp_path / "other" / "secrets" / "comment_id.key").write_bytes((home / "secrets" / "comment_id.key").read_bytes())
    land(df)
    ingest_all(Redactor(use_model=False), chunk_rows=1000)
    assert content() == chunked
    assert max(redactor.calls) <= 256, "the encoder only ever sees small sub-batches"


def test_an_interrupted_batch_resumes_after_its_last_committed_chunk(home, tmp_path, monkeypatch):
    import synpunkt.ingest as ingest

    df = comments_frame(30)
    land(df)
    real_write = ingest.write_chunk
    calls = {"n": 0}

    class Killed(BaseException):
        """Stands for kill -9 / Ctrl-C: not an error of the batch, so it is not recorded as failed."""

    def killed_in_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed()
        return real_write(*args, **kwargs)

    monkeypatch.setattr(ingest, "write_chunk", killed_in_third_chunk)
    with pytest.raises(Killed):
        ingest_all(CountingRedactor(), chunk_rows=10)
    assert table("SELECT status, rows_done, rows_received FROM batches") == [("ingesting", 20, 20)]
    assert table("SELECT count(*) FROM comments")[0][0] == 20

    monkeypatch.setattr(ingest, "write_chunk", real_write)
    redactor = CountingRedactor()
    [result] = ingest_all(redactor, chunk_rows=7)  # another chunk size: resumes by row number
    assert sum(redactor.calls) <= 10, "the committed rows are not redacted again"
    assert (result.status, result.rows_received, result.rows_accepted) == ("ingested", 30, 30)
    resumed = content()

    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "clean"))
    (tmp_path / "clean" / "secrets").mkdir(parents=True)
    (tmp_path / "clean" / "secrets" / "comment_id.key").write_bytes((home / "secrets" / "comment_id.key").read_bytes())
    land(df)
    ingest_all(CountingRedactor())
    assert content() == resumed


def test_a_failing_batch_is_rolled_back_and_recorded_without_cell_values(home, monkeypatch):
    import synpunkt.ingest as ingest

    bad = land(comments_frame(12), "bad.csv")
    good = land(comments_frame(6, start=100), "good.csv", "1480")
    real_write = ingest.write_chunk

    def constraint_error_in_second_chunk(con, batch_id, *args, **kwargs):
        if batch_id == bad.batch_id and table_count(con, batch_id) > 0:
            raise duckdb.ConstraintException('Duplicate key "comment_id: Karin Lund 070-123 45 67" violates ...')
        return real_write(con, batch_id, *args, **kwargs)

    def table_count(con, batch_id):
        return con.execute("SELECT count(*) FROM comments WHERE batch_id = ?", [batch_id]).fetchall()[0][0]

    monkeypatch.setattr(ingest, "write_chunk", constraint_error_in_second_chunk)
    results = {r.batch_id: r for r in ingest_all(CountingRedactor(), chunk_rows=5)}
    failed = results[bad.batch_id]
    assert failed.status == "failed" and results[good.batch_id].status == "ingested"
    assert failed.error == "storing rows 6-10: ConstraintException: a warehouse constraint was violated " \
                           "(please report this)"
    assert "Karin" not in failed.error and "070" not in failed.error
    assert table("SELECT count(*) FROM comments WHERE batch_id = ?", [bad.batch_id])[0][0] == 0
    assert table("SELECT status, rows_received, error FROM batches WHERE batch_id = ?", [bad.batch_id]) == \
        [("failed", 0, failed.error)]
    status = json.loads((bad.raw_path().parent / "status.json").read_text())
    assert status["status"] == "failed" and status["error"] == failed.error

    # not retried by a plain run; retried on request, and then it goes through
    monkeypatch.setattr(ingest, "write_chunk", real_write)
    assert ingest_all(CountingRedactor()) == []
    [retried] = ingest_all(CountingRedactor(), chunk_rows=5, retry=True)
    assert (retried.batch_id, retried.status, retried.rows_accepted) == (bad.batch_id, "ingested", 12)
    assert table("SELECT error FROM batches WHERE batch_id = ?", [bad.batch_id]) == [(None,)]


def test_unreadable_file_and_missing_column_fail_with_their_safe_reasons(home):
    from synpunkt.landing import land_bytes

    broken = land_bytes(b"PK\x03\x04 not a workbook", "0180", "broken.xlsx", "cli")
    headless = land(pd.DataFrame({"a": ["Ring Karin Lund"], "b": ["2025-03-14"]}), "headless.csv")
    results = {r.batch_id: r for r in ingest_all(CountingRedactor())}
    assert results[broken.batch_id].status == "failed" and "xlsx" in results[broken.batch_id].error
    assert str(broken.raw_path()) not in results[broken.batch_id].error
    missing = results[headless.batch_id]
    assert missing.status == "failed" and missing.error.startswith("validating rows 1-1: MissingColumn: ")
    assert "Karin" not in missing.error


def test_a_workbook_or_parquet_file_sent_under_a_csv_name_is_read_as_what_it_is(home, tmp_path):
    import io
    import stat

    from synpunkt.config import warehouse_path
    from synpunkt.landing import land_bytes

    xlsx, parquet = io.BytesIO(), io.BytesIO()
    comments_frame(3).to_excel(xlsx, index=False)
    comments_frame(4, start=10).to_parquet(parquet, index=False)
    as_csv = land_bytes(xlsx.getvalue(), "0180", "export.csv", "api")
    as_txt = land_bytes(parquet.getvalue(), "0180", "export.txt", "cli")
    results = {r.batch_id: r for r in ingest_all(CountingRedactor())}
    assert (results[as_csv.batch_id].status, results[as_csv.batch_id].rows_accepted) == ("ingested", 3)
    assert (results[as_txt.batch_id].status, results[as_txt.batch_id].rows_accepted) == ("ingested", 4)
    assert stat.S_IMODE(warehouse_path().stat().st_mode) == 0o600, "the warehouse file is the owner's only"


def test_row_limit_fails_the_batch_and_keeps_nothing(home):
    land(comments_frame(12))
    [result] = ingest_all(CountingRedactor(), chunk_rows=5, max_rows=10)
    assert result.status == "failed"
    assert "more than 10 data rows" in result.error and "SYNPUNKT_MAX_ROWS_PER_BATCH" in result.error
    assert table("SELECT count(*) FROM comments")[0][0] == 0 and table("SELECT count(*) FROM quarantine")[0][0] == 0


def test_personal_data_in_file_names_headers_and_quarantined_rows_is_redacted(home):
    df = pd.DataFrame({"ärendenummer": ["1", "1", "2"], "datum": ["2025-03-14", "2025-03-14", "2025-03-14"],
                       "kommentar": ["Ring mig på 070-123 45 67", "Ring mig på 070-123 45 67", ""],
                       f"kontakt_{PNR}": [PNR, "x", "y"]})
    receipt = land(df, f"klagomal_{PNR}.csv")
    [result] = ingest_all(CountingRedactor())
    assert (result.rows_accepted, result.rows_quarantined) == (1, 2)
    dump = json.dumps(table("SELECT * FROM batches"), default=str) + json.dumps(content(), default=str)
    assert PNR not in dump and "070-123" not in dump
    assert table("SELECT original_name FROM batches") == [("klagomal_[PERSONNUMMER].csv",)]
    assert receipt.original_name == f"klagomal_{PNR}.csv"  # the receipt (private landing area) keeps it
    meta = json.loads(table("SELECT metadata FROM comments")[0][0])
    assert meta == {"kontakt_[PERSONNUMMER]": "[PERSONNUMMER]"}
    duplicate, empty = table("SELECT reason_code, reason, row_redacted FROM quarantine ORDER BY row_number")
    assert duplicate[:2] == ("duplicate_in_batch", "row 2: the same case id, date and text as row 1 of this batch")
    assert json.loads(duplicate[2])["text"] == "Ring mig på [TELEFON]"  # content kept (redacted)
    assert empty[0] == "empty_text" and json.loads(empty[2])["kontakt_[PERSONNUMMER]"] == "y"


def test_a_quarantined_row_keeps_its_case_id_readable(home):
    """A rejected row's case id is redacted as a case id, like comments.external_id, so that the operator can find
    the case: "1280-2025-00065" is no bank account (it was "[KONTONUMMER]"); a personnummer in it still goes."""
    df = pd.DataFrame({"Ärendenummer": ["1280-2025-00065", f"KS {PNR}"], "datum": ["2025-03-14", "2025-03-14"],
                       "kommentar": ["", ""]})
    land(df, "synpunkter.csv")
    [result] = ingest_all(CountingRedactor())
    assert result.rows_quarantined == 2
    rows = [json.loads(r) for (r,) in table("SELECT row_redacted FROM quarantine ORDER BY row_number")]
    assert [r["Ärendenummer"] for r in rows] == ["1280-2025-00065", "KS [PERSONNUMMER]"]


def test_the_comment_id_key_is_private_created_once_and_checked(home):
    from synpunkt.keys import KeyMismatch, check_key, comment_id_key
    from synpunkt.warehouse import connect

    key = comment_id_key()
    path = home / "secrets" / "comment_id.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert comment_id_key() == key and len(key) == 32
    con = connect()
    check_key(con, key)
    check_key(con, key)
    with pytest.raises(KeyMismatch, match="comment_id.key"):
        check_key(con, b"another key, restored wrongly....")
    con.close()


def test_bad_lines_met_while_reading_are_quarantined_with_their_row_numbers(home):
    from synpunkt.landing import land_bytes

    lines = [json.dumps({"datum": "2025-03-14", "kommentar": f"Synpunkt {i}"}, ensure_ascii=False) for i in range(7)]
    lines[3] = '{"datum": "2025-03-14", "kommentar": "Ring Karin Lund på 070-123 45 67"'  # unclosed object
    land_bytes(("\n".join(lines) + "\n").encode(), "0180", "export.jsonl", "cli")
    [result] = ingest_all(CountingRedactor(), chunk_rows=3)
    assert (result.status, result.rows_received, result.rows_accepted, result.rows_quarantined) == \
        ("ingested", 7, 6, 1)
    [(number, code, reason, cells)] = table("SELECT row_number, reason_code, reason, row_redacted FROM quarantine")
    assert number == 4 and "4" in reason and "Karin" not in reason and "070-123" not in (cells or "")
    assert table("SELECT list(row_number ORDER BY row_number) FROM comments") == [([1, 2, 3, 5, 6, 7],)]


def test_a_chunk_computed_in_pieces_stores_exactly_what_one_piece_stores(home, tmp_path, monkeypatch):
    """The compute that a task runner spreads over workers (synpunkt.ingest_compute: split_work, compute_chunk,
    merge_outputs), here in this process: the same rows, redactions, quarantine and signals as ingest_batch's
    default."""
    from synpunkt.ingest_compute import compute_chunk, merge_outputs, split_work
    from synpunkt.redaction_cache import RedactionCache

    class InPieces:
        def __init__(self, redactor):
            self.redactor, self.sizes = redactor, []

        def file_name(self, name):
            return RedactionCache(self.redactor).file_name(name)

        def run(self, work):
            pieces = split_work(work, 3)
            self.sizes.append([p.row_count for p in pieces])
            return merge_outputs([compute_chunk(p, RedactionCache(self.redactor)) for p in pieces])

    df = comments_frame(23)
    df["id"] = [f"r{i}" for i in range(23)]  # case ids: row 15 below is a duplicate of row 3
    df["handläggare"] = ["Karin Lund", "Sven Ek"] * 11 + ["Karin Lund"]
    df.loc[5, "kommentar"] = ""  # rejected
    df.loc[9, "datum"] = "inte ett datum"  # rejected
    df.loc[14] = df.loc[2].to_dict()  # a duplicate
    signals = "SELECT comment_id, urgent_category, urgent_rule, repeat_contact FROM comment_signals ORDER BY 1"
    land(df, f"export_{PNR}.csv")
    compute = InPieces(Redactor(use_model=False))
    [result] = ingest_all(None, chunk_rows=10, compute=compute)
    assert (result.status, result.rows_received, result.rows_accepted, result.rows_quarantined) == \
        ("ingested", 23, 20, 3)
    assert compute.sizes == [[3, 3, 4], [3, 3, 4], [1, 1, 1]]
    in_pieces, in_pieces_signals = content(), table(signals)
    name = table("SELECT original_name FROM batches")

    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "other"))
    (tmp_path / "other" / "secrets").mkdir(parents=True)
    (tmp_path / "other" / "secrets" / "comment_id.key").write_bytes((home / "secrets" / "comment_id.key").read_bytes())
    land(df, f"export_{PNR}.csv")
    ingest_all(Redactor(use_model=False), chunk_rows=10)
    assert content() == in_pieces and table(signals) == in_pieces_signals
    assert table("SELECT original_name FROM batches") == name == [("export_[PERSONNUMMER].csv",)]


def test_a_second_comment_column_is_kept_and_named_in_a_warning(home, caplog):
    df = comments_frame(3).assign(Synpunkt=["Andra kolumnen"] * 3)
    land(df)
    with caplog.at_level("WARNING", logger="synpunkt.ingest"):
        (result,) = ingest_all(CountingRedactor())
    assert result.rows_accepted == 3
    warnings = [r.getMessage() for r in caplog.records if "named like a comment column" in r.getMessage()]
    assert len(warnings) == 1 and "'kommentar'" in warnings[0] and "'Synpunkt'" in warnings[0]
    assert "Andra kolumnen" not in warnings[0]
    (metadata,) = table("SELECT metadata FROM comments LIMIT 1")[0]
    assert "Andra kolumnen" in metadata


def test_an_interrupt_says_what_is_stored_and_that_the_next_run_resumes(home, monkeypatch, caplog):
    import synpunkt.ingest as ingest

    land(comments_frame(30))
    real_write, calls = ingest.write_chunk, {"n": 0}

    def interrupted_in_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(ingest, "write_chunk", interrupted_in_second_chunk)
    with caplog.at_level("WARNING", logger="synpunkt.ingest"), pytest.raises(KeyboardInterrupt):
        ingest_all(CountingRedactor(), chunk_rows=10)
    assert "interrupted: rows 1-10 are stored; the next run resumes it" in caplog.text

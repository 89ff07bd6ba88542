"""Ingest and operator findings of the third exploratory test (tester's numbers): 19 (a batch or chunk whose rows are
all rejected), 3 (personal data in the case id), 14 (comment column names, no --retry-failed for a file's own
cause), 4 (review import publishes), 18 (status and alerts while a run works) and 12 (waits and re-sent files)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.test_ingest import CountingRedactor, home, ingest_all, land, table  # noqa: F401 (home: a fixture)

PNR_LONG, PNR_SHORT = "19850612-2384", "850612-2384"  # invented, Luhn-valid
URGENT = "Om ni inte betalar ut pengarna på fredag kommer jag till kontoret och skjuter er allihop."


# -- 19: every row rejected ----------------------------------------------------------------------------------------
def test_a_batch_whose_rows_are_all_rejected_is_quarantined_row_by_row(home):
    old = land(pd.DataFrame({"datum": ["1900-01-01", "0", "1", "01-01-00", "1970-01-01", "2024-02-30"],
                             "kommentar": ["Excel nolldatum", "Noll", "Ett", "Kort datum", "Unix", "Felaktig dag"]}),
               "olddates.csv", "0183")
    empty = land(pd.DataFrame({"datum": ["2024-01-01", "2024-01-02"], "kommentar": ["   ", ""]}), "empty.csv", "0184")
    future = land(pd.DataFrame({"datum": ["2999-01-01"], "kommentar": ["Framtid"]}), "future.csv", "0180")
    results = {r.batch_id: r for r in ingest_all(CountingRedactor())}
    for receipt, n in ((old, 6), (empty, 2), (future, 1)):
        r = results[receipt.batch_id]
        assert (r.status, r.rows_received, r.rows_accepted, r.rows_quarantined, r.error) == ("ingested", n, 0, n, None)
        assert table("SELECT count(*) FROM quarantine WHERE batch_id = ?", [receipt.batch_id])[0][0] == n
    codes = table("SELECT reason_code FROM quarantine WHERE batch_id = ? ORDER BY row_number", [old.batch_id])
    assert [c for c, in codes] == ["date_too_early", "invalid_date", "invalid_date", "ambiguous_date",
                                   "date_too_early", "invalid_date"]
    assert table("SELECT count(*) FROM comments")[0][0] == 0


def test_a_chunk_whose_rows_are_all_rejected_does_not_fail_the_batch(home, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_INGEST_CHUNK_ROWS", "4")
    dates = ["2024-03-01"] * 4 + ["inte ett datum"] * 4 + ["2024-03-02"] * 3
    receipt = land(pd.DataFrame({"datum": dates, "kommentar": [f"Synpunkt nummer {i}" for i in range(11)]}))
    [r] = ingest_all(CountingRedactor())
    assert (r.status, r.rows_received, r.rows_accepted, r.rows_quarantined) == ("ingested", 11, 7, 4)
    assert table("SELECT row_number FROM quarantine WHERE batch_id = ? ORDER BY 1", [receipt.batch_id]) == \
        [(5,), (6,), (7,), (8,)]


def test_retry_failed_ingests_a_batch_that_failed_on_its_rejected_rows_before(home):
    from synpunkt.warehouse import connect, fail_batch

    receipt = land(pd.DataFrame({"datum": ["1900-01-01", "2999-01-01"], "kommentar": ["Gammal", "Framtid"]}))
    con = connect()
    try:  # as recorded before the fix
        fail_batch(con, receipt, None, "checking duplicates in rows 1-2: ValueError: unexpected error (please report "
                                       "this)")
    finally:
        con.close()
    assert ingest_all(CountingRedactor()) == []
    [r] = ingest_all(CountingRedactor(), retry=True)
    assert (r.status, r.rows_received, r.rows_accepted, r.rows_quarantined) == ("ingested", 2, 0, 2)
    assert table("SELECT status, error FROM batches") == [("ingested", None)]


def test_duplicates_of_an_empty_chunk_are_none_whatever_the_stored_ids_dtype():
    from synpunkt.dedupe import DedupeState, duplicates
    from synpunkt.validate import validate_rows

    accepted = validate_rows(pd.DataFrame({"datum": ["1900-01-01"], "kommentar": ["x"]}), "0180").accepted
    assigned = DedupeState().assign(accepted, "0180", b"k" * 32)
    assert assigned.empty and assigned["comment_id"].dtype == object
    for stored in (pd.DataFrame({"comment_id": pd.Series([], dtype=object), "batch_id": pd.Series([], dtype=object),
                                 "row_number": pd.Series([], dtype="int64")}),
                   pd.DataFrame({"comment_id": ["a"], "batch_id": ["b"], "row_number": [1]})):
        assert duplicates(assigned, stored).empty


# -- 3: personal data in the case id -------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, stored", [(PNR_LONG, "[PERSONNUMMER]"), (PNR_SHORT, "[PERSONNUMMER]"),
                                         ("850672-2381", "[SAMORDNINGSNUMMER]"), ("070-123 45 67", "[TELEFON]"),
                                         ("anna.berg@example.se", "[E-POST]"), ("KS 2023/456", "KS 2023/456"),
                                         ("2024-000123", "2024-000123"), ("2023-12345-67", "2023-12345-67"),
                                         ("42", "42"), (None, None)])
def test_case_ids_lose_structured_personal_data_and_keep_their_shape_otherwise(raw, stored):
    from synpunkt.ingest_compute import redact_case_id

    assert redact_case_id(raw) == stored


def test_a_personnummer_as_case_id_reaches_no_table_alert_or_alert_file(home):
    from synpunkt.notify import notify_new_alerts
    from synpunkt.warehouse import connect

    df = pd.DataFrame({"ärendenummer": [PNR_LONG, PNR_SHORT, PNR_SHORT, "KS-2025-7", "0701234567"],
                       "datum": ["2025-03-01", "2025-03-02", "2025-03-02", "2025-03-03", "2999-01-01"],
                       "kommentar": [URGENT, "Snabbt svar, tack.", "Snabbt svar, tack.", "Bra hjälp med bygglovet.",
                                     "Framtida datum"]})
    land(df, "meta.csv")
    [r] = ingest_all(CountingRedactor())
    assert (r.rows_accepted, r.rows_quarantined) == (3, 2)  # row 3 duplicates row 2 (the raw id), row 5: the date
    assert table("SELECT external_id FROM comments ORDER BY row_number") == \
        [("[PERSONNUMMER]",), ("[PERSONNUMMER]",), ("KS-2025-7",)]
    assert table("SELECT external_id, category FROM alerts") == [("[PERSONNUMMER]", "threat")]
    con = connect()
    try:
        assert notify_new_alerts(con, webhook="").notified == 1
        listed = con.execute("SELECT external_id FROM urgent_comments").fetchall()
    finally:
        con.close()
    assert listed == [("[PERSONNUMMER]",)]
    written = (home / "alerts" / "alerts.jsonl").read_text()
    dump = json.dumps([table(f"SELECT * FROM {t}") for t in ("comments", "quarantine", "alerts", "batches")],
                      default=str) + written
    for secret in ("850612", "0701234567", "070-123"):  # (ids are hex: no 4-digit secrets here)
        assert secret not in dump
    assert json.loads(written.splitlines()[0])["external_id"] == "[PERSONNUMMER]"


# -- 14: comment column names; no --retry-failed for a cause in the file ------------------------------------------
@pytest.mark.parametrize("columns, comment", [
    (["Beskrivning av synpunkten", "Inkom"], "Beskrivning av synpunkten"),
    (["Synpunkt ID", "Typ av synpunkt", "Inkom", "Kundens kommentarer"], "Kundens kommentarer"),
    (["kommentar_id", "datum", "Meddelandet från kunden"], "Meddelandet från kunden"),
    (["Kommentar", "Beskrivning av synpunkten", "datum"], "Kommentar"),  # an exact name wins
])
def test_a_multi_word_header_holding_a_comment_word_is_the_comment_column(columns, comment):
    from synpunkt.validate import map_columns

    assert map_columns(pd.DataFrame(columns=columns)).text == comment


def test_two_headers_that_could_each_be_the_comment_column_fail_naming_positions_only():
    from synpunkt.validate import MissingColumn, map_columns, validate_rows

    with pytest.raises(MissingColumn, match="columns 1 and 2 could each hold the comments") as err:
        map_columns(pd.DataFrame(columns=["Beskrivning av synpunkten", "Kommentar från Karin Lund", "Inkom"]))
    assert "Karin" not in str(err.value)
    rejected = validate_rows(pd.DataFrame({"Inkom": ["2024-01-01"], "Synpunkten från Karin Lund": [" "]}),
                             "0180").rejected
    assert rejected["reason"].tolist() == ["row 1: the comment in column 2 (the comment column) is empty"]


def test_a_file_with_beskrivning_av_synpunkten_is_ingested(home):
    land(pd.DataFrame({"Beskrivning av synpunkten": ["Bra service", ""], "Inkom": ["2024-05-01", "2024-05-02"]}))
    [r] = ingest_all(CountingRedactor())
    assert (r.status, r.rows_accepted, r.rows_quarantined) == ("ingested", 1, 1)


def test_a_cause_in_the_file_is_fixed_by_a_new_file_not_by_retrying(capsys):
    from synpunkt.cli.pipeline_commands import _failed_advice
    from synpunkt.ingest import cause_in_file

    missing = "validating rows 1-1: MissingColumn: no comment column among the file's 2 columns; expected ..."
    unreadable = "reading the file: TableReadError: batch 0180-x: not a valid .xlsx workbook (BadZipFile)"
    io_error = "reading the file: TableReadError: batch 0180-x: cannot read the file (PermissionError)"
    storing = "storing rows 1-4: ConstraintException: a warehouse constraint was violated (please report this)"
    assert [cause_in_file(e) for e in (missing, unreadable, io_error, storing, None)] == \
        [True, True, False, False, False]
    _failed_advice([{"batch_id": "0123-a", "error": missing}])
    err = capsys.readouterr().err
    assert "0123-a" in err and "correct the file and submit it again" in err and "--retry-failed" not in err
    _failed_advice([{"batch_id": "0123-a", "error": missing}, {"batch_id": "0580-b", "error": storing}])
    err = " ".join(capsys.readouterr().err.split())
    assert "submit it again" in err and "`synpunkt run --retry-failed` ingests the other failed batches" in err


# -- 4: review import publishes ------------------------------------------------------------------------------------
def _reviewed_warehouse(tmp_path, interrupted: bool = False):
    """The analyst fixture's warehouse at the default path, published, and a Label Studio file with one answer."""
    from analyst_warehouse import VERSION, frames
    from synpunkt.publish import publish
    from synpunkt.review import export_review
    from synpunkt.warehouse import connect, insert_frame, refresh_trends, set_current_model

    con = connect()
    try:
        comments, predictions = frames()
        insert_frame(con, "comments", comments)
        insert_frame(con, "predictions", predictions)
        set_current_model(con, VERSION)
        refresh_trends(con, VERSION)
        publish(con)
        if interrupted:
            con.execute("INSERT INTO batches (batch_id, municipality_code, origin, checksum_sha256, received_at, "
                        "status, processed_at) VALUES ('0180-half', '0180', 'cli', 'x', now(), 'ingesting', now())")
        ls, _ = export_review(con, "0180", 2025, 6, tmp_path / "g.xlsx")
    finally:
        con.close()
    tasks = json.loads(ls.read_text(encoding="utf-8"))
    tasks[0]["annotations"] = [{"completed_by": {"email": "åsa@kommun.se"}, "result": [
        {"from_name": "sentiment", "value": {"choices": ["negative"]}},
        {"from_name": "topics", "value": {"choices": ["digital_services"]}}]}]
    answers = tmp_path / "export.json"
    answers.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return answers, tasks[0]["data"]["comment_id"]


def _published(sql: str, params=None):
    from synpunkt.publish import open_published

    con = open_published()
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_review_import_makes_the_corrections_visible_in_the_published_copy(home, tmp_path):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    answers, comment = _reviewed_warehouse(tmp_path)
    result = CliRunner().invoke(app, ["review", "import", str(answers)])
    assert result.exit_code == 0, result.output
    assert "1 corrections imported" in result.output and "published:" in result.output
    assert _published("SELECT count(*) FROM corrections") == [(1,)]
    assert _published("SELECT sentiment FROM comments_classified WHERE comment_id = ?", [comment]) == [("negative",)]


def test_review_import_says_when_the_corrections_wait_for_the_next_run(home, tmp_path):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    answers, _ = _reviewed_warehouse(tmp_path, interrupted=True)
    result = CliRunner().invoke(app, ["review", "import", str(answers)])
    assert result.exit_code == 0, result.output
    assert "reach the published copy, reports and exports at the next `synpunkt run`" in result.output
    assert _published("SELECT count(*) FROM corrections") == [(0,)]


# -- 18 and 12: status and alerts while a run works; waits and re-sent files said once ----------------------------
def _holder(pipeline: bool = True, warehouse: bool = True, seconds: float = 120):
    """A child process holding the pipeline lock (as a run does) and/or the live warehouse open for writing."""
    import os
    import subprocess
    import sys

    body = ("import time\nfrom synpunkt.warehouse import connect, pipeline_lock\nimport contextlib\n"
            f"with (pipeline_lock() if {pipeline} else contextlib.nullcontext()):\n"
            f"    con = connect() if {warehouse} else None\n"
            f"    print('held', flush=True)\n    time.sleep({seconds})\n")
    child = subprocess.Popen([sys.executable, "-c", body], stdout=subprocess.PIPE, env=dict(os.environ))
    assert child.stdout.readline().strip() == b"held"
    return child


def _stop(child) -> None:
    child.kill()
    child.wait()
    child.stdout.close()


def test_status_and_alerts_during_a_run_say_so_in_one_line(home):
    import time

    from typer.testing import CliRunner

    from synpunkt.cli import app

    receipt = land(pd.DataFrame({"datum": ["2024-01-01"], "kommentar": ["Bra"]}))
    child = _holder()
    try:
        runner = CliRunner()
        status = runner.invoke(app, ["status"])
        started = time.monotonic()
        listing = runner.invoke(app, ["alerts"])
        ack = runner.invoke(app, ["alerts", "--ack", "al-1", "--by", "Kim"])
        assert time.monotonic() - started < 20, "no 60 s wait for a run that takes hours"
    finally:
        _stop(child)
    assert status.exit_code == 0, status.output
    assert f"a pipeline run (pid {child.pid}, since " in status.output and "is in progress" in status.output
    assert receipt.batch_id in status.output and "Conflicting lock" not in status.output
    assert listing.exit_code == 2 and "is in progress and nothing is published yet" in listing.output
    assert len(listing.output.strip().splitlines()) == 1
    assert ack.exit_code == 2 and "acknowledge the alert when it finishes" in ack.output


def test_alerts_during_a_run_come_from_the_published_copy(home):
    from typer.testing import CliRunner

    from synpunkt.cli import app
    from synpunkt.publish import publish
    from synpunkt.warehouse import connect

    con = connect()
    try:
        con.execute("INSERT INTO alerts (alert_id, comment_id, municipality_code, batch_id, row_number, category, "
                    "probability, signals_version, created_at) VALUES ('al-2', 'c', '0180', 'b', 1, 'threat', 0.9, "
                    "'v', now())")
        publish(con)
    finally:
        con.close()
    child = _holder()
    try:
        listing = CliRunner().invoke(app, ["alerts"])
    finally:
        _stop(child)
    assert listing.exit_code == 0, listing.output
    assert "alerts as of the last published copy" in listing.output and "al-2" in listing.output


def test_status_names_another_process_holding_the_warehouse_without_duckdbs_text(home):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    child = _holder(pipeline=False)
    try:
        status = CliRunner().invoke(app, ["status"])
    finally:
        _stop(child)
    assert status.exit_code == 2
    assert f"is in use by another process (pid {child.pid}); try again when it finishes" in status.output
    assert "IO Error" not in status.output and "python" not in status.output


def test_a_second_run_says_once_that_it_waits(home, caplog):
    import logging

    from synpunkt.warehouse import lock_holder, pipeline_lock

    child = _holder(warehouse=False, seconds=2)
    try:
        with caplog.at_level(logging.INFO, logger="synpunkt.warehouse"), pipeline_lock(timeout=60):
            assert lock_holder()["pid"] is not None  # this process's, now
    finally:
        _stop(child)
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 1 and f"waiting for the run in progress to finish: a pipeline run (pid {child.pid}" in waits[0]
    assert lock_holder() is None


def test_a_file_dropped_again_into_the_inbox_is_said_to_be_received_already(home):
    from synpunkt.ingest_compute import describe_inbox_problems
    from synpunkt.landing import collect_inbox

    data = pd.DataFrame({"datum": ["2024-01-01"], "kommentar": ["Bra"]}).to_csv(index=False).encode()
    folder = home / "inbox" / "0180"
    folder.mkdir(parents=True)
    (folder / "export.csv").write_bytes(data)
    [first], _ = collect_inbox(settle_seconds=0)
    (folder / f"Karin Lund {PNR_LONG}.csv").write_bytes(data)
    resent: list = []
    [again], problems = collect_inbox(settle_seconds=0, resent=resent)
    assert again.duplicate and again.batch_id == first.batch_id and problems == [] and not any(folder.iterdir())
    [line] = describe_inbox_problems(resent)
    assert first.batch_id in line and "received before" in line
    assert "Karin" not in line and PNR_LONG not in line and "Lund" not in line

"""`synpunkt batch withdraw`: a file submitted for the wrong municipality is taken back (dry run first), its
checksum freed, the withdrawal audited, and after resubmission and a run everything is under the right
municipality: comments, alerts, shares, the published copy."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from synpunkt.cli import app

runner = CliRunner()
URGENT = "Om ni inte betalar ut pengarna på fredag kommer jag till kontoret och skjuter er allihop."
TEXTS = [URGENT, "Handläggaren var trevlig och hjälpsam med bygglovet.", "Jag väntade en timme i telefonkön.",
         "E-tjänsten krånglade med BankID hela veckan."]
WRONG, RIGHT, OTHER = "0192", "0140", "0180"  # Nynäshamn (the slip), Nykvarn (meant), Stockholm (stays)


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _file(path, texts: list[str], prefix: str):
    pd.DataFrame({"ärendenummer": [f"{prefix}-{i}" for i in range(len(texts))],
                  "datum": [f"2025-03-{i + 1:02d}" for i in range(len(texts))],
                  "kommentar": texts}).to_csv(path, index=False)
    return path


def _submit(path, municipality: str):
    return runner.invoke(app, ["submit", str(path), "--municipality", municipality])


def _batch_of(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.split("batch ")[1].split()[0]


def _query(path, sql: str, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _published(home, sql: str, params=None):
    return _query(home / "published" / "synpunkt.duckdb", sql, params)


def _live(home, sql: str, params=None):
    return _query(home / "warehouse" / "synpunkt.duckdb", sql, params)


def _by_municipality(home, table: str) -> dict[str, int]:
    return dict(_published(home, f"SELECT municipality_code, count(*) FROM {table} GROUP BY ALL"))


def _no_text(output: str) -> None:
    assert not any(text[:25] in output for text in TEXTS), "a message quotes a comment"


def test_wrong_municipality_withdrawn_resubmitted_and_only_under_the_right_one(home, trained, prefect_harness,
                                                                              tmp_path):
    from flows.pipeline import pipeline_flow

    model_dir, _ = trained
    wrong_file = _file(tmp_path / "export.csv", TEXTS, "KS")
    other_file = _file(tmp_path / "sthlm.csv", TEXTS[1:], "ST")
    batch = _batch_of(_submit(wrong_file, "Nynäshamn"))  # the slip: meant Nykvarn
    assert batch.startswith(WRONG)
    _batch_of(_submit(other_file, OTHER))
    pipeline_flow(model_dir=model_dir)
    assert _by_municipality(home, "comments") == {WRONG: 4, OTHER: 3}
    assert _by_municipality(home, "alerts") == {WRONG: 1}
    assert {r[0] for r in _published(home, "SELECT municipality_code FROM yearly_shares")} == {WRONG, OTHER}

    refused = _submit(wrong_file, RIGHT)
    assert refused.exit_code == 2 and f"synpunkt batch withdraw {batch}" in refused.output

    # the dry run lists what would go and changes nothing
    reports = home / "reports" / "2025"
    reports.mkdir(parents=True)
    (reports / "index.html").write_text("rendered before the withdrawal")
    counts_sql = ("SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM predictions), (SELECT count(*) FROM "
                  "alerts), (SELECT count(*) FROM batches), (SELECT count(*) FROM comment_signals)")
    before = _live(home, counts_sql)
    dry = runner.invoke(app, ["batch", "withdraw", batch, "--reason", "meant Nykvarn (0140)"])
    assert dry.exit_code == 0, dry.output
    assert "comments: 4 row(s)" in dry.output and "alerts: 1 row(s)" in dry.output and "batches: 1 row(s)" in dry.output
    assert "predictions: 4 row(s)" in dry.output and "--yes" in dry.output and "dry run" in dry.output
    assert "1 of its urgent alert(s) were already delivered" in dry.output and "told they are withdrawn" in dry.output
    _no_text(dry.output)
    assert _live(home, counts_sql) == before
    assert (home / "landing" / WRONG / batch / "receipt.json").exists() and not (home / "withdrawn").exists()
    assert not (reports / "STALE.txt").exists()

    # withdrawn: gone from the warehouse and the published copy, the file moved, the withdrawal audited
    done = runner.invoke(app, ["batch", "withdraw", batch, "--reason", "meant Nykvarn (0140)", "--yes"])
    assert done.exit_code == 0, done.output
    _no_text(done.output)
    assert "published:" in done.output and "batch_withdrawals" in done.output
    assert not (home / "landing" / WRONG / batch).exists()
    moved = list((home / "withdrawn" / WRONG).glob(f"{batch}-*/raw.csv"))
    assert len(moved) == 1 and moved[0].read_bytes() == wrong_file.read_bytes()
    assert _by_municipality(home, "comments") == {OTHER: 3} and _by_municipality(home, "alerts") == {}
    assert WRONG not in {r[0] for r in _published(home, "SELECT municipality_code FROM yearly_shares")}
    assert _published(home, "SELECT count(*) FROM batches WHERE batch_id = ?", [batch])[0][0] == 0
    assert "stale" in done.output and batch in (reports / "STALE.txt").read_text()
    # the alert delivered by the run is withdrawn through the same channels (here the log and the alerts file)
    assert "1 delivered urgent alert(s) withdrawn through the alert channels" in done.output
    events = [json.loads(line) for line in (home / "alerts" / "alerts.jsonl").read_text().splitlines()]
    withdrawn = [e for e in events if e.get("event") == "withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0]["batch_id"] == batch and "text" not in withdrawn[0]
    assert withdrawn[0]["alert_id"] == next(e["alert_id"] for e in events if e.get("event") is None)
    again = runner.invoke(app, ["batch", "withdraw", batch, "--reason", "twice"])
    assert again.exit_code == 2 and "was withdrawn" in again.output

    # submitted again for the right municipality and run: everything under Nykvarn only
    right = _batch_of(_submit(wrong_file, "Nykvarn"))
    assert right.startswith(RIGHT)
    pipeline_flow(model_dir=model_dir)
    assert _by_municipality(home, "comments") == {RIGHT: 4, OTHER: 3}
    assert _by_municipality(home, "alerts") == {RIGHT: 1}
    assert _by_municipality(home, "urgent_comments") == {RIGHT: 1}
    assert _by_municipality(home, "comments_classified") == {RIGHT: 4, OTHER: 3}
    assert {r[0] for r in _published(home, "SELECT municipality_code FROM yearly_shares")} == {RIGHT, OTHER}
    assert _published(home, "SELECT n FROM national_shares WHERE year = 2025 AND topic = 'all'")[0][0] == 7
    (code, reason, removed, years, moved_to), = _published(
        home, "SELECT municipality_code, reason, removed, years, moved_to FROM batch_withdrawals WHERE batch_id = ?",
        [batch])
    assert (code, reason, years, moved_to) == (WRONG, "meant Nykvarn (0140)", [2025], str(moved[0].parent))
    assert json.loads(removed) == {"batches": 1, "comments": 4, "quarantine": 0, "predictions": 4,
                                   "comment_signals": 4, "corrections": 0, "alerts": 1, "source_state": 0}
    status = runner.invoke(app, ["status"])
    assert right in status.output and batch not in status.output


def test_unknown_and_malformed_batch_ids_say_where_ids_are_listed(home):
    unknown = runner.invoke(app, ["batch", "withdraw", "0180-0123456789abcdef", "--reason", "test"])
    assert unknown.exit_code == 2 and "no batch 0180-0123456789abcdef" in unknown.output
    assert "synpunkt status" in unknown.output
    for bad in ("../0180", "0180-xyz"):
        malformed = runner.invoke(app, ["batch", "withdraw", bad, "--reason", "test"])
        assert malformed.exit_code == 2 and "synpunkt status" in malformed.output
    blank = runner.invoke(app, ["batch", "withdraw", "0180-0123456789abcdef", "--reason", "  "])
    assert blank.exit_code == 2 and "--reason needs a text" in blank.output


def test_a_held_lock_is_named_and_nothing_is_withdrawn(home, tmp_path):
    from synpunkt.warehouse import pipeline_lock

    batch = _batch_of(_submit(_file(tmp_path / "a.csv", TEXTS, "KS"), WRONG))
    with pipeline_lock(what="a pipeline run"):
        held = runner.invoke(app, ["batch", "withdraw", batch, "--reason", "wrong municipality", "--yes"])
    assert held.exit_code == 2 and "a pipeline run (pid" in held.output and "when it finishes" in held.output
    assert (home / "landing" / WRONG / batch / "receipt.json").exists()


def test_a_landed_batch_is_withdrawn_before_any_run_and_its_raw_copy_purged_after_retention(home, tmp_path):
    from datetime import datetime, timedelta, timezone

    from synpunkt.warehouse import connect
    from synpunkt.withdraw import purge_withdrawn_raw

    src = _file(tmp_path / "a.csv", TEXTS, "KS")
    batch = _batch_of(_submit(src, WRONG))
    dry = runner.invoke(app, ["batch", "withdraw", batch, "--reason", "wrong municipality"])
    assert dry.exit_code == 0 and "(landed, municipality 0192)" in dry.output and not (home / "warehouse").exists()
    done = runner.invoke(app, ["batch", "withdraw", batch, "--reason", "wrong municipality", "--yes"])
    assert done.exit_code == 0, done.output
    assert _submit(src, RIGHT).exit_code == 0  # the checksum is free
    raw = next((home / "withdrawn" / WRONG).glob(f"{batch}-*/raw.csv"))
    con = connect()
    try:
        assert purge_withdrawn_raw(con, 30) == 0 and raw.exists()
        later = datetime.now(timezone.utc) + timedelta(days=31)
        assert purge_withdrawn_raw(con, 30, later) == 1 and not raw.exists()
        assert (raw.parent / "receipt.json").exists()
        assert json.loads((raw.parent / "receipt.json").read_text())["original_name"] == "(removed with the raw copy)"
        assert con.execute("SELECT status, raw_purged_at IS NOT NULL FROM batch_withdrawals").fetchall() == [
            ("landed", True)]
    finally:
        con.close()

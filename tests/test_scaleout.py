"""Scale-out: the classify and ingest flows on a two-worker Dask LocalCluster store exactly what they store in one
process (ingest: without the flow's process running a redaction or signal encoder); a failing chunk is reported
by number (classify) or fails its batch by rows, after its retries (ingest); raw text is refused to a cluster not
trusted with it; the task-runner settings are checked."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from conftest import ROWS

MARKER = "Snöröjningen på Ekvägen var usel"  # a stored text that must never reach the logs or an error


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def comments(n: int) -> pd.DataFrame:
    """n stored (redacted) comments; groups of three share an ingest time, so chunks also split ties."""
    start = datetime(2025, 3, 1, 8, 0)
    texts = [text for text, _, _ in ROWS] + [MARKER, "BRA SERVICE!!! men [TELEFON] svarar aldrig",
                                             "[NAMN] ringde om bygglovet, inget hände"]
    return pd.DataFrame({
        "comment_id": [f"c{i:03d}" for i in range(n)],
        "batch_id": "b1", "municipality_code": "0180",
        "row_number": range(1, n + 1), "external_id": None,
        "contact_date": [date(2024, 1 + i % 12, 1 + i % 28) for i in range(n)], "year": 2024, "channel": "telefon",
        "text": [f"{texts[i % len(texts)]} ({i})" for i in range(n)],
        "redactions": json.dumps({}), "metadata": None,
        "ingested_at": [start + timedelta(seconds=i // 3) for i in range(n)],
    })


def warehouse(path, n: int = 60):
    from synpunkt.warehouse import connect, insert_frame

    con = connect(path)
    insert_frame(con, "comments", comments(n))
    con.close()
    return path


def stored(path) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * EXCLUDE (classified_at) FROM predictions ORDER BY comment_id").df()
    finally:
        con.close()


def same_predictions(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same comments, sentiments, topics and topic sentiments; probabilities equal to 1e-6."""
    assert list(a["comment_id"]) == list(b["comment_id"])
    probs = [c for c in a.columns if c.startswith("p_")]
    assert probs
    np.testing.assert_allclose(a[probs].to_numpy(float), b[probs].to_numpy(float), rtol=0, atol=1e-6)
    nested = "topic_sentiment_p"  # per-topic probability vectors: equal to 1e-6, as the other probabilities
    for x, y in zip(a[nested], b[nested]):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(np.array([list(v) for v in x], float), np.array([list(v) for v in y], float),
                                       rtol=0, atol=1e-6)
    for column in a.columns.difference(probs + [nested]):  # topics come back as arrays: compared as lists
        plain = [[list(v) if isinstance(v, np.ndarray) else v for v in frame[column]] for frame in (a, b)]
        assert plain[0] == plain[1], column


@pytest.mark.slow
def test_a_two_worker_local_cluster_stores_exactly_the_single_process_predictions(prefect_harness, trained,
                                                                                   tmp_path, monkeypatch):
    from flows.pipeline import classify_flow
    from synpunkt import scaleout
    from synpunkt.classifier import Classifier

    model_dir, _ = trained
    local = classify_flow(warehouse(tmp_path / "local.duckdb"), model_dir, chunk_size=7)
    one_process = stored(tmp_path / "local.duckdb")
    assert local["classified"] == len(one_process) == 60

    def not_here(*args, **kwargs):
        raise AssertionError("with the Dask runner the flow's own process loads no classifier")

    monkeypatch.setattr(Classifier, "load", not_here)  # the workers are other processes: unaffected
    on_dask = classify_flow.with_options(task_runner=scaleout.task_runner("dask", workers=2))
    result = on_dask(warehouse(tmp_path / "dask.duckdb"), model_dir, chunk_size=7)
    assert result == local
    same_predictions(stored(tmp_path / "dask.duckdb"), one_process)


def test_a_failing_chunk_is_reported_by_number_and_the_others_are_stored(prefect_harness, trained, tmp_path,
                                                                         monkeypatch, caplog):
    from flows.pipeline import classify_flow
    from synpunkt import scaleout

    model_dir, _ = trained
    real = scaleout.classify_texts
    calls: dict[str, int] = {}

    def flaky(texts, *args, **kwargs):
        first = texts[0]
        calls[first] = calls.get(first, 0) + 1
        if any(MARKER in t for t in texts):
            raise RuntimeError("the model failed")  # every attempt: reported
        if first.startswith("Jag väntade") and calls[first] == 1:  # chunk 7
            raise ConnectionError("worker lost")  # the first attempt only: the retry stores it
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(scaleout, "classify_texts", flaky)
    monkeypatch.setenv("SYNPUNKT_CHUNK_RETRIES", "1")
    path = warehouse(tmp_path / "w.duckdb", n=30)
    with caplog.at_level(logging.DEBUG), pytest.raises(RuntimeError, match="the model failed") as raised:
        classify_flow(path, model_dir, chunk_size=4)
    note = " ".join(getattr(raised.value, "__notes__", []))
    marked = sorted({i // 4 for i in range(30) if i % 9 == 6})  # chunks holding a MARKER comment
    assert f"{len(marked)} chunk(s) of up to 4 comments failed after 1 retries" in note
    for number in marked:
        assert f"{number} (" in note
    assert [n for first, n in calls.items() if first.startswith("Jag väntade")] == [2]  # failed once, retried
    predicted = set(stored(path)["comment_id"])
    assert predicted == {f"c{i:03d}" for i in range(30) if i // 4 not in marked}
    assert MARKER not in caplog.text and MARKER not in note
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM model_versions WHERE is_current").fetchone()[0] == 0  # not all scored
    con.close()


# -- ingest ----------------------------------------------------------------------------------------------------
PNR = "19850312-2395"  # Luhn-valid
URGENT = "Jag vet var handläggaren bor, det här kommer ni att ångra"  # a threat rule: an alert


def ingest_inbox(home) -> None:
    """Two small files with names, numbers, an urgent comment, repeat contacts, a handler-name metadata column,
    duplicates and rejected rows: every kind of ingest compute."""
    texts = ["Jag pratade med Anna Berg om bygglovet, bra hjälp", f"Ring mig på 070-123 45 67 eller mejla a@b.se",
             URGENT, "Det är tredje gången jag ringer om samma sak och ingen har hört av sig", MARKER,
             "Karin Lund på socialtjänsten var otrevlig", "Tack för snabb hjälp", "Bra service."]
    a = pd.DataFrame({"ärendenummer": [f"A-{i}" for i in range(14)],
                      "datum": [f"2025-0{1 + i % 9}-1{i % 10}" for i in range(14)],
                      "kommentar": [texts[i % len(texts)] for i in range(14)],
                      "kanal": ["telefon", "e-post"] * 7,
                      "handläggare": ["Sven Ek", "Maria Holm"] * 7})
    a.loc[9] = a.loc[1].to_dict()  # a duplicate of row 2
    a.loc[11, "kommentar"] = ""  # rejected: empty text
    a.loc[12, "datum"] = "inte ett datum"  # rejected: its cells are quarantined, redacted
    b = pd.DataFrame({"datum": ["2025-03-14"] * 5, "kommentar": [texts[i] for i in (0, 3, 6, 1, 7)]})
    for code, name, frame in (("0180", f"synpunkter_{PNR}.csv", a), ("1480", "export.csv", b)):
        (home / "inbox" / code).mkdir(parents=True, exist_ok=True)
        (home / "inbox" / code / name).write_bytes(frame.to_csv(index=False).encode())


EXACT = {"comments": "SELECT comment_id, batch_id, row_number, external_id, contact_date, year, channel, text, "
                     "redactions, metadata FROM comments ORDER BY comment_id",
         "quarantine": "SELECT batch_id, row_number, reason_code, reason, row_redacted FROM quarantine "
                       "ORDER BY batch_id, row_number",
         "batches": "SELECT batch_id, original_name, status, rows_received, rows_accepted, rows_quarantined, error "
                    "FROM batches ORDER BY batch_id",
         "signals": "SELECT comment_id, signals_version, urgent_category, urgent_rule, repeat_contact "
                    "FROM comment_signals ORDER BY comment_id",
         "alerts": "SELECT alert_id, comment_id, municipality_code, batch_id, row_number, external_id, category "
                   "FROM alerts ORDER BY alert_id"}
CLOSE = {"signals": "SELECT urgent_probability, repeat_p FROM comment_signals ORDER BY comment_id",
         "alerts": "SELECT probability FROM alerts ORDER BY alert_id"}


def ingested(path) -> tuple[dict, dict]:
    """What an ingest run stored without timestamps: exact rows, and the probabilities (to 1e-5)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return ({k: con.execute(q).fetchall() for k, q in EXACT.items()},
                {k: con.execute(q).df().to_numpy(float) for k, q in CLOSE.items()})
    finally:
        con.close()


@pytest.mark.slow
def test_ingest_on_a_two_worker_local_cluster_stores_exactly_the_single_process_rows(prefect_harness, home, tmp_path,
                                                                                    monkeypatch, caplog):
    import flows.pipeline as pipeline
    from flows.pipeline import ingest_flow
    from synpunkt import ingest_compute, scaleout
    from synpunkt.redaction.name_model import NameModel
    from synpunkt.redaction.redactor import Redactor
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.features import FeatureEncoder

    ingest_inbox(home)
    monkeypatch.setenv("SYNPUNKT_INGEST_CHUNK_ROWS", "8")  # the big batch in two chunks...
    monkeypatch.setattr(ingest_compute, "MIN_PIECE_ROWS", 2)  # ...each cut into pieces for the two workers
    local = ingest_flow(tmp_path / "local.duckdb")
    exact, close = ingested(tmp_path / "local.duckdb")
    assert [b["status"] for b in local["batches"]] == ["ingested", "ingested"]
    assert len(exact["comments"]) == 16 and len(exact["quarantine"]) == 3 and exact["alerts"]
    assert any(row[4] for row in exact["signals"]), "a repeat contact among them"
    assert exact["batches"][0][1] == "synpunkter_[PERSONNUMMER].csv"

    def not_here(*args, **kwargs):
        raise AssertionError("with the Dask runner the flow's own process runs no redaction or signal encoder")

    for cls, name in ((Redactor, "find_spans_many"), (Redactor, "redact_many"), (NameModel, "probabilities"),
                      (Detector, "detect"), (Detector, "detect_features"), (FeatureEncoder, "encode"),
                      (FeatureEncoder, "encode_spans")):
        monkeypatch.setattr(cls, name, not_here)  # the workers are other (spawned) processes: unaffected
    pieces: list[str] = []

    def split(work, n):
        out = ingest_compute.split_work(work, n)
        pieces.extend(f"{p.batch_id[:4]} {p.span}" for p in out)
        return out

    monkeypatch.setattr(pipeline, "split_work", split)
    on_dask = ingest_flow.with_options(task_runner=scaleout.task_runner("dask", workers=2))
    with caplog.at_level(logging.INFO):
        result = on_dask(tmp_path / "dask.duckdb")
    assert [b["status"] for b in result["batches"]] == ["ingested", "ingested"]
    assert [{k: v for k, v in b.items() if k != "batch_id"} for b in result["batches"]] == \
        [{k: v for k, v in b.items() if k != "batch_id"} for b in local["batches"]]
    on_workers, close_on_workers = ingested(tmp_path / "dask.duckdb")
    assert on_workers == exact
    for k in CLOSE:
        np.testing.assert_allclose(close_on_workers[k], close[k], rtol=0, atol=1e-5)
    assert pieces == ["0180 rows 1-4", "0180 rows 5-8", "0180 rows 9-11", "0180 rows 12-14", "1480 rows 1-2",
                      "1480 rows 3-5"], "each chunk ran as two pieces, one per worker"
    assert MARKER not in caplog.text and PNR not in caplog.text

    again = on_dask(tmp_path / "dask.duckdb")  # a re-run: nothing written or alerted twice
    assert again["batches"] == [] and ingested(tmp_path / "dask.duckdb")[0] == exact


def test_a_failing_ingest_piece_is_retried_then_fails_its_batch_by_rows(prefect_harness, home, tmp_path,
                                                                       monkeypatch, caplog, capfd):
    """The task path (flows.pipeline.OnTaskRunner) on a thread pool, so that the test can make pieces fail."""
    from prefect import flow, get_run_logger
    from prefect.context import FlowRunContext
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.pipeline import OnTaskRunner
    from synpunkt import ingest_compute, scaleout
    from synpunkt.ingest import ingest_batch, pending_batches
    from synpunkt.landing import collect_inbox
    from synpunkt.redact import Redactor
    from synpunkt.redaction_cache import RedactionCache
    from synpunkt.warehouse import connect

    class Exploding:
        """Rules-only redaction that fails on MARKER with the text in its message, as a real bug could."""

        inner = Redactor(use_model=False)

        def redact_many(self, texts, batch_size=32):
            if any(MARKER in t for t in texts):
                raise ValueError(f"cannot redact {texts}")
            return self.inner.redact_many(texts, batch_size)

        def find_spans_many(self, texts, batch_size=32):
            return self.inner.find_spans_many(texts, batch_size)

    attempts: dict[tuple, int] = {}

    def flaky(work, model_dir=None):
        k = (work.batch_id, work.span)
        attempts[k] = attempts.get(k, 0) + 1
        if attempts[k] == 1:
            raise ConnectionError("worker lost")  # every piece's first attempt: the retry computes it
        return ingest_compute.compute_chunk(work, RedactionCache(Exploding()))

    monkeypatch.setattr(scaleout, "ingest_rows", flaky)
    monkeypatch.setattr(scaleout, "redact_file_name", lambda name: RedactionCache(Exploding()).file_name(name))
    monkeypatch.setattr(ingest_compute, "MIN_PIECE_ROWS", 2)
    ingest_inbox(home)
    receipts, _ = collect_inbox()

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def ingest_on_tasks(path):
        compute = OnTaskRunner(FlowRunContext.get().task_runner, 1, get_run_logger())
        con = connect(path)
        try:
            return {r.municipality_code: ingest_batch(con, r, compute=compute, chunk_rows=8)
                    for r in pending_batches(con)}
        finally:
            con.close()

    with caplog.at_level(logging.DEBUG):
        results = ingest_on_tasks(tmp_path / "w.duckdb")
    failed, good = results["0180"], results["1480"]
    assert (good.status, good.rows_accepted) == ("ingested", 5)
    assert failed.status == "failed" and failed.rows_accepted == 0
    assert failed.error.startswith("redacting rows ") and "(after 1 retries): ValueError: unexpected error" in \
        failed.error, failed.error
    assert all(n == 2 for n in attempts.values()), "each piece failed once, then was retried once"
    logs = caplog.text + capfd.readouterr().err  # Prefect's console handler writes to stderr
    assert "worker lost" in logs and "ValueError" in logs  # the retry and the failure were logged...
    assert MARKER not in logs and MARKER not in failed.error  # ...without the text in the error's message
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT status, error FROM batches WHERE municipality_code = '0180'").fetchall() == \
        [("failed", failed.error)]  # counted as failed, retried by `synpunkt run --retry-failed`
    assert con.execute("SELECT count(*) FROM comments WHERE municipality_code = '0180'").fetchone()[0] == 0
    con.close()
    assert len(receipts) == 2


def test_split_work_covers_every_row_once_in_order_and_merge_puts_it_back():
    from synpunkt.ingest_compute import ChunkOutput, ChunkWork, merge_outputs, piece_count, split_work
    from synpunkt.readers.common import BadRow

    accepted = pd.DataFrame({"row_number": [1, 2, 4, 5, 6, 8, 9], "text": list("abcdefg")})
    rejected = pd.DataFrame({"row_number": [3, 10], "reason_code": "x", "reason": "r", "row": None})
    dups = pd.DataFrame({"row_number": [5, 9], "reason_code": "d", "reason": "r"})
    work = ChunkWork("b", "0180", 1, 11, accepted, [f"c{n}" for n in accepted["row_number"]], dups, rejected,
                     [BadRow(7, "malformed_row", "line 8"), BadRow(11, "malformed_row", "line 12")])
    pieces = split_work(work, 3)
    assert [(p.first_row, p.last_row) for p in pieces] == [(1, 3), (4, 7), (8, 11)]
    assert sum(p.row_count for p in pieces) == work.row_count == 11
    assert [c for p in pieces for c in p.comment_ids] == work.comment_ids
    assert [list(p.duplicates["row_number"]) for p in pieces] == [[], [5], [9]]
    assert [[b.row_number for b in p.bad] for p in pieces] == [[], [7], [11]]
    out = [ChunkOutput(*(p.accepted[["row_number"]] for _ in range(4))) for p in pieces]
    assert list(merge_outputs(out).comments["row_number"]) == list(accepted["row_number"])
    assert split_work(work, 1) == [work]
    assert [piece_count(n, 2) for n in (0, 10, 64, 500, 10_000)] == [1, 1, 2, 2, 10]


# -- who may see raw text --------------------------------------------------------------------------------------
@pytest.mark.parametrize("address, allowed", [
    (None, True), ("tls://scheduler.example:8786", True), ("TLS://10.0.0.5:8786", True),
    ("tcp://scheduler.example:8786", False), ("10.0.0.5:8786", False), ("tcp://127.0.0.1:8786", False),
])
def test_raw_text_only_goes_to_a_local_cluster_or_over_tls_unless_the_network_is_trusted(monkeypatch, address,
                                                                                        allowed):
    from synpunkt import scaleout

    monkeypatch.delenv("SYNPUNKT_DASK_TRUSTED_NETWORK", raising=False)
    if allowed:
        assert scaleout.task_runner("dask", address=address).address == address
    else:
        with pytest.raises(scaleout.UntrustedCluster, match="SYNPUNKT_DASK_TRUSTED_NETWORK=1") as refused:
            scaleout.task_runner("dask", address=address)
        assert "tls://" in str(refused.value)
        assert scaleout.task_runner("dask", address=address, raw_text=False).address == address  # classify only
        monkeypatch.setenv("SYNPUNKT_DASK_TRUSTED_NETWORK", "1")  # the operator's word for a private network
        assert scaleout.task_runner("dask", address=address).address == address
    monkeypatch.setenv("SYNPUNKT_DASK_TRUSTED_NETWORK", "maybe")
    with pytest.raises(ValueError, match="SYNPUNKT_DASK_TRUSTED_NETWORK must be 1 or 0"):
        scaleout.check_raw_text("tcp://scheduler.example:8786")


def test_the_ingest_flow_refuses_an_untrusted_scheduler_before_any_work(prefect_harness, home, tmp_path,
                                                                       monkeypatch):
    from prefect_dask import DaskTaskRunner

    from flows.pipeline import ingest_flow
    from synpunkt import scaleout

    monkeypatch.delenv("SYNPUNKT_DASK_TRUSTED_NETWORK", raising=False)
    ingest_inbox(home)
    runner = DaskTaskRunner(address="tcp://10.255.255.1:8786")  # never connected to: refused first
    with pytest.raises(scaleout.UntrustedCluster, match="SYNPUNKT_DASK_TRUSTED_NETWORK"):
        ingest_flow.with_options(task_runner=runner)(tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists() and not (home / "landing").exists()


# -- settings ----------------------------------------------------------------------------------------------------
def test_the_runner_setting_is_checked_with_a_clear_error(monkeypatch):
    from synpunkt import config, scaleout

    assert config.parse_task_runner(" Dask ") == "dask"
    monkeypatch.delenv("SYNPUNKT_TASK_RUNNER", raising=False)
    assert config.task_runner() == "local"
    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "spark")
    with pytest.raises(ValueError, match=r"task runner must be one of local, dask, not 'spark'"):
        config.task_runner()
    with pytest.raises(ValueError, match="SYNPUNKT_TASK_RUNNER"):
        scaleout.task_runner()
    with pytest.raises(ValueError, match="not 'ray'"):
        scaleout.task_runner("ray")
    with pytest.raises(ValueError, match="needs the dask task runner, not local"):
        scaleout.task_runner("local", address="tcp://scheduler:8786")


@pytest.mark.parametrize("variable, value, message", [
    ("SYNPUNKT_DASK_WORKERS", "0", "at least 1"),
    ("SYNPUNKT_DASK_WORKERS", "two", "whole number"),
    ("SYNPUNKT_DASK_ADDRESS", "tcp://host :8786", "without blanks"),
    ("SYNPUNKT_CHUNK_RETRIES", "-1", "whole number"),
])
def test_bad_dask_settings_are_clear_errors(monkeypatch, variable, value, message):
    from synpunkt import config, scaleout

    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "dask")
    monkeypatch.setenv(variable, value)
    read = (lambda: config.chunk_retries("dask")) if variable == "SYNPUNKT_CHUNK_RETRIES" else scaleout.task_runner
    with pytest.raises(ValueError, match=f"{variable}.*{message}"):
        read()


def test_the_settings_build_the_runner_they_name(monkeypatch):
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from synpunkt import config, scaleout

    for name in ("TASK_RUNNER", "DASK_ADDRESS", "DASK_WORKERS", "CHUNK_RETRIES", "DASK_TRUSTED_NETWORK"):
        monkeypatch.delenv(f"SYNPUNKT_{name}", raising=False)
    local = scaleout.task_runner()
    assert isinstance(local, ThreadPoolTaskRunner) and scaleout.parallelism(local) == 1
    assert (config.chunk_retries("local"), config.chunk_retries("dask")) == (0, 2)
    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "dask")
    cluster = scaleout.task_runner()
    assert isinstance(cluster, DaskTaskRunner) and cluster.address is None
    assert cluster.cluster_kwargs == {"n_workers": 2, "threads_per_worker": 1, "processes": True}
    monkeypatch.setenv("SYNPUNKT_DASK_WORKERS", "3")
    assert scaleout.task_runner().cluster_kwargs["n_workers"] == 3
    monkeypatch.setenv("SYNPUNKT_DASK_ADDRESS", "tls://scheduler:8786")
    assert scaleout.task_runner().address == "tls://scheduler:8786"
    assert scaleout.runner_name(scaleout.task_runner()) == "dask"
    monkeypatch.delenv("SYNPUNKT_TASK_RUNNER")
    assert config.task_runner() == "dask"  # an address alone means Dask


@pytest.mark.parametrize("options, message", [
    (["--task-runner", "spark"], "task runner must be one of local, dask, not 'spark'"),
    (["--task-runner", "local", "--dask-address", "tcp://scheduler:8786"], "needs the dask task runner"),
    (["--dask-address", "tcp://scheduler:8786"], "set SYNPUNKT_DASK_TRUSTED_NETWORK=1 if the network"),
])
def test_run_checks_its_task_runner_options_before_any_work(home, monkeypatch, options, message):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "local")  # restored afterwards: the command sets the variables
    monkeypatch.setenv("SYNPUNKT_DASK_ADDRESS", "")
    monkeypatch.delenv("SYNPUNKT_DASK_TRUSTED_NETWORK", raising=False)
    result = CliRunner().invoke(app, ["run", *options])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (home / "warehouse").exists()

"""Scale-out: the classify flow on a two-worker Dask LocalCluster stores exactly the single-process predictions;
a failing chunk is reported by number while the others are stored; the task-runner settings are checked."""

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
    for column in a.columns.difference(probs):  # topics come back as arrays: compared as lists
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

    for name in ("TASK_RUNNER", "DASK_ADDRESS", "DASK_WORKERS", "CHUNK_RETRIES"):
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
    monkeypatch.setenv("SYNPUNKT_DASK_ADDRESS", "tcp://scheduler:8786")
    assert scaleout.task_runner().address == "tcp://scheduler:8786"
    assert scaleout.runner_name(scaleout.task_runner()) == "dask"
    monkeypatch.delenv("SYNPUNKT_TASK_RUNNER")
    assert config.task_runner() == "dask"  # an address alone means Dask


@pytest.mark.parametrize("options, message", [
    (["--task-runner", "spark"], "task runner must be one of local, dask, not 'spark'"),
    (["--task-runner", "local", "--dask-address", "tcp://scheduler:8786"], "needs the dask task runner"),
])
def test_run_checks_its_task_runner_options_before_any_work(home, monkeypatch, options, message):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "local")  # restored afterwards: the command sets the variables
    monkeypatch.setenv("SYNPUNKT_DASK_ADDRESS", "")
    result = CliRunner().invoke(app, ["run", *options])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (home / "warehouse").exists()

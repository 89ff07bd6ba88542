"""`synpunkt run`'s operator errors found by the operator red team: a Dask scheduler that is down or a tls:// one
without TLS settings, a signal-heads folder that is not there and a malformed sources.toml are one line and exit
status 2 before any work (never tracebacks, no batch touched); a source not pulled fails the run (exit 3) by name;
alerts not delivered are counted at the end; a missing model file is not reported as a missing raw copy."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from synpunkt.cli import app


def _one_line_error(result) -> bool:
    lines = [line for line in result.output.splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output


@pytest.fixture
def local(home, monkeypatch):
    """A home with one landed batch and the local task runner (the tests set the Dask variables they need)."""
    for var in ("SYNPUNKT_TASK_RUNNER", "SYNPUNKT_DASK_ADDRESS", "SYNPUNKT_DASK_TRUSTED_NETWORK"):
        monkeypatch.delenv(var, raising=False)
    src = home / "in.csv"
    src.write_text("text,date\nBra service,2025-01-10\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["submit", str(src), "--municipality", "1480"]).exit_code == 0
    return home


def _untouched(home) -> bool:
    """Nothing ran: no warehouse, and the landed batch has no status file."""
    from synpunkt.landing import batch_dir, landed_batches

    batches = landed_batches()
    return (not (home / "warehouse").exists() and len(batches) == 1
            and not any(p.name.startswith("status") for p in batch_dir(batches[0].municipality_code,
                                                                       batches[0].batch_id).iterdir()))


# -- item 2: the Dask scheduler --------------------------------------------------------------------------------
def test_check_scheduler_says_what_is_missing_in_one_line():
    from synpunkt.scaleout import SchedulerUnreachable, check_scheduler

    check_scheduler(None)  # a LocalCluster: nothing to reach
    with pytest.raises(SchedulerUnreachable, match="distributed.comm.tls.ca-file") as tls:
        check_scheduler("tls://127.0.0.1:1", timeout=1)
    with pytest.raises(SchedulerUnreachable, match="cannot be reached within 1 s") as tcp:
        check_scheduler("tcp://127.0.0.1:1", timeout=1)
    for err in (tls, tcp):
        assert str(err.value).startswith("SYNPUNKT_DASK_ADDRESS ") and "\n" not in str(err.value)


@pytest.mark.parametrize("address, trusted, says", [
    ("tls://127.0.0.1:1", None, "a tls:// scheduler needs Dask's TLS settings"),
    ("tcp://127.0.0.1:1", "1", "the Dask scheduler cannot be reached"),
])
def test_run_against_a_scheduler_it_cannot_use_is_one_line_and_touches_no_batch(local, monkeypatch, address, trusted,
                                                                                 says):
    from synpunkt import scaleout

    monkeypatch.setattr(scaleout, "SCHEDULER_CHECK_S", 1.0)
    monkeypatch.setenv("SYNPUNKT_DASK_ADDRESS", address)
    if trusted:
        monkeypatch.setenv("SYNPUNKT_DASK_TRUSTED_NETWORK", trusted)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2 and _one_line_error(result), result.output
    assert "SYNPUNKT_DASK_ADDRESS" in result.output and says in " ".join(result.output.split())
    assert _untouched(local)


# -- item 3: the signal heads ----------------------------------------------------------------------------------
def test_run_with_a_missing_signals_model_is_one_line_before_any_work(local, monkeypatch, tmp_path):
    (tmp_path / "empty").mkdir()
    for folder, says in ((tmp_path / "nonexistent", "no such folder"), (tmp_path / "empty", "not a folder of signal")):
        monkeypatch.setenv("SYNPUNKT_SIGNALS_MODEL", str(folder))
        result = CliRunner().invoke(app, ["run"])
        assert result.exit_code == 2 and _one_line_error(result), result.output
        assert "SYNPUNKT_SIGNALS_MODEL" in result.output and says in result.output
    assert _untouched(local)


def test_a_missing_file_is_the_raw_copy_only_when_the_raw_copy_is_missing(tmp_path):
    from synpunkt.ingest_compute import FILE_MISSING, RAW_COPY_MISSING, ChunkFailed, safe_detail
    from synpunkt.signals.heads import SignalHeads

    with pytest.raises(FileNotFoundError) as heads:
        SignalHeads.load(tmp_path / "nonexistent")
    raw = tmp_path / "raw.csv"
    raw.write_text("text\n", encoding="utf-8")
    assert safe_detail(heads.value, raw) == FILE_MISSING and "SYNPUNKT_SIGNALS_MODEL" in FILE_MISSING
    assert ChunkFailed.of("loading the redaction and signal models", heads.value).detail == FILE_MISSING
    with pytest.raises(FileNotFoundError) as gone:
        open(tmp_path / "gone.csv", encoding="utf-8")
    assert safe_detail(gone.value, tmp_path / "gone.csv") == RAW_COPY_MISSING


# -- item 5: sources.toml --------------------------------------------------------------------------------------
def test_run_with_a_malformed_sources_file_is_one_line_before_any_work(local):
    (local / "sources.toml").write_text('[[source]\nmunicipality = "1480"\n', encoding="utf-8")
    for command in (["run"], ["serve"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2 and _one_line_error(result), result.output
        assert "sources.toml: not valid TOML" in result.output
    assert _untouched(local)


# -- items 4 and 7: the end of the run's summary ---------------------------------------------------------------
def _fake_run(monkeypatch, **extra):
    import flows.pipeline
    from synpunkt.cli import pipeline_commands

    result = {"ingest": {"batches": []}, "failed_batches": [], "inbox_not_landed": [],
              "classify": {"classified": 0, "model_version": "m@1"}, "published": "p.duckdb", **extra}
    monkeypatch.setattr(flows.pipeline, "pipeline_flow", lambda **kwargs: result)
    monkeypatch.setattr(pipeline_commands, "_start_prefect", lambda: None)
    return CliRunner().invoke(app, ["run"])


def test_a_source_not_pulled_fails_the_run_by_name_and_undelivered_alerts_are_counted(home, monkeypatch):
    result = _fake_run(monkeypatch, sources_not_pulled=["1480 (127.0.0.1:9)"], alerts_not_delivered=2)
    assert result.exit_code == 3, result.output
    lines = result.output.strip().splitlines()
    assert any("1 source(s) not pulled after their retries: 1480 (127.0.0.1:9)" in line for line in lines)
    assert lines[-1].startswith("2 alert(s) not delivered; they are retried at the next run")


def test_a_clean_run_says_nothing_about_sources_or_alerts(home, monkeypatch):
    result = _fake_run(monkeypatch, sources_not_pulled=[], alerts_not_delivered=0)
    assert result.exit_code == 0, result.output
    assert "not pulled" not in result.output and "not delivered" not in result.output


def test_undelivered_alerts_are_counted_in_the_warehouse(tmp_path):
    from flows.pipeline import undelivered_alerts
    from synpunkt.warehouse import connect

    con = connect(tmp_path / "w.duckdb")
    try:
        assert undelivered_alerts(con) == 0
    finally:
        con.close()


# -- follow-up: SYNPUNKT_MODEL checked as --model is -----------------------------------------------------------
@pytest.mark.parametrize("command", [["run"], ["serve"], ["demo"]])
def test_a_wrong_synpunkt_model_is_one_line_before_any_work(local, monkeypatch, tmp_path, command):
    from synpunkt.cli import pipeline_commands

    def no_work():
        raise AssertionError("the command started work with a wrong SYNPUNKT_MODEL")

    monkeypatch.setattr(pipeline_commands, "_start_prefect", no_work)  # fails fast, never serves or runs
    (tmp_path / "empty").mkdir()
    for value, says in ((str(tmp_path / "nonexistent"), "no such model folder"),
                        (str(tmp_path / "empty"), "not a Synpunkt model folder"),
                        ("KB/bert-base-swedish-cased", "no such model folder")):  # a hub id: as --model has it
        monkeypatch.setenv("SYNPUNKT_MODEL", value)
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2 and _one_line_error(result), result.output
        assert result.output.startswith(f"error: SYNPUNKT_MODEL {value}: {says}"), result.output
    assert _untouched(local)


def test_a_synpunkt_model_folder_passes_the_check(monkeypatch):
    from synpunkt.cli.pipeline_commands import _model_setting
    from synpunkt.config import DEFAULT_MODEL_DIR

    monkeypatch.delenv("SYNPUNKT_MODEL", raising=False)
    _model_setting()  # unset: the shipped model
    monkeypatch.setenv("SYNPUNKT_MODEL", str(DEFAULT_MODEL_DIR))
    _model_setting()

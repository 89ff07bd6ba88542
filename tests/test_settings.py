"""Settings (synpunkt.config): every SYNPUNKT_* value is parsed by one function that names the variable when the value
cannot be used, and the commands check them all, and SYNPUNKT_HOME, before any work (one line, exit status 2)."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from synpunkt import config
from synpunkt.cli import app
from synpunkt.config import SettingError

runner = CliRunner()

SETTINGS = ("ONNX_CACHE_GB", "BACKEND", "INFERENCE_THREADS", "RAW_RETENTION_DAYS", "MAX_UPLOAD_MB",
            "INBOX_SETTLE_SECONDS", "AUTH_MAX_FAILURES", "AUTH_WINDOW_S", "UPLOAD_TIMEOUT_S", "HEADER_TIMEOUT_S",
            "API_DOCS", "MAX_ROWS_PER_BATCH", "INGEST_CHUNK_ROWS", "TASK_RUNNER", "DASK_ADDRESS", "DASK_WORKERS",
            "CHUNK_RETRIES", "DASK_TRUSTED_NETWORK", "PRECISION", "PREP_WORKERS")
"""The settings check_settings reads (without the SYNPUNKT_ prefix)."""

BAD = [  # variable, value, the setting's reader, what the message must say
    ("SYNPUNKT_RAW_RETENTION_DAYS", "thirty", config.raw_retention_days, "whole number of days, 0 or more"),
    ("SYNPUNKT_RAW_RETENTION_DAYS", "-1", config.raw_retention_days, "0 or more"),
    ("SYNPUNKT_RAW_RETENTION_DAYS", "7.5", config.raw_retention_days, "whole number"),
    ("SYNPUNKT_MAX_UPLOAD_MB", "abc", config.max_upload_bytes, "number of megabytes above 0"),
    ("SYNPUNKT_MAX_UPLOAD_MB", "0", config.max_upload_bytes, "above 0"),
    ("SYNPUNKT_MAX_UPLOAD_MB", "nan", config.max_upload_bytes, "above 0"),
    ("SYNPUNKT_AUTH_MAX_FAILURES", "0", config.auth_max_failures, "at least 1"),
    ("SYNPUNKT_AUTH_MAX_FAILURES", "ten", config.auth_max_failures, "whole number"),
    ("SYNPUNKT_AUTH_WINDOW_S", "-60", config.auth_window_s, "seconds above 0"),
    ("SYNPUNKT_UPLOAD_TIMEOUT_S", "2min", config.upload_timeout_s, "seconds above 0"),
    ("SYNPUNKT_HEADER_TIMEOUT_S", "0", config.header_timeout_s, "seconds above 0"),
    ("SYNPUNKT_INFERENCE_THREADS", "four", config.inference_threads, "whole number of threads"),
    ("SYNPUNKT_INFERENCE_THREADS", "0", config.inference_threads, "at least 1"),
    ("SYNPUNKT_INBOX_SETTLE_SECONDS", "-5", config.inbox_settle_seconds, "0 or more"),
    ("SYNPUNKT_ONNX_CACHE_GB", "5GB", config.onnx_cache_limit_gb, "gigabytes"),
    ("SYNPUNKT_MAX_ROWS_PER_BATCH", "1e6", config.max_rows_per_batch, "whole number of rows"),
    ("SYNPUNKT_INGEST_CHUNK_ROWS", "0", config.ingest_chunk_rows, "at least 1"),
    ("SYNPUNKT_API_DOCS", "maybe", config.api_docs, "1 or 0"),
    ("SYNPUNKT_DASK_WORKERS", "two", config.dask_workers, "whole number of at least 1"),
    ("SYNPUNKT_DASK_TRUSTED_NETWORK", "perhaps", config.dask_trusted_network, "1 or 0"),
    ("SYNPUNKT_CHUNK_RETRIES", "-1", lambda: config.chunk_retries("local"), "whole number"),
    ("SYNPUNKT_PRECISION", "fp16", config.precision, "one of auto, fp32, bf16"),
    ("SYNPUNKT_PREP_WORKERS", "-1", lambda: config.prep_workers("cuda"), "0 or more"),
    ("SYNPUNKT_PREP_WORKERS", "eight", lambda: config.prep_workers("torch"), "whole number of processes"),
]


@pytest.fixture()
def clean(monkeypatch, tmp_path):
    """None of the user's SYNPUNKT_* settings, and a SYNPUNKT_HOME in tmp_path/home (not made yet)."""
    for name in SETTINGS:
        monkeypatch.delenv(f"SYNPUNKT_{name}", raising=False)
    for name in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_DASK_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _one_line_error(result) -> bool:
    lines = [line for line in result.output.splitlines() if line.strip()]
    return (isinstance(result.exception, SystemExit) and len(lines) == 1 and lines[0].startswith("error: ")
            and "Traceback" not in result.output)


# -- the parsers -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variable, value, read, says", BAD)
def test_a_bad_value_is_a_setting_error_naming_the_variable(clean, monkeypatch, variable, value, read, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as err:
        read()
    assert err.value.variable == variable and isinstance(err.value, ValueError)
    assert str(err.value).startswith(f"{variable} must be ") and says in str(err.value)
    assert repr(value) in str(err.value)  # the bad value, as the operator typed it
    with pytest.raises(SettingError, match=variable):  # and check_settings finds it before any work
        config.check_settings()


def test_good_values_blanks_and_defaults(clean, monkeypatch):
    config.check_settings()  # nothing set: every default is valid
    assert (config.raw_retention_days(), config.max_upload_bytes(), config.auth_max_failures()) == (30, 50 << 20, 10)
    assert config.inference_threads() >= 1 and config.api_docs() is False
    for variable, value in (("SYNPUNKT_RAW_RETENTION_DAYS", " 0 "), ("SYNPUNKT_MAX_UPLOAD_MB", "0.5"),
                            ("SYNPUNKT_INFERENCE_THREADS", "3"), ("SYNPUNKT_AUTH_WINDOW_S", "1.5"),
                            ("SYNPUNKT_INBOX_SETTLE_SECONDS", "0"), ("SYNPUNKT_API_DOCS", "Yes"),
                            ("SYNPUNKT_CHUNK_RETRIES", "0"), ("SYNPUNKT_BACKEND", "torch")):
        monkeypatch.setenv(variable, value)
    config.check_settings()
    assert (config.raw_retention_days(), config.max_upload_bytes(), config.inference_threads()) == (0, 512 << 10, 3)
    assert (config.auth_window_s(), config.inbox_settle_seconds(), config.api_docs()) == (1.5, 0.0, True)
    monkeypatch.setenv("SYNPUNKT_RAW_RETENTION_DAYS", "  ")  # blank: the default
    assert config.raw_retention_days() == 30


def test_an_unknown_backend_is_a_setting_error(clean, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_BACKEND", "nonsense")
    with pytest.raises(SettingError, match="SYNPUNKT_BACKEND") as err:
        config.check_settings()
    assert "'nonsense'" in str(err.value) and all(name in str(err.value) for name in ("torch", "onnx-int8", "auto"))
    monkeypatch.setenv("SYNPUNKT_BACKEND", " AUTO ")
    config.check_settings()


def test_the_precision_setting_reaches_the_torch_backend(clean, monkeypatch):
    from synpunkt.inference.torch_runner import resolve_precision

    assert config.precision() == "auto" and resolve_precision() in ("fp32", "bf16")
    monkeypatch.setenv("SYNPUNKT_PRECISION", " FP32 ")
    assert config.precision() == "fp32" and resolve_precision() == "fp32"
    assert resolve_precision("bf16") == "bf16"  # an argument wins over the setting
    monkeypatch.setenv("SYNPUNKT_PRECISION", "half")
    with pytest.raises(SettingError, match="SYNPUNKT_PRECISION"):
        resolve_precision()


def test_the_settings_module_imports_no_inference_code():
    """config is the lowest layer: checking settings never imports torch or the inference package."""
    import subprocess
    import sys

    code = ("import sys, os; os.environ['SYNPUNKT_BACKEND'] = 'onnx'; from synpunkt import config; "
            "config.check_settings(); print(sorted(m for m in sys.modules if m == 'torch' or "
            "m.startswith('synpunkt.inference')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cuda_without_a_gpu_stops_the_command_in_one_line(clean, no_pipeline, monkeypatch, tmp_path):
    from synpunkt.inference import backends

    monkeypatch.setattr(backends, "cuda_available", lambda: False)
    monkeypatch.setenv("SYNPUNKT_BACKEND", "cuda")
    config.check_settings()  # the name is valid; whether this machine can run it is the command's check
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and _one_line_error(result), result.output
    assert "SYNPUNKT_BACKEND" in result.output and "needs a CUDA GPU" in result.output


def test_the_task_runner_settings_are_checked_too(clean, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "spark")
    with pytest.raises(SettingError, match="SYNPUNKT_TASK_RUNNER"):
        config.check_settings()
    monkeypatch.setenv("SYNPUNKT_TASK_RUNNER", "local")
    monkeypatch.setenv("SYNPUNKT_DASK_ADDRESS", "tcp://a b:8786")
    with pytest.raises(SettingError, match="SYNPUNKT_DASK_ADDRESS"):
        config.check_settings()


# -- SYNPUNKT_HOME -----------------------------------------------------------------------------------------------
def test_home_under_a_file_or_a_file_is_not_usable(clean, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    for home, why in ((tmp_path / "afile" / "home", f"{tmp_path / 'afile'} is a file"),
                      (tmp_path / "afile", f"{tmp_path / 'afile'} is a file")):
        monkeypatch.setenv("SYNPUNKT_HOME", str(home))
        for write in (True, False):
            with pytest.raises(SettingError) as err:
                config.check_home(write)
            assert str(err.value) == f"SYNPUNKT_HOME {home} is not a usable folder: {why}"


def test_a_missing_home_is_usable_and_not_made_by_the_check(clean):
    assert config.check_home() == clean and config.check_home(write=False) == clean
    assert not clean.exists()
    clean.mkdir()
    assert config.check_home() == clean


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_home_without_write_permission_is_usable_only_for_reading(clean, monkeypatch):
    clean.mkdir(mode=0o500)
    try:
        assert config.check_home(write=False) == clean
        with pytest.raises(SettingError, match="no permission to write it"):
            config.check_home()
        monkeypatch.setenv("SYNPUNKT_HOME", str(clean / "sub"))
        with pytest.raises(SettingError, match="cannot be made"):
            config.check_home()
    finally:
        clean.chmod(0o700)


# -- the commands ------------------------------------------------------------------------------------------------
@pytest.fixture()
def no_pipeline(monkeypatch):
    """Fail the test if a command gets as far as starting Prefect (the pipeline's first step)."""
    from synpunkt.cli import common

    def refuse() -> None:
        raise AssertionError("Prefect was started before the settings were checked")

    monkeypatch.setattr(common, "_start_prefect", refuse)
    from synpunkt.cli import pipeline_commands

    monkeypatch.setattr(pipeline_commands, "_start_prefect", refuse)


@pytest.mark.parametrize("variable, value", [
    ("SYNPUNKT_BACKEND", "nonsense"), ("SYNPUNKT_RAW_RETENTION_DAYS", "thirty"), ("SYNPUNKT_MAX_UPLOAD_MB", "abc"),
    ("SYNPUNKT_AUTH_MAX_FAILURES", "0"), ("SYNPUNKT_INFERENCE_THREADS", "four"), ("SYNPUNKT_DASK_WORKERS", "0"),
    ("SYNPUNKT_PRECISION", "fp16"),
])
@pytest.mark.parametrize("command", [["run"], ["serve", "--port", "1"], ["demo", "--no-reports"],
                                     ["classify", "in.csv", "-o", "out.csv"]])
def test_a_bad_setting_stops_the_command_before_any_work(clean, no_pipeline, monkeypatch, tmp_path, command,
                                                         variable, value):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("text\nBra bemötande\n")
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, command)
    assert result.exit_code == 2 and _one_line_error(result), result.output
    assert variable in result.output and repr(value) in result.output
    assert not clean.exists() and not (tmp_path / "out.csv").exists(), "nothing ran"


def test_run_with_an_unknown_backend_leaves_the_landed_batch_for_the_next_run(clean, no_pipeline, monkeypatch,
                                                                            tmp_path):
    from synpunkt.landing import landed_batches

    src = tmp_path / "export.csv"
    src.write_text("id,datum,kommentar\nX-1,2025-06-01,Trevligt bemötande\n")
    assert runner.invoke(app, ["submit", str(src), "--municipality", "0180"]).exit_code == 0
    monkeypatch.setenv("SYNPUNKT_BACKEND", "nonsense")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and _one_line_error(result) and "SYNPUNKT_BACKEND" in result.output
    assert "please report" not in result.output
    assert [r.municipality_code for r in landed_batches()] == ["0180"] and not (clean / "warehouse").exists()


HOME_COMMANDS = [["token", "0180"], ["token", "0180", "--revoke"], ["run"], ["status"], ["serve", "--port", "1"],
                 ["demo", "--no-reports"], ["alerts"], ["submit", "{file}", "--municipality", "0180"],
                 ["export", "-o", "{tmp}/x.csv", "-f", "csv"], ["report", "--no-pdf"],
                 ["review", "import", "{file}"],
                 ["review", "export", "--municipality", "0180", "--year", "2025", "-o", "{tmp}/r.csv"]]


@pytest.mark.parametrize("command", HOME_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_unusable_home_is_one_line_for_every_command(clean, no_pipeline, monkeypatch, tmp_path, command):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "export.csv").write_text("id,datum,kommentar\nX-1,2025-06-01,Trevligt bemötande\n")
    home = tmp_path / "afile" / "home"
    monkeypatch.setenv("SYNPUNKT_HOME", str(home))
    args = [a.format(file=tmp_path / "export.csv", tmp=tmp_path) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and _one_line_error(result), result.output
    assert f"SYNPUNKT_HOME {home} is not a usable folder: {tmp_path / 'afile'} is a file" in result.output
    assert "no batches yet" not in result.output


def test_status_of_a_fresh_home_still_says_there_are_no_batches(clean):
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0 and "no batches yet" in result.output
    assert not clean.exists()


def test_a_backend_error_in_a_batch_names_the_backend_never_cell_values():
    from synpunkt.inference.backends import BackendError, check_backend
    from synpunkt.ingest_compute import safe_detail

    with pytest.raises(BackendError) as err:
        check_backend("nonsense")
    assert safe_detail(err.value).startswith("the inference backend: unknown inference backend 'nonsense'")
    assert safe_detail(RuntimeError("Ring Karin på 070-123 45 67")) == "unexpected error (please report this)"

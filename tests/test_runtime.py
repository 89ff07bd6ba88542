"""Prefect start-up and child-process clean-up (synpunkt/runtime.py), each in a real subprocess: a run killed with
SIGKILL leaves no server behind, and a Prefect API that cannot start or be reached is one clear line, not a
traceback."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: own Prefect home and Synpunkt home, no Prefect API URL, no user timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SYNPUNKT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), SYNPUNKT_HOME=str(tmp_path / "var"),
               PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", **extra)
    return env


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"no output from the child process within {timeout:.0f} s")
    return proc.stdout.readline().decode().strip()


def _gone(pid: int, create_time: float, timeout: float) -> bool:
    """True once the process has exited (a zombie waiting for init to reap it counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            proc = psutil.Process(pid)
            if proc.create_time() != create_time or proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def _kill_parent_and_check_child(script: str, tmp_path: Path, start_timeout: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE,
                            env=_env(tmp_path), cwd=tmp_path)
    try:
        child = psutil.Process(int(_read_line(proc, start_timeout)))
        created = child.create_time()
        assert child.is_running() and child.status() != psutil.STATUS_ZOMBIE
        proc.send_signal(signal.SIGKILL)  # no exit handlers, no finally blocks
        proc.wait(10)
        assert _gone(child.pid, created, timeout=10), "the child process outlived its killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_watchdog_ends_a_watched_process_when_its_parent_is_killed(tmp_path):
    _kill_parent_and_check_child("""
        import subprocess, time
        from synpunkt.runtime import _watchdog
        child = subprocess.Popen(["sleep", "600"])
        _watchdog().watch(child.pid)
        print(child.pid, flush=True)
        time.sleep(600)
    """, tmp_path, start_timeout=30)


def test_prefect_temporary_server_dies_with_a_killed_run(tmp_path):
    """A process that started Prefect's temporary server and ran a flow, then killed with SIGKILL."""
    _kill_parent_and_check_child("""
        import time
        from prefect import flow
        from prefect.server.api.server import SubprocessASGIServer
        from synpunkt.runtime import start_prefect

        start_prefect()

        @flow
        def trivial() -> int:
            return 1

        assert trivial() == 1
        print(SubprocessASGIServer().server_process.pid, flush=True)
        time.sleep(600)
    """, tmp_path, start_timeout=240)


def test_normal_exit_stops_the_server_and_the_watchdog(tmp_path):
    script = """
        from prefect.server.api.server import SubprocessASGIServer
        from synpunkt import runtime

        runtime.start_prefect()
        print(SubprocessASGIServer().server_process.pid, runtime._WATCHDOG.process.pid, flush=True)
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          env=_env(tmp_path), cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    for pid in map(int, done.stdout.split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _synpunkt(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synpunkt.cli", *args], capture_output=True, text=True,
                          env=_env(tmp_path, **env), cwd=tmp_path, timeout=240)


def test_a_server_that_does_not_start_in_time_is_one_clear_line(tmp_path):
    done = _synpunkt(tmp_path, "run", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "did not answer within 1 s" in errors[0]
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in errors[0] and "prefect server start" in errors[0]
    assert not (tmp_path / "var" / "warehouse").exists()  # nothing ran


def test_an_unreachable_persistent_server_is_one_clear_line(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = _synpunkt(tmp_path, "run", PREFECT_API_URL=f"http://127.0.0.1:{port}/api")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"error: cannot reach the Prefect API at http://127.0.0.1:{port}/api (PREFECT_API_URL)" in done.stderr


@pytest.mark.parametrize("user_value", [None, "33"])
def test_startup_timeout_is_the_projects_unless_the_user_set_one(tmp_path, user_value):
    script = """
        import os
        from prefect.settings import get_current_settings
        from synpunkt.runtime import configure_startup_timeout

        print(configure_startup_timeout(), get_current_settings().server.ephemeral.startup_timeout_seconds,
              os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    """
    from synpunkt.config import PREFECT_STARTUP_TIMEOUT_S

    extra = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": user_value} if user_value else {}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          env=_env(tmp_path, **extra), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = user_value or str(PREFECT_STARTUP_TIMEOUT_S)
    assert done.stdout.split() == [expected] * 3

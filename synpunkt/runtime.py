"""Prefect start-up and child-process clean-up, for the commands that run flows (run, demo, report, train, serve).

    quiet_defaults()  first: environment defaults that keep a normal run's log to what the operator can act on
    start_prefect()   once, before the first flow: a Prefect API is there, or one clear error
    kernel_config()   the report notebooks' kernels: encrypted (or local IPC) traffic, their own log quiet
    release_memory()  between batches and stages: freed memory goes back to the system

* Start-up that survives load: without PREFECT_API_URL, Prefect starts a temporary API server (a uvicorn
  subprocess) and gives it 20 s, which a busy machine misses. The project's timeout (config.PREFECT_STARTUP_TIMEOUT_S)
  applies unless the user set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (environment or Prefect profile).
  With PREFECT_API_URL set, that (persistent) server is used and only checked for reachability.
* Nothing left behind: Prefect stops its temporary server at a normal exit, but a run killed with SIGKILL runs no
  exit handlers. A small watchdog process holds the read end of a pipe whose write end only this process holds;
  when this process dies, however it dies, the pipe closes and the watchdog ends the processes it was told about.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading

from synpunkt.config import PREFECT_STARTUP_TIMEOUT_S

STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
PERSISTENT_HINT = ("run a persistent server (`prefect server start`) and set "
                   "PREFECT_API_URL=http://127.0.0.1:4200/api")


QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # the server's telemetry heartbeat: an ERROR offline or under load
    "DO_NOT_TRACK": "1",  # Prefect's client-side analytics
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bars (read when transformers is imported)
    "TRANSFORMERS_VERBOSITY": "error",  # transformers' advisory warnings about model internals
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
"""Environment defaults for a quiet log: nothing the operator cannot act on. A value already set wins."""


def quiet_defaults() -> None:
    """Set QUIET_DEFAULTS in the environment, before Prefect's server or transformers start (subprocesses, such
    as the temporary Prefect server and the report notebooks' kernels, inherit them)."""
    for name, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)


def kernel_config():
    """traitlets Config for papermill (its ``config``) and so for the report notebooks' kernels:

    * their traffic, redacted text among it, encrypted with CurveZMQ where jupyter_client and libzmq offer it, else
      over local IPC sockets (POSIX): ipykernel then has no "running over TCP without encryption" to warn about;
    * the kernel's own log at CRITICAL: jupyter_client interrupts (SIGINT) every kernel it shuts down, which a
      kernel still in a message handler logs as "ERROR | KeyboardInterrupt caught in kernel". An error in a report
      reaches the operator as the notebook's exception (PapermillExecutionError), not through that log.
    """
    import zmq
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config

    config = Config({"NotebookClient": {"extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}})
    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"  # when the kernel says it supports it
    elif os.name == "posix" and zmq.has("ipc"):
        config.KernelManager.transport = "ipc"
    return config


def release_memory(collect: bool = False) -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim: a few ms; elsewhere nothing), after
    a full garbage collection with `collect` (some 0.4 s with the models loaded: at the end of a stage, not per
    batch). Pipeline stages free large buffers (frames, encoder activations, a classifier) that glibc otherwise
    keeps in its heaps, so the process's memory would carry one batch's or stage's peak into the next."""
    import ctypes
    import ctypes.util

    if collect:
        import gc

        gc.collect()
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            _MALLOC_TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None
"""glibc's malloc_trim once looked up (False where there is none)."""


class PrefectStartupError(RuntimeError):
    """No Prefect API could be reached or started; the message (one line) says what failed and what to do."""


def configure_startup_timeout() -> int:
    """The temporary server's start-up timeout: the user's setting if any, else the project's, exported to the
    environment (and Prefect's settings) so every Prefect component and subprocess sees the same value."""
    import prefect.context
    from prefect.settings import get_current_settings

    ephemeral = get_current_settings().server.ephemeral
    if "startup_timeout_seconds" in ephemeral.model_fields_set:  # set in the environment or the Prefect profile
        return int(ephemeral.startup_timeout_seconds)
    os.environ[STARTUP_SETTING] = str(PREFECT_STARTUP_TIMEOUT_S)
    refresh = getattr(prefect.context, "refresh_global_settings_context", None)  # not in every Prefect 3 release
    if refresh:
        refresh()
    return PREFECT_STARTUP_TIMEOUT_S


def start_prefect() -> str:
    """Make sure a Prefect API is up before the first flow runs; return its URL.

    PREFECT_API_URL set: check that it answers. Otherwise start Prefect's temporary server now (Prefect's flows
    reuse it) with a generous timeout, under the watchdog. Raises PrefectStartupError (one line) on failure.
    """
    timeout = configure_startup_timeout()
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url:
        _check_reachable(str(settings.api.url))
        return str(settings.api.url)
    if not settings.server.ephemeral.enabled:
        raise PrefectStartupError(f"no Prefect API: PREFECT_API_URL is not set and Prefect's temporary server is "
                                  f"disabled (PREFECT_SERVER_EPHEMERAL_ENABLED); {PERSISTENT_HINT}")
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's own clients use
    if not server.running:
        watchdog = _watchdog()  # first: its exit handler then runs after Prefect's own stop of the server
        try:
            server.start(timeout=timeout)
        except Exception:
            code = server.server_process.poll() if server.server_process else None
            server.stop()
            what = (f"exited with code {code}" if code is not None else f"did not answer within {timeout} s "
                    f"(the machine may be busy; raise {STARTUP_SETTING})")
            raise PrefectStartupError(f"Prefect's temporary API server {what}; alternatively, {PERSISTENT_HINT}"
                                     ) from None
        watchdog.watch(server.server_process.pid)
    return server.api_url


def _check_reachable(api_url: str, timeout: float = 30.0) -> None:
    """Any HTTP answer will do (a server, a proxy, Prefect Cloud asking for a key); no answer at all will not."""
    import httpx

    try:
        httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        raise PrefectStartupError(f"cannot reach the Prefect API at {api_url} (PREFECT_API_URL): "
                                  f"{type(err).__name__}; start it with `prefect server start`, or unset "
                                  f"PREFECT_API_URL to use a temporary server") from None


# -- the watchdog ------------------------------------------------------------------------------------------------
class Watchdog:
    """A process that ends the watched processes (and their children) once this process is gone."""

    def __init__(self) -> None:
        read_end, self._fd = os.pipe()  # both non-inheritable: only the watchdog gets (a copy of) the read end
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "synpunkt.runtime"], stdin=read_end,
                                            stdout=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(read_end)
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):  # a forked child must not keep the pipe open
            os.register_at_fork(after_in_child=self._forget)
        atexit.register(self.close)

    def watch(self, pid: int) -> None:
        """End process `pid` when this process dies."""
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, f"{pid}\n".encode())

    def close(self, timeout: float = 10.0) -> None:
        """Normal exit: close the pipe and let the watchdog end whatever is still running, then reap it."""
        with self._lock:
            if self._fd is None:
                return
            os.close(self._fd)
            self._fd = None
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def _forget(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_WATCHDOG: Watchdog | None = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog() -> Watchdog:
    """The process's one watchdog, started on first use."""
    global _WATCHDOG
    with _WATCHDOG_LOCK:
        if _WATCHDOG is None or _WATCHDOG.process.poll() is not None:
            _WATCHDOG = Watchdog()
        return _WATCHDOG


def terminate(processes: list, grace: float = 5.0) -> None:
    """SIGTERM the processes that still run (psutil.Process, so a reused PID is never hit) and their children;
    SIGKILL what is left after `grace` seconds."""
    import psutil

    targets = []
    for proc in processes:
        try:
            if proc.is_running():
                targets += [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
    for proc in targets:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(targets, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass


def _watchdog_main() -> None:
    """Read PIDs from stdin until end of file (the parent has exited or died), then end those processes."""
    import psutil

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; the watchdog acts when it is gone
    watched = []
    for line in sys.stdin.buffer:
        try:
            watched.append(psutil.Process(int(line)))
        except (ValueError, psutil.Error):
            continue
    terminate(watched)


if __name__ == "__main__":
    _watchdog_main()

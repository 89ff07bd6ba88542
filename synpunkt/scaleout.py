"""Where the pipeline's chunks run: in the flow's process, or on the workers of a Dask cluster.

    task_runner()          the Prefect task runner the configuration asks for (synpunkt.config: SYNPUNKT_TASK_RUNNER,
                           SYNPUNKT_DASK_ADDRESS, SYNPUNKT_DASK_WORKERS); flows take it with flow.with_options
    classify_texts(...)    what one chunk task does on a worker: the process's cached classifier predicts the texts
    ingest_rows(work)      what one ingest task does on a worker: redaction, signals (and predictions) of a piece
                           (synpunkt.ingest_compute.compute_chunk with the process's Redactor and signal heads)
    check_raw_text(...)    refuses a cluster that is not trusted with raw comment text (UntrustedCluster)

Only the compute travels: a classification task gets a chunk of stored (redacted) texts and returns its
predictions; an ingest task gets validated rows with their raw text and returns the rows to store. The flow reads
and writes DuckDB, which stays single-writer. Every worker process loads its models once and keeps them for the
chunks that follow (the classifier is reloaded when its files change); raw text is held only while its task runs.

Raw text only goes to workers the operator trusts: a LocalCluster on this machine, a scheduler reached over TLS
(a tls:// address, with Dask's distributed.comm.tls settings), or any scheduler once SYNPUNKT_DASK_TRUSTED_NETWORK=1
says the network to it and its workers is trusted. Anything else is refused before any work.

Workers report their task runs to the flow's Prefect API: a temporary LocalCluster is told the API's address, a
remote cluster's workers get it from the flow's settings (PREFECT_API_URL, which they must be able to reach).
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from synpunkt import config

if TYPE_CHECKING:
    import distributed
    import pandas as pd

    from synpunkt.classifier import Classifier
    from synpunkt.ingest_compute import ChunkOutput, ChunkWork

log = logging.getLogger(__name__)


# -- the task runner -------------------------------------------------------------------------------------------
def local_task_runner() -> ThreadPoolTaskRunner:
    """In the flow's process, one chunk at a time (the encoder uses every core for it)."""
    return ThreadPoolTaskRunner(max_workers=1)


def task_runner(runner: str | None = None, address: str | None = None, workers: int | None = None,
                raw_text: bool = True) -> TaskRunner:
    """The task runner for `runner` ('local' or 'dask'; default: config.task_runner()).

    Dask: the scheduler at `address` (default config.dask_address()) or, without one, a temporary LocalCluster of
    `workers` processes (default config.dask_workers()) with one thread each, started with the flow and closed
    after it. Raises ValueError for an unknown runner or a bad setting, and UntrustedCluster for a scheduler that
    is not trusted with raw text when `raw_text` (the ingest flow sends it; classification only redacted text).
    """
    name, address, n = settings(runner, address, workers, raw_text)
    if name == "local":
        return local_task_runner()
    from prefect_dask import DaskTaskRunner

    if address:
        _warn_if_api_is_local(address)
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_class=local_cluster,
                          cluster_kwargs={"n_workers": n, "threads_per_worker": 1, "processes": True})


def settings(runner: str | None = None, address: str | None = None, workers: int | None = None,
             raw_text: bool = True) -> tuple[str, str | None, int]:
    """(runner, scheduler address or None, LocalCluster workers): the arguments given, else the configuration,
    checked (ValueError with the setting's name; UntrustedCluster, with `raw_text`, for a scheduler that may not
    get raw comment text: check_raw_text)."""
    name = config.parse_task_runner(runner) if runner is not None else config.task_runner()
    address = address or config.dask_address()
    if name == "local":
        if address:
            raise ValueError("a Dask scheduler address (SYNPUNKT_DASK_ADDRESS or --dask-address) needs the dask task "
                             "runner, not local")
        return name, None, 1
    n = workers if workers is not None else config.dask_workers()
    if n < 1:
        raise ValueError(f"a LocalCluster needs at least 1 worker, not {n}")
    if raw_text:
        check_raw_text(address)
    return name, address, n


class SchedulerUnreachable(ValueError):
    """The Dask scheduler at SYNPUNKT_DASK_ADDRESS cannot be reached, or a tls:// one has no TLS settings."""


SCHEDULER_CHECK_S = 5.0
"""How long check_scheduler waits for the scheduler to answer before the run is refused."""


def check_scheduler(address: str | None, timeout: float = SCHEDULER_CHECK_S) -> None:
    """Before a run starts: the scheduler at `address` (None: a LocalCluster, nothing to check) accepts a connection
    within `timeout` seconds, with Dask's distributed.comm.tls settings for a tls:// address. Raises
    SchedulerUnreachable with one line naming SYNPUNKT_DASK_ADDRESS (never the connection's traceback)."""
    if not address:
        return
    import asyncio

    from distributed import Security
    from distributed.comm import connect

    where = f"SYNPUNKT_DASK_ADDRESS {address}"
    try:
        args = Security().get_connection_args("client")
    except Exception as err:  # noqa: BLE001 - a TLS file that cannot be read: its message names the file
        raise SchedulerUnreachable(f"{where}: Dask's TLS settings cannot be used: {type(err).__name__}: "
                                   f"{err}") from None
    if address.strip().lower().startswith("tls://") and args.get("ssl_context") is None:
        raise SchedulerUnreachable(
            f"{where}: a tls:// scheduler needs Dask's TLS settings, and none are set: distributed.comm.tls.ca-file, "
            "distributed.comm.tls.client.cert and distributed.comm.tls.client.key (in the Dask configuration, or "
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY); nothing was run")

    async def reach() -> None:
        comm = await connect(address, timeout=timeout, **args)
        await comm.close()

    try:
        asyncio.run(reach())
    except Exception as err:  # noqa: BLE001 - refused, timed out, a bad address, a TLS handshake that failed
        reason = "no answer" if isinstance(err, (OSError, asyncio.TimeoutError)) else f"{type(err).__name__}: {err}"
        raise SchedulerUnreachable(f"{where}: the Dask scheduler cannot be reached within {timeout:g} s ({reason}); "
                                   "start it or correct the address; nothing was run") from None


def local_cluster(**kwargs) -> "distributed.LocalCluster":
    """A distributed.LocalCluster whose workers report to this process's Prefect API (without it each worker would
    start a temporary API server of its own), share this machine's cores between them (torch and ONNX Runtime
    threads: cores // workers each) and log only warnings (no dashboard unless asked for)."""
    import dask
    import distributed
    from prefect.settings import get_current_settings

    api = get_current_settings().api.url
    if not api:  # Prefect's temporary server, started for this process's flows
        from prefect.server.api.server import SubprocessASGIServer

        api = SubprocessASGIServer().api_url
    kwargs.setdefault("dashboard_address", None)
    threads = str(max(1, config.usable_cores() // kwargs.get("n_workers", 1)))
    env = {"SYNPUNKT_INFERENCE_THREADS": os.environ.get("SYNPUNKT_INFERENCE_THREADS", threads),
           **kwargs.pop("env", {}), "PREFECT_API_URL": str(api)}
    spawn = {"distributed.nanny.pre-spawn-environ": {**dask.config.get("distributed.nanny.pre-spawn-environ", {}),
                                                     "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
                                                     "OPENBLAS_NUM_THREADS": threads,
                                                     "DASK_LOGGING__DISTRIBUTED": "warning"}}
    logging.getLogger("distributed").setLevel(logging.WARNING)  # the scheduler's start-up chatter, in this process
    with dask.config.set(spawn):
        return distributed.LocalCluster(env=env, **kwargs)


def _warn_if_api_is_local(address: str) -> None:
    from prefect.settings import get_current_settings

    api = str(get_current_settings().api.url or "")
    if not api or "127.0.0.1" in api or "localhost" in api:
        log.warning("Dask scheduler %s: its workers report to the Prefect API; workers on other machines need "
                    "PREFECT_API_URL set here to a Prefect server they can reach (now: %s)", address,
                    api or "a temporary server on this machine")


def is_dask(runner: TaskRunner) -> bool:
    return type(runner).__name__ == "DaskTaskRunner"


def runner_name(runner: TaskRunner) -> str:
    """'dask' or 'local' (any other Prefect runner runs in the flow's process)."""
    return "dask" if is_dask(runner) else "local"


def parallelism(runner: TaskRunner) -> int:
    """How many chunks the runner computes at once: the Dask cluster's worker threads now, the thread pool's size."""
    if is_dask(runner):
        return max(1, sum(runner.client.nthreads().values()))
    return max(1, int(getattr(runner, "_max_workers", 1) or 1))


def describe(runner: TaskRunner) -> str:
    """One line for the log: where the chunks run."""
    if not is_dask(runner):
        return "this process"
    cluster = getattr(runner, "_cluster", None)
    where = f"Dask scheduler {runner.address}" if runner.address else f"a Dask {type(cluster).__name__}"
    return f"{where} ({parallelism(runner)} worker thread(s))"


# -- who may see raw text --------------------------------------------------------------------------------------
class UntrustedCluster(ValueError):
    """The Dask scheduler is not trusted with raw (unredacted) comment text."""


def check_raw_text(address: str | None) -> None:
    """Raise UntrustedCluster unless raw comment text may travel to the scheduler at `address` and its workers:
    None (a LocalCluster on this machine), a tls:// address, or any address with SYNPUNKT_DASK_TRUSTED_NETWORK=1.
    A loopback tcp:// scheduler is refused too: its workers may be on other machines."""
    if address is None or address.strip().lower().startswith("tls://") or config.dask_trusted_network():
        return
    raise UntrustedCluster(
        f"ingest would send raw (unredacted) comment text to the Dask scheduler {address} and its workers without "
        "TLS: use a tls:// scheduler address (with Dask's distributed.comm.tls settings), or set "
        "SYNPUNKT_DASK_TRUSTED_NETWORK=1 if the network to the scheduler and every worker is trusted (a private "
        "network or VPN); without SYNPUNKT_DASK_ADDRESS a LocalCluster on this machine is used")


def check_runner_raw_text(runner: TaskRunner) -> None:
    """check_raw_text for a task runner: this process, or a LocalCluster, is trusted; a scheduler address is
    checked; any other cluster (its workers could be anywhere) needs SYNPUNKT_DASK_TRUSTED_NETWORK=1. Checked
    before the runner connects (from its settings) and again once it has (from the cluster it found)."""
    if not is_dask(runner):
        return
    cluster = getattr(runner, "_cluster", None)
    if cluster is not None:
        import distributed

        if not isinstance(cluster, distributed.LocalCluster):
            check_raw_text(f"of a {type(cluster).__name__}")
        return
    if runner.address:
        check_raw_text(runner.address)
        return
    cluster_class = getattr(runner, "cluster_class", None)
    name = cluster_class if isinstance(cluster_class, str) else getattr(cluster_class, "__qualname__", "")
    if name and name.rsplit(".", 1)[-1] not in ("local_cluster", "LocalCluster"):
        check_raw_text(f"of a {name.rsplit('.', 1)[-1]}")


# -- a worker's classifier -------------------------------------------------------------------------------------
_CLASSIFIERS: dict[tuple[str, str | None], "Classifier"] = {}
_LOCK = threading.Lock()


def cached_classifier(model_dir: str | Path | None = None, backend: str | None = None) -> "Classifier":
    """This process's classifier for (model_dir, backend), loaded on first use and again when the model files
    change. `backend` is passed to Classifier.load where it takes one."""
    from synpunkt.classifier import Classifier
    from synpunkt.model import model_version

    path = Path(model_dir or config.model_dir()).resolve()
    key = (str(path), backend)
    with _LOCK:
        clf = _CLASSIFIERS.get(key)
        if clf is None or clf.base_version != model_version(path):  # version: with a backend's suffix
            options = {"backend": backend} if backend is not None and _takes_backend(Classifier.load) else {}
            clf = _CLASSIFIERS[key] = Classifier.load(path, **options)
        return clf


def _takes_backend(load) -> bool:
    return "backend" in inspect.signature(load).parameters


def forget_classifiers() -> None:
    """Drop this process's cached classifiers (the flow's process, after an in-process run: memory back)."""
    with _LOCK:
        _CLASSIFIERS.clear()


def classify_texts(texts: Sequence[str], model_dir: str | None = None, backend: str | None = None) -> "pd.DataFrame":
    """One chunk on a worker: Classifier.predict (with topic sentiment) of stored, redacted texts, in input order."""
    return cached_classifier(model_dir, backend).predict(list(texts), topic_sentiment=True, progress=False)


# -- a worker's ingest -----------------------------------------------------------------------------------------
def ingest_rows(work: "ChunkWork", model_dir: str | None = None) -> "ChunkOutput":
    """One piece of an ingest chunk on a worker: redaction and signals (compute_chunk) with this process's
    Redactor.default() and default_detector(), loaded once per process, and the predictions the pass gives where
    the heads read the encoder of the classifier in `model_dir` (default config.model_dir(): the classify stage's;
    synpunkt.ingest_classify). Raises ChunkFailed (rows, no text)."""
    from synpunkt.ingest_compute import compute_chunk

    return compute_chunk(work, model_dir=model_dir)


def redact_file_name(name: str) -> str:
    """A batch's file name redacted on a worker (this process's Redactor.default()). Raises ChunkFailed."""
    from synpunkt.ingest_compute import redact_file_name as redact

    return redact(name)

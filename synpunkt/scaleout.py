"""Where the pipeline's chunks run: in the flow's process, or on the workers of a Dask cluster.

    task_runner()          the Prefect task runner the configuration asks for (synpunkt.config: SYNPUNKT_TASK_RUNNER,
                           SYNPUNKT_DASK_ADDRESS, SYNPUNKT_DASK_WORKERS); flows take it with flow.with_options
    classify_texts(...)    what one chunk task does on a worker: the process's cached classifier predicts the texts

Only the compute travels: a task gets a chunk of stored (redacted) texts and returns its predictions; the flow reads
and writes DuckDB, which stays single-writer. Every worker process loads its classifier once and keeps it for the
chunks that follow (reloaded when the model files change).

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

log = logging.getLogger(__name__)


# -- the task runner -------------------------------------------------------------------------------------------
def local_task_runner() -> ThreadPoolTaskRunner:
    """In the flow's process, one chunk at a time (the encoder uses every core for it); the next chunk is read
    and the previous one written while it runs."""
    return ThreadPoolTaskRunner(max_workers=1)


def task_runner(runner: str | None = None, address: str | None = None, workers: int | None = None) -> TaskRunner:
    """The task runner for `runner` ('local' or 'dask'; default: config.task_runner()).

    Dask: the scheduler at `address` (default config.dask_address()) or, without one, a temporary LocalCluster of
    `workers` processes (default config.dask_workers()) with one thread each, started with the flow and closed
    after it. Raises ValueError for an unknown runner or a bad setting.
    """
    name, address, n = settings(runner, address, workers)
    if name == "local":
        return local_task_runner()
    from prefect_dask import DaskTaskRunner

    if address:
        _warn_if_api_is_local(address)
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_class=local_cluster,
                          cluster_kwargs={"n_workers": n, "threads_per_worker": 1, "processes": True})


def settings(runner: str | None = None, address: str | None = None,
             workers: int | None = None) -> tuple[str, str | None, int]:
    """(runner, scheduler address or None, LocalCluster workers): the arguments given, else the configuration,
    checked (ValueError with the setting's name)."""
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
    return name, address, n


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
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = str(max(1, cores // kwargs.get("n_workers", 1)))
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
        if clf is None or clf.version != model_version(path):
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

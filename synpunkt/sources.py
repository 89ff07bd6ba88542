"""HTTP(S) sources pulled on a schedule: one URL per municipality serving a table (CSV, JSON, ...).

``sources.toml`` (``config.sources_file()``)::

    [[source]]
    municipality = "0180"
    url = "https://data.example.se/synpunkter/export.csv"
    format = "csv"                                  # optional: csv, json, jsonl, xlsx, parquet
    headers = { Authorization = "Bearer ..." }      # optional

Each pull is conditional (If-None-Match / If-Modified-Since from the previous pull's ``state``) and is refused
while streaming once the body passes the size limit. A pull is one Prefect task (``pull_source_task``, one run
per source, named after its municipality) that Prefect retries with exponential back-off on connection errors,
timeouts, 429 and 5xx; any other failure (404, a wrong format, an oversized body) fails at once. ``pull_all`` runs
the task for every source and turns a failed run into a ``failed`` result, so one failing source never stops the
others. A changed body is landed like any other batch (origin ``http``). This module keeps no state of its own:
``PullResult.state`` is what the caller stores for the next pull, keyed by ``Source.url``.
"""

from __future__ import annotations

import contextlib
import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from synpunkt.config import max_upload_bytes, sources_file
from synpunkt.landing import Receipt, land_bytes
from synpunkt.municipalities import UnknownMunicipality, validate_code
from synpunkt.tables import READ_SUFFIXES

log = logging.getLogger(__name__)

FORMATS = {"csv": ".csv", "json": ".json", "jsonl": ".jsonl", "xlsx": ".xlsx", "parquet": ".parquet"}
CONTENT_TYPES = {
    "text/csv": ".csv", "application/csv": ".csv", "text/tab-separated-values": ".tsv",
    "application/json": ".json", "application/x-ndjson": ".jsonl", "application/ndjson": ".jsonl",
    "application/jsonl": ".jsonl", "application/json-lines": ".jsonl", "application/x-jsonlines": ".jsonl",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.apache.parquet": ".parquet", "application/x-parquet": ".parquet",
}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
"""Connect 10 s; read, write and pool 60 s."""
SOURCE_KEYS = {"municipality", "url", "format", "headers"}
PULL_RETRIES = 3
"""Prefect retries of a pull after a transient failure (4 attempts in all)."""
PULL_BACKOFF_S = 10.0
"""Delay before the first retry; each further retry waits twice as long (10, 20, 40 s, each with jitter)."""


class SourceConfigError(ValueError):
    """The sources file is unreadable or describes a source wrongly."""


class SourceError(Exception):
    """A pull that failed for good (not retried)."""


class TransientPullError(Exception):
    """A failure worth retrying: a connection error, a timeout, 429 or 5xx. ``attempts``: the attempt it ended."""

    def __init__(self, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass
class Source:
    """One URL pulled for one municipality."""

    municipality: str
    url: str
    format: str | None = None  # a key of FORMATS; None: from the URL's suffix or the Content-Type
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # may hold credentials


@dataclass
class PullResult:
    """What a pull did: ``ok`` (a new batch landed), ``unchanged`` (304, or a body already landed) or ``failed``."""

    municipality: str
    url: str
    status: Literal["ok", "unchanged", "failed"]
    etag: str | None = None
    last_modified: str | None = None
    checksum_sha256: str | None = None
    receipt: Receipt | None = None
    error: str | None = None
    attempts: int = 0
    checked_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def state(self) -> dict[str, str | None]:
        """What to store for this URL and pass back on the next pull (a failure keeps the previous state)."""
        return {"etag": self.etag, "last_modified": self.last_modified, "checksum_sha256": self.checksum_sha256}


# -- configuration ---------------------------------------------------------------------------------------------
def load_sources(path: Path | None = None) -> list[Source]:
    """Read and check the sources file. A missing default file means no sources; a missing given file is an error."""
    explicit = path is not None
    path = Path(path) if explicit else sources_file()
    if not path.exists():
        if explicit:
            raise SourceConfigError(f"{path}: sources file not found")
        return []
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SourceConfigError(f"{path}: not valid TOML: {err}") from None
    extra = set(config) - {"source"}
    if extra:
        raise SourceConfigError(f"{path}: unexpected top-level key(s) {', '.join(sorted(extra))}; "
                                "describe each source in a [[source]] table")
    entries = config.get("source", [])
    if not isinstance(entries, list):
        raise SourceConfigError(f"{path}: 'source' must be a list of [[source]] tables")
    sources, seen = [], set()
    for i, entry in enumerate(entries, start=1):
        source = _parse_source(entry, f"{path}: [[source]] #{i}")
        if source.url in seen:
            raise SourceConfigError(f"{path}: [[source]] #{i}: {redact(source.url)} is listed twice")
        seen.add(source.url)
        sources.append(source)
    return sources


def _parse_source(entry: Any, where: str) -> Source:
    if not isinstance(entry, dict):
        raise SourceConfigError(f"{where}: must be a table")
    missing = [key for key in ("municipality", "url") if key not in entry]
    if missing:
        raise SourceConfigError(f"{where}: missing {' and '.join(missing)}")
    unknown = set(entry) - SOURCE_KEYS
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                                f"expected {', '.join(sorted(SOURCE_KEYS))}")
    try:
        code = validate_code(entry["municipality"])
    except UnknownMunicipality as err:
        raise SourceConfigError(f"{where}: {err}") from None
    url = entry["url"]
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError(f"{where}: url must be an http:// or https:// URL, got {url!r}")
    fmt = entry.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise SourceConfigError(f"{where}: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    headers = entry.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise SourceConfigError(f"{where}: headers must be a table of strings, "
                                'e.g. headers = {Authorization = "..."}')
    return Source(code, url, fmt, dict(headers))


# -- pulling ---------------------------------------------------------------------------------------------------
def make_client() -> httpx.Client:
    """The HTTP client pulls use by default: connect timeout 10 s, read 60 s, redirects followed."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": "synpunkt"})


def redact(url: str) -> str:
    """A URL for messages and logs: without user info or query string (either may hold credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}{parts.path}{'?…' if parts.query else ''}"


def url_host(url: str) -> str:
    """A URL's host and port ("data.example.se", "127.0.0.1:9"); never its path, query or user info, any of which
    may hold a token. A port that is not a number raises ValueError (urllib's)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def source_name(municipality: str, url: str) -> str:
    """A source as the run's summary names it: its municipality and host (url_host), e.g. "1480 (data.example.se)"."""
    return f"{municipality} ({url_host(url)})"


def resolve_suffix(source: Source, content_type: str | None) -> str:
    """The landed file's suffix: the configured format, else the URL path's suffix, else the Content-Type."""
    if source.format:
        return FORMATS[source.format]
    suffix = Path(urlsplit(source.url).path).suffix.lower()
    if suffix in READ_SUFFIXES:
        return suffix
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in CONTENT_TYPES:
        return CONTENT_TYPES[mime]
    raise SourceError(f"cannot tell the file format of {redact(source.url)} (Content-Type {mime or 'missing'}); "
                      f"set format = one of {', '.join(FORMATS)} in the sources file")


def _conditional_headers(source: Source, state: dict[str, Any]) -> dict[str, str]:
    headers = dict(source.headers)
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    return headers


@dataclass
class _Fetched:
    status: int
    headers: httpx.Headers
    body: bytes = b""


def _fetch(source: Source, headers: dict[str, str], client: httpx.Client, max_bytes: int) -> _Fetched:
    """One GET, streamed within the size limit: 304, or 200 with its body. Raises TransientPullError, SourceError
    or httpx's errors."""
    url = redact(source.url)
    with client.stream("GET", source.url, headers=headers) as response:
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientPullError(f"{url} answered HTTP {status}")
        if status not in (200, 304):
            raise SourceError(f"{url} answered HTTP {status} {response.reason_phrase}".rstrip())
        if status == 304:
            return _Fetched(status, response.headers)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise SourceError(f"{url} sends {int(length)} bytes, more than the limit of {max_bytes}")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise SourceError(f"{url} sends more than the limit of {max_bytes} bytes")
        return _Fetched(status, response.headers, bytes(body))


def _previous(state: dict[str, Any]) -> dict[str, str | None]:
    return {key: state.get(key) for key in ("etag", "last_modified", "checksum_sha256")}


def pull_once(source: Source, state: dict[str, Any], client: httpx.Client, root: Path | None = None,
              max_bytes: int | None = None, attempt: int = 1) -> PullResult:
    """One attempt at pulling a source, landing its body if it changed: an ``ok`` or ``unchanged`` result.

    ``state`` is the previous result's ``state`` for this URL (empty for a first pull). Raises TransientPullError
    (worth retrying), SourceError (not), or what landing raises (a full disk, say).
    """
    max_bytes = max_upload_bytes() if max_bytes is None else max_bytes
    previous = _previous(state)
    try:
        fetched = _fetch(source, _conditional_headers(source, state), client, max_bytes)
    except TransientPullError as err:
        err.attempts = attempt
        raise
    except httpx.TransportError as err:  # connection errors and timeouts
        raise TransientPullError(_describe(err, source), attempt) from None
    except httpx.HTTPError as err:
        raise SourceError(_describe(err, source)) from None
    if fetched.status == 304:
        log.info("%s: unchanged (304)", redact(source.url))
        return PullResult(source.municipality, source.url, "unchanged",
                          fetched.headers.get("etag", previous["etag"]),
                          fetched.headers.get("last-modified", previous["last_modified"]),
                          previous["checksum_sha256"], attempts=attempt)
    if not fetched.body:
        raise SourceError(f"{redact(source.url)} sent an empty body")
    suffix = resolve_suffix(source, fetched.headers.get("content-type"))
    receipt = land_bytes(fetched.body, source.municipality, f"export{suffix}", "http", root)
    log.info("%s: %s, batch %s", redact(source.url), "same content as before" if receipt.duplicate else "landed",
             receipt.batch_id)
    return PullResult(source.municipality, source.url, "unchanged" if receipt.duplicate else "ok",
                      fetched.headers.get("etag"), fetched.headers.get("last-modified"), receipt.checksum_sha256,
                      receipt, attempts=attempt)


def _only_transient(task, task_run, state) -> bool:
    """Prefect's retry condition: retry connection errors, timeouts, 429 and 5xx; nothing else."""
    try:
        state.result()
    except TransientPullError:
        return True
    except Exception:
        return False
    return False


@task(name="pull-source", task_run_name="pull-{source.municipality}", cache_policy=NO_CACHE,
      retries=PULL_RETRIES, retry_delay_seconds=exponential_backoff(PULL_BACKOFF_S), retry_jitter_factor=0.2,
      retry_condition_fn=_only_transient)
def pull_source_task(source: Source, state: dict[str, Any], client: httpx.Client | None = None,
                     root: Path | None = None, max_bytes: int | None = None) -> PullResult:
    """Pull one source (``pull_once``); Prefect retries transient failures with exponential back-off.

    Raises when the pull fails for good: run it with ``return_state=True`` (as ``pull_source`` does) to go on.
    """
    from prefect.runtime import task_run

    attempt = task_run.run_count or 1
    try:
        if client is not None:
            return pull_once(source, state, client, root, max_bytes, attempt)
        with make_client() as own:
            return pull_once(source, state, own, root, max_bytes, attempt)
    except Exception as err:
        with contextlib.suppress(AttributeError):
            err.attempts = attempt  # for the failed result's message
        raise


def pull_source(source: Source, state: dict[str, Any], client: httpx.Client | None = None, root: Path | None = None,
                *, max_bytes: int | None = None, pull_task=None) -> PullResult:
    """Pull one source with retries (``pull_source_task``, or ``pull_task``, e.g. the task ``.with_options(...)``);
    a failure is returned (status ``failed``, the previous state kept), never raised."""
    run = (pull_task or pull_source_task)(source, state, client, root, max_bytes, return_state=True)
    if run.is_completed():
        return run.result()
    err = run.result(raise_on_failure=False)
    if not isinstance(err, Exception):  # a crash or cancellation: nothing to report per source
        raise RuntimeError(f"{redact(source.url)}: pull ended in state {run.type.value}")
    attempts = getattr(err, "attempts", 1)
    if isinstance(err, TransientPullError):
        error = f"gave up after {attempts} attempt(s): {err}"
    elif isinstance(err, SourceError):
        error = str(err)
    else:  # e.g. the landing disk is full
        error = f"{redact(source.url)}: {type(err).__name__}: {err}"
    log.warning("%s: pull failed: %s", redact(source.url), error)
    return PullResult(source.municipality, source.url, "failed", **_previous(state), error=error, attempts=attempts)


def _describe(err: Exception, source: Source) -> str:
    """A message naming the URL, without echoing a URL's credentials from httpx's own messages."""
    kind = type(err).__name__
    return f"{redact(source.url)}: {kind}" + (f" ({err})" if source.url not in str(err) else "")


def pull_all(sources: Iterable[Source], states: dict[str, dict[str, Any]], client: httpx.Client | None = None,
             root: Path | None = None, **options: Any) -> list[PullResult]:
    """Pull every source (states keyed by URL), one ``pull_source_task`` run each; one failing source never stops
    the others. ``options`` go to ``pull_source`` (max_bytes, pull_task)."""
    own_client = client is None
    client = client or make_client()
    try:
        return [pull_source(source, states.get(source.url, {}), client, root, **options) for source in sources]
    finally:
        if own_client:
            client.close()

"""HTTP API: a municipality uploads a batch of comments with its own bearer token and follows its status.

    POST /v1/municipalities/{code}/batches            multipart field ``file`` -> 201 + receipt
    GET  /v1/municipalities/{code}/batches            the municipality's own batches, newest first (?limit=)
    GET  /v1/municipalities/{code}/batches/{batch_id} -> landed | ingested | failed (+ row counts)
    GET  /v1/municipalities/{code}/alerts             the municipality's urgent-comment alerts (open ones; ?all=true)
    POST /v1/municipalities/{code}/alerts/{alert_id}/ack   acknowledge one (?by=NAME)
    GET  /healthz

Tokens are random strings handed out once (``issue_token``); only their SHA-256 hashes are stored, with the
municipality they act for. A token never acts for another municipality, and a batch of another municipality
is reported as not found. The upload is parsed as it streams in, refused as soon as it passes
``max_upload_bytes()``, and landed only when the multipart body is complete (closing boundary seen).
Failed authentication is throttled per client address (429 + Retry-After), the body and the request head have
deadlines, URLs handed out are built from ``api_public_url()`` (never the Host header), and the API description
is served only when configured (see ``synpunkt.api_security`` and ``server_config``).
Neither tokens nor comment contents (nor client file names) are ever logged. Every error is JSON
``{"detail": "one line"}``: a landing area or warehouse that cannot be written is a 503 (507 when out of space).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from filelock import FileLock
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from synpunkt.api_security import (MAX_HEAD_BYTES, AuthThrottle, BodyDeadline, CheckRequestHead,
                                   QueryStringRedactor, client_key, deadline_protocol)
from synpunkt.batch_status import read_status
from synpunkt.config import (api_docs, api_public_url, auth_max_failures, auth_window_s, header_timeout_s,
                             landing_dir, max_upload_bytes, tokens_file, trusted_proxies, upload_timeout_s)
from synpunkt.landing import RECEIPT, LandedElsewhere, batch_dir, land_bytes, read_receipt, safe_suffix
from synpunkt.municipalities import UnknownMunicipality, validate_code

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"[0-9]{4}", re.ASCII)
BATCH_ID_RE = re.compile(r"[0-9]{4}-[0-9a-f]{16}", re.ASCII)
CONTENT_LENGTH_RE = re.compile(r"[0-9]{1,18}", re.ASCII)
ALERT_ID_RE = re.compile(r"al-[0-9a-f]{16}", re.ASCII)
ALERTS_WAIT_S = 5.0
"""Seconds an alerts request waits for a running pipeline before 503."""
FORM_OVERHEAD = 64 * 1024
"""Room for multipart framing and small extra fields on top of the file size limit."""
MAX_FILENAME_CHARS = 255
"""The longest client file name accepted (what file systems allow for one name)."""
NAME_TOO_LONG = f"the file name is too long (at most {MAX_FILENAME_CHARS} characters)"
NO_FILENAME = "the field 'file' has no file name: send it as a file (curl -F file=@export.csv)"
NOT_STORED = "could not store the upload; nothing was stored; try again later"
NO_SPACE = "could not store the upload: the server is out of storage space; nothing was stored; try again later"
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
WAREHOUSE_UNWRITABLE = "the warehouse cannot be opened for writing now; try again later"
INTERNAL_ERROR = "internal server error; the operator can find the details in the server log"

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "The batch: .csv, .tsv, .txt, .xlsx, .json, .jsonl, .ndjson or .parquet"}},
}}}}}


# -- tokens ----------------------------------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _load_tokens(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["tokens"]


def _save_tokens(path: Path, entries: list[dict[str, str]]) -> None:
    """Write the tokens file atomically: file 0600 in a 0700 folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=".tokens-", suffix=".json", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"tokens": entries}, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lock(path: Path) -> FileLock:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return FileLock(f"{path}.lock", mode=0o600)


def issue_token(municipality: str | int, path: Path | None = None) -> str:
    """Create an API token for a municipality and return it; it is shown only this once (only its hash is kept)."""
    code = validate_code(municipality)
    path = path or tokens_file()
    token = secrets.token_urlsafe(32)
    with _lock(path):
        entries = _load_tokens(path)
        entries.append({"sha256": _hash(token), "municipality_code": code,
                        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        _save_tokens(path, entries)
    log.info("issued an API token for municipality %s", code)
    return token


def revoke_tokens(municipality: str | int, path: Path | None = None) -> int:
    """Revoke every token of a municipality. Returns how many were revoked."""
    code = validate_code(municipality)
    path = path or tokens_file()
    with _lock(path):
        entries = _load_tokens(path)
        kept = [e for e in entries if e["municipality_code"] != code]
        if len(kept) != len(entries):
            _save_tokens(path, kept)
    log.info("revoked %d API token(s) of municipality %s", len(entries) - len(kept), code)
    return len(entries) - len(kept)


def token_municipality(token: str, path: Path | None = None) -> str | None:
    """The municipality code a token acts for, or None for an unknown token."""
    digest = _hash(token)
    owner = None
    for entry in _load_tokens(path or tokens_file()):
        if hmac.compare_digest(entry["sha256"], digest):
            owner = entry["municipality_code"]
    return owner


# -- reading the upload ----------------------------------------------------------------------------------------
class _FileField:
    """Multipart callbacks that keep the one field named ``file`` and refuse it as early as possible."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.filename: str | None = None
        self.data = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = self._value = b""
        self._in_file = False
        self.complete = False  # the closing boundary has been seen

    def callbacks(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ("on_part_begin", "on_header_field", "on_header_value",
                                                       "on_header_end", "on_headers_finished", "on_part_data",
                                                       "on_end")}

    def on_part_begin(self) -> None:
        self._headers, self._in_file = {}, False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") != b"file":
            return  # other fields are ignored (their bytes still count against the body limit)
        if self.filename is not None:
            raise HTTPException(400, "send exactly one file per request")
        if not options.get(b"filename"):  # a text field (curl -F "file=<export.csv"): no name, so no type
            raise HTTPException(400, NO_FILENAME)
        self.filename = options[b"filename"].decode("utf-8", "replace")
        if len(self.filename) > MAX_FILENAME_CHARS:
            raise HTTPException(400, NAME_TOO_LONG)
        self._in_file = True
        try:
            safe_suffix(self.filename)  # the client's name only tells the type; it never becomes a path
        except ValueError as err:
            raise HTTPException(415, str(err)) from None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.data += data[start:end]
            if len(self.data) > self.limit:
                raise _too_large(self.limit)

    def on_end(self) -> None:
        self.complete = True

    def in_disposition(self) -> bool:
        """Whether the parser is in a part's Content-Disposition header (where the file name is)."""
        return self._name.strip().lower() == b"content-disposition"


def _parse_error(err: FormParserError, field: _FileField) -> HTTPException:
    """The 400 for a multipart body python-multipart refused: a too long header (the file name, mostly) says so."""
    if "header size" not in str(err).lower():
        return HTTPException(400, "malformed multipart body")
    if field.in_disposition():
        return HTTPException(400, NAME_TOO_LONG)
    return HTTPException(400, "a header of a part of the multipart body is too long")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the file is larger than the limit of {limit} bytes")


async def _read_upload(request: Request, limit: int) -> tuple[str, bytes]:
    """The (file name, contents) of the multipart field ``file``, read in chunks within the size limit.

    python-multipart's ``finalize()`` does not check that the body ended, so a body without its closing boundary
    (an interrupted upload) is refused here: a partial file must never land.
    """
    length = request.headers.get("content-length")
    if length is not None:
        if not CONTENT_LENGTH_RE.fullmatch(length):
            raise HTTPException(400, "invalid Content-Length")
        if int(length) > limit + FORM_OVERHEAD:
            raise _too_large(limit)
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise HTTPException(415, "send the file as multipart/form-data in a field named 'file'")
    field = _FileField(limit)
    received = 0
    try:
        parser = MultipartParser(params[b"boundary"], field.callbacks())
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + FORM_OVERHEAD:
                raise _too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except FormParserError as err:
        raise _parse_error(err, field) from None
    except ClientDisconnect:
        raise HTTPException(400, "the upload was interrupted; nothing was stored") from None
    if not field.complete:
        raise HTTPException(400, "incomplete multipart body: the closing boundary is missing (was the upload "
                                 "interrupted?); nothing was stored")
    if field.filename is None:
        raise HTTPException(400, "no file: send it in a multipart field named 'file'")
    if not field.data:
        raise HTTPException(400, "the file is empty")
    return field.filename, bytes(field.data)


# -- errors ----------------------------------------------------------------------------------------------------
def _os_error(err: OSError) -> str:
    """'OSError, errno EROFS (Read-only file system)': what the operator needs, never a path."""
    code = errno.errorcode.get(err.errno, str(err.errno)) if err.errno is not None else "none"
    return f"{type(err).__name__}, errno {code} ({err.strerror or 'no description'})"


def _not_stored(err: OSError, municipality: str) -> HTTPException:
    """The reply for an upload the landing area could not store (land_bytes renames a complete batch folder into
    place as its last step, so nothing of it was stored): 507 when out of space, else 503."""
    log.error("API upload for %s not stored: the landing area cannot be written: %s", municipality, _os_error(err))
    if err.errno in NO_SPACE_ERRNOS:
        return HTTPException(507, NO_SPACE)
    return HTTPException(503, NOT_STORED, headers={"Retry-After": "60"})


def _warehouse_unwritable(err: OSError, what: str) -> HTTPException:
    """The 503 for a warehouse (or its pipeline lock) that cannot be written now; logged for the operator."""
    log.error("%s failed: the warehouse or its pipeline lock cannot be written: %s", what, _os_error(err))
    return HTTPException(503, WAREHOUSE_UNWRITABLE, headers={"Retry-After": "60"})


VALIDATION_PLACES = {"query": "query parameter", "path": "path parameter", "header": "header", "cookie": "cookie",
                     "body": "body field"}
VALIDATION_EXPECTED = {
    "missing": "is required", "int_parsing": "must be an integer", "int_from_float": "must be an integer",
    "float_parsing": "must be a number", "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}", "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}", "less_than": "must be less than {lt}",
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must be at least {min_length} characters",
}
"""What a parameter must be, per pydantic error type (from the rule, never the value sent)."""


def _validation_line(error: dict[str, Any]) -> str:
    """The line for one pydantic error, e.g. query parameter 'limit': must be an integer (never the input)."""
    loc = [str(part) for part in error.get("loc", ())]
    place = VALIDATION_PLACES.get(loc[0]) if loc else None
    subject = f"{place} '{'.'.join(loc[1:])}'" if place and len(loc) > 1 else "the request"
    try:
        expected = VALIDATION_EXPECTED[error.get("type", "")].format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        expected = "has an invalid value"
    return f"{subject}: {expected}"


def validation_detail(errors: Sequence[dict[str, Any]]) -> str:
    """One line for a request's validation errors (each distinct one, '; '-separated)."""
    return "; ".join(dict.fromkeys(_validation_line(e) for e in errors)) or "the request is not valid"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with one line naming the parameter and what it must be (FastAPI's default echoes the input)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": validation_detail(errors)}, status_code=422)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """JSON 500 for an unexpected error (the server still logs the traceback for the operator)."""
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)


def _enter_pipeline_lock(what: str) -> contextlib.AbstractContextManager:
    """The pipeline lock, entered as `what` (exit it when done): 503 while a run holds it past ALERTS_WAIT_S, and
    503 when it cannot be written (read-only, full or not permitted)."""
    from synpunkt.warehouse import pipeline_lock

    lock = pipeline_lock(timeout=ALERTS_WAIT_S, what=what)
    try:
        lock.__enter__()
    except RuntimeError:
        raise HTTPException(503, "the pipeline is running; try again shortly", headers={"Retry-After": "60"}) from None
    except OSError as err:
        raise _warehouse_unwritable(err, what) from None
    return lock


# -- the app ---------------------------------------------------------------------------------------------------
def create_app(root: Path | None = None, tokens_path: Path | None = None, public_url: str | None = None,
               warehouse: Path | None = None) -> FastAPI:
    """The API app. ``root`` overrides the landing folder, ``tokens_path`` the tokens file, ``public_url`` the
    base of the URLs handed out and ``warehouse`` the warehouse the alerts are read from (all from config by
    default); throttle, deadline and docs settings come from config.
    """
    docs = api_docs()
    app = FastAPI(title="Synpunkt", summary="Municipalities submit batches of citizen comments.", version="1",
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(BodyDeadline, seconds=upload_timeout_s())
    app.add_middleware(CheckRequestHead)  # added last: runs first
    base_url = (public_url or api_public_url()).rstrip("/")
    throttle = AuthThrottle(auth_max_failures(), auth_window_s())
    max_upload_bytes()  # read per upload; checked here too: a bad SYNPUNKT_MAX_UPLOAD_MB fails at start, not as 500s
    bearer = HTTPBearer(auto_error=False, description="The municipality's API token")

    def authorised(request: Request, code: str,
                   credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        """The municipality in the path, once the bearer token is known to act for it (and the client may try)."""
        client = client_key(request.client.host if request.client else None)
        wait = throttle.retry_after(client)
        if wait is not None:
            raise HTTPException(429, "too many failed authentications from this address; try again later",
                                headers={"Retry-After": str(wait)})
        owner = token_municipality(credentials.credentials, tokens_path) if credentials else None
        if owner is None:
            throttle.record_failure(client)
            raise HTTPException(401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        try:
            if not CODE_RE.fullmatch(code):
                raise UnknownMunicipality(code)
            code = validate_code(code)
        except UnknownMunicipality:
            raise HTTPException(404, "unknown municipality code") from None
        if owner != code:
            raise HTTPException(403, "this token does not act for this municipality")
        return code

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/municipalities/{code}/batches", status_code=201, openapi_extra=UPLOAD_BODY)
    async def upload_batch(request: Request, municipality: str = Depends(authorised)) -> JSONResponse:
        """Upload one batch (multipart field ``file``). Uploading the same file again returns its receipt."""
        filename, data = await _read_upload(request, max_upload_bytes())
        try:
            receipt = await run_in_threadpool(land_bytes, data, municipality, filename, "api", root)
        except LandedElsewhere:  # which municipality is not this client's business
            log.warning("API upload for %s refused: the same file is landed for another municipality", municipality)
            raise HTTPException(409, "this file has already been submitted for another municipality; one file holds "
                                     "one municipality's comments. If it was sent to the wrong one, ask the "
                                     "operator to withdraw that batch, then upload it again") from None
        except OSError as err:  # read-only, full or not permitted: land_bytes leaves no partial batch behind
            raise _not_stored(err, municipality) from None
        log.info("API batch %s for %s: %d bytes%s", receipt.batch_id, municipality, receipt.size_bytes,
                 " (duplicate)" if receipt.duplicate else "")
        status_url = base_url + app.url_path_for("batch_status", code=municipality, batch_id=receipt.batch_id)
        body = {"batch_id": receipt.batch_id, "municipality_code": receipt.municipality_code,
                "checksum_sha256": receipt.checksum_sha256, "size_bytes": receipt.size_bytes,
                "received_at": receipt.received_at, "duplicate": receipt.duplicate, "status_url": status_url}
        return JSONResponse(body, status_code=201, headers={"Location": status_url})

    def describe(folder: Path) -> dict[str, Any]:
        """A landed batch as the API shows it: receipt fields and status (never the client's file name)."""
        receipt = read_receipt(folder)
        return {"batch_id": receipt.batch_id, "municipality_code": receipt.municipality_code,
                "received_at": receipt.received_at, "checksum_sha256": receipt.checksum_sha256,
                "size_bytes": receipt.size_bytes, **(read_status(folder) or {"status": "landed"})}

    @app.get("/v1/municipalities/{code}/batches", name="list_batches")
    def list_batches(municipality: str = Depends(authorised),
                     limit: int = Query(100, ge=1, le=1000, description="At most this many, newest first")
                     ) -> dict[str, Any]:
        """The municipality's own batches, newest first, each with its status and row counts."""
        folders = [p.parent for p in ((root or landing_dir()) / municipality).glob(f"*/{RECEIPT}")
                   if BATCH_ID_RE.fullmatch(p.parent.name) and p.parent.name.startswith(f"{municipality}-")]
        batches = sorted((describe(f) for f in folders), key=lambda b: (b["received_at"], b["batch_id"]),
                         reverse=True)[:limit]
        for batch in batches:
            batch["status_url"] = base_url + app.url_path_for("batch_status", code=municipality,
                                                              batch_id=batch["batch_id"])
        return {"municipality_code": municipality, "total": len(folders), "batches": batches}

    @app.get("/v1/municipalities/{code}/batches/{batch_id}", name="batch_status")
    def batch_status(batch_id: str, municipality: str = Depends(authorised)) -> dict[str, Any]:
        """A batch's status: landed (waiting for the pipeline), ingested or failed, with row counts."""
        if not BATCH_ID_RE.fullmatch(batch_id) or not batch_id.startswith(f"{municipality}-"):
            raise HTTPException(404, "no such batch")
        folder = batch_dir(municipality, batch_id, root)
        if not (folder / RECEIPT).is_file():
            raise HTTPException(404, "no such batch")
        return describe(folder)

    def with_warehouse(work: Callable[[Any], Any], what: str) -> Any:
        """Run `work(con)` on the live warehouse between pipeline runs (the pipeline is its one writer: while a
        run holds it, 503 with Retry-After), holding the pipeline lock as `what` (shown by `synpunkt status`).
        None when there is no warehouse yet; 503 when the lock or the warehouse cannot be written."""
        import duckdb

        from synpunkt.config import warehouse_path
        from synpunkt.warehouse import connect

        path = Path(warehouse or warehouse_path())
        lock = _enter_pipeline_lock(what)
        try:
            if not path.exists():
                return None
            con = connect(path)
            try:
                return work(con)
            finally:
                con.close()
        except duckdb.IOException:
            raise HTTPException(503, "the warehouse is busy; try again shortly", headers={"Retry-After": "60"}) from None
        except OSError as err:
            raise _warehouse_unwritable(err, what) from None
        finally:
            lock.__exit__(None, None, None)

    @app.get("/v1/municipalities/{code}/alerts", name="list_alerts")
    def list_alerts(municipality: str = Depends(authorised),
                    all: bool = Query(False, description="Include acknowledged alerts")) -> dict[str, Any]:
        """The municipality's urgent-comment alerts (threat, self_harm, violence_close_relationship), oldest first:
        open ones, or all with ?all=true. Each carries the redacted text and the case id (external_id)."""
        from synpunkt.signals.store import list_alerts as read_alerts

        frame = with_warehouse(lambda con: read_alerts(con, municipality, include_acknowledged=all),
                               "the upload API listing alerts")
        alerts = [] if frame is None else json.loads(frame.to_json(orient="records", date_format="iso"))
        return {"municipality_code": municipality, "total": len(alerts), "alerts": alerts}

    @app.post("/v1/municipalities/{code}/alerts/{alert_id}/ack", name="acknowledge_alert")
    def acknowledge_alert(alert_id: str, municipality: str = Depends(authorised),
                          by: str = Query("", max_length=100, description="Who acknowledges (a name or role)")
                          ) -> dict[str, Any]:
        """Acknowledge one of the municipality's alerts (a second acknowledgement keeps the first)."""
        from synpunkt.signals.store import UnknownAlert, acknowledge

        if not ALERT_ID_RE.fullmatch(alert_id):
            raise HTTPException(404, "no such alert")
        who = f"{' '.join(by.split())} (API, {municipality})" if by.strip() else f"API, {municipality}"
        try:
            result = with_warehouse(lambda con: acknowledge(con, alert_id, who, municipality),
                                    "the upload API acknowledging an alert")
        except UnknownAlert:
            raise HTTPException(404, "no such alert") from None
        if result is None:
            raise HTTPException(404, "no such alert")
        log.info("alert %s of %s %s through the API", alert_id, municipality,
                 "already acknowledged: asked again" if result["already_acknowledged"] else "acknowledged")
        return result

    return app


def server_config(host: str = "127.0.0.1", port: int = 8000, root: Path | None = None,
                  tokens_path: Path | None = None) -> uvicorn.Config:
    """uvicorn's settings for the API: h11 with request head and body deadlines, no WebSocket upgrades, a bounded
    head size, short keep-alive, X-Forwarded-For believed only from ``trusted_proxies()``, and no query strings in
    the access log."""
    proxies = trusted_proxies()
    config = uvicorn.Config(create_app(root, tokens_path, api_public_url(host, port)), host=host, port=port,
                            http=deadline_protocol(header_timeout_s(), upload_timeout_s()), ws="none",
                            lifespan="off", h11_max_incomplete_event_size=MAX_HEAD_BYTES, timeout_keep_alive=5,
                            timeout_graceful_shutdown=10, proxy_headers=bool(proxies),
                            forwarded_allow_ips=proxies or None, server_header=False)
    QueryStringRedactor.install()  # after uvicorn.Config has configured its loggers
    return config


class ApiStartError(RuntimeError):
    """The upload API did not start."""


def start_api_thread(host: str = "127.0.0.1", port: int = 8000, root: Path | None = None,
                     startup_s: float = 30.0) -> uvicorn.Server:
    """Serve the API from a daemon thread; returns once it accepts connections (set ``should_exit`` to stop it).

    Raises ApiStartError when it does not start (the port is taken, say): a pipeline served without its upload
    API should fail loudly rather than run on silently.
    """
    server = uvicorn.Server(server_config(host, port, root))

    def run() -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits on a startup failure; reported below
            server.run()

    thread = threading.Thread(target=run, name="synpunkt-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_s
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise ApiStartError(f"the upload API did not start on {host}:{port} (is the port in use? see the log)")
    return server


def serve_api(host: str = "127.0.0.1", port: int = 8000, root: Path | None = None) -> None:
    """Run the API with uvicorn (put it behind a TLS-terminating proxy when exposed beyond localhost, and set
    SYNPUNKT_PUBLIC_URL and SYNPUNKT_TRUSTED_PROXIES for it)."""
    uvicorn.Server(server_config(host, port, root)).run()

"""Attack suite for the upload API: starts the real server and tries to break it.

    .venv/bin/python tests/api_attacks.py        # prints a table; exit status 1 if any attack was not refused right

It starts ``synpunkt.api.serve_api`` (uvicorn with the project's settings) in a subprocess on 127.0.0.1, on a free
port, with a temporary SYNPUNKT_HOME and short timeouts, then runs a list of named attacks over raw sockets, each
with the reply it must get: forged and misplaced tokens, traversal in file names and in the path, malformed and
truncated multipart bodies, oversize and slow requests, header tricks, Host spoofing, brute force, methods not
allowed, and 50 concurrent uploads that must all land exactly once. Only loopback traffic, bounded counts and
times; the server is stopped at the end. Importable: ``run_attacks()`` returns the outcomes (tests/test_api_attacks.py).

Brute force runs from 127.0.0.2 (and the "other client" from 127.0.0.3): on Linux all of 127.0.0.0/8 is loopback.
Where those addresses cannot be used, brute force runs from 127.0.0.1 (last) and the other-client check is skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from synpunkt.api import issue_token, revoke_tokens  # noqa: E402
from synpunkt.api_security import BODY_GRACE_S  # noqa: E402
from synpunkt.config import landing_dir, tokens_file  # noqa: E402

STHLM, GBG, MALMO = "0180", "1480", "1280"
HEADER_TIMEOUT_S = 1.0
UPLOAD_TIMEOUT_S = 1.5
MAX_UPLOAD_BYTES = 256 * 1024
MAX_FAILURES = 20  # above the few 401 attacks sent from 127.0.0.1, so only the brute force trips it
WINDOW_S = 60
SLACK_S = 2.5  # how much later than its deadline a slow connection may be cut off (a busy machine)
CSV = "text;date\nBra bemötande;2025-03-01\nLång väntetid;2025-03-02\n".encode()
BOUNDARY = "attackboundary"
SPOOFED_HOST = "evil.example"


# -- the server --------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _home_env(home: Path) -> Iterator[None]:
    """SYNPUNKT_HOME set to ``home`` in this process, for the config functions (restored afterwards)."""
    old = os.environ.get("SYNPUNKT_HOME")
    os.environ["SYNPUNKT_HOME"] = str(home)
    try:
        yield
    finally:
        if old is None:
            del os.environ["SYNPUNKT_HOME"]
        else:
            os.environ["SYNPUNKT_HOME"] = old


@dataclass
class Server:
    port: int
    home: Path
    tokens: dict[str, str]
    revoked: str
    landing: Path
    log: Path
    sources: tuple[str, str] | None  # (brute-force address, other client address), if usable

    def landed(self) -> int:
        return len(list(self.landing.glob("*/*/receipt.json")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _usable_source(address: str, port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(address, 0)):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """The API in a subprocess with the suite's settings and three municipalities' tokens; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="synpunkt-attacks-") as tmp:
        home = Path(tmp)
        with _home_env(home):
            tokens = {code: issue_token(code) for code in (STHLM, GBG)}
            revoked = issue_token(MALMO)
            revoke_tokens(MALMO)
            landing, token_path = landing_dir(), tokens_file()
        assert token_path.is_file()
        port = _free_port()
        env = {**os.environ, "SYNPUNKT_HOME": str(home), "SYNPUNKT_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "SYNPUNKT_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S), "SYNPUNKT_UPLOAD_TIMEOUT_S": str(UPLOAD_TIMEOUT_S),
               "SYNPUNKT_MAX_UPLOAD_MB": str(MAX_UPLOAD_BYTES / (1024 * 1024)),
               "SYNPUNKT_AUTH_MAX_FAILURES": str(MAX_FAILURES), "SYNPUNKT_AUTH_WINDOW_S": str(WINDOW_S),
               "SYNPUNKT_API_DOCS": "0", "SYNPUNKT_TRUSTED_PROXIES": "", "FORWARDED_ALLOW_IPS": "",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        log = home / "server.log"
        code = f"from synpunkt.api import serve_api; serve_api('127.0.0.1', {port})"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, stdout=out,
                                    stderr=subprocess.STDOUT)
        try:
            _wait_until_up(port, proc, log)
            usable = _usable_source("127.0.0.2", port) and _usable_source("127.0.0.3", port)
            yield Server(port, home, tokens, revoked, landing, log, ("127.0.0.2", "127.0.0.3") if usable else None)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_until_up(port: int, proc: subprocess.Popen, log: Path, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            if exchange(port, request("GET", "/healthz"), timeout=2).status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the API server did not answer within {limit_s:g} s:\n{log.read_text()[-3000:]}")


# -- raw HTTP ------------------------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int | None  # None: closed or reset without a response
    headers: dict[str, str]
    body: bytes
    elapsed: float
    closed: bool  # the server closed (or reset) the connection

    def code(self) -> str:
        return str(self.status) if self.status else "closed"


def request(method: str, path: str, headers: Iterable[tuple[str, str | bytes]] = (), body: bytes = b"",
            host: str = "127.0.0.1", length: bool = True) -> bytes:
    """A raw HTTP/1.1 request (Connection: close and Content-Length added unless given or ``length`` is false)."""
    headers = list(headers)
    names = {name.lower() for name, _ in headers}
    if "host" not in names:
        headers.insert(0, ("Host", host))
    if "connection" not in names:
        headers.append(("Connection", "close"))
    if length and "content-length" not in names and "transfer-encoding" not in names and (body or method == "POST"):
        headers.append(("Content-Length", str(len(body))))
    head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
    for name, value in headers:
        head += name.encode("latin-1") + b": " + (value if isinstance(value, bytes) else value.encode("latin-1"))
        head += b"\r\n"
    return head + b"\r\n" + body


def exchange(port: int, data: bytes, then: Iterable[tuple[float, bytes]] = (), source: str = "127.0.0.1",
             timeout: float = 10.0, stop_on_reply: bool = True) -> Reply:
    """Send ``data``, then each (pause, chunk) of ``then`` unless the server has answered meanwhile (or, with
    ``stop_on_reply`` false, until it closes the connection); read the reply until the server closes the connection
    (or ``timeout`` passes)."""
    start = time.monotonic()
    received = b""
    closed = False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as sock:
        try:
            sock.sendall(data)
            for pause, chunk in then:
                if select.select([sock], [], [], pause)[0]:
                    if stop_on_reply:
                        break  # the server has answered (or closed): stop sending
                    more = sock.recv(65536)
                    if not more:
                        closed = True
                        break
                    received += more
                if time.monotonic() - start > timeout:
                    break
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        deadline = start + timeout
        while not closed and (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    return _parse(received, time.monotonic() - start, closed)


def _parse(raw: bytes, elapsed: float, closed: bool) -> Reply:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return Reply(None, {}, raw, elapsed, closed)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(parts[1]), headers, body, elapsed, closed)


def part(name: str, filename: str | bytes | None, data: bytes, extra: bytes = b"") -> bytes:
    """One multipart part (``filename`` as str is UTF-8 encoded; bytes are sent as they are)."""
    disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        raw = filename.encode("utf-8") if isinstance(filename, str) else filename
        disposition += b'; filename="' + raw + b'"'
    return f"--{BOUNDARY}\r\n".encode() + disposition + b"\r\n" + extra + b"\r\n" + data + b"\r\n"


def multipart(*parts: bytes, close: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


MULTIPART = ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")


# -- the attacks -----------------------------------------------------------------------------------------------
@dataclass
class Attack:
    name: str
    expected: str
    run: Callable[[Server], str]
    also: tuple[str, ...] = ()  # other replies that are just as much a refusal (e.g. a reset instead of a 413)


@dataclass
class Outcome:
    name: str
    expected: str
    got: str
    ok: bool
    seconds: float = field(default=0.0)


def _bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


def _upload_path(code: str = STHLM) -> str:
    return f"/v1/municipalities/{code}/batches"


def _refusal(srv: Server, reply_of: Callable[[], Reply]) -> str:
    """The reply's status, flagged when anything landed meanwhile."""
    before = srv.landed()
    got = reply_of().code()
    return got if srv.landed() == before else f"{got} but a file landed"


def _post(srv: Server, body: bytes, headers: Iterable[tuple[str, str | bytes]] = (), token: str | None = "sthlm",
          path: str | None = None, source: str = "127.0.0.1", then: Iterable[tuple[float, bytes]] = (),
          **kw) -> Reply:
    token = srv.tokens[STHLM] if token == "sthlm" else token
    headers = list(headers)
    own_type = any(name.lower() == "content-type" for name, _ in headers)
    hdrs = [*([] if own_type else [MULTIPART]), *([_bearer(token)] if token else []), *headers]
    return exchange(srv.port, request("POST", path or _upload_path(), hdrs, body, **kw), then=then, source=source)


def _refuse_upload(body: bytes, headers: Iterable[tuple[str, str | bytes]] = (), **kw) -> Callable[[Server], str]:
    return lambda srv: _refusal(srv, lambda: _post(srv, body, headers, **kw))


def _get(srv: Server, path: str, token: str | None = "sthlm", headers: Iterable[tuple[str, str]] = (),
         method: str = "GET", source: str = "127.0.0.1") -> Reply:
    token = srv.tokens[STHLM] if token == "sthlm" else token
    hdrs = [*([_bearer(token)] if token else []), *headers]
    return exchange(srv.port, request(method, path, hdrs), source=source)


def _lands_inside(filename: str | bytes) -> Callable[[Server], str]:
    """An upload under a hostile name must land as landing/<code>/<batch>/raw<suffix>, and nowhere else."""
    def run(srv: Server) -> str:
        data = CSV + f"namn;{time.monotonic_ns()}\n".encode()  # a new batch each time
        reply = _post(srv, multipart(part("file", filename, data)))
        if reply.status != 201 or "x-injected" in reply.headers:
            return f"{reply.code()} {sorted(reply.headers)}"
        stray = [p for p in srv.home.rglob("*") if p.is_file() and p.suffix in (".csv", ".tsv")
                 and not (p.name.startswith("raw") and p.resolve().is_relative_to(srv.landing.resolve()))]
        raws = [p for p in srv.landing.rglob("raw.*") if p.read_bytes() == data]
        return "201 in landing" if len(raws) == 1 and not stray else f"201 but stray={len(stray)} raws={len(raws)}"
    return run


def _no_spoofed_host(headers: list[tuple[str, str]]) -> Callable[[Server], str]:
    def run(srv: Server) -> str:
        data = CSV + f"host;{time.monotonic_ns()}\n".encode()
        reply = _post(srv, multipart(part("file", "svar.csv", data)), headers)
        if reply.status != 201:
            return reply.code()
        leaked = SPOOFED_HOST.encode() in reply.body or SPOOFED_HOST in reply.headers.get("location", "")
        expected_url = f"http://127.0.0.1:{srv.port}/v1/"
        return "201 own URL" if not leaked and reply.headers.get("location", "").startswith(expected_url) else \
            "201 with spoofed URL"
    return run


def _valid_upload_then_status(srv: Server) -> str:
    reply = _post(srv, multipart(part("file", "svar.csv", CSV)))
    if reply.status != 201:
        return reply.code()
    status = _get(srv, reply.headers["location"].split(str(srv.port), 1)[1])
    return f"201 then {status.status} {b'landed' in status.body and 'landed'}"


def _gbg_batch(srv: Server) -> str:
    data = CSV + b"gbg;1\n"
    reply = _post(srv, multipart(part("file", "svar.csv", data)), token=srv.tokens[GBG], path=_upload_path(GBG))
    return reply.headers["location"].rsplit("/", 1)[1]


def _own_listing(srv: Server, other_batch: str) -> str:
    """Stockholm's listing of its batches: 200, and none of Göteborg's batches in it."""
    reply = _get(srv, _upload_path())
    if reply.status != 200:
        return reply.code()
    batches = json.loads(reply.body)["batches"]
    own = all(b["municipality_code"] == STHLM for b in batches) and other_batch.encode() not in reply.body
    return "200 own only" if batches and own else f"200 with {len(batches)} batches, own={own}"


def _slow(srv: Server, first: bytes, then: list[tuple[float, bytes]], deadline_s: float, want_408: bool,
          stop_on_reply: bool = True) -> str:
    reply = exchange(srv.port, first, then=then, timeout=deadline_s + SLACK_S + 3, stop_on_reply=stop_on_reply)
    in_time = reply.closed and deadline_s * 0.5 <= reply.elapsed <= deadline_s + SLACK_S
    if not in_time:
        return f"{reply.code()} after {reply.elapsed:.1f}s, closed={reply.closed}"
    return "408 closed in time" if want_408 and reply.status == 408 else \
        "closed in time" if not want_408 else f"{reply.code()} closed in time"


def _slow_head(srv: Server, drip: bool) -> str:
    head = request("POST", _upload_path(), [MULTIPART, _bearer(srv.tokens[STHLM])], CSV)
    cut = head.index(b"Authorization")
    if not drip:
        return _slow(srv, head[:cut], [], HEADER_TIMEOUT_S, want_408=True)
    rest = head[cut:]
    return _slow(srv, head[:cut], [(0.1, rest[i:i + 1]) for i in range(len(rest))], HEADER_TIMEOUT_S, want_408=False)


def _slow_body(srv: Server, drip: bool) -> str:
    body = multipart(part("file", "slow.csv", CSV + b"x" * 2000))
    data = request("POST", _upload_path(), [MULTIPART, _bearer(srv.tokens[STHLM])], body)
    cut = len(data) - len(body) + 100
    before = srv.landed()
    if drip:
        got = _slow(srv, data[:cut], [(0.1, data[i:i + 5]) for i in range(cut, len(data), 5)], UPLOAD_TIMEOUT_S,
                    want_408=False)
    else:
        got = _slow(srv, data[:cut], [], UPLOAD_TIMEOUT_S, want_408=True)
    return got if srv.landed() == before else f"{got} but a file landed"


def _slow_body_after_refusal(srv: Server) -> str:
    """A body nobody reads (the request was refused at once) dripped on and on: the connection must still close."""
    data = request("POST", _upload_path(), [MULTIPART, _bearer("wrong-token"), ("Connection", "keep-alive")],
                   length=False)[:-2] + b"Content-Length: 1000000\r\n\r\n"
    deadline = UPLOAD_TIMEOUT_S + BODY_GRACE_S
    steps = int((deadline + SLACK_S + 1) / 0.1)
    return _slow(srv, data, [(0.1, b"x" * 5)] * steps, deadline, want_408=False, stop_on_reply=False)


def _oversize_stream(srv: Server) -> str:
    head = request("POST", _upload_path(), [MULTIPART, _bearer(srv.tokens[STHLM]), ("Transfer-Encoding", "chunked")])
    start = part("file", "big.csv", b"text\n")[:-2]
    chunk = b"x" * 32768
    chunks = [b"%x\r\n%s\r\n" % (len(start), start)] + [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 24
    return _refusal(srv, lambda: exchange(srv.port, head + chunks[0], then=[(0.05, c) for c in chunks[1:]]))


def _brute_force(srv: Server) -> str:
    source = srv.sources[0] if srv.sources else "127.0.0.1"
    for attempt in range(1, MAX_FAILURES + 6):
        reply = _get(srv, f"/v1/municipalities/{STHLM}/batches/{STHLM}-0123456789abcdef",
                     token=f"guess-{attempt}", source=source)
        if reply.status == 429:
            retry = reply.headers.get("retry-after", "")
            ok = retry.isdigit() and 1 <= int(retry) <= WINDOW_S
            return f"429 after {attempt - 1} failures, Retry-After {'ok' if ok else repr(retry)}"
        if reply.status != 401:
            return f"{reply.code()} at attempt {attempt}"
    return f"never throttled in {MAX_FAILURES + 5} attempts"


def _throttled(srv: Server, how: str) -> str:
    source = srv.sources[0] if srv.sources else "127.0.0.1"
    body = multipart(part("file", "svar.csv", CSV + b"throttled;1\n"))
    if how == "upload":
        return _refusal(srv, lambda: _post(srv, body, source=source))
    if how == "forwarded-for":
        return _refusal(srv, lambda: _post(srv, body, [("X-Forwarded-For", "198.51.100.7"),
                                                       ("X-Real-IP", "198.51.100.8")], source=source))
    if how == "status":
        return _get(srv, f"/v1/municipalities/{STHLM}/batches/{STHLM}-0123456789abcdef", source=source).code()
    return _get(srv, "/healthz", token=None, source=source).code()


def _other_client(srv: Server) -> str:
    if not srv.sources:
        return "skipped: 127.0.0.3 is not usable here"
    reply = _post(srv, multipart(part("file", "svar.csv", CSV + b"other;1\n")), source=srv.sources[1])
    return reply.code()


def _concurrent(srv: Server, n: int, identical: bool) -> str:
    datas = [CSV + (b"same;0\n" if identical else f"row;{i}\n".encode()) for i in range(n)]
    replies: list[Reply | None] = [None] * n
    before = srv.landed()

    def send(i: int) -> None:
        replies[i] = _post(srv, multipart(part("file", f"svar-{i}.csv", datas[i])))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted({r.code() if r else "no reply" for r in replies})
    if codes != ["201"]:
        return f"replies {codes}"
    ids = {r.headers["location"].rsplit("/", 1)[1] for r in replies if r}
    contents = sorted(p.read_bytes() for p in srv.landing.rglob("raw.csv"))
    all_there = all(contents.count(d) == 1 for d in set(datas))
    if identical:
        return f"{len(ids)} batch, {srv.landed() - before} landed" if all_there else "content missing"
    return f"{len(ids)} batches, {srv.landed() - before} landed exactly once" if all_there else "content missing"


def attacks(srv: Server) -> list[Attack]:
    """The attacks, in order (brute force last: it locks its client address out)."""
    up, sthlm = _upload_path(), srv.tokens[STHLM]
    ok_body = multipart(part("file", "svar.csv", CSV))
    gbg_batch = _gbg_batch(srv)
    status_of = lambda code, batch: f"/v1/municipalities/{code}/batches/{batch}"  # noqa: E731
    return [
        Attack("valid upload, then its status", "201 then 200 landed", _valid_upload_then_status),
        Attack("health check", "200", lambda s: _get(s, "/healthz", token=None).code()),
        # tokens
        Attack("no token", "401", _refuse_upload(ok_body, token=None)),
        Attack("garbled bearer token", "401", _refuse_upload(ok_body, [("Authorization", "Bearer %%%garbage%%%")],
                                                             token=None)),
        Attack("basic auth instead of bearer", "401", _refuse_upload(
            ok_body, [("Authorization", f"Basic {sthlm}")], token=None)),
        Attack("empty bearer token", "401", _refuse_upload(ok_body, [("Authorization", "Bearer ")], token=None)),
        Attack("token in the query string", "401", _refuse_upload(
            ok_body, token=None, path=f"{up}?access_token={sthlm}&token={sthlm}")),
        Attack("token with a byte appended", "401", _refuse_upload(ok_body, token=sthlm + "A")),
        Attack("revoked token", "401", _refuse_upload(ok_body, token=srv.revoked)),
        Attack("status without token", "401", lambda s: _get(s, status_of(GBG, gbg_batch), token=None).code()),
        Attack("another municipality's token", "403", _refuse_upload(ok_body, token=srv.tokens[GBG])),
        # the municipality segment
        Attack("unknown municipality 9999", "404", _refuse_upload(ok_body, path=_upload_path("9999"))),
        Attack("municipality 180 without its zero", "404", _refuse_upload(ok_body, path=_upload_path("180"))),
        Attack("encoded traversal in municipality", "404", _refuse_upload(ok_body, path=_upload_path("..%2F..%2Fetc"))),
        Attack("dot-dot municipality segment", "404", _refuse_upload(
            ok_body, path=f"/v1/municipalities/../{STHLM}/batches")),
        Attack("NUL byte in municipality", "404", _refuse_upload(ok_body, path=_upload_path(f"{STHLM}%00"))),
        Attack("non-ASCII digits in municipality", "404", _refuse_upload(
            ok_body, path=_upload_path("%E0%A5%A6%E0%A5%A7%E0%A5%AE%E0%A5%A6"))),
        # batches of others, odd batch ids
        Attack("status of another municipality's batch", "403", lambda s: _get(s, status_of(GBG, gbg_batch)).code()),
        Attack("list another municipality's batches", "403", lambda s: _get(s, _upload_path(GBG)).code()),
        Attack("list batches without token", "401", lambda s: _get(s, _upload_path(GBG), token=None).code()),
        Attack("another's batch under own code", "404", lambda s: _get(s, status_of(STHLM, gbg_batch)).code()),
        Attack("batch id traversal", "404", lambda s: _get(s, status_of(STHLM, "..%2F..%2Fsecrets")).code()),
        Attack("unknown batch id", "404", lambda s: _get(s, status_of(STHLM, f"{STHLM}-0123456789abcdef")).code()),
        # the body
        Attack("oversize body (declared)", "413", _refuse_upload(
            b"", [("Content-Length", str(MAX_UPLOAD_BYTES * 4))], length=False)),
        Attack("oversize body with Expect: 100-continue", "413", _refuse_upload(
            b"", [("Content-Length", str(MAX_UPLOAD_BYTES * 4)), ("Expect", "100-continue")], length=False)),
        Attack("oversize body (chunked stream)", "413", _oversize_stream, also=("closed",)),
        Attack("invalid Content-Length", "400", _refuse_upload(ok_body, [("Content-Length", "12abc")], length=False)),
        Attack("two different Content-Lengths", "400", _refuse_upload(
            ok_body, [("Content-Length", str(len(ok_body))), ("Content-Length", "5")], length=False)),
        Attack("Content-Length and chunked (smuggling)", "400", _refuse_upload(
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(ok_body), ok_body),
            [("Content-Length", "4"), ("Transfer-Encoding", "chunked")], length=False)),
        Attack("content type text/csv", "415", _refuse_upload(CSV, [("Content-Type", "text/csv")])),
        Attack("urlencoded form", "415", _refuse_upload(b"file=x", [("Content-Type",
                                                                     "application/x-www-form-urlencoded")])),
        Attack("multipart without boundary", "415", _refuse_upload(ok_body, [("Content-Type", "multipart/form-data")])),
        Attack("overlong multipart boundary", "400", _refuse_upload(
            ok_body, [("Content-Type", "multipart/form-data; boundary=" + "b" * 300)])),
        Attack("truncated multipart (no closing boundary)", "400", _refuse_upload(
            multipart(part("file", "svar.csv", CSV), close=False))),
        Attack("truncated multipart (cut in the data)", "400", _refuse_upload(
            multipart(part("file", "svar.csv", CSV))[:-40])),
        Attack("truncated multipart (cut in part headers)", "400", _refuse_upload(
            part("file", "svar.csv", CSV)[:60])),
        Attack("closing boundary without its --", "400", _refuse_upload(
            part("file", "svar.csv", CSV) + f"--{BOUNDARY}".encode())),
        Attack("garbage body declared multipart", "400", _refuse_upload(os.urandom(2000).replace(b"--", b"__"))),
        Attack("no file field", "400", _refuse_upload(multipart(part("other", "svar.csv", CSV)))),
        Attack("two file fields", "400", _refuse_upload(multipart(part("file", "a.csv", CSV),
                                                                  part("file", "b.csv", CSV + b"x;1\n")))),
        Attack("empty file", "400", _refuse_upload(multipart(part("file", "svar.csv", b"")))),
        Attack("unsupported suffix .exe", "415", _refuse_upload(multipart(part("file", "svar.exe", CSV)))),
        Attack("double suffix .csv.exe", "415", _refuse_upload(multipart(part("file", "svar.csv.exe", CSV)))),
        Attack("right-to-left override in file name", "415", _refuse_upload(
            multipart(part("file", "svar\u202evsc.exe", CSV)))),
        Attack("file field without a file name", "400", _refuse_upload(multipart(part("file", None, CSV)))),
        Attack("too many part headers", "400", _refuse_upload(multipart(part(
            "file", "svar.csv", CSV, extra=b"".join(b"X-%d: y\r\n" % i for i in range(20)))))),
        Attack("overlong part header (10 kB file name)", "400", _refuse_upload(
            multipart(part("file", "a" * 10_000 + ".csv", CSV)))),
        # file names never become paths
        Attack("path traversal in file name", "201 in landing", _lands_inside("../../etc/passwd.csv")),
        Attack("backslash traversal in file name", "201 in landing", _lands_inside("..\\..\\..\\win.csv")),
        Attack("absolute file name", "201 in landing", _lands_inside("/etc/cron.d/job.csv")),
        Attack("non-UTF-8 file name", "201 in landing", _lands_inside(b"\xe5\xe4\xf6\xff.csv")),
        Attack("NUL byte in file name", "201 in landing", _lands_inside("a\x00b.csv")),
        Attack("CRLF header injection in file name", "201 in landing",
               _lands_inside("a.csv\"\r\nX-Injected: 1\r\nX: \"")),
        # headers
        Attack("Host header spoofing", "201 own URL", _no_spoofed_host([("Host", SPOOFED_HOST)])),
        Attack("X-Forwarded-Host spoofing", "201 own URL", _no_spoofed_host([
            ("X-Forwarded-Host", SPOOFED_HOST), ("X-Forwarded-Proto", "https"),
            ("Forwarded", f"host={SPOOFED_HOST}")])),
        Attack("bare CR in a header value", "400", _refuse_upload(ok_body, [("X-Note", b"a\rInjected: 1")])),
        Attack("huge request header (32 kB)", "431", _refuse_upload(ok_body, [("X-Big", "a" * 32768)]),
               also=("400", "closed")),
        Attack("many request headers (3000)", "431", _refuse_upload(
            ok_body, [(f"X-H{i}", "v") for i in range(3000)]), also=("400", "closed")),
        Attack("huge request header in pieces", "400", lambda s: _refusal(s, lambda: exchange(
            s.port, request("GET", "/healthz", length=False)[:-2],
            then=[(0.02, b"X-Big: " + b"a" * 4000 + b"\r\n")] * 8)), also=("431", "closed")),
        Attack("garbage request line", "400", lambda s: exchange(s.port, b"\x16\x03\x01 garbage\r\n\r\n").code()),
        Attack("WebSocket upgrade", "200", lambda s: _get(s, "/healthz", token=None, headers=[
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]).code()),
        # methods and the API description
        Attack("PUT on batches", "405", lambda s: _get(s, up, method="PUT").code()),
        Attack("DELETE a batch", "405", lambda s: _get(s, status_of(GBG, gbg_batch), method="DELETE").code()),
        Attack("PATCH a batch", "405", lambda s: _get(s, status_of(STHLM, gbg_batch), method="PATCH").code()),
        Attack("GET own batch collection: own batches only", "200 own only", lambda s: _own_listing(s, gbg_batch)),
        Attack("TRACE", "405", lambda s: _get(s, up, method="TRACE").code()),
        Attack("/docs hidden", "404", lambda s: _get(s, "/docs", token=None).code()),
        Attack("/redoc hidden", "404", lambda s: _get(s, "/redoc", token=None).code()),
        Attack("/openapi.json hidden", "404", lambda s: _get(s, "/openapi.json", token=None).code()),
        # slow clients
        Attack("slow headers (stalled)", "408 closed in time", lambda s: _slow_head(s, drip=False)),
        Attack("slow headers (a byte per 0.1 s)", "closed in time", lambda s: _slow_head(s, drip=True)),
        Attack("slow body (stalled)", "408 closed in time", lambda s: _slow_body(s, drip=False)),
        Attack("slow body (5 bytes per 0.1 s)", "closed in time", lambda s: _slow_body(s, drip=True)),
        Attack("slow body nobody reads (after a 401)", "closed in time", _slow_body_after_refusal),
        # many at once
        Attack("50 concurrent uploads", "50 batches, 50 landed exactly once", lambda s: _concurrent(s, 50, False)),
        Attack("10 concurrent identical uploads", "1 batch, 1 landed", lambda s: _concurrent(s, 10, True)),
        # brute force (last: it locks its address out)
        Attack("brute force wrong tokens", f"429 after {MAX_FAILURES} failures, Retry-After ok", _brute_force),
        Attack("throttled client, correct token", "429", lambda s: _throttled(s, "upload")),
        Attack("throttled client, forged X-Forwarded-For", "429", lambda s: _throttled(s, "forwarded-for")),
        Attack("throttled client, status request", "429", lambda s: _throttled(s, "status")),
        Attack("throttled client, health check", "200", lambda s: _throttled(s, "health")),
        Attack("another client address unaffected", "201", _other_client,
               also=("skipped: 127.0.0.3 is not usable here",)),
    ]


def run_attacks(verbose: bool = True) -> list[Outcome]:
    """Start the API, run every attack, stop the API; the outcomes in order (printed as a table if verbose)."""
    outcomes = []
    with running_server() as srv:
        for attack in attacks(srv):
            start = time.monotonic()
            try:
                got = attack.run(srv)
            except Exception as err:  # an attack that breaks the client is a finding too
                got = f"error: {type(err).__name__}: {err}"
            outcomes.append(Outcome(attack.name, attack.expected, got, got == attack.expected or got in attack.also,
                                    time.monotonic() - start))
        if verbose and not all(o.ok for o in outcomes):
            print(f"--- server log ---\n{srv.log.read_text()[-4000:]}")
    if verbose:
        print(table(outcomes))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    rows = [("attack", "expected", "got", "ok")] + [(o.name, o.expected, o.got, "ok" if o.ok else "FAIL")
                                                    for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    failed = sum(not o.ok for o in outcomes)
    return "\n".join(lines + [f"{len(outcomes)} attacks, {failed} failed"])


def main() -> int:
    return 0 if all(o.ok for o in run_attacks()) else 1


if __name__ == "__main__":
    sys.exit(main())

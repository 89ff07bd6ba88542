"""The upload API's defences against abuse, below and beside the routes.

- ``AuthThrottle``: failed authentications counted per client address in a sliding window; a client with too many
  gets 429 with Retry-After for every request that needs a token (its correct tokens included) until its oldest
  counted failure leaves the window. In memory, thread-safe, bounded (least recently failing clients evicted).
  IPv6 clients are counted per /64, the block one host usually controls.
- ``CheckRequestHead``: 431 for a request head over 16 kB or 100 headers, 400 for both Transfer-Encoding and
  Content-Length (request smuggling).
- ``BodyDeadline``: ASGI middleware; a request's whole body must arrive within N seconds of its head, else 408 and
  the connection is closed (uvicorn has no such limit: a client sending a byte a minute keeps a request open).
- ``deadline_protocol``: uvicorn's h11 protocol with a deadline for the request head (h11 limits its size but not
  its duration, and uvicorn's keep-alive timer stops at the first byte): a connection whose head is not complete
  in time gets 408 and is closed; and a backstop for bodies the app never reads (uvicorn drains them forever).
- ``QueryStringRedactor``: keeps query strings (a token pasted into a URL) out of the access log.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Callable

import anyio
import h11
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

MAX_CLIENTS = 10_000
"""Client addresses the throttle remembers at most (each holds at most max_failures timestamps)."""
MAX_HEAD_BYTES = 16 * 1024
"""Largest request head (request line and headers): 400 from h11 when it arrives in pieces, else 431."""
MAX_HEADERS = 100
"""Most request headers accepted (431 beyond)."""
BODY_GRACE_S = 1.0
"""How much longer than the body deadline the server waits for a body nobody reads before closing the connection."""
HEAD_TIMEOUT_BODY = b"the request head did not arrive in time"
HEAD_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                         b"connection: close\r\ncontent-length: " + str(len(HEAD_TIMEOUT_BODY)).encode() +
                         b"\r\n\r\n" + HEAD_TIMEOUT_BODY)


# -- throttling failed authentication --------------------------------------------------------------------------
def client_key(host: str | None) -> str:
    """The key a client is throttled under: its IPv4 address, its IPv6 /64 network, or the host string as is."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


class AuthThrottle:
    """Counts failed authentications per client in a sliding window of ``window_s`` seconds.

    A client with ``max_failures`` failures inside the window is throttled until the oldest of them leaves it.
    Successful authentications do not reset the count (a holder of one valid token must not be able to keep
    guessing others). Memory is bounded by ``max_clients`` (the least recently failing client is forgotten first).
    """

    def __init__(self, max_failures: int, window_s: float, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, got {max_failures}")
        if window_s <= 0 or max_clients < 1:
            raise ValueError("window_s and max_clients must be positive")
        self.max_failures, self.window_s, self.max_clients = max_failures, window_s, max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)

    def _drop_expired(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window_s:
            times.popleft()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may authenticate again, or None when it is not throttled."""
        now = self._clock()
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return None
            self._drop_expired(times, now)
            if not times:
                del self._failures[client]
                return None
            if len(times) < self.max_failures:
                return None
            return max(1, math.ceil(times[0] + self.window_s - now))

    def record_failure(self, client: str) -> None:
        """Count one failed authentication of ``client``."""
        now = self._clock()
        with self._lock:
            times = self._failures.pop(client, None)
            if times is None:
                times = deque(maxlen=self.max_failures)
            self._drop_expired(times, now)
            times.append(now)
            self._failures[client] = times  # most recently failing last
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)


# -- request framing and deadlines -----------------------------------------------------------------------------
class CheckRequestHead:
    """ASGI middleware: refuses a request head that is too large (431) or framed ambiguously (400), and closes.

    Size: h11 bounds only a head that arrives in pieces (``MAX_HEAD_BYTES``); one sent in a single write is parsed
    whole, so the limit on the request line and headers together, and on their number, is enforced here.
    Framing: with both Transfer-Encoding and Content-Length, h11 follows Transfer-Encoding as RFC 9112 allows; a
    proxy in front might follow Content-Length, and that difference is how requests are smuggled past it. RFC 9112
    lets a server refuse such a request instead.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_HEAD_BYTES, max_headers: int = MAX_HEADERS) -> None:
        self.app, self.max_bytes, self.max_headers = app, max_bytes, max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + \
                sum(len(name) + len(value) + 4 for name, value in headers)
            names = {name.lower() for name, _ in headers}
            if size > self.max_bytes or len(headers) > self.max_headers:
                await _refuse(send, 431, b"the request head is too large")
                return
            if b"transfer-encoding" in names and b"content-length" in names:
                await _refuse(send, 400, b"a request must not carry both Transfer-Encoding and Content-Length")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, body: bytes) -> None:
    """A plain-text error response that closes the connection."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# -- request deadlines -----------------------------------------------------------------------------------------
class BodyDeadline:
    """ASGI middleware: the whole request body must arrive within ``seconds`` of the request head, else 408.

    It bounds every ``receive()`` until the body is complete; the 408 (an HTTPException raised from ``receive``,
    so the app's exception handling answers it) carries ``Connection: close``, which makes the server close the
    connection.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.seconds
        body_done = False

        async def receive_within_deadline() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                body_done = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            log.warning("closed a request whose body did not arrive within %g s", self.seconds)
            raise HTTPException(408, f"the request body did not arrive within {self.seconds:g} s",
                                headers={"Connection": "close"})

        await self.app(scope, receive_within_deadline, send)


class _DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for the request head and, as a backstop, the request body.

    Head: the deadline runs whenever the connection waits for a request head (from the connection's start, and
    again after each response) and stops once the head is complete; when it passes, the client gets 408 and the
    connection is closed. Body: ``BodyDeadline`` answers 408 when the app reads a body too slowly, but a body the
    app never reads (the request was refused at once) is drained by uvicorn for as long as the client sends it;
    such a connection is closed ``BODY_GRACE_S`` after the body deadline.
    """

    head_timeout_s: float = 10.0
    body_timeout_s: float = 120.0
    _head_timer: Any = None
    _body_timer: Any = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._sync_deadlines()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._sync_deadlines()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._sync_deadlines()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_timer = _cancel(self._head_timer)
        self._body_timer = _cancel(self._body_timer)
        super().connection_lost(exc)

    def _sync_deadlines(self) -> None:
        state = None if self.transport.is_closing() else self.conn.their_state
        if state is h11.IDLE:
            self._body_timer = _cancel(self._body_timer)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)
        elif state is h11.SEND_BODY:
            self._head_timer = _cancel(self._head_timer)
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(self.body_timeout_s + BODY_GRACE_S, self._body_timed_out)
        else:
            self._head_timer = _cancel(self._head_timer)
            self._body_timer = _cancel(self._body_timer)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        log.warning("closed a connection whose request head did not arrive within %g s", self.head_timeout_s)
        self.transport.write(HEAD_TIMEOUT_RESPONSE)
        self.transport.close()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
            return
        log.warning("closed a connection whose request body did not arrive within %g s", self.body_timeout_s)
        self.transport.close()  # connection_lost then tells an app still waiting that the client is gone


def _cancel(timer: Any) -> None:
    if timer is not None:
        timer.cancel()
    return None


def deadline_protocol(head_timeout_s: float, body_timeout_s: float) -> type[H11Protocol]:
    """An h11 protocol class for ``uvicorn.Config(http=...)`` with these request head and body deadlines."""
    if head_timeout_s <= 0 or body_timeout_s <= 0:
        raise ValueError(f"the request head and body timeouts must be positive, got {head_timeout_s} and "
                         f"{body_timeout_s}")
    return type("DeadlineH11Protocol", (_DeadlineH11Protocol,),
                {"head_timeout_s": head_timeout_s, "body_timeout_s": body_timeout_s})


# -- logging ---------------------------------------------------------------------------------------------------
class QueryStringRedactor(logging.Filter):
    """Drops the query string from uvicorn's access log lines (a client may put a token there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?…", args[3], args[4])
        return True

    @classmethod
    def install(cls, logger_name: str = "uvicorn.access") -> None:
        """Add the filter to uvicorn's access logger (once)."""
        logger = logging.getLogger(logger_name)
        if not any(isinstance(f, cls) for f in logger.filters):
            logger.addFilter(cls())

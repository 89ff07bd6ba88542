"""The upload API: tokens, upload and receipt, status, and every refusal."""

from __future__ import annotations

import json
import logging
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from synpunkt.api import (ApiStartError, create_app, issue_token, revoke_tokens, server_config, start_api_thread,
                          token_municipality)
from synpunkt.api_security import AuthThrottle, QueryStringRedactor, client_key
from synpunkt.batch_status import read_status, write_status
from synpunkt.config import landing_dir, tokens_file
from synpunkt.landing import batch_dir, land_bytes, landed_batches

CSV = "text;date\nBra bemötande i receptionen;2025-03-01\nLång väntetid i telefon;2025-03-02\n".encode()
STHLM, GBG = "0180", "1480"


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture()
def client(home) -> TestClient:
    return TestClient(create_app())


@pytest.fixture()
def token(home) -> str:
    return issue_token(STHLM)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client: TestClient, token: str | None, code: str = STHLM, data: bytes = CSV, name: str = "svar.csv"):
    headers = auth(token) if token else {}
    return client.post(f"/v1/municipalities/{code}/batches", headers=headers, files={"file": (name, data)})


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_tokens_are_stored_hashed_and_private(home, token):
    path = tokens_file()
    text = path.read_text()
    assert token not in text
    assert json.loads(text)["tokens"][0]["municipality_code"] == STHLM
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert token_municipality(token) == STHLM
    assert token_municipality(token + "x") is None


def test_upload_receipt_then_status(client, token):
    r = upload(client, token)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["municipality_code"] == STHLM
    assert receipt["size_bytes"] == len(CSV)
    assert receipt["duplicate"] is False
    assert receipt["batch_id"].startswith(f"{STHLM}-")
    assert {"checksum_sha256", "received_at"} <= receipt.keys()
    assert r.headers["location"] == receipt["status_url"]
    assert receipt["status_url"].endswith(f"/v1/municipalities/{STHLM}/batches/{receipt['batch_id']}")
    (landed,) = landed_batches()
    assert landed.origin == "api" and landed.raw_path().read_bytes() == CSV

    status = client.get(receipt["status_url"], headers=auth(token))
    assert status.status_code == 200
    assert status.json()["status"] == "landed"

    folder = batch_dir(STHLM, receipt["batch_id"])
    write_status(folder, status="ingested", rows_received=2, rows_accepted=2, rows_quarantined=0)
    body = client.get(receipt["status_url"], headers=auth(token)).json()
    assert body["status"] == "ingested"
    assert (body["rows_received"], body["rows_accepted"], body["rows_quarantined"]) == (2, 2, 0)
    assert body["error"] is None and body["processed_at"]
    assert read_status(folder)["status"] == "ingested"


def test_duplicate_upload_returns_the_same_batch(client, token):
    first = upload(client, token).json()
    second = upload(client, token, name="another-name.csv")
    assert second.status_code == 201
    assert second.json()["batch_id"] == first["batch_id"]
    assert second.json()["duplicate"] is True
    assert len(landed_batches()) == 1


def test_a_file_landed_for_another_municipality_is_refused_without_naming_it(client, token):
    """The same file sent for Göteborg after Stockholm sent it: 409, nothing landed, and the answer does not say
    which municipality holds it (that is the operator's to see, by `synpunkt batch withdraw`)."""
    first = upload(client, token)
    assert first.status_code == 201
    refused = upload(client, issue_token(GBG), code=GBG, name="goteborg.csv")
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "another municipality" in detail and STHLM not in detail and first.json()["batch_id"] not in detail
    assert [r.municipality_code for r in landed_batches()] == [STHLM]
    assert upload(client, token).json()["duplicate"] is True  # the right municipality again: its receipt


def test_missing_or_unknown_token_is_401(client, token):
    for headers in ({}, auth("not-a-token"), {"Authorization": f"Basic {token}"}):
        r = client.post(f"/v1/municipalities/{STHLM}/batches", headers=headers, files={"file": ("a.csv", CSV)})
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
    assert client.get(f"/v1/municipalities/{STHLM}/batches/{STHLM}-0123456789abcdef").status_code == 401
    assert not landing_dir().exists()


def test_revoked_token_is_401(client, token):
    assert revoke_tokens(STHLM) == 1
    assert upload(client, token).status_code == 401


def test_other_municipalitys_token_is_403(client, token):
    assert upload(client, token, code=GBG).status_code == 403
    assert not landing_dir().exists()


def test_unknown_municipality_is_404(client, token):
    for code in ("9999", "180", "abcd"):
        assert upload(client, token, code=code).status_code == 404


def test_cross_municipality_status_is_404(client, token):
    gbg_token = issue_token(GBG)
    gbg_batch = upload(client, gbg_token, code=GBG).json()["batch_id"]
    # Stockholm's token cannot read Göteborg's batch under either code
    assert client.get(f"/v1/municipalities/{GBG}/batches/{gbg_batch}", headers=auth(token)).status_code == 403
    assert client.get(f"/v1/municipalities/{STHLM}/batches/{gbg_batch}", headers=auth(token)).status_code == 404
    assert client.get(f"/v1/municipalities/{GBG}/batches/{gbg_batch}", headers=auth(gbg_token)).status_code == 200


def test_a_municipality_lists_its_own_batches_newest_first(client, token, home):
    empty = client.get(f"/v1/municipalities/{STHLM}/batches", headers=auth(token))
    assert empty.status_code == 200 and empty.json() == {"municipality_code": STHLM, "total": 0, "batches": []}
    first = upload(client, token).json()
    second = upload(client, token, data=CSV + "Ny synpunkt;2025-03-03\n".encode(), name="mars.csv").json()
    write_status(batch_dir(STHLM, first["batch_id"]), status="ingested", rows_received=2, rows_accepted=2,
                 rows_quarantined=0)
    upload(client, issue_token(GBG), code=GBG)  # another municipality's batch is never listed
    listed = client.get(f"/v1/municipalities/{STHLM}/batches", headers=auth(token)).json()
    assert listed["municipality_code"] == STHLM and listed["total"] == 2
    assert {b["batch_id"] for b in listed["batches"]} == {first["batch_id"], second["batch_id"]}
    by_id = {b["batch_id"]: b for b in listed["batches"]}
    assert by_id[first["batch_id"]]["status"] == "ingested" and by_id[first["batch_id"]]["rows_accepted"] == 2
    assert by_id[second["batch_id"]]["status"] == "landed"
    assert by_id[second["batch_id"]]["status_url"] == second["status_url"]
    assert [b["received_at"] for b in listed["batches"]] == sorted((b["received_at"] for b in listed["batches"]),
                                                                    reverse=True)
    assert "mars.csv" not in json.dumps(listed)  # the client's file name is never handed out
    limited = client.get(f"/v1/municipalities/{STHLM}/batches?limit=1", headers=auth(token)).json()
    assert limited["total"] == 2 and len(limited["batches"]) == 1
    assert client.get(f"/v1/municipalities/{STHLM}/batches?limit=0", headers=auth(token)).status_code == 422


def test_listing_another_municipalitys_batches_is_refused(client, token):
    upload(client, issue_token(GBG), code=GBG)
    assert client.get(f"/v1/municipalities/{GBG}/batches", headers=auth(token)).status_code == 403
    assert client.get(f"/v1/municipalities/{GBG}/batches").status_code == 401
    assert client.get("/v1/municipalities/9999/batches", headers=auth(token)).status_code == 404


@pytest.mark.parametrize("batch_id", [f"{STHLM}-0123456789abcdef", "..", "0180-..%2F..%2Fsecrets",
                                      "0180-ABCDEF0123456789", "0180-0123456789abcdef%0A"])
def test_unknown_or_malformed_batch_id_is_404(client, token, batch_id):
    r = client.get(f"/v1/municipalities/{STHLM}/batches/{batch_id}", headers=auth(token))
    assert r.status_code == 404


def test_too_large_is_413(client, token, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_MAX_UPLOAD_MB", str(100 / (1024 * 1024)))  # 100 bytes
    assert upload(client, token, data=b"text\n" + b"x" * 200).status_code == 413
    assert upload(client, token, data=b"text\n" + b"x" * 90).status_code == 201


def test_too_large_content_length_is_refused_early(client, token, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_MAX_UPLOAD_MB", "1")
    r = client.post(f"/v1/municipalities/{STHLM}/batches", content=b"",
                    headers={**auth(token), "Content-Type": "multipart/form-data; boundary=x",
                             "Content-Length": str(50 * 1024 * 1024)})
    assert r.status_code == 413


def test_too_large_stream_without_content_length_is_413(client, token, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_MAX_UPLOAD_MB", str(1000 / (1024 * 1024)))  # 1000 bytes
    def chunks():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\ntext\n'
        for _ in range(1000):  # far more than the limit; reading must stop long before the end
            yield b"x" * 100
        yield b"\r\n--b--\r\n"

    r = client.post(f"/v1/municipalities/{STHLM}/batches", content=chunks(),
                    headers={**auth(token), "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert not landing_dir().exists()


@pytest.mark.parametrize("name", ["svar.exe", "svar", "svar.csv.sh"])
def test_unsupported_type_is_415(client, token, name):
    assert upload(client, token, name=name).status_code == 415


def test_not_multipart_is_415(client, token):
    r = client.post(f"/v1/municipalities/{STHLM}/batches", content=CSV,
                    headers={**auth(token), "Content-Type": "text/csv"})
    assert r.status_code == 415


def test_empty_or_missing_file_is_400(client, token):
    assert upload(client, token, data=b"").status_code == 400
    r = client.post(f"/v1/municipalities/{STHLM}/batches", headers=auth(token), files={"other": ("a.csv", CSV)})
    assert r.status_code == 400


def test_path_traversal_file_name_lands_inside_landing(client, token, home):
    r = upload(client, token, name="../../etc/passwd.csv")
    assert r.status_code == 201
    (landed,) = landed_batches()
    assert landed.original_name == "passwd.csv"
    raw = landed.raw_path().resolve()
    assert raw.is_relative_to(landing_dir().resolve())
    assert raw.name == "raw.csv"
    assert {p.name for p in home.rglob("passwd*")} == set()


def test_write_status_checks_its_fields(tmp_path):
    with pytest.raises(ValueError, match="status must be one of"):
        write_status(tmp_path, status="done")
    with pytest.raises(TypeError, match="rows_acepted"):
        write_status(tmp_path, status="failed", rows_acepted=1)
    assert read_status(tmp_path) is None
    write_status(tmp_path, status="failed", error="column 'text' is missing")
    assert read_status(tmp_path)["error"] == "column 'text' is missing"
    assert stat.S_IMODE((tmp_path / "status.json").stat().st_mode) == 0o600


# -- incomplete bodies -----------------------------------------------------------------------------------------
def multipart_post(client: TestClient, token: str, body: bytes, boundary: str = "b"):
    return client.post(f"/v1/municipalities/{STHLM}/batches", content=body,
                       headers={**auth(token), "Content-Type": f"multipart/form-data; boundary={boundary}"})


FILE_PART = b'--b\r\nContent-Disposition: form-data; name="file"; filename="svar.csv"\r\n\r\n' + CSV


@pytest.mark.parametrize("body", [FILE_PART, FILE_PART + b"\r\n--b", FILE_PART[:40], FILE_PART[:-10],
                                  FILE_PART + b"\r\n--b\r\n"],
                         ids=["no closing boundary", "closing boundary without --", "cut in part headers",
                              "cut in the data", "a new part begun"])
def test_incomplete_multipart_is_400_and_nothing_lands(client, token, body):
    r = multipart_post(client, token, body)
    assert r.status_code == 400
    assert "closing boundary" in r.json()["detail"] or "malformed" in r.json()["detail"]
    assert landed_batches() == []
    assert multipart_post(client, token, FILE_PART + b"\r\n--b--\r\n").status_code == 201  # complete: lands


def test_overlong_boundary_is_400_not_500(client, token):
    assert multipart_post(client, token, FILE_PART, boundary="x" * 300).status_code == 400


def test_two_file_fields_are_400(client, token):
    r = client.post(f"/v1/municipalities/{STHLM}/batches", headers=auth(token),
                    files=[("file", ("a.csv", CSV)), ("file", ("b.csv", CSV + b"x;y\n"))])
    assert r.status_code == 400
    assert landed_batches() == []


def test_too_many_headers_is_431(client):
    r = client.get("/healthz", headers={f"x-h{i}": "v" for i in range(150)})
    assert r.status_code == 431
    assert client.get("/healthz", headers={"x-big": "a" * 20_000}).status_code == 431


def test_concurrent_identical_uploads_land_once(home):
    receipts = []
    threads = [threading.Thread(target=lambda: receipts.append(land_bytes(CSV, STHLM, "a.csv", "api")))
               for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(receipts) == 12 and len({r.batch_id for r in receipts}) == 1
    assert sum(not r.duplicate for r in receipts) == 1
    assert len(landed_batches()) == 1


# -- URLs from configuration, docs behind configuration ----------------------------------------------------------
def test_status_url_comes_from_configuration_never_the_host_header(home, token, monkeypatch):
    r = upload(TestClient(create_app(), base_url="http://evil.example"), token)
    assert r.status_code == 201
    assert r.json()["status_url"].startswith("http://127.0.0.1:8000/v1/municipalities/0180/batches/")
    monkeypatch.setenv("SYNPUNKT_PUBLIC_URL", "https://synpunkt.example.se/api/")
    client = TestClient(create_app())
    r = client.post(f"/v1/municipalities/{STHLM}/batches", headers={**auth(token), "Host": "evil.example",
                                                                    "X-Forwarded-Host": "evil.example"},
                    files={"file": ("svar.csv", CSV + b"x;y\n")})
    assert r.status_code == 201
    assert r.headers["location"].startswith("https://synpunkt.example.se/api/v1/municipalities/0180/batches/")
    assert "evil" not in r.text and "evil" not in r.headers["location"]


def test_api_description_is_off_by_default(home, monkeypatch):
    client = TestClient(create_app())
    assert [client.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [404, 404, 404]
    monkeypatch.setenv("SYNPUNKT_API_DOCS", "1")
    client = TestClient(create_app())
    assert [client.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [200, 200, 200]
    assert "/v1/municipalities/{code}/batches" in client.get("/openapi.json").json()["paths"]


# -- throttling failed authentication ----------------------------------------------------------------------------
def test_failed_authentication_is_throttled_per_client(home, token, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_AUTH_MAX_FAILURES", "3")
    monkeypatch.setenv("SYNPUNKT_AUTH_WINDOW_S", "60")
    app = create_app()
    attacker = TestClient(app, client=("203.0.113.5", 40000))
    neighbour = TestClient(app, client=("203.0.113.6", 40000))
    assert [upload(attacker, f"guess-{i}").status_code for i in range(3)] == [401, 401, 401]
    r = upload(attacker, "guess-4")
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert upload(attacker, token).status_code == 429  # even the right token, until the window passes
    assert attacker.get(f"/v1/municipalities/{STHLM}/batches/{STHLM}-0123456789abcdef",
                        headers=auth(token)).status_code == 429
    assert attacker.get("/healthz").status_code == 200
    assert upload(neighbour, token).status_code == 201  # another address is not affected
    assert landed_batches()[0].origin == "api" and len(landed_batches()) == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_window_slides_and_success_does_not_reset():
    clock = FakeClock()
    throttle = AuthThrottle(max_failures=3, window_s=60, clock=clock)
    for _ in range(2):
        throttle.record_failure("a")
        clock.now += 10
    assert throttle.retry_after("a") is None
    throttle.record_failure("a")  # failures at 1000, 1010, 1020
    clock.now = 1025
    assert throttle.retry_after("a") == 35  # until the first failure leaves the window (1060)
    assert throttle.retry_after("b") is None
    clock.now = 1060.5
    assert throttle.retry_after("a") is None  # two failures left in the window
    throttle.record_failure("a")
    assert throttle.retry_after("a") == 10  # blocked again until 1070
    clock.now = 2000
    assert throttle.retry_after("a") is None and len(throttle) == 0  # old entries are dropped


def test_throttle_memory_is_bounded_and_thread_safe():
    clock = FakeClock()
    throttle = AuthThrottle(max_failures=5, window_s=60, max_clients=100, clock=clock)
    for i in range(1000):
        throttle.record_failure(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle) == 100
    assert throttle.retry_after("10.0.0.0") is None  # the least recently failing were forgotten

    def hammer() -> None:
        for _ in range(500):
            throttle.record_failure("198.51.100.1")
            throttle.retry_after("198.51.100.1")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert throttle.retry_after("198.51.100.1") == 60
    assert len(throttle) == 100
    with pytest.raises(ValueError):
        AuthThrottle(max_failures=0, window_s=60)


def test_client_key_groups_ipv6_by_64():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key(None) == "unknown" and client_key("testclient") == "testclient"


def test_access_log_drops_query_strings():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "POST", "/v1/municipalities/0180/batches?token=secret", "1.1", 401),
                               None)
    assert QueryStringRedactor().filter(record)
    assert "secret" not in record.getMessage() and "/v1/municipalities/0180/batches" in record.getMessage()


# -- a real server: uvicorn with the project's settings, slow clients ----------------------------------------------
@pytest.fixture()
def live_api(home, monkeypatch):
    """The API served by uvicorn with server_config() in a thread on a free port, with 0.5 s deadlines."""
    monkeypatch.setenv("SYNPUNKT_HEADER_TIMEOUT_S", "0.5")
    monkeypatch.setenv("SYNPUNKT_UPLOAD_TIMEOUT_S", "0.5")
    server = start_api_thread("127.0.0.1", 0)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True


def test_server_config_settings(home, monkeypatch):
    config = server_config("127.0.0.1", 8123)
    assert config.ws == "none" and config.proxy_headers is False and config.server_header is False
    assert config.http.head_timeout_s == 10 and config.http.body_timeout_s == 120
    assert config.h11_max_incomplete_event_size == 16 * 1024
    monkeypatch.setenv("SYNPUNKT_TRUSTED_PROXIES", "10.0.0.5")
    monkeypatch.setenv("SYNPUNKT_HEADER_TIMEOUT_S", "2.5")
    config = server_config("0.0.0.0", 8123)
    assert config.proxy_headers is True and config.forwarded_allow_ips == "10.0.0.5"
    assert config.http.head_timeout_s == 2.5


def test_api_that_cannot_start_fails_loudly(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ApiStartError, match="did not start"):
            start_api_thread("127.0.0.1", taken.getsockname()[1], startup_s=10)


def read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed (seconds from now)."""
    start, data = time.monotonic(), b""
    sock.settimeout(limit_s)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data, time.monotonic() - start
        data += chunk


def test_live_server_answers_and_closes_slow_headers_with_408(live_api, token):
    with socket.create_connection(("127.0.0.1", live_api), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_until_closed(sock, 5)[0].startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", live_api), timeout=5) as sock:
        sock.sendall(b"POST /v1/municipalities/0180/batches HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        data, seconds = read_until_closed(sock, 5)
    assert data.startswith(b"HTTP/1.1 408")
    assert seconds < 3


def test_live_server_answers_and_closes_a_slow_body_with_408(live_api, token):
    body = FILE_PART + b"\r\n--b--\r\n"
    head = (f"POST /v1/municipalities/{STHLM}/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", live_api), timeout=5) as sock:
        sock.sendall(head + body[:30])  # the rest never comes
        data, seconds = read_until_closed(sock, 5)
    assert data.startswith(b"HTTP/1.1 408")
    assert b"did not arrive" in data
    assert seconds < 3
    assert landed_batches() == []
    with socket.create_connection(("127.0.0.1", live_api), timeout=5) as sock:  # the same, sent whole: lands
        sock.sendall(head.replace(b"Host: x", b"Host: x\r\nConnection: close") + body)
        assert read_until_closed(sock, 5)[0].startswith(b"HTTP/1.1 201")
    assert len(landed_batches()) == 1


def test_live_server_closes_a_connection_dripping_a_body_nobody_reads(live_api):
    head = (f"POST /v1/municipalities/{STHLM}/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n").encode()
    start, received = time.monotonic(), b""
    with socket.create_connection(("127.0.0.1", live_api), timeout=5) as sock:
        sock.sendall(head)
        sock.settimeout(0.1)
        while time.monotonic() - start < 6:  # keep dripping after the 401, as a slow-loris client would
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                chunk = None
            except ConnectionResetError:
                break
            if chunk == b"":
                break
            received += chunk or b""
            try:
                sock.sendall(b"x" * 5)
            except (BrokenPipeError, ConnectionResetError):
                break
    assert received.startswith(b"HTTP/1.1 401")
    assert time.monotonic() - start < 4  # closed about a second after the 0.5 s body deadline

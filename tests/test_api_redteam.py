"""The upload API's replies to the red-team findings: storage that cannot be written, a file sent as a text field,
a very long file name and query parameters of the wrong type each get one clear JSON line, never a traceback."""

from __future__ import annotations

import errno
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_api import CSV, STHLM, auth, client, home, token, upload  # noqa: E402,F401 - the same fixtures

from synpunkt import landing, warehouse  # noqa: E402
from synpunkt.api import MAX_FILENAME_CHARS, create_app  # noqa: E402
from synpunkt.config import landing_dir  # noqa: E402
from synpunkt.landing import landed_batches  # noqa: E402

NOT_STORED = "could not store the upload; nothing was stored; try again later"
UNWRITABLE = "the warehouse cannot be opened for writing now; try again later"
ALERTS = f"/v1/municipalities/{STHLM}/alerts"
ACK = f"{ALERTS}/al-0123456789abcdef/ack"


def failing_with(err: Exception):
    """A stand-in for a function: raises `err` whatever it is called with."""
    def fail(*args, **kwargs):
        raise err
    return fail


def failing(code: int):
    """A stand-in that raises OSError(code) like a read-only, full or forbidden file system."""
    return failing_with(OSError(code, os.strerror(code)))


# -- 4: storage that cannot be written -------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "status"), [(errno.EROFS, 503), (errno.EACCES, 503), (errno.ENOSPC, 507)])
def test_upload_that_cannot_be_stored_is_a_json_503_or_507(client, token, monkeypatch, caplog, code, status):
    monkeypatch.setattr("synpunkt.api.land_bytes", failing(code))
    with caplog.at_level(logging.ERROR, logger="synpunkt.api"):
        r = upload(client, token)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    detail = r.json()["detail"]
    assert detail == NOT_STORED if status == 503 else "out of storage space" in detail and "nothing was stored" in detail
    assert ("retry-after" in r.headers) == (status == 503)
    logged = caplog.text
    assert f"errno {errno.errorcode[code]} ({os.strerror(code)})" in logged  # type and errno, for the operator
    assert CSV.decode() not in logged and "svar.csv" not in logged and token not in logged


def test_a_failed_landing_leaves_nothing_behind(client, token, monkeypatch):
    """The claim "nothing was stored" holds: land_bytes's last step (the rename into place) fails on a full disk."""
    monkeypatch.setattr(landing.os, "rename", failing(errno.ENOSPC))
    r = upload(client, token)
    assert r.status_code == 507 and "nothing was stored" in r.json()["detail"]
    monkeypatch.undo()
    assert landed_batches() == []
    assert not any(p.is_file() for p in landing_dir().rglob("*")), "no partial batch or temporary copy is left"


@pytest.mark.parametrize("request_", [("get", ALERTS), ("post", ACK)])
@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_alerts_and_ack_without_a_writable_lock_are_a_json_503(client, token, monkeypatch, caplog, request_, code):
    monkeypatch.setattr(warehouse, "private_dir", failing(code))  # pipeline_lock's first write
    method, url = request_
    with caplog.at_level(logging.ERROR, logger="synpunkt.api"):
        r = client.request(method, url, headers=auth(token))
    assert r.status_code == 503 and r.json() == {"detail": UNWRITABLE}
    assert r.headers["retry-after"] == "60"
    assert errno.errorcode[code] in caplog.text


def test_the_api_holds_the_pipeline_lock_as_itself(client, token, monkeypatch):
    """`synpunkt status` names what holds the lock: the API, not "a pipeline run"."""
    seen = []
    real = warehouse.pipeline_lock

    @contextmanager
    def recording(*args, **kwargs):
        with real(*args, **kwargs):
            seen.append(warehouse.lock_holder()["what"])
            yield

    monkeypatch.setattr(warehouse, "pipeline_lock", recording)
    assert client.get(ALERTS, headers=auth(token)).status_code == 200
    assert client.post(ACK, headers=auth(token)).status_code == 404
    assert seen == ["the upload API listing alerts", "the upload API acknowledging an alert"]
    assert warehouse.lock_holder() is None


def test_an_unexpected_error_is_a_json_500(home, token, monkeypatch):
    monkeypatch.setattr("synpunkt.api.land_bytes", failing_with(RuntimeError("Bra bemötande i receptionen")))
    r = upload(TestClient(create_app(), raise_server_exceptions=False), token)
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert set(r.json()) == {"detail"} and "Bra bemötande" not in r.text


# -- 6: the file sent as a text field ---------------------------------------------------------------------------
def test_a_text_field_named_file_is_told_to_send_a_file(client, token):
    r = client.post(f"/v1/municipalities/{STHLM}/batches", headers=auth(token), data={"file": CSV.decode()},
                    files={"x": ("", b"")})  # what curl -F "file=<export.csv" sends
    assert r.status_code == 400
    assert r.json() == {"detail": "the field 'file' has no file name: send it as a file (curl -F file=@export.csv)"}
    assert landed_batches() == []


def test_an_empty_file_name_is_told_the_same(client, token):
    r = upload(client, token, name="")
    assert r.status_code == 400 and "has no file name" in r.json()["detail"]


# -- 7: a very long file name -----------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [MAX_FILENAME_CHARS + 1, 2_000, 5_000, 100_000])
def test_a_too_long_file_name_is_refused_clearly(client, token, length):
    r = upload(client, token, name="a" * (length - 4) + ".csv")
    assert r.status_code == 400
    assert r.json() == {"detail": f"the file name is too long (at most {MAX_FILENAME_CHARS} characters)"}
    assert landed_batches() == []


def test_a_file_name_at_the_limit_is_accepted(client, token):
    r = upload(client, token, name="ö" * (MAX_FILENAME_CHARS - 4) + ".csv")  # characters, not bytes
    assert r.status_code == 201, r.text


def test_another_too_long_part_header_is_a_clear_400(client, token):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"svar.csv\"\r\n"
            f"X-Padding: {'p' * 5_000}\r\n\r\n").encode() + CSV + f"\r\n--{boundary}--\r\n".encode()
    r = client.post(f"/v1/municipalities/{STHLM}/batches", content=body,
                    headers={**auth(token), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 400 and r.json() == {"detail": "a header of a part of the multipart body is too long"}


# -- 8: query parameters of the wrong type ----------------------------------------------------------------------
@pytest.mark.parametrize(("query", "detail"), [
    ("limit=abc", "query parameter 'limit': must be an integer"),
    ("limit=1.5", "query parameter 'limit': must be an integer"),
    ("limit=0", "query parameter 'limit': must be at least 1"),
    ("limit=99999", "query parameter 'limit': must be at most 1000"),
])
def test_a_bad_query_parameter_is_one_line_naming_it(client, token, query, detail):
    r = client.get(f"/v1/municipalities/{STHLM}/batches?{query}", headers=auth(token))
    assert r.status_code == 422 and r.json() == {"detail": detail}
    assert query.split("=")[1] not in r.text.replace(detail, "")


def test_bad_alert_query_parameters_are_one_line_each(client, token):
    r = client.get(f"{ALERTS}?all=secret-value", headers=auth(token))
    assert r.status_code == 422 and r.json() == {"detail": "query parameter 'all': must be true or false"}
    r = client.post(f"{ACK}?by={'x' * 101}", headers=auth(token))
    assert r.status_code == 422 and r.json() == {"detail": "query parameter 'by': must be at most 100 characters"}

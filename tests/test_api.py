"""The upload API: tokens, upload and receipt, status, and every refusal."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from synpunkt.api import create_app, issue_token, revoke_tokens, token_municipality
from synpunkt.batch_status import read_status, write_status
from synpunkt.config import landing_dir, tokens_file
from synpunkt.landing import batch_dir, landed_batches

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

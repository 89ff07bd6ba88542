"""The per-installation secret key behind comment ids (see synpunkt.dedupe), and its check against the warehouse.

The key is 32 random bytes, hex-encoded in ``$SYNPUNKT_HOME/secrets/comment_id.key`` (mode 0600, folder 0700),
created on first use. Back it up with the warehouse: a warehouse built with one key cannot recognise re-sent rows
under another, so the pipeline refuses to ingest when the key does not match the one the warehouse remembers
(by a fingerprint, which reveals nothing about the key).
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from synpunkt.config import comment_key_file

KEY_BYTES = 32
FINGERPRINT_SETTING = "comment_id_key_fingerprint"


class KeyMismatch(RuntimeError):
    """The comment-id key is not the one this warehouse was built with."""


def comment_id_key(path: Path | None = None) -> bytes:
    """The installation's key, created (0600) on first use; safe against concurrent first uses."""
    path = Path(path or comment_key_file())
    if not path.exists():
        _create(path)
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < KEY_BYTES:
        raise ValueError(f"{path}: the comment-id key is damaged ({len(key)} bytes, expected {KEY_BYTES})")
    return key


def _create(path: Path) -> None:
    missing, folder = [], path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, secrets.token_bytes(KEY_BYTES).hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and never replaces a key another process created meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def fingerprint(key: bytes) -> str:
    """A public fingerprint of the key (to notice a lost or swapped key)."""
    return hmac.digest(key, b"synpunkt comment-id key fingerprint", "sha256").hex()[:16]


def check_key(con, key: bytes) -> None:
    """Remember the key's fingerprint in the warehouse on first use; raise KeyMismatch if it differs later."""
    rows = con.execute("SELECT value FROM warehouse_settings WHERE name = ?", [FINGERPRINT_SETTING]).fetchall()
    row = rows[0] if rows else None
    if row is None:
        con.execute("INSERT INTO warehouse_settings VALUES (?, ?)", [FINGERPRINT_SETTING, fingerprint(key)])
    elif row[0] != fingerprint(key):
        raise KeyMismatch(f"the comment-id key in {comment_key_file()} is not the one this warehouse was built "
                          "with; restore the original key file (see README, Duplicates) before ingesting")

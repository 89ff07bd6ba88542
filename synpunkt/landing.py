"""The landing area: every way in (folder inbox, HTTP pull, HTTP API, `synpunkt submit`) ends here.

A landed batch is a folder ``landing/<municipality>/<batch_id>/`` holding ``raw<.suffix>`` (an immutable copy of
the file exactly as received) and ``receipt.json`` (checksum, origin, times). The batch id is derived from the
municipality and the file's SHA-256, so landing the same file twice is a no-op, never a duplicate batch.
Files and folders are created readable by the pipeline's user only: the raw copy is the one place where
unredacted text may exist, and it is purged after the retention period once its batch is processed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from synpunkt.config import inbox_dir, inbox_settle_seconds, landing_dir, private_dir, private_file
from synpunkt.municipalities import validate_code
from synpunkt.os_errors import plain_reason
from synpunkt.tables import READ_SUFFIXES

log = logging.getLogger(__name__)
RECEIPT = "receipt.json"
ORIGINS = ("inbox", "http", "api", "cli", "demo")
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".filepart", ".tmp")
"""Names of files still being uploaded (name.csv.part, renamed to name.csv when complete; WinSCP: .filepart)."""
IN_PROGRESS_PREFIXES = (".", "~$")
"""Hidden files and Office lock files (~$export.xlsx): never collected."""


@dataclass
class Receipt:
    """What a submitter gets back, and what the pipeline knows about a landed file."""

    batch_id: str
    municipality_code: str
    origin: str
    original_name: str  # metadata only: never used as a path
    suffix: str
    checksum_sha256: str
    size_bytes: int
    received_at: str  # ISO 8601, UTC
    duplicate: bool = False  # True when this exact file had already landed

    def raw_path(self, root: Path | None = None) -> Path:
        return batch_dir(self.municipality_code, self.batch_id, root) / f"raw{self.suffix}"


def batch_dir(municipality_code: str, batch_id: str, root: Path | None = None) -> Path:
    return (root or landing_dir()) / municipality_code / batch_id


def safe_suffix(name: str) -> str:
    """The file type from a client's file name; only known table suffixes are accepted."""
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise ValueError(f"unsupported file type {suffix or '(none)'!r}; accepted: {', '.join(READ_SUFFIXES)}")
    return suffix


def make_batch_id(municipality_code: str, checksum: str) -> str:
    return f"{municipality_code}-{checksum[:16]}"


class LandedElsewhere(ValueError):
    """The same content has already landed for another municipality: one file holds one municipality's comments, so
    it is refused (a batch that went to the wrong municipality is withdrawn first, `synpunkt batch withdraw`).
    ``others`` are those batches' receipts; the message names them, for the operator's eyes (the API says less)."""

    def __init__(self, code: str, others: list[Receipt]):
        self.code, self.others = code, others
        listed = ", ".join(f"batch {r.batch_id} for {r.municipality_code}" for r in others)
        super().__init__(f"the same file has already been submitted for another municipality ({listed}); it "
                         f"cannot hold {code}'s comments too. If it went to the wrong municipality, withdraw it first "
                         f"(`synpunkt batch withdraw {others[0].batch_id} --reason TEXT`, a dry run until --yes), then "
                         "submit it again")


def land_bytes(data: bytes, municipality: str | int, original_name: str, origin: str,
               root: Path | None = None) -> Receipt:
    """Land file contents for a municipality; idempotent by content. Returns the receipt.

    Content already landed for another municipality raises LandedElsewhere (whichever way it came: the CLI, the
    inbox or the API), and nothing is landed."""
    code = validate_code(municipality)
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    if not data:
        raise ValueError("the file is empty")
    suffix = safe_suffix(original_name)
    checksum = hashlib.sha256(data).hexdigest()
    batch_id = make_batch_id(code, checksum)
    folder = batch_dir(code, batch_id, root)
    if (folder / RECEIPT).exists():
        existing = read_receipt(folder)
        existing.duplicate = True
        return existing
    others = [r for r in landed_with_checksum(checksum, root) if r.municipality_code != code]
    if others:
        raise LandedElsewhere(code, others)
    receipt = Receipt(batch_id, code, origin, Path(original_name.replace("\\", "/")).name[:200], suffix, checksum,
                      len(data), datetime.now(timezone.utc).isoformat(timespec="seconds"))
    private_dir(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".landing-", dir=folder.parent))
    try:
        raw = tmp / f"raw{suffix}"
        raw.write_bytes(data)
        os.chmod(raw, 0o400)  # immutable copy, owner read-only
        write_receipt(tmp, receipt)
        os.chmod(tmp, 0o700)
        os.rename(tmp, folder)  # atomic: a batch is either fully landed or not at all
    except OSError as err:
        if err.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not (folder / RECEIPT).exists():
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        # landed concurrently by another request or process: same content, same batch (renaming a folder onto a
        # non-empty one fails with ENOTEMPTY on Linux, EEXIST elsewhere)
        shutil.rmtree(tmp, ignore_errors=True)
        existing = read_receipt(folder)
        existing.duplicate = True
        return existing
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("landed batch %s (%s, %d bytes) from %s", batch_id, suffix, len(data), origin)
    return receipt


def land_file(path: Path, municipality: str | int, origin: str = "cli", root: Path | None = None) -> Receipt:
    """Land a file from disk (see land_bytes)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return land_bytes(path.read_bytes(), municipality, path.name, origin, root)


def read_receipt(folder: Path) -> Receipt:
    return Receipt(**json.loads((Path(folder) / RECEIPT).read_text(encoding="utf-8")))


def write_receipt(folder: Path, receipt: Receipt) -> Path:
    """Write `folder`/receipt.json, the one way every receipt is written: the Receipt's fields in their declared
    order, indented by 2, non-ASCII as UTF-8 (not escaped), through a temporary file renamed over it (a reader sees
    the old receipt or the new one, never half of one), mode 0600 whatever the umask. Returns its path."""
    path = Path(folder) / RECEIPT
    tmp = path.with_name(f".{RECEIPT}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(asdict(receipt), indent=2, ensure_ascii=False), encoding="utf-8")
        private_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def replace_original_name(folder: Path, name: str) -> None:
    """Rewrite a receipt's `original_name` (write_receipt: atomically, mode 0600): once the raw copy is purged, the
    receipt keeps only the redacted name the warehouse stores, so a citizen's name or personnummer in a file name
    does not outlive the retention period."""
    receipt = read_receipt(folder)
    if receipt.original_name != name:
        write_receipt(folder, replace(receipt, original_name=name))


def landed_batches(root: Path | None = None) -> list[Receipt]:
    """Every landed batch, oldest first."""
    root = root or landing_dir()
    receipts = [read_receipt(p.parent) for p in root.glob(f"*/*/{RECEIPT}")]
    return sorted(receipts, key=lambda r: (r.received_at, r.batch_id))


def landed_with_checksum(checksum: str, root: Path | None = None) -> list[Receipt]:
    """The batches, of any municipality, whose raw file has this SHA-256 (the receipt outlives the raw copy)."""
    root = root or landing_dir()
    found = [read_receipt(p.parent) for p in root.glob(f"*/{make_batch_id('*', checksum)}/{RECEIPT}")]
    return [r for r in found if r.checksum_sha256 == checksum]


@dataclass(frozen=True)
class InboxProblem:
    """An inbox file that was not landed and stays where it is. `folder` and `name` are as found and may hold
    personal data (a citizen's name in a file name): log them only through `describe` with a redactor."""

    folder: str
    name: str
    reason: str  # never quotes the folder or the file name

    def describe(self, redact) -> str:
        """The line inbox/<folder>/<name>: <reason>, with `redact` (str -> str) applied to the folder and name."""
        where = f"{redact(self.folder)}/" if self.folder else ""
        return f"inbox/{where}{redact(self.name)}: {self.reason}"


def collect_inbox(inbox: Path | None = None, root: Path | None = None, settle_seconds: float | None = None,
                  resent: list[InboxProblem] | None = None) -> tuple[list[Receipt], list[InboxProblem]]:
    """Land every complete file in inbox/<code>/, then delete it there (the landing copy is the only raw copy kept).

    Returns (receipts, problems).
    A file is complete once it has not changed for `settle_seconds` (default SYNPUNKT_INBOX_SETTLE_SECONDS) and
    did not change while it was read; one still being written is left for the next run (an info line, no name).
    Names of uploads in progress (.part, .tmp, hidden, ~$ lock files) are never collected. A file in a folder that
    is not a municipality code, of an unsupported type, empty or a symbolic link stays where it is and is reported
    as an InboxProblem, and so is a file directly in inbox/ (not in a municipality's folder): nothing is silently
    ignored. A file whose content had already landed is removed too (the same file twice is one batch); with
    `resent`, a line for each such file is appended there (its `reason` names the batch, never the file).
    """
    inbox = inbox or inbox_dir()
    settle = inbox_settle_seconds() if settle_seconds is None else settle_seconds
    receipts, problems = [], []
    for folder, path, problem in _inbox_files(inbox):
        if problem is not None:
            problems.append(problem)
            continue
        try:
            data = read_settled(path, settle)
            if data is None:
                log.info("a file in inbox/%s is still being written; left for the next run", folder.name)
                continue
            receipt = land_bytes(data, folder.name, path.name, "inbox", root)
            receipts.append(receipt)
            if receipt.duplicate and resent is not None:
                resent.append(InboxProblem(folder.name, path.name, f"the same content as batch {receipt.batch_id}, "
                                                                   "received before: removed from the inbox, nothing "
                                                                   "new to ingest"))
        except (ValueError, OSError) as err:
            problems.append(InboxProblem(folder.name, path.name, plain_reason(err, path.name, folder.name)))
            continue
        path.unlink()
    return receipts, problems


def _inbox_files(inbox: Path):
    """(folder, path, problem) for each file the inbox holds (uploads in progress skipped): the problem that keeps
    it from landing whatever its content (outside a municipality's folder, a symbolic link, a folder that is not a
    municipality code, an unsupported type), else None. Reads no file."""
    if not inbox.exists():
        return
    for path in sorted(p for p in inbox.iterdir() if not p.is_dir() and not in_progress(p.name)):
        yield inbox, path, InboxProblem("", path.name, "not in a municipality's folder (inbox/<kod>/), not collected")
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(p for p in folder.iterdir() if not in_progress(p.name)):
            if path.is_symlink():  # could point at any file the pipeline can read, another municipality's too
                yield folder, path, InboxProblem(folder.name, path.name, "a symbolic link, not collected")
            elif path.is_file():
                try:
                    validate_code(folder.name)  # checked before reading a file that could not land anyway
                    safe_suffix(path.name)
                except ValueError as err:
                    yield folder, path, InboxProblem(folder.name, path.name, plain_reason(err, path.name, folder.name))
                else:
                    yield folder, path, None


def stuck_inbox_files(inbox: Path | None = None, settle_seconds: float | None = None) -> list[InboxProblem]:
    """The inbox files the next run will report instead of landing (collect_inbox's problems, without landing
    anything): those _inbox_files finds a problem with, and settled empty files."""
    settle = inbox_settle_seconds() if settle_seconds is None else settle_seconds
    stuck = []
    for folder, path, problem in _inbox_files(inbox or inbox_dir()):
        if problem is None:
            st = os.stat(path)
            if st.st_size == 0 and _settled(st, settle):
                problem = InboxProblem(folder.name, path.name, "the file is empty")
        if problem is not None:
            stuck.append(problem)
    return stuck


def in_progress(name: str) -> bool:
    """True for names that by convention are not complete files yet (or are not data at all)."""
    return name.lower().endswith(IN_PROGRESS_SUFFIXES) or name.startswith(IN_PROGRESS_PREFIXES)


def read_settled(path: Path, settle_seconds: float, now: float | None = None) -> bytes | None:
    """The file's bytes if it has not changed for settle_seconds and did not change while read; else None.

    "Changed" uses the status-change time too: it moves with every write and rename and cannot be set back, so a
    copy that keeps an old modification time is still seen as new (and a future one does not block the file).
    """
    before = os.stat(path)
    if not _settled(before, settle_seconds, now):
        return None
    data = Path(path).read_bytes()
    after = os.stat(path)
    same = (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns,
                                                                         after.st_ctime_ns)
    return data if same and len(data) == after.st_size else None


def _settled(st: os.stat_result, settle_seconds: float, now: float | None = None) -> bool:
    """Whether a file (its stat) has not changed for settle_seconds (see read_settled)."""
    now = time.time() if now is None else now
    return now - _last_change(st, now) >= settle_seconds


def _last_change(st: os.stat_result, now: float) -> float:
    mtime = st.st_mtime if st.st_mtime <= now else 0.0  # a future mtime (a skewed clock) says nothing
    return mtime if os.name != "posix" else max(mtime, st.st_ctime)  # st_ctime: creation time on Windows


def purge_raw(receipt: Receipt, processed_at: datetime, retention_days: int, now: datetime | None = None,
              root: Path | None = None) -> bool:
    """Delete a processed batch's raw copy once the retention period has passed. True if purged."""
    now = now or datetime.now(timezone.utc)
    raw = receipt.raw_path(root)
    if not raw.exists() or now - processed_at < timedelta(days=retention_days):
        return False
    os.chmod(raw, 0o600)
    raw.unlink()
    return True

"""The folder inbox collects a file only once it is complete, and everything the pipeline creates under
SYNPUNKT_HOME gets explicit private modes, whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from pathlib import Path

import pytest

from synpunkt import config
from synpunkt.landing import (InboxProblem, Receipt, collect_inbox, in_progress, land_bytes, landed_batches,
                              read_settled, stuck_inbox_files)

HEADER = b"id,datum,kommentar\n"


def _row(i: int) -> bytes:
    return f"{i},2025-03-14,Synpunkt nummer {i} om väntetiden\n".encode()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    var = tmp_path / "var"
    monkeypatch.setenv("SYNPUNKT_HOME", str(var))
    for name in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_INBOX_SETTLE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return var


# -- collected only once complete --------------------------------------------------------------------------------
def test_a_file_being_written_is_not_collected_until_it_has_settled(home):
    inbox = home / "inbox" / "0180"
    inbox.mkdir(parents=True)
    path = inbox / "export.csv"
    rows, stop = 2000, threading.Event()

    path.write_bytes(HEADER)  # the upload has begun

    def writer() -> None:  # a slow upload: the file grows for about two seconds
        with open(path, "ab") as f:
            for i in range(rows):
                f.write(_row(i))
                if i % 100 == 99:
                    f.flush()
                    time.sleep(0.1)
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    polls = 0
    while not stop.is_set():
        receipts, problems = collect_inbox(settle_seconds=2.0)
        assert receipts == [] and problems == []
        assert path.exists()
        polls += 1
        time.sleep(0.05)
    thread.join()
    assert polls >= 10  # collect_inbox really ran while the file grew
    assert collect_inbox(settle_seconds=2.0) == ([], [])  # just finished: not settled yet
    time.sleep(2.1)
    receipts, problems = collect_inbox(settle_seconds=2.0)
    assert problems == [] and len(receipts) == 1
    raw = receipts[0].raw_path().read_bytes()
    assert raw.count(b"\n") == rows + 1 and raw == HEADER + b"".join(_row(i) for i in range(rows))
    assert not path.exists()


def test_uploads_in_progress_and_lock_files_are_never_collected(home):
    inbox = home / "inbox" / "1480"
    inbox.mkdir(parents=True)
    for name in ("export.csv.part", "export.csv.PART", "export.xlsx.tmp", "export.csv.filepart", ".export.csv",
                 "~$export.xlsx"):
        (inbox / name).write_bytes(HEADER + _row(1))
    assert collect_inbox(settle_seconds=0) == ([], [])
    assert len(list(inbox.iterdir())) == 6 and landed_batches() == []
    os.rename(inbox / "export.csv.part", inbox / "export.csv")  # the upload's last step
    receipts, problems = collect_inbox(settle_seconds=0)
    assert problems == [] and [r.original_name for r in receipts] == ["export.csv"]
    assert sorted(p.name for p in inbox.iterdir()) == sorted(["export.csv.PART", "export.xlsx.tmp",
                                                              "export.csv.filepart", ".export.csv", "~$export.xlsx"])


def test_in_progress_names():
    assert in_progress("a.csv.part") and in_progress("a.tmp") and in_progress(".a.csv") and in_progress("~$a.xlsx")
    assert not in_progress("a.csv") and not in_progress("part.csv") and not in_progress("a~$.csv")


def test_a_copy_keeping_an_old_mtime_still_waits_to_settle(tmp_path):
    """copy2 keeps the source's (old) mtime; the status-change time says the file just arrived."""
    source = tmp_path / "old.csv"
    source.write_bytes(HEADER + _row(1))
    past = time.time() - 3600
    os.utime(source, (past, past))
    copy = tmp_path / "copy.csv"
    shutil.copy2(source, copy)
    assert copy.stat().st_mtime == pytest.approx(past)
    assert read_settled(copy, settle_seconds=5) is None
    assert read_settled(copy, settle_seconds=5, now=time.time() + 6) == HEADER + _row(1)


def test_a_future_mtime_does_not_hold_a_file_back(tmp_path):
    path = tmp_path / "skewed.csv"
    path.write_bytes(HEADER + _row(1))
    future = time.time() + 86400
    os.utime(path, (future, future))
    assert read_settled(path, settle_seconds=1, now=time.time() + 2) == HEADER + _row(1)


def test_a_symbolic_link_in_the_inbox_is_reported_not_followed(home, tmp_path):
    inbox = home / "inbox" / "0180"
    inbox.mkdir(parents=True)
    secret = tmp_path / "elsewhere.csv"
    secret.write_bytes(HEADER + _row(1))
    (inbox / "link.csv").symlink_to(secret)
    receipts, problems = collect_inbox(settle_seconds=0)
    assert receipts == [] and problems == [InboxProblem("0180", "link.csv", "a symbolic link, not collected")]
    assert (inbox / "link.csv").is_symlink() and secret.exists()


def test_a_file_landed_for_another_municipality_stays_in_the_inbox_and_is_reported(home):
    """One file, two municipalities' folders: the first lands; the second stays where it is, reported with the
    batch it duplicates and the command that withdraws it, and lands once that batch is withdrawn."""
    from synpunkt.landing import LandedElsewhere

    data = HEADER + _row(1) + _row(2)
    first = land_bytes(data, "0180", "svar.csv", "cli")
    with pytest.raises(LandedElsewhere, match=f"batch {first.batch_id} for 0180"):
        land_bytes(data, "1480", "svar.csv", "api")
    inbox = home / "inbox" / "1480"
    inbox.mkdir(parents=True)
    (inbox / "svar.csv").write_bytes(data)
    receipts, problems = collect_inbox(settle_seconds=0)
    assert receipts == [] and len(problems) == 1 and (inbox / "svar.csv").exists()
    assert "another municipality" in problems[0].reason
    assert f"synpunkt batch withdraw {first.batch_id}" in problems[0].reason
    assert [r.municipality_code for r in landed_batches()] == ["0180"]
    shutil.rmtree(config.landing_dir() / "0180" / first.batch_id)  # as a withdrawal moves it away
    receipts, problems = collect_inbox(settle_seconds=0)
    assert [r.municipality_code for r in receipts] == ["1480"] and problems == []


def test_files_that_cannot_land_are_reported_with_their_names_redacted_and_stay(home):
    """An empty file whose name holds a citizen's name and a personnummer, an unsupported type, a file outside any
    municipality's folder: each stays and is reported; the reason never quotes the name, and the line the run logs
    has it redacted (the default redactor, as for landed batches' names)."""
    from synpunkt.ingest_compute import describe_inbox_problems

    inbox = home / "inbox"
    (inbox / "0180").mkdir(parents=True)
    (inbox / "0180" / "Karin Lundqvist 19850312-2398.csv").write_bytes(b"")
    (inbox / "0180" / "klagomal_Karin_Lundqvist_070-1740605.dat").write_bytes(HEADER + _row(1))
    (inbox / "export.csv").write_bytes(HEADER + _row(1))
    stuck = stuck_inbox_files(settle_seconds=0)  # what `synpunkt status` counts, landing nothing
    receipts, problems = collect_inbox(settle_seconds=0)
    assert receipts == [] and len(problems) == 3
    assert sorted((p.folder, p.name) for p in stuck) == sorted((p.folder, p.name) for p in problems)
    assert all("Karin" not in p.reason and "2398" not in p.reason and "1740605" not in p.reason for p in problems)
    assert [p.folder for p in problems] == ["", "0180", "0180"]
    lines = describe_inbox_problems(problems)
    assert lines[0].startswith("inbox/export.csv: not in a municipality's folder")
    assert all("Karin" not in line and "Lundqvist" not in line and "2398" not in line and "1740605" not in line
               for line in lines), "a file name's personal data reached the log line"
    assert any("unsupported file type '.dat'" in line for line in lines)
    assert len(list((inbox / "0180").iterdir())) == 2 and (inbox / "export.csv").exists(), "nothing is removed"


def test_settle_time_setting(monkeypatch):
    monkeypatch.delenv("SYNPUNKT_INBOX_SETTLE_SECONDS", raising=False)
    assert config.inbox_settle_seconds() == 10
    monkeypatch.setenv("SYNPUNKT_INBOX_SETTLE_SECONDS", "0")
    assert config.inbox_settle_seconds() == 0


# -- explicit modes, whatever the umask ----------------------------------------------------------------------
@pytest.fixture
def open_umask():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_landing_warehouse_and_published_copy_get_explicit_modes_under_umask_0(home, open_umask):
    from synpunkt.publish import publish
    from synpunkt.warehouse import connect, pipeline_lock

    with pipeline_lock():  # the first thing a run does: it creates SYNPUNKT_HOME
        pass
    receipt = land_bytes(HEADER + _row(1), "0180", "export.csv", "cli")
    batch = receipt.raw_path().parent
    assert _mode(home) == 0o750  # group may reach the published copy and the reports, nothing else
    for folder in (home / "landing", home / "landing" / "0180", batch):
        assert _mode(folder) == 0o700, folder
    assert _mode(receipt.raw_path()) == 0o400 and _mode(batch / "receipt.json") == 0o600

    con = connect()
    try:
        published = publish(con)
    finally:
        con.close()
    assert _mode(home / "warehouse") == 0o700
    assert _mode(published.parent) == 0o750 and _mode(published) == 0o640


def test_dir_helpers_set_modes_on_what_they_create_only(home, tmp_path, open_umask):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    config.private_dir(shared / "a" / "b")
    assert _mode(shared) == 0o777  # existing folders (like /tmp) keep their mode
    assert _mode(shared / "a") == 0o700 and _mode(shared / "a" / "b") == 0o700
    config.shared_dir(home / "reports" / "2025")
    assert _mode(home) == 0o750 and _mode(home / "reports") == 0o750 and _mode(home / "reports" / "2025") == 0o750
    f = home / "x.txt"
    f.write_text("x")
    assert _mode(f) == 0o666  # what the open umask gives ...
    assert _mode(config.private_file(f)) == 0o600  # ... and what the helper sets
    assert _mode(config.shared_file(f)) == 0o640


def test_a_purged_batch_keeps_only_the_redacted_file_name(home):
    """The receipt outlives the raw copy; once that is purged it holds the warehouse's redacted file name only."""
    import json

    from synpunkt.landing import batch_dir, land_bytes, read_receipt, replace_original_name

    receipt = land_bytes(b"kommentar;datum\nBra;2025-03-01\n", "0180", "19850412-1234 Anna Berg.csv", "cli")
    folder = batch_dir(receipt.municipality_code, receipt.batch_id)
    replace_original_name(folder, "[PERSONNUMMER] [NAMN].csv")
    kept = read_receipt(folder)
    assert kept.original_name == "[PERSONNUMMER] [NAMN].csv" and kept.checksum_sha256 == receipt.checksum_sha256
    assert "19850412" not in json.dumps(json.loads((folder / "receipt.json").read_text()))
    assert _mode(folder / "receipt.json") == 0o600


def test_landing_and_renaming_write_the_receipt_one_way(home, monkeypatch):
    """land_bytes and replace_original_name both write through write_receipt: the same bytes but for the name
    (fields in Receipt's order, indent 2, UTF-8 not escaped), mode 0600, no temporary file left, and a failed
    rewrite leaves the receipt as it was."""
    import json
    from dataclasses import asdict, fields

    from synpunkt import landing

    written = []
    real = landing.write_receipt
    monkeypatch.setattr(landing, "write_receipt", lambda folder, r: written.append(r.original_name) or real(folder, r))
    receipt = land_bytes(HEADER + _row(1), "0180", "Åsa Öberg.csv", "cli")
    folder = landing.batch_dir(receipt.municipality_code, receipt.batch_id)
    landed = (folder / "receipt.json").read_bytes()
    assert landed == json.dumps(asdict(receipt), indent=2, ensure_ascii=False).encode("utf-8")
    assert "Åsa Öberg".encode("utf-8") in landed and list(json.loads(landed)) == [f.name for f in fields(Receipt)]
    landing.replace_original_name(folder, "[NAMN].csv")
    landing.replace_original_name(folder, "[NAMN].csv")  # already so: not written again
    assert written == ["Åsa Öberg.csv", "[NAMN].csv"]
    assert (folder / "receipt.json").read_bytes() == landed.replace("Åsa Öberg".encode("utf-8"), b"[NAMN]")
    assert _mode(folder / "receipt.json") == 0o600 and sorted(p.name for p in folder.iterdir()) == ["raw.csv",
                                                                                                  "receipt.json"]

    def refused(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(landing, "private_file", refused)
    with pytest.raises(PermissionError):
        landing.replace_original_name(folder, "(removed)")
    assert landing.read_receipt(folder).original_name == "[NAMN].csv"
    assert sorted(p.name for p in folder.iterdir()) == ["raw.csv", "receipt.json"]

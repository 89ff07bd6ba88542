"""One helper puts errors in plain words (synpunkt.os_errors.plain_reason) for the review export, the exports and the
inbox's problems: an OSError's description without its path, another error's message without the names given."""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest

from synpunkt import export, landing, review
from synpunkt.os_errors import plain_reason


def test_one_helper_serves_review_export_and_landing():
    for module in (export, review, landing):
        assert module.plain_reason is plain_reason and not hasattr(module, "_reason"), module.__name__


def test_an_os_error_is_its_description_never_its_path():
    err = PermissionError(errno.EACCES, "Permission denied", "/srv/inbox/0180/Anna Berg 850412-1234.csv")
    assert plain_reason(err) == "Permission denied"
    assert plain_reason(err, "Anna Berg 850412-1234.csv") == "Permission denied"
    assert plain_reason(OSError()) == "OSError" and plain_reason(FileNotFoundError()) == "FileNotFoundError"


def test_another_error_keeps_its_message_without_the_names():
    err = ValueError("unsupported file type '.exe' in Anna Berg.exe (folder 01x0)")
    assert plain_reason(err, "Anna Berg.exe", "01x0", "") == "unsupported file type '.exe' in … (folder …)"
    assert plain_reason(err) == str(err)


def test_callers_keep_their_messages(tmp_path: Path):
    def refused(path: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    with pytest.raises(export.ExportError, match=r"^.*x\.csv: cannot write the file \(Permission denied\)$"):
        export._atomic(tmp_path / "x.csv", refused)
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(export.ExportError, match=r"cannot make the folder \(File exists\)$"):
        export.write_kolada(pd.DataFrame({"a": [1]}), tmp_path / "a file" / "x.csv")
    inbox = tmp_path / "inbox"
    (inbox / "0180").mkdir(parents=True)
    (inbox / "0180" / "Anna Berg.exe").write_bytes(b"x")
    _, problems = landing.collect_inbox(inbox, tmp_path / "landing", settle_seconds=0)
    assert [p.reason for p in problems] == ["unsupported file type '.exe'; accepted: "
                                            + ", ".join(landing.READ_SUFFIXES)]

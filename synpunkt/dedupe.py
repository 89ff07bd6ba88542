"""Comment ids and the duplicate policy: pure functions, no I/O (the key comes from synpunkt.keys).

Duplicate policy (also in the README, section "Duplicates"). A duplicate is never dropped silently: it is kept in
``quarantine`` with its reason and its redacted content; a comment that differs in anything, personal data
included, is a distinct comment and is stored.

1. **Re-sent file**: the same bytes have the same SHA-256, hence the same batch id; landing it again is a no-op.
2. **Re-sent row with a case id**: the same municipality, case id (``external_id``), contact date and comment text
   (the raw text, before redaction, with whitespace runs collapsed) as a row already stored is quarantined as
   ``duplicate_stored``; as an earlier row of the same file, as ``duplicate_in_batch``. The reason names the row
   (and batch) it duplicates. Case ids are scoped by date and text: the same id with another date (numbering that
   restarts each year) or another text is new data and is stored.
3. **Rows without a case id**: identical text on the same date from different people is normal ("Bra service."),
   so within one file every such row is kept. Across files, the k-th occurrence of a (date, text) in a file
   matches the k-th occurrence stored from earlier files of the same municipality and is quarantined as
   ``possible_duplicate``, naming the stored row ("same date and text as row 12 of batch 0180-..., stored
   earlier"); occurrences beyond those stored are new comments.

Comment ids are ``HMAC-SHA256(key, municipality, case id or none, date, normalised raw text, occurrence)`` with a
per-installation secret key, so two comments that become equal after redaction keep distinct ids, and an id can
not be used to test guesses of the personal data it was computed from. The occurrence counting spans a whole
batch: ``DedupeState`` carries it from chunk to chunk (and is rebuilt cheaply from the raw rows when an
interrupted batch resumes).
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

CASE_ID = "case_id"
CONTENT = "content"
ID_HEX_CHARS = 32  # 128 bits
_GROUP_BYTES = 16  # per-batch state keys: 128-bit digests


def normalise_text(text: str) -> str:
    """The text as compared for duplicates: Unicode NFC with whitespace runs collapsed (case and punctuation kept)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _digest(key: bytes, *parts: str) -> bytes:
    """HMAC-SHA256 of length-prefixed parts (no separator ambiguity), truncated to 128 bits."""
    message = "".join(f"{len(p)}:{p}" for p in parts).encode("utf-8")
    return hmac.digest(key, message, "sha256")[:_GROUP_BYTES]


def group_key(key: bytes, municipality_code: str, external_id: str | None, contact_date: date, text: str) -> bytes:
    """What makes two rows the same comment: (municipality, case id, date, text), or (municipality, date, text)."""
    if external_id:
        return _digest(key, CASE_ID, municipality_code, external_id, contact_date.isoformat(), normalise_text(text))
    return _digest(key, CONTENT, municipality_code, contact_date.isoformat(), normalise_text(text))


def comment_id(key: bytes, group: bytes, occurrence: int = 1) -> str:
    """The stored id of the occurrence-th row of a group (always 1 for rows with a case id)."""
    return hmac.digest(key, group + b"#" + str(occurrence).encode(), "sha256").hex()[:ID_HEX_CHARS]


@dataclass
class DedupeState:
    """One batch's memory across its chunks: the first row of each case-id group, occurrences of each
    (date, text) group without a case id. About 100 bytes per distinct group."""

    first_row: dict[bytes, int] = field(default_factory=dict)
    occurrences: dict[bytes, int] = field(default_factory=dict)

    def assign(self, rows: pd.DataFrame, municipality_code: str, key: bytes) -> pd.DataFrame:
        """Ids for accepted rows (in file order; columns row_number, external_id, contact_date, text with the
        raw text). Returns row_number, comment_id, kind (case_id | content) and in_batch_of (the earlier row
        of this batch with the same case id, date and text, else <NA>)."""
        ids, kinds, earlier = [], [], []
        for number, external_id, when, text in zip(rows["row_number"], rows["external_id"], rows["contact_date"],
                                                   rows["text"]):
            external_id = external_id if isinstance(external_id, str) and external_id else None
            group = group_key(key, municipality_code, external_id, when, text)
            if external_id:
                first = self.first_row.setdefault(group, int(number))
                ids.append(comment_id(key, group))
                kinds.append(CASE_ID)
                earlier.append(first if first != number else None)
            else:
                k = self.occurrences.get(group, 0) + 1
                self.occurrences[group] = k
                ids.append(comment_id(key, group, k))
                kinds.append(CONTENT)
                earlier.append(None)
        # explicit dtypes: an empty chunk (every row rejected) must merge with the stored ids like any other
        return pd.DataFrame({"row_number": pd.array(rows["row_number"], dtype="Int64"),
                             "comment_id": pd.Series(ids, dtype=object), "kind": pd.Series(kinds, dtype=object),
                             "in_batch_of": pd.array(earlier, dtype="Int64")})


def duplicates(assigned: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """The quarantine rows for duplicates among `assigned` (see DedupeState.assign).

    `stored` holds comment_id, batch_id, row_number of already stored comments with any of the ids. Returns
    row_number, reason_code, reason, one row per duplicate; reasons name rows and batches, never values.
    """
    stored = stored.rename(columns={"batch_id": "stored_batch", "row_number": "stored_row"})
    # the keys as plain objects on both sides: an empty side may come typed float64 or str (pandas, DuckDB)
    df = assigned.astype({"comment_id": object}).merge(stored.astype({"comment_id": object}), on="comment_id",
                                                       how="left")
    in_batch = df["in_batch_of"].notna()
    in_store = ~in_batch & df["stored_batch"].notna()
    out = []
    for row in df[in_batch].itertuples():
        out.append((row.row_number, "duplicate_in_batch",
                    f"row {row.row_number}: the same case id, date and text as row {row.in_batch_of} of this batch"))
    for row in df[in_store].itertuples():
        where = f"row {int(row.stored_row)} of batch {row.stored_batch}, stored earlier"
        if row.kind == CASE_ID:
            out.append((row.row_number, "duplicate_stored",
                        f"row {row.row_number}: the same case id, date and text as {where}"))
        else:
            out.append((row.row_number, "possible_duplicate",
                        f"row {row.row_number}: same date and text as {where} (no case id tells them apart)"))
    result = pd.DataFrame(out, columns=["row_number", "reason_code", "reason"])
    return result.astype({"row_number": "int64"}).sort_values("row_number", ignore_index=True)

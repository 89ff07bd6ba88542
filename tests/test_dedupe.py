"""The duplicate policy's pure functions: keyed ids from raw text, scoped case ids, occurrence counting."""

from __future__ import annotations

from datetime import date

import pandas as pd

from synpunkt.dedupe import CASE_ID, CONTENT, DedupeState, comment_id, duplicates, group_key, normalise_text

KEY = b"k" * 32
D1, D2 = date(2025, 3, 14), date(2025, 3, 15)


def accepted(rows: list[tuple]) -> pd.DataFrame:
    """rows of (row_number, external_id, contact_date, text)."""
    return pd.DataFrame(rows, columns=["row_number", "external_id", "contact_date", "text"])


def no_stored() -> pd.DataFrame:
    return pd.DataFrame({"comment_id": [], "batch_id": [], "row_number": []})


def test_ids_come_from_the_raw_text_and_depend_on_the_key():
    anna = group_key(KEY, "0180", None, D1, "Jag pratade med Anna Berg. Bra hjälp!")
    karin = group_key(KEY, "0180", None, D1, "Jag pratade med Karin Lund. Bra hjälp!")
    assert anna != karin  # equal after redaction, distinct comments
    assert comment_id(KEY, anna) != comment_id(b"x" * 32, group_key(b"x" * 32, "0180", None, D1,
                                                                     "Jag pratade med Anna Berg. Bra hjälp!"))
    assert len(comment_id(KEY, anna)) == 32 and int(comment_id(KEY, anna), 16) >= 0
    # whitespace and Unicode composition do not make a new comment; case and punctuation do
    assert group_key(KEY, "0180", None, D1, "Bra  service.\n") == group_key(KEY, "0180", None, D1, "Bra service.")
    assert normalise_text("A\u0308ntligen") == normalise_text("Äntligen")
    assert group_key(KEY, "0180", None, D1, "bra service.") != group_key(KEY, "0180", None, D1, "Bra service.")
    # scoped by municipality, case id and date
    assert group_key(KEY, "1480", None, D1, "Bra service.") != group_key(KEY, "0180", None, D1, "Bra service.")
    assert group_key(KEY, "0180", "7", D1, "Bra") != group_key(KEY, "0180", "7", D2, "Bra")
    assert group_key(KEY, "0180", "7", D1, "Bra") != group_key(KEY, "0180", None, D1, "Bra")


def test_identical_comments_without_ids_in_one_file_are_all_kept_across_chunks():
    state = DedupeState()
    first = state.assign(accepted([(1, None, D1, "Bra service."), (2, None, D1, "Bra service.")]), "0180", KEY)
    second = state.assign(accepted([(3, None, D1, "Bra service."), (4, None, D2, "Bra service.")]), "0180", KEY)
    ids = [*first["comment_id"], *second["comment_id"]]
    assert len(set(ids)) == 4
    assert set(first["kind"]) == {CONTENT} and first["in_batch_of"].isna().all()
    assert duplicates(pd.concat([first, second]), no_stored()).empty


def test_kth_occurrence_matches_the_kth_stored_occurrence_as_a_possible_duplicate():
    earlier = DedupeState().assign(accepted([(11, None, D1, "Bra service."), (12, None, D1, "Bra service.")]),
                                   "0180", KEY)
    stored = pd.DataFrame({"comment_id": earlier["comment_id"], "batch_id": "0180-aaaa", "row_number": [11, 12]})
    later = DedupeState().assign(accepted([(1, None, D1, "Bra service."), (2, None, D1, "Bra service."),
                                           (3, None, D1, "Bra service.")]), "0180", KEY)
    found = duplicates(later, stored[stored["comment_id"].isin(later["comment_id"])])
    assert found["row_number"].tolist() == [1, 2]  # the third occurrence is new
    assert set(found["reason_code"]) == {"possible_duplicate"}
    assert "row 12 of batch 0180-aaaa, stored earlier" in found["reason"].iloc[1]


def test_case_ids_are_duplicates_only_with_the_same_date_and_text():
    state = DedupeState()
    rows = accepted([(1, "1", D1, "Lång kö"), (2, "2", D1, "Bra"), (3, "1", D1, "Lång  kö"),
                     (4, "1", D2, "Lång kö"), (5, "2", D1, "Annan text")])
    assigned = state.assign(rows, "0180", KEY)
    assert set(assigned["kind"]) == {CASE_ID}
    found = duplicates(assigned, no_stored())
    assert found.to_dict("records") == [{"row_number": 3, "reason_code": "duplicate_in_batch",
                                         "reason": "row 3: the same case id, date and text as row 1 of this batch"}]
    # a later file re-sending row 1 and a new year's restarted id 1
    stored = pd.DataFrame({"comment_id": assigned["comment_id"][:1], "batch_id": "0180-bbbb", "row_number": [1]})
    again = DedupeState().assign(accepted([(1, "1", D1, "Lång kö"), (2, "1", date(2026, 1, 2), "Lång kö")]),
                                 "0180", KEY)
    found = duplicates(again, stored)
    assert found["row_number"].tolist() == [1] and found["reason_code"].tolist() == ["duplicate_stored"]
    assert found["reason"].iloc[0].endswith("as row 1 of batch 0180-bbbb, stored earlier")


def test_replaying_committed_rows_rebuilds_the_same_state():
    rows = accepted([(n, None, D1, "Bra service.") for n in range(1, 6)])
    whole = DedupeState()
    whole_ids = whole.assign(rows, "0180", KEY)["comment_id"].tolist()
    resumed = DedupeState()
    resumed.assign(rows[:3], "0180", KEY)  # replayed after an interruption
    assert resumed.assign(rows[3:], "0180", KEY)["comment_id"].tolist() == whole_ids[3:]

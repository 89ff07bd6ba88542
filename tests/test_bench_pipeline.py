"""The end-to-end benchmark's generator (benchmarks/synthetic_comments.py): distinct, valid rows that the readers
and the validator accept, personal data in some of them, real municipality codes, several years and formats.
The benchmark itself (benchmarks/bench_pipeline.py) is run by hand; no timing is asserted here."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from synthetic_comments import (generate_submissions, municipality_count, texts, write_inbox,  # noqa: E402
                                write_submission)

from synpunkt.municipalities import load_municipalities  # noqa: E402
from synpunkt.redaction import Redactor  # noqa: E402
from synpunkt.tables import read_table  # noqa: E402
from synpunkt.validate import validate_rows  # noqa: E402

N = 600


@pytest.fixture(scope="module")
def subs():
    return generate_submissions(N, seed=5, municipalities=12)


def test_counts_municipalities_years_and_formats(subs):
    assert sum(len(s.frame) for s in subs) == N
    codes = {s.municipality for s in subs}
    assert len(codes) == 12 and codes <= set(load_municipalities()["code"])
    assert len({s.year for s in subs}) == 3
    assert {s.layout.suffix for s in subs} == {".csv", ".xlsx", ".jsonl"}
    assert len({s.name for s in subs}) == len(subs)


def test_batch_sizes_do_not_change_with_n():
    """Without a fixed number, municipalities follow from N so that files stay near 250 rows."""
    assert [municipality_count(n) for n in (1_000, 5_000, 50_000, 3_000_000)] == [2, 7, 67, 290]
    small = generate_submissions(1_500, seed=1)
    assert len(small) == 6 and sum(len(s.frame) for s in small) == 1_500


def test_texts_are_mostly_distinct_and_varied(subs):
    all_texts = texts(subs)
    assert len(set(all_texts)) >= 0.95 * N
    lengths = sorted(map(len, all_texts))
    assert lengths[N // 10] < 80 and lengths[-N // 10] > 200  # short and long comments


def test_personal_data_in_some_texts(subs):
    all_texts = texts(subs)
    found = Redactor(use_model=False).find_spans_many(all_texts)
    kinds = {span.kind for spans in found for span in spans}
    assert {"personnummer", "telefon", "e-post"} <= kinds
    with_data = sum(bool(spans) for spans in found)
    assert 0.1 * N < with_data < 0.6 * N
    assert any(re.search(r"\b[A-ZÅÄÖ][a-zåäö]+ [A-ZÅÄÖ][a-zåäö]+\b", t) for t in all_texts)  # written names


def test_every_row_is_read_and_accepted(subs, tmp_path):
    for sub in subs:
        table = read_table(write_submission(sub, tmp_path / sub.name))
        checked = validate_rows(table, sub.municipality)
        assert len(checked.accepted) == len(sub.frame) and checked.rejected.empty, sub.name
        assert checked.accepted["contact_date"].map(lambda d: d.year).eq(sub.year).all(), sub.name
        assert checked.accepted["channel"].notna().all(), sub.name


def test_inbox_layout_and_determinism(subs, tmp_path):
    paths = write_inbox(subs[:3], tmp_path / "inbox")
    assert [p.parent.name for p in paths] == [s.municipality for s in subs[:3]]
    again = generate_submissions(N, seed=5, municipalities=12)
    assert texts(again) == texts(subs)
    assert texts(generate_submissions(50, seed=6)) != texts(generate_submissions(50, seed=5))

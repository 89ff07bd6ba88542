"""The blind confirmatory validation set (data/comments_blind): schema, labels, and that no training code reads it."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from synpunkt import data as data_module
from synpunkt import train as train_module
from synpunkt.config import BLIND_CAPABILITIES, BLIND_DATA, IN_DOMAIN_DATA
from synpunkt.data import load_in_domain
from synpunkt.labels import SENTIMENTS, TOPICS

FIELDS = ["id", "text", "sentiment", "topics", "topic_sentiment", "service", "register", "split", "form", "writer"]
REGISTERS = {"formal", "colloquial", "misspelled", "dialect", "english"}
BLIND_REFERENCE = re.compile(r"comments_blind|validation_blind")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = BLIND_DATA.read_text(encoding="utf-8").splitlines()
    out = []
    for number, line in enumerate(lines, start=1):
        assert line.strip(), f"empty line {number}"
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            pytest.fail(f"line {number} is not valid JSON: {exc.msg}")
    return out


def test_at_least_300_rows_with_the_schema(rows):
    assert len(rows) >= 300
    for number, row in enumerate(rows, start=1):
        assert list(row) == FIELDS, f"line {number}: fields {list(row)}"
        assert isinstance(row["text"], str) and row["text"].strip(), f"line {number}: empty text"
        assert row["register"] in REGISTERS, f"line {number}: register"
        assert row["service"] and row["form"] and row["writer"], f"line {number}: empty service/form/writer"


def test_labels_are_from_the_allowed_sets(rows):
    for number, row in enumerate(rows, start=1):
        assert row["sentiment"] in SENTIMENTS, f"line {number}: sentiment"
        assert row["topics"], f"line {number}: no topic"
        assert set(row["topics"]) <= set(TOPICS), f"line {number}: unknown topic"
        assert len(set(row["topics"])) == len(row["topics"]), f"line {number}: repeated topic"
        assert set(row["topic_sentiment"]) == set(row["topics"]), f"line {number}: topic_sentiment keys != topics"
        assert set(row["topic_sentiment"].values()) <= set(SENTIMENTS), f"line {number}: topic sentiment"


def test_ids_unique_and_split_is_validation_blind(rows):
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"blind\d{4}", i) for i in ids)
    assert {row["split"] for row in rows} == {"validation_blind"}


def test_every_topic_and_sentiment_is_represented(rows):
    for sentiment in SENTIMENTS:
        assert sum(row["sentiment"] == sentiment for row in rows) >= 30, sentiment
    for topic in TOPICS:
        assert sum(row["topic_sentiment"].get(topic) == "positive" for row in rows) >= 40, topic


def test_no_text_repeats_a_labelled_in_domain_text(rows):
    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    blind = {norm(row["text"]) for row in rows}
    assert len(blind) == len(rows), "duplicate texts inside the blind set"
    in_domain = {norm(json.loads(line)["text"])
                 for line in IN_DOMAIN_DATA.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not blind & in_domain, f"{len(blind & in_domain)} blind text(s) also in {IN_DOMAIN_DATA.name}"


def test_the_in_domain_loader_reads_it_without_touching_the_default_path(rows):
    df = load_in_domain(BLIND_DATA)
    assert len(df) == len(rows)
    assert Path(IN_DOMAIN_DATA).resolve() != BLIND_DATA.resolve()


def test_no_training_code_reads_the_blind_set():
    for module in (train_module, data_module):
        source = Path(inspect.getsourcefile(module)).read_text(encoding="utf-8")
        assert not BLIND_REFERENCE.search(source), f"{module.__name__} references the blind set"
    for loader in (data_module.load_in_domain, data_module.training_frame, data_module.merge_parts,
                   train_module.training_rows, train_module.run_training):
        assert not BLIND_REFERENCE.search(inspect.getsource(loader)), loader.__name__
    assert "comments_blind" not in str(IN_DOMAIN_DATA)


COPIED_TO_TRAINING = {"validation_blind_cap", *(f"validation_blind_cap{i}" for i in range(2, 14))}
"""Spent batches whose rows were copied into comments.jsonl as train rows (data/comments/LABELLING.md, 2026-12-01):
irony, negation and behaviour rows of cap-cap5 as m0001-m0977, ordinary rows of cap-cap9 as o0001-o1934, the other
rows of cap6-cap10 as p0001-p0850, every row of cap11-cap13 as q0002-q1219. Every later batch stays out."""


def test_capability_batches_follow_the_schema_and_stay_out_of_the_training_data():
    lines = BLIND_CAPABILITIES.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    # batch 1 is `validation_blind_cap` with ids cap0001...; batch i >= 2 is `validation_blind_cap{i}` with ids
    # cap + the i-th letter (cap2: capb..., cap15: capo...)
    splits = {"validation_blind_cap": r"cap\d{4}",
              **{f"validation_blind_cap{i}": rf"cap{chr(ord('a') + i - 1)}\d{{4}}" for i in range(2, 16)}}
    assert {r["split"] for r in rows} == set(splits) and len({r["id"] for r in rows}) == len(rows) >= 600
    for number, row in enumerate(rows, start=1):
        assert list(row) == FIELDS + ["capability"], f"line {number}: fields"
        assert re.fullmatch(splits[row["split"]], row["id"]), f"line {number}: id"
        assert row["capability"] in {"irony", "negation", "behaviour", "ordinary"}, f"line {number}: capability"
        assert row["sentiment"] in SENTIMENTS and row["topics"], f"line {number}: labels"
        assert set(row["topic_sentiment"]) == set(row["topics"]) <= set(TOPICS), f"line {number}: topics"
        assert set(row["topic_sentiment"].values()) <= set(SENTIMENTS), f"line {number}: topic sentiment"
    in_domain = load_in_domain()
    split_of = dict(zip(in_domain["text"].str.strip().str.lower(), in_domain["split"]))
    copied = [r for r in rows if r["text"].strip().lower() in split_of]
    assert all(r["split"] in COPIED_TO_TRAINING for r in copied), "a fresh batch's row is also in comments.jsonl"
    assert {split_of[r["text"].strip().lower()] for r in copied} <= {"train"}, "copied rows outside the train split"

"""Classifier._encode gives the tokenizer's own padded batches (the fast normalisation changes nothing it feeds
the network), so the classify stage's predictions stay those of the tokenizer."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from synpunkt.classifier import Classifier
from synpunkt.word_pieces import pad as pad_right

TEXTS = [
    "Handläggaren var trevlig och hjälpsam",
    "JAG VÄNTADE EN TIMME I TELEFONKÖN!!!",
    "ÅÄÖ åäö ﬁ ½ ① Ｗｉｄｅ text",
    "emoji 😀👍🏽 \t tabb\nny rad\r\nslut",
    "hej <mask> </s> <s> <pad> <unk>",
    "\u200b\u00a0hårt mellanslag, e\u0301 kombinerat",
    "x",
    "ord " * 400,  # past max_length: truncated like the tokenizer does
    "Bygglovet  tog   tre     månader",
]


def tokenizer_batch(clf: Classifier, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    enc = clf.tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
    return enc["input_ids"], enc["attention_mask"]


def assert_same_batches(clf: Classifier, texts: list[str], max_length: int) -> None:
    for start in range(0, len(texts), 4):
        batch = texts[start : start + 4]
        ids, mask = clf._encode(batch, max_length)
        want_ids, want_mask = tokenizer_batch(clf, batch, max_length)
        assert ids.dtype == want_ids.dtype and mask.dtype == want_mask.dtype
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(mask, want_mask)


def test_pad_right_pads_to_the_longest_with_a_mask():
    ids, mask = pad_right([[5, 6, 7], [8], [9, 10]], pad_id=1)
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 1, 1], [9, 10, 1]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    assert ids.dtype == np.int64 and mask.dtype == np.int64


@pytest.fixture(scope="module")
def shipped(shipped_model_dir) -> Classifier:
    return Classifier.load(shipped_model_dir, backend="torch")


def test_shipped_tokenizer_batches_are_the_tokenizers(shipped):
    texts = [shipped.settings.text_prefix + t for t in TEXTS]
    limit = min(shipped.settings.max_length, shipped.tokenizer.model_max_length)
    assert_same_batches(shipped, texts, limit)
    assert shipped._fast and shipped._fast.fast  # the translation-table path was the one compared


def test_tokenizer_without_a_translatable_normaliser_is_used_as_it_is(trained):
    clf = Classifier.load(trained[0], backend="torch")
    assert_same_batches(clf, TEXTS, 64)
    assert clf._fast is False  # the tiny tokenizer has no normaliser: nothing to gain, the tokenizer's own path


def test_left_padding_tokenizer_is_used_as_it_is(shipped):
    texts = [shipped.settings.text_prefix + t for t in TEXTS]
    shipped.tokenizer.padding_side, shipped._fast = "left", None
    try:
        assert_same_batches(shipped, texts, 128)
        assert shipped._fast is False
    finally:
        shipped.tokenizer.padding_side, shipped._fast = "right", None


def test_fast_tokenizer_fallback_ignores_an_earlier_padded_call(shipped):
    """Without a translatable normaliser FastTokenizer asks the backend itself; a padded, truncating call made
    before must not leave its padding or truncation on those ids."""
    from synpunkt.fast_tokenize import FastTokenizer

    fast = FastTokenizer(shipped.tokenizer)
    fast.table = None  # the fallback path
    shipped.tokenizer(["a b c d e f g", "x"], padding=True, truncation=True, max_length=4)
    texts = ["Handläggaren var trevlig och hjälpsam", "x"]
    assert fast.encode(texts, 512) == shipped.tokenizer(texts, truncation=True, max_length=512)["input_ids"]


def test_worker_processes_prepare_the_same_inputs_as_this_process(shipped):
    """The batches that DataLoader workers prepare (token ids and the lexicon's scores) give the very predictions of
    batches prepared in this process, in input order, with the shipped model and its topic lexicon."""
    from synpunkt.classifier_inputs import usable_workers

    texts = [f"{t} ({i})" for i in range(12) for t in TEXTS] + ["", "  "]
    assert usable_workers(2, n_batches=len(texts) // 8) == 2  # enough batches: both workers start
    shipped.prep_workers = 0
    in_process = shipped.predict(texts, batch_size=8, topic_sentiment=True)
    shipped.prep_workers = 2
    try:
        by_workers = shipped.predict(texts, batch_size=8, topic_sentiment=True)
        truncated = shipped.last_truncated
    finally:
        shipped.prep_workers = None
    assert shipped.lexicon is not None and truncated == 12  # the 400-word text, once per copy
    numeric = [c for c in in_process.columns if c.startswith("p_")]
    np.testing.assert_array_equal(by_workers[numeric].to_numpy(float), in_process[numeric].to_numpy(float))
    for column in ("sentiment", "topics", "topic_sentiment", "topic_sentiment_p"):
        assert by_workers[column].tolist() == in_process[column].tolist()


def test_workers_start_only_where_they_pay(monkeypatch):
    from synpunkt import config
    from synpunkt.classifier_inputs import usable_workers

    assert usable_workers(0, 100) == 0 and usable_workers(8, 3) == 1 and usable_workers(8, 1) == 0
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)  # as in a Dask worker
    assert usable_workers(8, 100) == 0
    monkeypatch.undo()
    monkeypatch.delenv("SYNPUNKT_PREP_WORKERS", raising=False)
    assert config.prep_workers("torch") == 0 and config.prep_workers("onnx") == 0  # the CPU runs the network
    assert 0 <= config.prep_workers("cuda") <= 8
    monkeypatch.setenv("SYNPUNKT_PREP_WORKERS", "3")
    assert config.prep_workers("torch") == 3

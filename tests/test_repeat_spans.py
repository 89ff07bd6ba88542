"""Repeat-contact scoring on sentence spans (synpunkt/signals/repeat_spans.py): the comparison's pieces on a tiny
head built on the fly (token means of toy word vectors, so a long letter dilutes its one repeat sentence as the
encoder's token means do)."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from synpunkt.signals.repeat_spans import (REPEAT_SCORINGS, RepeatScoring, best_spans, fit_scoring, flags,
                                           max_per_text, span_sentences, span_training_rows)
from synpunkt.signals.span_head import SPAN_THRESHOLD_GRID
from synpunkt.signals.windows import sentences

DIM = 24
REPEAT = ["Det är fjärde gången jag ringer om detta.", "Jag har mejlat tre gånger utan svar.",
          "Ingen ringer tillbaka fast ni lovat.", "Nu har jag påmint er fem gånger.",
          "Tredje gången jag skriver om samma sak.", "Jag har ringt er flera gånger i vår."]
ORDINARY = ["Parken vid skolan är fin på sommaren.", "Bussen till centrum går för sällan.",
            "Biblioteket har bra öppettider.", "Snöröjningen på vår gata var bra i år.",
            "Maten i skolan har blivit godare.", "Badhuset borde ha längre öppet på helgen.",
            "Lekplatsen behöver nya gungor.", "Cykelbanan längs ån är trevlig."]


def toy_means(text: str) -> np.ndarray:
    """The mean of fixed random word vectors (a stand-in for the encoder's token means)."""
    words = re.findall(r"\w+", text.lower())
    return np.mean([np.random.default_rng(zlib.crc32(w.encode())).normal(size=DIM) for w in words], axis=0)


@pytest.fixture(scope="module")
def tiny_head():
    from synpunkt.signals.repeat_spans import _head

    texts = REPEAT + ORDINARY
    x = np.stack([toy_means(t) for t in texts])
    y = np.array([True] * len(REPEAT) + [False] * len(ORDINARY))
    return _head(x, y, 1.0, 42)


def test_a_repeat_sentence_in_the_middle_of_a_long_letter_is_found_by_its_span_only(tiny_head):
    letter = " ".join([*ORDINARY[:4], REPEAT[0], *ORDINARY[4:]])
    rows = np.zeros(len(sentences(letter)), dtype=int)
    spans = span_sentences([letter], rows)
    assert spans[4] == REPEAT[0] and len(spans) == 9
    x, xs = toy_means(letter)[None, :], np.stack([toy_means(s) for s in spans])
    whole = RepeatScoring("whole", tiny_head, None, 1.0, 0.5)
    by_span = RepeatScoring("max_span", tiny_head, None, 1.0, 0.5)
    assert tiny_head.probabilities(x)[0, 1] < 0.5
    assert not whole.flags(x, xs, rows)[0]
    assert by_span.flags(x, xs, rows)[0]
    # an ordinary letter stays unflagged either way
    plain = " ".join(ORDINARY)
    rows = np.zeros(len(sentences(plain)), dtype=int)
    xs = np.stack([toy_means(s) for s in span_sentences([plain], rows)])
    assert not by_span.flags(toy_means(plain)[None, :], xs, rows)[0]


def test_span_sentences_follow_each_texts_sentences_in_order():
    texts = ["Ett. Två.", "Kort text", "A! B? C."]
    assert span_sentences(texts, np.array([0, 0, 2, 2, 2])) == ["Ett.", "Två.", "A!", "B?", "C."]
    assert span_sentences(texts, np.array([2, 2])) == ["A!", "B?"]  # trailing spans cut off by truncation


def test_span_head_learns_from_the_best_span_of_a_repeat_text_and_every_span_of_the_others():
    y = np.array([True, False, True])
    rows = np.array([0, 0, 0, 1, 1, 2])
    p = np.array([0.2, 0.9, 0.1, 0.8, 0.7, 0.3])
    best = best_spans(p, rows, 3)
    assert best.tolist() == [1, 3, 5]
    assert span_training_rows(y, rows, best).tolist() == [1, 3, 4, 5]
    assert best_spans(np.zeros(0), np.zeros(0, dtype=int), 2).tolist() == [-1, -1]


def test_flags_of_each_scoring():
    p_whole, p_span, rows = np.array([0.8, 0.3, 0.2]), np.array([0.1, 0.96, 0.5]), np.array([0, 1, 2])
    assert flags("whole", p_whole, p_span, rows, 0.7).tolist() == [True, False, False]
    assert flags("max_span", p_whole, p_span, rows, 0.7).tolist() == [True, True, False]
    assert flags("span_head", p_whole, p_span, rows, 0.7, 0.95).tolist() == [True, True, False]
    assert max_per_text(p_whole, np.zeros(0), np.zeros(0, dtype=int)).tolist() == p_whole.tolist()
    with pytest.raises(ValueError, match="repeat scoring"):
        flags("loudest", p_whole, p_span, rows, 0.7)


@pytest.mark.parametrize("scoring", REPEAT_SCORINGS)
def test_every_candidate_is_fitted_on_train_rows_and_tuned_on_the_others(scoring):
    letters = [" ".join([*ORDINARY[:3], r, *ORDINARY[3:6]]) for r in REPEAT] + [" ".join(ORDINARY[k:k + 6])
                                                                              for k in range(3)]
    texts = [*REPEAT, *ORDINARY, *letters]
    y = np.array([True] * 6 + [False] * 8 + [True] * 6 + [False] * 3)
    rows = np.concatenate([np.full(len(sentences(t)), i) for i, t in enumerate(texts) if len(sentences(t)) > 1])
    x = np.stack([toy_means(t) for t in texts])
    xs = np.stack([toy_means(s) for s in span_sentences(texts, rows)])
    fit = np.isin(np.arange(len(texts)), [*range(14), 14, 15, 16, 20])  # short texts and some letters
    cand, f1 = fit_scoring(scoring, x, y, xs, rows, fit, ~fit)
    assert cand.scoring == scoring and 0.05 <= cand.threshold <= 0.95 and 0.0 <= f1 <= 1.0
    assert (cand.span is not None) == (scoring == "span_head")
    assert (cand.span_threshold in SPAN_THRESHOLD_GRID) if scoring == "span_head" else cand.span_threshold is None
    assert cand.flags(x, xs, rows).shape == (len(texts),)

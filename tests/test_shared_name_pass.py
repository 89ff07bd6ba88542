"""Ingest's one encoder pass (synpunkt.ingest_compute.shared_pass): the signal pass's tokens graph also returns
layer 6, and the name model reads its words there.

The signal features are bit for bit those of the separate pass; the name model's logits from the shared pass equal
its own read of the same input; words past the pass's 512 tokens are read by the name model itself; a name at the
end of a long letter is redacted; detection is detector.detect's. Uses the shipped base encoder, name head and
signal heads. All names and sentences are made up.
"""

from __future__ import annotations

import numpy as np
import pytest

from synpunkt.base_model import shared_base
from synpunkt.fast_tokenize import fast_tokenizer
from synpunkt.redaction import Redactor
from synpunkt.redaction.name_model import MAX_TOKENS, TEXT_PREFIX, joined
from synpunkt.redaction.names import tokenize
from synpunkt.redaction_cache import RedactionCache
from synpunkt.signals.detect import default_detector
from synpunkt.signals.features import MAX_LENGTH
from synpunkt.signals.spans import token_spans
from synpunkt.word_pieces import NO_TOKEN, PAST_END, first_tokens, text_tokens, word_positions

LONG = " ".join(["Överförmyndarnämndsförvaltningens handläggning tog tid."] * 60)
TAIL = " Till sist pratade jag med Zainab Oyelaran som hjälpte mig."
TEXTS = [
    "Ring Anna Svensson på 070-123 45 67.",
    "Bra 😀 service, tack… Jag har väntat i tre veckor. Handläggaren Qorsho Wiberg ringde aldrig.",
    "Tab\toch\u00a0hårt  mellanslag,   flera\n\nrader ﬁ ½ Ⅻ ｆｕｌｌ. Hälsningar (Mirela Quispe)",
    "Jag kommer att skada honom om ingen gör något. Det här är sista gången jag skriver.",
    "",
    LONG + TAIL,
]


@pytest.fixture(scope="module")
def fast():
    return fast_tokenizer(shared_base()[1])


def test_first_tokens_are_the_signal_pass_ids_and_cover_each_word(fast):
    """The ids are FastTokenizer.encode's of "query: " + text; each word's token overlaps it; words past 512 tokens
    are marked."""
    for text in TEXTS:
        words, offsets, _ = tokenize(text)
        ids, positions = first_tokens(fast, text, offsets, TEXT_PREFIX, MAX_TOKENS)
        assert ids == fast.encode([TEXT_PREFIX + text], MAX_TOKENS)[0]
        assert len(positions) == len(words) and not (positions == NO_TOKEN).any()
        pieces = fast.tokenizer.convert_ids_to_tokens(ids)
        for word, p in zip(words, positions):
            if p >= 0:
                piece, norm = pieces[p].lstrip("\u2581"), fast.normalize(word).strip()
                assert piece and (piece[0] in norm or norm[0] in piece or not word.isalnum())
    ids, positions = first_tokens(fast, LONG + TAIL, tokenize(LONG + TAIL)[1], TEXT_PREFIX, MAX_TOKENS)
    assert len(ids) == MAX_TOKENS and (positions[-5:] == PAST_END).all() and (positions[:10] >= 0).all()


def test_the_signal_pass_tokenises_each_text_once_for_both_readers(fast):
    """text_tokens: the ids fast.encode gives (cut) and the whole body (not cut); token_spans reading them finds the
    spans it finds by tokenising itself; word_positions on them are first_tokens' positions."""
    tokens = [text_tokens(fast, text, TEXT_PREFIX, MAX_LENGTH) for text in TEXTS]
    assert [t.ids for t in tokens] == fast.encode([TEXT_PREFIX + text for text in TEXTS], MAX_LENGTH)
    assert tokens[-1].body == fast.encode([TEXT_PREFIX + TEXTS[-1]], 10**6)[0][len(fast.prefix):-len(fast.suffix)]
    assert len(tokens[-1].body) > tokens[-1].room == MAX_LENGTH - len(fast.prefix) - len(fast.suffix)
    assert token_spans(fast, TEXTS, TEXT_PREFIX, MAX_LENGTH, tokens=tokens) == token_spans(fast, TEXTS, TEXT_PREFIX,
                                                                                            MAX_LENGTH)
    for text, t in zip(TEXTS, tokens):
        offsets = tokenize(text)[1]
        np.testing.assert_array_equal(word_positions(t, offsets), first_tokens(fast, text, offsets, TEXT_PREFIX,
                                                                               MAX_LENGTH)[1])


def test_shared_pass_gives_the_same_signal_features_as_the_separate_pass():
    """encode_spans with layer 6 returned too: whole and span features bit for bit equal; the layer-6 states it
    hands on are the name model's own read of the text."""
    detector = default_detector()
    redactor = Redactor.default()
    texts = TEXTS + ["Jag blir slagen hemma. Min man hotar mig varje kväll. Hjälp mig."] * 2
    whole, spans, rows = detector.encoder.encode_spans(texts)
    got: dict[int, tuple] = {}
    shared = detector.encoder.encode_spans(
        texts, extra_layer=6, on_states=lambda idx, tokens, states: got.update(
            {i: (x, states[j, :len(x.ids)].copy()) for j, (i, x) in enumerate(zip(idx, tokens))}))
    for a, b in zip((whole, spans, rows), shared):
        np.testing.assert_array_equal(b, a)
    assert sorted(got) == list(range(len(texts)))
    text = texts[1]
    words, offsets, _ = tokenize(text)
    tokens, states = got[1]
    again = text_tokens(fast_tokenizer(shared_base()[1]), text, TEXT_PREFIX, MAX_TOKENS)
    assert tokens.ids == again.ids and np.array_equal(tokens.starts, again.starts)
    logits = redactor.name_model.shared_logits(offsets, tokens, states)
    own = redactor.name_model.word_states([text], [offsets])[0] @ redactor.name_model.coef[:384]
    np.testing.assert_allclose(logits, own, atol=1e-3)


def test_words_past_512_tokens_still_get_name_probabilities():
    """Logits from a pass that stops at 512 tokens: the words after it are read by the name model (from the rest of
    the text), so every word has a probability, and the tail name gets a high one."""
    model = Redactor.default().name_model
    text = LONG + TAIL
    words, offsets, line_starts = tokenize(text)
    tokens = text_tokens(fast_tokenizer(shared_base()[1]), text, TEXT_PREFIX, MAX_TOKENS)
    positions = word_positions(tokens, offsets)
    hidden = model.word_states([text], [offsets])[0]
    assert hidden[positions == PAST_END].any(axis=1).all()  # the rest of the text was read
    fake_states = np.zeros((len(tokens.ids), hidden.shape[1]), dtype=np.float32)
    logits = model.shared_logits(offsets, tokens, fake_states)
    assert np.isnan(logits[positions == PAST_END]).all() and not np.isnan(logits[positions >= 0]).any()
    probs = model.probabilities([words], [line_starts], texts=[text], offsets=[offsets], encoder_logits=[logits])[0]
    alone = model.probabilities([words], [line_starts], texts=[text], offsets=[offsets])[0]
    tail = positions == PAST_END
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs[tail], alone[tail], atol=1e-6)


def test_a_name_in_a_long_text_is_redacted_by_the_shared_pass():
    """shared_pass: the detector's answers are detect()'s, and the redactions it leaves in the cache name the
    person at the end of a long letter, as the redactor alone does."""
    from synpunkt.ingest_compute import shared_pass

    detector, redactor = default_detector(), Redactor.default()
    cache = RedactionCache(redactor)
    detected = shared_pass(detector, cache, TEXTS)
    expected = detector.detect(TEXTS)
    assert detected[["category", "rule", "repeat_contact"]].equals(expected[["category", "rule", "repeat_contact"]])
    np.testing.assert_array_equal(detected["probability"], expected["probability"])
    redacted = [text for text, _ in cache.texts(TEXTS)]
    assert "Oyelaran" not in redacted[-1] and redacted[-1].endswith("[NAMN] som hjälpte mig.")
    assert "Svensson" not in redacted[0] and "Wiberg" not in redacted[1]
    alone = [r.text for r in redactor.redact_many(TEXTS)]
    assert redacted == alone


def test_joined_words_offsets():
    text, offsets = joined(["Anna", "Berg", ","])
    assert text == "Anna Berg ," and [text[s:e] for s, e in offsets] == ["Anna", "Berg", ","]


def test_the_one_pass_tells_its_progress_per_batch():
    """ingest's progress bar hears of each encoder batch and redaction sub-batch within a chunk, ending at the
    number of texts."""
    from synpunkt.ingest_compute import align_name_model, read_once

    detector, redactor = default_detector(), Redactor.default()
    align_name_model(redactor, detector)
    cache = RedactionCache(redactor, sub_batch=2)
    heard: list[tuple[str, int, int]] = []
    texts = TEXTS + [f"Tack för hjälpen med ärende {i}." for i in range(5)]
    assert read_once(detector, cache, texts, lambda what, done, of: heard.append((what, done, of))) is not None
    read = [h for h in heard if h[0] == "texts read"]
    redacted = [h for h in heard if h[0] == "texts redacted"]
    assert read and read[-1] == ("texts read", len(texts), len(texts))
    assert [d for _, d, _ in redacted] == list(range(2, len(texts), 2)) + [len(texts)]
    assert heard.index(read[-1]) < heard.index(redacted[0])  # read first, then redacted

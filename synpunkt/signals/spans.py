"""Sentence-span pooling for the urgent head: the token means of each sentence, read from the SAME encoder pass as
the whole text's mean (no second pass, unlike the re-encoded windows of synpunkt/signals/windows.py).

A one-sentence threat inside a long letter is diluted in the whole text's mean; the mean of its own sentence's
tokens (contextualised by the whole letter) is not. ``urgent_scoring = "max_span"`` scores the whole text and each
sentence span with the urgent head and keeps the most urgent (windows.max_window_probabilities).

The spans are those of windows.sentences(), mapped to token positions: the tokenizer's pre-tokenizer (Metaspace,
split on spaces) reads every word alone, so the ids of "query: " + text are the concatenation of the ids of
"query:" and of each sentence; a text where they differ (never seen on the project's data) gets no spans and is
scored whole. A text of one sentence gets no spans (it is scored whole, as before). Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synpunkt.signals.windows import MAX_WINDOW_WORDS, sentences

Span = tuple[int, int]
"""Token positions [start, end) of one sentence in the encoded text (special tokens and prefix included)."""
_UNCUT = 1 << 20  # max_length that never truncates: the pieces' own ids


def _body(ids: list[int], prefix: list[int], suffix: list[int]) -> list[int]:
    return ids[len(prefix):len(ids) - len(suffix)]


def token_spans(fast, texts: Sequence[str], text_prefix: str, max_length: int,
                max_words: int = MAX_WINDOW_WORDS, tokens: Sequence | None = None
                ) -> tuple[list[list[int]], list[list[Span]]]:
    """Per text: the ids of text_prefix + text (as fast.encode gives them, truncated to max_length) and the token
    spans of its sentences (clipped to the truncated text; empty for one sentence or when the pieces' ids do not
    add up to the text's). `fast` is a synpunkt.fast_tokenize.FastTokenizer; `tokens`: the texts' already
    tokenised (synpunkt.word_pieces.text_tokens, same prefix and max_length), not tokenised again."""
    prefix, suffix = list(fast.prefix), list(fast.suffix)
    if tokens is None:  # one tokenisation, uncut, then cut as fast.encode(texts, max_length) would
        bodies = [_body(x, prefix, suffix) for x in fast.encode([text_prefix + (t or "") for t in texts], _UNCUT)]
        room = max_length - len(prefix) - len(suffix)
        ids = [prefix + b[:room] + suffix for b in bodies]
    else:
        bodies, ids = [x.body for x in tokens], [x.ids for x in tokens]
    end_of_room = max_length - len(suffix)
    spans: list[list[Span]] = []
    for k, t in enumerate(texts):
        parts = sentences(t or "", max_words)
        if len(parts) < 2:
            spans.append([])
            continue
        pieces = [_body(p, prefix, suffix) for p in fast.encode([text_prefix.rstrip(), *parts], _UNCUT)]
        if [i for p in pieces for i in p] != list(bodies[k]):
            spans.append([])
            continue
        out, at = [], len(prefix) + len(pieces[0])
        for piece in pieces[1:]:
            start, end = at, min(at + len(piece), end_of_room)
            if end > start:
                out.append((start, end))
            at += len(piece)
        spans.append(out)
    return ids, spans


def pooling_matrix(mask: np.ndarray, spans: Sequence[Sequence[Span]]) -> np.ndarray:
    """(batch, 1 + most spans, tokens) float32 weights: row 0 the whole text's token mean (padding excluded, as the
    pooled graph's), row 1 + j the mean of span j's tokens; rows past a text's spans are zero."""
    batch, width = mask.shape
    rows = 1 + max((len(s) for s in spans), default=0)
    weights = np.zeros((batch, rows, width), dtype=np.float32)
    weights[:, 0, :] = mask / np.maximum(mask.sum(1, keepdims=True), 1)
    for b, text_spans in enumerate(spans):
        for j, (start, end) in enumerate(text_spans):
            weights[b, 1 + j, start:end] = 1.0 / (end - start)
    return weights


def pool(states: np.ndarray, mask: np.ndarray, spans: Sequence[Sequence[Span]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The whole texts' token means (batch, dim) and each text's span means ((its spans, dim) arrays) from token
    states (batch, tokens, dim): one matmul with pooling_matrix()."""
    pooled = pooling_matrix(mask, spans) @ states
    return pooled[:, 0, :], [pooled[b, 1:1 + len(s), :] for b, s in enumerate(spans)]


def flatten(per_text: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-text span arrays ((spans, ...) each, at least one text) as one (m, ...) array and the text (row) each
    span belongs to."""
    rows = np.concatenate([np.full(len(x), i, dtype=int) for i, x in enumerate(per_text)])
    return np.concatenate(list(per_text)).astype(np.float32, copy=False), rows


__all__ = ["Span", "token_spans", "pooling_matrix", "pool", "flatten"]

"""The tokenizer's pieces for words split beforehand, cached per word: the encoder input of the name model.

With ``is_split_into_words`` the tokenizer reads each word alone (normalisation, metaspace, unigram), so a chunk's
ids are the template's leading special tokens, each word's ids and the trailing ones. The converted tokenizer's
normalisation (a long list of per-character rules) made tokenising cost more than the 6-layer encoder pass itself;
words repeat, so each distinct word is tokenised once (with synpunkt.fast_tokenize's normalisation). The ids,
word ids and truncation equal the tokenizer's (tests/test_ingest_encoders.py checks them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_ENTRIES = 200_000
"""Distinct words kept (about 100 bytes each); the cache is emptied when full."""


class WordPieces:
    """Token ids of single words, cached: ``encode(words)`` = ``tokenizer(words, is_split_into_words=True,
    truncation=True, max_length=...)``'s input ids and word ids."""

    def __init__(self, tokenizer, max_entries: int = MAX_ENTRIES):
        self.tokenizer, self.max_entries = tokenizer, max_entries
        self._ids: dict[str, list[int]] = {}
        probe = tokenizer([["a"]], is_split_into_words=True)["input_ids"][0]
        word = self._encode(["a"])[0]
        at = next(i for i in range(len(probe)) if probe[i : i + len(word)] == word)
        self.prefix, self.suffix = probe[:at], probe[at + len(word):]

    def _encode(self, words: list[str]) -> list[list[int]]:
        from synpunkt.fast_tokenize import fast_tokenizer

        return fast_tokenizer(self.tokenizer).encode_words(words)

    def encode(self, words: Sequence[str], max_tokens: int) -> tuple[list[int], list[int | None]]:
        """(input ids, word index of each token or None for a special token), cut to `max_tokens` as the
        tokenizer's truncation does (the end of the words goes)."""
        new = [w for w in dict.fromkeys(words) if w not in self._ids]
        if new:
            if len(self._ids) + len(new) > self.max_entries:
                self._ids.clear()
                new = list(dict.fromkeys(words))
            self._ids.update(zip(new, self._encode(new)))
        room = max_tokens - len(self.prefix) - len(self.suffix)
        ids, word_ids = list(self.prefix), [None] * len(self.prefix)
        for i, w in enumerate(words):
            piece = self._ids[w][: room - (len(ids) - len(self.prefix))]
            ids += piece
            word_ids += [i] * len(piece)
        return ids + self.suffix, word_ids + [None] * len(self.suffix)


def pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) int64 arrays, padded on the right."""
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for j, s in enumerate(sequences):
        ids[j, : len(s)] = s
        mask[j, : len(s)] = 1
    return ids, mask

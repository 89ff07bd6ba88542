"""Where each word of a text sits in the encoder's tokens: the name model's input (synpunkt.redaction.name_model).

``text_tokens`` tokenises "query: " + text ONCE as the signal pass reads it (synpunkt.fast_tokenize, cut to 512
tokens: the beginning is kept): its ids for the encoder, and each token's characters in the text, so that
``word_positions`` finds, for each word the name rules cut from the text (character offsets), the position of the
first token that overlaps it, and the name model reads the words from the signal pass's token states without
tokenising the text again (``first_tokens``: both at once). The tokens' characters come from the tokenizer's
pre-tokenizer and model run on the fast normalisation, traced back to the text (tests/test_shared_name_pass.py
checks the ids against FastTokenizer.encode's). ``pad`` pads encoder inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


def pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) int64 arrays, padded on the right."""
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for j, s in enumerate(sequences):
        ids[j, : len(s)] = s
        mask[j, : len(s)] = 1
    return ids, mask


NO_TOKEN = -1
"""A word no token of the text covers (all its characters normalised away)."""
PAST_END = -2
"""A word whose first token lies past the encoder's truncation (max_length: the text's beginning is kept)."""


def _normalized(fast, full: str) -> tuple[str, list[int] | None] | None:
    """(the tokenizer's normalisation of `full`, the index in `full` of each of its characters; None for the
    identity), or None where the characters cannot be traced back (a normaliser that is no translation)."""
    norm = fast.normalize(full)
    if norm == full:
        return norm, None
    if fast.table is None:
        return None
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(full):  # the translation, then runs of spaces collapsed (synpunkt.fast_tokenize)
        for c in fast.table.get(ord(ch), ch):
            if c == " " and chars and chars[-1] == " ":
                continue
            chars.append(c)
            origin.append(i)
    return ("".join(chars), origin) if "".join(chars) == norm else None


class TextTokens(NamedTuple):
    """text_prefix + text as the encoder reads it (``text_tokens``): its ids, and where each token lies in the text."""

    ids: list[int]
    """The ids ``fast.encode`` gives, special tokens included, cut to max_length (the beginning is kept)."""
    body: list[int]
    """The ids without special tokens, not cut."""
    starts: np.ndarray
    """Per token of `body`: its first character in text_prefix + text (-1 for the word-boundary mark alone)."""
    ends: np.ndarray
    """Per token of `body`: the character after its last (-1 for the word-boundary mark alone)."""
    shift: int
    """len(text_prefix): a character i of the text is character shift + i of text_prefix + text."""
    first: int
    """The position in `ids` of body[0] (the special tokens before it)."""
    room: int
    """How many of `body` fit in `ids`."""


def _token_spans(fast, full: str) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(ids of `full` without special tokens, each token's start and end in `full`'s characters; -1 for a token of
    the word-boundary mark alone): the tokenizer's pre-tokenizer and model (FastTokenizer.piece_tokens) on its
    normalisation."""
    traced = _normalized(fast, full)
    if traced is None:  # the tokenizer's own offsets (slow normalisation, but exact)
        enc = fast.backend.encode(full, add_special_tokens=False)
        spans = np.array(enc.offsets, dtype=np.int64).reshape(-1, 2)
        empty = spans[:, 0] >= spans[:, 1]
        spans[empty] = -1
        return list(enc.ids), spans[:, 0], spans[:, 1]
    norm, origin = traced
    ids: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for piece, (a, b) in fast.backend.pre_tokenizer.pre_tokenize_str(norm):
        shift = a - (len(piece) - (b - a))  # a prepended boundary mark has no character in the text
        tokens = fast.piece_tokens(piece)
        ids += tokens.ids
        if origin is None:
            starts += [shift + s if s >= 0 else -1 for s in tokens.starts]
            ends += [shift + e if e >= 0 else -1 for e in tokens.ends]
        else:
            starts += [origin[shift + s] if s >= 0 else -1 for s in tokens.starts]
            ends += [origin[shift + e - 1] + 1 if e >= 0 else -1 for e in tokens.ends]
    return ids, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def text_tokens(fast, text: str, text_prefix: str, max_length: int) -> TextTokens:
    """The TextTokens of text_prefix + text, tokenised once (its ids are ``fast.encode``'s, cut to max_length).
    `fast` is a synpunkt.fast_tokenize.FastTokenizer."""
    body, starts, ends = _token_spans(fast, text_prefix + text)
    prefix, suffix = list(fast.prefix), list(fast.suffix)
    room = max_length - len(prefix) - len(suffix)
    return TextTokens(prefix + body[:room] + suffix, body, starts, ends, len(text_prefix), len(prefix), room)


def word_positions(tokens: TextTokens, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per word (its character `offsets` in the text) the position in tokens.ids of the first token that overlaps
    it, NO_TOKEN or PAST_END (pure)."""
    spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2) + tokens.shift
    if not len(spans):
        return np.zeros(0, dtype=np.intp)
    starts, ends = tokens.starts, tokens.ends
    kept = np.flatnonzero(starts >= 0)  # token ends rise with the tokens: the first one ending after a word's start
    k = np.searchsorted(ends[kept], spans[:, 0], side="right")
    found = k < len(kept)
    token = kept[np.minimum(k, len(kept) - 1)] if len(kept) else np.zeros(len(spans), dtype=np.int64)
    found &= starts[token] < spans[:, 1]
    positions = np.where(token < tokens.room, tokens.first + token, PAST_END)
    return np.where(found, positions, NO_TOKEN).astype(np.intp)


def first_tokens(fast, text: str, offsets: Sequence[tuple[int, int]], text_prefix: str, max_length: int
                 ) -> tuple[list[int], np.ndarray]:
    """(ids of text_prefix + text as ``fast.encode`` gives them, cut to max_length; per word (its character
    `offsets` in `text`) the position in those ids of the first token that overlaps it, NO_TOKEN or PAST_END).
    `fast` is a synpunkt.fast_tokenize.FastTokenizer; the text is read whole, each word in its context."""
    tokens = text_tokens(fast, text, text_prefix, max_length)
    return tokens.ids, word_positions(tokens, offsets)

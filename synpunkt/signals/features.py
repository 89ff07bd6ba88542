"""Frozen-encoder features for the signal heads: mean-pooled hidden states of multilingual-E5-small.

The encoder is never fine-tuned here; texts are the full, unredacted comments held in memory during ingest (never
stored or logged). Layers are averaged over tokens (E5's pooling) and the chosen layers are concatenated.

``encode`` (ingest, detection) runs only the chosen layers' means, pooled inside the graph, on ingest's inference
backend (synpunkt.ingest_encoders: ONNX Runtime fp32 where backend.json records that it agrees with torch);
``all_layers`` (training, cached) is the torch fp32 reference that the heads are trained on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from synpunkt.classifier_encoder import identity as encoder_identity
from synpunkt.config import DEFAULT_BASE_MODEL, cache_dir
from synpunkt.signals.windows import MAX_WINDOW_WORDS

log = logging.getLogger(__name__)

FEATURE_LAYERS = (8, 12)
"""Hidden-state layers (0 = embeddings, 12 = last) whose token means are concatenated into the features."""
MAX_LENGTH = 512
"""Tokens per text (special tokens included); a longer text is cut there and keeps its beginning (the tokenizer
truncates on the right: synpunkt.fast_tokenize.FastTokenizer.encode)."""
TEXT_PREFIX = "query: "


class FeatureEncoder:
    """Mean-pooled hidden states of the frozen base encoder (loaded on first use, CPU-friendly)."""

    def __init__(self, base_model: str = DEFAULT_BASE_MODEL, layers: Sequence[int] = FEATURE_LAYERS,
                 max_length: int = MAX_LENGTH, batch_size: int = 16, backend: str | None = None):
        self.base_model, self.layers = base_model, tuple(layers)
        self.max_length, self.batch_size = max_length, batch_size
        self.backend = backend  # None: synpunkt.ingest_encoders.ingest_backend's choice
        self._encoder = self._tokenizer = None

    @property
    def dim(self) -> int:
        self._load()
        return self._encoder.config.hidden_size * len(self.layers)

    def _load(self) -> None:
        if self._encoder is None:
            from synpunkt.base_model import shared_base

            self._encoder, self._tokenizer = shared_base(self.base_model)  # the same weights as the name model

    def all_layers(self, texts: Sequence[str]) -> np.ndarray:
        """(n, layers + 1, hidden) float32 token means of every hidden layer (longest texts batched together)."""
        import torch

        self._load()
        n_layers = self._encoder.config.num_hidden_layers + 1
        out = np.zeros((len(texts), n_layers, self._encoder.config.hidden_size), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i] or ""))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = self._tokenizer([TEXT_PREFIX + (texts[i] or "") for i in idx], padding=True, truncation=True,
                                      max_length=self.max_length, return_tensors="pt")
                states = self._encoder(**enc, output_hidden_states=True).hidden_states
                mask = enc["attention_mask"].unsqueeze(-1).float()
                stacked = torch.stack([(h * mask).sum(1) / mask.sum(1).clamp(min=1) for h in states], dim=1)
                out[idx] = stacked.numpy()
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) features: the chosen layers' token means, concatenated (equal to
        ``select_layers(all_layers(texts), layers)`` within float tolerance), on ingest's backend."""
        if not len(texts):
            return np.zeros((0, 0), dtype=np.float32)
        from synpunkt.fast_tokenize import fast_tokenizer
        from synpunkt.ingest_encoders import encoder_batches, ingest_runner
        from synpunkt.word_pieces import pad

        runner, tokenizer, hidden = ingest_runner("pooled", self.base_model, self.layers, self.backend)
        # the tokenizer's ids (synpunkt.fast_tokenize: its normalisation as one translation)
        ids = fast_tokenizer(tokenizer).encode([TEXT_PREFIX + (t or "") for t in texts], self.max_length)
        out = np.zeros((len(texts), hidden * len(self.layers)), dtype=np.float32)
        # similar lengths together (little padding), each call bounded (synpunkt.ingest_encoders)
        for idx in encoder_batches([len(x) for x in ids], runner.backend, self.batch_size):
            batch_ids, mask = pad([ids[i] for i in idx], tokenizer.pad_token_id)
            out[idx] = runner.run(batch_ids, mask)[0]
        return out


    def encode_spans(self, texts: Sequence[str], max_words: int = MAX_WINDOW_WORDS, extra_layer: int | None = None,
                     on_states: Callable[[np.ndarray, list, np.ndarray], None] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(whole (n, dim), spans (m, dim), rows (m,)): the chosen layers' token means of each whole text (as
        ``encode``) and of each of its sentence spans (synpunkt/signals/spans.py), all from ONE encoder pass over
        the whole texts; rows[j] is the text span j belongs to. On ingest's backend (graph kind "tokens").

        `extra_layer` with `on_states`: the same pass also returns that layer's token states, handed per encoder call
        to on_states(text indices, their tokens (synpunkt.word_pieces.TextTokens: the ids and where each token lies
        in the text, from the one tokenisation the pass reads), states (texts, tokens, hidden)) for another reader
        of the texts (the name model: synpunkt.ingest_compute); the means are read from the chosen layers alone,
        the same values."""
        from synpunkt.fast_tokenize import fast_tokenizer
        from synpunkt.ingest_encoders import encoder_batches, ingest_runner
        from synpunkt.signals.spans import flatten, pool, token_spans
        from synpunkt.word_pieces import pad, text_tokens

        extra = extra_layer is not None and on_states is not None and extra_layer not in self.layers
        graph_layers = (extra_layer, *self.layers) if extra else self.layers
        runner, tokenizer, hidden = ingest_runner("tokens", self.base_model, graph_layers, self.backend)
        dim = hidden * len(self.layers)
        if not len(texts):
            return np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(0, dtype=int)
        fast = fast_tokenizer(tokenizer)
        tokens = None  # each text tokenised once, with where its tokens lie when another reader takes the states
        if on_states is not None and extra_layer is not None:
            tokens = [text_tokens(fast, t or "", TEXT_PREFIX, self.max_length) for t in texts]
        ids, spans = token_spans(fast, texts, TEXT_PREFIX, self.max_length, max_words, tokens)
        whole = np.zeros((len(texts), dim), dtype=np.float32)
        per_text: list[np.ndarray] = [np.zeros((0, dim), np.float32)] * len(texts)
        for idx in encoder_batches([len(x) for x in ids], runner.backend, self.batch_size):
            batch_ids, mask = pad([ids[i] for i in idx], tokenizer.pad_token_id)
            states = runner.run(batch_ids, mask)[0]
            if tokens is not None:
                at = graph_layers.index(extra_layer) * hidden
                on_states(idx, [tokens[i] for i in idx], states[:, :, at:at + hidden])
            if extra:  # the chosen layers' columns, contiguous as the graph without the extra layer returns them
                states = np.ascontiguousarray(states[:, :, hidden:])
            means, parts = pool(states, mask, [spans[i] for i in idx])
            whole[idx] = means
            for i, part in zip(idx, parts):
                per_text[i] = part
        return (whole, *flatten(per_text))

    def all_layer_spans(self, texts: Sequence[str], max_words: int = MAX_WINDOW_WORDS
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The torch fp32 reference of encode_spans for every hidden layer: whole (n, layers + 1, hidden), spans
        (m, layers + 1, hidden), rows (m,) (training; the whole part equals all_layers within float tolerance)."""
        import torch

        from synpunkt.fast_tokenize import fast_tokenizer
        from synpunkt.signals.spans import flatten, pooling_matrix, token_spans
        from synpunkt.word_pieces import pad

        self._load()
        n_layers, hidden = self._encoder.config.num_hidden_layers + 1, self._encoder.config.hidden_size
        ids, spans = token_spans(fast_tokenizer(self._tokenizer), texts, TEXT_PREFIX, self.max_length, max_words)
        order = np.argsort([len(x) for x in ids], kind="stable")
        whole = np.zeros((len(texts), n_layers, hidden), dtype=np.float32)
        per_text: list[np.ndarray] = [np.zeros((0, n_layers, hidden), np.float32)] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch_ids, mask = pad([ids[i] for i in idx], self._tokenizer.pad_token_id)
                states = self._encoder(input_ids=torch.from_numpy(batch_ids), attention_mask=torch.from_numpy(mask),
                                       output_hidden_states=True).hidden_states
                weights = torch.from_numpy(pooling_matrix(mask, [spans[i] for i in idx]))
                pooled = torch.einsum("bst,blth->bslh", weights, torch.stack(states, dim=1)).numpy()
                whole[idx] = pooled[:, 0]
                for k, i in enumerate(idx):
                    per_text[i] = pooled[k, 1:1 + len(spans[i])]
        return (whole, *flatten(per_text))


def select_layers(all_layers: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """Concatenate the chosen layers of an (n, layers + 1, hidden) array into (n, len(layers) * hidden)."""
    return all_layers[:, list(layers), :].reshape(len(all_layers), -1)


def cached_all_layers(encoder: FeatureEncoder, texts: Sequence[str], name: str) -> np.ndarray:
    """all_layers() for training data, cached on disk (cache_dir()/signals, keyed by the texts and settings)."""
    digest = hashlib.sha256("\x00".join([encoder_identity(encoder.base_model), str(encoder.max_length),
                                          *texts]).encode()).hexdigest()
    path = Path(cache_dir()) / "signals" / f"{name}-{digest[:16]}.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    log.info("encoding %d %s texts (cached afterwards in %s)", len(texts), name, path.parent)
    values = encoder.all_layers(texts).astype(np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, values)
    return values.astype(np.float32)  # what a later read of the cache gives: a first run trains the same heads


def cached_all_layer_spans(encoder: FeatureEncoder, texts: Sequence[str], name: str,
                           max_words: int = MAX_WINDOW_WORDS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """all_layer_spans() for training data, cached on disk like cached_all_layers (keyed by texts and settings)."""
    key = "\x00".join([encoder_identity(encoder.base_model), str(encoder.max_length), f"spans{max_words}", *texts])
    path = Path(cache_dir()) / "signals" / f"{name}-spans-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path) as z:
            return z["whole"].astype(np.float32), z["spans"].astype(np.float32), z["rows"].astype(int)
    log.info("encoding %d %s texts with their sentence spans (cached afterwards in %s)", len(texts), name,
             path.parent)
    whole, spans, rows = encoder.all_layer_spans(texts, max_words)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    whole, spans = whole.astype(np.float16), spans.astype(np.float16)
    np.savez(tmp, whole=whole, spans=spans, rows=rows)
    tmp.replace(path)
    return whole.astype(np.float32), spans.astype(np.float32), rows.astype(int)  # as a later read gives them

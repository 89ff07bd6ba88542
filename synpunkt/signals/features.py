"""Frozen-encoder features for the signal heads: token means of chosen layers of multilingual-E5-small.

The encoder is never fine-tuned here; texts are the full, unredacted comments held in memory during ingest (never
stored or logged). The input is the one the redaction name model reads (synpunkt.text_features: the text's words in
chunks of 96, no prefix), so that ingest runs the encoder once per text for both; each chosen layer is averaged
over all the text's tokens (a long text is read whole) and the chosen layers are concatenated.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synpunkt.config import DEFAULT_BASE_MODEL, cache_dir
from synpunkt.text_features import CHUNK_WORDS, TextEncoder, text_encoder

log = logging.getLogger(__name__)

FEATURE_LAYERS = (8, 12)
"""Hidden-state layers (0 = embeddings, 12 = last) whose token means are concatenated into the features."""
FEATURES = f"word chunks of {CHUNK_WORDS}, no prefix, token mean per layer over the whole text"
"""What the heads read (recorded in heads.json; heads trained on other features are refused)."""


class FeatureEncoder:
    """The signal heads' features (synpunkt.text_features; loaded on first use, CPU-friendly)."""

    def __init__(self, base_model: str = DEFAULT_BASE_MODEL, layers: Sequence[int] = FEATURE_LAYERS,
                 backend: str | None = None):
        self.base_model, self.layers, self.backend = base_model, tuple(layers), backend

    def text_encoder(self, word_layer: int | None = None) -> TextEncoder:
        """The pass that gives these features (and, with `word_layer`, the name model's word features too)."""
        return text_encoder(self.base_model, word_layer, self.layers, self.backend)

    def all_layers(self, texts: Sequence[str]) -> np.ndarray:
        """(n, layers + 1, hidden) float32 token means of every hidden layer, on the torch reference in fp32
        (training)."""
        from synpunkt.base_model import shared_base

        n_layers = shared_base(self.base_model)[0].config.num_hidden_layers
        pooled = text_encoder(self.base_model, None, range(n_layers + 1), "torch", "fp32").pooled(list(texts))
        return pooled.reshape(len(texts), n_layers + 1, -1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) features: the chosen layers' token means, concatenated."""
        if not len(texts):
            return np.zeros((0, 0), dtype=np.float32)
        return self.text_encoder().pooled(list(texts))


def select_layers(all_layers: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """Concatenate the chosen layers of an (n, layers + 1, hidden) array into (n, len(layers) * hidden)."""
    return all_layers[:, list(layers), :].reshape(len(all_layers), -1)


def cached_all_layers(encoder: FeatureEncoder, texts: Sequence[str], name: str) -> np.ndarray:
    """all_layers() for training data, cached on disk (cache_dir()/signals, keyed by the texts and settings)."""
    digest = hashlib.sha256("\x00".join([encoder.base_model, FEATURES, *texts]).encode()).hexdigest()
    path = Path(cache_dir()) / "signals" / f"{name}-{digest[:16]}.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    log.info("encoding %d %s texts (cached afterwards in %s)", len(texts), name, path.parent)
    values = encoder.all_layers(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, values.astype(np.float16))
    return values

"""The name model: the base encoder's first layers (frozen) + a logistic-regression head -> P(word is a name).

Features are the hidden state of each word's first subword at ``layer`` (6 of 12 for multilingual-E5-small, so
only half the encoder runs) plus the hand-made ``CHEAP_FEATURES``. The head lives in ``models/redaction/``
(``name_head.npz`` + ``name_head.json``); ``synpunkt.redaction.name_model_training`` writes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from synpunkt.config import PROJECT_ROOT, shared_datasets
from synpunkt.redaction.names import LONE_INITIAL_THRESHOLD, cheap_features, decide_names

DEFAULT_REDACTION_DIR = PROJECT_ROOT / "models" / "redaction"
HEAD_FILE = "name_head.npz"
SETTINGS_FILE = "name_head.json"
TRAIN_COMMAND = "python -m synpunkt.redact train"
NER_CORPUS = Path("aux") / "swedish_ner_corpus.parquet"


def redaction_model_dir() -> Path:
    """Where the name head lives (SYNPUNKT_REDACTION_MODEL, default models/redaction)."""
    return Path(os.environ.get("SYNPUNKT_REDACTION_MODEL", DEFAULT_REDACTION_DIR))


def ner_corpus_path() -> Path:
    """The Swedish NER corpus the head is trained and measured on (in ../shared/datasets)."""
    return shared_datasets() / NER_CORPUS


class NameModel:
    """Encoder features (first subword of each word at ``layer``) + a linear head -> P(word is part of a name)."""

    def __init__(self, layer: int, coef: np.ndarray | None = None, intercept: float = 0.0,
                 threshold: float = 0.5, lone_initial_threshold: float = LONE_INITIAL_THRESHOLD,
                 base_model: str | None = None, backend: str | None = None, precision: str | None = None):
        self.layer = layer
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold
        self.lone_initial_threshold = lone_initial_threshold
        self.base_model = base_model
        self.backend = backend  # None: SYNPUNKT_BACKEND or the recorded ingest default (synpunkt.text_features)
        self.precision = precision  # the torch backend's (None: SYNPUNKT_PRECISION)

    @classmethod
    def load(cls, directory: Path | None = None) -> "NameModel":
        directory = Path(directory or redaction_model_dir())
        head, settings = directory / HEAD_FILE, directory / SETTINGS_FILE
        if not head.exists() or not settings.exists():
            raise FileNotFoundError(
                f"the name-redaction model is missing ({head.name} and {settings.name} in {directory}); "
                f"train it with `{TRAIN_COMMAND}` (needs ../shared/datasets/{NER_CORPUS.as_posix()}), "
                f"or use Redactor(use_model=False) for rules only"
            )
        meta = json.loads(settings.read_text())
        with np.load(head) as z:
            coef, intercept = z["coef"].astype(np.float32), float(z["intercept"])
        if coef.shape[0] != meta["feature_dim"]:
            raise ValueError(f"{head} does not match {settings} "
                             f"(feature size {coef.shape[0]} vs {meta['feature_dim']})")
        from synpunkt.config import DEFAULT_BASE_MODEL

        return cls(layer=int(meta["layer"]), coef=coef, intercept=intercept, threshold=float(meta["threshold"]),
                   lone_initial_threshold=float(meta.get("lone_initial_threshold", LONE_INITIAL_THRESHOLD)),
                   base_model=meta.get("base_model", DEFAULT_BASE_MODEL))

    @property
    def encoder(self):
        """The encoder cut after ``layer`` (synpunkt.text_features; one per process and setting)."""
        from synpunkt.config import DEFAULT_BASE_MODEL
        from synpunkt.text_features import text_encoder

        return text_encoder(self.base_model or DEFAULT_BASE_MODEL, self.layer, (), self.backend, self.precision)

    def encode(self, word_lists: list[list[str]], batch_size: int = 32) -> list[np.ndarray]:
        """Encoder features per word (first subword at ``layer``), one (n_words, hidden) array per word list
        (chunks of 96 words; `batch_size` is kept for callers, the encoder batches by its own setting)."""
        return self.encoder.encode_words(word_lists).words

    def decide(self, words: list[str], line_start: list[bool], probs: np.ndarray) -> np.ndarray:
        """Which words the head marks as names (before the rules are added)."""
        return decide_names(words, line_start, probs, self.threshold, self.lone_initial_threshold)

    def features(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32,
                 encoded: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Encoder features (`encoded` when the caller has them from a shared pass) and the cheap features."""
        enc = self.encode(word_lists, batch_size) if encoded is None else encoded
        return [np.hstack([h, cheap_features(ws, ls)]) for h, ws, ls in zip(enc, word_lists, line_starts)]

    def probabilities(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32,
                      encoded: list[np.ndarray] | None = None) -> list[np.ndarray]:
        feats = self.features(word_lists, line_starts, batch_size, encoded)
        return [1.0 / (1.0 + np.exp(-(f @ self.coef + self.intercept))) for f in feats]


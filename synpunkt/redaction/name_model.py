"""The name model: the base encoder's first layers (frozen) + a logistic-regression head -> P(word is a name).

Features are the hidden state of each word's first subword at ``layer`` (6 of 12 for multilingual-E5-small, so
only half the encoder runs) plus the hand-made ``CHEAP_FEATURES``. The head lives in ``models/redaction/``
(``name_head.npz`` + ``name_head.json``); ``synpunkt.redaction.name_model_training`` writes it.
"""

from __future__ import annotations

import json
import os
import threading
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


_CHUNK_WORDS = 96  # words per encoder input; longer texts are split in chunks
_MAX_TOKENS = 512


_ENCODERS: dict[tuple[str, int], tuple] = {}
_ENCODERS_LOCK = threading.Lock()


def _truncated_encoder(base_model: str | None, layer: int):
    """The base encoder cut after ``layer`` layers, and its tokenizer: loaded once per process and setting."""
    from synpunkt.config import DEFAULT_BASE_MODEL

    key = (base_model or DEFAULT_BASE_MODEL, layer)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            import torch  # noqa: F401  (imported here so rules-only use never needs torch)

            from synpunkt.base_model import shared_base, truncated_view

            encoder, tokenizer = shared_base(key[0])
            _ENCODERS[key] = (truncated_view(encoder, layer), tokenizer)  # only the layers the head reads
        return _ENCODERS[key]


class NameModel:
    """Encoder features (first subword of each word at ``layer``) + a linear head -> P(word is part of a name)."""

    def __init__(self, layer: int, coef: np.ndarray | None = None, intercept: float = 0.0,
                 threshold: float = 0.5, lone_initial_threshold: float = LONE_INITIAL_THRESHOLD,
                 base_model: str | None = None):
        self.layer = layer
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold
        self.lone_initial_threshold = lone_initial_threshold
        self.base_model = base_model
        self._encoder = None
        self._tokenizer = None
        self._lock = threading.Lock()

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

    def _load_encoder(self):
        with self._lock:
            if self._encoder is None:
                self._encoder, self._tokenizer = _truncated_encoder(self.base_model, self.layer)
        return self._encoder, self._tokenizer

    def encode(self, word_lists: list[list[str]], batch_size: int = 32) -> list[np.ndarray]:
        """Encoder features per word (first subword), one (n_words, hidden) array per word list."""
        import torch

        encoder, tokenizer = self._load_encoder()
        hidden = encoder.config.hidden_size
        out = [np.zeros((len(ws), hidden), dtype=np.float32) for ws in word_lists]
        chunks = [(k, s, ws[s : s + _CHUNK_WORDS]) for k, ws in enumerate(word_lists)
                  for s in range(0, len(ws), _CHUNK_WORDS)]
        chunks.sort(key=lambda c: sum(len(w) for w in c[2]))  # similar lengths together: less padding
        with torch.inference_mode():
            for b in range(0, len(chunks), batch_size):
                batch = chunks[b : b + batch_size]
                enc = tokenizer([c[2] for c in batch], is_split_into_words=True, return_tensors="pt", padding=True,
                                truncation=True, max_length=_MAX_TOKENS)
                states = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
                states = states.float().numpy()
                for j, (k, s, ws) in enumerate(batch):
                    seen = set()
                    for pos, w in enumerate(enc.word_ids(j)):
                        if w is not None and w not in seen:
                            seen.add(w)
                            out[k][s + w] = states[j, pos]
        return out

    def decide(self, words: list[str], line_start: list[bool], probs: np.ndarray) -> np.ndarray:
        """Which words the head marks as names (before the rules are added)."""
        return decide_names(words, line_start, probs, self.threshold, self.lone_initial_threshold)

    def features(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32
                 ) -> list[np.ndarray]:
        enc = self.encode(word_lists, batch_size)
        return [np.hstack([h, cheap_features(ws, ls)]) for h, ws, ls in zip(enc, word_lists, line_starts)]

    def probabilities(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32
                      ) -> list[np.ndarray]:
        feats = self.features(word_lists, line_starts, batch_size)
        return [1.0 / (1.0 + np.exp(-(f @ self.coef + self.intercept))) for f in feats]


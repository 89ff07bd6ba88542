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
from synpunkt.word_pieces import WordPieces

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


_PIECES_LOCK = threading.Lock()
_PIECES: dict[int, WordPieces] = {}


def _word_pieces(tokenizer) -> WordPieces:
    """The word-pieces cache of a tokenizer (one per process and tokenizer)."""
    with _PIECES_LOCK:
        if id(tokenizer) not in _PIECES:
            _PIECES[id(tokenizer)] = WordPieces(tokenizer)
        return _PIECES[id(tokenizer)]


def _first_pieces(word_ids: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """(token positions, word indices) of each word's first subword (words cut by truncation have none)."""
    positions, words, last = [], [], None
    for pos, w in enumerate(word_ids):
        if w is not None and w != last:
            positions.append(pos)
            words.append(w)
        last = w if w is not None else last
    return np.asarray(positions, dtype=np.intp), np.asarray(words, dtype=np.intp)


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
        self.backend: str | None = None  # None: synpunkt.ingest_encoders.ingest_backend's choice

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

    def encode(self, word_lists: list[list[str]], batch_size: int = 32,
               needed: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Encoder features per word (first subword), one (n_words, hidden) array per word list.

        `needed` (one boolean array per word list): a chunk of ``_CHUNK_WORDS`` words with no needed word is not
        encoded and its rows stay zero (chunks are encoded independently, so the others are unchanged)."""
        from synpunkt.ingest_encoders import encoder_batches, ingest_runner
        from synpunkt.word_pieces import pad

        runner, tokenizer, hidden = ingest_runner("words", self.base_model, self.layer, self.backend)
        pieces = _word_pieces(tokenizer)
        out = [np.zeros((len(ws), hidden), dtype=np.float32) for ws in word_lists]
        chunks = []
        for k, ws in enumerate(word_lists):
            for s in range(0, len(ws), _CHUNK_WORDS):
                if needed is None or needed[k][s : s + _CHUNK_WORDS].any():
                    ids, word_ids = pieces.encode(ws[s : s + _CHUNK_WORDS], _MAX_TOKENS)
                    chunks.append((k, s, ids, *_first_pieces(word_ids)))
        # similar lengths together (little padding), each call bounded (synpunkt.ingest_encoders)
        for idx in encoder_batches([len(c[2]) for c in chunks], runner.backend, batch_size):
            batch = [chunks[i] for i in idx]
            ids, mask = pad([c[2] for c in batch], tokenizer.pad_token_id)
            states = runner.run(ids, mask)[0]
            for j, (k, s, _, positions, words) in enumerate(batch):
                out[k][s + words] = states[j, positions]
        return out

    def decide(self, words: list[str], line_start: list[bool], probs: np.ndarray) -> np.ndarray:
        """Which words the head marks as names (before the rules are added)."""
        return decide_names(words, line_start, probs, self.threshold, self.lone_initial_threshold)

    def features(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32,
                 needed: list[np.ndarray] | None = None) -> list[np.ndarray]:
        enc = self.encode(word_lists, batch_size, needed)
        return [np.hstack([h, cheap_features(ws, ls)]) for h, ws, ls in zip(enc, word_lists, line_starts)]

    def probabilities(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32,
                      needed: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """P(name) per word. With `needed` (see encode) only the needed words' probabilities are meaningful."""
        feats = self.features(word_lists, line_starts, batch_size, needed)
        return [1.0 / (1.0 + np.exp(-(f @ self.coef + self.intercept))) for f in feats]


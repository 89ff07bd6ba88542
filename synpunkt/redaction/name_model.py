"""The name model: the base encoder's first layers (frozen) + a logistic-regression head -> P(word is a name).

Features are the hidden state at ``layer`` (6 of 12 for multilingual-E5-small) of the first token of each word in
"query: " + the whole text, the input the signal pass reads (so ingest takes them from that pass: its tokens graph
returns layer 6 too, synpunkt.ingest_compute), plus the hand-made ``CHEAP_FEATURES``. Where no such pass ran (metadata
cells, later redaction passes, the words past its 512 tokens) ``word_states`` reads the same input with the encoder
cut after ``layer`` layers. The head lives in ``models/redaction/``
(``name_head.npz`` + ``name_head.json``); ``synpunkt.redaction.name_model_training`` writes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synpunkt.config import PROJECT_ROOT, shared_datasets
from synpunkt.redaction.names import CHEAP_FEATURES, LONE_INITIAL_THRESHOLD, cheap_features, decide_names
from synpunkt.signals.features import MAX_LENGTH as MAX_TOKENS  # the name head reads the text as the signal pass
from synpunkt.signals.features import TEXT_PREFIX

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


INPUT = "query_text"
"""The head's input (name_head.json "input"): layer ``layer`` of "query: " + the whole text (up to MAX_TOKENS
tokens), at the first token overlapping each word; words past MAX_TOKENS are read from "query: " + the rest of the
text, from the first such word on."""


def joined(words: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """A text of `words` joined by spaces and each word's character offsets in it (pure)."""
    offsets, at = [], 0
    for w in words:
        offsets.append((at, at + len(w)))
        at += len(w) + 1
    return " ".join(words), offsets


def shared_word_states(tokens, offsets: Sequence[tuple[int, int]], states: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(per word: its row of `states` (n_words, hidden), zero where none; whether the word was read) from token
    `states` (tokens, hidden) of the encoder pass over `tokens` (synpunkt.word_pieces.TextTokens of "query: " +
    text: the signal pass's, not tokenised again); `offsets`: the words' characters in the text."""
    from synpunkt.word_pieces import word_positions

    positions = word_positions(tokens, offsets)
    read = positions >= 0
    out = np.zeros((len(offsets), states.shape[-1]), dtype=np.float32)
    out[read] = states[positions[read]]
    return out, read


class NameModel:
    """Encoder features (layer ``layer`` at each word's first token in "query: " + text) + a linear head
    -> P(word is part of a name)."""

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
        if meta.get("input") != INPUT:
            raise ValueError(f"{settings} was trained on another input than {INPUT!r}; retrain it with "
                             f"`{TRAIN_COMMAND}`")
        if coef.shape[0] != meta["feature_dim"]:
            raise ValueError(f"{head} does not match {settings} "
                             f"(feature size {coef.shape[0]} vs {meta['feature_dim']})")
        from synpunkt.config import DEFAULT_BASE_MODEL

        return cls(layer=int(meta["layer"]), coef=coef, intercept=intercept, threshold=float(meta["threshold"]),
                   lone_initial_threshold=float(meta.get("lone_initial_threshold", LONE_INITIAL_THRESHOLD)),
                   base_model=meta.get("base_model", DEFAULT_BASE_MODEL))

    @property
    def encoder_dim(self) -> int:
        """How many of the head's weights read the encoder (the rest read CHEAP_FEATURES)."""
        return len(self.coef) - len(CHEAP_FEATURES)

    def word_states(self, texts: Sequence[str], offsets: Sequence[Sequence[tuple[int, int]]],
                    needed: Sequence[np.ndarray] | None = None, batch_size: int = 32) -> list[np.ndarray]:
        """The head's encoder input per word, one (n_words, hidden) array per text: layer ``layer`` of
        "query: " + text at the first token overlapping the word (`offsets`: the words' characters in the text),
        on ingest's backend (graph "tokens" with this layer alone). Words past MAX_TOKENS tokens are read from
        "query: " + the rest of the text, from the first of them on, as often as it takes. `needed` (one boolean
        array per text): texts with no needed word are not encoded, and their rows (and the rows of words no
        read reached) stay zero."""
        from synpunkt.fast_tokenize import fast_tokenizer
        from synpunkt.ingest_encoders import encoder_batches, ingest_runner
        from synpunkt.word_pieces import PAST_END, first_tokens, pad

        runner, tokenizer, hidden = ingest_runner("tokens", self.base_model, (self.layer,), self.backend)
        fast = fast_tokenizer(tokenizer)
        out = [np.zeros((len(o), hidden), dtype=np.float32) for o in offsets]
        want = [np.ones(len(o), dtype=bool) if needed is None else np.asarray(needed[k], dtype=bool)
                for k, o in enumerate(offsets)]
        pending = [(k, 0) for k in range(len(texts)) if want[k].any()]
        while pending:  # (text, first word of the read)
            reads, pending_next = [], []
            for k, first in pending:
                cut = offsets[k][first][0]
                ids, positions = first_tokens(fast, texts[k][cut:], [(s - cut, e - cut) for s, e in offsets[k][first:]],
                                              TEXT_PREFIX, MAX_TOKENS)
                reads.append((k, first, ids, positions))
                past = np.flatnonzero(positions == PAST_END)
                if len(past) and past[0] > 0 and want[k][first + past[0]:].any():
                    pending_next.append((k, first + int(past[0])))
            # similar lengths together (little padding), each call bounded (synpunkt.ingest_encoders)
            for idx in encoder_batches([len(r[2]) for r in reads], runner.backend, batch_size):
                batch = [reads[i] for i in idx]
                ids, mask = pad([r[2] for r in batch], tokenizer.pad_token_id)
                states = runner.run(ids, mask)[0]
                for j, (k, first, _, positions) in enumerate(batch):
                    read = np.flatnonzero(positions >= 0)
                    out[k][first + read] = states[j, positions[read]]
            pending = pending_next
        return out

    def shared_logits(self, offsets: Sequence[tuple[int, int]], tokens, states: np.ndarray) -> np.ndarray:
        """The encoder part of the head's logit per word (NaN where the pass did not reach the word) from another
        encoder pass over "query: " + text: its `tokens` (synpunkt.word_pieces.TextTokens) and their layer-``layer``
        token `states` (tokens, hidden); `offsets`: the words' characters in the text."""
        words, read = shared_word_states(tokens, offsets, states)
        return np.where(read, words @ self.coef[: self.encoder_dim], np.nan).astype(np.float32)

    def features(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32,
                 needed: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """The head's input per word: word_states of the words joined by spaces, and CHEAP_FEATURES."""
        texts, offsets = zip(*[joined(ws) for ws in word_lists]) if word_lists else ((), ())
        enc = self.word_states(texts, offsets, needed, batch_size)
        return [np.hstack([h, cheap_features(ws, ls)]) for h, ws, ls in zip(enc, word_lists, line_starts)]

    def probabilities(self, word_lists: list[list[str]], line_starts: list[list[bool]], batch_size: int = 32,
                      needed: list[np.ndarray] | None = None, texts: Sequence[str] | None = None,
                      offsets: Sequence[Sequence[tuple[int, int]]] | None = None,
                      encoder_logits: Sequence[np.ndarray | None] | None = None) -> list[np.ndarray]:
        """P(name) per word. `texts` and `offsets`: the text the words were cut from and their characters (default:
        the words joined by spaces). `encoder_logits` (per text, or None): shared_logits from another pass; the
        words it did not reach are encoded here. With `needed` (see word_states) only the needed words'
        probabilities are meaningful."""
        if texts is None or offsets is None:
            texts, offsets = zip(*[joined(ws) for ws in word_lists]) if word_lists else ((), ())
        given = list(encoder_logits) if encoder_logits is not None else [None] * len(word_lists)
        need = [np.ones(len(ws), dtype=bool) if needed is None else np.asarray(needed[k], dtype=bool)
                for k, ws in enumerate(word_lists)]
        missing = [n if g is None else n & np.isnan(g) for n, g in zip(need, given)]
        states = self.word_states(texts, offsets, missing, batch_size)
        weights, cheap_weights = self.coef[: self.encoder_dim], self.coef[self.encoder_dim:]
        out = []
        for h, g, ws, ls in zip(states, given, word_lists, line_starts):
            enc = h @ weights
            if g is not None:
                enc = np.where(np.isnan(g), enc, g)
            out.append(1.0 / (1.0 + np.exp(-(enc + cheap_features(ws, ls) @ cheap_weights + self.intercept))))
        return out

    def decide(self, words: list[str], line_start: list[bool], probs: np.ndarray) -> np.ndarray:
        """Which words the head marks as names (before the rules are added)."""
        return decide_names(words, line_start, probs, self.threshold, self.lone_initial_threshold)

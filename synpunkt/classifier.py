"""The classifier that the pipeline and analysts use: ``Classifier.load().predict(texts)``.

The network runs on an inference backend (synpunkt.inference: torch, onnx, onnx-int8, cuda). Predictions carry the
model's version on the backends that give the torch reference's answers (torch, onnx, cuda), and the version with a
suffix on onnx-int8, whose quantised weights change some answers ("name@hash+onnx-int8":
synpunkt.inference.stored_version), so that the warehouse never takes one for the other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from synpunkt import config
from synpunkt.classifier_inputs import BatchInputs, PreparedBatch, prepared_batches
from synpunkt.config import model_dir as default_model_dir
from synpunkt.fast_tokenize import FastTokenizer, fast_tokenizer
from synpunkt.inference import GraphRunner, make_runner, reference_version, resolve_backend, stored_version
from synpunkt.inference.torch_runner import bf16_supported, resolve_precision  # noqa: F401 (their old home)
from synpunkt.labels import prob_column
from synpunkt.model import CommentClassifier, ModelSettings, load_model, model_version
from synpunkt.textnorm import load_word_lists, normalise
from synpunkt.topic_lexicon import LEXICON_KEY, TopicLexicon, blend
from synpunkt.word_pieces import pad

log = logging.getLogger(__name__)

PROGRESS_THRESHOLD = 500
"""Inputs at least this long show a progress bar by default."""

OUTPUTS = ("sentiment", "topics", "topic_sentiment")
"""The classifier graph's outputs, in order."""
BATCH_SIZES = {"torch": 32, "onnx": 16, "onnx-int8": 16, "cuda": 256}
"""Comments per forward pass by backend, in length-sorted batches. On the CPU, torch (bf16) is fastest at 32 and ONNX
Runtime at 16 (measured 4 to 128 on the shipped model); a GPU wants large batches."""


class ClassifierGraph(torch.nn.Module):
    """The classifier as a graph for synpunkt.inference: (sentiment, topics, topic_sentiment) logits as a tuple."""

    def __init__(self, model: CommentClassifier):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(input_ids, attention_mask)
        return tuple(out[name] for name in OUTPUTS)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def is_blank(text) -> bool:
    """True for a missing value (None, NaN of any float type, pd.NA, NaT), and for empty or whitespace-only text."""
    if text is None or (np.ndim(text) == 0 and not isinstance(text, (str, bytes)) and pd.isna(text)):
        return True
    return not str(text).strip()


def check_texts(texts: Sequence) -> None:
    """Raise TypeError for items that are neither text nor a missing value (bytes, numbers, booleans): a number
    read as the text "42" would get a sentiment nobody wrote. Names the first position, never the value."""
    for i, t in enumerate(texts):
        if not isinstance(t, str) and not is_blank(t):
            raise TypeError(f"predict() takes texts: item {i} is a {type(t).__name__}, not a str (decode bytes, "
                            "and give missing comments as None)")


class Classifier:
    """Sentiment and topic classifier for Swedish citizen comments.

    ``predict(texts)`` returns one row per text: ``sentiment``, ``p_positive``, ``p_skeptical``,
    ``p_negative``, ``topics`` (list), ``p_<topic>`` for each topic, and ``model_version`` (``version``). Blank
    texts get an explicit null result (sentiment None, probabilities NaN, no topics).

    ``backend`` says where the network runs (synpunkt.inference.BACKENDS). The constructor, which training uses on
    a model not saved yet, runs the torch reference unless told otherwise; ``load`` resolves the backend.
    ``base_version`` is the model files' version; ``version``, what the predictions carry, adds the backend's suffix
    where its answers are not the reference's (synpunkt.inference.stored_version).

    ``lexicon`` (the model directory's topic_lexicon.npz, synpunkt.topic_lexicon) is blended into the topic
    probabilities with the weight ``settings.topic_lexicon_weight``; without one the topic head stands alone.
    """

    def __init__(self, model: CommentClassifier, tokenizer, settings: ModelSettings, version: str,
                 precision: str | None = None, backend: str = "torch", lexicon: TopicLexicon | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        self.version = version  # base_version, the model files' (a backend's suffix in it is dropped)
        self.runner: GraphRunner = make_runner(ClassifierGraph(self.model), backend, output_names=OUTPUTS,
                                               cache_key=f"classifier-{self.base_version}", precision=precision)
        self.backend = self.runner.backend
        self.precision = getattr(self.runner, "precision", "fp32")  # torch: fp32 or bf16; onnx-int8: int8
        self._fast: FastTokenizer | bool | None = None  # built on first use (_encode)
        self.lexicon = lexicon
        self.last_truncated = 0  # texts of the last logits() call that filled the token limit
        self.prep_workers: int | None = None  # processes preparing inputs (None: config.prep_workers)

    @classmethod
    def load(cls, model_dir: str | Path | None = None, encoder=None, tokenizer=None,
             precision: str | None = None, backend: str | None = None) -> "Classifier":
        """Load a model directory (default: SYNPUNKT_MODEL or the shipped model).

        precision (torch backend): 'auto' (bfloat16 autocast where the CPU has native bf16, else float32), 'fp32'
        or 'bf16'. backend: one of synpunkt.inference.BACKENDS or 'auto'; default SYNPUNKT_BACKEND, else the
        default recorded in the model's backends.json (synpunkt compare-backends), else torch.
        """
        model_dir = Path(model_dir or default_model_dir())
        chosen = resolve_backend(backend, model_dir)  # before the slow part: a bad name fails at once
        model, tok, settings = load_model(model_dir, encoder=encoder, tokenizer=tokenizer)
        if settings.respell:
            load_word_lists()  # here rather than in the first batch (about a second)
        return cls(model, tok, settings, model_version(model_dir), precision, backend=chosen,
                   lexicon=TopicLexicon.load(model_dir))

    @property
    def version(self) -> str:
        """The model version its predictions carry: base_version, with the backend's suffix where the backend's
        answers are not the reference's ("name@hash+onnx-int8")."""
        return stored_version(self.base_version, self.backend)

    @version.setter
    def version(self, value: str) -> None:
        self.base_version = reference_version(value)

    # -- raw scores -------------------------------------------------------------------------------------
    def logits(self, texts: Sequence[str], batch_size: int | None = None,
               progress: bool | None = None) -> dict[str, np.ndarray]:
        """Uncalibrated logits for non-blank texts: sentiment [n,3], topics [n,5], topic_sentiment [n,5,3]; with a
        topic lexicon also its probabilities [n,5] under LEXICON_KEY (blended in by ``probabilities``).

        batch_size: comments per forward pass (default: BATCH_SIZES for the backend). Afterwards
        ``last_truncated`` counts the texts that filled the token limit (read only up to it; logged as a warning).
        """
        texts = [normalise(str(t), self.settings.unshout, self.settings.respell) for t in texts]
        batch_size = batch_size or BATCH_SIZES[self.backend]
        prefix = self.settings.text_prefix
        order = np.argsort([len(prefix) + len(t) for t in texts], kind="stable")  # length-sorted: little padding
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        limit = min(self.settings.max_length, self.tokenizer.model_max_length)  # never past the encoder's positions
        lexicon = self.lexicon.predict_proba if self.lexicon is not None else None
        self._fast_tokenizer()
        inputs = BatchInputs(texts, batches, prefix, lambda chosen: self._encode(chosen, limit), lexicon)
        outputs: dict[str, list[np.ndarray]] = {key: [] for key in (*OUTPUTS, *([LEXICON_KEY] if lexicon else []))}
        show = len(texts) >= PROGRESS_THRESHOLD if progress is None else progress
        workers = config.prep_workers(self.backend) if self.prep_workers is None else self.prep_workers
        self.last_truncated = 0
        for batch in _progress(prepared_batches(inputs, workers), show, total=len(texts)):
            self.last_truncated += int((batch.attention_mask.sum(axis=1) >= limit).sum())
            for key, value in zip(OUTPUTS, self.runner.run(batch.input_ids, batch.attention_mask)):
                outputs[key].append(value)
            if batch.lexical is not None:
                outputs[LEXICON_KEY].append(batch.lexical)
        if self.last_truncated:
            log.warning("%d of %d comments fill the model's %d tokens: only the beginning of each was read",
                        self.last_truncated, len(texts), limit)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return {k: (np.concatenate(v)[inverse] if v else np.zeros((0,))) for k, v in outputs.items()}

    def _encode(self, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask) of one batch, as ``tokenizer(texts, padding=True, truncation=True,
        max_length=max_length, return_tensors="np")`` gives them: through synpunkt.fast_tokenize (the same ids; the
        converted tokenizer's own normaliser, some 2,700 regex passes, took about a third of the stage's CPU time)
        for a right-padding tokenizer whose normaliser it can translate, through the tokenizer itself otherwise."""
        if not self._fast_tokenizer():
            enc = self.tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
            return enc["input_ids"], enc["attention_mask"]
        return pad(self._fast.encode(texts, max_length), self.tokenizer.pad_token_id)

    def _fast_tokenizer(self) -> FastTokenizer | bool:
        """synpunkt.fast_tokenize's tokenizer for this model, or False where it cannot stand in; built once (before
        any worker process starts, so that each inherits it)."""
        if self._fast is None:
            usable = hasattr(self.tokenizer, "backend_tokenizer") and self.tokenizer.padding_side == "right"
            fast = fast_tokenizer(self.tokenizer) if usable else None
            self._fast = fast if fast is not None and fast.fast else False
        return self._fast

    def probabilities(self, logits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Calibrated probabilities from logits (``calibrated`` with this model's settings)."""
        return calibrated(logits, self.settings)

    # -- the interface ----------------------------------------------------------------------------------
    def predict(self, texts: Sequence[str], batch_size: int | None = None, progress: bool | None = None,
                topic_sentiment: bool = False) -> pd.DataFrame:
        """Classify texts; one row per input, in input order.

        With topic_sentiment=True a ``topic_sentiment`` column maps each predicted topic to the sentiment
        expressed towards it ({"handler": "positive", "wait_time": "negative"}), and ``topic_sentiment_p`` holds,
        for each predicted topic in ``topics`` order, the per-topic head's probabilities in sentiment order
        ([[p_positive, p_skeptical, p_negative], ...]; what per-topic PACC shares add up, synpunkt.trends).
        """
        if isinstance(texts, str):
            raise TypeError("predict() takes a list of texts; wrap a single text in a list")
        texts = list(texts)
        check_texts(texts)
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
        keep = [i for i, t in enumerate(texts) if not is_blank(t)]
        if len(keep) < len(texts):
            log.info("%d blank text(s) get a null prediction", len(texts) - len(keep))
        probs = self.probabilities(self.logits([texts[i] for i in keep], batch_size, progress)) if keep else None
        return prediction_table(probs, keep, len(texts), self.settings, self.version, topic_sentiment)


def calibrated(logits: dict[str, np.ndarray], settings: ModelSettings) -> dict[str, np.ndarray]:
    """Calibrated probabilities from a classifier's logits (pure): temperature scaling fitted at training time (for
    sentiment with a bias per class where the model was calibrated so);
    topics blended with the lexicon's probabilities where ``logits`` hold them under LEXICON_KEY
    (synpunkt.topic_lexicon.blend)."""
    s = settings
    topics = sigmoid(logits["topics"] / s.topic_temperature)
    sentiment = logits["sentiment"] / s.sentiment_temperature
    return {
        "sentiment": softmax(sentiment + np.asarray(s.sentiment_bias) if s.sentiment_bias else sentiment),
        "topics": blend(topics, logits[LEXICON_KEY], s.topic_lexicon_weight) if LEXICON_KEY in logits else topics,
        "topic_sentiment": softmax(logits["topic_sentiment"], axis=-1),
    }


def prediction_table(probs: dict[str, np.ndarray] | None, keep: Sequence[int], n: int, settings: ModelSettings,
                     version: str, topic_sentiment: bool = False) -> pd.DataFrame:
    """Classifier.predict's table for `n` texts (pure): `probs` (``calibrated``'s, one row per kept text, or None)
    fill the rows `keep`; the other rows get the null result (sentiment None, probabilities NaN, no topics)."""
    s, keep = settings, list(keep)
    table: dict[str, object] = {"sentiment": np.full(n, None, dtype=object)}
    p_sent = np.full((n, len(s.sentiments)), np.nan)
    p_top = np.full((n, len(s.topics)), np.nan)
    if probs is not None:
        p_sent[keep] = probs["sentiment"]
        p_top[keep] = probs["topics"]
        table["sentiment"][keep] = np.asarray(s.sentiments, dtype=object)[probs["sentiment"].argmax(1)]
    for j, label in enumerate(s.sentiments):
        table[prob_column(label)] = p_sent[:, j]
    thresholds = np.array([s.topic_thresholds.get(t, 0.5) for t in s.topics])
    table["topics"] = [
        [t for t, p, th in zip(s.topics, row, thresholds) if p >= th] if not np.isnan(row).any() else []
        for row in p_top
    ]
    for j, label in enumerate(s.topics):
        table[prob_column(label)] = p_top[:, j]
    if topic_sentiment:
        per_topic, per_topic_p = np.full(n, None, dtype=object), [[] for _ in range(n)]
        if probs is not None:
            best = probs["topic_sentiment"].argmax(-1)  # [kept, topics]
            for row, k in enumerate(keep):
                columns = [s.topics.index(t) for t in table["topics"][k]]
                per_topic[k] = {s.topics[c]: s.sentiments[best[row, c]] for c in columns}
                per_topic_p[k] = probs["topic_sentiment"][row, columns].astype(float).tolist()
        table["topic_sentiment"] = [d if d is not None else {} for d in per_topic]
        table["topic_sentiment_p"] = per_topic_p
    table["model_version"] = version
    return pd.DataFrame(table)


def _progress(batches: Iterator[PreparedBatch], show: bool, total: int) -> Iterator[PreparedBatch]:
    """Iterate batches, with a tqdm bar counting comments when show is true."""
    if not show:
        yield from batches
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="comment", desc="Classifying") as bar:
        for b in batches:
            yield b
            bar.update(len(b.positions))

"""The classifier's predictions from ingest's one encoder pass (issue 11: no work twice).

When the signal heads read the classifier's own merged encoder (a ``classifier:DIR`` base model with the same
weights as the default classifier: synpunkt.classifier_encoder), ingest's pass already holds, for every distinct
text, the token mean of the encoder's last layer over "query: " + text: the classifier's pooled vector
(CommentClassifier.forward) whenever the classifier reads the same tokens. Its three heads are three small matrices,
so ingest stores the comment's prediction with the classifier's model_version and the classify stage skips it
(``count_unclassified``/``unclassified`` look for a prediction of the current version).

A comment gets its prediction at ingest only when the classifier would read exactly what the pass read
(``eligible``): its stored (redacted) text is the text as read, it is not blank, the model's input normalisation
(unshouting, respelling) leaves it unchanged and the pass's tokens fit the classifier's length limit (256 tokens
against the pass's 512). Every other comment is classified by the classify stage, as before.

``IngestClassifier`` holds what that takes and no network: the settings, the heads' weights (numpy), the topic
lexicon, the model_version and the weights' digest; the pass's fp32 states give the torch fp32 reference's answers
(probabilities within float tolerance). Nothing here logs or stores text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.classifier import calibrated, is_blank, prediction_table
from synpunkt.model import WEIGHTS_FILE, ModelSettings, model_version
from synpunkt.textnorm import normalise
from synpunkt.topic_lexicon import LEXICON_KEY, TopicLexicon

log = logging.getLogger(__name__)

HEADS = {"sentiment": "sentiment_head", "topics": "topic_head", "topic_sentiment": "topic_sentiment_head"}
"""Classifier output -> the Linear head in trained_weights.safetensors (``<head>.weight`` [out, hidden], ``.bias``)."""


def fits(tokens: int, limit: int, pass_limit: int) -> bool:
    """True when the classifier reads the same tokens as the pass did (pure): `tokens` (the pass's count, special
    tokens included, cut at `pass_limit`) within the classifier's `limit`, and not possibly cut by the pass unless
    both cut at the same length."""
    return tokens <= limit and (tokens < pass_limit or pass_limit == limit)


def eligible(text, stored, tokens: int | None, unshouts: bool, limit: int, pass_limit: int,
             respells: bool = False) -> bool:
    """Whether a comment's prediction can come from the pass (pure): `text` as read (what the pass encoded), the
    `stored` text (what the classify stage would read) equal to it, not blank, unchanged by the model's input
    normalisation (unshout where it `unshouts`, respell where it `respells`), and its pass's token count `tokens`
    (None: not read by the pass) ``fits`` the limits."""
    if tokens is None or not isinstance(text, str) or not isinstance(stored, str) or stored != text:
        return False
    if is_blank(text) or normalise(text, unshouts, respells) != text:
        return False
    return fits(int(tokens), limit, pass_limit)


@dataclass(eq=False)
class IngestClassifier:
    """A classifier's heads without its encoder: predictions from pooled last-layer states (``predict``)."""

    directory: Path
    settings: ModelSettings
    weights: dict[str, tuple[np.ndarray, np.ndarray]]  # output -> (weight [out, hidden], bias [out]), float32
    lexicon: TopicLexicon | None
    version: str
    digest: str
    _shares: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, model_dir: str | Path | None = None) -> "IngestClassifier":
        """The classifier in `model_dir` (default: SYNPUNKT_MODEL or the shipped model), heads only."""
        from safetensors import safe_open

        from synpunkt.classifier_encoder import weights_digest
        from synpunkt.config import model_dir as default_model_dir

        directory = Path(model_dir or default_model_dir()).resolve()
        settings = ModelSettings.load(directory)
        with safe_open(str(directory / WEIGHTS_FILE), framework="numpy") as f:
            weights = {out: (f.get_tensor(f"{head}.weight").astype(np.float32),
                             f.get_tensor(f"{head}.bias").astype(np.float32)) for out, head in HEADS.items()}
        return cls(directory, settings, weights, TopicLexicon.load(directory), model_version(directory),
                   weights_digest(directory))

    def shares_pass(self, detector) -> bool:
        """True when `detector`'s encoder pass gives this classifier's pooled vectors: it reads a classifier:DIR
        encoder with this classifier's weights (same digest), its encoded layers include the encoder's last
        layer, and both put the same prefix before the text."""
        from synpunkt import classifier_encoder
        from synpunkt.signals.features import TEXT_PREFIX

        encoder = getattr(detector, "encoder", None)
        base = getattr(encoder, "base_model", None)
        if not classifier_encoder.is_spec(base) or self.settings.text_prefix != TEXT_PREFIX:
            return False
        key = (base, tuple(encoder.layers))
        if key not in self._shares:
            same = classifier_encoder.weights_digest(classifier_encoder.directory(base)) == self.digest
            self._shares[key] = same and self.last_layer(detector) in encoder.layers
        return self._shares[key]

    @staticmethod
    def last_layer(detector) -> int:
        """The number of the last layer of the detector's encoder (its hidden layers' count)."""
        from synpunkt.base_model import shared_base

        return int(shared_base(detector.encoder.base_model)[0].config.num_hidden_layers)

    def token_limit(self, detector) -> int:
        """Tokens the classifier reads at most: min(settings.max_length, the tokenizer's model_max_length), as
        Classifier.logits cuts them (the pass's tokenizer is the classifier's: the same encoder)."""
        from synpunkt.base_model import shared_base

        return min(self.settings.max_length, int(shared_base(detector.encoder.base_model)[1].model_max_length))

    def logits(self, pooled: np.ndarray, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Classifier.logits from pooled last-layer vectors (n, hidden) of `texts` (the lexicon reads the texts)."""
        pooled = np.asarray(pooled, dtype=np.float32)
        out = {name: pooled @ w.T + b for name, (w, b) in self.weights.items()}
        out["topic_sentiment"] = out["topic_sentiment"].reshape(len(pooled), len(self.settings.topics),
                                                                len(self.settings.sentiments))
        if self.lexicon is not None:
            out[LEXICON_KEY] = self.lexicon.predict_proba(list(texts))
        return out

    def predict(self, pooled: np.ndarray, texts: Sequence[str]) -> pd.DataFrame:
        """Classifier.predict(texts, topic_sentiment=True) from the texts' pooled vectors (none of them blank)."""
        n = len(texts)
        probs = calibrated(self.logits(pooled, texts), self.settings) if n else None
        return prediction_table(probs, range(n), n, self.settings, self.version, topic_sentiment=True)

    def pass_predictions(self, detector, comment_ids: Sequence[str], texts: Sequence, stored: Sequence,
                         whole: np.ndarray, tokens: Sequence[int | None]) -> pd.DataFrame:
        """comment_id + predict()'s columns for the comments whose prediction the pass gives (``eligible``); row j
        of `whole` (the pass's token means of detector.encoder.layers, concatenated) and `tokens` belong to
        comment j. Empty (same columns) when the detector's pass is not this classifier's."""
        if not len(comment_ids) or not self.shares_pass(detector):
            return empty_predictions(self.settings)
        limit, pass_limit = self.token_limit(detector), int(detector.encoder.max_length)
        keep = [j for j in range(len(comment_ids))
                if eligible(texts[j], stored[j], tokens[j], self.settings.unshout, limit, pass_limit,
                         self.settings.respell)]
        if not keep:
            return empty_predictions(self.settings)
        layers = tuple(detector.encoder.layers)
        hidden = whole.shape[1] // len(layers)
        at = layers.index(self.last_layer(detector)) * hidden
        table = self.predict(whole[keep, at:at + hidden], [texts[j] for j in keep])
        table.insert(0, "comment_id", [comment_ids[j] for j in keep])
        return table


def empty_predictions(settings: ModelSettings | None = None) -> pd.DataFrame:
    """No predictions: comment_id + Classifier.predict(topic_sentiment=True)'s columns, no rows."""
    table = prediction_table(None, [], 0, settings or ModelSettings(), "", topic_sentiment=True)
    table.insert(0, "comment_id", pd.Series([], dtype=object))
    return table


_DEFAULT: dict[str, IngestClassifier | None] = {}
_LOCK = threading.Lock()


def classifier_for(detector, model_dir: str | Path | None = None) -> IngestClassifier | None:
    """default_classifier(model_dir) where `detector` reads a classifier's encoder (it may share the pass), else
    None (the heads read another encoder: nothing to load)."""
    from synpunkt.classifier_encoder import is_spec

    if not is_spec(getattr(getattr(detector, "encoder", None), "base_model", None)):
        return None
    return default_classifier(model_dir)


def default_classifier(model_dir: str | Path | None = None) -> IngestClassifier | None:
    """The heads of the classifier in `model_dir` (default: SYNPUNKT_MODEL or the shipped model: the classify
    stage's), loaded once per process and model folder, and again when its files change (a worker outlives a
    retraining); None where that folder holds no classifier (then the classify stage does all the work)."""
    from synpunkt.config import model_dir as default_model_dir

    key = str(Path(model_dir or default_model_dir()).resolve())
    with _LOCK:
        try:
            cached = _DEFAULT.get(key)
            if cached is None or cached.version != model_version(Path(key)):
                _DEFAULT[key] = IngestClassifier.load(key)
        except FileNotFoundError:
            if key not in _DEFAULT or _DEFAULT[key] is not None:  # once, not per chunk
                log.warning("no classifier in the model folder: the classify stage scores every comment")
            _DEFAULT[key] = None
        return _DEFAULT[key]


def forget() -> None:
    """Drop this process's cached classifier heads (synpunkt.ingest_encoders.forget_models)."""
    with _LOCK:
        _DEFAULT.clear()

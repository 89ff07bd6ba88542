"""Detection of urgent comments and repeat contacts on the full, unredacted text (in memory, during ingest).

``Detector.load().detect(texts)`` returns one row per text: ``category`` (threat, self_harm,
violence_close_relationship or None), ``probability`` (that the comment is urgent: 1 - p(none) of the whole text;
at least RULE_PROBABILITY when a rule flagged it), ``rule`` (True when an unmistakable phrase decided it),
``repeat_p`` and ``repeat_contact``.

How the urgent head scores a text follows the heads' settings (urgent_scoring): "whole", the whole text's token
means; "max_span" (the shipped heads), the whole text at its threshold OR, by the span head at its own threshold,
its most urgent sentence, each sentence's token means read from the same encoder pass (synpunkt/signals/spans.py,
span_head.py; ``probability`` is then that sentence's when it alone flags the comment; heads without a span head
score the most urgent of the whole text and its spans with the urgent head); "max_window", the most urgent of the
whole text and its re-encoded sentence windows (synpunkt/signals/windows.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.signals.data import ALERT_CATEGORIES
from synpunkt.signals.features import FeatureEncoder
from synpunkt.signals.heads import SignalHeads
from synpunkt.signals.repeat_cues import cue_features
from synpunkt.signals.rules import rule_category
from synpunkt.signals.windows import MAX_WINDOW_WORDS, WINDOW_SENTENCES, max_window_probabilities, window_table

RULE_PROBABILITY = 0.9
"""The least probability reported for a comment an unmistakable phrase flagged."""
DETECT_COLUMNS = ["category", "probability", "rule", "repeat_p", "repeat_contact"]


def decide(urgent_p: np.ndarray, classes: Sequence[str], threshold: float | np.ndarray,
           rules: Sequence[str | None]) -> pd.DataFrame:
    """category, probability and rule from the urgent head's probabilities, its threshold and the rules (pure).

    ``probability`` is the head's probability that the comment is urgent at all (1 - p(none)); a comment is
    flagged when it reaches the threshold (one for all rows, or one per row), with the most probable urgent
    category. A rule's category overrides the model, with a probability of at least RULE_PROBABILITY.
    """
    idx = [list(classes).index(c) for c in ALERT_CATEGORIES]
    urgent = urgent_p[:, idx]
    p_urgent = urgent.sum(axis=1)
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), p_urgent.shape)
    cats, probs, by_rule = [], [], []
    for row, total, threshold, rule in zip(urgent, p_urgent, thresholds, rules):
        if rule is not None:
            cats.append(rule)
            probs.append(max(float(total), RULE_PROBABILITY))
        else:
            cats.append(ALERT_CATEGORIES[int(row.argmax())] if total >= threshold else None)
            probs.append(float(total))
        by_rule.append(rule is not None)
    return pd.DataFrame({"category": pd.Series(cats, dtype=object), "probability": probs, "rule": by_rule})


class Detector:
    """The shipped signal heads with their encoder (loaded once, reused for every chunk)."""

    def __init__(self, heads: SignalHeads, encoder: FeatureEncoder | None = None):
        self.heads = heads
        self.encoder = encoder or FeatureEncoder(base_model=heads.base_model, layers=heads.encoded_layers,
                                                 max_length=heads.settings.get("max_length", 512))

    @classmethod
    def load(cls, directory: Path | None = None) -> "Detector":
        return cls(SignalHeads.load(directory))

    @property
    def version(self) -> str:
        return self.heads.version

    @property
    def windowed(self) -> bool:
        """True when the urgent head scores sentence windows too (settings urgent_scoring = "max_window");
        heads without the setting score the whole text only."""
        return self.heads.settings.get("urgent_scoring", "whole") == "max_window"

    @property
    def spanned(self) -> bool:
        """True when the urgent head scores sentence spans of the same encoder pass too (urgent_scoring =
        "max_span")."""
        return self.heads.settings.get("urgent_scoring", "whole") == "max_span"

    def windows(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The windows the urgent head scores besides the whole texts, and their rows (none when not windowed)."""
        if not self.windowed:
            return [], np.zeros(0, dtype=int)
        s = self.heads.settings
        return window_table(texts, s.get("window_sentences", WINDOW_SENTENCES),
                            s.get("max_window_words", MAX_WINDOW_WORDS))

    def urgent_probabilities(self, features: np.ndarray, window_features: np.ndarray | None = None,
                             window_rows: np.ndarray | None = None) -> np.ndarray:
        """(n, classes) urgent probabilities: the whole text's, or its most urgent window's when windowed
        (features of the encoded layers; the urgent head takes its own)."""
        head = self.heads.urgent
        whole = head.probabilities(self.heads.head_features(features, "urgent"))
        if window_rows is None or not len(window_rows):
            return whole
        return max_window_probabilities(whole, head.probabilities(self.heads.head_features(window_features, "urgent")),
                                        window_rows, head.classes.index("none"))

    def span_probabilities(self, n: int, span_features: np.ndarray | None, span_rows: np.ndarray | None
                           ) -> np.ndarray:
        """(n, classes) probabilities of each text's most urgent sentence span by the span head (p(none) = 1 for a
        text without spans)."""
        head = self.heads.urgent_span
        none = head.classes.index("none")
        out = np.zeros((n, len(head.classes)))
        out[:, none] = 1.0
        if span_rows is None or not len(span_rows):
            return out
        return max_window_probabilities(out, head.probabilities(self.heads.head_features(span_features, "urgent")),
                                        span_rows, none)

    def detect_features(self, features: np.ndarray, texts: Sequence[str], window_features: np.ndarray | None = None,
                        window_rows: np.ndarray | None = None) -> pd.DataFrame:
        """detect() from precomputed features (the training command evaluates with it); window_features and
        window_rows are the features of self.windows(texts) when the head is windowed, or of the texts' sentence
        spans (FeatureEncoder.encode_spans) when it scores spans; the urgent head keeps the most urgent of the whole
        text and these. Features are the token means
        of the encoded layers (heads.encoded_layers, concatenated); each head takes its own layers' columns."""
        if not len(texts):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in DETECT_COLUMNS})
        rules = [rule_category(t) for t in texts]
        if self.spanned and self.heads.urgent_span is not None:  # whole text >= threshold, or a span >= its own
            classes = self.heads.urgent.classes
            if self.heads.urgent_span.classes != classes:
                raise ValueError("the span head's classes differ from the urgent head's")
            urgent, threshold = span_decision(self.urgent_probabilities(features),
                                              self.span_probabilities(len(texts), window_features, window_rows),
                                              classes.index("none"), self.heads.thresholds["urgent"],
                                              self.heads.thresholds["urgent_span"])
        else:
            urgent = self.urgent_probabilities(features, window_features, window_rows)
            threshold = self.heads.thresholds["urgent"]
        out = decide(urgent, self.heads.urgent.classes, threshold, rules)
        repeat_p = self.heads.repeat.probabilities(np.hstack([self.heads.head_features(features, "repeat"),
                                                              cue_features(texts)]))[:, 1]
        out["repeat_p"] = repeat_p
        out["repeat_contact"] = repeat_p >= self.heads.thresholds["repeat_contact"]
        return out

    def detect(self, texts: Sequence[str]) -> pd.DataFrame:
        """One row per text (see the module docstring). Texts are never stored or logged here."""
        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return self.detect_features(np.zeros((0, 0)), texts)
        if not self.windowed:  # the pass ingest shares with the name model (whole-text and sentence-span means
            # from the same hidden states): the same features here and there, to the bit
            whole, spans, rows = self.encoder.encode_spans(
                texts, self.heads.settings.get("max_window_words", MAX_WINDOW_WORDS))
            return self.detect_features(whole, texts, *((spans, rows) if self.spanned else ()))
        flat, rows = self.windows(texts)
        features = self.encoder.encode([*texts, *flat])  # one call: windows batch with texts of their length
        return self.detect_features(features[:len(texts)], texts, features[len(texts):], rows)


def span_decision(whole: np.ndarray, span: np.ndarray, none_index: int, threshold: float,
                  span_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, threshold) per row for decide() when a span head scores sentence spans (pure): the whole
    text's with the urgent threshold, unless the whole text stays under it and the most urgent span (span: its
    probabilities, p(none) = 1 without spans) reaches the span threshold: then that span's, with the span's."""
    span_total = 1 - span[:, none_index]
    use_span = (1 - whole[:, none_index] < threshold) & (span_total >= span_threshold) & (span_total > 0)
    return (np.where(use_span[:, None], span, whole),
            np.where(use_span, span_threshold, threshold))


_DEFAULT: Detector | None = None


def default_detector() -> Detector:
    """The shipped heads (SYNPUNKT_SIGNALS_MODEL overrides the folder), loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        from synpunkt.config import signals_dir

        _DEFAULT = Detector.load(signals_dir())
    return _DEFAULT


def detect(texts: Sequence[str]) -> pd.DataFrame:
    """detect() with the shipped heads (loaded on first use)."""
    return default_detector().detect(texts)

"""The Redactor: finds personal data (patterns, name rules, the name model) and replaces it with placeholders.

Every hit is replaced with a typed placeholder (``PLACEHOLDERS``). Placeholders already in the text are left
alone and redaction is idempotent: the redactor re-runs on its own output until nothing more is found (at most
``max_passes`` times), so ``redact(redact(x).text).text == redact(x).text``. Nothing here logs comment text;
only counts.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from synpunkt.redaction.name_lists import NOT_NAMES
from synpunkt.redaction.name_model import NameModel
from synpunkt.redaction.names import (
    all_rule_names,
    drop_places,
    extend_names,
    for_names,
    is_wordlike,
    model_may_add,
    name_spans,
    stop_at_clause_words,
    tokenize,
)
from synpunkt.redaction.patterns import pattern_spans
from synpunkt.redaction.spans import (
    PLACEHOLDERS,
    Redaction,
    Span,
    apply_spans,
    overlaps,
    placeholder_ranges,
    to_original,
)

log = logging.getLogger(__name__)


class Redactor:
    """Finds and replaces personal data. Holds the name model (loaded lazily, once)."""

    _default: "Redactor | None" = None
    _default_lock = threading.Lock()

    def __init__(self, model_dir: Path | str | None = None, use_model: bool = True, max_passes: int = 3):
        self.use_model = use_model
        self.max_passes = max_passes
        self.name_model = NameModel.load(Path(model_dir) if model_dir else None) if use_model else None

    @classmethod
    def default(cls) -> "Redactor":
        """The shared redactor with the shipped name model (created on first use, then cached)."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def _find(self, texts: list[str], batch_size: int, name_logits: list[np.ndarray | None] | None = None
              ) -> list[list[Span]]:
        """One pass: spans in each text (no overlaps, placeholders untouched). `name_logits`: see
        find_spans_many."""
        result = [pattern_spans(text) for text in texts]
        name_texts = [for_names(text) for text in texts]
        tokenised = [tokenize(text) for text in name_texts]
        names = [all_rule_names(w, ls) for w, _, ls in tokenised]
        if self.name_model is not None:
            # the model only where it could add a name: a candidate word the rules left (texts without one are
            # skipped; the redaction is the same as with every text encoded)
            may_add = [model_may_add(w, names[k]) for k, (w, _, _) in enumerate(tokenised)]
            todo = [k for k, m in enumerate(may_add) if m.any()]
            if todo:
                given = None if name_logits is None else [name_logits[k] for k in todo]
                probs = self.name_model.probabilities([tokenised[k][0] for k in todo], [tokenised[k][2] for k in todo],
                                                      batch_size, [may_add[k] for k in todo],
                                                      [name_texts[k] for k in todo], [tokenised[k][1] for k in todo],
                                                      given)
                for k, p in zip(todo, probs):
                    names[k] = names[k] | self.name_model.decide(tokenised[k][0], tokenised[k][2], p)
        for k, (text, (words, offsets, line_start)) in enumerate(zip(name_texts, tokenised)):
            taken = [(s.start, s.end) for s in result[k]] + placeholder_ranges(text)
            flags = drop_places(words, extend_names(text, words, offsets, line_start, names[k]))
            flags = stop_at_clause_words(text, words, offsets, flags)
            # words only (and an initial's period), never a placeholder or a span a pattern already took
            flags = np.array([bool(f) and (is_wordlike(w) or w == ".") and w.lower() not in NOT_NAMES
                              and not overlaps(s, e, taken)
                              for f, w, (s, e) in zip(flags, words, offsets)], dtype=bool)
            flags &= np.array([w != "." or (i > 0 and flags[i - 1]) for i, w in enumerate(words)], dtype=bool)
            result[k] = sorted(result[k] + name_spans(text, offsets, flags), key=lambda s: s.start)
        return result

    def name_logits(self, text: str, tokens, states: np.ndarray) -> np.ndarray | None:
        """The name model's encoder logits of `text`'s words (NameModel.shared_logits) from another encoder pass over
        "query: " + text (its `tokens`, synpunkt.word_pieces.TextTokens, and their token `states` at the model's
        layer: ingest's signal pass); None without a model, or for a text the name rules read otherwise (in
        capitals)."""
        if self.name_model is None or for_names(text) != text:
            return None
        return self.name_model.shared_logits(tokenize(text)[1], tokens, states)

    def find_spans_many(self, texts: list[str], batch_size: int = 32,
                        name_logits: list[np.ndarray | None] | None = None) -> list[list[Span]]:
        """Spans (in original-text offsets) that redaction replaces, re-running until nothing more is found.
        `name_logits` (per text, or None): name_logits() from another pass over the texts, for the first pass (the
        later passes read the redacted texts)."""
        texts = list(texts)
        found: list[list[Span]] = [[] for _ in texts]
        current = list(texts)
        todo = list(range(len(texts)))
        for n in range(self.max_passes):
            if not todo:
                break
            new = self._find([current[k] for k in todo], batch_size, name_logits if n == 0 else None)
            still = []
            for k, spans in zip(todo, new):
                if not spans:
                    continue
                mapped = [Span(to_original(s.start, found[k]), to_original(s.end, found[k]), s.kind) for s in spans]
                found[k] = sorted(found[k] + mapped, key=lambda s: s.start)
                current[k] = apply_spans(texts[k], found[k]).text
                still.append(k)
            todo = still
        return found

    def find_spans(self, text: str) -> list[Span]:
        return self.find_spans_many([text])[0]

    def redact_many(self, texts: list[str], batch_size: int = 32,
                    name_logits: list[np.ndarray | None] | None = None) -> list[Redaction]:
        """Redact many texts; the encoder runs over them in batches of ``batch_size`` (`name_logits`: see
        find_spans_many)."""
        texts = ["" if t is None else str(t) for t in texts]
        spans = self.find_spans_many(texts, batch_size, name_logits)
        out = [apply_spans(t, s) for t, s in zip(texts, spans)]
        log.debug("redacted %d texts: %s", len(out),
                  {k: sum(r.counts[k] for r in out) for k in PLACEHOLDERS})
        return out

    def redact(self, text: str) -> Redaction:
        return self.redact_many([text])[0]


def redact(text: str) -> Redaction:
    """Redact one text with the default redactor (rules + the shipped name model)."""
    return Redactor.default().redact(text)


def redact_many(texts: list[str], batch_size: int = 32) -> list[Redaction]:
    """Redact many texts with the default redactor; batched through the encoder."""
    return Redactor.default().redact_many(texts, batch_size)

"""Person names by rule, and the per-word decisions around the name model.

Words are tokenised with their offsets; the rules mark listed first names and surnames (also -sson/-sdotter and
the genitive "Anderssons"), and a capitalised word after a title ("Handläggaren Karin", "heter Lund"). A
capitalised word or two after a name is taken for its surname. ``decide_names`` turns the model's probabilities
into decisions (never for stopwords, numbers, acronyms or placeholders), and ``name_spans`` merges name words that
follow each other into one span.
"""

from __future__ import annotations

import re

import numpy as np

from synpunkt.redaction.name_lists import (
    AMBIGUOUS_FIRST_NAMES,
    FIRST_NAMES,
    STOPWORDS,
    SURNAMES,
    TITLE_SUFFIXES,
    TITLE_WORDS,
)
from synpunkt.redaction.spans import PLACEHOLDER_RE, Span

_WORD_RE = re.compile(PLACEHOLDER_RE.pattern + r"|\w+(?:[-'’:]\w+)*|[^\w\s]")
_SENTENCE_END = {".", "!", "?", ":", ";", '"', "”", "“", "»", "«", "-", "–", "—", "•", "*", "(", ")"}
_NAME_SUFFIX_RE = re.compile(r"^[A-ZÅÄÖ][a-zåäöé]+(?:sson|sdotter)s?$")
_ACRONYM_RE = re.compile(r"^[A-ZÅÄÖ]{2,3}$|^[A-ZÅÄÖ]{2,}:[a-zåäö]+$")

LONE_INITIAL_THRESHOLD = 0.95
"""A first word of a sentence, in no name list and with no capitalised word after it ("Version", "Hemsidan"),
needs this probability: comments often start with words the news-trained head has not seen."""

CHEAP_FEATURES = ("capitalised", "all_caps", "lowercase", "sentence_initial", "first_name", "ambiguous_first_name",
                  "surname", "after_title", "after_capitalised", "before_capitalised", "has_digit", "punctuation",
                  "stopword", "rule_name")
"""Hand-made per-word features fed to the name head next to the encoder features (this order)."""


def is_title(low: str) -> bool:
    """A (lowercased) word after which a capitalised word is a name: "handläggaren", "heter", "enhetschefen"."""
    return low in TITLE_WORDS or low.endswith(TITLE_SUFFIXES)


def is_surname(w: str) -> bool:
    """A listed surname or one ending in -sson/-sdotter, also in the genitive (Anderssons)."""
    return w in SURNAMES or (w.endswith("s") and w[:-1] in SURNAMES) or bool(_NAME_SUFFIX_RE.match(w))


def tokenize(text: str) -> tuple[list[str], list[tuple[int, int]], list[bool]]:
    """Words, their character offsets, and whether each starts a line."""
    words, offsets, line_start = [], [], []
    prev_end = 0
    for m in _WORD_RE.finditer(text):
        words.append(m.group())
        offsets.append((m.start(), m.end()))
        line_start.append(not words[:-1] or "\n" in text[prev_end : m.start()])
        prev_end = m.end()
    return words, offsets, line_start


def is_cap(w: str) -> bool:
    """Capitalised, not all in capitals."""
    return w[:1].isupper() and any(c.isalpha() for c in w) and not (len(w) > 1 and w.isupper())


def is_wordlike(w: str) -> bool:
    """Has letters, no digits, and is no placeholder."""
    return any(c.isalpha() for c in w) and not any(c.isdigit() for c in w) and not PLACEHOLDER_RE.fullmatch(w)


def model_candidate(w: str) -> bool:
    """Words the name model may mark: not stopwords, numbers, placeholders or acronyms (VA, SYV:n)."""
    return is_wordlike(w) and w.lower() not in STOPWORDS and not _ACRONYM_RE.match(w)


def sentence_initial(words: list[str], line_start: list[bool]) -> list[bool]:
    """Whether each word starts a sentence or a line."""
    return [line_start[i] or i == 0 or words[i - 1] in _SENTENCE_END for i in range(len(words))]


def known_first(w: str) -> bool:
    """A listed first name, or a double name of listed parts ("Anna-Karin")."""
    if w in FIRST_NAMES:
        return True
    parts = w.split("-")
    return len(parts) > 1 and all(p in FIRST_NAMES or p in AMBIGUOUS_FIRST_NAMES for p in parts)


def rule_names(words: list[str], line_start: list[bool] | None = None) -> np.ndarray:
    """Which words the name rules mark as (parts of) person names."""
    n = len(words)
    line_start = line_start or [False] * n
    initial = sentence_initial(words, line_start)
    low = [w.lower() for w in words]
    name = np.zeros(n, dtype=bool)

    def surname_like(i: int) -> bool:
        w = words[i]
        return is_cap(w) and is_wordlike(w) and low[i] not in STOPWORDS and (not initial[i] or w in SURNAMES)

    for i, w in enumerate(words):
        if not is_wordlike(w):
            continue
        after_title = i > 0 and is_title(low[i - 1])
        cap = is_cap(w)
        start = False
        if cap and known_first(w) and low[i] not in STOPWORDS:
            start = True
        elif cap and w in AMBIGUOUS_FIRST_NAMES and (after_title or (i + 1 < n and surname_like(i + 1)
                                                                      and is_surname(words[i + 1]))):
            start = True
        elif cap and after_title and low[i] not in STOPWORDS and not is_title(low[i]):
            start = True
        elif not cap and w.islower() and after_title and (w.title() in FIRST_NAMES) and low[i] not in STOPWORDS:
            start = True
        elif not cap and w.islower() and i > 0 and low[i - 1] in {"med", "till", "och", "från", "av", "åt", "heter"} \
                and w.title() in FIRST_NAMES and w.title() not in AMBIGUOUS_FIRST_NAMES and low[i] not in STOPWORDS:
            start = True
        elif cap and is_surname(w) and low[i] not in STOPWORDS:
            start = True
        if not start:
            continue
        name[i] = True
        j = i + 1  # a capitalised word or two after a name is a (second) surname
        while j < n and j <= i + 2 and surname_like(j):
            name[j] = True
            j += 1
    return name


def cheap_features(words: list[str], line_start: list[bool]) -> np.ndarray:
    """A few hand-made per-word features fed to the name head next to the encoder features."""
    n = len(words)
    initial = sentence_initial(words, line_start)
    rules = rule_names(words, line_start)
    low = [w.lower() for w in words]
    f = np.zeros((n, len(CHEAP_FEATURES)), dtype=np.float32)
    for i, w in enumerate(words):
        cap = is_cap(w)
        f[i] = (
            cap,
            len(w) > 1 and w.isupper(),
            w[:1].islower(),
            initial[i],
            known_first(w) or w.title() in FIRST_NAMES,
            w in AMBIGUOUS_FIRST_NAMES,
            is_surname(w),
            i > 0 and is_title(low[i - 1]),
            i > 0 and is_cap(words[i - 1]) and not initial[i - 1],
            i + 1 < n and is_cap(words[i + 1]),
            any(c.isdigit() for c in w),
            not any(c.isalnum() for c in w),
            low[i] in STOPWORDS,
            rules[i],
        )
    return f


def decide_names(words: list[str], line_start: list[bool], probs: np.ndarray, threshold: float,
                 lone_initial_threshold: float) -> np.ndarray:
    """Which words the model's probabilities mark as names: P >= threshold, or >= lone_initial_threshold for a
    sentence's first word in no name list and without a capitalised word after it; model candidates only."""
    initial = sentence_initial(words, line_start)
    n = len(words)
    out = np.zeros(n, dtype=bool)
    for i, w in enumerate(words):
        if not model_candidate(w):
            continue
        t = threshold
        if initial[i] and not (known_first(w) or is_surname(w)) and not (
                i + 1 < n and is_cap(words[i + 1]) and is_wordlike(words[i + 1])):
            t = max(threshold, lone_initial_threshold)
        out[i] = probs[i] >= t
    return out


def name_spans(text: str, offsets: list[tuple[int, int]], is_name: np.ndarray) -> list[Span]:
    """Merge name words that follow each other (only whitespace between) into one span each."""
    spans: list[Span] = []
    for (s, e), flag in zip(offsets, is_name):
        if not flag:
            continue
        if spans and text[spans[-1].end : s].strip() == "" and s - spans[-1].end <= 2:
            spans[-1] = Span(spans[-1].start, e, "namn")
        else:
            spans.append(Span(s, e, "namn"))
    return spans


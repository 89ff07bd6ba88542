"""A lexical topic model blended with the classifier's topic head: p = (1 - w) p_neural + w p_lexical.

Topics are largely lexical (staff nouns, waiting words, e-tjänst words), so TF-IDF features (word 1-2-grams and
char_wb 3-5-grams, sublinear tf, lowercase) with one logistic regression per topic (one-vs-rest; C by 5-fold CV
log-loss on the in-domain train split) add what the topic head misses. The fitted model is saved without pickle as
``topic_lexicon.npz`` beside the classifier (vocabularies, idf vectors, coefficients and intercepts as arrays) and
loaded into `TopicLexicon`, a pure scorer whose probabilities equal the fitted scikit-learn pipeline's. The blend
weight w lives in synpunkt_model.json (``topic_lexicon_weight``; chosen with the thresholds by `fit_blend` in
`synpunkt recalibrate`); ``Classifier.probabilities`` applies it, so every backend gets the same topic probabilities.
Measured on the shipped model (2026-11-29, validation rows, 2-fold cross-fitting x 10): topic micro-F1 +0.0096
(lexicon fitted on the 2,497 train rows of that model) and +0.0092 (today's 2,776), w 0.3-0.5 chosen; on 393
blind comments (data/comments_blind, a confirmatory test fixed before they were scored) +0.032 at w = 0.5, shipped
(the model card's notes).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from synpunkt.labels import TOPICS, topic_vector

log = logging.getLogger(__name__)

LEXICON_FILE = "topic_lexicon.npz"
LEXICON_KEY = "topics_lexicon"
"""Key of the lexicon's topic probabilities in Classifier.logits' output."""
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
"""Inverse regularisation strengths tried by 5-fold CV (one C for all topics)."""
CV_FOLDS = 5
SEED = 0
BLEND_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(7))
"""Blend weights w tried by `fit_blend` (0 = the topic head alone)."""
ANALYZERS = (("word", (1, 2)), ("char_wb", (3, 5)))
"""The two TF-IDF feature sets, in the order their columns are stacked."""


def _vectorizer_options(analyzer: str, ngram_range: tuple[int, int]) -> dict:
    return {"analyzer": analyzer, "ngram_range": ngram_range, "lowercase": True}


def make_vectorizer():
    """The TF-IDF features: word 1-2-grams and char_wb 3-5-grams, each sublinear tf, l2-normalised, stacked."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([(a, TfidfVectorizer(sublinear_tf=True, min_df=1, **_vectorizer_options(a, n)))
                         for a, n in ANALYZERS])


def _fit_topic(X, y: np.ndarray, C: float):
    """One binary logistic regression; a topic with one class only (a tiny split) gets a constant model."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return DummyClassifier(strategy="prior").fit(X, y)
    return LogisticRegression(C=C, max_iter=2000, solver="liblinear", random_state=SEED).fit(X, y)


def _positive_proba(model, X) -> np.ndarray:
    """P(topic) from a fitted binary model (a one-class dummy predicts its only class with certainty)."""
    p = model.predict_proba(X)
    return p[:, list(model.classes_).index(1.0)] if 1.0 in model.classes_ else np.zeros(X.shape[0])


def fit_pipeline(texts: list[str], Y: np.ndarray, C: float):
    """(fitted vectorizer, one fitted model per topic column of Y): the scikit-learn pipeline `TopicLexicon` copies."""
    vec = make_vectorizer()
    X = vec.fit_transform(texts)
    return vec, [_fit_topic(X, Y[:, j], C) for j in range(Y.shape[1])]


def pipeline_proba(vec, models, texts: list[str]) -> np.ndarray:
    """[n, topics] probabilities of a fitted pipeline."""
    X = vec.transform(texts)
    return np.column_stack([_positive_proba(m, X) for m in models])


def choose_c(texts: list[str], Y: np.ndarray, grid: tuple[float, ...] = C_GRID) -> tuple[float, dict[str, float]]:
    """C by 5-fold CV (shuffled, seed 0) on these rows: mean over folds of the binary log-loss summed over topics;
    the smallest C on ties. Returns (C, {C: loss})."""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import KFold

    folds = list(KFold(min(CV_FOLDS, len(texts)), shuffle=True, random_state=SEED).split(texts))
    scores: dict[float, float] = {}
    for C in grid:
        losses = []
        for tr, te in folds:
            vec, models = fit_pipeline([texts[i] for i in tr], Y[tr], C)
            P = pipeline_proba(vec, models, [texts[i] for i in te])
            losses.append(sum(log_loss(Y[te, j], np.clip(P[:, j], 1e-15, 1 - 1e-15), labels=[0, 1])
                              for j in range(Y.shape[1])))
        scores[C] = float(np.mean(losses))
    best = min(grid, key=lambda c: scores[c])
    return best, {str(c): v for c, v in scores.items()}


def sklearn_tfidf(analyzer: str, ngram_range: tuple[int, int], vocabulary: np.ndarray, idf: np.ndarray):
    """scikit-learn's TfidfVectorizer with a stored vocabulary and idf: the matrix StoredTfidf computes (the
    reference its test and benchmark compare with)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(vocabulary={str(t): i for i, t in enumerate(vocabulary)}, sublinear_tf=True,
                                 **_vectorizer_options(analyzer, ngram_range))
    vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
    return vectorizer


class StoredTfidf:
    """scikit-learn's ``TfidfVectorizer(lowercase=True, sublinear_tf=True)`` with a fixed vocabulary and idf, for
    one of ANALYZERS, computed without its per-document Python counting: each text's vocabulary columns are listed,
    then counted, weighted and l2-normalised for all texts at once. The same matrix as scikit-learn's, number for
    number (columns sorted per row, the same arithmetic in the same order; tests/test_topic_lexicon.py), several
    times faster (``benchmarks/bench_topic_lexicon.py``). char_wb: n-grams never cross a space, so a text's n-grams
    are its words' n-grams, and a word seen before costs one dictionary lookup."""

    CACHE_WORDS = 200_000
    """Words whose char n-gram columns are kept (beyond them, computed each time)."""
    TOKEN = re.compile(r"(?u)\b\w\w+\b")
    """scikit-learn's default token_pattern (the word analyzer's tokens)."""

    def __init__(self, analyzer: str, vocabulary: np.ndarray, idf: np.ndarray, ngram_range: tuple[int, int]):
        if analyzer not in ("word", "char_wb") or (analyzer == "word" and ngram_range[0] != 1):
            raise ValueError(f"StoredTfidf computes word 1-n-grams and char_wb n-grams, not {analyzer} {ngram_range}")
        self.analyzer, self.ngram_range = analyzer, ngram_range
        self.index = {str(term): i for i, term in enumerate(vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self._words: dict[str, list[int]] = {}

    def word_columns(self, word: str) -> list[int]:
        """The vocabulary columns of `word`'s char n-grams, one per occurrence (scikit-learn's _char_wb_ngrams)."""
        columns = self._words.get(word)
        if columns is None:
            padded, index, columns = f" {word} ", self.index, []
            low, high = self.ngram_range
            for n in range(low, high + 1):
                for start in range(max(1, len(padded) - n + 1)):
                    column = index.get(padded[start : start + n])
                    if column is not None:
                        columns.append(column)
                if len(padded) <= n:  # a word no longer than n gives one n-gram (itself), and no longer ones
                    break
            if len(self._words) < self.CACHE_WORDS:
                self._words[word] = columns
        return columns

    def columns(self, text: str) -> list[int]:
        """The vocabulary columns of one text's terms, one per occurrence."""
        text = text.lower()
        if self.analyzer == "char_wb":
            return [c for word in text.split() for c in self.word_columns(word)]
        tokens, index = self.TOKEN.findall(text), self.index
        grams = list(tokens)
        for n in range(2, min(self.ngram_range[1], len(tokens)) + 1):
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return [index[g] for g in grams if g in index]

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        """[texts, vocabulary] TF-IDF rows: 1 + log(count), times idf, l2-normalised (all texts at once)."""
        columns, lengths = [], []
        for text in texts:
            found = self.columns(text)
            columns += found
            lengths.append(len(found))
        width = len(self.idf)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        keys, counts = np.unique(rows * width + np.asarray(columns, dtype=np.int64), return_counts=True)
        rows, cols = np.divmod(keys, width)
        values = (np.log(counts.astype(np.float64)) + 1.0) * self.idf[cols]
        values /= np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))[rows]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        return sparse.csr_matrix((values, cols, indptr), shape=(len(texts), width))


@dataclass
class TopicLexicon:
    """The fitted lexical topic model as arrays: ``predict_proba(texts)`` -> [n, topics] probabilities."""

    vocabularies: tuple[np.ndarray, ...]  # the terms of each feature set in ANALYZERS, by column
    idf: tuple[np.ndarray, ...]  # float32, one per feature set
    coef: np.ndarray  # [topics, features] float32
    intercept: np.ndarray  # [topics] float32
    topics: tuple[str, ...] = TOPICS
    info: dict = field(default_factory=dict)  # C, CV log-losses, train rows: for the record
    _vectorizers: list | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_pipeline(cls, vec, models, info: dict | None = None) -> "TopicLexicon":
        """Copy a fitted `fit_pipeline` into arrays."""
        parts = [vec.transformer_list[i][1] for i in range(len(ANALYZERS))]
        vocabularies = tuple(np.array(p.get_feature_names_out(), dtype=str) for p in parts)
        coef, intercept = [], []
        for m in models:
            if hasattr(m, "coef_"):
                coef.append(m.coef_[0])
                intercept.append(m.intercept_[0])
            else:  # a one-class topic: a constant logit (+-30: probability 1 or 0 to float precision)
                coef.append(np.zeros(sum(len(v) for v in vocabularies)))
                intercept.append(30.0 if 1.0 in m.classes_ else -30.0)
        return cls(vocabularies, tuple(p.idf_.astype(np.float32) for p in parts),
                   np.asarray(coef, dtype=np.float32), np.asarray(intercept, dtype=np.float32), TOPICS, info or {})

    # -- scoring -------------------------------------------------------------------------------------------
    def features(self, texts: list[str]) -> sparse.csr_matrix:
        """The TF-IDF matrix of the fitted pipeline (its TfidfVectorizers' numbers, by StoredTfidf), rebuilt from the
        stored vocabularies and idf vectors, stacked."""
        if self._vectorizers is None:
            self._vectorizers = [StoredTfidf(a, vocab, idf, n)
                                 for (a, n), vocab, idf in zip(ANALYZERS, self.vocabularies, self.idf)]
        return sparse.hstack([v.transform(texts) for v in self._vectorizers], format="csr")

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """[n, topics] probabilities, columns in ``topics`` order."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.topics)))
        z = self.features(texts) @ self.coef.T.astype(np.float64) + self.intercept.astype(np.float64)
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))

    # -- storage -------------------------------------------------------------------------------------------
    def save(self, model_dir: Path) -> Path:
        """Write topic_lexicon.npz (compressed; plain arrays only, loadable with allow_pickle=False)."""
        path = Path(model_dir) / LEXICON_FILE
        arrays = {f"vocabulary_{a}": v for (a, _), v in zip(ANALYZERS, self.vocabularies)}
        arrays |= {f"idf_{a}": i for (a, _), i in zip(ANALYZERS, self.idf)}
        np.savez_compressed(path, **arrays, coef=self.coef, intercept=self.intercept,
                            topics=np.array(self.topics, dtype=str),
                            info=np.array(json.dumps(self.info, sort_keys=True)))
        return path

    @classmethod
    def load(cls, model_dir: Path) -> "TopicLexicon | None":
        """The lexicon saved in a model directory, or None where it has none."""
        path = Path(model_dir) / LEXICON_FILE
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            lexicon = cls(tuple(z[f"vocabulary_{a}"] for a, _ in ANALYZERS), tuple(z[f"idf_{a}"] for a, _ in ANALYZERS),
                          z["coef"], z["intercept"], tuple(str(t) for t in z["topics"]), json.loads(str(z["info"])))
        if lexicon.topics != TOPICS:
            raise ValueError(f"{path}: topics {lexicon.topics} differ from the classifier's {TOPICS}")
        if lexicon.coef.shape != (len(TOPICS), sum(len(v) for v in lexicon.vocabularies)):
            raise ValueError(f"{path}: coefficient shape {lexicon.coef.shape} does not match its vocabularies")
        return lexicon


# -- fitting and blending ---------------------------------------------------------------------------------
def lexicon_rows(in_domain: pd.DataFrame) -> pd.DataFrame:
    """The rows a lexicon is fitted on: the in-domain train split, where topics are labelled."""
    train = in_domain[in_domain["split"] == "train"]
    return train[train["topics"].map(lambda t: t is not None)].reset_index(drop=True)


def fit_lexicon(train: pd.DataFrame) -> TopicLexicon:
    """C by 5-fold CV log-loss, then the lexicon fitted on every row of ``train`` (text and topics columns)."""
    if train.empty:
        raise ValueError("no train rows with topics to fit the topic lexicon on")
    texts = train["text"].astype(str).tolist()
    Y = np.array([topic_vector(t) for t in train["topics"]])
    C, cv = choose_c(texts, Y)
    vec, models = fit_pipeline(texts, Y, C)
    lexicon = TopicLexicon.from_pipeline(vec, models, {"C": C, "cv_logloss": cv, "train_rows": len(texts)})
    lexicon.info["features"] = int(lexicon.coef.shape[1])
    log.info("topic lexicon: %d train rows, %d features, C = %s", len(texts), lexicon.coef.shape[1], C)
    return lexicon


def fit_topic_lexicon(model_dir: Path, in_domain: Path | None = None) -> dict:
    """Fit the lexicon on the in-domain train split and save it in ``model_dir``; returns its record. The blend
    weight in synpunkt_model.json is not changed (`synpunkt recalibrate` chooses it)."""
    from synpunkt.config import IN_DOMAIN_DATA
    from synpunkt.data import load_in_domain

    lexicon = fit_lexicon(lexicon_rows(load_in_domain(in_domain or IN_DOMAIN_DATA)))
    path = lexicon.save(model_dir)
    return {**lexicon.info, "path": str(path), "bytes": path.stat().st_size}


def blend(p_neural: np.ndarray, p_lexical: np.ndarray, weight: float) -> np.ndarray:
    """(1 - w) p_neural + w p_lexical; exactly p_neural at w = 0."""
    if weight == 0:
        return p_neural
    return (1.0 - weight) * p_neural + weight * p_lexical


def micro_f1(Y: np.ndarray, P: np.ndarray, thresholds) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(Y, (P >= np.asarray(thresholds)).astype(int), average="micro", zero_division=0))


def fit_blend(p_neural: np.ndarray, p_lexical: np.ndarray, Y: np.ndarray,
              weights: tuple[float, ...] = BLEND_WEIGHTS) -> tuple[float, list[float], float]:
    """(w, thresholds, micro-F1) on these rows: thresholds by calibration.fit_thresholds for each w, the w with the
    best micro-F1 (the smaller w on ties)."""
    from synpunkt.calibration import fit_thresholds

    best: tuple[float, list[float], float] | None = None
    for w in weights:
        p = blend(p_neural, p_lexical, w)
        thresholds = fit_thresholds(p, Y)
        f = micro_f1(Y, p, thresholds)
        if best is None or f > best[2] + 1e-12:
            best = (w, thresholds, f)
    return best

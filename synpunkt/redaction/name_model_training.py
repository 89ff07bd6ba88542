"""Training and measuring the name head on the Swedish NER corpus (../shared/datasets/aux).

``train`` fits the logistic-regression head on encoder features of the corpus' train split (plus sentences cut to
start at a lowercase word, capitalised, so a comment's first word is not taken for a name), picks the threshold on
a held-out part, and writes ``models/redaction/``. ``score_on_ner`` gives token-level figures for any redactor.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from synpunkt.redaction.name_model import (
    HEAD_FILE,
    INPUT,
    NER_CORPUS,
    SETTINGS_FILE,
    NameModel,
    ner_corpus_path,
    redaction_model_dir,
)
from synpunkt.redaction.names import (
    CHEAP_FEATURES,
    LONE_INITIAL_THRESHOLD,
    decide_names,
    is_wordlike,
    model_candidate,
    rule_names,
)
from synpunkt.redaction.redactor import Redactor
from synpunkt.redaction.spans import PLACEHOLDERS

log = logging.getLogger(__name__)


def load_ner_corpus(path: Path | None = None):
    """The NER corpus as a DataFrame: tokens, tags (PER, ...), split, has_person."""
    import pandas as pd

    path = Path(path or ner_corpus_path())
    if not path.exists():
        raise FileNotFoundError(f"NER corpus not found at {path} (expected ../shared/datasets/{NER_CORPUS.as_posix()})")
    df = pd.read_parquet(path, columns=["tokens", "tags", "split", "has_person"])
    df["tokens"] = df["tokens"].map(list)
    df["tags"] = df["tags"].map(list)
    return df


def choose_threshold(probs: np.ndarray, rules: np.ndarray, is_per: np.ndarray, target_recall: float,
                     max_fp_rate: float, lone: np.ndarray | None = None, lone_threshold: float = 0.0
                     ) -> tuple[float, float, float]:
    """Highest threshold whose (model OR rules) recall reaches target_recall with FP rate <= max_fp_rate.

    ``probs`` is 0 for words the model may not mark; ``lone`` marks words that need at least ``lone_threshold``.
    Falls back to the threshold with the best recall within the FP limit. Returns (threshold, recall, fp_rate).
    """
    pos, neg = is_per.sum(), (~is_per).sum()
    lone = np.zeros_like(is_per) if lone is None else lone
    best = None
    for t in np.unique(np.concatenate([probs[is_per], [0.5]]))[::-1]:
        pred = rules | (probs >= np.where(lone, max(t, lone_threshold), t))
        recall = (pred & is_per).sum() / max(pos, 1)
        fpr = (pred & ~is_per).sum() / max(neg, 1)
        if fpr > max_fp_rate:
            break
        best = (float(t), float(recall), float(fpr))
        if recall >= target_recall:
            break
    if best is None:
        raise RuntimeError("no threshold meets the false-positive limit")
    return best


def _augment(words: list[list[str]], tags: list[list[str]], n_cut: int, n_lower: int, rng
             ) -> tuple[list[list[str]], list[list[str]]]:
    """Extra training sentences in the style of comments, made from the news sentences.

    ``n_cut``: sentences cut to start at a lowercase word, capitalised ("Gillar att ...", "Hemsidan är ..."), so a
    capital on the first word of a comment is not taken for a name. ``n_lower``: sentences with persons written all
    in lowercase, as many comments are ("tack till anna").
    """
    out_w, out_t = [], []
    for k in rng.permutation(len(words)):
        if len(out_w) >= n_cut:
            break
        toks, tg = words[k], tags[k]
        cands = [j for j in range(1, len(toks) - 3) if tg[j] == "O" and toks[j].isalpha() and toks[j].islower()]
        if cands:
            j = int(rng.choice(cands))
            out_w.append([toks[j][:1].upper() + toks[j][1:]] + list(toks[j + 1 :]))
            out_t.append(list(tg[j:]))
    with_person = [k for k in rng.permutation(len(words)) if "PER" in tags[k]][:n_lower]
    for k in with_person:
        out_w.append([w.lower() for w in words[k]])
        out_t.append(list(tags[k]))
    return out_w, out_t


def train(data: Path | None = None, out_dir: Path | None = None, layer: int = 6, max_negative: int = 1000,
          augment_cut: int = 1000, augment_lower: int = 0, heldout_fraction: float = 0.2,
          target_recall: float = 0.95, max_fp_rate: float = 0.05, C: float = 0.5,
          seed: int = 0, batch_size: int = 32) -> dict:
    """Train the name head on the NER corpus' train split and write it to ``out_dir`` (models/redaction)."""
    from sklearn.linear_model import LogisticRegression

    from synpunkt.config import DEFAULT_BASE_MODEL

    t0 = time.time()
    out_dir = Path(out_dir or redaction_model_dir())
    df = load_ner_corpus(data)
    tr = df[df["split"] == "train"].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(tr))
    n_held = int(len(tr) * heldout_fraction)
    held, rest = order[:n_held], order[n_held:]
    pos = [i for i in rest if tr.at[i, "has_person"]]
    neg = [i for i in rest if not tr.at[i, "has_person"]]
    neg = list(rng.choice(neg, size=min(max_negative, len(neg)), replace=False))
    fit = sorted(pos + neg)
    log.info("name head: %d fit sentences (%d with persons), %d held-out", len(fit), len(pos), len(held))

    model = NameModel(layer=layer, base_model=DEFAULT_BASE_MODEL)

    def build(words, tags):
        starts = [[False] * len(w) for w in words]
        feats = model.features(words, starts, batch_size)
        y = np.concatenate([np.array(t) == "PER" for t in tags])
        rules = np.concatenate([rule_names(w) for w in words])
        return np.vstack(feats), y, rules

    fit_words, fit_tags = [tr.at[i, "tokens"] for i in fit], [tr.at[i, "tags"] for i in fit]
    aug_words, aug_tags = _augment(fit_words, fit_tags, augment_cut, augment_lower, rng)
    X, y, _ = build(fit_words + aug_words, fit_tags + aug_tags)
    Xh, yh, rules_h = build([tr.at[i, "tokens"] for i in held], [tr.at[i, "tags"] for i in held])
    t_feat = time.time() - t0
    mean, scale = X.mean(0), X.std(0) + 1e-6
    clf = LogisticRegression(C=C, max_iter=3000).fit((X - mean) / scale, y)
    coef = (clf.coef_[0] / scale).astype(np.float32)  # fold the standardisation into the weights
    intercept = float(clf.intercept_[0] - (clf.coef_[0] * mean / scale).sum())
    probs_h = 1.0 / (1.0 + np.exp(-(Xh @ coef + intercept)))
    held_words = [tr.at[i, "tokens"] for i in held]
    candidate = np.concatenate([[model_candidate(w) for w in ws] for ws in held_words])
    rules_h &= np.concatenate([[is_wordlike(w) for w in ws] for ws in held_words])
    # words that need LONE_INITIAL_THRESHOLD: what decide_names gives with threshold 0 vs 1 - epsilon
    lone = np.concatenate([decide_names(ws, [False] * len(ws), np.full(len(ws), 0.5), 0.0, 1.0) != np.array(
        [model_candidate(w) for w in ws], dtype=bool) for ws in held_words])
    threshold, recall, fpr = choose_threshold(np.where(candidate, probs_h, 0.0), rules_h, yh, target_recall,
                                              max_fp_rate, lone, LONE_INITIAL_THRESHOLD)
    model_only = np.concatenate([decide_names(ws, [False] * len(ws), p, threshold, LONE_INITIAL_THRESHOLD)
                                 for ws, p in zip(held_words, np.split(probs_h, np.cumsum([len(w) for w in
                                                                                            held_words])[:-1]))])
    combined = model_only | rules_h
    recall = float((combined & yh).sum() / yh.sum())
    fpr = float((combined & ~yh).sum() / (~yh).sum())
    settings = {
        "layer": layer,
        "base_model": DEFAULT_BASE_MODEL,
        "feature_dim": int(coef.shape[0]),
        "input": INPUT,
        "features": f"encoder layer {layer} of 'query: ' + the text (the first token of each word, "
                    f"{X.shape[1] - len(CHEAP_FEATURES)} dims) "
                    f"+ {', '.join(CHEAP_FEATURES)}",
        "threshold": threshold,
        "lone_initial_threshold": LONE_INITIAL_THRESHOLD,
        "decision": "word is a name if the name rules mark it, or P >= threshold (lone_initial_threshold for a "
                    "sentence's first word in no name list and without a capitalised word after it); never for "
                    "stopwords, acronyms, numbers or placeholders",
        "training": {
            "data": "klintan swedish_ner_corpus (CC BY 4.0), split=train",
            "fit_sentences": len(fit), "fit_sentences_with_person": len(pos), "fit_words": int(len(y)),
            "augmented_sentences": {"cut_and_capitalised": augment_cut, "lowercased": augment_lower},
            "heldout_sentences": int(n_held), "C": C, "seed": seed, "max_negative": max_negative,
            "target_recall": target_recall, "max_fp_rate": max_fp_rate,
        },
        "heldout": {
            "per_tokens": int(yh.sum()), "non_per_tokens": int((~yh).sum()),
            "per_recall": round(recall, 4), "non_per_redacted": round(fpr, 5),
            "model_only_per_recall": round(float((model_only & yh).sum() / yh.sum()), 4),
            "rules_only_per_recall": round(float((rules_h & yh).sum() / yh.sum()), 4),
            "rules_only_non_per_redacted": round(float((rules_h & ~yh).sum() / (~yh).sum()), 5),
        },
        "seconds": {"features": round(t_feat, 1), "total": round(time.time() - t0, 1)},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / HEAD_FILE, coef=coef, intercept=np.float32(intercept))
    (out_dir / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return settings


def score_on_ner(redactor: Redactor, tokens: list[list[str]], tags: list[list[str]], batch_size: int = 32) -> dict:
    """Token-level figures on NER-tagged sentences (tokens joined by spaces): PER recall, non-PER redacted, speed.

    A token counts as redacted when any redacted span overlaps it (names, numbers, addresses alike).
    """
    texts = [" ".join(t) for t in tokens]
    t0 = time.perf_counter()
    spans = redactor.find_spans_many(texts, batch_size)
    seconds = time.perf_counter() - t0
    per = per_hit = other = other_hit = other_hit_names = 0
    for toks, tg, sp in zip(tokens, tags, spans):
        pos = 0
        for tok, tag in zip(toks, tg):
            s, e = pos, pos + len(tok)
            pos = e + 1
            hits = [a for a in sp if a.start < e and s < a.end]
            if tag == "PER":
                per += 1
                per_hit += bool(hits)
            else:
                other += 1
                other_hit += bool(hits)
                other_hit_names += any(a.kind == "namn" for a in hits)
    counts = dict.fromkeys(PLACEHOLDERS, 0)
    for sp in spans:
        for a in sp:
            counts[a.kind] += 1
    return {
        "sentences": len(texts), "per_tokens": per, "non_per_tokens": other,
        "per_recall": per_hit / max(per, 1),
        "non_per_redacted": other_hit / max(other, 1),
        "non_per_redacted_as_names": other_hit_names / max(other, 1),
        "seconds": seconds, "sentences_per_second": len(texts) / max(seconds, 1e-9),
        "spans": counts,
    }

"""Repeat-contact scoring on sentence spans (issue 9): can the sentence that says "fjärde gången jag ringer" be
found inside a long letter, as the urgent span head finds a threat? A comparison, not the shipped path.

Candidates (each threshold chosen as training.py chooses the repeat threshold: best F1 on the validation splits of
both repeat files; C from training.C_GRID by the same F1; fitted on the train splits):

- ``whole``: the whole text's token means + cue phrases (training.py's head, the shipped scoring);
- ``max_span``: the same head on the whole text and on each sentence span (token means of the sentence from the same
  encoder pass, synpunkt/signals/spans.py, + the sentence's own cue phrases), keeping the highest probability;
- ``span_head``: a span head of its own (the most repeat-like span of each repeat text, picked by the whole-text
  head, against every span of the other texts, as span_head.py does for urgent comments), flagging when the whole
  text reaches its threshold OR the most repeat-like span reaches the span head's own (best F1 of the two together);
- ``mil``: one head fitted on whole texts and spans (synpunkt/signals/mil.py's instances), max-scored.

Measured 2026-11-29 (models/signals/README.md): no span scoring beat the whole text on the in-domain validation
comments, whose misses are short comments, not long letters; the shipped heads keep whole-text repeat scoring.
``python -m synpunkt.signals.repeat_spans`` reproduces the validation figures (``--test`` adds the test splits,
read only after a decision; ``--dilution`` adds repeat passages embedded in long ordinary letters).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from synpunkt.signals.heads import LinearHead
from synpunkt.signals.repeat_cues import cue_features
from synpunkt.signals.span_head import SPAN_THRESHOLD_GRID
from synpunkt.signals.windows import MAX_WINDOW_WORDS, sentences

REPEAT_SCORINGS = ("whole", "max_span", "span_head", "mil")
CLASSES = ["no", "yes"]


def span_sentences(texts: Sequence[str], span_rows: np.ndarray, max_words: int = MAX_WINDOW_WORDS) -> list[str]:
    """The sentence each span is (pure): span j of a text is its j-th sentence (spans.token_spans keeps the
    sentences' order and drops only trailing ones cut off by truncation)."""
    split: dict[int, list[str]] = {}
    seen: dict[int, int] = {}
    out = []
    for row in np.asarray(span_rows, dtype=int):
        row = int(row)
        if row not in split:
            split[row] = sentences(texts[row] or "", max_words)
        j = seen.get(row, 0)
        seen[row] = j + 1
        out.append(split[row][j])
    return out


def repeat_inputs(features: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """The repeat head's inputs: encoder features (its layers) and the texts' cue phrases (pure)."""
    return np.hstack([features, cue_features(texts)])


def max_per_text(p_whole: np.ndarray, p_span: np.ndarray, span_rows: np.ndarray) -> np.ndarray:
    """Per text, the highest of its whole-text score and its spans' scores (pure)."""
    out = np.asarray(p_whole, dtype=float).copy()
    if len(span_rows):
        np.maximum.at(out, np.asarray(span_rows, dtype=int), p_span)
    return out


def best_spans(p_span: np.ndarray, span_rows: np.ndarray, n: int) -> np.ndarray:
    """Per text (0..n-1), the index of its span with the highest score; -1 without spans (pure)."""
    best = np.full(n, -1, dtype=int)
    for j in np.argsort(p_span, kind="stable"):  # ascending: the highest score written last
        best[span_rows[j]] = j
    return best


def span_training_rows(y: np.ndarray, span_rows: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Indices of the spans a span head learns from (pure): the best span of each repeat text, every span of the
    others."""
    return np.array([j for j, r in enumerate(span_rows) if not y[r] or best[r] == j], dtype=int)


def flags(scoring: str, p_whole: np.ndarray, p_span: np.ndarray, span_rows: np.ndarray, threshold: float,
          span_threshold: float | None = None) -> np.ndarray:
    """Which texts are repeat contacts (pure): "whole" p_whole >= threshold; "max_span"/"mil" the highest of the
    whole text and its spans (p_span: the same head's) >= threshold; "span_head" the whole text >= threshold OR
    its best span (p_span: the span head's) >= span_threshold."""
    if scoring == "whole":
        return p_whole >= threshold
    if scoring in ("max_span", "mil"):
        return max_per_text(p_whole, p_span, span_rows) >= threshold
    if scoring == "span_head":
        return (p_whole >= threshold) | (max_per_text(np.zeros(len(p_whole)), p_span, span_rows) >= span_threshold)
    raise ValueError(f"unknown repeat scoring {scoring!r}; one of {REPEAT_SCORINGS}")


@dataclass
class RepeatScoring:
    """One candidate: its heads (span: the span head, or None when the whole-text head scores the spans), C and
    thresholds."""

    scoring: str
    whole: LinearHead
    span: LinearHead | None
    c: float
    threshold: float
    span_threshold: float | None = None

    def flags(self, x_whole: np.ndarray, x_span: np.ndarray, span_rows: np.ndarray) -> np.ndarray:
        p_whole = self.whole.probabilities(x_whole)[:, 1]
        head = self.span if self.span is not None else self.whole
        p_span = head.probabilities(x_span)[:, 1] if len(span_rows) else np.zeros(0)
        return flags(self.scoring, p_whole, p_span, span_rows, self.threshold, self.span_threshold)


def _head(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> LinearHead:
    from synpunkt.signals.training import _fit

    scaler, model = _fit(x, y, c, seed)
    return LinearHead.from_sklearn(CLASSES, scaler, model)


def fit_scoring(scoring: str, x: np.ndarray, y: np.ndarray, xs: np.ndarray, rows: np.ndarray, fit: np.ndarray,
                tune: np.ndarray, seed: int = 42) -> tuple[RepeatScoring, float]:
    """(candidate, its F1 on the tune rows) of one scoring: heads fitted on the `fit` rows (masks over texts;
    x/xs: the texts'/spans' repeat inputs, rows: each span's text), C and thresholds by best F1 on `tune`."""
    from synpunkt.signals.metrics import best_f1_threshold
    from synpunkt.signals.training import C_GRID, fit_repeat_head

    if scoring == "whole":  # today's head, fitted as train-signals fits it
        head, c, threshold, f1 = fit_repeat_head(x, y, fit, tune, seed)
        return RepeatScoring(scoring, head, None, c, threshold), f1
    fit_spans = fit[rows]
    best: tuple[float, RepeatScoring] | None = None
    whole_heads = {c: _head(x[fit], y[fit], c, seed) for c in C_GRID}
    for c in C_GRID:
        head = whole_heads[c]
        p_whole = head.probabilities(x)[:, 1]
        if scoring == "max_span":
            p = max_per_text(p_whole, head.probabilities(xs)[:, 1], rows)
            cand = RepeatScoring(scoring, head, None, c, best_f1_threshold(p[tune], y[tune]))
        elif scoring == "mil":
            selector = whole_heads[_best_whole_c(whole_heads, x, y, tune)]
            keep = _instances(selector, xs, rows, y, fit_spans)
            mil = _head(np.vstack([x[fit], xs[keep]]), np.concatenate([y[fit], y[rows[keep]]]), c, seed)
            p = max_per_text(mil.probabilities(x)[:, 1], mil.probabilities(xs)[:, 1], rows)
            cand = RepeatScoring(scoring, mil, None, c, best_f1_threshold(p[tune], y[tune]))
        elif scoring == "span_head":
            c_whole = _best_whole_c(whole_heads, x, y, tune)
            whole = whole_heads[c_whole]
            p_whole = whole.probabilities(x)[:, 1]
            t_whole = best_f1_threshold(p_whole[tune], y[tune])
            keep = _instances(whole, xs, rows, y, fit_spans)
            span = _head(xs[keep], y[rows[keep]], c, seed)
            p_span = span.probabilities(xs)[:, 1]
            scores = [f1_score(y[tune], flags(scoring, p_whole, p_span, rows, t_whole, t)[tune], zero_division=0)
                      for t in SPAN_THRESHOLD_GRID]
            cand = RepeatScoring(scoring, whole, span, c, t_whole, float(SPAN_THRESHOLD_GRID[int(np.argmax(scores))]))
        else:
            raise ValueError(f"unknown repeat scoring {scoring!r}; one of {REPEAT_SCORINGS}")
        f1 = float(f1_score(y[tune], cand.flags(x, xs, rows)[tune], zero_division=0))
        if best is None or f1 > best[0]:
            best = (f1, cand)
    return best[1], best[0]


def _best_whole_c(heads: dict[float, LinearHead], x: np.ndarray, y: np.ndarray, tune: np.ndarray) -> float:
    """The C whose whole-text head has the best F1 on the tune rows (training.py's choice)."""
    from synpunkt.signals.metrics import best_f1_threshold

    def f1(head: LinearHead) -> float:
        p = head.probabilities(x[tune])[:, 1]
        return float(f1_score(y[tune], p >= best_f1_threshold(p, y[tune]), zero_division=0))

    return max(heads, key=lambda c: (f1(heads[c]), -c))


def _instances(selector: LinearHead, xs: np.ndarray, rows: np.ndarray, y: np.ndarray, fit_spans: np.ndarray
               ) -> np.ndarray:
    """Span indices the span head (or mil) learns from, among the spans of the fit rows."""
    best = best_spans(np.where(fit_spans, selector.probabilities(xs)[:, 1], -1.0), rows, len(y))
    keep = span_training_rows(y, rows, best)
    return keep[fit_spans[keep]]


def shipped_scoring(heads, scoring: str, x: np.ndarray, y: np.ndarray, xs: np.ndarray, rows: np.ndarray,
                    tune: np.ndarray) -> RepeatScoring:
    """The shipped repeat head as it is: "whole" at its shipped threshold, "max_span" (the same head on the spans
    too) re-thresholded by best F1 on the tune rows."""
    from synpunkt.signals.metrics import best_f1_threshold

    head, c = heads.repeat, heads.settings.get("regularisation", {}).get("repeat_C")
    if scoring == "whole":
        return RepeatScoring(scoring, head, None, c, heads.thresholds["repeat_contact"])
    p = max_per_text(head.probabilities(x)[:, 1], head.probabilities(xs)[:, 1], rows)
    return RepeatScoring(scoring, head, None, c, best_f1_threshold(p[tune], y[tune]))


def figures(y: np.ndarray, flagged: np.ndarray) -> dict:
    """n, positives, precision, recall and F1 (training.repeat_metrics)."""
    from synpunkt.signals.metrics import repeat_metrics

    return repeat_metrics(y, flagged)


def compare(read_test: bool = False, dilution: bool = False, seed: int = 42) -> dict:
    """The shipped head ("shipped_whole", and "shipped_max_span") and every candidate (REPEAT_SCORINGS, fitted on
    the train splits): C, thresholds and figures on the validation splits (in-domain comments, written rows,
    both) from the cached encoder features of data/repeat_contact; the test splits only with read_test; with
    dilution, recall and false flags on validation passages embedded in long ordinary letters."""
    from synpunkt.signals.data import repeat_data
    from synpunkt.signals.features import FeatureEncoder, cached_all_layer_spans, cached_all_layers, select_layers
    from synpunkt.signals.heads import SignalHeads

    shipped = SignalHeads.load()
    encoder = FeatureEncoder(base_model=shipped.base_model)
    repeat = repeat_data()
    texts = repeat["text"].tolist()
    layers = shipped.head_layers["repeat"]
    x = repeat_inputs(select_layers(cached_all_layers(encoder, texts, "repeat"), layers), texts)
    _, spans, rows = cached_all_layer_spans(encoder, texts, "repeat", MAX_WINDOW_WORDS)
    xs = repeat_inputs(select_layers(spans, layers), span_sentences(texts, rows))
    del spans
    y = repeat["repeat_contact"].astype(bool).to_numpy()
    split, comments = repeat["split"].to_numpy(), (repeat["source"] == "comments").to_numpy()
    fit, tune = split == "train", split == "validation"
    diluted = _diluted(encoder, repeat, layers, seed) if dilution else None
    out: dict = {}
    for scoring in ("shipped_whole", "shipped_max_span", *REPEAT_SCORINGS):
        cand = (shipped_scoring(shipped, scoring.removeprefix("shipped_"), x, y, xs, rows, tune)
                if scoring.startswith("shipped_") else fit_scoring(scoring, x, y, xs, rows, fit, tune, seed)[0])
        flagged = cand.flags(x, xs, rows)
        entry = {"C": cand.c, "threshold": cand.threshold, "span_threshold": cand.span_threshold}
        for name in ("validation", "test") if read_test else ("validation",):
            for source, m in (("comments", comments), ("written", ~comments), ("both", np.ones_like(comments))):
                m = m & (split == name)
                entry[f"{name}_{source}"] = figures(y[m], flagged[m])
        if diluted is not None:
            d_frame, d_x, d_xs, d_rows = diluted
            d_flag = cand.flags(d_x, d_xs, d_rows)
            d_y = d_frame["repeat_contact"].to_numpy(dtype=bool)
            entry["dilution_validation"] = {"n": int(len(d_y)), "recall": round(float(d_flag[d_y].mean()), 4),
                                            "false_flag_rate": round(float(d_flag[~d_y].mean()), 4)}
        out[scoring] = entry
    return out


def _diluted(encoder, repeat: pd.DataFrame, layers, seed: int):
    """Validation repeat rows of both files, each embedded in a long letter of in-domain comments labelled not
repeat contacts (train and validation splits; dilution.py's way): (frame, whole inputs, span inputs, span rows)."""
    from synpunkt.signals.dilution import POSITIONS, embed, host_letters
    from synpunkt.signals.features import cached_all_layer_spans, select_layers

    va = repeat[repeat["split"] == "validation"].reset_index(drop=True)
    ordinary = repeat[(repeat["source"] == "comments") & ~repeat["repeat_contact"].astype(bool)]
    hosts = host_letters(ordinary[["text", "split"]], len(va), seed)
    texts = [embed(h, t, POSITIONS[k % len(POSITIONS)]) for k, (h, t) in enumerate(zip(hosts, va["text"]))]
    whole, spans, rows = cached_all_layer_spans(encoder, texts, "repeat_dilution", MAX_WINDOW_WORDS)
    return (va.assign(text=texts), repeat_inputs(select_layers(whole, layers), texts),
            repeat_inputs(select_layers(spans, layers), span_sentences(texts, rows)), rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--test", action="store_true", help="also the test splits (only after a decision)")
    parser.add_argument("--dilution", action="store_true", help="also validation passages in long letters")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    print(json.dumps(compare(args.test, args.dilution), indent=1))


if __name__ == "__main__":
    main()

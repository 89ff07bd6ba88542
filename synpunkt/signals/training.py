"""`synpunkt train-signals`: fit the urgent and repeat-contact heads on frozen-encoder features, tune their
thresholds on the validation splits, evaluate once on the held-out test splits, and write models/signals/.

Seeded and CPU-cheap: the encoder is frozen, its features are cached on disk, the heads are logistic
regressions (scikit-learn). The test splits are never used for fitting, selection or thresholds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

from synpunkt.classifier_encoder import copy_encoder
from synpunkt.classifier_encoder import spec as classifier_spec
from synpunkt.config import DEFAULT_BASE_MODEL
from synpunkt.model import ModelSettings
from synpunkt.reproduce import code_revision
from synpunkt.signals.data import (ALERT_CATEGORIES, BLIND_SPLITS, URGENT_CATEGORIES, is_added_urgent_row, repeat_data,
                                   rtplx_data, train_on, urgent_data)
from synpunkt.signals.detect import Detector
from synpunkt.signals.features import (FEATURE_LAYERS, MAX_LENGTH, FeatureEncoder, cached_all_layer_spans,
                                       cached_all_layers, select_layers)
from synpunkt.signals.heads import SIGNALS_DIR, LinearHead, SignalHeads, union_layers
from synpunkt.signals.metrics import best_f1_threshold, repeat_metrics, urgent_metrics, urgent_threshold
from synpunkt.signals.mil import mil_rows
from synpunkt.signals.span_head import SPAN_C, max_span_urgency, span_threshold, span_training_set
from synpunkt.signals.repeat_cues import cue_features
from synpunkt.signals.windows import MAX_WINDOW_WORDS, WINDOW_SENTENCES, max_window_probabilities, window_table

log = logging.getLogger(__name__)

CALIBRATION_FLAG_RATE = 0.04
"""The urgent threshold (and the span threshold) is the lowest that flags at most this share of the held-out
non-urgent negative comments of calibration_rows(): the target less one point, about one standard error of a rate
near 5 % measured on the few hundred held-out negative comments, so that the target holds on new data."""
CALIBRATION_POOL = "first_pass"
"""Which held-out rows calibrate the thresholds (written to heads.json as `calibration_pool`): "first_pass" (the
shipped heads: the validation split and out-of-fold scores of the train split's first labelling pass, whose mix of
negative kinds is the guide's) or "all_passes" (the targeted additions' hard negatives too). "all_passes" was tried
on 2026-11-29 with the threat-variety rows u4001-u4478: they over-represent hard negatives, so 4 % of that pool is
stricter than 4 % of the guide's mix (whole-text threshold 0.89, blind threat recall 0.74, no span threshold kept
the rate): not shipped, see models/signals/README.md. "validation" (the validation split only) is what heads on an
encoder trained with the classifier's auxiliary signal heads (`synpunkt train --signal-heads`) take by default: that
encoder has seen the train rows, so their out-of-fold scores would look easier than new comments'."""
CALIBRATION_POOLS = ("first_pass", "all_passes", "validation", "first_pass_blind")
"""first_pass_blind: the first pass and the worn blind batches trained on (SignalsConfig.train_on; their out-of-fold
scores): each blind batch's negative comments were harder than the first pass's (the shipped heads flagged 7.7-11.2 %
of them against 4 % calibrated), and they follow the guide's mix rather than over-representing one kind."""
ORDINARY_WEIGHT = 0.5
"""Sample weight of ordinary (non-urgent) in-domain comments, added to the urgent head's training as `none`."""
RTPLX_WEIGHT = 0.5
"""Sample weight of the RTP-LX development rows against the project's own (1.0)."""
C_GRID = (0.01, 0.03, 0.1)
URGENT_C_GRID = (0.03, 0.1, 0.3)
"""C tried for the urgent head (its training set grew with the targeted additions, so it takes less
regularisation than the repeat head)."""
LAYER_GRID = ((8, 12), (6, 9, 12))
"""Encoder layers tried for the urgent head's features (the default setting searches these; any other is used as
given). The repeat head keeps its own layers (SignalsConfig.repeat_layers): with one shared choice the windowed
search's (6, 9, 12) lowered repeat F1 on in-domain comments from 0.72 to 0.63. The detector encodes the union once."""
FOLDS = 5
URGENT_SCORING = "max_span"
"""How urgent comments are scored: "max_span" (the default: the whole-text head at its threshold, or a span head on
each sentence's token means from the same encoder pass at its own threshold; synpunkt/signals/span_head.py),
"whole" (the whole text only) or "max_window" (the most urgent of the whole text and its re-encoded sentences,
synpunkt/signals/windows.py, threshold calibrated on the same max-scoring).
max_span (2026-11-29, chosen on validation / out-of-fold figures only): every held-out figure of the whole-text
head kept (recall 0.95, 3.9 % of first-pass negative comments flagged, 1.2 % of ordinary validation comments), the
dilution diagnostic's urgent recall 0.34 -> 0.47 with no angry letter flagged, at 1.01x the signal pass's time on
onnx, 0.99x on torch (benchmarks/bench_signal_spans.py). The test split, read once afterwards, kept every figure
(threat recall 0.821 still) with one more of 254 ordinary comments flagged (2.0 %).
The urgent head alone scoring spans (threshold 0.95: 11 % of negatives flagged) and one head fitted on whole texts
and spans (urgent_training "mil": held-out recall 0.94, validation threat 0.94) were rejected.
max_window (2026-11-29, repeat head on its own layers 8, 12; urgent search chose 6, 9, 12, C 0.03, threshold 0.76)
lifted the dilution diagnostic's urgent recall from 0.32 to 0.88 and kept the repeat head (test F1 0.857 written,
0.722 comments) but flagged 2.4 % of ordinary in-domain test comments (floor 2 %) with test threat recall 0.836
(whole: 0.821), and re-encoding every sentence cost 1.8x the signal pass, so it was not shipped."""
URGENT_TRAINING = "whole"
"""What the urgent head is fitted on: "whole" (whole texts; with max_span the spans get a head of their own) or
"mil" (one head on whole texts and sentence spans, synpunkt/signals/mil.py, scoring the most urgent of the whole
text and its spans with one threshold; with urgent_scoring "max_span")."""


@dataclass
class Windows:
    """Features of the sentence windows of some rows: (m, dim) features and the row (0..n-1) of each."""

    features: np.ndarray
    rows: np.ndarray

    def subset(self, rows: np.ndarray, layers=None) -> tuple[np.ndarray, np.ndarray]:
        """The windows of the given rows (indices), renumbered 0..len(rows)-1 (layers selected when given)."""
        position = {int(r): k for k, r in enumerate(rows)}
        keep = np.array([int(r) in position for r in self.rows], dtype=bool)
        x = self.features[keep] if layers is None else select_layers(self.features[keep], layers)
        return x, np.array([position[int(r)] for r in self.rows[keep]], dtype=int)


def _windows(encoder: FeatureEncoder, texts: list[str], name: str, scoring: str) -> Windows | None:
    """All-layer features of the texts' re-encoded windows ("max_window") or sentence spans ("max_span"; both
    cached), or None for whole-text scoring."""
    if scoring == "max_span":
        _, spans, rows = cached_all_layer_spans(encoder, texts, name.replace("_windows", ""), MAX_WINDOW_WORDS)
        return Windows(spans, rows)
    if scoring != "max_window":
        return None
    flat, rows = window_table(texts, WINDOW_SENTENCES, MAX_WINDOW_WORDS)
    log.info("%s: %d texts, %d sentence windows", name, len(texts), len(flat))
    feats = cached_all_layers(encoder, flat, name) if flat else np.zeros((0, 13, 384), dtype=np.float32)
    return Windows(feats, rows)


@dataclass
class SpanTraining:
    """Training on sentence spans (the span head, or urgent_training "mil"): all-layer span features of the urgent
    rows (rows: urgent row index) and of the extra rows (rows: extra row index; RTP-LX rows have none), and, for
    "mil", the number of spans up to which an urgent text gives all of them (synpunkt/signals/mil.py)."""

    urgent: Windows
    extra: Windows | None
    all_spans_upto: int = 0


def _urgent_training_rows(rows: pd.DataFrame, x: np.ndarray, x_extra: np.ndarray | None,
                          extra: pd.DataFrame | None, spans: SpanTraining | None = None, fit_rows=None,
                          layers=None, selector: LinearHead | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and sample weights: the urgent set's rows (weight 1) and the extra rows (their own
    `weight`: ordinary in-domain comments as `none`, RTP-LX development rows); with `spans` (and fit_rows, the
    rows' indices in the urgent set, and the selector head) their sentence spans as well (mil_rows)."""
    y, w = rows["category"].to_numpy(), np.ones(len(rows))
    if x_extra is not None:
        x, y, w = (np.vstack([x, x_extra]), np.concatenate([y, extra["category"].to_numpy()]),
                   np.concatenate([w, extra["weight"].to_numpy(dtype=float)]))
    if spans is None:
        return x, y, w
    xs, rs = spans.urgent.subset(np.asarray(fit_rows), layers)
    if spans.extra is not None and x_extra is not None:
        xe, re_ = spans.extra.subset(np.arange(len(x_extra)), layers)
        xs, rs = np.vstack([xs, xe]), np.concatenate([rs, re_ + len(rows)])
    return mil_rows(x, y, w, xs, rs, selector, spans.all_spans_upto)


def _selector(urgent: pd.DataFrame, x: np.ndarray, x_extra, extra, c: float, seed: int) -> LinearHead:
    """The whole-text urgent head on the train split (the "current head" that picks each urgent training text's
    most urgent span for multiple-instance training)."""
    tr = (urgent["split"] == "train").to_numpy()
    xs, ys, ws = _urgent_training_rows(urgent[tr], x[tr], x_extra, extra)
    scaler, model = _fit(xs, ys, c, seed, ws)
    return LinearHead.from_sklearn(list(model.classes_), scaler, model)


def _tune_urgent(urgent: pd.DataFrame, x: np.ndarray, x_extra, extra, c: float, seed: int,
                 windows: Windows | None = None, layers=None, spans: SpanTraining | None = None,
                 pool: str = CALIBRATION_POOL) -> tuple[float, float]:
    """(threshold, recall) of one setting (held_out_scores, then the threshold and recall on them)."""
    p_urgent = held_out_scores(urgent, x, x_extra, extra, c, seed, windows, layers, spans)
    return held_out_threshold(urgent, p_urgent, pool)


def calibration_rows(urgent: pd.DataFrame, pool: str = CALIBRATION_POOL) -> np.ndarray:
    """The rows whose held-out scores calibrate the urgent and span thresholds (mask; pure): the validation split
    and the train rows (scored out of fold) of `pool` (CALIBRATION_POOL); never validation_blind or test."""
    if pool not in CALIBRATION_POOLS:
        raise ValueError(f"unknown calibration pool {pool!r}: expected one of {CALIBRATION_POOLS}")
    if pool == "validation":
        return (urgent["split"] == "validation").to_numpy()
    held = urgent["split"].isin(["train", "validation"]).to_numpy()
    first_pass = held & ~is_added_urgent_row(urgent["id"]).to_numpy()
    if pool == "first_pass":
        return first_pass
    if pool == "first_pass_blind":
        return first_pass | (held & urgent.get("written_as", urgent["split"]).isin(BLIND_SPLITS).to_numpy())
    return held


def held_out_threshold(urgent: pd.DataFrame, p_urgent: np.ndarray, pool: str = CALIBRATION_POOL
                       ) -> tuple[float, float]:
    """(threshold, recall) from held-out scores: the lowest threshold flagging at most CALIBRATION_FLAG_RATE of the
    held-out non-urgent negative comments of calibration_rows (rules included), and the recall of every held-out
    urgent row at it (rules included)."""
    from synpunkt.signals.rules import rule_category

    held = urgent["split"].isin(["train", "validation"]).to_numpy()
    calibration = calibration_rows(urgent, pool)
    rules = np.array([rule_category(t) is not None for t in urgent["text"]])
    negative = held & ((urgent["category"] == "none") & (urgent["negative_tone"] == True)).to_numpy()  # noqa: E712
    t = urgent_threshold(p_urgent[calibration], negative[calibration], rules[calibration], CALIBRATION_FLAG_RATE)
    is_urgent = held & (urgent["category"] != "none").to_numpy()
    return t, float(((p_urgent >= t) | rules)[is_urgent].mean())


def _held_out_splits(urgent: pd.DataFrame, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, scored rows) of the held-out predictions: train -> validation, then FOLDS folds of train."""
    from sklearn.model_selection import StratifiedKFold

    tr = (urgent["split"] == "train").to_numpy()
    va = (urgent["split"] == "validation").to_numpy()
    folds = [(np.flatnonzero(tr)[a], np.flatnonzero(tr)[b]) for a, b in StratifiedKFold(
        FOLDS, shuffle=True, random_state=seed).split(np.zeros((int(tr.sum()), 1)), urgent.loc[tr, "category"])]
    return [(np.flatnonzero(tr), np.flatnonzero(va)), *folds]


def _span_head_rows(urgent: pd.DataFrame, fit_rows: np.ndarray, spans: SpanTraining, layers,
                    selector: LinearHead, extra: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The span head's training rows for the urgent rows fit_rows and the extra rows (span_training_set)."""
    xs, rs = spans.urgent.subset(np.asarray(fit_rows), layers)
    y, w = urgent["category"].to_numpy()[fit_rows], np.ones(len(fit_rows))
    if spans.extra is not None and extra is not None:
        xe, re_ = spans.extra.subset(np.arange(len(extra)), layers)
        xs, rs = np.vstack([xs, xe]), np.concatenate([rs, re_ + len(fit_rows)])
        y = np.concatenate([y, extra["category"].to_numpy()])
        w = np.concatenate([w, extra["weight"].to_numpy(dtype=float)])
    return span_training_set(y, w, xs, rs, selector)


def fit_span_head(urgent: pd.DataFrame, x: np.ndarray, x_extra, extra, c: float, threshold: float, seed: int,
                  spans: SpanTraining, layers, selector: LinearHead, pool: str = CALIBRATION_POOL
                  ) -> tuple[LinearHead | None, float | None, dict]:
    """(span head, span threshold, held-out figures) next to the whole-text urgent head (C `c`, `threshold`,
    `selector` = that head): the span head is fitted on window-level examples (span_head.py) for every held-out
    split, the span threshold calibrated on the held-out negative comments of calibration_rows with the whole-text
    head's held-out scores (CALIBRATION_FLAG_RATE of both together), then the head refitted on the train split.
    (None, None, figures) when no span threshold keeps the rate."""
    from synpunkt.signals.rules import rule_category

    p_whole = held_out_scores(urgent, x, x_extra, extra, c, seed)
    p_span = np.zeros(len(urgent))
    for fit_rows, score_rows in _held_out_splits(urgent, seed):
        xs, ys, ws = _span_head_rows(urgent, fit_rows, spans, layers, selector, extra)
        scaler, model = _fit(xs, ys, SPAN_C, seed, ws)
        head = LinearHead.from_sklearn(list(model.classes_), scaler, model)
        xs, rs = spans.urgent.subset(score_rows, layers)
        p_span[score_rows] = max_span_urgency(head, xs, rs, len(score_rows))
    held = urgent["split"].isin(["train", "validation"]).to_numpy()
    calibration = calibration_rows(urgent, pool)
    rules = np.array([rule_category(t) is not None for t in urgent["text"]])
    negative = ((urgent["category"] == "none") & (urgent["negative_tone"] == True)).to_numpy()  # noqa: E712
    t_span = span_threshold(p_whole[calibration], p_span[calibration], threshold, negative[calibration],
                            rules[calibration], CALIBRATION_FLAG_RATE)
    is_urgent = held & (urgent["category"] != "none").to_numpy()
    base = (p_whole >= threshold) | rules
    flagged = base | (p_span >= t_span) if t_span is not None else base
    figures = {"span_threshold": t_span, "held_out_recall_whole": round(float(base[is_urgent].mean()), 4),
               "held_out_recall_with_spans": round(float(flagged[is_urgent].mean()), 4),
               "held_out_negative_flag_rate": round(float(flagged[calibration & negative].mean()), 4)}
    if t_span is None:
        return None, None, figures
    tr = np.flatnonzero((urgent["split"] == "train").to_numpy())
    xs, ys, ws = _span_head_rows(urgent, tr, spans, layers, selector, extra)
    scaler, model = _fit(xs, ys, SPAN_C, seed, ws)
    return LinearHead.from_sklearn(list(model.classes_), scaler, model), t_span, figures


def held_out_scores(urgent: pd.DataFrame, x: np.ndarray, x_extra, extra, c: float, seed: int,
                    windows: Windows | None = None, layers=None, spans: SpanTraining | None = None) -> np.ndarray:
    """p(urgent) of one setting from held-out predictions: the validation split (model fit on train) and
    out-of-fold predictions for the train split (5-fold); held_out_threshold() then takes the lowest threshold that
    flags at most CALIBRATION_FLAG_RATE of the held-out non-urgent negative comments (calibration_rows:
    CALIBRATION_POOL) and the recall (rules included) of every held-out urgent row, the additions' varied
    phrasings too. With windows, every held-out row is scored as the detector scores it (its most urgent sentence
    window or the whole text), so the threshold is calibrated on the same max-scoring. With
    `spans` the head is fitted on whole texts and sentence spans (multiple-instance, mil_rows; the spans of each
    fit's own rows only, picked by a whole-text head on the train split). Returns p(urgent) per urgent row (0 for
    test rows, which are never scored here)."""
    selector = _selector(urgent, x, x_extra, extra, c, seed) if spans is not None else None
    p_urgent = np.zeros(len(urgent))
    for fit_rows, score_rows in _held_out_splits(urgent, seed):
        xs, ys, ws = _urgent_training_rows(urgent.iloc[fit_rows], x[fit_rows], x_extra, extra, spans, fit_rows,
                                           layers, selector)
        scaler, model = _fit(xs, ys, c, seed, ws)
        head = LinearHead.from_sklearn(list(model.classes_), scaler, model)
        none = head.classes.index("none")
        p = head.probabilities(x[score_rows])
        if windows is not None:
            xw, rows = windows.subset(score_rows, layers)
            p = max_window_probabilities(p, head.probabilities(xw), rows, none) if len(rows) else p
        p_urgent[score_rows] = 1 - p[:, none]
    return p_urgent


ENCODER_DIR = "encoder"
"""Where heads trained on a classifier's encoder keep its copy, beside heads.json."""


@dataclass
class SignalsConfig:
    output_dir: Path = SIGNALS_DIR
    base_model: str = DEFAULT_BASE_MODEL  # the encoder the heads read (synpunkt.base_model)
    classifier: Path | None = None  # read this classifier's encoder instead (copied to output_dir/encoder; one pass)
    layers: tuple[int, ...] = FEATURE_LAYERS
    seed: int = 42
    data_dir: Path | None = None  # shared datasets (RTP-LX); absent -> project data only
    use_rtplx: bool = False  # the shipped heads are trained on the repository's data alone (reproducible)
    urgent_scoring: str = URGENT_SCORING  # "max_span", "max_window" or "whole" (see URGENT_SCORING)
    urgent_training: str = URGENT_TRAINING  # "mil" or "whole" (see URGENT_TRAINING)
    mil_all_spans_upto: int = 0  # mil: urgent texts with at most this many spans give all of them
    search_layers: bool = True  # False: the urgent head's C is searched on `layers` only (quicker)
    repeat_layers: tuple[int, ...] = FEATURE_LAYERS  # the repeat head's own layers (not the urgent head's choice)
    calibration_pool: str | None = None  # CALIBRATION_POOLS; None: "validation" for an encoder trained with the
    # classifier's auxiliary signal heads (it has seen the train rows), else CALIBRATION_POOL
    train_on: tuple[str, ...] = ()  # worn blind batches (data.BLIND_SPLITS) added to the train split


def calibration_pool(cfg: SignalsConfig) -> str:
    """The calibration pool of a training run (see SignalsConfig.calibration_pool)."""
    if cfg.calibration_pool is not None:
        return cfg.calibration_pool
    if cfg.classifier is not None and ModelSettings.load(cfg.classifier).signal_heads:
        return "validation"
    return CALIBRATION_POOL


def recorded_scoring(scoring: str, training: str, has_span_head: bool) -> str:
    """The urgent_scoring written to heads.json (pure): "whole" when "max_span" with whole-text training ends without
    a span head (no span threshold kept the calibration rate), because the Detector would otherwise max-score the
    sentence spans with the whole-text head at a threshold calibrated on whole texts only (2026-11-29: 23 % of
    validation negative comments flagged); else `scoring`."""
    if scoring == "max_span" and training == "whole" and not has_span_head:
        return "whole"
    return scoring


def fit_repeat_head(x: np.ndarray, y: np.ndarray, fit: np.ndarray, tune: np.ndarray, seed: int
                    ) -> tuple[LinearHead, float, float, float]:
    """(head, C, threshold, tune F1) of the repeat-contact head: for each C of C_GRID a head fitted on the `fit`
    rows (masks), its threshold by best F1 on the `tune` rows; the C with the best F1 (the first on ties)."""
    best = None
    for c in C_GRID:
        scaler, model = _fit(x[fit], y[fit], c, seed)
        head = LinearHead.from_sklearn(["no", "yes"], scaler, model)
        p = head.probabilities(x[tune])[:, 1]
        t = best_f1_threshold(p, y[tune])
        f1 = float(f1_score(y[tune], p >= t))
        log.info("repeat head C=%s: threshold %.2f, validation F1 %.3f", c, t, f1)
        if best is None or f1 > best[3]:
            best = (head, c, t, f1)
    return best


def _fit(x: np.ndarray, y: np.ndarray, c: float, seed: int, weight: np.ndarray | None = None):
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit(scaler.transform(x), y, sample_weight=weight)
    return scaler, model


def train_signals(cfg: SignalsConfig) -> dict:
    """Train, tune, evaluate and save; returns the evaluation (also written as evaluation.json)."""
    base_model, recorded = cfg.base_model, cfg.base_model
    if cfg.classifier is not None:  # the heads keep their own copy: retraining the classifier never moves them
        copy_encoder(cfg.classifier, Path(cfg.output_dir) / ENCODER_DIR)
        base_model = classifier_spec((Path(cfg.output_dir) / ENCODER_DIR).resolve())
        recorded = classifier_spec(ENCODER_DIR)
    encoder = FeatureEncoder(base_model=base_model, layers=cfg.layers)
    pool = calibration_pool(cfg)
    log.info("thresholds calibrated on the %r pool", pool)
    urgent = train_on(urgent_data(), tuple(cfg.train_on))
    repeat = repeat_data()
    all_u = cached_all_layers(encoder, urgent["text"].tolist(), "urgent")
    all_r = cached_all_layers(encoder, repeat["text"].tolist(), "repeat")
    rtplx = rtplx_data(cfg.data_dir) if cfg.use_rtplx else None
    win_u = _windows(encoder, urgent["text"].tolist(), "urgent_windows", cfg.urgent_scoring)
    held_comments = ((repeat["source"] == "comments") & repeat["split"].isin(["validation", "test"])).to_numpy()
    if cfg.urgent_scoring == "max_span":  # every repeat row's spans (rows of `repeat`), one cached pass
        win_c = _windows(encoder, repeat["text"].tolist(), "repeat", cfg.urgent_scoring)
    else:
        win_c = _windows(encoder, repeat.loc[held_comments, "text"].tolist(), "comments_windows", cfg.urgent_scoring)
        if win_c is not None:  # renumber to rows of `repeat`
            win_c = Windows(win_c.features, np.flatnonzero(held_comments)[win_c.rows])
    if cfg.urgent_training == "mil" and cfg.urgent_scoring != "max_span":
        raise ValueError("urgent_training 'mil' needs urgent_scoring 'max_span'")

    # urgent head: train + ordinary in-domain comments (train split) as `none` (+ RTP-LX rows); layers, C and
    # threshold chosen on held-out predictions only. Without the ordinary comments the head flagged several per
    # cent of everyday comments (dialect, resigned or long ones) in the demo.
    tr, va = (urgent["split"] == s for s in ("train", "validation"))
    blind = urgent["written_as"].isin(cfg.train_on)
    ordinary = ((repeat["source"] == "comments") & (repeat["split"] == "train")).to_numpy()
    extra = repeat.loc[ordinary, ["text"]].assign(category="none", weight=ORDINARY_WEIGHT)
    extra_all = all_r[ordinary]
    if rtplx is not None and len(rtplx):
        extra = pd.concat([extra, rtplx.assign(weight=RTPLX_WEIGHT)], ignore_index=True)
        extra_all = np.vstack([extra_all, cached_all_layers(encoder, rtplx["text"].tolist(), "rtplx")])
    span_data = (SpanTraining(win_u, Windows(*win_c.subset(np.flatnonzero(ordinary))), cfg.mil_all_spans_upto)
                 if cfg.urgent_scoring == "max_span" else None)
    spans = span_data if cfg.urgent_training == "mil" else None
    # the whole-text head is tuned on max-scoring only where that head scores the windows itself (max_window, or
    # max_span with mil); with max_span and whole training the spans get a head of their own (span_head.py)
    search_windows = win_u if cfg.urgent_scoring == "max_window" or spans is not None else None
    best = None
    for layers in LAYER_GRID if cfg.layers == FEATURE_LAYERS and cfg.search_layers else (cfg.layers,):
        x = select_layers(all_u, layers)
        x_extra = select_layers(extra_all, layers) if extra_all is not None else None
        for c in URGENT_C_GRID:
            t, recall = _tune_urgent(urgent, x, x_extra, extra, c, cfg.seed, search_windows, layers, spans, pool)
            log.info("urgent head layers=%s C=%s: threshold %.2f, held-out recall %.3f", layers, c, t, recall)
            if best is None or recall > best[0] + 1e-9:
                best = (recall, layers, c, t)
    _, layers, c_urgent, t_urgent = best
    x_u, x_extra = select_layers(all_u, layers), select_layers(extra_all, layers) if extra_all is not None else None
    selector = _selector(urgent, x_u, x_extra, extra, c_urgent, cfg.seed) if spans is not None else None
    x_tr, y_tr, w_tr = _urgent_training_rows(urgent[tr.to_numpy()], x_u[tr.to_numpy()], x_extra, extra, spans,
                                             np.flatnonzero(tr.to_numpy()), layers, selector)
    scaler, model = _fit(x_tr, y_tr, c_urgent, cfg.seed, w_tr)
    urgent_head = LinearHead.from_sklearn(list(model.classes_), scaler, model)
    span_head, t_span, span_figures = None, None, None
    if span_data is not None and spans is None:
        span_head, t_span, span_figures = fit_span_head(urgent, x_u, x_extra, extra, c_urgent, t_urgent, cfg.seed,
                                                        span_data, layers, urgent_head, pool)
        log.info("urgent span head: %s", span_figures)
    scoring = recorded_scoring(cfg.urgent_scoring, cfg.urgent_training, span_head is not None)
    if scoring != cfg.urgent_scoring:
        log.warning("no span threshold keeps the calibration rate: the span head is off and the heads score the "
                    "whole text (the threshold was calibrated on whole-text scores)")
    repeat_layers = tuple(cfg.repeat_layers)
    encoded = union_layers(layers, repeat_layers)  # what the detector encodes; each head takes its own columns
    feats_u = select_layers(all_u, encoded)
    feats_r = select_layers(all_r, encoded)

    # repeat-contact head: encoder features and cue phrases; train splits of both files, threshold for F1 on both
    # validation splits
    rtr, rva = (repeat["split"] == s for s in ("train", "validation"))
    y_r = repeat["repeat_contact"].astype(bool).to_numpy()
    x_r = np.hstack([select_layers(all_r, repeat_layers), cue_features(repeat["text"].tolist())])
    repeat_head, c_repeat, t_repeat, _ = fit_repeat_head(x_r, y_r, rtr.to_numpy(), rva.to_numpy(), cfg.seed)

    version = "signals-" + datetime.now(timezone.utc).strftime("%Y%m%d")
    settings = {
        "version": version, "base_model": recorded, "layers": list(encoded),
        "head_layers": {"urgent": list(layers), "repeat": list(repeat_layers)}, "max_length": MAX_LENGTH,
        "pooling": "mean over tokens, per layer, concatenated", "text_prefix": "query: ", "seed": cfg.seed,
        "repeat_features": "encoder features + cue phrases (synpunkt/signals/repeat_cues.py)",
        "thresholds": {"urgent": t_urgent, "repeat_contact": t_repeat,
                       **({"urgent_span": t_span} if span_head is not None else {})},
        "urgent_scoring": scoring, "urgent_training": cfg.urgent_training,
        **({"mil_all_spans_upto": cfg.mil_all_spans_upto} if cfg.urgent_training == "mil" else {}),
        "window_sentences": list(WINDOW_SENTENCES),
        "max_window_words": MAX_WINDOW_WORDS,
        "calibration_flag_rate": CALIBRATION_FLAG_RATE, "calibration_pool": pool,
        **({"train_on": list(cfg.train_on)} if cfg.train_on else {}),
        "regularisation": {"urgent_C": c_urgent, "repeat_C": c_repeat,
                           **({"urgent_span_C": SPAN_C} if span_head is not None else {})},
        **({"urgent_span_held_out": span_figures} if span_figures is not None else {}),
        "training_data": {
            "urgent": urgent_data_text(int(tr.sum()), int(blind.sum()), cfg.train_on,
                                       int((tr & ~blind & is_added_urgent_row(urgent["id"])).sum()), pool)
                      + f"{int(ordinary.sum())} ordinary comments of data/comments (train split) as none, weight "
                      f"{ORDINARY_WEIGHT}"
                      + (f" + {len(rtplx)} RTP-LX Swedish development rows (MIT/Apache-2.0, weight {RTPLX_WEIGHT}; "
                         "violence >= 2.5 -> threat, self_harm >= 2 -> self_harm, clearly harmless -> none)"
                         if rtplx is not None else ""),
            "repeat_contact": f"data/repeat_contact train splits ({int(rtr.sum())} rows: repeat_contact.jsonl and "
                              "comments_labels.jsonl joined to data/comments)",
            "thresholds": "held-out predictions only (validation splits; for the urgent head also out-of-fold "
                          "predictions on its train split, "
                          + {"all_passes": "targeted additions included",
                             "first_pass": "the threshold on the first labelling pass only",
                             "first_pass_blind": "the threshold on the first labelling pass and the worn blind batches",
                             "validation": "the threshold on the validation split only, as the encoder was trained "
                                           "on the train split"}[pool]
                          + "; no other blind batch is read); test splits only for the evaluation"},
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "code": code_revision(),  # the commit its code and data came from
    }
    heads = SignalHeads(urgent_head, repeat_head, settings, span_head)
    evaluation = evaluate(heads, urgent, feats_u, repeat, feats_r, win_u, win_c)
    evaluation["dilution_validation"] = dilution(heads, encoder, urgent, cfg.seed)
    heads.settings["test_summary"] = evaluation["summary"]
    heads.save(cfg.output_dir)
    (cfg.output_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n", encoding="utf-8")
    from synpunkt.signals.card import write_card

    write_card(cfg.output_dir, heads.settings, evaluation)
    return evaluation


def urgent_data_text(n_train: int, n_blind: int, blind_splits: tuple[str, ...], n_added: int, pool: str) -> str:
    """The start of the urgent head's training-data line in heads.json and the card (pure): its train rows, the worn
    blind batches among them, the targeted additions, and which of them calibrated the thresholds."""
    added = (f"{n_added} of them targeted additions that over-represent hard cases, fitted on"
             + (" and, out of fold, in the calibration pool" if pool == "all_passes"
                else " but not used for calibration"))
    blinds = (f"; {n_blind} of them the worn blind batches {', '.join(blind_splits)}, fitted on"
              + (" and, out of fold, in the calibration pool" if pool in ("all_passes", "first_pass_blind")
                 else " but not used for calibration") if blind_splits else "")
    return f"data/urgent/urgent.jsonl train split ({n_train} rows, project-written{blinds}; {added}) + "


def dilution(heads: SignalHeads, encoder: FeatureEncoder, urgent: pd.DataFrame, seed: int) -> dict:
    """The dilution diagnostic (synpunkt/signals/dilution.py; validation passages in long train/validation
    comments, no test data): the heads' figures as whole-text, windowed ("max_window") and span ("max_span")
    scoring."""
    from synpunkt.signals.dilution import comments_frame, compose, dilution_metrics

    frame = compose(urgent, comments_frame(), seed)
    texts = frame["text"].tolist()
    layers = heads.settings["layers"]
    x = select_layers(cached_all_layers(encoder, texts, "dilution"), layers)
    parts = {scoring: _windows(encoder, texts, "dilution_windows", scoring) for scoring in ("max_window", "max_span")}
    out = {}
    for scoring in ("whole", "max_window", "max_span"):
        detector = Detector(SignalHeads(heads.urgent, heads.repeat, {**heads.settings, "urgent_scoring": scoring},
                                        heads.urgent_span))
        args = parts[scoring].subset(np.arange(len(texts)), layers) if scoring in parts else (None, None)
        out[scoring] = dilution_metrics(frame, detector.detect_features(x, texts, *args)["category"].notna().to_numpy())
    return out


def evaluate(heads: SignalHeads, urgent: pd.DataFrame, feats_u: np.ndarray, repeat: pd.DataFrame,
             feats_r: np.ndarray, win_u: Windows | None = None, win_c: Windows | None = None) -> dict:
    """Validation and test figures of both heads (the decision rules of Detector, rules included); feats_u and
    feats_r are features of the encoded layers (heads.encoded_layers); win_u and
    win_c are the all-layer window features of the urgent rows and of the held-out in-domain comments (rows of
    `repeat`) when the urgent head scores windows."""
    detector = Detector(heads, encoder=None)
    layers = heads.settings["layers"]

    def wins(w: Windows | None, mask: np.ndarray) -> tuple:
        scored = detector.windowed or detector.spanned
        return w.subset(np.flatnonzero(mask), layers) if w is not None and scored else (None, None)

    out: dict = {"version": heads.version, "thresholds": heads.thresholds}
    for split in ("validation", "test"):
        m = (urgent["split"] == split).to_numpy()
        out[f"urgent_{split}"] = urgent_metrics(urgent[m].reset_index(drop=True),
                                                detector.detect_features(feats_u[m], urgent.loc[m, "text"].tolist(),
                                                                         *wins(win_u, m)))
        for source in ("written", "comments", "both"):
            r = (repeat["split"] == split).to_numpy() & ((repeat["source"] == source).to_numpy() | (source == "both"))
            detected = detector.detect_features(feats_r[r], repeat.loc[r, "text"].tolist())
            out[f"repeat_{split}_{source}"] = repeat_metrics(repeat.loc[r, "repeat_contact"].astype(bool).to_numpy(),
                                                             detected["repeat_contact"].to_numpy())
    for split in ("validation", "test"):
        m = ((repeat["source"] == "comments") & (repeat["split"] == split)).to_numpy()
        flagged = detector.detect_features(feats_r[m], repeat.loc[m, "text"].tolist(),
                                           *wins(win_c, m))["category"].notna()
        out[f"ordinary_comments_{split}"] = {"n": int(m.sum()), "flag_rate": float(flagged.mean())}
    test = out["urgent_test"]
    out["summary"] = {
        "ordinary_comments_flag_rate": out["ordinary_comments_test"]["flag_rate"],
        **{f"recall_{c}": test["categories"][c]["recall"] for c in ALERT_CATEGORIES},
        "negative_none_flag_rate": test["none"]["negative_flag_rate"], "none_flag_rate": test["none"]["flag_rate"],
        "repeat_f1_written": out["repeat_test_written"]["f1"], "repeat_f1_comments": out["repeat_test_comments"]["f1"],
        "repeat_f1_both": out["repeat_test_both"]["f1"]}
    return out


__all__ = ["SignalsConfig", "train_signals", "URGENT_CATEGORIES"]

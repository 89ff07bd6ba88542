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
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.preprocessing import StandardScaler

from synpunkt.signals.data import (ALERT_CATEGORIES, URGENT_CATEGORIES, repeat_data, rtplx_data, urgent_data)
from synpunkt.signals.detect import Detector
from synpunkt.signals.features import FEATURE_LAYERS, MAX_LENGTH, FeatureEncoder, cached_all_layers, select_layers
from synpunkt.signals.heads import SIGNALS_DIR, LinearHead, SignalHeads
from synpunkt.signals.repeat_cues import cue_features

log = logging.getLogger(__name__)

MAX_NEGATIVE_FLAG_RATE = 0.05
"""The urgent threshold is the lowest that flags at most this share of the held-out (validation and out-of-fold
train) non-urgent negative comments: the target of issue 9 (at most 5 % flagged), applied to held-out data."""
ORDINARY_WEIGHT = 0.5
"""Sample weight of ordinary (non-urgent) in-domain comments, added to the urgent head's training as `none`."""
RTPLX_WEIGHT = 0.5
"""Sample weight of the RTP-LX development rows against the project's own (1.0)."""
C_GRID = (0.01, 0.03, 0.1)
LAYER_GRID = ((12,), (8, 12), (4, 8, 12), (6, 9, 12))
"""Encoder layers tried for the features (the default setting searches these; any other is used as given)."""
FOLDS = 5


def _urgent_training_rows(rows: pd.DataFrame, x: np.ndarray, x_extra: np.ndarray | None,
                          extra: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and sample weights: the urgent set's rows (weight 1) and the extra rows (their own
    `weight`: ordinary in-domain comments as `none`, RTP-LX development rows)."""
    y, w = rows["category"].to_numpy(), np.ones(len(rows))
    if x_extra is None:
        return x, y, w
    return (np.vstack([x, x_extra]), np.concatenate([y, extra["category"].to_numpy()]),
            np.concatenate([w, extra["weight"].to_numpy(dtype=float)]))


def _tune_urgent(urgent: pd.DataFrame, x: np.ndarray, x_extra, extra, c: float, seed: int) -> tuple[float, float]:
    """(threshold, recall) of one setting from held-out predictions: the validation split (model fit on train)
    and out-of-fold predictions for the train split (5-fold). The threshold is the lowest that flags at most
    MAX_NEGATIVE_FLAG_RATE of the held-out non-urgent negative comments; recall counts the rules too."""
    from sklearn.model_selection import StratifiedKFold

    from synpunkt.signals.rules import rule_category

    tr = (urgent["split"] == "train").to_numpy()
    va = (urgent["split"] == "validation").to_numpy()
    held = tr | va
    p_urgent = np.zeros(len(urgent))
    folds = [(np.flatnonzero(tr)[a], np.flatnonzero(tr)[b]) for a, b in StratifiedKFold(
        FOLDS, shuffle=True, random_state=seed).split(x[tr], urgent.loc[tr, "category"])]
    for fit_rows, score_rows in [(np.flatnonzero(tr), np.flatnonzero(va)), *folds]:
        xs, ys, ws = _urgent_training_rows(urgent.iloc[fit_rows], x[fit_rows], x_extra, extra)
        scaler, model = _fit(xs, ys, c, seed, ws)
        head = LinearHead.from_sklearn(list(model.classes_), scaler, model)
        p_urgent[score_rows] = 1 - head.probabilities(x[score_rows])[:, head.classes.index("none")]
    rules = np.array([rule_category(t) is not None for t in urgent["text"]])
    negative = held & ((urgent["category"] == "none") & (urgent["negative_tone"] == True)).to_numpy()  # noqa: E712
    t = urgent_threshold(p_urgent[held], negative[held], rules[held])
    is_urgent = held & (urgent["category"] != "none").to_numpy()
    return t, float(((p_urgent >= t) | rules)[is_urgent].mean())


@dataclass
class SignalsConfig:
    output_dir: Path = SIGNALS_DIR
    layers: tuple[int, ...] = FEATURE_LAYERS
    seed: int = 42
    data_dir: Path | None = None  # shared datasets (RTP-LX); absent -> project data only
    use_rtplx: bool = False  # the shipped heads are trained on the repository's data alone (reproducible)


def _fit(x: np.ndarray, y: np.ndarray, c: float, seed: int, weight: np.ndarray | None = None):
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit(scaler.transform(x), y, sample_weight=weight)
    return scaler, model


def urgent_threshold(p_urgent: np.ndarray, negative_none: np.ndarray, rule_flag: np.ndarray,
                     max_rate: float = MAX_NEGATIVE_FLAG_RATE) -> float:
    """The lowest threshold on p(urgent) that flags at most `max_rate` of the non-urgent negative comments
    (rules included, pure)."""
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        flagged = (p_urgent >= t) | rule_flag
        if flagged[negative_none].mean() <= max_rate:
            return float(t)
    return 0.95


def best_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold with the highest F1 (ties: the lowest, for recall; pure)."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [f1_score(y, p >= t, zero_division=0) for t in grid]
    return float(grid[int(np.argmax(scores))])


def urgent_metrics(frame: pd.DataFrame, detected: pd.DataFrame) -> dict:
    """Per category: n, recall (flagged with any category) and exact recall (the right category); false flags among
    non-urgent comments, negative ones and per none_kind."""
    flagged = detected["category"].notna().to_numpy()
    out: dict = {"categories": {}}
    for c in ALERT_CATEGORIES:
        m = (frame["category"] == c).to_numpy()
        out["categories"][c] = {"n": int(m.sum()), "recall": _share(flagged[m]),
                                "recall_exact_category": _share((detected["category"].to_numpy() == c)[m])}
    none = (frame["category"] == "none").to_numpy()
    negative = none & (frame["negative_tone"] == True).to_numpy()  # noqa: E712 (None for urgent rows)
    out["none"] = {"n": int(none.sum()), "flag_rate": _share(flagged[none]),
                   "n_negative": int(negative.sum()), "negative_flag_rate": _share(flagged[negative]),
                   "flag_rate_by_kind": {k: _share(flagged[none & (frame["none_kind"] == k).to_numpy()])
                                         for k in sorted(frame.loc[none, "none_kind"].dropna().unique())}}
    out["rule_flags"] = int(detected["rule"].sum())
    return out


def _share(mask: np.ndarray) -> float | None:
    return round(float(mask.mean()), 4) if len(mask) else None


def repeat_metrics(y: np.ndarray, predicted: np.ndarray) -> dict:
    return {"n": int(len(y)), "positives": int(y.sum()),
            "precision": round(float(precision_score(y, predicted, zero_division=0)), 4),
            "recall": round(float(recall_score(y, predicted, zero_division=0)), 4),
            "f1": round(float(f1_score(y, predicted, zero_division=0)), 4)}


def train_signals(cfg: SignalsConfig) -> dict:
    """Train, tune, evaluate and save; returns the evaluation (also written as evaluation.json)."""
    encoder = FeatureEncoder(layers=cfg.layers)
    urgent = urgent_data()
    repeat = repeat_data()
    all_u = cached_all_layers(encoder, urgent["text"].tolist(), "urgent")
    all_r = cached_all_layers(encoder, repeat["text"].tolist(), "repeat")
    rtplx = rtplx_data(cfg.data_dir) if cfg.use_rtplx else None

    # urgent head: train + ordinary in-domain comments (train split) as `none` (+ RTP-LX rows); layers, C and
    # threshold chosen on held-out predictions only. Without the ordinary comments the head flagged several per
    # cent of everyday comments (dialect, resigned or long ones) in the demo.
    tr, va = (urgent["split"] == s for s in ("train", "validation"))
    ordinary = ((repeat["source"] == "comments") & (repeat["split"] == "train")).to_numpy()
    extra = repeat.loc[ordinary, ["text"]].assign(category="none", weight=ORDINARY_WEIGHT)
    extra_all = all_r[ordinary]
    if rtplx is not None and len(rtplx):
        extra = pd.concat([extra, rtplx.assign(weight=RTPLX_WEIGHT)], ignore_index=True)
        extra_all = np.vstack([extra_all, cached_all_layers(encoder, rtplx["text"].tolist(), "rtplx")])
    best = None
    for layers in LAYER_GRID if cfg.layers == FEATURE_LAYERS else (cfg.layers,):
        x = select_layers(all_u, layers)
        x_extra = select_layers(extra_all, layers) if extra_all is not None else None
        for c in C_GRID:
            t, recall = _tune_urgent(urgent, x, x_extra, extra, c, cfg.seed)
            log.info("urgent head layers=%s C=%s: threshold %.2f, held-out recall %.3f", layers, c, t, recall)
            if best is None or recall > best[0] + 1e-9:
                best = (recall, layers, c, t)
    _, layers, c_urgent, t_urgent = best
    x_tr, y_tr, w_tr = _urgent_training_rows(urgent[tr.to_numpy()], select_layers(all_u, layers)[tr.to_numpy()],
                                             select_layers(extra_all, layers) if extra_all is not None else None,
                                             extra)
    scaler, model = _fit(x_tr, y_tr, c_urgent, cfg.seed, w_tr)
    urgent_head = LinearHead.from_sklearn(list(model.classes_), scaler, model)
    feats_u = select_layers(all_u, layers)
    feats_r = select_layers(all_r, layers)

    # repeat-contact head: encoder features and cue phrases; train splits of both files, threshold for F1 on both
    # validation splits
    rtr, rva = (repeat["split"] == s for s in ("train", "validation"))
    y_r = repeat["repeat_contact"].astype(bool).to_numpy()
    x_r = np.hstack([feats_r, cue_features(repeat["text"].tolist())])
    best_r = None
    for c in C_GRID:
        scaler, model = _fit(x_r[rtr.to_numpy()], y_r[rtr.to_numpy()], c, cfg.seed)
        head = LinearHead.from_sklearn(["no", "yes"], scaler, model)
        p = head.probabilities(x_r[rva.to_numpy()])[:, 1]
        t = best_f1_threshold(p, y_r[rva.to_numpy()])
        f1 = f1_score(y_r[rva.to_numpy()], p >= t)
        log.info("repeat head C=%s: threshold %.2f, validation F1 %.3f", c, t, f1)
        if best_r is None or f1 > best_r[0]:
            best_r = (f1, c, head, t)
    _, c_repeat, repeat_head, t_repeat = best_r

    version = "signals-" + datetime.now(timezone.utc).strftime("%Y%m%d")
    settings = {
        "version": version, "base_model": encoder.base_model, "layers": list(layers), "max_length": MAX_LENGTH,
        "pooling": "mean over tokens, per layer, concatenated", "text_prefix": "query: ", "seed": cfg.seed,
        "repeat_features": "encoder features + cue phrases (synpunkt/signals/repeat_cues.py)",
        "thresholds": {"urgent": t_urgent, "repeat_contact": t_repeat},
        "regularisation": {"urgent_C": c_urgent, "repeat_C": c_repeat},
        "training_data": {
            "urgent": f"data/urgent/urgent.jsonl train split ({int(tr.sum())} rows, project-written) + "
                      f"{int(ordinary.sum())} ordinary comments of data/comments (train split) as none, weight "
                      f"{ORDINARY_WEIGHT}"
                      + (f" + {len(rtplx)} RTP-LX Swedish development rows (MIT/Apache-2.0, weight {RTPLX_WEIGHT}; "
                         "violence >= 2.5 -> threat, self_harm >= 2 -> self_harm, clearly harmless -> none)"
                         if rtplx is not None else ""),
            "repeat_contact": f"data/repeat_contact train splits ({int(rtr.sum())} rows: repeat_contact.jsonl and "
                              "comments_labels.jsonl joined to data/comments)",
            "thresholds": "held-out predictions only (validation splits; for the urgent head also out-of-fold predictions on its train split); test splits only for the evaluation"},
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    heads = SignalHeads(urgent_head, repeat_head, settings)
    evaluation = evaluate(heads, urgent, feats_u, repeat, feats_r)
    heads.settings["test_summary"] = evaluation["summary"]
    heads.save(cfg.output_dir)
    (cfg.output_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n", encoding="utf-8")
    from synpunkt.signals.card import write_card

    write_card(cfg.output_dir, heads.settings, evaluation)
    return evaluation


def evaluate(heads: SignalHeads, urgent: pd.DataFrame, feats_u: np.ndarray, repeat: pd.DataFrame,
             feats_r: np.ndarray) -> dict:
    """Validation and test figures of both heads (the decision rules of Detector, rules included)."""
    detector = Detector(heads, encoder=None)
    out: dict = {"version": heads.version, "thresholds": heads.thresholds}
    for split in ("validation", "test"):
        m = (urgent["split"] == split).to_numpy()
        out[f"urgent_{split}"] = urgent_metrics(urgent[m].reset_index(drop=True),
                                                detector.detect_features(feats_u[m], urgent.loc[m, "text"].tolist()))
        for source in ("written", "comments", "both"):
            r = (repeat["split"] == split).to_numpy() & ((repeat["source"] == source).to_numpy() | (source == "both"))
            detected = detector.detect_features(feats_r[r], repeat.loc[r, "text"].tolist())
            out[f"repeat_{split}_{source}"] = repeat_metrics(repeat.loc[r, "repeat_contact"].astype(bool).to_numpy(),
                                                             detected["repeat_contact"].to_numpy())
    for split in ("validation", "test"):
        m = ((repeat["source"] == "comments") & (repeat["split"] == split)).to_numpy()
        flagged = detector.detect_features(feats_r[m], repeat.loc[m, "text"].tolist())["category"].notna()
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

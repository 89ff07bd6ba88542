"""Yearly trends with corrected shares: per municipality, year and topic (and nationally) the classify-and-count
figures, the prevalence-corrected shares and net score (synpunkt.quantification) with 95 % bootstrap intervals
that include the correction's uncertainty, and a small-sample flag. Vectorised over groups: DuckDB aggregates
the comment-level mart it has just rebuilt (synpunkt.marts, sql/trends.sql), numpy corrects and bootstraps the
groups and widens the intervals by the factor calibrated for each group's size.

Each head's groups ('all': the overall sentiment; a topic: the per-topic head) are corrected with the head's
fitted method. A PACC head needs every model-classified comment's probabilities: a group with any comment whose
prediction was stored without them (n_unscored > 0: per-topic probabilities are kept only since they were added
to `predictions`) is corrected from the labels with the head's labels-only correction (ACC or CC, chosen by the
same validation rule; Quantification.for_rows), never with one-hot labels pushed through a PACC matrix, which
would be biased. Its method column says which was used."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from synpunkt import quantification as Q
from synpunkt.labels import ALL_TOPICS, SENTIMENTS, TOPICS
from synpunkt.report.statistics import MIN_RANK_N, Z95

log = logging.getLogger(__name__)
SMALL_SAMPLE_N = MIN_RANK_N
"""Groups with fewer comments carry small_sample = true and are not ranked."""
N_DRAWS = 400
CHUNK = 4000


def wilson_bounds(k: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson interval (the warehouse macros and synpunkt.report.statistics.wilson)."""
    n = np.maximum(n, 1e-12)
    p = k / n
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def _stats(df: pd.DataFrame, corr: Q.Correction) -> Q.GroupStats:
    """GroupStats of the model-classified comments of each group (human corrections as known counts)."""
    n_model = (df["n"] - df["n_corrected"]).to_numpy(float)
    safe = np.maximum(n_model, 1)[:, None]
    known = df[[f"h_{s}" for s in SENTIMENTS]].to_numpy(float)
    if corr.method in Q.HARD_METHODS:  # predicted labels: counts minus the corrected ones
        mean = (df[[f"n_{s}" for s in SENTIMENTS]].to_numpy(float) - known) / safe
        return Q.GroupStats(n_model, mean, None, known)
    mean = df[["s0", "s1", "s2"]].to_numpy(float) / safe
    second = np.empty((len(df), 3, 3))
    for i in range(3):
        for j in range(3):
            second[:, i, j] = df[f"s{min(i, j)}{max(i, j)}"].to_numpy(float)
    cov = second / safe[:, :, None] - mean[:, :, None] * mean[:, None, :]
    return Q.GroupStats(n_model, mean, cov, known)


def corrected_columns(df: pd.DataFrame, corr: Q.Correction | None, seed: int = 0) -> pd.DataFrame:
    """share_*, share_*_lo/hi, net_score(_lo/_hi/_se) for the groups in df (rows of sql/trends.sql) under one
    head's correction; without one, classify-and-count with Wilson / normal-approximation intervals."""
    n = df["n"].to_numpy(float)
    counts = df[[f"n_{s}" for s in SENTIMENTS]].to_numpy(float)
    out = pd.DataFrame(index=df.index)
    if corr is None:
        share = counts / np.maximum(n, 1)[:, None]
        lo, hi = wilson_bounds(counts, n[:, None])
        net = 100 * (share[:, 0] - share[:, 2])
        half = 100 * Z95 * np.sqrt(np.clip(share[:, 0] + share[:, 2] - (share[:, 0] - share[:, 2]) ** 2, 0, None)
                                   / np.maximum(n, 1))
        net_lo, net_hi = net - half, net + half
    else:
        stats = _stats(df, corr)
        share = Q.point_estimate(corr, stats)
        lo, hi = np.empty_like(share), np.empty_like(share)
        net, net_lo, net_hi = np.empty(len(df)), np.empty(len(df)), np.empty(len(df))
        for start in range(0, len(df), CHUNK):  # bounded memory: groups x draws x classes per chunk
            part = slice(start, start + CHUNK)
            sub = Q.GroupStats(stats.n[part], stats.mean[part], None if stats.cov is None else stats.cov[part],
                               stats.known[part])
            ci = Q.corrected_intervals(corr, sub, Q.bootstrap_shares(corr, sub, N_DRAWS, seed=seed + start))
            lo[part], hi[part], net[part], net_lo[part], net_hi[part] = (ci[k] for k in ("lo", "hi", "net", "net_lo",
                                                                                          "net_hi"))
    for j, s in enumerate(SENTIMENTS):
        out[f"share_{s}"], out[f"share_{s}_lo"], out[f"share_{s}_hi"] = share[:, j], lo[:, j], hi[:, j]
    out["net_score"], out["net_score_lo"], out["net_score_hi"] = net, net_lo, net_hi
    out["net_score_se"] = (net_hi - net_lo) / (2 * Z95)
    out["method"] = corr.method if corr is not None else "cc"
    return out


def trend_rows(stats: pd.DataFrame, quant: Q.Quantification, seed: int = 0) -> pd.DataFrame:
    """yearly_trends rows (without model_version / computed_at) from the per-group statistics."""
    if stats.empty:
        return stats
    stats = stats.reset_index(drop=True)
    n = stats["n"].to_numpy(float)
    scored = stats["n_unscored"] == 0
    parts = []
    for head, rows in (("sentiment", stats["topic"] == ALL_TOPICS), ("topic_sentiment", stats["topic"] != ALL_TOPICS)):
        for has_p in (True, False):  # a group with comments stored without probabilities: the labels' correction
            part = rows & (scored == has_p)
            if part.any():
                parts.append(corrected_columns(stats[part], quant.for_rows(head, has_p), seed))
    out = stats[["scope", "municipality_code", "year", "topic", "n", "n_positive", "n_skeptical", "n_negative",
                 "n_corrected"]].join(pd.concat(parts))
    for s in SENTIMENTS:
        out[f"cc_share_{s}"] = stats[f"n_{s}"] / np.maximum(n, 1)
    out["cc_net_score"] = 100 * (out["cc_share_positive"] - out["cc_share_negative"])
    out["small_sample"] = n < SMALL_SAMPLE_N
    return out


def refresh(con, model_version: str, quant: Q.Quantification | None = None, seed: int = 0) -> int:
    """Rebuild the comment-level mart for model_version (synpunkt.marts.build_comment_mart; the comment-level views
    read it while that model is current) and recompute yearly_trends from it (corrections from the current model
    directory unless given)."""
    from synpunkt.config import model_dir
    from synpunkt.marts import build_comment_mart
    from synpunkt.warehouse import insert_frame, now, sql_text, transaction

    if quant is None:
        quant = Q.load(model_dir(), model_version)
    log.info("trends for %s: %s", model_version, quant.status)
    build_comment_mart(con, model_version)
    stats = con.execute(sql_text("trends.sql"), {"model_version": model_version, "topics": list(TOPICS),
                                                  "paths": [f"$.{t}" for t in TOPICS]}).df()
    rows = trend_rows(stats, quant, seed)
    with transaction(con):
        con.execute("DELETE FROM yearly_trends WHERE model_version = ?", [model_version])
        if not rows.empty:
            rows.insert(0, "model_version", model_version)
            rows["computed_at"] = now()
            for c in ("n", "n_positive", "n_skeptical", "n_negative", "n_corrected", "year"):
                rows[c] = rows[c].astype("int64")
            insert_frame(con, "yearly_trends", rows)
    return len(rows)

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
would be biased. Its method column says which was used.

An EM head (Saerens et al.'s prior adjustment, synpunkt.quantification_em) needs each comment's probabilities,
not their sums: when some head's correction is EM, a second query (sql/trend_cells.sql, run only then) bins each
model-classified comment's log-ratio vector into cells of quantification_em.CELL_WIDTH per group and returns each
cell's count and mean log-ratio vector, the sufficient statistics EM runs on; human corrections stay known counts
(the h_* columns of sql/trends.sql)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from synpunkt import quantification as Q
from synpunkt import quantification_em as EM
from synpunkt.labels import ALL_TOPICS, SENTIMENTS, TOPICS
from synpunkt.report.statistics import MIN_RANK_N, Z95

log = logging.getLogger(__name__)
HEADS = (("sentiment", True), ("topic_sentiment", False))
"""Each correction head and whether its groups are topic 'all' (the overall sentiment) or the topics."""
GROUP_KEYS = ["scope", "municipality_code", "year", "topic"]
"""The columns naming a group in the rows of sql/trends.sql and sql/trend_cells.sql."""
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


def _em_columns(df: pd.DataFrame, corr: Q.Correction, cells: pd.DataFrame | None, seed: int
                ) -> dict[str, np.ndarray]:
    """EM's shares and intervals (keys as Q.corrected_intervals) for the groups in df from their cell rows
    (sql/trend_cells.sql), in chunks of groups (bounded memory)."""
    if cells is None:
        raise ValueError(f"the {corr.method} correction needs the cell statistics of sql/trend_cells.sql")
    stats = em_cell_stats(df, cells)
    seeds = group_seeds(df, seed)
    parts = []
    for start in range(0, len(df), CHUNK):
        stop = min(start + CHUNK, len(df))
        rows = (stats.group >= start) & (stats.group < stop)
        sub = EM.CellStats(stats.group[rows] - start, stats.count[rows], stats.ratio[rows], stop - start,
                           stats.known[start:stop])
        parts.append(EM.em_intervals(corr, sub, seed=seed, group_seeds=seeds[start:stop]))
    return {key: np.concatenate([p[key] for p in parts]) for key in ("share", "lo", "hi", "net", "net_lo", "net_hi")}


def group_seeds(df: pd.DataFrame, seed: int) -> np.ndarray:
    """Each group's own seed from its key (GROUP_KEYS) and the base seed: its bootstrap draws, and so its interval
    and the tests built on it, are the same whatever other groups are computed with it and in whatever order."""
    return Q.group_keys_seeds(list(df[GROUP_KEYS].itertuples(index=False, name=None)), seed)


def em_cell_stats(df: pd.DataFrame, cells: pd.DataFrame) -> EM.CellStats:
    """quantification_em.CellStats of the groups in df (rows of sql/trends.sql whose index is their group_index in
    `cells`; group = position in df) from the cell rows of sql/trend_cells.sql (other groups' rows are ignored),
    with the groups' human corrections as known counts."""
    index = cells["group_index"].to_numpy(np.int64)
    local = np.full(max(int(df.index.max()), int(index.max(initial=0))) + 1, -1, np.int64)
    local[df.index.to_numpy(np.int64)] = np.arange(len(df))
    group = local[index]
    rows = group >= 0
    known = df[[f"h_{s}" for s in SENTIMENTS]].to_numpy(float)
    return EM.CellStats(group[rows], cells["n"].to_numpy(float)[rows], cells[["r1", "r2"]].to_numpy(float)[rows],
                        len(df), known)


def corrected_columns(df: pd.DataFrame, corr: Q.Correction | None, seed: int = 0,
                      cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """share_*, share_*_lo/hi, net_score(_lo/_hi/_se) for the groups in df (rows of sql/trends.sql) under one
    head's correction (EM: from the cell rows of sql/trend_cells.sql); without one, classify-and-count with
    Wilson / normal-approximation intervals."""
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
    elif corr.method == "em":
        ci = _em_columns(df, corr, cells, seed)
        share, lo, hi, net, net_lo, net_hi = (ci[k] for k in ("share", "lo", "hi", "net", "net_lo", "net_hi"))
    else:
        stats = _stats(df, corr)
        seeds = group_seeds(df, seed)
        share = Q.point_estimate(corr, stats)
        lo, hi = np.empty_like(share), np.empty_like(share)
        net, net_lo, net_hi = np.empty(len(df)), np.empty(len(df)), np.empty(len(df))
        for start in range(0, len(df), CHUNK):  # bounded memory: groups x draws x classes per chunk
            part = slice(start, start + CHUNK)
            sub = Q.GroupStats(stats.n[part], stats.mean[part], None if stats.cov is None else stats.cov[part],
                               stats.known[part])
            draws = Q.bootstrap_shares(corr, sub, N_DRAWS, seed=seed, group_seeds=seeds[part])
            ci = Q.corrected_intervals(corr, sub, draws)
            lo[part], hi[part], net[part], net_lo[part], net_hi[part] = (ci[k] for k in ("lo", "hi", "net", "net_lo",
                                                                                          "net_hi"))
    for j, s in enumerate(SENTIMENTS):
        out[f"share_{s}"], out[f"share_{s}_lo"], out[f"share_{s}_hi"] = share[:, j], lo[:, j], hi[:, j]
    out["net_score"], out["net_score_lo"], out["net_score_hi"] = net, net_lo, net_hi
    out["net_score_se"] = (net_hi - net_lo) / (2 * Z95)
    out["method"] = corr.method if corr is not None else "cc"
    return out


def em_groups(stats: pd.DataFrame, quant: Q.Quantification) -> np.ndarray:
    """Positions of the groups (rows of sql/trends.sql) whose correction is EM: the groups of an EM head whose
    model-classified comments all have the head's probabilities (the others use its labels-only correction)."""
    em = np.zeros(len(stats), bool)
    scored = (stats["n_unscored"] == 0).to_numpy()
    for head, overall in HEADS:
        corr = quant.for_rows(head, True)
        if corr is not None and corr.method == "em":
            em |= scored & ((stats["topic"] == ALL_TOPICS).to_numpy() == overall)
    return np.flatnonzero(em)


def trend_stats(con, model_version: str) -> pd.DataFrame:
    """The per-group statistics of sql/trends.sql for model_version (comment_mart built for it), in the order of
    their keys (GROUP_KEYS; a default index), whatever order DuckDB's parallel aggregate produced them in."""
    from synpunkt.warehouse import sql_text

    df = con.execute(sql_text("trends.sql"), {"model_version": model_version, "topics": list(TOPICS),
                                              "paths": [f"$.{t}" for t in TOPICS]}).df()
    return df.sort_values(GROUP_KEYS, na_position="first", kind="stable").reset_index(drop=True)


def trend_cells(con, model_version: str, groups: pd.DataFrame) -> pd.DataFrame:
    """The cell rows (group_index, n, r1, r2) of sql/trend_cells.sql for model_version (comment_mart built
    for it) of the groups in `groups` (GROUP_KEYS columns; group_index = its index), binned with
    quantification_em's CELL_WIDTH and P_FLOOR."""
    from synpunkt.warehouse import sql_text

    keys = groups[GROUP_KEYS].assign(group_index=groups.index.to_numpy(np.int64))
    con.register("trend_groups", keys)
    try:
        return con.execute(sql_text("trend_cells.sql"), {"model_version": model_version, "p_floor": EM.P_FLOOR,
                                                          "width": EM.CELL_WIDTH}).df()
    finally:
        con.unregister("trend_groups")


def trend_rows(stats: pd.DataFrame, quant: Q.Quantification, seed: int = 0, cells: pd.DataFrame | None = None
               ) -> pd.DataFrame:
    """yearly_trends rows (without model_version / computed_at) from the per-group statistics (rows of
    sql/trends.sql, a default index) and, when some head's correction is EM, the cell rows of sql/trend_cells.sql
    for the groups em_groups names (group_index: the position in stats)."""
    if stats.empty:
        return stats
    stats = stats.reset_index(drop=True)
    n = stats["n"].to_numpy(float)
    scored = stats["n_unscored"] == 0
    parts = []
    for head, overall in HEADS:
        rows = (stats["topic"] == ALL_TOPICS) == overall
        for has_p in (True, False):  # a group with comments stored without probabilities: the labels' correction
            part = rows & (scored == has_p)
            if part.any():
                parts.append(corrected_columns(stats[part], quant.for_rows(head, has_p), seed, cells))
    out = stats[["scope", "municipality_code", "year", "topic", "n", "n_positive", "n_skeptical", "n_negative",
                 "n_corrected"]].join(pd.concat(parts))
    for s in SENTIMENTS:
        out[f"cc_share_{s}"] = stats[f"n_{s}"] / np.maximum(n, 1)
    out["cc_net_score"] = 100 * (out["cc_share_positive"] - out["cc_share_negative"])
    out["small_sample"] = n < SMALL_SAMPLE_N
    return out


def refresh(con, model_version: str, quant: Q.Quantification | None = None, seed: int = 0,
            model_dir=None) -> int:
    """Rebuild the comment-level mart for model_version (synpunkt.marts.build_comment_mart; the comment-level views
    read it while that model is current) and recompute yearly_trends from it (corrections from `model_dir`, the
    model that classified, else config's model directory, unless given)."""
    from synpunkt.config import model_dir as configured_model_dir
    from synpunkt.marts import build_comment_mart
    from synpunkt.warehouse import insert_frame, now, transaction

    if quant is None:
        quant = Q.load(model_dir or configured_model_dir(), model_version)
    log.info("trends for %s: %s", model_version, quant.status)
    build_comment_mart(con, model_version)
    stats = trend_stats(con, model_version)
    em = em_groups(stats, quant)
    cells = trend_cells(con, model_version, stats.iloc[em]) if len(em) else None
    rows = trend_rows(stats, quant, seed, cells)
    with transaction(con):
        con.execute("DELETE FROM yearly_trends WHERE model_version = ?", [model_version])
        if not rows.empty:
            rows.insert(0, "model_version", model_version)
            rows["computed_at"] = now()
            for c in ("n", "n_positive", "n_skeptical", "n_negative", "n_corrected", "year"):
                rows[c] = rows[c].astype("int64")
            insert_frame(con, "yearly_trends", rows)
    return len(rows)

"""Choosing, fitting and checking the share correction (synpunkt.quantification) for a model (the command that
runs it, ``synpunkt fit-shares``, and the card text are in synpunkt.quantification_fit).

* Selection, on the in-domain validation split only: repeated 2-fold cross-fitting (the correction fitted on one
  half, measured on the other half resampled to many class mixes) splits each method's error into bias (the mean
  signed error per mix and class) and variance. Half the fitting data and an independent set of half the size
  double the variance of a correction fitted on the whole split and applied to a set of that size, so the
  selection uses the MAE predicted for that case (folded normal with the bias and half the variance); the plain
  cross-fitted MAE is reported beside it. The chosen method is fitted on the whole validation split.
* Intervals: batches of 100, 400 and 1,500 comments get the method's intervals
  (synpunkt.quantification.bootstrap_shares; for EM the linearised draws of synpunkt.quantification_em, with BCTS
  fitted on the fitting rows only); the factor by which they must be widened around the point estimate for 95 % of
  them to contain the true share is stored per batch size (a split-conformal calibration). The batches come from
  **source-grouped cross-fitting** where the validation rows carry their source (the id prefix of
  data/comments/comments.jsonl: separately written passes, see source_groups): each source in turn is held out, the
  correction is fitted on the other sources and batches at every mix are drawn from the held-out source, so the
  factor allows for a new set written elsewhere, not only for a random half of the same rows. Every source gets the
  same number of batches, so the 95 % quantile weighs sources equally (the large pass does not dominate: a
  municipality is one source, however many comments it has). With fewer than MIN_SOURCES usable sources (e.g.
  synthetic data) the random 2-fold halves of the selection are used instead. A held-out source is a small pool (66
  to 424 rows here) and all its batches share that pool's own sampling deviation, which a real batch of 1,500
  comments would not have (it is a pool of 1,500); the size-matched random pools (random rows of each source's size, held out the same way) measure that part, and
  the evaluation records the factors with it taken out (pool_adjusted: sqrt(halves^2 + grouped^2 - size-matched^2)
  per batch size) beside the plain grouped ones. Which of the three (random halves, grouped, pool-adjusted) is
  stored is WIDENING_SCHEME: the grouped factors over-cover on held-out validation parts (about 97 / 98 / 99 % at
  100 / 400 / 1,500 comments; synpunkt.quantification_select measures it), but the random halves' intervals are
  too narrow on independently written text, so the grouped ones are kept (the model's NOTES.md).
* Measurement: errors on the in-domain test split and the independent test set (never used to fit or choose),
  and coverage: the share of simulated batches (drawn from the test sets at each mix) whose 95 % interval
  contains the true share.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from itertools import product

import numpy as np
import pandas as pd

from synpunkt import quantification as Q
from synpunkt import quantification_em as EM
from synpunkt.labels import SENTIMENTS, TOPICS, sentiment_index

log = logging.getLogger(__name__)

NAMED_MIXES = {"medborgarpulsen_2020": (0.79, 0.04, 0.17), "even_negative": (0.30, 0.20, 0.50)}
GRID_MIXES = [tuple(round(v, 2) for v in (a, b, 1 - a - b)) for a, b in product(np.arange(0.1, 0.81, 0.1), repeat=2)
              if 1 - a - b > 0.05]
MIXES = list(NAMED_MIXES.values()) + GRID_MIXES
"""38 mixes of (positive, skeptical, negative): the two named ones and a 0.1-step grid over the simplex."""
HEADS = ("sentiment", "topic_sentiment")
LABELS_FALLBACK_HEADS = ("topic_sentiment",)
"""Heads whose probabilities predictions stored before they were kept lack (the per-topic head: labels only)."""
SAMPLE_N, REPS = 500, 40
COVERAGE_SIZES, COVERAGE_REPS = (100, 400, 1500), 40
CROSS_FIT_REPEATS, CROSS_FIT_REPS = 60, 15
"""Repeated 2-fold cross-fitting on the validation split: repeats, and samples per mix in each half."""
CALIBRATION_REPEATS, CALIBRATION_REPS = 60, 5
MIN_SOURCE_ROWS, MIN_SOURCE_CLASS_ROWS, MIN_SOURCES = 30, 5, 3
"""A source is held out on its own with at least 30 rows and 5 of every class (its batches are resampled to
every mix, 4 % skeptical to 80 % of one class: fewer distinct rows per class would make the pool's own sampling
noise, not the source, the stretch measured); smaller ones are merged. Fewer than 3 usable sources: random
halves (a 95 % quantile over two pools says little about a third)."""
SOURCE_REPS, SIZE_MATCHED_REPEATS = 20, 4
"""Batches per mix and size from each held-out source (the same for every source: equal weights); random pools
of each source's size (the pool-size reference), each with SOURCE_REPS // SIZE_MATCHED_REPEATS batches."""
WIDENING_SCHEMES = ("random_halves", "source_grouped", "source_grouped_pool_adjusted")
WIDENING_SCHEME = "source_grouped"
"""Which calibration's factors are stored (with at least MIN_SOURCES sources; fewer: random halves). Nested
cross-fitting on validation (synpunkt.quantification_select) prefers random halves (nearest 95 % on held-out
validation parts), but on independently written text their intervals are too narrow (85-89 % at 400-1,500
comments); the source-grouped factors over-cover instead (97-99 %), the safe side for a published interval.
See the model's NOTES.md (2026-11-29, share intervals)."""
N_BOOT = 300


# -- held-out predictions -------------------------------------------------------------------------------------
def heldout_arrays(frame: pd.DataFrame, proba: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Per head: calibrated probabilities and true class indices. Sentiment: one row per comment; topic sentiment:
    one row per labelled comment-topic pair (the per-topic head's probabilities), with the topic. With an ``id``
    column, each row's source too (source_of: the id prefix; for source-grouped interval calibration)."""
    out = {"sentiment": {"proba": proba["sentiment"], "y": frame["sentiment"].map(sentiment_index).to_numpy()}}
    source = source_of(frame["id"]) if "id" in frame else None
    if source is not None:
        out["sentiment"]["source"] = source
    rows, topics, ys = [], [], []
    for i, gold in enumerate(frame["topic_sentiment"]):
        for topic, sentiment in (gold.items() if isinstance(gold, dict) else []):
            rows.append(i), topics.append(topic), ys.append(sentiment_index(sentiment))
    idx, tix = np.asarray(rows, int), np.asarray([TOPICS.index(t) for t in topics], int)
    out["topic_sentiment"] = {"proba": proba["topic_sentiment"][idx, tix] if len(idx) else np.zeros((0, 3)),
                              "y": np.asarray(ys, int), "topic": np.asarray(topics, object)}
    if source is not None:
        out["topic_sentiment"]["source"] = source[idx] if len(idx) else np.zeros(0, object)
    return out


def predict_heldout(clf, frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    return heldout_arrays(frame, clf.probabilities(clf.logits(frame["text"].tolist(), progress=False)))


# -- resampling ------------------------------------------------------------------------------------------------
def draw_samples(rng, y: np.ndarray, mixes: list[tuple], n: int, reps: int, exact: bool = True):
    """Indices of `reps` samples of `n` rows per mix (rows drawn with replacement within each class): exact class
    counts (exact=True, the APP protocol) or multinomial ones. Returns (index [m], group [m], truth [groups, k])."""
    k = len(mixes[0])
    by_class = [np.flatnonzero(y == c) for c in range(k)]
    idx, grp, truth = [], [], []
    for g, (mix, _) in enumerate((m, r) for m in mixes for r in range(reps)):
        counts = (np.round(np.asarray(mix) * n).astype(int) if exact else rng.multinomial(n, mix))
        for c in range(k):
            if counts[c] and len(by_class[c]):
                idx.append(rng.choice(by_class[c], counts[c]))
                grp.append(np.full(counts[c], g))
        truth.append(counts / counts.sum() if exact else np.asarray(mix, float))
    return np.concatenate(idx), np.concatenate(grp), np.asarray(truth)


def estimate(method: str, corr: Q.Correction, proba: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Point estimates [groups, k] of `method` for samples given as rows of `proba` with group indices."""
    if method == "em":
        return EM.em_shares(corr, proba, group, n_groups)
    stats = Q.group_stats(Q.method_inputs(method, proba), group, n_groups, second_moments=False)
    return Q.point_estimate(corr, stats)


def method_errors(fit_proba, fit_y, eval_proba, eval_y, seed: int = 0, mixes=MIXES, n: int = SAMPLE_N,
                  reps: int = REPS) -> dict[str, dict]:
    """Per method: MAE in percentage points over all mixes, classes and samples, and per named mix."""
    rng = np.random.default_rng(seed)
    idx, grp, truth = draw_samples(rng, eval_y, mixes, n, reps)
    out = {}
    for method in Q.METHODS:
        corr = Q.fit_correction(method, fit_proba, fit_y, list(SENTIMENTS), n_boot=0)
        err = np.abs(estimate(method, corr, eval_proba[idx], grp, len(truth)) - truth) * 100
        per_mix = err.reshape(len(mixes), reps, -1).mean(axis=(1, 2))
        out[method] = {"mae_pp": float(err.mean()), "max_mix_mae_pp": float(per_mix.max()),
                       **{f"mae_pp.{name}": float(per_mix[mixes.index(mix)]) for name, mix in NAMED_MIXES.items()
                          if mix in mixes}}
    return out


def _folded_normal_mean(bias: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """E|X| for X ~ N(bias, sd^2)."""
    from scipy.special import erf

    sd = np.maximum(sd, 1e-9)
    return sd * np.sqrt(2 / np.pi) * np.exp(-bias ** 2 / (2 * sd ** 2)) + bias * erf(bias / (sd * np.sqrt(2)))


def _halves(n: int, repeats: int, seed: int):
    """(repeat, fit rows, held-out rows) of `repeats` random 2-fold splits, both ways round."""
    for r in range(repeats):
        half = np.random.default_rng(seed + 100 * r).permutation(n) % 2 == 0
        yield r, half, ~half
        yield r, ~half, half


def cross_fit_errors(proba, y, repeats: int = CROSS_FIT_REPEATS, seed: int = 0, reps: int = CROSS_FIT_REPS,
                     methods=Q.METHODS) -> dict[str, dict[str, float]]:
    """Per method, from repeated 2-fold cross-fitting on the validation split (samples of SAMPLE_N at every mix):
    ``mae_pp`` (the plain cross-fitted MAE), ``bias_pp`` (mean |mean signed error| over mixes and classes) and
    ``predicted_mae_pp``: the MAE predicted for the correction fitted on the whole split and applied to an
    independent set of that size (bias kept, variance halved), the selection criterion."""
    errors = {m: [] for m in methods}
    for r, fit, held in _halves(len(y), repeats, seed):
        rng = np.random.default_rng(seed + 7 * r + int(fit[0]))
        idx, grp, truth = draw_samples(rng, y[held], MIXES, SAMPLE_N, reps)
        for m in methods:
            corr = Q.fit_correction(m, proba[fit], y[fit], list(SENTIMENTS), n_boot=0)
            est = estimate(m, corr, proba[held][idx], grp, len(truth))
            errors[m].append(((est - truth) * 100).reshape(len(MIXES), reps, -1))
    out = {}
    for m, e in errors.items():
        e = np.concatenate(e, axis=1)  # mixes x samples x classes
        bias, var = e.mean(1), e.var(1)
        out[m] = {"mae_pp": float(np.abs(e).mean()), "bias_pp": float(np.abs(bias).mean()),
                  "predicted_mae_pp": float(_folded_normal_mean(bias, np.sqrt(var / 2)).mean())}
    return out


def _scores(point: np.ndarray, lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """How far each interval must be stretched from the point estimate to reach the truth (<= 1: inside)."""
    below = (point - truth) / np.maximum(point - lo, 1e-9)
    above = (truth - point) / np.maximum(hi - point, 1e-9)
    return np.where(truth < point, below, above)


def _simulate(corrs: list[Q.Correction], proba, y, n: int, reps: int, rng, mixes=MIXES
              ) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Batches of n rows drawn (multinomial at each mix) from the pool: their intervals under each of `corrs`
    (the same method and bootstrap, e.g. with and without widening), true shares and true net scores."""
    idx, grp, truth = draw_samples(rng, y, mixes, n, reps, exact=False)
    seed = int(rng.integers(1 << 30))
    if corrs[0].method == "em":
        cells = EM.cell_stats_from_proba(proba[idx], grp, len(truth))
        lin = EM.em_linearised(corrs[0], cells)
        cis = [EM.intervals_from(c, lin, cells, seed) for c in corrs]
    else:
        stats = Q.group_stats(Q.method_inputs(corrs[0].method, proba[idx]), grp, len(truth))
        draws = Q.bootstrap_shares(corrs[0], stats, seed=seed)
        cis = [Q.corrected_intervals(c, stats, draws) for c in corrs]
    return cis, truth, 100 * (truth[:, 0] - truth[:, 2])


def source_of(ids) -> np.ndarray:
    """The source of each labelled row: its id's prefix before the first digit ('a0001' -> 'a'; the whole id when
    it has no digit)."""
    return pd.Series(list(ids), dtype=object).astype(str).str.extract(r"^(\D*)", expand=False).to_numpy(object)


def source_groups(source, y: np.ndarray, k: int = len(SENTIMENTS), min_rows: int = MIN_SOURCE_ROWS,
                  min_class_rows: int = MIN_SOURCE_CLASS_ROWS) -> list[tuple[str, np.ndarray]]:
    """(name, row mask) of the sources that can be held out: those with at least `min_rows` rows and
    `min_class_rows` of every class; the smaller ones merged into one (named by their prefixes joined with '+'),
    held out if it qualifies itself, else only ever fitted on. Empty without sources."""
    if source is None or len(source) != len(y):
        return []
    source, y = np.asarray(source, object), np.asarray(y, int)

    def usable(rows):
        return rows.sum() >= min_rows and (np.bincount(y[rows], minlength=k) >= min_class_rows).all()

    groups, small = [], np.zeros(len(y), bool)
    for name in sorted(set(source.tolist())):
        rows = source == name
        if usable(rows):
            groups.append((str(name), rows))
        else:
            small |= rows
    if small.any() and usable(small):
        groups.append(("+".join(sorted(set(source[small].tolist()))), small))
    return groups


def _half_splits(n: int, repeats: int, seed: int):
    """_halves as (name, fit rows, held-out rows, seed offset): one name per half."""
    for r, fit, held in _halves(n, repeats, seed):
        yield f"{r}.{int(fit[0])}", fit, held, r


def _source_splits(groups: list[tuple[str, np.ndarray]]):
    """Each source held out, fitted on the others: (name, fit rows, held-out rows, seed offset)."""
    for g, (name, rows) in enumerate(groups):
        yield name, ~rows, rows, g


def _size_matched(groups: list[tuple[str, np.ndarray]], n: int, repeats: int, seed: int):
    """(name, fit rows, held-out rows) for `repeats` random pools of each source's size."""
    for g, (name, rows) in enumerate(groups):
        for r in range(repeats):
            held = np.zeros(n, bool)
            held[np.random.default_rng(seed + 1000 * g + r).choice(n, int(rows.sum()), replace=False)] = True
            yield name, ~held, held, 100 * g + r


def _batch_scores(corr, proba, y, n: int, reps: int, rng) -> tuple[dict, np.ndarray, np.ndarray]:
    """(interval record, share stretches, net-score stretches) of `reps` batches per mix of `n` comments drawn from
    these rows with the fitted correction `corr` (_simulate, _scores)."""
    (ci,), truth, net = _simulate([corr], proba, y, n, reps, rng)
    return ci, _scores(ci["share"], ci["lo"], ci["hi"], truth), _scores(ci["net"], ci["net_lo"], ci["net_hi"], net)


def _stretches(method: str, proba, y, splits, reps: int, sizes, seed: int) -> dict:
    """{split name: {n: {"shares": stretches, "net_score": stretches}}} of batches drawn from each split's held-out
    rows (`reps` per mix and size) with the correction fitted on its fitting rows (splits: (name, fit rows,
    held-out rows, seed offset))."""
    out = {}
    for name, fit, held, r in splits:
        corr = Q.fit_correction(method, proba[fit], y[fit], list(SENTIMENTS), n_boot=N_BOOT, seed=seed + r)
        rng = np.random.default_rng(seed + 11 * r + int(fit[0]))
        part = out.setdefault(name, {n: {"shares": [], "net_score": []} for n in sizes})
        for n in sizes:
            _, shares, net = _batch_scores(corr, proba[held], y[held], n, reps, rng)
            part[n]["shares"].append(shares.ravel())
            part[n]["net_score"].append(net)
    return {name: {n: {w: np.concatenate(v) for w, v in d.items()} for n, d in part.items()}
            for name, part in out.items()}


def _quantile(v: np.ndarray, level: float) -> float:
    """The split-conformal quantile of the stretches v."""
    return float(np.quantile(v, min(1.0, level * (1 + 1 / len(v)))))


def _factors(stretches: dict, sizes, level: float) -> dict:
    """Factors per batch size (never below 1) and the coverage before widening, over every split's batches pooled:
    each split has the same number of batches, so each weighs the same."""
    out = {"n": list(sizes)}
    for what in ("shares", "net_score"):
        pooled = [np.concatenate([s[n][what] for s in stretches.values()]) for n in sizes]
        out[what] = [round(max(1.0, _quantile(v, level)), 4) for v in pooled]
        out[f"{what}_raw"] = [round(_quantile(v, level), 4) for v in pooled]
        out[f"{what}_uncalibrated_coverage"] = [round(float((v <= 1 + 1e-9).mean()), 4) for v in pooled]
    return out


def calibrate_widening(method: str, proba, y, repeats: int = CALIBRATION_REPEATS, reps: int = CALIBRATION_REPS,
                       sizes=COVERAGE_SIZES, seed: int = 0, level: float = 0.95, source=None,
                       scheme: str | None = None, matched_repeats: int = SIZE_MATCHED_REPEATS) -> dict:
    """Widening factors per batch size (shares and net score, never below 1): the `level` quantile of how far the
    bootstrap intervals of held-out batches must be stretched to contain the truth. With `source` (one per row)
    and at least MIN_SOURCES usable sources (source_groups): source-grouped cross-fitting (each source held out in
    turn, SOURCE_REPS batches per mix and size; per-source figures, the random halves' factors and the
    size-matched random pools' beside them; `matched_repeats` pools per source); otherwise `repeats` random 2-fold
    splits (scheme random_halves). `scheme` (default WIDENING_SCHEME): which factors are stored in shares /
    net_score when the sources allow grouping; the others are reported beside them."""
    scheme = scheme or WIDENING_SCHEME
    if scheme not in WIDENING_SCHEMES:
        raise ValueError(f"unknown widening scheme {scheme!r}; expected one of {', '.join(WIDENING_SCHEMES)}")
    halves = _stretches(method, proba, y, _half_splits(len(y), repeats, seed), reps, sizes, seed)
    random_halves = _factors(halves, sizes, level)
    groups = source_groups(source, y)
    if len(groups) < MIN_SOURCES:
        return {**random_halves, "scheme": "random_halves", "sources": {n: int(m.sum()) for n, m in groups}}
    grouped = _stretches(method, proba, y, _source_splits(groups), SOURCE_REPS, sizes, seed + 20000)
    matched = _stretches(method, proba, y, _size_matched(groups, len(y), matched_repeats, seed + 30000),
                         SOURCE_REPS // matched_repeats, sizes, seed + 40000)
    out = _factors(grouped, sizes, level)
    size_matched = _factors(matched, sizes, level)
    adjusted = {w: [round(max(1.0, float(np.sqrt(max(0.0, h ** 2 + g ** 2 - m ** 2)))), 4) for h, g, m in
                    zip(random_halves[f"{w}_raw"], out[f"{w}_raw"], size_matched[f"{w}_raw"])]
                for w in ("shares", "net_score")}
    plain = {w: out[w] for w in ("shares", "net_score")}
    if scheme == "source_grouped_pool_adjusted":
        out.update(adjusted)
    elif scheme == "random_halves":
        out.update({w: random_halves[w] for w in ("shares", "net_score")})
    per_source = {name: {"rows": int(rows.sum()),
                         **{what: {str(n): {"stretch_q95": round(_quantile(grouped[name][n][what], level), 4),
                                            "uncalibrated_coverage": round(float(
                                                (grouped[name][n][what] <= 1 + 1e-9).mean()), 4)}
                                   for n in sizes} for what in ("shares", "net_score")}}
                  for name, rows in groups}
    return {**out, "scheme": scheme,
            "min_source_rows": MIN_SOURCE_ROWS, "sources": per_source, "grouped": plain, "pool_adjusted": adjusted,
            "random_halves": {k: random_halves[k] for k in ("shares", "net_score", "shares_uncalibrated_coverage",
                                                            "net_score_uncalibrated_coverage")},
            "size_matched_random": {k: size_matched[k] for k in ("shares_raw", "net_score_raw",
                                                                 "shares_uncalibrated_coverage")}}


def coverage(corr: Q.Correction, proba, y, seed: int = 0, sizes=COVERAGE_SIZES, reps: int = COVERAGE_REPS,
             mixes=MIXES, alternatives: dict[str, dict] | None = None) -> dict:
    """Share of simulated batches (multinomial at each mix, from the pool proba/y) whose 95 % interval contains
    the true share; per batch size, over all classes, and for the net score (and, for comparison, the same
    before the calibrated widening, and under each of `alternatives`' widenings {name: widen}, on the same
    batches)."""
    rng = np.random.default_rng(seed)
    alternatives = alternatives or {}
    out = {}
    for n in sizes:
        corrs = [corr, replace(corr, widen={})] + [replace(corr, widen=w) for w in alternatives.values()]
        (ci, raw, *alt), truth, net = _simulate(corrs, proba, y, n, reps, rng, mixes)

        def inside(c):
            return _scores(c["share"], c["lo"], c["hi"], truth) <= 1 + 1e-9

        def net_inside(c):
            return float((_scores(c["net"], c["net_lo"], c["net_hi"], net) <= 1 + 1e-9).mean())

        def width(c):
            return float(((c["hi"] - c["lo"]) * 100).mean())

        shares = inside(ci)
        out[str(n)] = {"shares": float(shares.mean()), "net_score": net_inside(ci),
                       **{s: float(shares[:, j].mean()) for j, s in enumerate(SENTIMENTS)},
                       "shares_unwidened": float(inside(raw).mean()), "net_score_unwidened": net_inside(raw),
                       "mean_width_pp": width(ci), "batches": int(len(truth)),
                       **({"alternatives": {name: {"shares": float(inside(c).mean()), "net_score": net_inside(c),
                                                   "mean_width_pp": width(c)}
                                            for name, c in zip(alternatives, alt)}} if alternatives else {})}
    return out


def _spread(v) -> dict:
    v = np.asarray(v, float)
    return {"mean": float(v.mean()), "p10": float(np.quantile(v, 0.1)), "median": float(np.median(v)),
            "p90": float(np.quantile(v, 0.9)), "pools_in_93_97": float(np.mean((v >= 0.93) & (v <= 0.97))),
            "pools": len(v)}


def validation_coverage(method: str, widen: dict, proba, y, repeats: int = 20, seed: int = 5000,
                        sizes=COVERAGE_SIZES, source=None, level: float = 0.95) -> dict:
    """A check of the calibration on validation with fresh batches (other seeds than the calibration's). With
    MIN_SOURCES usable sources: each source held out (the correction fitted on the others), its coverage under
    the stored widening and under the widening calibrated (grouped rule) on the other sources only (an honest
    leave-one-source-out check). Otherwise fresh random 2-fold splits. Per batch size, the mean coverage over the
    held-out pools and its spread: at large batches a single pool's coverage is mostly all or nothing."""
    groups = source_groups(source, y)
    grouped = len(groups) >= MIN_SOURCES
    if grouped:
        st = _stretches(method, proba, y, _source_splits(groups), SOURCE_REPS, sizes, seed)
    else:
        st = _stretches(method, proba, y, _half_splits(len(y), repeats, seed), CALIBRATION_REPS, sizes, seed)
    stored = {n: float(f) for n, f in zip(widen["n"], widen["shares"])} if widen else {}
    per = {name: {str(n): float((d[n]["shares"] <= stored.get(n, 1.0) + 1e-9).mean()) for n in sizes}
           for name, d in st.items()}
    out = {"scheme": "source_grouped" if grouped else "random_halves",
           "sizes": {str(n): _spread([p[str(n)] for p in per.values()]) for n in sizes}}
    if grouped:
        loo = {name: {str(n): float((d[n]["shares"] <= _factors({o: e for o, e in st.items() if o != name}, [n],
                                                                 level)["shares"][0] + 1e-9).mean())
                      for n in sizes} for name, d in st.items()}
        out["per_source"] = {name: {"rows": int(m.sum()), "coverage": per[name], "leave_one_out_coverage": loo[name]}
                             for name, m in groups}
        out["leave_one_out"] = {str(n): _spread([p[str(n)] for p in loo.values()]) for n in sizes}
    return out


# -- the command -----------------------------------------------------------------------------------------------
def evaluate_head(val: dict, tests: dict[str, dict], allowed: tuple[str, ...], seed: int = 0,
                  selection: dict | None = None, repeats: int = CALIBRATION_REPEATS) -> tuple[Q.Correction, dict]:
    """Select among `allowed` (predicted MAE from cross-fitting on validation; `selection`, cross_fit_errors' result,
    when already computed), fit on the validation rows, calibrate the intervals on `repeats` cross-fitted
    validation splits, measure on the tests."""
    selection = selection or cross_fit_errors(val["proba"], val["y"], seed=seed)
    method = min(allowed, key=lambda m: selection[m]["predicted_mae_pp"])
    corr = Q.fit_correction(method, val["proba"], val["y"], list(SENTIMENTS), n_boot=N_BOOT, seed=seed)
    calibration = calibrate_widening(method, val["proba"], val["y"], repeats, seed=seed, source=val.get("source"))
    corr.widen = {k: calibration[k] for k in ("n", "shares", "net_score")}
    alternatives = {name: {"n": calibration["n"], **calibration[name]}
                    for name in ("random_halves", "grouped", "pool_adjusted") if name in calibration}
    report = {"method": method, "allowed": list(allowed), "validation_cross_fit": selection,
              **({"calibration": corr.calibration} if corr.calibration else {}),
              "interval_calibration": calibration, "n_fit": int(len(val["y"])), "test": {}, "coverage": {},
              "validation_coverage": validation_coverage(method, corr.widen, val["proba"], val["y"],
                                                         max(1, repeats // 3), seed=seed + 5000,
                                                         source=val.get("source"))}
    for name, t in tests.items():
        if len(t["y"]) == 0:
            continue
        report["test"][name] = method_errors(val["proba"], val["y"], t["proba"], t["y"], seed)
        if "topic" in t:
            report["test"][name]["per_topic"] = {
                topic: method_errors(val["proba"], val["y"], t["proba"][t["topic"] == topic],
                                     t["y"][t["topic"] == topic], seed, reps=10)
                for topic in TOPICS if (t["topic"] == topic).sum() >= 20}
        report["coverage"][name] = coverage(corr, t["proba"], t["y"], seed, alternatives=alternatives)
        if method == "em":
            report["binning_max_error_pp"] = max(report.get("binning_max_error_pp", 0.0),
                                                 binning_error(corr, t["proba"], t["y"], seed))
    return corr, report


def binning_error(corr: Q.Correction, proba, y, seed: int = 0, reps: int = 5) -> float:
    """The largest difference (percentage points) between EM on the warehouse's cells and EM on every comment,
    over samples of SAMPLE_N at every mix."""
    idx, grp, truth = draw_samples(np.random.default_rng(seed), y, MIXES, SAMPLE_N, reps)
    binned = EM.em_shares(corr, proba[idx], grp, len(truth))
    return float(np.abs(binned - EM.em_shares(corr, proba[idx], grp, len(truth), width=None)).max() * 100)


def fit_heads(arrays: dict[str, dict[str, dict]], model_version: str, seed: int = 0, repeats: int = CROSS_FIT_REPEATS
              ) -> tuple[dict[str, Q.Correction], dict]:
    """The corrections and their evaluation from held-out arrays ({"validation": ..., test sets: ...}, each
    predict_heldout's result): per head the method chosen among those the warehouse computes (CC, ACC, PACC, EM) by
    the validation cross-fit rule, and for a head in LABELS_FALLBACK_HEADS whose choice needs probabilities also
    its labels-only correction (CC or ACC by the same rule, head + Q.LABELS_SUFFIX) for warehouse groups with
    predictions stored without them. `repeats`: the random 2-fold splits for the choice and the calibration."""
    heads, evaluation = {}, {"model_version": model_version, "mixes": len(MIXES), "sample_n": SAMPLE_N, "reps": REPS,
                             "cross_fit_repeats": repeats, "widening_scheme": WIDENING_SCHEME}
    for head in HEADS:
        val = arrays["validation"][head]
        tests = {n: a[head] for n, a in arrays.items() if n != "validation"}
        selection = cross_fit_errors(val["proba"], val["y"], repeats, seed)
        heads[head], evaluation[head] = evaluate_head(val, tests, Q.WAREHOUSE_METHODS, seed, selection, repeats)
        if head in LABELS_FALLBACK_HEADS and heads[head].method not in Q.HARD_METHODS:
            name = head + Q.LABELS_SUFFIX
            heads[name], evaluation[name] = evaluate_head(val, tests, Q.HARD_METHODS, seed, selection, repeats)
    return heads, evaluation

"""Prevalence-corrected class shares ("quantification") with bootstrap intervals. Pure numpy.

Classify-and-count (CC) counts the predicted labels; it inherits the classifier's errors. The corrections here use
what the classifier does on held-out labelled comments (the in-domain validation split, never the data estimated):

* ACC, adjusted classify-and-count (Forman 2008): ``M[j, k] = P(predicted j | true k)``; the observed predicted
  shares satisfy ``p = M q``, so ``q = M^-1 p`` (clipped at 0 and renormalised).
* PACC, probabilistic ACC (Bella et al. 2010): the same with the calibrated probabilities, ``M[j, k] =
  E[p_j(x) | true k]`` and ``p`` the mean probability vector of the batch.
* EM, the prior adjustment of Saerens, Latinne and Decaestecker (2002): re-weights the posteriors from the
  fitting set's prior to the batch's until the prior is a fixed point, on probabilities recalibrated with the
  bias-corrected calibration (BCTS) fitted on the labelled rows; fitting, binned statistics and intervals in
  synpunkt.quantification_em (em_prior below is plain EM on given probabilities).

Intervals (CC, ACC, PACC; EM's are linearised, see synpunkt.quantification_em) are percentile intervals of a
bootstrap with three parts: the batch is resampled (sampling error:
multinomial counts for hard labels, a normal approximation of the mean probability vector for PACC); the batch is
inverted with a matrix fitted on a bootstrap resample of the labelled fitting data (the correction's own
uncertainty); and the batch's error rates are allowed to differ from the fitting set's as much as an independent
labelled set of the same size would (a second, independent bootstrap matrix moves the batch's predicted shares:
the correction's error under a change of comments). Each interval is then widened around the point estimate by a
factor per batch size calibrated on cross-fitted validation batches (synpunkt.quantification_eval; the calibration
scheme, quantification_eval.WIDENING_SCHEME, chosen by synpunkt.quantification_select), so that 95 % of those
batches' intervals contain the true share. Every
function works on many groups at once (arrays with a leading group axis).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

METHODS = ("cc", "acc", "pacc", "em")
HARD_METHODS = ("cc", "acc")
"""Methods that need only predicted labels."""
WAREHOUSE_METHODS = ("cc", "acc", "pacc", "em")
"""Methods the warehouse computes (synpunkt.trends): CC, ACC and PACC from per-group sums, EM from per-group cells
of the comments' log-ratios (synpunkt.quantification_em.CellStats)."""
LABELS_SUFFIX = "_labels"
"""A head whose correction uses probabilities (PACC) also has a labels-only correction, stored as head + this
suffix (e.g. topic_sentiment_labels), for groups with predictions stored without those probabilities (per-topic
sentiment written before they were kept): see Quantification.for_rows."""
QUANTIFICATION_FILE = "quantification.json"
Z95 = 1.96


# -- fitting ----------------------------------------------------------------------------------------------------
def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[np.asarray(labels, dtype=int)]


def rate_matrix(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """``M[j, c]``: mean of x[:, j] over the rows of true class c (x one-hot for ACC, probabilities for PACC).
    A class with no rows gets the identity column (no correction for it)."""
    m = np.eye(k)
    for c in range(k):
        rows = y == c
        if rows.any():
            m[:, c] = x[rows].mean(axis=0)
    return m


def method_inputs(method: str, proba: np.ndarray) -> np.ndarray:
    """What a method averages per comment: one-hot predicted labels (CC, ACC) or probabilities (PACC, EM)."""
    return one_hot(proba.argmax(1), proba.shape[1]) if method in HARD_METHODS else np.asarray(proba, float)


@dataclass
class Correction:
    """A fitted correction for one classifier head: the method, its matrix and bootstrap replicates of it."""

    method: str
    classes: list[str]
    matrix: list[list[float]]
    prior: list[float]
    n_fit: int
    bootstrap: list[list[list[float]]] = field(default_factory=list)
    widen: dict[str, list[float]] = field(default_factory=dict)
    """Interval widening calibrated on cross-fitted validation batches: ``{"n": batch sizes, "shares": factors,
    "net_score": factors}``; empty means none (factor 1)."""
    calibration: list[float] = field(default_factory=list)
    """EM only: the bias-corrected calibration (a, b_1..b_{k-1}) of the log-ratios, r' = a r + b
    (synpunkt.quantification_em); empty means none (a = 1, b = 0)."""
    calibration_bootstrap: list[list[float]] = field(default_factory=list)
    """EM only: bootstrap replicates (a, b_1..b_{k-1}, pi_0..pi_{k-1}) of the calibration and the fitting prior."""

    @property
    def m(self) -> np.ndarray:
        return np.asarray(self.matrix, float)

    @property
    def boot(self) -> np.ndarray:
        return np.asarray(self.bootstrap, float) if self.bootstrap else self.m[None]


def fit_correction(method: str, proba: np.ndarray, y: np.ndarray, classes: list[str], n_boot: int = 300,
                   seed: int = 0) -> Correction:
    """Fit `method` on labelled held-out rows (proba [n, k] calibrated probabilities, y [n] true class indices),
    with `n_boot` replicates fitted on resamples of those rows (the correction's uncertainty). EM: the BCTS
    recalibration and its replicates (synpunkt.quantification_em.fit_em)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if method == "em":
        from synpunkt.quantification_em import fit_em

        return fit_em(proba, y, classes, n_boot, seed)
    k = proba.shape[1]
    x = method_inputs(method, proba)
    fit = (lambda xx, yy: np.eye(k)) if method == "cc" else (lambda xx, yy: rate_matrix(xx, yy, k))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot if method != "cc" else 0):
        idx = rng.integers(0, len(y), len(y))
        boots.append(np.round(fit(x[idx], y[idx]), 5).tolist())
    prior = np.bincount(y, minlength=k) / len(y)
    return Correction(method, list(classes), np.round(fit(x, y), 6).tolist(), np.round(prior, 6).tolist(), int(len(y)),
                      boots)


# -- estimating -------------------------------------------------------------------------------------------------
def adjust(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Solve ``p = M q`` for q on the last axis, clip at 0 and renormalise. p [..., k]; m [k, k] or [..., k, k]
    broadcasting against p's leading axes."""
    inv = np.linalg.pinv(m)
    q = np.einsum("...ij,...j->...i", inv, p)
    q = np.clip(q, 0.0, None)
    total = q.sum(-1, keepdims=True)
    return np.where(total > 0, q / np.where(total > 0, total, 1), 1.0 / p.shape[-1])


def em_prior(proba: np.ndarray, group: np.ndarray, n_groups: int, prior: np.ndarray, iterations: int = 200,
             tol: float = 1e-6) -> np.ndarray:
    """Saerens et al.'s EM: per group, the prior q with q = mean_i normalise(p_i * q / prior). proba [n, k],
    group [n] group indices; returns [n_groups, k]."""
    proba = np.asarray(proba, float)
    k = proba.shape[1]
    counts = np.bincount(group, minlength=n_groups).astype(float)
    q = np.stack([np.bincount(group, proba[:, j], n_groups) for j in range(k)], 1) / np.maximum(counts, 1)[:, None]
    ratio_base = proba / np.asarray(prior, float)
    for _ in range(iterations):
        w = ratio_base * q[group]
        w /= w.sum(1, keepdims=True)
        new = np.stack([np.bincount(group, w[:, j], n_groups) for j in range(k)], 1) / np.maximum(counts, 1)[:, None]
        done = np.abs(new - q).max() < tol
        q = new
        if done:
            break
    return q


@dataclass
class GroupStats:
    """Per-group sufficient statistics of the model-classified comments: n [g], mean [g, k] of the method's
    per-comment vectors, their covariance [g, k, k] (PACC only), and fixed known counts [g, k] (human
    corrections, counted as they are)."""

    n: np.ndarray
    mean: np.ndarray
    cov: np.ndarray | None = None
    known: np.ndarray | None = None


def group_stats(x: np.ndarray, group: np.ndarray, n_groups: int, second_moments: bool = True) -> GroupStats:
    """GroupStats from per-comment vectors x [n, k] (one-hot or probabilities) and group indices."""
    k = x.shape[1]
    n = np.bincount(group, minlength=n_groups).astype(float)
    safe = np.maximum(n, 1)[:, None]
    mean = np.stack([np.bincount(group, x[:, j], n_groups) for j in range(k)], 1) / safe
    cov = None
    if second_moments:
        second = np.stack([np.stack([np.bincount(group, x[:, i] * x[:, j], n_groups) for j in range(k)], 1)
                           for i in range(k)], 1) / safe[:, :, None]
        cov = second - mean[:, :, None] * mean[:, None, :]
    return GroupStats(n, mean, cov)


def point_estimate(corr: Correction, stats: GroupStats) -> np.ndarray:
    """Corrected shares [g, k] (ACC/PACC/CC; EM needs the comments' cells: quantification_em.em_intervals)."""
    if corr.method == "em":
        raise ValueError("EM needs per-group cells of log-ratios: use synpunkt.quantification_em.em_intervals")
    q = stats.mean if corr.method == "cc" else adjust(stats.mean, corr.m)
    return with_known(q, stats)


def with_known(q: np.ndarray, stats: GroupStats) -> np.ndarray:
    """Shares over every comment of the group: human-corrected comments counted as labelled, the rest estimated."""
    if stats.known is None:
        return q
    total = stats.n + stats.known.sum(1)
    out = (q * stats.n[..., None] if q.ndim == 2 else q * stats.n[:, None, None]) + (
        stats.known if q.ndim == 2 else stats.known[:, None, :])
    denom = np.maximum(total, 1)
    return out / (denom[:, None] if q.ndim == 2 else denom[:, None, None])


def group_keys_seeds(keys: list[tuple], seed: int = 0) -> np.ndarray:
    """A stable 63-bit seed per group from its key (e.g. scope, municipality, year, topic) and the base seed, so
    that a group's random draws depend on the group alone, never on its position among the groups."""
    import hashlib

    out = np.empty(len(keys), np.uint64)
    for i, key in enumerate(keys):
        text = "\x1f".join(_key_text(v) for v in (seed, *key))
        out[i] = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1
    return out


def _key_text(value: object) -> str:
    """A key part as text that does not depend on its dtype (2025, 2025.0 and np.int64(2025) alike; missing: '')."""
    try:
        if value is None or bool(value != value):
            return ""
    except TypeError:  # pandas.NA
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def group_normals(group_seeds: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normals [g, *shape], each group's from its own generator (group_seeds [g], group_keys_seeds)."""
    if not len(group_seeds):
        return np.zeros((0,) + tuple(shape))
    return np.stack([np.random.default_rng(int(s)).standard_normal(shape) for s in group_seeds])


def bootstrap_shares(corr: Correction, stats: GroupStats, n_draws: int = 400, seed: int = 0,
                     hard: bool | None = None, shift: bool = True, group_seeds: np.ndarray | None = None
                     ) -> np.ndarray:
    """Bootstrap replicates [g, n_draws, k] of the corrected shares. Each draw resamples the batch (multinomial
    counts for hard labels, else a normal approximation of the mean vector with the group's covariance) and
    inverts it with one of the correction's bootstrap matrices M* (the correction's fit uncertainty). With
    `shift`, the batch's error rates are also allowed to differ from the fitting set's: the draw's predicted
    shares are moved by ``(M** - M) q`` with M** a second, independent bootstrap matrix and q the point estimate,
    i.e. the comments estimated may be classified as differently from the fitting set as an independent labelled
    set of the same size would be. With `group_seeds` [g] (group_keys_seeds), each group's resampling noise comes
    from its own generator and the correction's draws (shared by the groups) from `seed` alone, so a group's
    interval does not depend on which other groups are computed with it, nor in what order."""
    if corr.method == "em":
        raise ValueError("EM's intervals come from per-group cells: use synpunkt.quantification_em.em_intervals")
    rng = np.random.default_rng(seed)
    g, k = stats.mean.shape
    hard = corr.method in HARD_METHODS if hard is None else hard
    n = stats.n
    if hard or stats.cov is None:
        pv = np.clip(stats.mean, 0, None)
        pv = pv / np.maximum(pv.sum(1, keepdims=True), 1e-12)
        if group_seeds is None:
            counts = rng.multinomial(n.astype(np.int64)[:, None], pv[:, None, :], size=(g, n_draws))
        else:  # each group's resamples from its own generator: independent of the other groups and their order
            counts = np.stack([np.random.default_rng(int(s)).multinomial(int(m), p, size=n_draws)
                               for s, m, p in zip(group_seeds, n.astype(np.int64), pv)]) if g else \
                np.zeros((0, n_draws, k))
        draws = counts / np.maximum(n, 1)[:, None, None]
    else:
        w, v = np.linalg.eigh(stats.cov)
        root = v * np.sqrt(np.clip(w, 0, None))[:, None, :]  # cov = root root^T
        z = rng.standard_normal((g, n_draws, k)) if group_seeds is None else group_normals(group_seeds, (n_draws, k))
        draws = stats.mean[:, None, :] + np.einsum("gij,gdj->gdi", root, z) / np.sqrt(np.maximum(n, 1))[:, None, None]
    if corr.method == "cc":
        q = draws
    else:
        boot = corr.boot
        pick = rng.integers(0, len(boot), n_draws)
        if shift and len(boot) > 1:
            q_hat = adjust(stats.mean, corr.m)
            delta = boot[rng.integers(0, len(boot), n_draws)] - corr.m  # [d, k, k], columns sum to 0
            draws = draws - np.einsum("dij,gj->gdi", delta, q_hat)
        q = adjust(draws, boot[pick])
    return with_known(q, stats)


def intervals(draws: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval (lo, hi) along the draws axis (axis 1)."""
    a = (1 - level) / 2
    return np.quantile(draws, a, axis=1), np.quantile(draws, 1 - a, axis=1)


def widen_factor(corr: Correction, n: np.ndarray, what: str = "shares") -> np.ndarray:
    """The calibrated widening [g] for batches of n comments: interpolated in log n between the calibrated batch
    sizes, constant beyond them; 1 without a calibration."""
    n = np.asarray(n, float)
    if not corr.widen or what not in corr.widen:
        return np.ones_like(n)
    sizes, factors = np.log(np.asarray(corr.widen["n"], float)), np.asarray(corr.widen[what], float)
    return np.interp(np.log(np.maximum(n, 1)), sizes, factors)


def widen(point: np.ndarray, lo: np.ndarray, hi: np.ndarray, factor: np.ndarray, bounds: tuple[float, float] = (0, 1)
          ) -> tuple[np.ndarray, np.ndarray]:
    """Each side of the interval stretched by `factor` (broadcast over point's trailing axes) away from the point
    estimate, within `bounds`."""
    f = np.asarray(factor, float).reshape((-1,) + (1,) * (point.ndim - 1))
    lo_w = point - f * np.clip(point - lo, 0, None)
    hi_w = point + f * np.clip(hi - point, 0, None)
    return np.clip(np.minimum(lo_w, lo), *bounds), np.clip(np.maximum(hi_w, hi), *bounds)


def corrected_intervals(corr: Correction, stats: GroupStats, draws: np.ndarray, level: float = 0.95,
                        share: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Point estimates and calibrated intervals of the shares [g, k] and net score [g] from bootstrap draws
    (`share`: the point estimates when the method computes them itself, as EM does)."""
    share = point_estimate(corr, stats) if share is None else share
    lo, hi = intervals(draws, level)
    n = stats.n  # the model-classified comments: human-corrected ones add no uncertainty
    lo, hi = widen(share, lo, hi, widen_factor(corr, n, "shares"))
    net = 100.0 * (share[:, 0] - share[:, 2])
    net_lo, net_hi = intervals(net_draws(draws)[..., None], level)
    net_lo, net_hi = widen(net, net_lo[:, 0], net_hi[:, 0], widen_factor(corr, n, "net_score"), (-100, 100))
    return {"share": share, "lo": lo, "hi": hi, "net": net, "net_lo": net_lo, "net_hi": net_hi}


def net_draws(draws: np.ndarray, pos: int = 0, neg: int = 2) -> np.ndarray:
    """Net score replicates in percentage points."""
    return 100.0 * (draws[..., pos] - draws[..., neg])


# -- storage ------------------------------------------------------------------------------------------------------
def save(path: Path, model_version: str, heads: dict[str, Correction], evaluation: dict) -> None:
    """Write quantification.json: the model version it was fitted for, each head's correction, the evaluation."""
    doc = {"model_version": model_version, "heads": {h: asdict(c) for h, c in heads.items()},
           "evaluation": evaluation}
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


@dataclass
class Quantification:
    """The corrections in effect for a model version; `status` says why when there are none (CC fallback)."""

    heads: dict[str, Correction]
    status: str
    model_version: str | None = None
    evaluation: dict = field(default_factory=dict)

    def head(self, name: str) -> Correction | None:
        return self.heads.get(name)

    def for_rows(self, name: str, scored: bool) -> Correction | None:
        """The correction for groups of the head `name`: the head's own when every model-classified comment of
        the group has the head's probabilities (scored) or the head's method needs only labels; otherwise its
        labels-only correction (name + LABELS_SUFFIX), or None (classify-and-count) when there is none."""
        corr = self.heads.get(name)
        if scored or corr is None or corr.method in HARD_METHODS:
            return corr
        return self.heads.get(name + LABELS_SUFFIX)


def _refit_hint(fitted: str, wanted: str) -> str:
    """What to do about a correction fitted for another version. Where only the backend's suffix differs
    (synpunkt.inference.stored_version: "+onnx-int8"), the correction saw another backend's answers and errors."""
    from synpunkt.inference.backends import reference_version

    if reference_version(fitted) == reference_version(wanted):
        return ("fitted on the answers of another backend than the one that classified the comments: re-fit with "
                "`synpunkt fit-shares` under the pipeline's SYNPUNKT_BACKEND")
    return "re-fit with `synpunkt fit-shares`"


def load(model_dir: Path | None, model_version: str | None = None) -> Quantification:
    """The model's fitted corrections, or an empty Quantification (classify-and-count with Wilson intervals)
    whose status says why: no file, or a file fitted for another model version."""
    if model_dir is None:
        return Quantification({}, "no model directory: classify-and-count")
    path = Path(model_dir) / QUANTIFICATION_FILE
    if not path.exists():
        return Quantification({}, f"no {QUANTIFICATION_FILE} in {model_dir}: classify-and-count "
                                  "(fit it with `synpunkt fit-shares`)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    if model_version and doc.get("model_version") != model_version:
        return Quantification({}, f"{path} was fitted for {doc.get('model_version')}, not {model_version}: "
                                  f"classify-and-count ({_refit_hint(str(doc.get('model_version')), model_version)})")
    heads = {h: Correction(**c) for h, c in doc.get("heads", {}).items()}
    methods = ", ".join(f"{h}: {c.method}" for h, c in heads.items())
    return Quantification(heads, f"corrected ({methods})", doc.get("model_version"), doc.get("evaluation", {}))

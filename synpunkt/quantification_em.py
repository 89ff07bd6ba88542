"""EM prevalence correction (Saerens, Latinne and Decaestecker 2002) on bias-corrected calibrated probabilities
(BCTS: Alexandari, Kundaje and Shrikumar 2020), from binned sufficient statistics, with intervals that include the
classifier's errors. Pure numpy/scipy, vectorised over groups.

* **Coordinates.** A comment's calibrated probabilities p (k classes, class 0 = positive) are kept as log-ratios
  ``r_j = ln max(p_j, P_FLOOR) - ln max(p_0, P_FLOOR)``, j = 1..k-1. BCTS recalibrates them affinely:
  ``r' = a r + b`` (a > 0, b in R^(k-1); b_0 = 0), i.e. ``p' = softmax(a ln p + b)``. a and b are fitted by
  maximum likelihood on the labelled fitting rows (the validation split) with scipy's L-BFGS-B; replicates of
  (a, b) and of the fitting prior pi on bootstrap resamples of those rows are refined from the fit by a few
  vectorised Newton steps (the same likelihood, all replicates at once).
* **EM as a likelihood.** EM's fixed point is the maximum over the simplex of
  ``l(q) = sum_i c_i ln sum_j f_ij q_j`` with ``f_ij = p'_ij / pi_j`` (c_i comments with the same r). It is found
  per group by Newton steps on the simplex (halved where the likelihood would fall; a class the likelihood pushes
  below 0 is held at 0), a few passes over the rows where plain EM needs hundreds; it equals Saerens et al.'s EM
  (quantification.em_prior) to 1e-6 (tests/test_quantification_em.py).
* **Binned statistics.** The warehouse cannot pass millions of probability vectors: per group it cuts r into cells
  of CELL_WIDTH (``floor(r / CELL_WIDTH)``, SQL GROUP BY) and passes each cell's count and mean r. A cell's
  comments are evaluated at their mean log-ratio; the error is of second order in the cell's spread (width^2/12)
  and is well below 0.1 percentage points (tests/test_quantification_em.py). ``width=None`` keeps one row per
  comment.
* **Intervals** (linearised; no EM per draw): with theta = (a, b, pi_1..pi_{k-1}), the Jacobian J = dq/dtheta is
  taken by finite differences, each one Newton step from q-hat at the perturbed theta (the implicit-function
  derivative). Each draw is ``q-hat + J (theta* - theta-hat) + J (theta** - theta-hat) + e``, projected onto the
  simplex (clip at 0, renormalise), with theta*, theta** two independent bootstrap replicates (the fit's
  uncertainty, and the batch's own calibration differing from the fitting set's as much as an independent labelled
  set's would: the shift term of synpunkt.quantification.bootstrap_shares) and e ~ N(0, I^-1) the sampling error
  of the maximum-likelihood q (I the observed information of l in q_1..q_{k-1}; each comment's Hessian is minus
  the outer product of its score, so this is also the sandwich estimate). Percentile intervals of the draws are
  widened by the factor per batch size calibrated on cross-fitted validation batches
  (quantification_eval.calibrate_widening, with BCTS refitted on each fitting part; the scheme chosen by
  synpunkt.quantification_select), as for the other methods.
  A shift term that instead adds the sampling error of a set of the fitting set's size was tried: on synthetic
  pools it over-covered (96-99 %), the calibration term covered 95-97 %.
* **Cost**: about 15 passes over the cell rows (solve, Jacobian), each a sparse group-sum of six products; 850,000
  cell rows (2.5 million comment rows in 3,200 groups) take about 1 s, binning them from comments another 0.7 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synpunkt import quantification as Q

CELL_WIDTH: float = 0.25
"""Log-ratio cell width used by the warehouse."""
P_FLOOR: float = 1e-9
"""Probabilities are floored at this before the log."""
N_DRAWS = 400
CHUNK = 4000
"""Groups per chunk of draws (memory: groups x draws x classes)."""
_TINY = 1e-12
_RIDGE = 1e-9
_FD_STEP = 1e-4


def log_ratios(proba: np.ndarray) -> np.ndarray:
    """[n, k-1]: ln max(p_j, P_FLOOR) - ln max(p_0, P_FLOOR)."""
    lp = np.log(np.maximum(np.asarray(proba, float), P_FLOOR))
    return lp[:, 1:] - lp[:, :1]


@dataclass
class CellStats:
    """Per (group, cell): the number of model-classified comments and their mean log-ratio vector; known [g, k]
    human-corrected counts (counted as known, like GroupStats.known)."""

    group: np.ndarray
    count: np.ndarray
    ratio: np.ndarray
    n_groups: int
    known: np.ndarray | None = None

    @property
    def n(self) -> np.ndarray:
        """Model-classified comments per group [n_groups]."""
        return np.bincount(self.group, self.count, self.n_groups).astype(float)


def cell_stats_from_proba(proba: np.ndarray, group: np.ndarray, n_groups: int, known: np.ndarray | None = None,
                          width: float | None = CELL_WIDTH) -> CellStats:
    """CellStats of comments' probabilities [n, k] and group indices [n], cut into cells of `width` in log-ratio
    (as the warehouse does); width None: one row per comment."""
    r = log_ratios(proba)
    group = np.asarray(group, np.int64)
    if width is None:
        return CellStats(group, np.ones(len(group)), r, n_groups, known)
    key = group.copy()
    for cell in np.floor(r / width).astype(np.int64).T:  # one int64 key per (group, cell)
        cell = cell - cell.min(initial=0)
        key = key * (int(cell.max(initial=0)) + 1) + cell
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    count = np.bincount(inverse, minlength=len(first)).astype(float)
    ratio = np.stack([np.bincount(inverse, r[:, j], len(first)) for j in range(r.shape[1])], 1) / count[:, None]
    return CellStats(group[first], count, ratio, n_groups, known)


# -- BCTS ---------------------------------------------------------------------------------------------------------
def _full(r: np.ndarray) -> np.ndarray:
    """[..., k] log-ratios with the reference class's 0 in front."""
    return np.concatenate([np.zeros(r.shape[:-1] + (1,)), r], -1)


def recalibrated(r: np.ndarray, a: float, b: np.ndarray) -> np.ndarray:
    """p' = softmax(a [0, r] + [0, b]) [..., k]."""
    z = a * _full(r) + _full(np.asarray(b, float))
    z -= z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def _nll(theta: np.ndarray, rf: np.ndarray, y1: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted NLL of softmax(a rf + [0, b]) and its gradient in (a, b)."""
    p = recalibrated(rf[:, 1:], theta[0], theta[1:])
    nll = -(w * np.log(np.maximum((p * y1).sum(1), 1e-300))).sum()
    e = (p - y1) * w[:, None]
    return float(nll), np.concatenate([[np.sum(e * rf)], e[:, 1:].sum(0)])


def fit_bcts(r: np.ndarray, y: np.ndarray) -> np.ndarray:
    """theta = (a, b_1..b_{k-1}) maximising the likelihood of the labels y under softmax(a [0, r] + [0, b])
    (scipy L-BFGS-B, a >= 1e-3)."""
    from scipy.optimize import minimize

    k = r.shape[1] + 1
    rf, y1 = _full(r), np.eye(k)[np.asarray(y, int)]
    w = np.ones(len(y))
    x0 = np.concatenate([[1.0], np.zeros(k - 1)])
    res = minimize(_nll, x0, args=(rf, y1, w), jac=True, method="L-BFGS-B",
                   bounds=[(1e-3, None)] + [(None, None)] * (k - 1), options={"maxiter": 500, "gtol": 1e-9})
    return res.x


def refine_bcts(theta: np.ndarray, r: np.ndarray, y: np.ndarray, weights: np.ndarray, steps: int = 8) -> np.ndarray:
    """BCTS fits [B, k] under row weights [B, n] (bootstrap resamples as counts) by Newton steps from theta, all
    replicates at once."""
    k = r.shape[1] + 1
    rf, y1 = _full(r), np.eye(k)[np.asarray(y, int)]
    th = np.repeat(np.asarray(theta, float)[None], len(weights), 0)
    for _ in range(steps):
        p = recalibrated(r[None], th[:, :1, None], th[:, None, 1:])  # [B, n, k]
        # d z / d theta: rf for a, the unit vector of class j for b_j; first and second moments under p
        mean = np.concatenate([(p * rf).sum(-1, keepdims=True), p[..., 1:]], -1)  # [B, n, P]
        second = np.zeros(mean.shape + (k,))
        second[..., 0, 0] = (p * rf ** 2).sum(-1)
        second[..., 0, 1:] = second[..., 1:, 0] = p[..., 1:] * rf[..., 1:]
        second[..., np.arange(1, k), np.arange(1, k)] = p[..., 1:]
        hess = np.einsum("bn,bnpq->bpq", weights, second - mean[..., :, None] * mean[..., None, :])
        e = (p - y1[None]) * weights[:, :, None]
        grad = np.concatenate([(e * rf).sum((1, 2))[:, None], e[..., 1:].sum(1)], 1)
        step = np.linalg.solve(hess + 1e-9 * np.eye(k)[None], grad[:, :, None])[:, :, 0]
        th = th - step
        th[:, 0] = np.maximum(th[:, 0], 1e-3)
        if np.abs(step).max() < 1e-10:
            break
    return th


def fit_em(proba: np.ndarray, y: np.ndarray, classes: list[str], n_boot: int = 300, seed: int = 0) -> Q.Correction:
    """The EM correction: BCTS fitted on labelled held-out rows and the fitting prior, with `n_boot` bootstrap
    replicates of (a, b, pi) from resamples of those rows."""
    y = np.asarray(y, int)
    k = proba.shape[1]
    r = log_ratios(proba)
    theta = fit_bcts(r, y)
    prior = np.bincount(y, minlength=k) / len(y)
    boots = []
    if n_boot:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(y), (n_boot, len(y)))
        weights = np.stack([np.bincount(i, minlength=len(y)) for i in idx]).astype(float)
        th = refine_bcts(theta, r, y, weights)
        th = np.where(np.isfinite(th), th, theta)  # a resample without some class has no finite b for it
        th[:, 1:] = np.clip(th[:, 1:], theta[1:] - 10, theta[1:] + 10)
        pri = np.stack([np.bincount(y, w, k) for w in weights]) / len(y)
        boots = np.round(np.concatenate([th, pri], 1), 6).tolist()
    return Q.Correction("em", list(classes), np.eye(k).tolist(), np.round(prior, 6).tolist(), int(len(y)), [],
                        calibration=np.round(theta, 6).tolist(), calibration_bootstrap=boots)


def _theta(corr: Q.Correction) -> np.ndarray:
    """(a, b_1..b_{k-1}, pi_1..pi_{k-1}) of a correction (a = 1, b = 0 without a calibration)."""
    k = len(corr.prior)
    cal = np.asarray(corr.calibration, float) if corr.calibration else np.concatenate([[1.0], np.zeros(k - 1)])
    return np.concatenate([cal, np.asarray(corr.prior, float)[1:]])


def _theta_boot(corr: Q.Correction) -> np.ndarray:
    """Bootstrap replicates [B, P] of theta (empty: [0, P])."""
    k = len(corr.prior)
    if not corr.calibration_bootstrap:
        return np.zeros((0, 2 * k - 1))
    b = np.asarray(corr.calibration_bootstrap, float)  # [a, b_1.., pi_0..pi_{k-1}]
    return np.concatenate([b[:, :k], b[:, k + 1:]], 1)


# -- EM as a likelihood over cells ----------------------------------------------------------------------------------
class _Layout:
    """The cells sorted by group, in column layout ([k, m] arrays), with a sparse group-sum matrix: one pass over
    the rows sums any number of per-row quantities per group."""

    def __init__(self, cells: CellStats):
        order = np.argsort(cells.group, kind="stable")
        group = np.asarray(cells.group)[order]
        self.n_groups, self.m = cells.n_groups, len(order)
        self.ratio = np.ascontiguousarray(np.asarray(cells.ratio, float)[order].T)  # [k-1, m]
        self.count = np.asarray(cells.count, float)[order]
        self.sizes = np.bincount(group, minlength=self.n_groups)
        self.n = np.bincount(group, self.count, self.n_groups)
        from scipy.sparse import csr_matrix

        self.sum = csr_matrix((self.count, (group, np.arange(self.m))), shape=(self.n_groups, self.m))

    def expand(self, q: np.ndarray) -> np.ndarray:
        """Per-group rows q [g, k] as per-cell columns [k, m]."""
        return np.repeat(q.T, self.sizes, axis=1)

    def total(self, x: np.ndarray) -> np.ndarray:
        """Count-weighted sums per group [g, p] of per-cell quantities x [p, m]."""
        return np.asarray(self.sum @ x.T)


def _f(theta: np.ndarray, cells: _Layout) -> np.ndarray:
    """f_ij = p'_ij / pi_j [k, m]: the recalibrated probabilities over the fitting prior."""
    k = len(cells.ratio) + 1
    pi = np.maximum(np.concatenate([[1 - theta[k:].sum()], theta[k:]]), 1e-12)
    z = np.concatenate([np.zeros((1, cells.m)), theta[0] * cells.ratio + theta[1:k, None]])
    z -= z.max(0)
    e = np.exp(z)
    return e / (e.sum(0) * pi[:, None])


def _sums(f: np.ndarray, q: np.ndarray, cells: _Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At q [g, k]: l(q) [g], its gradient G [g, k] and negative Hessian H [g, k, k] (G = H q)."""
    k = len(f)
    s = np.maximum(np.einsum("km,km->m", f, cells.expand(q)), 1e-300)
    w = f / s
    pairs = [(i, j) for i in range(k) for j in range(i, k)]
    x = np.empty((len(pairs) + 1, cells.m))
    for row, (i, j) in enumerate(pairs):
        np.multiply(w[i], w[j], out=x[row])
    x[-1] = np.log(s)
    sums = cells.total(x)
    hess = np.empty((cells.n_groups, k, k))
    for row, (i, j) in enumerate(pairs):
        hess[:, i, j] = hess[:, j, i] = sums[:, row]
    return sums[:, -1], np.einsum("gij,gj->gi", hess, q), hess


def _newton_step(q: np.ndarray, grad: np.ndarray, hess: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The Newton direction [g, k] on the simplex (sum 0), with classes at 0 that the likelihood would push below
    0 held there."""
    g, k = q.shape
    eye = np.eye(k)
    at_zero = q <= _TINY

    def solve(active):
        h = hess + _RIDGE * np.maximum(n, 1)[:, None, None] * eye
        keep = ~active
        h = np.where(keep[:, :, None] & keep[:, None, :], h, 0) + active[:, :, None] * eye
        kkt = np.zeros((g, k + 1, k + 1))
        kkt[:, :k, :k] = h
        kkt[:, :k, k] = kkt[:, k, :k] = keep
        rhs = np.concatenate([np.where(keep, grad, 0), np.zeros((g, 1))], 1)
        return np.linalg.solve(kkt, rhs[:, :, None])[:, :k, 0]

    active = at_zero & (grad <= n[:, None])
    step = solve(active)
    more = at_zero & (step < 0) & ~active
    if more.any():
        step = solve(active | more)
    return step


def _move(q: np.ndarray, step: np.ndarray, t: np.ndarray) -> np.ndarray:
    """q + t step, on the simplex (a class the step brings to 0 is set to exactly 0)."""
    new = np.clip(q + t[:, None] * step, 0, None)
    new = np.where(new <= _TINY, 0, new)
    return new / new.sum(1, keepdims=True)


def _room(q: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The largest t <= 1 with q + t step >= 0 [g]."""
    neg = step < 0
    return np.minimum(1.0, np.where(neg, q / np.where(neg, -step, 1), np.inf).min(1))


def solve_em(f: np.ndarray, cells: _Layout, iterations: int = 60, tol: float = 1e-10
             ) -> tuple[np.ndarray, np.ndarray]:
    """EM's fixed point per group: q [g, k] maximising l over the simplex (Newton steps, halved where the
    likelihood would fall), and the negative Hessian [g, k, k] there."""
    k = len(f)
    q = cells.total(f)  # start: the mean recalibrated posterior over the fitting prior, normalised
    q = np.where(cells.n[:, None] > 0, q / np.maximum(q.sum(1, keepdims=True), 1e-300), 1.0 / k)
    q = np.clip(q, 1e-6, None)
    q /= q.sum(1, keepdims=True)
    ll, grad, hess = _sums(f, q, cells)
    for _ in range(iterations):
        step = _newton_step(q, grad, hess, cells.n)
        t = _room(q, step)
        for _ in range(30):
            new = _move(q, step, t)
            ll_new, grad_new, hess_new = _sums(f, new, cells)
            worse = ll_new < ll - 1e-12 * np.abs(ll)
            if not worse.any():
                break
            t = np.where(worse, t / 2, t)
        done = np.abs(new - q).max(initial=0) < tol
        q, ll, grad, hess = new, ll_new, grad_new, hess_new
        if done:
            break
    return q, hess


def em_estimate(corr: Q.Correction, cells: CellStats) -> np.ndarray:
    """EM's shares [g, k] of the model-classified comments (no known counts)."""
    layout = _Layout(cells)
    return solve_em(_f(_theta(corr), layout), layout)[0]


def em_shares(corr: Q.Correction, proba: np.ndarray, group: np.ndarray, n_groups: int,
              width: float | None = CELL_WIDTH) -> np.ndarray:
    """EM's shares [g, k] of comments' probabilities [n, k] in groups (cells of `width`, as the warehouse)."""
    return em_estimate(corr, cell_stats_from_proba(proba, group, n_groups, width=width))


def _sampling_root(q: np.ndarray, hess: np.ndarray, n: np.ndarray) -> np.ndarray:
    """L [g, k, k-1] with L L^T the sampling covariance of q-hat: the inverse observed information in the
    coordinates q_1..q_{k-1} (q_0 = 1 - their sum), mapped back to the k shares."""
    g, k = q.shape
    basis = np.concatenate([-np.ones((1, k - 1)), np.eye(k - 1)], 0)  # dq/dq_reduced [k, k-1]
    info = np.einsum("ji,gjl,lm->gim", basis, hess, basis)
    info += _RIDGE * np.maximum(n, 1)[:, None, None] * np.eye(k - 1)
    cov = np.linalg.inv(info)
    cov = (cov + np.swapaxes(cov, 1, 2)) / 2
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))[:, None, :]
    return np.einsum("kj,gjl->gkl", basis, root)


def em_linearised(corr: Q.Correction, cells: CellStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q-hat [g, k], the Jacobian J [g, k, P] of q-hat in theta (each column one Newton step from q-hat at theta
    moved by _FD_STEP: the implicit-function derivative) and the sampling root [g, k, k-1]."""
    layout = _Layout(cells)
    theta = _theta(corr)
    q, hess = solve_em(_f(theta, layout), layout)
    jac = np.zeros(q.shape + (len(theta),))
    if len(_theta_boot(corr)):
        for p in range(len(theta)):
            th = theta.copy()
            th[p] += _FD_STEP
            _, grad, hess_p = _sums(_f(th, layout), q, layout)
            step = _newton_step(q, grad, hess_p, layout.n)
            jac[:, :, p] = (_move(q, step, _room(q, step)) - q) / _FD_STEP
    return q, jac, _sampling_root(q, hess, layout.n)


def em_draws(corr: Q.Correction, q: np.ndarray, jac: np.ndarray, root: np.ndarray, n_draws: int = N_DRAWS,
             seed: int = 0, shift: bool = True, group_seeds: np.ndarray | None = None) -> np.ndarray:
    """Draws [g, d, k] of the model-classified comments' shares: q-hat + J (theta* - theta-hat) [fit] +
    J (theta** - theta-hat) [shift, with `shift`] + sampling error, projected onto the simplex. With `group_seeds`
    [g] (quantification.group_keys_seeds) each group's sampling error comes from its own generator and the
    correction's draws from `seed` alone: a group's draws do not depend on the other groups or their order."""
    rng = np.random.default_rng(seed)
    g, k = q.shape
    noise = rng.standard_normal((g, n_draws, k - 1)) if group_seeds is None else \
        Q.group_normals(group_seeds, (n_draws, k - 1))
    draws = q[:, None, :] + np.einsum("gkl,gdl->gdk", root, noise)
    boot = _theta_boot(corr)
    if len(boot):
        theta = _theta(corr)
        delta = boot[rng.integers(0, len(boot), n_draws)] - theta
        if shift:
            delta = delta + boot[rng.integers(0, len(boot), n_draws)] - theta
        draws = draws + np.einsum("gkp,dp->gdk", jac, delta)
    draws = np.clip(draws, 0, None)
    total = draws.sum(-1, keepdims=True)
    return np.where(total > 0, draws / np.where(total > 0, total, 1), 1.0 / k)


def em_intervals(corr: Q.Correction, cells: CellStats, seed: int = 0, level: float = 0.95,
                 n_draws: int = N_DRAWS, group_seeds: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Point estimates and calibrated intervals as quantification.corrected_intervals: share [g, k], lo, hi, net
    [g], net_lo, net_hi; widened by corr.widen; groups without model-classified comments get their known shares.
    group_seeds [g]: per-group draws (em_draws)."""
    return intervals_from(corr, em_linearised(corr, cells), cells, seed, level, n_draws, group_seeds)


def intervals_from(corr: Q.Correction, linearised: tuple[np.ndarray, np.ndarray, np.ndarray], cells: CellStats,
                   seed: int = 0, level: float = 0.95, n_draws: int = N_DRAWS,
                   group_seeds: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """em_intervals from em_linearised's result (e.g. the same cells under several widenings). Without
    group_seeds each chunk of groups draws from seed + its first position; with them, every group from its own
    seed and the shared correction draws from seed (the same for every chunk)."""
    q, jac, root = linearised
    n, known = cells.n, cells.known
    share = Q.with_known(q, Q.GroupStats(n, q, None, known))
    parts = []
    for start in range(0, max(q.shape[0], 1), CHUNK):  # one (empty) chunk when there are no groups
        part = slice(start, start + CHUNK)
        sub = Q.GroupStats(n[part], q[part], None, None if known is None else known[part])
        own = None if group_seeds is None else group_seeds[part]
        draws = Q.with_known(em_draws(corr, q[part], jac[part], root[part], n_draws,
                                      seed if own is not None else seed + start, group_seeds=own), sub)
        parts.append(Q.corrected_intervals(corr, sub, draws, level, share=share[part]))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

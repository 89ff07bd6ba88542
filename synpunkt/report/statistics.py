"""The statistics behind the reports: intervals, the z-test for net scores, chi-square and t-tests, and the
first screen's facts (rank, gap to the country, change per area). Pure functions over counts and DataFrames.

The intervals are the warehouse's own (``synpunkt/sql/schema.sql``: Wilson for shares, the normal approximation
for net scores), so every figure in a report can be checked against ``yearly_shares``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synpunkt.labels import SENTIMENTS, TOPICS

Z95 = 1.96  # the same z as the warehouse's Wilson and net-score macros (synpunkt/sql/schema.sql)
Z975_BONFERRONI = 2.2414  # the normal quantile for 97.5 % two-sided: two intervals that hold together at >= 95 %
ALPHA = 0.05
MIN_TEST_N = 10
"""Smallest sample (per year or group) for which a change or difference in net score is tested."""
MIN_RANK_N = 30
"""Fewest comments in a year for a municipality to be ranked; below it a report warns instead of ranking, and
every figure (a municipality, an area, a cell) resting on fewer comments carries SMALL_MARK: the warehouse's
small_sample (synpunkt.trends.SMALL_SAMPLE_N is this constant)."""
UP, DOWN = "▲", "▼"
SMALL_MARK = "†"
"""The mark beside a figure that rests on fewer than MIN_RANK_N comments (explained under each table)."""


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k/n (the warehouse's wilson_lo/wilson_hi)."""
    if not n:
        return (float("nan"), float("nan"))
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ((centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n))


def net_score(pos: float, neg: float, n: float) -> tuple[float, float, float]:
    """Net score (percentage points) with its 95 % interval, as the warehouse's net_score macros compute it."""
    if not n:
        return (float("nan"),) * 3
    net = 100.0 * (pos - neg) / n
    half = 100.0 * Z95 * math.sqrt(max((pos + neg) / n - ((pos - neg) / n) ** 2, 0) / n)
    return net, net - half, net + half


def net_change_test(pos1, neg1, n1, pos2, neg2, n2) -> tuple[float, float, float]:
    """Two-sided two-sample z-test for the difference between two independent net scores (sample 2 minus 1).

    Returns (difference in percentage points, z, p). The net score is p+ - p-, a difference of two proportions
    of one multinomial sample. As in the two-proportion z-test, the variance is estimated under the null
    hypothesis (both samples share p+ and p-) from the pooled counts: ((p+ + p-) - (p+ - p-)^2) (1/n1 + 1/n2).
    p is nan when either sample has fewer than MIN_TEST_N comments.
    """
    if not n1 or not n2:
        return (float("nan"),) * 3
    diff = (pos2 - neg2) / n2 - (pos1 - neg1) / n1
    if min(n1, n2) < MIN_TEST_N:
        return 100 * diff, float("nan"), float("nan")
    n = n1 + n2
    pos, neg = (pos1 + pos2) / n, (neg1 + neg2) / n
    var = max(pos + neg - (pos - neg) ** 2, 0.0) * (1 / n1 + 1 / n2)
    if var == 0:
        return 100 * diff, 0.0, 1.0  # every comment in both samples has the same sentiment: no difference
    z = diff / math.sqrt(var)
    return 100 * diff, z, math.erfc(abs(z) / math.sqrt(2))


def estimate_change_test(net1, se1, n1, net2, se2, n2) -> tuple[float, float, float]:
    """Two-sided z-test for the difference between two independent estimates (sample 2 minus 1) from their
    standard errors, as the warehouse's est_diff_* macros (yearly_changes): the corrected net scores, whose
    standard error is their bootstrap interval's width / (2 x 1.96). Returns (difference, z, p); p is nan when
    either sample has fewer than MIN_TEST_N comments; z = 0, p = 1 when both standard errors are 0."""
    if not n1 or not n2 or any(v is None or math.isnan(v) for v in (net1, net2)):
        return (float("nan"),) * 3
    diff = net2 - net1
    if min(n1, n2) < MIN_TEST_N:
        return diff, float("nan"), float("nan")
    se = math.sqrt(se1 * se1 + se2 * se2)
    if se == 0:
        return diff, 0.0, 1.0
    z = diff / se
    return diff, z, math.erfc(abs(z) / math.sqrt(2))


def mark(diff: float, p: float | None) -> str:
    """▲ or ▼ for a significant difference (p < ALPHA), else ''."""
    if p is None or math.isnan(p) or p >= ALPHA:
        return ""
    return UP if diff > 0 else DOWN


def chi_square(table: np.ndarray | pd.DataFrame) -> dict | None:
    """Pearson chi-square test of independence on a groups x sentiments table (empty rows/columns dropped)."""
    from scipy.stats import chi2_contingency

    arr = np.asarray(table, dtype=float)
    arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0] if arr.size else arr
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        return None
    chi2, p, dof, expected = chi2_contingency(arr, correction=False)
    return {"chi2": float(chi2), "p": float(p), "dof": int(dof), "min_expected": float(expected.min())}


def mean_ci(values) -> tuple[float, float, float]:
    """Mean with a t-based 95 % confidence interval."""
    from scipy.stats import t

    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return (float("nan"),) * 3
    mean = float(x.mean())
    if len(x) < 2:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def welch_test(a, b) -> dict:
    """Welch's t-test (unequal variances), two-sided: t, Welch-Satterthwaite df, p."""
    from scipy.stats import ttest_ind

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    res = ttest_ind(a, b, equal_var=False)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else float("nan")
    return {"t": float(res.statistic), "df": float(df), "p": float(res.pvalue)}


def kruskal_test(groups: list) -> dict:
    """Kruskal-Wallis H-test between several groups of values."""
    from scipy.stats import kruskal

    res = kruskal(*[np.asarray(g, dtype=float) for g in groups])
    return {"h": float(res.statistic), "p": float(res.pvalue)}


def with_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Add shares, Wilson bounds and the net score with its interval to n / n_positive / ... counts."""
    df = counts.copy()
    for s in SENTIMENTS:
        k, n = df[f"n_{s}"].astype(float), df["n"].astype(float)
        df[f"share_{s}"] = np.where(n > 0, k / n.where(n > 0, 1), np.nan)
        bounds = [wilson(kk, nn) for kk, nn in zip(k, n)]
        df[f"share_{s}_lo"] = [b[0] for b in bounds]
        df[f"share_{s}_hi"] = [b[1] for b in bounds]
    nets = [net_score(p, q, n) for p, q, n in zip(df["n_positive"], df["n_negative"], df["n"])]
    df["net_score"] = [x[0] for x in nets]
    df["net_score_lo"] = [x[1] for x in nets]
    df["net_score_hi"] = [x[2] for x in nets]
    return clip_net(df)


def net_bounds_counts(pos: float, neg: float, n: float) -> tuple[float, float]:
    """A 95 % interval for the net score of n comments (pos positive, neg negative) that never collapses to a
    point: each share's Wilson bounds at 97.5 % (Bonferroni: both hold together with at least 95 %), combined
    as [lo(pos) - hi(neg), hi(pos) - lo(neg)]. All of 10 comments negative: −100 to −44, not −100 to −100."""
    if not n:
        return float("nan"), float("nan")
    pos_lo, pos_hi = wilson(pos, n, Z975_BONFERRONI)
    neg_lo, neg_hi = wilson(neg, n, Z975_BONFERRONI)
    return 100.0 * (pos_lo - neg_hi), 100.0 * (pos_hi - neg_lo)


def pooled_estimates(df: pd.DataFrame) -> pd.DataFrame:
    """Several municipalities' corrected figures (year_shares rows: topic, n, share_*, net_score, net_score_se)
    pooled per topic, weighted by their comments: the shares and net score of all their comments. The net
    score's interval is the wider of (a) ± 1.96 standard errors, the standard error bounded by the weighted sum of
    the municipalities' (which include the correction's uncertainty; the bound holds whatever their correlation,
    e.g. the correction they share) and (b) net_bounds_counts on the pooled counts, so a small group never gets a
    zero-width interval."""
    rows = []
    for topic, g in df.groupby("topic", sort=False):
        n = float(g["n"].sum())
        w = g["n"].astype(float) / n
        row = {"topic": topic, "n": int(n)}
        for s in SENTIMENTS:
            row[f"share_{s}"] = float((w * g[f"share_{s}"]).sum())
            row[f"n_{s}"] = int(round(row[f"share_{s}"] * n))
        net = float((w * g["net_score"]).sum())
        se = float((w * g["net_score_se"].astype(float).fillna(0)).sum())
        lo, hi = net_bounds_counts(row["n_positive"], row["n_negative"], n)
        row.update(net_score=net, net_score_se=se, net_score_lo=min(net - Z95 * se, lo),
                   net_score_hi=max(net + Z95 * se, hi))
        for s in SENTIMENTS:
            row[f"share_{s}_lo"], row[f"share_{s}_hi"] = wilson(row[f"n_{s}"], n)
        rows.append(row)
    return clip_net(pd.DataFrame(rows))


def clip_net(df: pd.DataFrame) -> pd.DataFrame:
    """A net score lies in [-100, 100]; so does what is shown of its (normal-approximation) interval."""
    df["net_score_lo"] = df["net_score_lo"].astype(float).clip(lower=-100.0)
    df["net_score_hi"] = df["net_score_hi"].astype(float).clip(upper=100.0)
    return df


def with_counts(df: pd.DataFrame) -> pd.DataFrame:
    """The views carry shares and n; recover the counts (exact: the shares are k/n). Net intervals are clipped."""
    df = clip_net(df.copy())
    for s in SENTIMENTS:
        df[f"n_{s}"] = (df[f"share_{s}"].astype(float) * df["n"]).round().astype(int)
    df["n"] = df["n"].astype(int)
    return df


def year_changes(trend: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per topic: the net score and share positive last year and this year, the change, z-test p and mark."""
    now = trend[trend["year"] == year].set_index("topic")
    prev = trend[trend["year"] == year - 1].set_index("topic")
    rows = []
    for topic in [t for t in ("all",) + TOPICS if t in now.index and t in prev.index]:
        a, b = prev.loc[topic], now.loc[topic]
        if "net_score_se" in trend:  # the warehouse's corrected estimates and their intervals
            diff, z, p = estimate_change_test(a["net_score"], a["net_score_se"], a["n"], b["net_score"],
                                              b["net_score_se"], b["n"])
        else:
            diff, z, p = net_change_test(a["n_positive"], a["n_negative"], a["n"], b["n_positive"], b["n_negative"],
                                         b["n"])
        rows.append({"topic": topic, "n_prev": int(a["n"]), "n_now": int(b["n"]), "pos_prev": a["share_positive"],
                     "pos_now": b["share_positive"], "net_prev": a["net_score"], "net_now": b["net_score"],
                     "change": diff, "z": z, "p": p, "mark": mark(diff, p)})
    return pd.DataFrame(rows, columns=["topic", "n_prev", "n_now", "pos_prev", "pos_now", "net_prev", "net_now",
                                       "change", "z", "p", "mark"])


def rest_estimate(national_net: float, national_se: float, national_n: int, own_net: float, own_n: int
                  ) -> tuple[float, float]:
    """The rest of the country's corrected net score and standard error from the national estimate and one
    municipality's, as the warehouse's rest_net and rest_se macros: the national estimate without the
    municipality's share of it, and the national standard error scaled to the rest's size (sampling-dominated; the
    correction's own uncertainty, shared by both, stays in both: conservative). nan when nothing is left."""
    rest_n = national_n - own_n
    if rest_n <= 0:
        return float("nan"), float("nan")
    return (national_net * national_n - own_net * own_n) / rest_n, national_se * math.sqrt(national_n / rest_n)


def vs_rest(own, national) -> tuple[float, float, str]:
    """A municipality against the rest of the country on the corrected net scores, with the estimates' z-test
    (estimate_change_test; the warehouse's national_gaps): (difference in percentage points, p, mark)."""
    diff, p, m, _ = vs_rest_full(own, national)
    return diff, p, m


def vs_rest_full(own, national) -> tuple[float, float, str, float]:
    """vs_rest and the rest of the country's net score the difference is taken from (nan when nothing is left)."""
    rest_net, rest_se = rest_estimate(national["net_score"], national["net_score_se"], national["n"],
                                      own["net_score"], own["n"])
    if math.isnan(rest_net):
        return float("nan"), float("nan"), "", float("nan")
    diff, _, p = estimate_change_test(rest_net, rest_se, national["n"] - own["n"], own["net_score"],
                                      own["net_score_se"], own["n"])
    return diff, p, mark(diff, p), rest_net


def ranked(df: pd.DataFrame, min_n: int = MIN_RANK_N) -> pd.DataFrame:
    """Municipalities (code, name, n, net_score...) sorted best first (corrected net scores), with `rank` 1..k
    for those with at least `min_n` comments and NaN for the others (small samples, listed after the ranked ones)."""
    d = df.sort_values(["net_score", "name"], ascending=[False, True]).reset_index(drop=True)
    eligible = d["n"] >= min_n
    d["rank"] = np.where(eligible, eligible.cumsum(), np.nan)
    return pd.concat([d[eligible], d[~eligible]]).reset_index(drop=True)


def area_standing(own: pd.DataFrame, changes: pd.DataFrame, national: pd.DataFrame | None) -> pd.DataFrame:
    """The first screen's table: per topic of `own` (year_shares), the net score with its interval, last year's
    net score and the change since with its mark, and (for a municipality) the national net score, the rest of
    the country's (`rest`: every other municipality) and the gap to the rest with its test's p and mark: the gap
    printed and the test printed beside it are the same comparison."""
    ch = changes.set_index("topic") if not changes.empty else None
    nat = national.set_index("topic") if national is not None and not national.empty else None
    rows = []
    for _, r in own.iterrows():
        t = r["topic"]
        row = {"topic": t, "n": int(r["n"]), "net": r["net_score"], "lo": r["net_score_lo"], "hi": r["net_score_hi"],
               "net_prev": float("nan"), "change": float("nan"), "change_p": float("nan"), "change_mark": "",
               "national": float("nan"), "rest": float("nan"), "gap": float("nan"), "gap_p": float("nan"),
               "gap_mark": ""}
        if ch is not None and t in ch.index:
            row.update(net_prev=ch.loc[t, "net_prev"], change=ch.loc[t, "change"], change_p=ch.loc[t, "p"],
                       change_mark=ch.loc[t, "mark"])
        if nat is not None and t in nat.index:
            diff, p, m, rest = vs_rest_full(r, nat.loc[t])
            row.update(national=nat.loc[t, "net_score"], rest=rest, gap=diff, gap_p=p, gap_mark=m)
        rows.append(row)
    return pd.DataFrame(rows)

"""Time the trends refresh with the share correction (PACC, and EM from binned log-ratios) on N synthetic comments.

Run: ``.venv/bin/python benchmarks/bench_trends.py [N]`` (default 1,000,000). Builds a DuckDB warehouse file in a
temporary folder with N comments over 290 municipalities and 5 years, each about 1-2 topics, with the overall and
per-topic probabilities of a noisy classifier (softmax of the true class's logit plus noise: continuous, so EM's
cells are as many as real comments make), then times in one process (compare the ratios; the machine is shared):

    first refresh      synpunkt.trends.refresh with PACC: the comment-level mart built, the trends computed
    trends, PACC       refresh with nothing new (mart kept): sql/trends.sql and the PACC bootstrap
    trends, EM         the same with an EM head for the overall sentiment and for the topics: also
                       sql/trend_cells.sql (its time printed apart) and quantification_em.em_intervals
    incremental        a new batch (1 % of N, one municipality and year) and N / 2,000 corrections arrive, and the
                       refresh updates the mart and computes the trends with EM; then a second such batch with PACC
                       (issue 11's target: a trends refresh under 30 s on 10 million comments)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from synpunkt import quantification as Q
from synpunkt.labels import SENTIMENTS, TOPICS

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
VERSION = "bench@1"
CHUNK = 2_000_000
YEARS = 5
TARGET_S = 30.0


def logits(name: str, label: str) -> str:
    """SQL columns name0..name2: exp of a noisy classifier's logits, 2.2 on the class `label` (an SQL integer 0-2)
    plus uniform noise of width 3 (random() per row and column)."""
    return ", ".join(f"exp(2.2 * ({label} = {j})::INT + 3 * random()) AS {name}{j}" for j in range(3))


def softmax(name: str) -> str:
    """SQL [p_positive, p_skeptical, p_negative] from the columns of logits(name)."""
    total = " + ".join(f"{name}{j}" for j in range(3))
    return "[" + ", ".join(f"{name}{j} / ({total})" for j in range(3)) + "]"


def insert_comments(con, start: int, end: int, codes: list[str], batch: str | None = None) -> None:
    """Comments start..end-1 with their predictions: over every municipality and year, or with `batch`, all in
    that batch of the first municipality's last year."""
    code = f"'{codes[0]}'" if batch else f"list_extract($codes, 1 + (i % {len(codes)})::INT)"
    year = str(2021 + YEARS - 1) if batch else f"2021 + (i // {len(codes)}) % {YEARS}"
    con.execute(f"""
        INSERT INTO comments SELECT 'c' || i, '{batch or 'b'}', {code}, 1, NULL, make_date({year}, 1, 1), {year},
               NULL, 'text', NULL, NULL, now() FROM range({start}, {end}) t(i)""", {"codes": codes} if not batch
                else {})
    sentiment = "CASE WHEN u1 < 0.5 THEN 0 WHEN u1 < 0.7 THEN 1 ELSE 2 END"
    con.execute(f"""
        INSERT INTO predictions
        SELECT 'c' || i, '{VERSION}', ['positive', 'skeptical', 'negative'][list_position(p, list_max(p))],
               p[1], p[2], p[3], topics, {', '.join('0.5' for _ in TOPICS)},
               CASE WHEN u3 < 0.5 THEN '{{"handler": "positive", "wait_time": "negative"}}'
                    ELSE '{{"digital_services": "skeptical"}}' END, now(),
               CASE WHEN u2 < 0.5 THEN [tp1] ELSE [tp1, tp2] END
        FROM (SELECT i, u2, u3, {softmax('e')} AS p, {softmax('f')} AS tp1, {softmax('g')} AS tp2,
                     CASE WHEN u2 < 0.5 THEN ['handler'] ELSE ['wait_time', 'digital_services'] END AS topics
              FROM (SELECT i, u2, u3, {logits('e', 's')}, {logits('f', 's')}, {logits('g', '(s + 1) % 3')}
                    FROM (SELECT i, {sentiment} AS s, u2, u3
                          FROM (SELECT i, random() AS u1, random() AS u2, random() AS u3
                                FROM range({start}, {end}) t(i)))))""")


def add_batch(con, start: int, n_new: int, n_corrections: int, codes: list[str], name: str) -> None:
    """What arrives between two refreshes: a batch of n_new comments with predictions and n_corrections reviewer
    corrections of stored comments."""
    insert_comments(con, start, start + n_new, codes, name)
    con.execute(f"""
        INSERT INTO corrections
        SELECT comment_id, 'negative', topics, 'bench', now(), model_version, sentiment, 'random', '{name}',
               row_number() OVER ()
        FROM (SELECT * FROM predictions WHERE comment_id NOT IN (SELECT comment_id FROM corrections)
              USING SAMPLE {n_corrections} ROWS)""")


def quantifications() -> tuple[Q.Quantification, Q.Quantification]:
    """PACC and EM corrections for both heads (labels-only ACC for groups without probabilities), fitted on
    2,000 labelled rows of a noisy classifier as the warehouse's."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    logits = 2.2 * np.eye(3)[y] + 3 * rng.random((2000, 3))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    acc = Q.fit_correction("acc", p, y, list(SENTIMENTS))
    out = []
    for method in ("pacc", "em"):
        corr = Q.fit_correction(method, p, y, list(SENTIMENTS))
        out.append(Q.Quantification({"sentiment": corr, "topic_sentiment": corr,
                                     "topic_sentiment" + Q.LABELS_SUFFIX: acc}, "bench"))
    return out[0], out[1]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    from synpunkt.marts import build_comment_mart
    from synpunkt.trends import em_groups, refresh, trend_cells, trend_stats
    from synpunkt.warehouse import connect, set_current_model

    folder = Path(tempfile.mkdtemp(prefix="bench-trends-"))
    try:
        con = connect(folder / "warehouse.duckdb")
        codes = [r[0] for r in con.execute("SELECT code FROM municipalities ORDER BY code").fetchall()]
        t0 = time.perf_counter()
        for start in range(0, N, CHUNK):
            insert_comments(con, start, min(N, start + CHUNK), codes)
        set_current_model(con, VERSION)
        con.execute("CHECKPOINT")
        pacc, em = quantifications()
        print(f"built {N:,} comments in {time.perf_counter() - t0:.1f} s; corrections fitted")
        rows, first_s = timed(lambda: refresh(con, VERSION, pacc))
        print(f"first refresh (mart built, PACC): {rows:,} yearly_trends rows in {first_s:.1f} s")
        _, pacc_s = timed(lambda: refresh(con, VERSION, pacc))
        stats, stats_s = timed(lambda: trend_stats(con, VERSION))
        cells, cells_s = timed(lambda: trend_cells(con, VERSION, stats.iloc[em_groups(stats, em)]))
        _, em_s = timed(lambda: refresh(con, VERSION, em))
        print(f"trends, mart kept: PACC {pacc_s:.1f} s, EM {em_s:.1f} s (EM / PACC {em_s / pacc_s:.2f}); alone: "
              f"sql/trends.sql {stats_s:.1f} s, EM's sql/trend_cells.sql {cells_s:.1f} s ({len(cells):,} cell rows)")
        n_new, n_corr = max(N // 100, 1), max(N // 2000, 5)
        for name, quant, start in (("em", em, N), ("pacc", pacc, N + n_new)):
            add_batch(con, start, n_new, n_corr, codes, f"bench-{name}")
            _, s = timed(lambda: refresh(con, VERSION, quant))
            print(f"incremental refresh with {name.upper()} after a batch of {n_new:,} comments and {n_corr:,} "
                  f"corrections: {s:.1f} s (target < {TARGET_S:.0f} s on 10 M)")
        assert build_comment_mart(con, VERSION) == N + 2 * n_new
        con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

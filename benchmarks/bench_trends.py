"""Time a national-year trends refresh with the share correction on 1 million synthetic predictions.

Run: ``.venv/bin/python benchmarks/bench_trends.py [N]`` (builds an in-memory DuckDB warehouse with N comments
over 290 municipalities and 5 years, each about 1-2 topics, and times synpunkt.trends.refresh with a fitted PACC
correction for the overall sentiment and for the topics (the per-topic head's stored probabilities); the refresh
includes building the comment-level mart, synpunkt.marts.build_comment_mart)."""

from __future__ import annotations

import sys
import time

import numpy as np

from synpunkt import quantification as Q
from synpunkt.labels import SENTIMENTS, TOPICS
from synpunkt.warehouse import ensure_schema, set_current_model
from synpunkt.trends import refresh

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
VERSION = "bench@1"


def main() -> None:
    import duckdb

    rng = np.random.default_rng(0)
    con = duckdb.connect()
    ensure_schema(con)
    codes = [r[0] for r in con.execute("SELECT code FROM municipalities ORDER BY code").fetchall()]
    t0 = time.time()
    con.execute(f"CREATE TEMP TABLE src AS SELECT i, random() AS u1, random() AS u2, random() AS u3 FROM range({N}) t(i)")
    con.execute(f"""
        INSERT INTO comments SELECT 'c' || i, 'b', list_extract($codes, 1 + (i % {len(codes)})::INT), 1, NULL,
               DATE '2021-01-01' + INTERVAL ((i // 290) % 5) YEAR, 2021 + (i // 290) % 5, NULL, 'text', NULL, NULL, now() FROM src""", {"codes": codes})
    con.execute(f"""
        INSERT INTO predictions SELECT 'c' || i, '{VERSION}',
               CASE WHEN u1 < 0.5 THEN 'positive' WHEN u1 < 0.7 THEN 'skeptical' ELSE 'negative' END,
               0.15 + 0.7 * (u1 < 0.5)::INT, 0.15 + 0.7 * (u1 >= 0.5 AND u1 < 0.7)::INT, 0.15 + 0.7 * (u1 >= 0.7)::INT,
               CASE WHEN u2 < 0.5 THEN ['handler'] ELSE ['wait_time', 'digital_services'] END,
               {', '.join('0.5' for _ in TOPICS)},
               CASE WHEN u3 < 0.5 THEN '{{"handler": "positive", "wait_time": "negative"}}'
                    ELSE '{{"digital_services": "skeptical"}}' END, now(),
               CASE WHEN u2 < 0.5 THEN [[0.5 + 0.4 * u3, 0.3 - 0.2 * u3, 0.2 - 0.2 * u3]]
                    ELSE [[0.2 * u3, 0.2, 0.8 - 0.2 * u3], [0.3, 0.5 * u1 + 0.2, 0.5 - 0.5 * u1]] END FROM src""")
    set_current_model(con, VERSION)
    print(f"built {N:,} comments in {time.time() - t0:.1f} s")
    p = rng.dirichlet(np.ones(3), 2000)
    y = p.argmax(1)
    quant = Q.Quantification({"sentiment": Q.fit_correction("pacc", p, y, list(SENTIMENTS)),
                              "topic_sentiment": Q.fit_correction("pacc", p, y, list(SENTIMENTS)),
                              "topic_sentiment" + Q.LABELS_SUFFIX: Q.fit_correction("acc", p, y, list(SENTIMENTS))},
                             "bench")
    t0 = time.time()
    rows = refresh(con, VERSION, quant)
    print(f"refresh: {rows:,} yearly_trends rows from {N:,} comments in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()

"""Classification throughput in the flow's process against a Dask LocalCluster, in one run.

Stores N generated comments (benchmarks/synthetic_comments.py) in a fresh warehouse per run and times the classify
flow (flows/pipeline.py) with the local task runner and with a LocalCluster of W worker processes (one thread
each), with the default model. Each runner runs twice, on a small warehouse (one chunk per worker) and on N
comments: the difference gives the marginal rate, without the fixed costs (worker start-up, model loads), which
are printed apart. Last, the two runs' stored predictions are compared.

    python benchmarks/bench_scaleout.py --n 500 --workers 2 --chunk-size 64

On a machine with C cores, W <= C workers can at best match the in-process run, whose encoder already uses every
core; the point of the Dask runner is more machines, not more speed on one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))


def store(path: Path, texts: list[str]) -> Path:
    """A warehouse holding `texts` as stored comments."""
    from synpunkt.warehouse import connect, insert_frame

    start = datetime(2025, 1, 1)
    frame = pd.DataFrame({
        "comment_id": [f"c{i:06d}" for i in range(len(texts))], "batch_id": "bench", "municipality_code": "0180",
        "row_number": range(1, len(texts) + 1), "external_id": None, "contact_date": start.date(), "year": 2025,
        "channel": "telefon", "text": texts, "redactions": json.dumps({}), "metadata": None,
        "ingested_at": [start + timedelta(seconds=i) for i in range(len(texts))]})
    con = connect(path)
    insert_frame(con, "comments", frame)
    con.close()
    return path


def timed(flow, path: Path, chunk_size: int) -> float:
    t = time.perf_counter()
    flow(path, chunk_size=chunk_size)
    return time.perf_counter() - t


def predictions(path: Path) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * EXCLUDE (classified_at) FROM predictions ORDER BY comment_id").df()
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=64)
    args = parser.parse_args()

    from synpunkt.runtime import quiet_defaults

    quiet_defaults()
    from flows.pipeline import classify_flow
    from synthetic_comments import generate_submissions, texts
    from synpunkt import scaleout
    from synpunkt.runtime import start_prefect

    start_prefect()
    comments = texts(generate_submissions(args.n, seed=0))[: args.n]
    small = comments[: args.chunk_size * args.workers]
    runners = {"local": classify_flow,
               f"dask x{args.workers}": classify_flow.with_options(
                   task_runner=scaleout.task_runner("dask", workers=args.workers))}
    rows, stored = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, flow in runners.items():
            slug = name.split()[0]
            t_small = timed(flow, store(Path(tmp) / f"{slug}-small.duckdb", small), args.chunk_size)
            big = store(Path(tmp) / f"{slug}.duckdb", comments)
            t_big = timed(flow, big, args.chunk_size)
            marginal = (len(comments) - len(small)) / max(t_big - t_small, 1e-9)
            rows.append((name, t_big, len(comments) / t_big, marginal, t_small))
            stored[slug] = predictions(big)
    print(f"\nclassify flow, {len(comments)} comments, chunks of {args.chunk_size}, default model and backend")
    print(f"{'runner':<10} {'seconds':>8} {'comments/s':>11} {'marginal/s':>11} {'small run s':>12}")
    for name, t, rate, marginal, t_small in rows:
        print(f"{name:<10} {t:>8.1f} {rate:>11.1f} {marginal:>11.1f} {t_small:>12.1f}")
    print(f"ratio dask/local: {rows[1][2] / rows[0][2]:.2f} end to end, {rows[1][3] / rows[0][3]:.2f} marginal")
    a, b = stored["local"], stored["dask"]
    probs = [c for c in a.columns if c.startswith("p_")]
    same = (a["sentiment"] == b["sentiment"]).mean()
    gap = np.nanmax(np.abs(a[probs].to_numpy(float) - b[probs].to_numpy(float)))
    print(f"same sentiment: {same:.2%}; largest probability difference: {gap:.2e}")


if __name__ == "__main__":
    main()

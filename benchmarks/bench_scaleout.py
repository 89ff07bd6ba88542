"""Ingest and classification throughput in the flow's process against a Dask LocalCluster, in one run.

classify: stores N generated comments (benchmarks/synthetic_comments.py) in a fresh warehouse per run and times the
classify flow (flows/pipeline.py) with the local task runner and with a LocalCluster of W worker processes (one
thread each), with the default model. ingest: drops N generated comments as files (about 250 rows each, as
municipalities send them) into a temporary SYNPUNKT_HOME's inbox, lands them once, and times the ingest flow
(redaction and signals in the flow's process, or on the workers) into a fresh warehouse per runner.

Each runner runs twice, on a small input (about one chunk or file per worker) and on N comments: the difference
gives the marginal rate, without the fixed costs (worker start-up, model loads), which are printed apart (the
flow's own process loads its ingest models once, before the runs). Last,
the two runners' stored rows are compared (predictions; comments, quarantine, signals and alerts).

    python benchmarks/bench_scaleout.py --n 500 --workers 2 --chunk-size 64 [--stages ingest classify]

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


INGEST_TABLES = {
    "comments": "SELECT comment_id, row_number, text, redactions, metadata FROM comments ORDER BY comment_id",
    "quarantine": "SELECT batch_id, row_number, reason_code, row_redacted FROM quarantine ORDER BY batch_id, row_number",
    "signals": "SELECT comment_id, urgent_category, repeat_contact FROM comment_signals ORDER BY comment_id",
    "alerts": "SELECT alert_id FROM alerts ORDER BY alert_id"}


def ingested(path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in INGEST_TABLES.items()}
    finally:
        con.close()


def land(home: Path, subs: list) -> None:
    """Write `subs` into the inbox of `home` (the current SYNPUNKT_HOME, see temporary_home) and land them."""
    from synthetic_comments import write_inbox

    from synpunkt.landing import collect_inbox

    write_inbox(subs, home / "inbox")
    receipts, problems = collect_inbox()
    if problems or len(receipts) != len(subs):
        raise RuntimeError(f"{len(problems)} file(s) did not land")


def bench_ingest(args, runners: dict) -> None:
    """The ingest flow per runner on a small and a large landed set; rates and the stored rows compared."""
    from bench_pipeline import temporary_home
    from synthetic_comments import generate_submissions

    from synpunkt.redact import Redactor
    from synpunkt.signals.detect import default_detector

    t = time.perf_counter()
    Redactor.default().redact_many(["Ring Karin Lund"])  # this process's models loaded (lazily) before the runs
    default_detector().detect(["Ring Karin Lund"])
    print(f"redaction and signal models loaded in this process in {time.perf_counter() - t:.1f} s (once: not in "
          "the local runs' times)")
    subs = generate_submissions(args.n, seed=1)
    small_subs = subs[: args.workers]
    n_small = sum(len(s.frame) for s in small_subs)
    rows, stored = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        timings: dict[str, list[float]] = {name: [] for name in runners}
        with temporary_home(Path(tmp) / "small") as small_home:
            land(small_home, small_subs)
            for name, flow in runners.items():
                timings[name].append(timed_ingest(flow, small_home / f"{name.split()[0]}.duckdb"))
        with temporary_home(Path(tmp) / "big") as big_home:
            land(big_home, subs)
            for name, flow in runners.items():
                slug = name.split()[0]
                timings[name].append(timed_ingest(flow, big_home / f"{slug}.duckdb"))
                stored[slug] = ingested(big_home / f"{slug}.duckdb")
        for name, (t_small, t_big) in timings.items():
            marginal = (args.n - n_small) / max(t_big - t_small, 1e-9)
            rows.append((name, t_big, args.n / t_big, marginal, t_small))
    print(f"\ningest flow, {args.n} comments in {len(subs)} files (small run: {n_small} in {len(small_subs)}), "
          f"default redactor and signal heads")
    print_rates(rows)
    a, b = stored["local"], stored["dask"]
    print("stored rows identical: " + ", ".join(f"{k} {'yes' if a[k] == b[k] else 'NO'} ({len(a[k])})" for k in a))


def timed_ingest(flow, path: Path) -> float:
    t = time.perf_counter()
    result = flow(path)
    seconds = time.perf_counter() - t
    if any(b["status"] != "ingested" for b in result["batches"]):
        raise RuntimeError("a benchmark batch failed: " + "; ".join(str(b["error"]) for b in result["batches"]
                                                                    if b["error"]))
    return seconds


def print_rates(rows: list) -> None:
    print(f"{'runner':<10} {'seconds':>8} {'comments/s':>11} {'marginal/s':>11} {'small run s':>12}")
    for name, t, rate, marginal, t_small in rows:
        print(f"{name:<10} {t:>8.1f} {rate:>11.1f} {marginal:>11.1f} {t_small:>12.1f}")
    print(f"ratio dask/local: {rows[1][2] / rows[0][2]:.2f} end to end, {rows[1][3] / rows[0][3]:.2f} marginal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--stages", nargs="+", choices=["ingest", "classify"], default=["ingest", "classify"])
    args = parser.parse_args()

    from synpunkt.runtime import quiet_defaults

    quiet_defaults()
    from flows.pipeline import classify_flow, ingest_flow
    from synthetic_comments import generate_submissions, texts
    from synpunkt import scaleout
    from synpunkt.runtime import start_prefect

    start_prefect()
    if "ingest" in args.stages:
        bench_ingest(args, {"local": ingest_flow, f"dask x{args.workers}": ingest_flow.with_options(
            task_runner=scaleout.task_runner("dask", workers=args.workers))})
    if "classify" not in args.stages:
        return
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
    print_rates(rows)
    a, b = stored["local"], stored["dask"]
    probs = [c for c in a.columns if c.startswith("p_")]
    same = (a["sentiment"] == b["sentiment"]).mean()
    gap = np.nanmax(np.abs(a[probs].to_numpy(float) - b[probs].to_numpy(float)))
    print(f"same sentiment: {same:.2%}; largest probability difference: {gap:.2e}")


if __name__ == "__main__":
    main()

"""Streaming ingest of one large CSV batch: rows per second and peak memory, at N and N/10 rows.

Generates a CSV of realistic comments (texts from data/comments/comments.jsonl with names put in for their
[NAMN] placeholders and phone numbers added, varied dates, case ids on most rows, channels and a handler
column), lands it in a temporary SYNPUNKT_HOME and ingests it with the default redactor (rules + name model),
as the pipeline's ingest stage does, without Prefect. Prints rows/s and the peak resident memory of each run.

Name redaction runs the encoder at some 20-60 texts/s on a 2-core CPU, so 200,000 distinct comments would take
hours. The texts are therefore drawn from a pool of distinct texts (--pool, default 2,000; the printout gives
the count): the redactor sees each distinct text once per batch, so the figures measure memory and the
non-model stages (reading, validation, duplicate ids, JSON, DuckDB) at full size, plus the model on the pool.

    python benchmarks/bench_ingest.py [--rows 200000] [--pool 3000] [--chunk-rows 10000] [--seed 7]

Its rows are lighter than benchmarks/bench_pipeline.py's: at --rows 1000 --pool 1000 about 650 distinct texts of 35
tokens on average (22,500 tokens through the signal encoder) against 1,000 distinct texts of 47 tokens there
(46,500), fewer of which need the name model. Ingest's cost is the encoders' (about 90 %), so the rows/s of the
two benchmarks differ by about that ratio of encoder tokens; per token they run at the same rate (the pipeline's
ingest is ingest_batch, as here, plus Prefect's flow, which costs nothing measurable).

Old against new, in the same session: ``--baseline DIR`` (a source tree of the code to compare with, e.g.
``mkdir /tmp/base && git archive HEAD synpunkt | tar -x -C /tmp/base``) ingests the same --rows rows alternately
with that code and with this working tree, each run in a fresh process (so peak memory is the run's own),
``--repeat`` times each, and says whether the stored comments (redacted texts, counts, metadata), quarantine
rows, signals (categories, repeat decisions) and alerts came out identical:

    python benchmarks/bench_ingest.py --rows 1000 --pool 1000 --baseline /tmp/base [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil

FIRST = ["Anna", "Karin", "Lars", "Mikael", "Eva", "Johan", "Maria", "Ahmed", "Fatima", "Erik", "Sara", "Nils"]
LAST = ["Berg", "Lund", "Andersson", "Johansson", "Karlsson", "Nilsson", "Hassan", "Lindqvist", "Ek", "Holm"]
CHANNELS = ["telefon", "e-post", "chatt", "besök", "Telefon", "mejl", ""]
KINDS = ["bygglov", "hemtjänst", "skola", "avfall", "parkering", "försörjningsstöd"]


def text_pool(size: int, rng: random.Random) -> list[str]:
    """`size` distinct comment texts: in-domain texts with names for [NAMN] and some phone numbers added."""
    from synpunkt.data import load_in_domain

    base = load_in_domain()["text"].tolist()
    pool: set[str] = set()
    while len(pool) < size:
        text = rng.choice(base)
        while "[NAMN]" in text:
            text = text.replace("[NAMN]", f"{rng.choice(FIRST)} {rng.choice(LAST)}", 1)
        text = text.replace("[TELEFON]", f"070-{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}")
        if rng.random() < 0.15:
            text += f" Ring mig på 08-{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}."
        if rng.random() < 0.1:
            text = f"Jag pratade med {rng.choice(FIRST)} {rng.choice(LAST)}. {text}"
        pool.add(text)
    return sorted(pool)


def make_csv(path: Path, rows: int, pool: list[str], rng: random.Random) -> Path:
    """Write the CSV row by row (so that generating it leaves no large frame in this process's memory)."""
    start = date(2022, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["ärendenummer", "datum", "kanal", "kommentar", "ärendetyp", "handläggare"])
        for i in range(rows):
            out.writerow([f"{2022 + i % 4}-{i:07d}" if rng.random() < 0.7 else "",
                          (start + timedelta(days=rng.randrange(1400))).isoformat(), rng.choice(CHANNELS),
                          rng.choice(pool), rng.choice(KINDS), f"{rng.choice(FIRST)} {rng.choice(LAST)}"])
    return path


class PeakRss:
    """Samples this process's resident memory every 50 ms in a thread; .peak is the highest seen."""

    def __init__(self):
        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(0.05)

    def __enter__(self):
        self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


class CountingRedactor:
    """The default redactor, counting the texts it is given (what the encoder sees) and the time it takes."""

    def __init__(self, inner):
        self.inner, self.texts, self.seconds = inner, 0, 0.0

    def _timed(self, method, texts, batch_size, **kwargs):
        t0 = time.perf_counter()
        try:
            return method(texts, batch_size, **kwargs)
        finally:
            self.texts += len(texts)
            self.seconds += time.perf_counter() - t0

    def __getattr__(self, name):  # the name model and its shared-pass reader (synpunkt.ingest_compute.shared_pass)
        return getattr(self.inner, name)

    def redact_many(self, texts, batch_size=32, **kwargs):
        return self._timed(self.inner.redact_many, texts, batch_size, **kwargs)

    def find_spans_many(self, texts, batch_size=32):
        return self._timed(self.inner.find_spans_many, texts, batch_size)


def ingest_once(rows: int, pool: list[str], rng: random.Random, chunk_rows: int, redactor, workdir: Path) -> dict:
    from synpunkt.ingest import ingest_batch
    from synpunkt.landing import land_file
    from synpunkt.warehouse import connect

    home = workdir / f"home-{rows}"
    os.environ["SYNPUNKT_HOME"] = str(home)
    csv = make_csv(workdir / f"export-{rows}.csv", rows, pool, rng)
    receipt = land_file(csv, "0180", origin="cli")
    con = connect()
    counting = CountingRedactor(redactor)
    with PeakRss() as rss:
        t0, c0 = time.perf_counter(), time.process_time()
        result = ingest_batch(con, receipt, counting, chunk_rows=chunk_rows)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    assert result.status == "ingested", result.error
    assert result.rows_received == rows == result.rows_accepted + result.rows_quarantined
    con = connect()
    digests = output_digests(con)
    con.close()
    return {**digests, "rows": rows, "cpu_s": cpu, "mb": csv.stat().st_size / 1e6, "seconds": seconds,
            "rows_per_s": rows / seconds,
            "peak_rss_gb": rss.peak / 1e9, "accepted": result.rows_accepted, "quarantined": result.rows_quarantined,
            "redacted_texts": counting.texts, "redact_s": counting.seconds, "other_s": seconds - counting.seconds}


OUTPUT_QUERIES = {
    "comments": "SELECT row_number, text, redactions, metadata FROM comments ORDER BY row_number",
    "quarantine": "SELECT row_number, reason_code, row_redacted FROM quarantine ORDER BY row_number",
    "signals": "SELECT c.row_number, s.urgent_category, s.urgent_rule, s.repeat_contact FROM comment_signals s "
               "JOIN comments c USING (comment_id) ORDER BY c.row_number",
    "alerts": "SELECT row_number, category FROM alerts ORDER BY row_number, category",
}
"""What must not change between old and new code (probabilities may move within float tolerance)."""


def output_digests(con) -> dict:
    """SHA-256 (16 hex) of each of OUTPUT_QUERIES' results, and the largest urgent-probability (for comparison)."""
    out = {name: hashlib.sha256(repr(con.execute(sql).fetchall()).encode()).hexdigest()[:16]
           for name, sql in OUTPUT_QUERIES.items()}
    out["alert_count"] = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
    out["probabilities"] = [round(p, 6) for (p,) in con.execute(
        "SELECT s.urgent_probability FROM comment_signals s JOIN comments c USING (comment_id) "
        "ORDER BY c.row_number").fetchall()]
    return out


def one_run(args) -> dict:
    """Load the models, ingest --rows rows once; the result (child process of --baseline)."""
    from synpunkt.redact import Redactor
    from synpunkt.signals.detect import default_detector

    rng = random.Random(args.seed)
    pool = text_pool(args.pool, rng)
    redactor = Redactor.default()
    redactor.redact_many(["Jag pratade med Anna Berg."])  # load (and export) before measuring
    redactor.name_model.probabilities([["Hej", "Qwxz"]], [[True, False]])  # the encoder, even where rules decide
    default_detector().detect(["Jag pratade med Anna Berg."])
    try:  # the one encoder pass of names and signals, where the tree has it (synpunkt.ingest_compute)
        from synpunkt.ingest_compute import shared_pass
        from synpunkt.redaction_cache import RedactionCache
    except ImportError:
        pass
    else:
        shared_pass(default_detector(), RedactionCache(redactor), ["Jag pratade med Anna Berg, Qwxz."])
    loaded = psutil.Process().memory_info().rss / 1e9
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        run = ingest_once(args.rows, pool, rng, args.chunk_rows, redactor, Path(tmp))
    return {**run, "loaded_rss_gb": loaded, "distinct": len(pool),
            "maxrss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def compare(args) -> None:
    """--baseline: alternate runs of the baseline tree and this tree in fresh processes; print and compare."""
    here = Path(__file__).resolve().parent.parent
    trees = {"old": Path(args.baseline).resolve(), "new": here}
    child = [sys.executable, str(Path(__file__).resolve()), "--rows", str(args.rows), "--pool", str(args.pool),
             "--chunk-rows", str(args.chunk_rows), "--seed", str(args.seed), "--child"]
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(args.repeat):
        for name, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": str(tree)}
            done = subprocess.run(child, env=env, capture_output=True, text=True, check=False)
            lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if done.returncode or not lines:
                sys.exit(f"{name} run {r + 1} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
            runs[name].append(json.loads(lines[-1][len("RESULT "):]))
            x = runs[name][-1]
            print(f"{name} run {r + 1}: {x['rows_per_s']:.1f} rows/s, {x['seconds']:.1f} s "
                  f"(redactor {x['redact_s']:.1f} s),"
                  f" {x['cpu_s']:.1f} CPU s (all threads),"
                  f" peak RSS during ingest {x['peak_rss_gb']:.2f} GB, process max RSS {x['maxrss_gb']:.2f} GB, "
                  f"{os.getloadavg()[0]:.1f} load", flush=True)
    old, new = runs["old"][0], runs["new"][0]
    same = {k: old[k] == new[k] for k in (*OUTPUT_QUERIES, "alert_count")}
    diff = max((abs(a - b) for a, b in zip(old["probabilities"], new["probabilities"])), default=0.0)
    print(f"{args.rows:,} rows, {old['distinct']:,} distinct texts in the pool")
    for name, rs in runs.items():
        rates = [x["rows_per_s"] for x in rs]
        print(f"{name}: rows/s {' / '.join(f'{v:.1f}' for v in rates)} (median {sorted(rates)[len(rates) // 2]:.1f}); "
              f"peak RSS {max(x['maxrss_gb'] for x in rs):.2f} GB")
    ratio = [n["rows_per_s"] / o["rows_per_s"] for o, n in zip(runs["old"], runs["new"])]
    cpu = [o["cpu_s"] / n["cpu_s"] for o, n in zip(runs["old"], runs["new"])]
    print(f"new / old rows/s, run by run: {' / '.join(f'{v:.2f}' for v in ratio)}; "
          f"old / new CPU seconds: {' / '.join(f'{v:.2f}' for v in cpu)}")
    print(f"identical outputs: {same}; largest urgent-probability difference {diff:.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pool", type=int, default=2_000, help="distinct comment texts to draw from")
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a source tree of the code to compare with (alternate runs, fresh processes)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each tree with --baseline")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(one_run(args)), flush=True)
        return
    if args.baseline:
        compare(args)
        return

    from synpunkt.redact import Redactor

    rng = random.Random(args.seed)
    pool = text_pool(args.pool, rng)
    redactor = Redactor.default()
    redactor.redact_many(["Jag pratade med Anna Berg."])  # load the encoder before measuring
    print(f"{len(pool):,} distinct comment texts (names and phone numbers included), chunks of "
          f"{args.chunk_rows:,} rows; baseline RSS with the name model loaded: "
          f"{psutil.Process().memory_info().rss / 1e9:.2f} GB")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        runs = [ingest_once(n, pool, rng, args.chunk_rows, redactor, Path(tmp))
                for n in (args.rows // 10, args.rows)]
    print(f"{'rows':>9} {'CSV MB':>7} {'seconds':>8} {'rows/s':>8} {'peak RSS GB':>12} {'accepted':>9} "
          f"{'quarant.':>9} {'texts redacted':>15} {'redact s':>9} {'other s':>8} {'other rows/s':>13}")
    for r in runs:
        print(f"{r['rows']:>9,} {r['mb']:>7.1f} {r['seconds']:>8.1f} {r['rows_per_s']:>8,.0f} "
              f"{r['peak_rss_gb']:>12.2f} "
              f"{r['accepted']:>9,} {r['quarantined']:>9,} {r['redacted_texts']:>15,} {r['redact_s']:>9.1f} "
              f"{r['other_s']:>8.1f} {r['rows'] / r['other_s']:>13,.0f}")
    small, large = runs
    print(f"time outside the redactor at N / at N/10: {large['other_s'] / small['other_s']:.1f} (linear: 10); "
          f"process peak RSS (getrusage): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()

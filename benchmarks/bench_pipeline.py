"""End-to-end throughput: N generated comments through landing, ingest, classify, trends and publish.

Generates N mostly distinct Swedish comments (benchmarks/synthetic_comments.py: 3 years, as many municipalities as
keep the files near 250 rows, so that batch sizes do not change with N; names, personnummer, phone numbers and
e-mail addresses in some; CSV/XLSX/JSONL files as municipalities send them), drops
the files into the inbox of a fresh temporary SYNPUNKT_HOME and runs the stages of `synpunkt run` one after the
other, under the pipeline lock, with the same functions and Prefect flows (flows/pipeline.py):

    landing   collect_inbox()   the inbox files become landed batches (the flow's collect-inbox task)
    ingest    ingest_flow()     read, validate, deduplicate, redact, detect urgent signals, store (the ingest
                                models are loaded by the warm-up, or again after the previous size freed them)
    classify  classify_flow()   sentiment and areas for every stored comment (pipeline_flow's task runner), after
                                free_ingest_models() as in pipeline_flow
    trends    trends_flow()     corrected yearly shares
    publish   publish_flow()    the analysts' read-only copy

For each size it prints seconds, comments/s, CPU seconds of this process (all its threads), resident memory at
the start of each stage (what earlier stages left) and peak resident memory per stage and end to end, and
between sizes the cost per comment relative to the smallest (1.00 = linear).
A small warm-up run first loads the models and starts Prefect, so every measured size pays the same fixed costs.
Peak memory: of this process (sampled every 50 ms per stage; getrusage for the whole run) and of the process tree
(Prefect's temporary API server included). It ends with the hours a national year would take at the end-to-end
rate. On a shared machine the CPU seconds say what the run would take with every core to itself.

    python benchmarks/bench_pipeline.py --n 5000 50000 [--backend torch onnx-int8 ...] [--json out.json]

`--backend` sets SYNPUNKT_BACKEND (several: one child process each, so each backend's memory is its own); without
it the setting applies (auto: the model's recorded fastest backend, on a machine with CUDA the GPU; the header
names the device). Run it on a quiet machine: it uses every core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_comments import ROWS_PER_FILE  # noqa: E402

STAGES = ("landing", "ingest", "classify", "trends", "publish")
NATIONAL_YEAR = 3_000_000
"""Comments in a national year (290 municipalities)."""
RESET_VARIABLES = ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_SOURCES", "SYNPUNKT_ALERT_WEBHOOK",
                   "SYNPUNKT_ALERT_BLOCK")
"""Settings that would point a run outside its temporary home or at a real channel."""


class PeakMemory:
    """Samples the resident memory of this process and of its whole process tree every 50 ms in a thread."""

    def __init__(self):
        self.proc, self.peak, self.tree_peak, self._stop = psutil.Process(), 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        own = self.proc.memory_info().rss
        tree = own
        for child in self.proc.children(recursive=True):
            try:
                tree += child.memory_info().rss
            except psutil.Error:  # ended meanwhile
                pass
        self.peak, self.tree_peak = max(self.peak, own), max(self.tree_peak, tree)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.05)

    def __enter__(self) -> "PeakMemory":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


@contextmanager
def temporary_home(path: Path):
    """SYNPUNKT_HOME at `path` for the block (inbox files are complete when written: no settle time)."""
    saved = {k: os.environ.get(k) for k in ("SYNPUNKT_HOME", "SYNPUNKT_INBOX_SETTLE_SECONDS", *RESET_VARIABLES)}
    os.environ["SYNPUNKT_HOME"] = str(path)
    os.environ["SYNPUNKT_INBOX_SETTLE_SECONDS"] = "0"
    for k in RESET_VARIABLES:
        os.environ.pop(k, None)
    try:
        yield path
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def device_line() -> str:
    """The machine in words: CPU model and cores, and the GPU when torch sees one."""
    import torch

    from synpunkt.inference.backends import cpu_name

    line = f"{cpu_name()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, torch threads " \
           f"{torch.get_num_threads()}"
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        line += f"; GPU {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    return line


def run_pipeline(n: int, seed: int, workdir: Path, **shape) -> dict:
    """Generate n comments (`shape`: generate_submissions' municipalities, rows_per_file), drop them in a fresh
    home's inbox, run every stage; figures per stage."""
    from flows.pipeline import classify_flow, free_ingest_models, ingest_flow, publish_flow, trends_flow
    from synthetic_comments import generate_submissions, texts, write_inbox

    from synpunkt import scaleout
    from synpunkt.landing import collect_inbox
    from synpunkt.warehouse import pipeline_lock

    with temporary_home(workdir / f"home-{n}") as home:
        t0 = time.perf_counter()
        subs = generate_submissions(n, seed=seed, **shape)
        paths = write_inbox(subs, home / "inbox")
        all_texts = texts(subs)
        generated = {"n": n, "distinct": len(set(all_texts)), "files": len(paths),
                     "municipalities": len({s.municipality for s in subs}), "years": len({s.year for s in subs}),
                     "formats": sorted({p.suffix for p in paths}), "mb": sum(p.stat().st_size for p in paths) / 1e6,
                     "mean_chars": sum(map(len, all_texts)) / max(1, n), "generate_s": time.perf_counter() - t0}
        del subs, all_texts
        stages, results = {}, {}
        classify = classify_flow.with_options(task_runner=scaleout.task_runner())
        steps = {"landing": lambda: collect_inbox(), "ingest": ingest_flow,  # as pipeline_flow calls them
                 "classify": lambda: (free_ingest_models(), classify())[1],
                 "trends": trends_flow, "publish": publish_flow}
        with pipeline_lock():
            for stage in STAGES:
                start_rss = psutil.Process().memory_info().rss
                with PeakMemory() as mem:
                    t, cpu = time.perf_counter(), time.process_time()
                    results[stage] = steps[stage]()
                    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
                stages[stage] = {"seconds": seconds, "per_s": n / seconds if seconds else float("inf"),
                                 "cpu_s": cpu, "start_rss_gb": start_rss / 1e9, "peak_rss_gb": mem.peak / 1e9,
                                 "tree_peak_rss_gb": mem.tree_peak / 1e9}
    receipts, problems = results["landing"]
    batches = results["ingest"]["batches"]
    if problems or len(receipts) != len(paths) or any(b["status"] != "ingested" for b in batches):
        raise RuntimeError(f"the benchmark's files did not all land and ingest: {len(problems)} landing problem(s), "
                           f"{sum(b['status'] != 'ingested' for b in batches)} batch(es) not ingested")
    total = sum(s["seconds"] for s in stages.values())
    return {**generated, "stages": stages,
            "accepted": sum(b["rows_accepted"] for b in batches),
            "quarantined": sum(b["rows_quarantined"] for b in batches),
            "classified": results["classify"]["classified"], "model_version": results["classify"]["model_version"],
            "end_to_end": {"seconds": total, "per_s": n / total, "cpu_s": sum(s["cpu_s"] for s in stages.values()),
                           "peak_rss_gb": max(s["peak_rss_gb"] for s in stages.values()),
                           "tree_peak_rss_gb": max(s["tree_peak_rss_gb"] for s in stages.values())}}


def print_run(run: dict) -> None:
    print(f"\nN = {run['n']:,}: {run['distinct']:,} distinct texts ({run['distinct'] / run['n']:.1%}), "
          f"{run['files']} files of {run['n'] / run['files']:,.0f} rows on average ({', '.join(run['formats'])}; "
          f"{run['mb']:.1f} MB) from {run['municipalities']} "
          f"municipalities over {run['years']} years, {run['mean_chars']:.0f} characters a comment on average; "
          f"{run['accepted']:,} accepted, {run['quarantined']:,} quarantined, {run['classified']:,} classified")
    print(f"  {'stage':<11} {'seconds':>9} {'comments/s':>11} {'CPU s':>8} {'cores used':>10} {'RSS GB at start':>15} "
          f"{'peak RSS GB':>12} {'with children':>14}")
    for stage, s in [*run["stages"].items(), ("end to end", run["end_to_end"])]:
        start = f"{s['start_rss_gb']:>15.2f}" if "start_rss_gb" in s else f"{'':>15}"
        print(f"  {stage:<11} {s['seconds']:>9.1f} {s['per_s']:>11,.1f} {s['cpu_s']:>8.1f} "
              f"{s['cpu_s'] / max(s['seconds'], 1e-9):>10.2f} {start} {s['peak_rss_gb']:>12.2f} "
              f"{s['tree_peak_rss_gb']:>14.2f}")


def print_ratios(runs: list[dict]) -> dict:
    """Cost per comment of each size relative to the smallest, per stage and end to end (1.00 = linear)."""
    base = runs[0]
    ratios = {}
    if len(runs) < 2:
        return ratios
    print(f"\ncost per comment relative to N = {base['n']:,} (1.00: cost grows linearly; below 1: fixed costs "
          f"spread over more comments)")
    print(f"  {'N':>9} " + " ".join(f"{s:>9}" for s in STAGES) + f" {'end2end':>9}")
    for run in runs[1:]:
        row = {s: (run["stages"][s]["seconds"] / run["n"]) / (base["stages"][s]["seconds"] / base["n"])
               for s in STAGES}
        row["end_to_end"] = (run["end_to_end"]["seconds"] / run["n"]) / (base["end_to_end"]["seconds"] / base["n"])
        ratios[str(run["n"])] = row
        print(f"  {run['n']:>9,} " + " ".join(f"{row[s]:>9.2f}" for s in STAGES) + f" {row['end_to_end']:>9.2f}")
    return ratios


def measure(sizes: list[int], seed: int, warmup: int, backend: str | None, **shape) -> dict:
    """Warm up, then run every size in its own temporary home; print the figures; return them."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # per-batch INFO lines would drown the table
    os.environ.setdefault("TQDM_DISABLE", "1")
    if backend:
        os.environ["SYNPUNKT_BACKEND"] = backend
    from synpunkt.config import backend as configured_backend
    from synpunkt.config import model_dir
    from synpunkt.inference.backends import resolve_backend
    from synpunkt.ingest_encoders import ingest_backend
    from synpunkt.runtime import quiet_defaults, start_prefect

    quiet_defaults()
    device = device_line()
    classifier, ingest = resolve_backend(configured_backend(), model_dir()), ingest_backend()  # what the stages run
    label = classifier if classifier == ingest else f"{classifier} (classifier), {ingest} (ingest's encoders)"
    print(f"backend {label} (SYNPUNKT_BACKEND={configured_backend()}) on {device}")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        os.environ.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect"))  # a private Prefect database
        t0 = time.perf_counter()
        start_prefect()
        prefect_s = time.perf_counter() - t0
        warm = run_pipeline(warmup, seed + 1, Path(tmp) / "warmup")
        print(f"warm-up: Prefect's API in {prefect_s:.1f} s, then {warmup} comments in "
              f"{warm['end_to_end']['seconds']:.1f} s (" + ", ".join(
                  f"{s} {warm['stages'][s]['seconds']:.1f} s" for s in STAGES) + "): models loaded")
        runs = []
        for n in sorted(sizes):
            runs.append(run_pipeline(n, seed, Path(tmp), **shape))
            print_run(runs[-1])
    ratios = print_ratios(runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    largest = runs[-1]
    hours = NATIONAL_YEAR / largest["end_to_end"]["per_s"] / 3600
    tree = max(r["end_to_end"]["tree_peak_rss_gb"] for r in runs)
    print(f"\npeak memory of the whole run: {peak:.2f} GB (this process, getrusage), largest child process "
          f"{children:.2f} GB; sampled peak of the process tree {tree:.2f} GB")
    print(f"a national year ({NATIONAL_YEAR:,} comments) would take {hours:.1f} hours here at the end-to-end rate "
          f"of N = {largest['n']:,} ({largest['end_to_end']['per_s']:,.1f} comments/s; backend {label})")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    cpu_hours = NATIONAL_YEAR * largest["end_to_end"]["cpu_s"] / largest["n"] / cores / 3600
    print(f"  (this process used {largest['end_to_end']['cpu_s']:.0f} CPU s for N = {largest['n']:,}: with all "
          f"{cores} cores to itself, as on a quiet machine, the year would take about {cpu_hours:.1f} hours)")
    return {"backend": label, "device": device, "warmup": warm, "runs": runs, "ratios": ratios,
            "peak_rss_gb": peak, "largest_child_rss_gb": children, "national_year_hours": hours,
            "national_year_hours_all_cores": cpu_hours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[5_000, 50_000], help="sizes (comments), any number")
    parser.add_argument("--backend", nargs="+", default=None,
                        help="SYNPUNKT_BACKEND value(s): torch, onnx, onnx-int8, cuda, auto; default: the setting "
                             "(auto: the model's recorded fastest backend, cuda where a GPU is present)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows-per-file", type=int, default=ROWS_PER_FILE,
                        help="mean rows of a submitted file: the number of municipalities follows from N")
    parser.add_argument("--municipalities", type=int, help="fixed number of municipalities instead")
    parser.add_argument("--warmup", type=int, default=60, help="comments of the warm-up run (not reported)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    backends = args.backend or [None]
    if len(backends) == 1:
        figures = [measure(args.n, args.seed, args.warmup, backends[0], rows_per_file=args.rows_per_file,
                           municipalities=args.municipalities)]
    else:  # one child process per backend: separate memory, models loaded afresh
        figures = []
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-json-") as tmp:
            for k, backend in enumerate(backends):
                out = Path(tmp) / f"{k}.json"
                fixed = ["--municipalities", str(args.municipalities)] if args.municipalities else []
                subprocess.run([sys.executable, __file__, "--n", *map(str, args.n), "--backend", backend,
                                "--seed", str(args.seed), "--warmup", str(args.warmup), "--rows-per-file",
                                str(args.rows_per_file), *fixed, "--json", str(out)], check=True)
                figures.extend(json.loads(out.read_text())["backends"])
                print()
        print("end to end, comments/s:")
        for f in figures:
            print(f"  {f['backend']:<12} " + "  ".join(f"N={r['n']:,}: {r['end_to_end']['per_s']:,.1f}"
                                                        for r in f["runs"]))
    if args.json:
        args.json.write_text(json.dumps({"backends": figures}, indent=1, ensure_ascii=False))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()

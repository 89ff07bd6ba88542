"""Is a candidate classifier no worse than the shipped one on the FULL behavioural suite? Paired per case.

    python scripts/behaviour_gate.py --candidate DIR [--candidate DIR ...] [--shipped DIR] [--alpha 0.05]
    python scripts/behaviour_gate.py --candidate DIR --subset   # the shipped model's guard test, on a candidate

A candidate passes when (a) its failures over all tests are at most the shipped model's and (b) no test is
significantly worse: per test, a one-sided exact sign test on the discordant cases (the candidate fails where the
shipped model passes, against the reverse) gives p >= alpha, uncorrected (strict).

Why not `tests/test_shipped_behaviour.py` as the gate: its thresholds are the shipped model's own counts on 40-case
subsets plus one case, so a model with exactly the shipped model's failure rates passes every test only about
1.4 % of the time (binomial, from the card's full-suite rates; the model's NOTES.md, 2026-12-01). That file stays
the shipped model's regression guard; this script compares candidates. Prints figures and a verdict per candidate.
`--subset` prints instead what that test file would say of each candidate (its subset, limits and backend).
"""

from __future__ import annotations

import argparse

import pandas as pd
from scipy.stats import binomtest

from synpunkt.behaviour import load_suite, run_suite
from synpunkt.classifier import Classifier
from synpunkt.config import PROJECT_ROOT, model_dir


def paired_gate(shipped: pd.DataFrame, candidate: pd.DataFrame, alpha: float = 0.05) -> tuple[pd.DataFrame, bool]:
    """Per-test comparison of two `run_suite` per-case frames over the same suite: (table, passes)."""
    if len(shipped) != len(candidate) or not (shipped["test"].to_numpy() == candidate["test"].to_numpy()).all():
        raise ValueError("both frames must score the same suite in the same order")
    frame = pd.DataFrame({"test": shipped["test"].to_numpy(), "shipped": shipped["failed"].to_numpy(bool),
                          "candidate": candidate["failed"].to_numpy(bool)})
    frame["worse"] = frame["candidate"] & ~frame["shipped"]
    frame["better"] = frame["shipped"] & ~frame["candidate"]
    table = frame.groupby("test", sort=False)[["shipped", "candidate", "worse", "better"]].sum().astype(int)
    table["n"] = frame.groupby("test", sort=False).size()
    table["p_worse"] = [
        binomtest(int(w), int(w + b), 0.5, alternative="greater").pvalue if w + b else 1.0
        for w, b in zip(table["worse"], table["better"])]
    table["significantly_worse"] = table["p_worse"] < alpha
    passes = bool(table["candidate"].sum() <= table["shipped"].sum() and not table["significantly_worse"].any())
    return table, passes


def subset_check(directory) -> bool:
    """tests/test_shipped_behaviour.py's subset and limits applied to a candidate: prints one line per test."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("guard", PROJECT_ROOT / "tests" / "test_shipped_behaviour.py")
    guard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(guard)
    bad = 0
    for test, row in guard.guard_table(directory).iterrows():
        limit = guard.limit(test)
        ok = row["failure_rate"] <= limit + 1e-9
        bad += not ok
        print(f"{test:24s} {int(row['failures']):3d}/{int(row['n']):3d} limit {limit:.3f} {'ok' if ok else 'FAIL'}")
    print(f"{directory}: guard test {'passes' if not bad else f'fails ({bad} tests)'}")
    return not bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidate", action="append", required=True)
    parser.add_argument("--shipped", default=None, help="default: the shipped model")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--subset", action="store_true", help="the shipped model's guard test, on each candidate")
    args = parser.parse_args()
    if args.subset:
        for directory in args.candidate:
            subset_check(directory)
        return
    suite = load_suite()

    def cases(directory) -> pd.DataFrame:
        clf = Classifier.load(directory, backend="torch", precision="fp32")
        return run_suite(lambda texts: clf.predict(texts, progress=False), suite)[1]

    shipped = cases(args.shipped or model_dir())
    for directory in args.candidate:
        table, passes = paired_gate(shipped, cases(directory), args.alpha)
        print(f"\n{directory}: failures {table['candidate'].sum()} against {table['shipped'].sum()} "
              f"over {table['n'].sum()} cases")
        print(table.to_string(float_format=lambda x: f"{x:.3f}"))
        print(f"{directory}: gate {'passes' if passes else 'fails'}")


if __name__ == "__main__":
    main()

"""Who gets flagged: the urgent detector's false-alarm rate on the in-domain comments by how they are written.

data/comments/comments.jsonl labels each comment's register (colloquial, formal, misspelled, dialect, english).
None of them is an urgent comment, so every flag is a false alarm that sends an ordinary citizen's comment to a
person as a threat or a disclosure. An equal-treatment check: a register flagged far more often than the others
means the detector reads the way people write, not what they say. Prints the flag rate per register and split, the
ratio to the formal and colloquial comments' rate, and (with --heads) the same for other heads beside the shipped.

    python benchmarks/bench_urgent_registers.py [--heads DIR ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from synpunkt.config import PROJECT_ROOT
from synpunkt.signals.detect import Detector
from synpunkt.signals.heads import SIGNALS_DIR, SignalHeads

COMMENTS = PROJECT_ROOT / "data" / "comments" / "comments.jsonl"
BASELINE = ("colloquial", "formal")
"""The registers the others are compared with."""


def flag_table(comments: pd.DataFrame, flagged: pd.Series) -> pd.DataFrame:
    """Flags and rate per register and split group (pure): 'worn' (train and validation) and 'test'."""
    df = comments.assign(flagged=flagged.to_numpy(),
                         part=comments["split"].map(lambda s: "test" if s == "test" else "train+validation"))
    table = df.groupby(["register", "part"])["flagged"].agg(n="size", flagged="sum").reset_index()
    table["rate"] = table["flagged"] / table["n"]
    base = df[df["register"].isin(BASELINE)].groupby("part")["flagged"].mean()
    table["ratio"] = table["rate"] / table["part"].map(base).where(lambda r: r > 0)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heads", type=Path, action="append", default=[], help="other heads to compare")
    args = parser.parse_args()
    comments = pd.read_json(COMMENTS, lines=True, dtype={"id": str})
    for directory in [SIGNALS_DIR, *args.heads]:
        heads = SignalHeads.load(directory)
        out = Detector(heads).detect(comments["text"].tolist())
        table = flag_table(comments, out["category"].notna())
        print(f"\n{heads.version} ({directory}): non-urgent comments flagged, by register")
        print(f"{'register':<12} {'part':<17} {'n':>5} {'flagged':>7} {'rate':>7} {'x baseline':>10}")
        for r in table.itertuples():
            ratio = "-" if pd.isna(r.ratio) else f"{r.ratio:.1f}"
            print(f"{r.register:<12} {r.part:<17} {r.n:>5} {int(r.flagged):>7} {r.rate:>7.1%} {ratio:>10}")


if __name__ == "__main__":
    main()

"""Command line of the redaction package: train the name head.

    python -m synpunkt.redact train [--data PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from synpunkt.redaction.name_model import NER_CORPUS


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m synpunkt.redact",
                                     description="Redact personal data from citizen comments: train the name head.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train the name head on the NER corpus and write models/redaction/")
    p.add_argument("--data", type=Path, default=None, help=f"NER parquet (default ../shared/datasets/{NER_CORPUS})")
    p.add_argument("--out", type=Path, default=None, help="output directory (default models/redaction)")
    p.add_argument("--layer", type=int, default=6, help="encoder layer whose features the head reads")
    p.add_argument("--max-negative", type=int, default=1000, help="sentences without persons used for fitting")
    p.add_argument("--augment-cut", type=int, default=1000, help="extra sentences cut to start at a lowercase word")
    p.add_argument("--augment-lower", type=int, default=0,
                   help="extra sentences with persons, lowercased (off: it made the head mark misspelt words)")
    p.add_argument("--target-recall", type=float, default=0.95)
    p.add_argument("--max-fp-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "train":
        from synpunkt.redaction.name_model_training import train

        settings = train(args.data, args.out, layer=args.layer, max_negative=args.max_negative,
                         augment_cut=args.augment_cut, augment_lower=args.augment_lower,
                         target_recall=args.target_recall, max_fp_rate=args.max_fp_rate)
        print(json.dumps({"threshold": settings["threshold"], "heldout": settings["heldout"],
                          "seconds": settings["seconds"]}, indent=2))
    return 0

"""How a case or reference number written into a short positive comment moves the shipped classifier's answer.

Five positive comments, each with ten endings (none, the word alone, the number alone, and reference phrases).
Prints the sentiment and p_positive per ending. Found by an operator red team on 2026-12-02 (model card, "Found
outside the suite"): the model reads "Dnr 2025-123." as a sign of a complaint. Run: python
benchmarks/probe_reference_numbers.py [--model DIR]
"""

from __future__ import annotations

import argparse

from synpunkt.classifier import Classifier

BASES = ["Smidig ansökan på webben.", "Bra bemötande i receptionen.", "Handläggaren var trevlig och hjälpsam.",
         "Snabbt svar på mejlet, tack!", "Det fungerade bra att boka tid."]
ENDINGS = ["", " Ärende 12.", " Ärende.", " 12.", " Dnr 2025-123.", " Ärendenummer: 324585.", " Ref 4471.",
           " (ärende 2025/118)", " Kundnummer 55120.", " Ärende 12 av 0180, tillfälle 324585."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model folder (default: the shipped model)")
    args = parser.parse_args(argv)
    texts = [b + e for b in BASES for e in ENDINGS]
    answers = Classifier.load(args.model).predict(texts)
    flipped = 0
    for j, ending in enumerate(ENDINGS):
        rows = [i * len(ENDINGS) + j for i in range(len(BASES))]
        not_positive = sum(answers.sentiment[i] != "positive" for i in rows)
        flipped += not_positive if ending else 0
        cells = " ".join(f"{answers.sentiment[i][:3]} {answers.p_positive[i]:.2f}" for i in rows)
        print(f"{ending or '(none)':42s} not positive {not_positive} of {len(BASES)}  {cells}")
    print(f"comments no longer positive with an ending: {flipped} of {len(BASES) * (len(ENDINGS) - 1)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

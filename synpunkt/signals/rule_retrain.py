"""Judge candidate rule phrases against the shipped rules on a fresh blind batch of urgent data (issue 9).

Rules only add flags (synpunkt.signals.rules: a phrase flags a comment whatever the head says), so the shipped heads
are scored twice, with the shipped rules ("before") and with the candidate phrases added ("R1"), on the blind batch
and on the in-domain validation comments. The decision rule (``self_harm_phrases``, fixed before validation_blind10
existed) asks for two more of 60 self_harm rows found at the price of at most one more non-urgent row flagged.
Nothing is written; phrases that pass are added to rules.RULES by hand. A file holds one regular expression per line
(``#`` starts a comment line), as data/urgent/candidate_phrases/ keeps those judged.

    python -m synpunkt.signals.rule_retrain --phrases FILE --category self_harm --blind validation_blind10 [--test]
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synpunkt.signals.data import ALERT_CATEGORIES, BLIND_SPLITS
from synpunkt.signals.heads import SIGNALS_DIR, SignalHeads
from synpunkt.signals.urgent_retrain import _check, blind_figures, flagged, urgent_scores

SELF_HARM_GAIN_60 = round(2 / 60, 4)
"""(a) at least two more of 60 self_harm rows found..."""
COMMENTS_SLACK = 0.0025
"""(d) ...and at most this much more of the in-domain validation comments flagged; (b) threat and violence recall
not lower and (c) at most one more non-urgent row flagged, negative ones and all."""


def self_harm_phrases(candidate: dict, before: dict) -> tuple[bool, list[str]]:
    """(passes?, reasons) of the rules with the added phrases against the rules before them (pure)."""
    cb, sb = candidate["blind"], before["blind"]
    checks = [_check("self_harm recall", cb["self_harm"]["recall"], ">=",
                     round(sb["self_harm"]["recall"] + SELF_HARM_GAIN_60, 4)),
              *[_check(f"{c} recall", cb[c]["recall"], ">=", sb[c]["recall"])
                for c in ("threat", "violence_close_relationship")],
              *[_check(f"{kind} non-urgent rows flagged", cb[kind]["flag_rate"], "<=",
                       round(sb[kind]["flag_rate"] + 1 / cb[kind]["n"], 4)) for kind in ("negative", "none")],
              _check("in-domain validation comments flagged", candidate["comments_flag_rate"], "<=",
                     round(before["comments_flag_rate"] + COMMENTS_SLACK, 4))]
    return all(met for met, _ in checks), [reason for _, reason in checks]


def read_phrases(path: Path) -> list[re.Pattern]:
    """The phrases of a candidate file: one regular expression per line, case-insensitive; blank lines and lines
    starting with # are skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [re.compile(line.strip(), re.IGNORECASE) for line in lines if line.strip() and not line.startswith("#")]


def judge_phrases(blind_split: str, category: str, added: list[re.Pattern], shipped_dir: Path = SIGNALS_DIR) -> dict:
    """Figures of the shipped heads with the shipped rules ("before") and with `added` in `category` ("R1") on the
    blind batch and the in-domain validation comments, and the verdict (self_harm_phrases)."""
    from synpunkt.signals.data import repeat_data, urgent_data
    from synpunkt.signals.rules import with_added

    urgent, repeat = urgent_data(), repeat_data()
    frame = urgent[urgent["split"] == blind_split].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"no {blind_split} rows in data/urgent/urgent.jsonl")
    comments = repeat[(repeat["split"] == "validation") & (repeat["source"] == "comments")]
    texts, n = frame["text"].tolist() + comments["text"].tolist(), len(frame)
    heads = SignalHeads.load(shipped_dir)
    threshold, span = heads.thresholds["urgent"], heads.thresholds.get("urgent_span")
    out: dict = {"blind_split": blind_split, "category": category, "added_phrases": len(added)}
    for name, rules in (("before", None), ("R1", with_added(category, added))):
        f = flagged(urgent_scores(heads, texts, rules), threshold, span)
        out[name] = {"blind": blind_figures(frame, f[:n]), "comments_flag_rate": round(float(np.mean(f[n:])), 4)}
    passed, out["reasons"] = self_harm_phrases(out["R1"], out["before"])
    out["verdict"] = "R1" if passed else None
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phrases", type=Path, required=True, help="candidate phrases, one regex per line")
    parser.add_argument("--category", required=True, choices=ALERT_CATEGORIES, help="the category they flag")
    parser.add_argument("--blind", required=True, choices=BLIND_SPLITS, help="the fresh batch that decides")
    parser.add_argument("--shipped-dir", type=Path, default=SIGNALS_DIR)
    parser.add_argument("--test", action="store_true", help="also the test split (only after the decision)")
    args = parser.parse_args(argv)
    from synpunkt.signals.rules import with_added

    added = read_phrases(args.phrases)
    result = judge_phrases(args.blind, args.category, added, args.shipped_dir)
    if args.test:
        result["test"] = {name: _test_figures(args.shipped_dir, rules)
                          for name, rules in (("before", None), ("R1", with_added(args.category, added)))}
    print(json.dumps(result, indent=1))


def _test_figures(shipped_dir: Path, rules: dict | None) -> dict:
    """Recall per category and non-urgent rows flagged on the test split under `rules` (after the decision)."""
    from synpunkt.signals.data import urgent_data

    urgent = urgent_data()
    test = urgent[urgent["split"] == "test"].reset_index(drop=True)
    heads = SignalHeads.load(shipped_dir)
    scores = urgent_scores(heads, test["text"].tolist(), rules)
    return blind_figures(test, flagged(scores, heads.thresholds["urgent"], heads.thresholds.get("urgent_span")))


if __name__ == "__main__":
    main()

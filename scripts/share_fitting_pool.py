"""Should the share correction be fitted on more than the in-domain validation split? A leave-one-source-out
comparison on validation data only (issue 8; the rule and its result are in the model's NOTES.md).

Arms: the correction fitted on the in-domain validation split (V, sources = id prefixes a, b, c, e, f, h) against V
plus the spent blind ordinary comments (W: data/comments_blind/comments.jsonl and the `ordinary` rows of the spent
capability batches, one source per batch; blind_fitting_rows). Each source is held out in
turn: a W source against V vs V + the other W sources; a V source against V without it vs that plus W. The MAE
(percentage points) of each method on samples of 500 drawn from the held-out source at the 38 class mixes
(synpunkt.quantification_eval.method_errors), per head, averaged over the held-out sources of each kind. No test
set is read.

    python scripts/share_fitting_pool.py [--model DIR] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.config import BLIND_CAPABILITIES, BLIND_DATA, model_dir
from synpunkt.data import load_in_domain, validate_labelled
from synpunkt.quantification import METHODS
from synpunkt.quantification_eval import HEADS, method_errors, predict_heldout

SPENT_BLIND_SPLITS = ("validation_blind", "validation_blind_cap", "validation_blind_cap2", "validation_blind_cap3",
                      "validation_blind_cap4", "validation_blind_cap5")
"""The blind splits already used for their decision on 2026-12-01 (data/comments_blind/README.md)."""


def blind_fitting_rows(spent: tuple[str, ...] = SPENT_BLIND_SPLITS) -> pd.DataFrame:
    """The spent blind batches' ordinary comments (ids keep their batch prefix: one source per batch). The
    capability rows (irony, negation, behaviour) are left out: a mix no municipality sends."""
    rows = pd.concat([pd.read_json(p, lines=True) for p in (BLIND_DATA, BLIND_CAPABILITIES)], ignore_index=True)
    rows = rows[(rows["capability"].fillna("ordinary") == "ordinary") & rows["split"].isin(spent)]
    rows = rows[["id", "text", "sentiment", "topics", "topic_sentiment", "split"]].reset_index(drop=True)
    return validate_labelled(rows.assign(source="blind"), where="spent blind batches")


def _take(arr: dict, rows: np.ndarray) -> dict:
    return {k: v[rows] for k, v in arr.items()}


def _join(*parts: dict) -> dict:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def compare(v: dict, w: dict, seed: int = 0) -> dict:
    """Per held-out source: each method's MAE fitted on the base set and on the base set plus the other pool."""
    out = {}
    for kind, held_pool, other_pool in (("W", w, v), ("V", v, w)):
        for s in sorted(set(held_pool["source"].tolist())):
            held = held_pool["source"] == s
            base = other_pool if kind == "W" else _take(v, ~held)
            pooled = _join(base, _take(w, ~held)) if kind == "W" else _join(base, w)
            ev = _take(held_pool, held)
            out[f"{kind}:{s}"] = {
                "rows": int(held.sum()),
                "base": method_errors(base["proba"], base["y"], ev["proba"], ev["y"], seed),
                "pooled": method_errors(pooled["proba"], pooled["y"], ev["proba"], ev["y"], seed)}
    return out


def summary(per_source: dict, method: str = "em") -> dict:
    """Mean MAE over the held-out sources of each kind, per arm."""
    out = {}
    for kind in ("W", "V"):
        names = [n for n in per_source if n.startswith(kind + ":")]
        out[kind] = {arm: round(float(np.mean([per_source[n][arm][method]["mae_pp"] for n in names])), 4)
                     for arm in ("base", "pooled")}
    return out


def main(argv: list[str] | None = None) -> None:
    from synpunkt.classifier import Classifier

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    clf = Classifier.load(args.model or model_dir())
    data = load_in_domain()
    v_frame = data[data.split == "validation"].reset_index(drop=True)
    w_frame = blind_fitting_rows()
    v_all, w_all = predict_heldout(clf, v_frame), predict_heldout(clf, w_frame)
    result = {"model_version": clf.version, "rows": {"V": len(v_frame), "W": len(w_frame)}, "heads": {}}
    for head in HEADS:
        per = compare(v_all[head], w_all[head])
        result["heads"][head] = {"summary": {m: summary(per, m) for m in METHODS},
                                 "per_source": per}
        print(f"{head}: mean MAE (pp) over held-out sources, fitted on base -> base + pool")
        for m in METHODS:
            s = result["heads"][head]["summary"][m]
            print(f"  {m:5s} W sources {s['W']['base']:.3f} -> {s['W']['pooled']:.3f}   "
                  f"V sources {s['V']['base']:.3f} -> {s['V']['pooled']:.3f}")
        for name, d in per.items():
            print(f"    {name:8s} ({d['rows']:4d} rows) em {d['base']['em']['mae_pp']:.3f} -> "
                  f"{d['pooled']['em']['mae_pp']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

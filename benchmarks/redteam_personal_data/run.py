"""Measure Synpunkt's redaction on the red-team cases of cases.py (440 comments and a sweep of 2,448 numbers written
on 2026-12-01 by a tester who designed them from how people write, not from the benchmark's generator; every
personal datum in them is invented). The redaction rules were then fixed for what it found, so it is a development
set now, not an independent one.

    python benchmarks/redteam_personal_data/run.py [--rules-only] [--no-sweep] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from collections import Counter, defaultdict

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cases.py beside this file
from cases import cases, fmt_id, phone  # noqa: E402
import random  # noqa: E402

from synpunkt.redact import Redactor, apply_spans  # noqa: E402

TYPES = {"P": "personnummer", "S": "samordningsnummer", "T": "phone", "E": "email", "N": "name"}
KIND_OK = {"P": {"personnummer", "samordningsnummer"}, "S": {"samordningsnummer", "personnummer"},
           "T": {"telefon"}, "E": {"e-post"}, "N": {"namn"}}


SWEEP_PNR_STYLES = ["10-dash", "10-plus", "10-space", "10-none", "12-dash", "12-none", "12-space", "10-endash",
                    "grouped", "12-dash-spaced"]
SWEEP_PHONE_STYLES = ["mob-dash-space", "mob-none", "mob-spaces", "mob-dash", "mob-dots", "mob-spaced-dash",
                      "mob-3-2-3", "+46-spaces", "+46-none", "+46(0)", "+46-0-dash", "0046-spaces", "0046-none",
                      "0046-dash", "08-3-3-2", "08-none", "08-space", "(08)", "031-2-2-2", "031-none", "040-3-3",
                      "0451-5", "0920-2-2-2", "010-numbers", "020-numbers", "0200-numbers", "slash",
                      "046-intl-no-plus"]
ID_CTX = {"bare": "Detta gäller {X} och inget annat.", "kw": "Personnummer {X}, tack.",
          "kw-P-nr": "P nr {X} gäller ansökan.", "mitt-nr": "Mitt nummer är {X} om ni undrar.",
          "paren": "Min mamma ({X}) bor på Solgården."}
SAMO_CTX = {"bare": "Detta gäller {X} och inget annat.", "kw": "Samordningsnummer {X}, tack.",
            "kw-samnr": "Sam.nr {X} gäller ansökan.", "kw-pnr": "Pnr {X} gäller ansökan."}
PHONE_CTX = {"ring": "Ring mig på {X}.", "bare": "Svar till {X} eller via brev."}


def sweep(red, n=12, seed=3):
    """Many random numbers per format and context: recall per (type, format, check digit, context)."""
    rng = random.Random(seed)
    items = []
    for style in SWEEP_PNR_STYLES:
        for valid in (True, False):
            for ctx, frame in ID_CTX.items():
                for _ in range(n):
                    yr = rng.randint(1915, 1924) if style == "10-plus" else None
                    items.append(("pnr", style, "ok" if valid else "bad", ctx, frame,
                                  fmt_id(rng, style, valid=valid, year=yr)))
    for style in ["10-dash", "12-dash", "10-none", "12-none", "10-space", "12-space"]:
        for valid in (True, False):
            for ctx, frame in SAMO_CTX.items():
                for _ in range(n):
                    items.append(("samo", style, "ok" if valid else "bad", ctx, frame,
                                  fmt_id(rng, style, samo=True, valid=valid)))
    for style in SWEEP_PHONE_STYLES:
        for ctx, frame in PHONE_CTX.items():
            for _ in range(n):
                items.append(("phone", style, "", ctx, frame, phone(rng, style)))
    texts = [it[4].replace("{X}", it[5]) for it in items]
    spans = red.find_spans_many(texts)
    agg = defaultdict(lambda: [0, 0, []])
    tot = defaultdict(lambda: [0, 0])
    for it, text, sp in zip(items, texts, spans):
        a = text.index(it[5]); b = a + len(it[5])
        cov = set()
        for s in sp:
            cov |= set(range(s.start, s.end))
        ok = all(i in cov for i in range(a, b) if text[i].isalnum())
        key = it[:4]
        agg[key][0] += ok; agg[key][1] += 1
        tot[it[0]][0] += ok; tot[it[0]][1] += 1
        if not ok:
            agg[key][2].append(it[5])
    print(f"\n== format sweep ({len(items)} texts, {n} random numbers per cell)")
    for k, (h, m) in tot.items():
        print(f"  {k:6s} {h}/{m} = {h / m:.3f}")
    print("  cells below 100 %:")
    for key, (h, m, ex) in sorted(agg.items()):
        if h < m:
            print(f"    {'/'.join(x for x in key if x):40s} {h:2d}/{m:<2d}  e.g. {ex[0]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules-only", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--no-sweep", action="store_true")
    args = ap.parse_args()
    cs = cases()
    red = Redactor(use_model=not args.rules_only) if args.rules_only else Redactor.default()
    texts = [c["text"] for c in cs]
    t0 = time.time()
    spans = red.find_spans_many(texts)
    t1 = time.time()
    reds = red.redact_many(texts)
    print(f"{len(cs)} cases, find_spans {t1 - t0:.1f}s, redact {time.time() - t1:.1f}s")

    recall = defaultdict(lambda: [0, 0])
    partial = Counter()
    wrong_kind = []
    misses = defaultdict(list)  # (type, tag) -> examples
    fp_tokens = [0, 0]
    fp_by_tag = defaultdict(lambda: [0, 0])
    fp_examples = []
    boundary = []
    inconsistent = []
    for c, sp, r in zip(cs, spans, reds):
        text = c["text"]
        cov = [None] * len(text)
        for s in sp:
            for i in range(s.start, s.end):
                cov[i] = s.kind
        gold_mask = [False] * len(text)
        for (a, b, t, tag, val) in c["ents"]:
            if t in TYPES or t == "X":
                for i in range(a, b):
                    gold_mask[i] = True
        for (a, b, t, tag, val) in c["ents"]:
            if t not in TYPES:
                continue
            alnum = [i for i in range(a, b) if text[i].isalnum()]
            hit = [i for i in alnum if cov[i]]
            recall[t][1] += 1
            key = (t, tag)
            if len(hit) == len(alnum):
                recall[t][0] += 1
                kinds = {cov[i] for i in alnum}
                if not kinds <= KIND_OK[t]:
                    wrong_kind.append((TYPES[t], val, sorted(kinds)))
            else:
                if hit:
                    partial[t] += 1
                misses[key].append((val, text, r.text, "partial" if hit else "none"))
        # non-personal tokens
        k_ranges = [(a, b, tag) for (a, b, t, tag, val) in c["ents"] if t == "K"]
        for m in re.finditer(r"\w+", text):
            if any(gold_mask[i] for i in range(m.start(), m.end())):
                continue
            red_tok = any(cov[i] for i in range(m.start(), m.end()))
            fp_tokens[1] += 1
            fp_tokens[0] += red_tok
            ktag = next((tag for a, b, tag in k_ranges if a <= m.start() < b), None)
            if ktag:
                fp_by_tag[ktag][1] += 1
                fp_by_tag[ktag][0] += red_tok
            if red_tok:
                kinds = {cov[i] for i in range(m.start(), m.end()) if cov[i]}
                fp_examples.append((m.group(), ktag or "other", sorted(kinds), c["group"], text))
        # punctuation / whitespace swallowed by a span outside any gold entity
        for s in sp:
            eaten = [text[i] for i in range(s.start, s.end) if not gold_mask[i] and not text[i].isalnum()]
            if eaten and any(gold_mask[i] for i in range(s.start, s.end)):
                boundary.append((repr("".join(eaten)), text[s.start:s.end], s.kind, text))
        if apply_spans(text, sp).text != r.text:
            inconsistent.append((text, r.text, apply_spans(text, sp).text))

    print("\n== recall per type (all letters/digits of the item redacted)")
    for t in TYPES:
        h, n = recall[t]
        print(f"  {TYPES[t]:18s} {h:4d}/{n:<4d} = {h / n:.3f}   (partial {partial[t]})")
    print(f"\n== non-personal tokens redacted: {fp_tokens[0]}/{fp_tokens[1]} = {fp_tokens[0] / fp_tokens[1]:.2%}")
    print("   hard negatives by tag:")
    for tag, (h, n) in sorted(fp_by_tag.items()):
        print(f"     {tag:12s} {h:3d}/{n:<3d}")
    print("\n== misses by (type, format tag)")
    for (t, tag), ex in sorted(misses.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        total = sum(1 for c in cs for e in c["ents"] if e[2] == t and e[3] == tag)
        v, text, out, how = ex[0]
        print(f"  {TYPES[t]:17s} {tag:40s} {len(ex)}/{total} ({how}) e.g. {v!r}\n      IN : {text}\n      OUT: {out}")
    print("\n== wrong placeholder kind (redacted, but typed otherwise)")
    for x in wrong_kind:
        print("  ", x)
    print("\n== false redactions (non-personal tokens)")
    for tok, tag, kinds, g, text in fp_examples:
        print(f"  {tok!r:22s} [{tag}] -> {kinds} | {text}")
    print("\n== spans eating punctuation/whitespace outside the item")
    for x in boundary:
        print("  ", x)
    print(f"\n== redact() text != apply_spans(find_spans()): {len(inconsistent)}")
    for x in inconsistent[:10]:
        print("  ", x)
    if not args.no_sweep:
        sweep(red)
    if args.json:
        json.dump({"recall": {TYPES[t]: recall[t] for t in TYPES}, "fp": fp_tokens,
                   "misses": {f"{TYPES[t]}|{tag}": [e[0] for e in ex] for (t, tag), ex in misses.items()},
                   "fp_examples": fp_examples}, open(args.json, "w"), ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

"""Personal-data benchmark: recall per type and false redactions on generated comments and metadata cells.

Generates ``--n`` comments (deterministic ``--seed``; benchmarks/personal_data_corpus.py) with personnummer (right
and wrong check digits, with and without keywords), samordningsnummer, phone numbers, e-mail addresses, names
(Swedish and immigrant, lowercase, possessive) and addresses, in free text and in metadata cells, among amounts,
dates, case numbers, times, years, postcodes, percentages, organisations and places. Runs the redactor (rules +
the shipped name model; ``--rules-only`` for rules alone) and prints:

* recall per type: the share of items whose every letter and digit was redacted (any placeholder), and the share
  redacted with the right placeholder;
* the share of non-personal tokens (words and numbers outside the items) that were redacted, and per kind of
  look-alike the share touched by any redaction and by a phone or personnummer placeholder.

Only figures are printed, never text. ``--check`` exits 1 when a target is missed (recall >= 0.99 for
personnummer, samordningsnummer, phone and e-mail, >= 0.95 for names; <= 2 % of non-personal tokens redacted).

    python benchmarks/bench_personal_data.py [--n 2000] [--seed 0] [--rules-only] [--check] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the generator beside this file

from personal_data_corpus import DISTRACTORS, PERSONAL, Sample, generate  # noqa: E402

from synpunkt.redaction import Redactor, Span  # noqa: E402
from synpunkt.redaction.names import is_surname, known_first  # noqa: E402
from synpunkt.redaction.name_lists import AMBIGUOUS_FIRST_NAMES  # noqa: E402

TARGETS = {"personnummer": 0.99, "samordningsnummer": 0.99, "telefon": 0.99, "e-post": 0.99, "namn": 0.95}
"""Minimum recall per type."""
MAX_NON_PERSONAL_REDACTED = 0.02
"""Maximum share of non-personal tokens redacted."""
_NUMBER_KINDS = {"telefon", "personnummer", "samordningsnummer"}
_TOKEN_RE = re.compile(r"\w+")


def _covered(text: str, start: int, end: int, spans: list[Span]) -> bool:
    return all(not text[i].isalnum() or any(s.start <= i < s.end for s in spans) for i in range(start, end))


def _listed(text: str) -> bool:
    """Whether every word of a name is in the redactor's own lists (first names, surnames, -sson)."""
    words = re.findall(r"[\w-]+", text)
    return all(known_first(w.title()) or w.title() in AMBIGUOUS_FIRST_NAMES or is_surname(w.title())
               or is_surname(w.title()[:-1]) or len(w) == 1 for w in words)


def score(samples: list[Sample], spans: list[list[Span]]) -> dict:
    """Recall per type (and per tag), non-personal tokens redacted, look-alikes touched; figures only."""
    found: dict[str, Counter] = defaultdict(Counter)
    by_tag: dict[str, Counter] = defaultdict(Counter)
    touched: dict[str, Counter] = defaultdict(Counter)
    tokens = Counter()
    for sample, sp in zip(samples, spans):
        text = sample.text
        personal = [it for it in sample.items if it.kind in PERSONAL]
        for it in sample.items:
            hits = [s for s in sp if s.start < it.end and it.start < s.end]
            if it.kind in PERSONAL:
                ok = _covered(text, it.start, it.end, sp)
                right = ok and all(s.kind == it.kind for s in hits)
                where = "metadata" if sample.column != "text" else "fritext"
                tags = it.tags + (where,)
                if it.kind == "namn":
                    tags += ("i redigerarens listor" if _listed(text[it.start:it.end]) else "ej i listorna",)
                found[it.kind].update(items=1, covered=ok, right_type=right)
                for tag in tags:
                    by_tag[f"{it.kind} / {tag}"].update(items=1, covered=ok)
            else:
                touched[it.kind].update(items=1, any=bool(hits), number=any(s.kind in _NUMBER_KINDS for s in hits))
        for m in _TOKEN_RE.finditer(text):
            if any(it.start < m.end() and m.start() < it.end for it in personal):
                continue
            tokens.update(total=1, redacted=any(s.start < m.end() and m.start() < s.end for s in sp))
    recall = {k: {"items": c["items"], "recall": c["covered"] / max(c["items"], 1),
                  "right_type": c["right_type"] / max(c["items"], 1)} for k, c in found.items()}
    return {
        "recall": recall,
        "by_tag": {k: {"items": c["items"], "recall": c["covered"] / max(c["items"], 1)} for k, c in by_tag.items()},
        "look_alikes": {k: {"items": c["items"], "redacted": c["any"] / max(c["items"], 1),
                            "as_number": c["number"] / max(c["items"], 1)} for k, c in touched.items()},
        "non_personal_tokens": tokens["total"],
        "non_personal_redacted": tokens["redacted"] / max(tokens["total"], 1),
    }


def missed_targets(result: dict) -> list[str]:
    """The targets a result misses, in words (no text)."""
    missed = [f"{k} recall {result['recall'].get(k, {}).get('recall', 0):.4f} < {t}" for k, t in TARGETS.items()
              if result["recall"].get(k, {}).get("recall", 0) < t]
    if result["non_personal_redacted"] > MAX_NON_PERSONAL_REDACTED:
        missed.append(f"non-personal tokens redacted {result['non_personal_redacted']:.4f} > "
                      f"{MAX_NON_PERSONAL_REDACTED}")
    return missed


def run(redactor: Redactor, n: int, seed: int, batch_size: int = 32) -> dict:
    """Generate, redact (each distinct string once) and score."""
    samples = generate(n, seed)
    unique = sorted({s.text for s in samples})
    t0 = time.perf_counter()
    found = dict(zip(unique, redactor.find_spans_many(unique, batch_size)))
    seconds = time.perf_counter() - t0
    result = score(samples, [found[s.text] for s in samples])
    result.update(comments=n, samples=len(samples), seed=seed, seconds=round(seconds, 1),
                  strings_per_second=round(len(unique) / max(seconds, 1e-9), 1))
    return result


def print_report(result: dict, show_tags: bool) -> None:
    print(f"{result['comments']} comments, {result['samples']} texts and metadata cells, seed {result['seed']}; "
          f"redacted in {result['seconds']} s ({result['strings_per_second']} strings/s)\n")
    print(f"{'type':<20} {'items':>6} {'recall':>8} {'right type':>11} {'target':>7}")
    for kind in PERSONAL:
        r = result["recall"].get(kind)
        if r:
            target = f"{TARGETS[kind]:.2f}" if kind in TARGETS else "-"
            print(f"{kind:<20} {r['items']:>6} {r['recall']:>8.4f} {r['right_type']:>11.4f} {target:>7}")
    print(f"\nnon-personal tokens: {result['non_personal_tokens']}, redacted "
          f"{100 * result['non_personal_redacted']:.2f} % (target <= {100 * MAX_NON_PERSONAL_REDACTED:.0f} %)\n")
    print(f"{'look-alike':<20} {'items':>6} {'redacted %':>11} {'as phone/pnr %':>15}")
    for kind in DISTRACTORS:
        r = result["look_alikes"].get(kind)
        if r:
            print(f"{kind:<20} {r['items']:>6} {100 * r['redacted']:>11.2f} {100 * r['as_number']:>15.2f}")
    if show_tags:
        print(f"\n{'type / tag':<52} {'items':>6} {'recall':>8}")
        for key in sorted(result["by_tag"]):
            r = result["by_tag"][key]
            print(f"{key:<52} {r['items']:>6} {r['recall']:>8.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="comments to generate (each with 0-3 metadata cells)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules-only", action="store_true", help="Redactor(use_model=False): no name model")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tags", action="store_true", help="also print recall per tag (format, origin, ...)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    redactor = Redactor(use_model=False) if args.rules_only else Redactor.default()
    result = run(redactor, args.n, args.seed, args.batch_size)
    result["variant"] = "rules only" if args.rules_only else "rules + name model"
    print_report(result, args.tags)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    missed = missed_targets(result)
    if missed:
        print("\ntargets missed: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())

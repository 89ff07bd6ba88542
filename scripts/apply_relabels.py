"""Apply reviewed topic relabels to the in-domain comments (data/comments/comments.jsonl).

Input: a JSONL file of candidates with fields ``id``, ``field`` (``topic_sentiment``), ``old`` and ``new``.
Each row whose current ``topic_sentiment`` equals ``old`` gets ``topic_sentiment = new`` and ``topics`` =
its keys; rows that changed since the candidate was proposed are skipped and counted (never printed).

    python scripts/apply_relabels.py CANDIDATES.jsonl [--data data/comments/comments.jsonl]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synpunkt.config import IN_DOMAIN_DATA


def apply_relabels(rows: list[dict], candidates: list[dict]) -> tuple[list[dict], dict[str, int]]:
    """Rows with the candidates applied (pure), plus counts of applied, stale and unknown candidates."""
    by_id = {c["id"]: c for c in candidates if c.get("field") == "topic_sentiment"}
    counts = {"applied": 0, "stale": 0, "unknown": len(set(by_id) - {r["id"] for r in rows})}
    out = []
    for row in rows:
        cand = by_id.get(row["id"])
        if cand is not None:
            if row.get("topic_sentiment") == cand["old"]:
                row = {**row, "topic_sentiment": dict(cand["new"]), "topics": list(cand["new"])}
                counts["applied"] += 1
            else:
                counts["stale"] += 1
        out.append(row)
    return out, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", type=Path)
    parser.add_argument("--data", type=Path, default=IN_DOMAIN_DATA)
    args = parser.parse_args()
    read = lambda p: [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows, counts = apply_relabels(read(args.data), read(args.candidates))
    args.data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(counts)


if __name__ == "__main__":
    main()

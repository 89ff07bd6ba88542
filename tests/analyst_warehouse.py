"""A small published warehouse with known counts, for the analysts' SQL and export tests (imported by them).

Four municipalities over two years; each comment is about one area with the same sentiment towards it, so every
count below is a count in yearly_shares. Malmö's wait time improves a lot (significantly), Göteborg is below the
rest of the country on wait time and the handler, Stockholm's and Gotland's comments carry a gender (kön) in their
metadata.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from synpunkt.labels import SENTIMENTS, TOPICS, prob_column

VERSION = "synpunkt-test@analyst"
YEARS = (2024, 2025)
CHANNELS = ("telefon", "e-post", "chatt", "besök")
GENDERS = ("kvinna", "man", "okänt")  # metadata kön, in Stockholm's and Gotland's comments
GENDER_DATA = ("0180", "0980")
_BASE = {"handler": (12, 4, 4), "wait_time": (6, 4, 10), "digital_services": (8, 6, 6),
         "municipal_services": (9, 5, 6), "experience": (10, 5, 5)}
# (municipality, year) -> {topic: (positive, skeptical, negative)}; topics not listed use _BASE
SPEC: dict[tuple[str, int], dict[str, tuple[int, int, int]]] = {
    ("0180", 2024): {},
    ("0180", 2025): {"handler": (14, 3, 3)},
    ("1480", 2024): {"wait_time": (5, 5, 10)},
    ("1480", 2025): {"wait_time": (2, 3, 25), "handler": (3, 4, 13)},
    ("1280", 2024): {"wait_time": (3, 2, 20)},
    ("1280", 2025): {"wait_time": (20, 2, 3)},
    ("0980", 2025): {"wait_time": (3, 1, 2)},  # Gotland: too few to test, only this year
}


def counts(code: str, year: int, topic: str) -> tuple[int, int, int]:
    """(positive, skeptical, negative) of one municipality, year and area as built."""
    return SPEC[(code, year)].get(topic, _BASE[topic])


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comments and predictions tables."""
    comments, predictions = [], []
    for (code, year) in SPEC:
        i = 0
        for topic in TOPICS:
            for sentiment, k in zip(SENTIMENTS, counts(code, year, topic)):
                for _ in range(k):
                    i += 1
                    cid = f"{code}-{year}-{i}"
                    meta = {"kön": GENDERS[i % len(GENDERS)], "ärende": "bygglov"} if code in GENDER_DATA else None
                    comments.append({
                        "comment_id": cid, "batch_id": f"{code}-{year}", "municipality_code": code,
                        "row_number": i, "external_id": str(i), "contact_date": date(year, 1 + i % 12, 1 + i % 28),
                        "year": year, "channel": CHANNELS[i % len(CHANNELS)] if code != "0980" else None,
                        "text": f"Synpunkt {i} om {topic}: {sentiment} ([NAMN] på förvaltningen, Västerås)",
                        "redactions": json.dumps({"NAMN": 1}),
                        "metadata": json.dumps(meta, ensure_ascii=False) if meta else None,
                        "ingested_at": datetime(year + 1, 1, 2)})
                    probs = {s: (0.8 if s == sentiment else 0.1) for s in SENTIMENTS}
                    predictions.append({
                        "comment_id": cid, "model_version": VERSION, "sentiment": sentiment,
                        **{prob_column(s): probs[s] for s in SENTIMENTS}, "topics": [topic],
                        **{prob_column(t): (0.9 if t == topic else 0.05) for t in TOPICS},
                        "topic_sentiment": json.dumps({topic: sentiment}), "classified_at": datetime(year + 1, 1, 3)})
    return pd.DataFrame(comments), pd.DataFrame(predictions)


def build_published(folder: Path) -> Path:
    """Build the warehouse in `folder`, compute trends, publish it, and return the published path."""
    from synpunkt.publish import publish
    from synpunkt.warehouse import connect, insert_frame, refresh_trends, set_current_model

    con = connect(folder / "warehouse.duckdb")
    comments, predictions = frames()
    batches = [{"batch_id": f"{code}-{year}", "municipality_code": code, "origin": "inbox",
                "original_name": f"synpunkter_{year}.csv", "file_format": "csv", "checksum_sha256": "0" * 64,
                "size_bytes": 100, "received_at": datetime(year + 1, 1, 1), "status": "ingested",
                "rows_received": int((comments["batch_id"] == f"{code}-{year}").sum()),
                "rows_accepted": int((comments["batch_id"] == f"{code}-{year}").sum()), "rows_quarantined": 0,
                "error": None, "processed_at": datetime(year + 1, 1, 2)} for (code, year) in SPEC]
    insert_frame(con, "batches", pd.DataFrame(batches))
    insert_frame(con, "comments", comments)
    insert_frame(con, "predictions", predictions)
    set_current_model(con, VERSION)
    refresh_trends(con, VERSION)
    path = publish(con, folder / "published" / "synpunkt.duckdb")
    con.close()
    return path

"""Labelled data: the project's in-domain comments, the public sentiment sets, and any labelled file.

Every loader returns one frame schema (``LABELLED_COLUMNS``): ``text``, ``sentiment`` (a SENTIMENTS value),
``topics`` (list of TOPICS, or None where the source has no topic labels), ``topic_sentiment`` (dict or
None), ``source`` and ``split``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from synpunkt.config import IN_DOMAIN_DATA, SHIPPABLE_PUBLIC_SOURCES, shared_datasets
from synpunkt.labels import SENTIMENT_LABELS_SV, SENTIMENTS, TOPICS

LABELLED_COLUMNS = ["text", "sentiment", "topics", "topic_sentiment", "source", "split"]
IN_DOMAIN_SOURCE = "synpunkt_in_domain"
SENTIMENT_COLUMN_CANDIDATES = ("sentiment", "label", "sentiment_label", "känsla")
TOPIC_COLUMN_CANDIDATES = ("topics", "topic", "områden", "omraden")


def load_in_domain(path: Path = IN_DOMAIN_DATA) -> pd.DataFrame:
    """The project's own labelled municipal comments (data/comments/comments.jsonl)."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    df = pd.DataFrame(rows)
    df["source"] = IN_DOMAIN_SOURCE
    return validate_labelled(df[LABELLED_COLUMNS + [c for c in df.columns if c not in LABELLED_COLUMNS]],
                             where=str(path))


def public_sources(data_dir: Path | None = None) -> dict[str, Path]:
    """Public sentiment files in the shared data folder, by source name."""
    folder = Path(data_dir or shared_datasets()) / "sentiment"
    return {p.stem: p for p in sorted(folder.glob("*.parquet"))}


def load_public(sources: tuple[str, ...] | None = SHIPPABLE_PUBLIC_SOURCES,
                data_dir: Path | None = None) -> pd.DataFrame:
    """Public out-of-domain sentiment data (no topic labels). sources=None loads every file present."""
    available = public_sources(data_dir)
    if not available:
        raise FileNotFoundError(f"no public sentiment data under {Path(data_dir or shared_datasets())}/sentiment")
    wanted = list(available) if sources is None else list(sources)
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise FileNotFoundError(f"public source(s) {unknown} not found; available: {sorted(available)}")
    frames = []
    for name in wanted:
        df = pd.read_parquet(available[name])
        frames.append(pd.DataFrame({"text": df["text"], "sentiment": df["label"], "topics": None,
                                    "topic_sentiment": None, "source": name, "split": df["split"]}))
    return validate_labelled(pd.concat(frames, ignore_index=True), where=str(data_dir or shared_datasets()))


def load_labelled_file(path: Path, text_column: str | None = None) -> pd.DataFrame:
    """Any labelled table (CSV, XLSX, JSON(L), Parquet) with a text and a sentiment column.

    A topics column, if present, may hold lists or strings separated by ';' or ','. A split column is kept.
    """
    from synpunkt.tables import TEXT_COLUMN_CANDIDATES, find_column, read_table

    raw = read_table(path)
    text_col = find_column(raw, text_column, TEXT_COLUMN_CANDIDATES)
    sent_col = find_column(raw, None, SENTIMENT_COLUMN_CANDIDATES)
    lowered = {c.strip().lower(): c for c in raw.columns}
    topic_col = next((lowered[c] for c in TOPIC_COLUMN_CANDIDATES if c in lowered), None)
    df = pd.DataFrame({
        "text": raw[text_col],
        # codes or the Swedish names the review sheet also accepts ("Positiv", "negativ"), any case
        "sentiment": raw[sent_col].astype(str).str.strip().str.lower().replace(SENTIMENT_CODES_BY_SV_NAME),
        "topics": raw[topic_col].map(parse_topics) if topic_col else None,
        "topic_sentiment": raw["topic_sentiment"] if "topic_sentiment" in raw else None,
        "source": raw["source"] if "source" in raw else Path(path).stem,
        "split": raw["split"] if "split" in raw else "all",
    })
    return validate_labelled(df, where=str(path))


SENTIMENT_CODES_BY_SV_NAME = {name: code for code, name in SENTIMENT_LABELS_SV.items()}
"""A labelled file's Swedish sentiment names ("negativ") read as the codes ("negative")."""


def parse_topics(value) -> list[str]:
    """A topics cell as a list: accepts lists/arrays and 'a;b' or 'a, b' strings."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, str):
        parts = value.replace(",", ";").split(";")
        return [p.strip() for p in parts if p.strip()]
    return [str(v) for v in value]


def validate_labelled(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check labels against labels.py; raise ValueError naming the rows (by number, never by text)."""
    bad_sent = ~df["sentiment"].isin(SENTIMENTS)
    if bad_sent.any():
        rows = list(df.index[bad_sent][:5])
        values = sorted(set(df.loc[bad_sent, "sentiment"].astype(str)))[:5]
        raise ValueError(f"{where}: {int(bad_sent.sum())} row(s) with unknown sentiment {values} "
                         f"(rows {rows}...); expected one of {list(SENTIMENTS)}")
    has_topics = df["topics"].map(lambda t: t is not None and not (isinstance(t, float) and pd.isna(t)))
    bad_topics = df.loc[has_topics, "topics"].map(lambda ts: bool(set(ts) - set(TOPICS)))
    if bad_topics.any():
        rows = list(bad_topics.index[bad_topics][:5])
        raise ValueError(f"{where}: row(s) {rows} have unknown topics; expected any of {list(TOPICS)}")
    empty = df["text"].isna() | (df["text"].astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(f"{where}: {int(empty.sum())} row(s) with empty text (rows {list(df.index[empty][:5])})")
    df = df.copy()
    df.loc[~has_topics, "topics"] = None
    return df.reset_index(drop=True)


def training_frame(in_domain_path: Path = IN_DOMAIN_DATA, public: tuple[str, ...] | None = SHIPPABLE_PUBLIC_SOURCES,
                   data_dir: Path | None = None) -> pd.DataFrame:
    """In-domain comments plus the chosen public sources, all splits (filter on ``split``)."""
    frames = [load_in_domain(in_domain_path)]
    if public:
        frames.append(load_public(public, data_dir))
    return pd.concat(frames, ignore_index=True)


def assign_split(comment_id: str, validation: float = 0.15, test: float = 0.15) -> str:
    """Fixed split from a hash of the id (stable across machines and re-orderings)."""
    import hashlib

    u = int(hashlib.sha256(comment_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if u < test else "validation" if u < test + validation else "train"


def merge_parts(parts: list[Path], out: Path = IN_DOMAIN_DATA) -> pd.DataFrame:
    """Combine hand-written JSONL parts into the in-domain file, with the fixed split column."""
    rows = [json.loads(line) for p in parts for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()]
    df = pd.DataFrame(rows).drop_duplicates("text")
    df["split"] = df["id"].map(assign_split)
    validate_labelled(df.assign(source=IN_DOMAIN_SOURCE), where="in-domain parts")
    with open(out, "w", encoding="utf-8") as f:
        for row in df.to_dict("records"):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return df

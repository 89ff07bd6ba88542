"""The review loop: export the comments most worth a human look, import the reviewers' answers as corrections.

``export_review`` writes the least certain comments of a municipality and year plus a random sample of the rest
(``sample_kind`` says which: the random sample estimates accuracy without bias) as XLSX or Swedish-Excel CSV, and a
Label Studio import file beside it. ``import_review`` reads a filled XLSX/CSV or a Label Studio export into the
``corrections`` table: a re-import of the same file changes nothing, a later file for the same comment adds a row
(the latest wins in the views, the history stays). Errors name rows and columns, never cell values.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.decoding import decode_text
from synpunkt.labels import SENTIMENTS, TOPICS
from synpunkt.readers.delimited import detect_separator

COLUMNS = ["comment_id", "sample_kind", "text", "model_sentiment", "model_topics", "corrected_sentiment",
           "corrected_topics", "reviewer"]
SAMPLE_KINDS = ("uncertain", "random")
SUFFIXES = (".xlsx", ".csv")
LABEL_STUDIO_SUFFIX = ".labelstudio.json"
LABEL_STUDIO_CONFIG = f"""<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">{''.join(f'<Choice value="{s}"/>' for s in SENTIMENTS)}</Choices>
  <Choices name="topics" toName="text" choice="multiple">{''.join(f'<Choice value="{t}"/>' for t in TOPICS)}</Choices>
</View>"""
"""Label Studio labelling configuration matching the import file (paste into the project's settings)."""


class ReviewImportError(ValueError):
    """A review file that cannot be imported; the message names rows and columns."""


# -- export -------------------------------------------------------------------------------------------------------
def review_sample(con, municipality_code: str, year: int, n: int, seed: int = 0) -> pd.DataFrame:
    """Half of `n` least certain comments (lowest top probability), the rest a random sample of the others."""
    df = con.execute(
        "SELECT comment_id, text, model_sentiment, topics, greatest(p_positive, p_skeptical, p_negative) AS top "
        "FROM comments_classified WHERE municipality_code = ? AND year = ? AND NOT corrected ORDER BY comment_id",
        [municipality_code, year]).df()
    uncertain = df.sort_values(["top", "comment_id"]).head(n // 2)
    rest = df.drop(uncertain.index)
    rng = np.random.default_rng(seed)
    random = rest.iloc[np.sort(rng.choice(len(rest), min(n - len(uncertain), len(rest)), replace=False))]
    out = pd.concat([uncertain.assign(sample_kind="uncertain"), random.assign(sample_kind="random")])
    out["model_topics"] = out["topics"].map(lambda t: "; ".join(t))
    for c in ("corrected_sentiment", "corrected_topics", "reviewer"):
        out[c] = ""
    return out[COLUMNS].reset_index(drop=True)


def label_studio_tasks(sample: pd.DataFrame) -> list[dict]:
    """Label Studio import tasks: the text and ids as data, the model's answer as a prediction."""
    tasks = []
    for r in sample.itertuples():
        result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                   "value": {"choices": [r.model_sentiment]}}]
        if r.model_topics:
            result.append({"from_name": "topics", "to_name": "text", "type": "choices",
                           "value": {"choices": r.model_topics.split("; ")}})
        tasks.append({"data": {"comment_id": r.comment_id, "sample_kind": r.sample_kind, "text": r.text},
                      "predictions": [{"model_version": "synpunkt", "result": result}]})
    return tasks


def export_review(con, municipality_code: str, year: int, n: int, out: Path, seed: int = 0) -> tuple[Path, int]:
    """Write the review file (XLSX, or CSV with semicolons and a BOM for Swedish Excel) and the Label Studio
    import file beside it; returns (the Label Studio file, rows)."""
    out = Path(out)
    sample = review_sample(con, municipality_code, year, n, seed)
    if sample.empty:
        raise ValueError(f"no classified comments from municipality {municipality_code} in {year}: nothing to "
                         "review (is the year right, and has `synpunkt run` classified its batches?)")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        sample.to_excel(out, index=False, sheet_name="granskning")
    elif out.suffix.lower() == ".csv":
        sample.to_csv(out, sep=";", index=False, encoding="utf-8-sig")
    else:
        raise ValueError(f"{out}: unsupported review file type; use one of {', '.join(SUFFIXES)}")
    ls = out.with_name(out.stem + LABEL_STUDIO_SUFFIX)
    ls.write_text(json.dumps(label_studio_tasks(sample), ensure_ascii=False, indent=1), encoding="utf-8")
    return ls, len(sample)


# -- import -------------------------------------------------------------------------------------------------------
def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    """A filled XLSX/CSV as strings, and the spreadsheet row number of its first data row."""
    if path.suffix.lower() == ".xlsx":
        df = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:  # UTF-8 (with or without BOM) or what Swedish Excel saves: Windows-1252, semicolons, CRLF
        try:
            text, _ = decode_text(path.read_bytes())
        except UnicodeError as err:
            raise ReviewImportError(f"{path.name}: {err}") from None
        if not text.strip():
            raise ReviewImportError(f"{path.name}: the file is empty")
        df = pd.read_csv(io.StringIO(text), sep=detect_separator(text, default=";"), dtype=str,
                         keep_default_na=False)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("comment_id", "sample_kind", "corrected_sentiment", "corrected_topics", "reviewer")
               if c not in df.columns]
    if missing:
        raise ReviewImportError(f"{path.name}: missing column(s) {', '.join(missing)}")
    return df, 2


def _read_label_studio(path: Path) -> pd.DataFrame:
    """A Label Studio JSON export: one row per task with its latest annotation."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ReviewImportError(f"{path.name}: not valid JSON (line {err.lineno})") from None
    if not isinstance(tasks, list):
        raise ReviewImportError(f"{path.name}: expected a Label Studio export (a JSON list of tasks)")
    rows = []
    for task in tasks:
        data = task.get("data", {}) if isinstance(task, dict) else {}
        annotations = [a for a in (task.get("annotations") or []) if not a.get("was_cancelled")] \
            if isinstance(task, dict) else []
        row = {"comment_id": data.get("comment_id", ""), "sample_kind": data.get("sample_kind", ""),
               "corrected_sentiment": "", "corrected_topics": "", "reviewer": ""}
        if annotations:
            last = annotations[-1]
            who = last.get("completed_by")
            row["reviewer"] = str(who.get("email", who.get("id", "")) if isinstance(who, dict) else who or "")
            for item in last.get("result", []):
                choices = item.get("value", {}).get("choices", [])
                if item.get("from_name") == "sentiment":
                    row["corrected_sentiment"] = ";".join(choices)
                elif item.get("from_name") == "topics":
                    row["corrected_topics"] = ";".join(choices) or "-"
        rows.append(row)
    return pd.DataFrame(rows, columns=["comment_id", "sample_kind", "corrected_sentiment", "corrected_topics",
                                       "reviewer"])


def read_review(path: Path) -> tuple[pd.DataFrame, int]:
    """Rows of a filled review file (XLSX, CSV or Label Studio JSON) and the number of its first data row."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _read_label_studio(path), 1
    if path.suffix.lower() in SUFFIXES:
        return _read_table(path)
    raise ReviewImportError(f"{path.name}: unsupported file type; use .xlsx, .csv or a Label Studio .json export")


def parse_rows(df: pd.DataFrame, first_row: int, model: dict[str, tuple[str, list]], where: str) -> pd.DataFrame:
    """Reviewed rows as (comment_id, sentiment, topics, reviewer, sample_kind, source_row); rows nobody filled in
    are skipped; a blank corrected column means the reviewer agrees with the model. Raises ReviewImportError
    listing every malformed row and column."""
    problems, out = [], []
    for i, r in enumerate(df.fillna("").astype(str).to_dict("records")):
        row = first_row + i
        cid, kind = r["comment_id"].strip(), r["sample_kind"].strip().lower()
        sent = r["corrected_sentiment"].strip().lower()
        topics_cell, reviewer = r["corrected_topics"].strip(), r["reviewer"].strip()
        if not (sent or topics_cell or reviewer):
            continue  # not reviewed
        if not reviewer:
            problems.append(f"row {row}, column reviewer: empty (who reviewed the row?)")
        if cid not in model:
            problems.append(f"row {row}, column comment_id: not a comment of the warehouse's current model")
            continue
        if kind not in SAMPLE_KINDS:
            problems.append(f"row {row}, column sample_kind: expected one of {', '.join(SAMPLE_KINDS)}")
        if sent and sent not in SENTIMENTS:
            problems.append(f"row {row}, column corrected_sentiment: expected one of {', '.join(SENTIMENTS)}")
        topics = list(model[cid][1]) if not topics_cell else [] if topics_cell == "-" else \
            [t.strip() for t in topics_cell.replace(",", ";").split(";") if t.strip()]
        if set(topics) - set(TOPICS):
            problems.append(f"row {row}, column corrected_topics: expected any of {', '.join(TOPICS)} "
                            "separated by ';' ('-' for none)")
        out.append({"comment_id": cid, "sentiment": sent or model[cid][0], "topics": topics, "reviewer": reviewer,
                    "sample_kind": kind, "source_row": row, "model_sentiment": model[cid][0]})
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ReviewImportError(f"{where}: {len(problems)} malformed row(s), nothing imported: "
                                + "; ".join(problems[:20]) + more)
    return pd.DataFrame(out, columns=["comment_id", "sentiment", "topics", "reviewer", "sample_kind", "source_row",
                                      "model_sentiment"])


def import_review(con, path: Path) -> dict:
    """Load a filled review file into `corrections`; returns counts (rows read, imported, already there)."""
    from synpunkt.warehouse import insert_frame, now, transaction

    path = Path(path)
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    df, first = read_review(path)
    version = con.execute("SELECT model_version FROM current_model").fetchall()
    version = version[0][0] if version else None
    model = {cid: (s, list(t)) for cid, s, t in con.execute(
        "SELECT comment_id, sentiment, topics FROM predictions WHERE model_version = ?", [version]).fetchall()}
    rows = parse_rows(df, first, model, path.name)
    done = {r[0] for r in con.execute("SELECT comment_id FROM corrections WHERE source_checksum = ?",
                                      [checksum]).fetchall()}
    new = rows[~rows["comment_id"].isin(done)].copy()
    if not new.empty:
        new["imported_at"], new["model_version"], new["source_checksum"] = now(), version, checksum
        with transaction(con):
            insert_frame(con, "corrections", new)
    return {"rows_reviewed": len(rows), "imported": len(new), "already_imported": len(rows) - len(new)}


def corrections_training_rows(warehouse: Path) -> pd.DataFrame:
    """The reviewers' latest corrections as labelled training rows (synpunkt.data schema, split 'train')."""
    import duckdb

    from synpunkt.data import IN_DOMAIN_SOURCE, validate_labelled

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        df = con.execute("SELECT c.text, r.sentiment, r.topics FROM latest_corrections r "
                         "JOIN comments c USING (comment_id) ORDER BY r.comment_id").df()
    finally:
        con.close()
    df["topics"] = df["topics"].map(list)
    df["topic_sentiment"] = [{t: s for t in ts} for ts, s in zip(df["topics"], df["sentiment"])]
    df["source"], df["split"] = IN_DOMAIN_SOURCE + "_corrections", "train"
    return validate_labelled(df, where=f"{warehouse}: corrections")

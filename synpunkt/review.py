"""The review loop: export the comments most worth a human look, import the reviewers' answers as corrections.

``export_review`` writes the least certain comments of a municipality and year plus a random sample of the rest
(``sample_kind`` says which: the random sample estimates accuracy without bias) as XLSX or Swedish-Excel CSV, and a
Label Studio import file beside it. ``import_review`` reads a filled XLSX/CSV or a Label Studio export into the
``corrections`` table: a re-import of the same file (or of a copy saved again with the same answers) changes
nothing, a later answer for the same comment adds a row (the latest wins in the views, the history stays). Labels
are accepted as codes or as their Swedish or English names, in any case. Errors name rows and columns, never cell
values.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.decoding import decode_text
from synpunkt.labels import SENTIMENT_LABELS_SV, SENTIMENTS, TOPIC_LABELS_EN, TOPIC_LABELS_SV, TOPICS
from synpunkt.os_errors import plain_reason
from synpunkt.readers.delimited import detect_separator
from synpunkt.tables import keep_formulas_as_text, neutralise_formula

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


class ReviewExportError(ValueError):
    """A review file that cannot be written; the message is one line naming the file."""


# -- labels as reviewers write them ---------------------------------------------------------------------------------
AREA_RULE = ("An area keeps the model's own sentiment towards it when the model gave the area a sentiment other than "
             "its overall one; the other areas, and areas you add, get the overall sentiment (yours when you "
             "corrected it).")
"""How a correction sets the per-area sentiments (corrected_topic_sentiment in sql/marts.sql does it)."""


def _norm(text: str) -> str:
    """A label as compared: NFC, case-folded, '_' as a space, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).replace("_", " ").casefold().split())


def sentiment_names() -> dict[str, str]:
    """Normalised accepted name -> sentiment code: the codes and the Swedish names (positiv, skeptisk, negativ)."""
    return {_norm(name): s for s in SENTIMENTS for name in (s, SENTIMENT_LABELS_SV[s])}


def topic_names() -> dict[str, str]:
    """Normalised accepted name -> area code: the codes and the Swedish and English names (Väntetid, Wait time)."""
    return {_norm(name): t for t in TOPICS for name in (t, TOPIC_LABELS_SV[t], TOPIC_LABELS_EN[t])}


def read_label(cell: str, names: dict[str, str]) -> str | None:
    """The code a cell names (any case, surrounding spaces ignored), or None."""
    return names.get(_norm(cell))


def did_you_mean(cell: str, names: dict[str, str]) -> str:
    """' (did you mean CODE?)' for the code of the nearest accepted name, '' when none is near. Names only codes,
    never the cell."""
    near = difflib.get_close_matches(_norm(cell), list(names), n=1, cutoff=0.6)
    return f" (did you mean {names[near[0]]}?)" if near else ""


def allowed_text(codes: tuple[str, ...], *names: dict[str, str]) -> str:
    """'positive (positiv), ...': each code with its other names (for messages)."""
    return ", ".join(f"{c} ({' / '.join(n[c] for n in names)})" if names else c for c in codes)


def parse_sentiment(cell: str) -> tuple[str | None, str | None]:
    """(code, None) for a blank or known sentiment (None code: blank = agree), else (None, the problem)."""
    if not cell.strip():
        return None, None
    code = read_label(cell, sentiment_names())
    if code is not None:
        return code, None
    return None, (f"not a sentiment{did_you_mean(cell, sentiment_names())}; expected one of "
                  f"{allowed_text(SENTIMENTS, SENTIMENT_LABELS_SV)}, any case")


def parse_topics(cell: str, model_topics: list[str]) -> tuple[list[str], str | None]:
    """(areas, None): blank = the model's areas, '-' = none, else codes or names separated by ';' or ','; or
    ([], the problem) naming the positions of unknown areas and the nearest code, never the cell."""
    cell = cell.strip()
    if not cell:
        return list(model_topics), None
    if cell == "-":
        return [], None
    parts = [t.strip() for t in cell.replace(",", ";").split(";") if t.strip()]
    names = topic_names()
    codes = [read_label(t, names) for t in parts]
    bad = [f"area {i + 1} of {len(parts)} is not an area{did_you_mean(t, names)}"
           for i, (t, c) in enumerate(zip(parts, codes)) if c is None]
    if bad:
        return [], (f"{', '.join(bad)}; expected any of {', '.join(TOPICS)} (or their Swedish or English names) "
                    "separated by ';' ('-' for none)")
    return list(dict.fromkeys(codes)), None


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


INSTRUCTIONS_SV = {
    "reviewer": "Ditt namn, på varje rad du har granskat.",
    "corrected_sentiment": "Tom = du håller med modellen. Annars positiv, skeptisk eller negativ (eller positive, "
                           "skeptical, negative), stora eller små bokstäver.",
    "corrected_topics": "Tom = områdena stämmer. Annars alla rätta områden åtskilda med ';' (koderna eller namnen "
                        "nedan); '-' = inget område.",
    "area sentiment": "Ett område behåller modellens eget sentiment när modellen gav området ett annat sentiment än "
                      "det övergripande; övriga områden, och områden du lägger till, får det övergripande "
                      "sentimentet (ditt, om du rättade det).",
    "comment_id, sample_kind": "Ändra inte. Rader utan reviewer och utan rättelse hoppas över.",
}
INSTRUCTIONS_EN = {
    "reviewer": "Your name, on every row you reviewed.",
    "corrected_sentiment": "Blank = you agree with the model. Otherwise positive, skeptical or negative (or the "
                           "Swedish names), any case.",
    "corrected_topics": "Blank = the areas are right. Otherwise every right area, separated by ';' (the codes or "
                        "names below); '-' = no area.",
    "area sentiment": AREA_RULE,
    "comment_id, sample_kind": "Do not change. Rows with neither a reviewer nor a correction are skipped.",
}


def instructions_frame() -> pd.DataFrame:
    """The review workbook's instructions sheet: what to write in each column, then every accepted label."""
    rows = [(k, INSTRUCTIONS_SV[k], INSTRUCTIONS_EN[k]) for k in INSTRUCTIONS_EN] + [("", "", "")]
    rows += [(f"sentiment: {s}", SENTIMENT_LABELS_SV[s], s) for s in SENTIMENTS]
    rows += [(f"area: {t}", TOPIC_LABELS_SV[t], TOPIC_LABELS_EN[t]) for t in TOPICS]
    return pd.DataFrame(rows, columns=["kolumn / column", "svenska", "english"])


def _add_validation(sheet, rows: int) -> None:
    """A drop-down of the accepted sentiments (a warning, not a block, for other spellings) and a hint on the
    areas column."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    def cells(column: str) -> str:
        letter = get_column_letter(COLUMNS.index(column) + 1)
        return f"{letter}2:{letter}{rows + 1}"

    names = ",".join([*SENTIMENTS, *(SENTIMENT_LABELS_SV[s] for s in SENTIMENTS)])
    sentiment = DataValidation(type="list", formula1=f'"{names}"', allow_blank=True, errorStyle="warning",
                               showErrorMessage=True, errorTitle="corrected_sentiment",
                               error="positive, skeptical, negative (positiv, skeptisk, negativ) or blank")
    topics = DataValidation(allow_blank=True, showInputMessage=True, promptTitle="corrected_topics",
                            prompt=f"{'; '.join(TOPICS)} (or names: sheet instruktioner). Blank = agree, '-' = none.")
    for validation, column in ((sentiment, "corrected_sentiment"), (topics, "corrected_topics")):
        sheet.add_data_validation(validation)
        validation.add(cells(column))


def write_review_xlsx(sample: pd.DataFrame, out: Path) -> None:
    """The review sheet ('granskning', first), with drop-downs, and an instructions sheet ('instruktioner')."""
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        sample.to_excel(writer, index=False, sheet_name="granskning")
        keep_formulas_as_text(writer.sheets["granskning"])  # a comment "=HYPERLINK(...)" stays text
        instructions_frame().to_excel(writer, index=False, sheet_name="instruktioner")
        _add_validation(writer.sheets["granskning"], len(sample))
        writer.sheets["granskning"].freeze_panes = "A2"
        for column, width in zip("ABC", (26, 70, 60)):
            writer.sheets["instruktioner"].column_dimensions[column].width = width


def export_review(con, municipality_code: str, year: int, n: int, out: Path, seed: int = 0) -> tuple[Path, int]:
    """Write the review file (XLSX with an instructions sheet, or CSV with semicolons and a BOM for Swedish Excel)
    and the Label Studio import file beside it; returns (the Label Studio file, rows). Raises ReviewExportError
    (one line) when the files cannot be written."""
    out = Path(out)
    if out.suffix.lower() not in SUFFIXES:
        raise ReviewExportError(f"{out}: unsupported review file type; use one of {', '.join(SUFFIXES)}")
    sample = review_sample(con, municipality_code, year, n, seed)
    if sample.empty:
        raise ValueError(f"no classified comments from municipality {municipality_code} in {year}: nothing to "
                         "review (is the year right, and has `synpunkt run` classified its batches?)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ReviewExportError(f"{out.parent}: cannot make the folder ({plain_reason(err)})") from None
    ls = out.with_name(out.stem + LABEL_STUDIO_SUFFIX)
    try:
        if out.suffix.lower() == ".xlsx":
            write_review_xlsx(sample, out)
        else:
            sample.map(neutralise_formula).to_csv(out, sep=";", index=False, encoding="utf-8-sig")
        ls.write_text(json.dumps(label_studio_tasks(sample), ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as err:
        raise ReviewExportError(f"{err.filename or out}: cannot write the review file ({plain_reason(err)})") from None
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


def shown_answer(row: dict, current: tuple[str, list]) -> tuple[str, list]:
    """(sentiment, areas) of the model's answer as the review file showed it (its model_sentiment and model_topics
    cells, as export_review wrote them): what a blank corrected cell agrees with. `current` (the warehouse's current
    model's answer) where the row shows none: no model_sentiment label or no model_topics column (a Label Studio
    export, a sheet made by hand), or a cell that does not read as labels. The two differ when the comments were
    classified again between export and import: a new model, or another backend's answers (a "+onnx-int8" version,
    synpunkt.inference.stored_version)."""
    sentiment = read_label(row.get("model_sentiment") or "", sentiment_names())
    cell = row.get("model_topics")
    codes = [None] if cell is None else [read_label(t, topic_names()) for t in cell.split(";") if t.strip()]
    if sentiment is None or None in codes:
        return current[0], list(current[1])
    return sentiment, list(dict.fromkeys(codes))


def parse_rows(df: pd.DataFrame, first_row: int, model: dict[str, tuple[str, list]], where: str) -> pd.DataFrame:
    """Reviewed rows as (comment_id, sentiment, topics, reviewer, sample_kind, source_row, model_sentiment); rows
    nobody filled in are skipped; a blank corrected column means the reviewer agrees with the answer the file
    showed (shown_answer). model_sentiment is the current model's (`model`), whose accuracy the random sample
    measures. Raises ReviewImportError listing every malformed row and column."""
    problems, out = [], []
    for i, r in enumerate(df.fillna("").astype(str).to_dict("records")):
        row = first_row + i
        cid, kind = r["comment_id"].strip(), r["sample_kind"].strip().lower()
        sent_cell, topics_cell = r["corrected_sentiment"], r["corrected_topics"]
        reviewer = r["reviewer"].strip()
        if not (sent_cell.strip() or topics_cell.strip() or reviewer):
            continue  # not reviewed
        if not reviewer:
            problems.append(f"row {row}, column reviewer: empty (who reviewed the row?)")
        if cid not in model:
            problems.append(f"row {row}, column comment_id: not a comment of the warehouse's current model")
            continue
        if kind not in SAMPLE_KINDS:
            problems.append(f"row {row}, column sample_kind: expected one of {', '.join(SAMPLE_KINDS)}")
        sent, problem = parse_sentiment(sent_cell)
        if problem:
            problems.append(f"row {row}, column corrected_sentiment: {problem}")
        shown = shown_answer(r, model[cid])
        topics, problem = parse_topics(topics_cell, shown[1])
        if problem:
            problems.append(f"row {row}, column corrected_topics: {problem}")
        out.append({"comment_id": cid, "sentiment": sent or shown[0], "topics": topics, "reviewer": reviewer,
                    "sample_kind": kind, "source_row": row, "model_sentiment": model[cid][0]})
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ReviewImportError(f"{where}: {len(problems)} malformed row(s), nothing imported: "
                                + "; ".join(problems[:20]) + more)
    return pd.DataFrame(out, columns=["comment_id", "sentiment", "topics", "reviewer", "sample_kind", "source_row",
                                      "model_sentiment"])


@dataclass(frozen=True)
class ImportResult:
    """What an import did: reviewed rows in the file, corrections added, those already there (from this file, or
    the same answer by the same reviewer as the comment's latest correction), and the years of the comments whose
    answer changed (their reports are stale)."""
    rows_reviewed: int
    imported: int
    already_imported: int
    years: tuple[int, ...] = ()

    def counts(self) -> dict:
        return {"rows_reviewed": self.rows_reviewed, "imported": self.imported,
                "already_imported": self.already_imported}


def _answer(sentiment: str, topics, reviewer: str) -> tuple:
    """A correction's content as compared for a re-import (areas in any order)."""
    return sentiment, tuple(sorted(topics)), reviewer


def new_corrections(rows: pd.DataFrame, from_file: set[str], latest: dict[str, tuple]) -> pd.DataFrame:
    """The rows to add: not already imported from this file, and not the comment's latest answer again."""
    keep = [cid not in from_file and latest.get(cid) != _answer(sent, topics, who)
            for cid, sent, topics, who in zip(rows["comment_id"], rows["sentiment"], rows["topics"], rows["reviewer"])]
    return rows[keep].copy()


def import_corrections(con, path: Path) -> ImportResult:
    """Load a filled review file into `corrections` (see import_review); also says which years changed."""
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
    latest = {cid: _answer(s, t, who) for cid, s, t, who in con.execute(
        "SELECT comment_id, sentiment, topics, reviewer FROM latest_corrections").fetchall()}
    new = new_corrections(rows, done, latest)
    years: tuple[int, ...] = ()
    if not new.empty:
        new["imported_at"], new["model_version"], new["source_checksum"] = now(), version, checksum
        with transaction(con):
            insert_frame(con, "corrections", new)
        years = tuple(sorted(int(y) for (y,) in con.execute(
            "SELECT DISTINCT year FROM comments WHERE comment_id IN (SELECT unnest(?))",
            [list(new["comment_id"])]).fetchall()))
    return ImportResult(len(rows), len(new), len(rows) - len(new), years)


def import_review(con, path: Path) -> dict:
    """Load a filled review file into `corrections`; returns counts (rows read, imported, already there). A row
    already imported from this file, or whose answer (sentiment, areas, reviewer) is the comment's latest
    correction already (the same file saved again), is not added again."""
    return import_corrections(con, path).counts()


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

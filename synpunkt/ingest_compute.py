"""A chunk's compute in ingest: redaction and urgent/repeat signals (and, where the signal heads read the default
classifier's encoder, the classifier's predictions from the same pass: synpunkt.ingest_classify), with no warehouse
access.

The ingest flow reads, validates and deduplicates a chunk (synpunkt.ingest) and hands what it found to
``compute_chunk`` as a ``ChunkWork``; the ``ChunkOutput`` it gets back is written by the flow alone (DuckDB stays
single-writer). ``compute_chunk`` is pure over its input (apart from the process's cached models), so a task
runner can run it anywhere: in the flow's process, or in pieces (``split_work``, ``merge_outputs``) on the Dask
workers the operator trusts with raw text (synpunkt.scaleout).

A failure is raised as ``ChunkFailed``: the stage and the row numbers, the error's type and a description that
never quotes its message (which could hold comment text), so it can travel between processes, be retried and be
logged as it is.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

from synpunkt.redaction_cache import RedactionCache

QUARANTINE_COLUMNS = ["batch_id", "row_number", "municipality_code", "reason_code", "reason", "row_redacted",
                      "quarantined_at"]
MIN_PIECE_ROWS = 16
"""A chunk is not cut into pieces smaller than this (each piece is one task: its overhead, its encoder batches)."""
MAX_PIECE_ROWS = 1000
"""Nor into pieces larger than this (a retry repeats one piece; results come back while others still run)."""


@dataclass(frozen=True, eq=False)
class ChunkWork:
    """What a chunk's compute needs: its validated rows with their raw text (`accepted`, file order, the columns
    of synpunkt.validate's accepted frame), their comment ids (`comment_ids`, row for row), the duplicates among
    them (row_number, reason_code, reason), its rejected rows (row_number, reason_code, reason, row) and unreadable
    rows (BadRow), and the time stamped on what it stores. Holds raw text: it only travels to trusted workers."""

    batch_id: str
    municipality_code: str
    first_row: int
    last_row: int
    accepted: pd.DataFrame
    comment_ids: list[str]
    duplicates: pd.DataFrame
    rejected: pd.DataFrame
    bad: list = field(default_factory=list)
    stamp: datetime | None = None

    @property
    def span(self) -> str:
        return f"rows {self.first_row}-{self.last_row}"

    @property
    def row_count(self) -> int:
        return len(self.accepted) + len(self.rejected) + len(self.bad)


class ChunkOutput(NamedTuple):
    """What a chunk writes: comments, quarantine, comment_signals and alerts rows, and the predictions its encoder
    pass gave (comment_id + Classifier.predict(topic_sentiment=True)'s columns: synpunkt.ingest_classify)."""

    comments: pd.DataFrame
    quarantine: pd.DataFrame
    signals: pd.DataFrame
    alerts: pd.DataFrame
    predictions: pd.DataFrame | None = None


class ChunkFailed(Exception):
    """A chunk's compute failed: `stage` (naming its rows), the original error's type name, a description that
    never quotes the error's message, and where in the code it happened (file, line and code only, no values)."""

    def __init__(self, stage: str, error_type: str, detail: str, where: str = ""):
        super().__init__(stage, error_type, detail)
        self.stage, self.error_type, self.detail, self.where = stage, error_type, detail, where

    def __reduce__(self):  # pickled whole (a worker's error reaches the flow)
        return type(self), (self.stage, self.error_type, self.detail, self.where)

    def __str__(self) -> str:
        return self.reason

    @property
    def reason(self) -> str:
        """The batch's failure reason: 'stage: ErrorType: description'."""
        return f"{self.stage}: {self.error_type}: {self.detail}"

    @classmethod
    def of(cls, stage: str, err: BaseException) -> "ChunkFailed":
        if isinstance(err, ChunkFailed):
            return err
        return cls(stage, type(err).__name__, safe_detail(err), "".join(traceback.format_tb(err.__traceback__)))


RAW_COPY_MISSING = "the raw copy is missing from the landing area"
FILE_MISSING = ("a file the pipeline needs is missing (not the raw copy: a model folder? check SYNPUNKT_MODEL and "
                "SYNPUNKT_SIGNALS_MODEL)")


def safe_detail(err: BaseException, raw_path: Path | None = None) -> str:
    """A description of `err` that never quotes its message (messages can hold cell values). A FileNotFoundError
    is the raw copy missing only when `raw_path` (the batch's raw copy) is given and is the file that is missing."""
    if isinstance(err, FileNotFoundError):
        raw_missing = raw_path is not None and (not Path(raw_path).exists() or (
            err.filename is not None and Path(err.filename) == Path(raw_path)))
        return RAW_COPY_MISSING if raw_missing else FILE_MISSING
    if isinstance(err, MemoryError):
        return "out of memory"
    if isinstance(err, duckdb.ConstraintException):
        return "a warehouse constraint was violated (please report this)"
    if isinstance(err, duckdb.Error):
        return "a warehouse error"
    from synpunkt.inference.backends import BackendError

    if isinstance(err, BackendError):  # its messages name backends and settings, never cell values
        return f"the inference backend: {err}"
    return "unexpected error (please report this)"


Progress = Callable[[str, int, int], None]
"""Told (what, done, of) while a chunk is computed: texts read by the encoder pass, then texts redacted."""


def compute_chunk(work: ChunkWork, cache: RedactionCache | None = None, detector=None,
                  model_dir: str | None = None, progress: Progress | None = None) -> ChunkOutput:
    """Redaction (texts, metadata keys and values, quarantined cells) and signals (on the full, unredacted
    texts, in memory) of one chunk, and the predictions of the classifier in `model_dir` (the classify stage's;
    default config.model_dir()) where the pass gives them (synpunkt.ingest_classify). Without `cache`/`detector`:
    a fresh cache over this process's Redactor.default() and its default_detector(). Raises ChunkFailed."""
    stage = "loading the redaction and signal models"
    try:
        if cache is None:
            from synpunkt.redact import Redactor

            cache = RedactionCache(Redactor.default())
        if detector is None:
            from synpunkt.signals.detect import default_detector

            detector = default_detector()
        align_name_model(cache.redactor, detector)
        from synpunkt.ingest_classify import classifier_for

        classifier = classifier_for(detector, model_dir)
        stage = f"reading {work.span} for names, urgent comments and repeat contacts"
        distinct = _signal_texts(work)
        passed = read_once(detector, cache, distinct, progress)
        stage = f"redacting {work.span}"
        comments, quarantine = _prepare(work, cache)
        stage = f"detecting urgent comments and repeat contacts in {work.span}"
        signals, alerts = _signals(detector, work.accepted, comments, distinct,
                                  None if passed is None else passed.detected)
        stage = f"classifying {work.span} from the same encoder pass"
        predictions = _predictions(classifier, detector, work.accepted, comments, distinct, passed)
    except Exception as err:  # noqa: BLE001 - any error, as a ChunkFailed that quotes no text
        failed = ChunkFailed.of(stage, err)
    else:
        return ChunkOutput(comments, quarantine, signals, alerts, predictions)
    raise failed  # outside the except block: the original error (and its message) is not chained to it


def _default_cache() -> RedactionCache:
    """The default redactor with the signal heads' encoder as its name model (one encoder in memory, as
    compute_chunk's)."""
    from synpunkt.redact import Redactor
    from synpunkt.signals.detect import default_detector

    cache = RedactionCache(Redactor.default())
    align_name_model(cache.redactor, default_detector())
    return cache


def redact_file_name(name: str, cache: RedactionCache | None = None) -> str:
    """The submitter's file name with personal data replaced (RedactionCache.file_name); raises ChunkFailed."""
    try:
        redacted = (cache or _default_cache()).file_name(name)
    except Exception as err:  # noqa: BLE001
        failed = ChunkFailed.of("redacting the file name", err)
    else:
        return redacted
    raise failed


def describe_inbox_problems(problems: Sequence) -> list[str]:
    """landing.InboxProblem lines for the log and the run's result, folder and file names redacted with one
    redactor; where redaction fails, the names are withheld."""
    if not problems:
        return []
    try:
        redact = _default_cache().file_name  # one redactor for every line
        return [p.describe(redact) for p in problems]
    except Exception:  # noqa: BLE001 - a failed load or redaction: never log a name not redacted
        return [p.describe(lambda name: "(name withheld)") for p in problems]


# -- pieces ----------------------------------------------------------------------------------------------------
def piece_count(rows: int, parallelism: int) -> int:
    """How many pieces a chunk of `rows` rows is cut into for `parallelism` workers: one per worker, pieces of
    MIN_PIECE_ROWS to MAX_PIECE_ROWS rows (pure)."""
    if rows <= 0:
        return 1
    most = max(1, rows // MIN_PIECE_ROWS)
    least = -(-rows // MAX_PIECE_ROWS)
    return max(1, min(most, max(parallelism, least)))


def split_work(work: ChunkWork, pieces: int) -> list[ChunkWork]:
    """`work` cut into up to `pieces` pieces of consecutive row numbers, about equal in rows (pure)."""
    numbers = sorted([*(int(n) for n in work.accepted["row_number"]), *(int(n) for n in work.rejected["row_number"]),
                      *(b.row_number for b in work.bad)])
    if pieces <= 1 or len(numbers) <= 1:
        return [work]
    pieces = min(pieces, len(numbers))
    accepted_rows = work.accepted["row_number"].astype("int64").to_numpy()
    out = []
    for i in range(pieces):
        group = numbers[i * len(numbers) // pieces:(i + 1) * len(numbers) // pieces]
        if not group:
            continue
        lo, hi = group[0], group[-1]
        mask = (accepted_rows >= lo) & (accepted_rows <= hi)
        out.append(replace(
            work, first_row=lo, last_row=hi,
            accepted=work.accepted[mask].reset_index(drop=True),
            comment_ids=[c for c, m in zip(work.comment_ids, mask) if m],
            duplicates=_rows_between(work.duplicates, lo, hi), rejected=_rows_between(work.rejected, lo, hi),
            bad=[b for b in work.bad if lo <= b.row_number <= hi]))
    return out


def _rows_between(frame: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    numbers = frame["row_number"].astype("int64")
    return frame[(numbers >= lo) & (numbers <= hi)].reset_index(drop=True)


def merge_outputs(outputs: list[ChunkOutput]) -> ChunkOutput:
    """The pieces' outputs as one chunk's, in the pieces' order (pure)."""
    if len(outputs) == 1:
        return outputs[0]
    return ChunkOutput(*(_concat([o[k] for o in outputs]) for k in range(len(ChunkOutput._fields))))


def _concat(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    kept = [f for f in frames if not f.empty] or frames[:1]
    return pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0].reset_index(drop=True)


# -- the compute -----------------------------------------------------------------------------------------------
def _signal_texts(work: ChunkWork) -> list[str]:
    """The distinct full texts of the chunk's stored comments (its rows that are no duplicates), in file order: each
    goes through the encoder once ("Bra service." x 100)."""
    keep = ~work.accepted["row_number"].isin(work.duplicates["row_number"]).to_numpy()
    return list(dict.fromkeys(t for t, k in zip(work.accepted["text"], keep) if k))


def align_name_model(redactor, detector) -> None:
    """Let the name model read the detector's encoder where both compute the name model's layer alike (a
    classifier's encoder below its adapted layers is its base model, bit for bit: synpunkt.classifier_encoder):
    then one encoder serves both, in one pass and one copy in memory. Redactions do not change."""
    from synpunkt.classifier_encoder import shared_layers
    from synpunkt.config import DEFAULT_BASE_MODEL

    model = getattr(redactor, "name_model", None)
    theirs = getattr(getattr(detector, "encoder", None), "base_model", None)
    if model is None or theirs is None:
        return
    mine = model.base_model or DEFAULT_BASE_MODEL
    if mine != theirs and model.layer <= shared_layers(mine, theirs):
        model.base_model = theirs


class PassOutput(NamedTuple):
    """What ingest's one encoder pass gives (read_once): detector.detect(texts), the token means of the detector's
    encoded layers for each whole text (n, layers x hidden, FeatureEncoder.encode_spans' `whole`) and each text's
    token count in the pass (special tokens included)."""

    detected: pd.DataFrame
    whole: np.ndarray
    tokens: list[int | None]


def shared_pass(detector, cache: RedactionCache, texts: list[str]) -> pd.DataFrame | None:
    """read_once(...).detected, or None when the pass was not shared."""
    passed = read_once(detector, cache, texts)
    return None if passed is None else passed.detected


def read_once(detector, cache: RedactionCache, texts: list[str], progress: Progress | None = None) -> PassOutput | None:
    """detector.detect(texts), and the redaction of `texts` (kept in `cache`), from ONE encoder pass: the signal
    pass (the spanned heads' tokens graph) also returns the name model's layer, and the name model reads its words
    there (Redactor.name_logits); words past the pass's tokens, later redaction passes and the other strings are
    encoded by the name model itself. Heads that score the whole text only take the pass's whole-text features (its
    sentence spans go unused). None (nothing done) when the detector re-encodes windows (max_window) or the name
    model reads another base model or backend: then redaction and detection run apart. `progress` hears of each
    encoder batch and redaction sub-batch."""
    from synpunkt.signals.windows import MAX_WINDOW_WORDS

    redactor = cache.redactor
    model = getattr(redactor, "name_model", None)
    encoder = detector.encoder
    if (not texts or model is None or detector.windowed or model.backend != encoder.backend
            or (model.base_model or encoder.base_model) != encoder.base_model
            or not all(isinstance(t, str) for t in texts)):
        return None
    logits: list = [None] * len(texts)
    counts: list[int | None] = [None] * len(texts)

    read = 0

    def name_logits(indices, tokens, states) -> None:  # the pass's tokens: the texts are not tokenised again
        nonlocal read
        for j, (i, text_tokens) in enumerate(zip(indices, tokens)):
            logits[i] = redactor.name_logits(texts[i], text_tokens, states[j, :len(text_tokens.ids)])
            counts[i] = len(text_tokens.ids)
        read += len(indices)
        if progress:
            progress("texts read", read, len(texts))

    whole, spans, rows = encoder.encode_spans(texts, detector.heads.settings.get("max_window_words", MAX_WINDOW_WORDS),
                                              model.layer, name_logits)
    detected = detector.detect_features(whole, texts, *((spans, rows) if detector.spanned else ()))
    for start in range(0, len(texts), cache.sub_batch):
        part = texts[start:start + cache.sub_batch]
        cache.remember(part, redactor.redact_many(part, name_logits=logits[start:start + cache.sub_batch]))
        if progress:
            progress("texts redacted", start + len(part), len(texts))
    return PassOutput(detected, whole, counts)


def _predictions(classifier, detector, accepted: pd.DataFrame, comments: pd.DataFrame, distinct: list[str],
                 passed: PassOutput | None) -> pd.DataFrame | None:
    """The predictions of the chunk's stored comments that the pass gives (IngestClassifier.pass_predictions); None
    without a classifier sharing the pass."""
    if classifier is None or passed is None:
        return None
    raw = dict(zip(accepted["row_number"].astype("int64"), accepted["text"]))
    texts = [raw[int(n)] for n in comments["row_number"]]
    position = {t: i for i, t in enumerate(distinct)}
    rows = [position[t] for t in texts]
    return classifier.pass_predictions(detector, comments["comment_id"].tolist(), texts, comments["text"].tolist(),
                                       passed.whole[rows], [passed.tokens[i] for i in rows])


def _signals(detector, accepted: pd.DataFrame, comments: pd.DataFrame, distinct: list[str],
             detected: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """comment_signals and alerts rows for the chunk's stored comments, detected on their full, unredacted text
    (held in memory only; synpunkt.signals). `distinct`: the stored comments' distinct texts (_signal_texts);
    `detected`: detector.detect(distinct) when the shared pass ran."""
    from synpunkt.signals.store import signal_rows

    raw = dict(zip(accepted["row_number"].astype("int64"), accepted["text"]))
    texts = [raw[int(n)] for n in comments["row_number"]]
    if detected is None:
        detected = detector.detect(distinct)
    position = {t: i for i, t in enumerate(distinct)}
    detected = detected.iloc[[position[t] for t in texts]].reset_index(drop=True)
    return signal_rows(comments, detected, detector.version)


CASE_ID_KINDS = ("e-post", "personnummer", "telefon")
"""What redact_case_id takes out of a case id: an account or address rule would read ordinary case numbers as
personal data."""


def redact_case_id(value: str | None) -> str | None:
    """A case id (external_id) as stored: a personnummer or samordningsnummer, phone number or e-mail address in
    it becomes its placeholder ("19850612-2384" -> "[PERSONNUMMER]"); ordinary case ids ("KS 2023/456",
    "2024-000123") stay as they are (pattern_spans of CASE_ID_KINDS). Duplicates are matched on the raw id before
    this (synpunkt.dedupe)."""
    from synpunkt.redaction.patterns import pattern_spans
    from synpunkt.redaction.spans import apply_spans

    if not isinstance(value, str) or not value:
        return value
    spans = pattern_spans(value, CASE_ID_KINDS)
    return apply_spans(value, spans).text if spans else value


def case_id_columns(rows: Sequence[dict | None]) -> set[str]:
    """The headers among quarantined rows' cells that name the case id column (synpunkt.validate's candidates):
    their cells are redacted as case ids, like `comments.external_id`, so that an operator can find a rejected row's
    case ("1280-2025-00065" is no bank account)."""
    from synpunkt.validate import ID_COLUMN_CANDIDATES, header_key

    wanted = set(ID_COLUMN_CANDIDATES)
    return {str(k) for row in rows if row for k in row if header_key(k) in wanted}


def _prepare(work: ChunkWork, cache: RedactionCache) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chunk's rows for `comments` and `quarantine`, redacted (texts, metadata keys and values, cells, case
    ids: redact_case_id)."""
    from synpunkt.warehouse import now

    accepted, dups, rejected = work.accepted, work.duplicates, work.rejected
    case_ids = [redact_case_id(e) for e in accepted["external_id"]]
    texts = cache.texts(accepted["text"].tolist())
    metadata = cache.mappings(list(accepted["metadata"]))
    is_dup = accepted["row_number"].isin(dups["row_number"]).to_numpy()
    keep = ~is_dup
    stamp = work.stamp or now()
    comments = pd.DataFrame({
        "comment_id": [c for c, k in zip(work.comment_ids, keep) if k], "batch_id": work.batch_id,
        "municipality_code": work.municipality_code,
        "row_number": accepted["row_number"][keep].astype("int64").tolist(),
        "external_id": pd.Series([e for e, k in zip(case_ids, keep) if k], dtype=object),
        "contact_date": [d for d, k in zip(accepted["contact_date"], keep) if k],
        "year": [d.year for d, k in zip(accepted["contact_date"], keep) if k],
        "channel": pd.Series(accepted["channel"][keep].tolist(), dtype=object),
        "text": [t for (t, _), k in zip(texts, keep) if k],
        "redactions": [c for (_, c), k in zip(texts, keep) if k],
        "metadata": [json.dumps(m, ensure_ascii=False) for m, k in zip(metadata, keep) if k],
        "ingested_at": stamp,
    })
    dup_rows = {int(n): json.dumps({"external_id": e, "contact_date": d.isoformat(), "channel": c, "text": t[0],
                                    "metadata": m}, ensure_ascii=False)
                for n, e, d, c, t, m, dup in zip(accepted["row_number"], case_ids,
                                                  accepted["contact_date"], accepted["channel"], texts, metadata,
                                                  is_dup) if dup}
    raw_rows = [*rejected["row"], *(b.cells for b in work.bad)]
    quarantined_rows = cache.rows(raw_rows, {k: redact_case_id for k in case_id_columns(raw_rows)})
    rejected_rows, bad_rows = quarantined_rows[:len(rejected)], quarantined_rows[len(rejected):]
    quarantine = pd.DataFrame({
        "row_number": [*dups["row_number"], *rejected["row_number"], *(b.row_number for b in work.bad)],
        "reason_code": [*dups["reason_code"], *rejected["reason_code"], *(b.reason_code for b in work.bad)],
        "reason": [*dups["reason"], *rejected["reason"], *(b.reason for b in work.bad)],
        "row_redacted": [*(dup_rows[int(n)] for n in dups["row_number"]), *rejected_rows, *bad_rows],
    }).astype({"row_number": "int64", "reason_code": object, "reason": object, "row_redacted": object})
    quarantine = quarantine.assign(batch_id=work.batch_id, municipality_code=work.municipality_code,
                                   quarantined_at=stamp)
    return comments, quarantine[QUARANTINE_COLUMNS]

"""Behavioural test suite in the spirit of CheckList (Ribeiro et al., ACL 2020): perturbations, cases, scoring.

The suite (``data/behaviour/suite.jsonl``, written by ``data/behaviour/build.py``) holds three kinds of case:

- ``MFT`` (minimum functionality): ``text`` must get the sentiment in ``expected``.
- ``INV`` (invariance): ``text`` is a label-preserving perturbation of ``original``; ``expected`` is ``"same"``
  and the case fails when the predicted sentiment of the two differs.
- ``DIR`` (directional): ``text`` is ``original`` with something added; ``expected`` names a probability and a
  direction, ``"p_positive_not_up"`` or ``"p_negative_not_down"``, and the case fails when that probability
  moves the wrong way by more than a tolerance.

A predictor is any callable ``texts -> DataFrame`` with the columns ``sentiment``, ``p_positive``,
``p_skeptical`` and ``p_negative``, one row per text in input order (``Classifier.predict`` is one).
The perturbation functions are pure and deterministic, so training-time augmentation can reuse them.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from synpunkt.config import BEHAVIOUR_SUITE
from synpunkt.labels import SENTIMENTS, prob_column

Predictor = Callable[[list[str]], pd.DataFrame]

TEST_TYPES = ("MFT", "INV", "DIR")
INVARIANT = "same"
DEFAULT_TOLERANCE = 0.05
"""DIR cases fail when the watched probability moves the wrong way by more than this."""

REQUIRED_FIELDS = ("id", "test", "type", "capability", "text", "expected")
PREDICTION_COLUMNS = ("sentiment",) + tuple(prob_column(s) for s in SENTIMENTS)
TABLE_COLUMNS = ["test", "type", "capability", "n", "failures", "failure_rate", "seed_misread"]

_DIRECTION = re.compile(r"^p_(?P<label>[a-z_]+?)_not_(?P<way>up|down)$")
_PLACEHOLDER = re.compile(r"\[[A-ZÅÄÖ-]+\]")

# -- perturbations ---------------------------------------------------------------------------------------


def _outside_placeholders(text: str, fn: Callable[[str], str]) -> str:
    """Apply fn to every stretch of text that is not a redaction placeholder such as [NAMN]."""
    out, last = [], 0
    for m in _PLACEHOLDER.finditer(text):
        out.append(fn(text[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(fn(text[last:]))
    return "".join(out)


def to_upper(text: str) -> str:
    """All capitals (placeholders are already upper case)."""
    return text.upper()


def to_lower(text: str) -> str:
    """All lower case, keeping redaction placeholders as the pipeline writes them."""
    return _outside_placeholders(text, str.lower)


def add_exclamations(text: str, marks: str = "!!!") -> str:
    """Replace the closing full stop or exclamation marks with ``marks`` (append them otherwise)."""
    stripped = text.rstrip()
    return stripped.rstrip(".!") + marks if stripped.endswith((".", "!")) else stripped + marks


def add_emoji(text: str, emoji: str) -> str:
    """Append an emoji after a space."""
    return f"{text.rstrip()} {emoji}"


_ASCII_DIACRITICS = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O"})


def ascii_diacritics(text: str) -> str:
    """å/ä/ö written as a/a/o, the way they come out of a keyboard without Swedish letters."""
    return _outside_placeholders(text, lambda s: s.translate(_ASCII_DIACRITICS))


_PUNCTUATION = re.compile(r"[.,!?;:\"'()…«»“”’]+")


def strip_punctuation(text: str) -> str:
    """Remove sentence punctuation (hyphens, slashes and placeholder brackets stay); collapse spaces."""
    return re.sub(r"\s+", " ", _outside_placeholders(text, lambda s: _PUNCTUATION.sub(" ", s))).strip()


def stable_seed(*parts: str) -> int:
    """A seed from strings that is the same on every machine and run (unlike hash())."""
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12], 16)


def swap_typos(text: str, n: int = 1, seed: int = 0) -> str:
    """Swap two adjacent letters in ``n`` different words of at least four letters (never in placeholders)."""
    rng = random.Random(seed)
    spans = [m.span() for m in re.finditer(r"[^\W\d_]{4,}", text)
             if not _inside_placeholder(text, m.start())]
    chars = list(text)
    for start, end in rng.sample(spans, min(n, len(spans))):
        candidates = [i for i in range(start, end - 1) if chars[i].lower() != chars[i + 1].lower()]
        if candidates:
            i = rng.choice(candidates)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _inside_placeholder(text: str, pos: int) -> bool:
    return any(m.start() <= pos < m.end() for m in _PLACEHOLDER.finditer(text))


def swap_names(text: str, mapping: Mapping[str, str]) -> str:
    """Replace every whole-word name or placeholder in ``mapping`` at once (so swaps can go both ways)."""
    if not mapping:
        return text
    keys = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w\[])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w\]])")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def names_in(text: str, names: Sequence[str]) -> list[str]:
    """Which of ``names`` occur in text as whole words (placeholders included)."""
    return [n for n in names if re.search(r"(?<![\w\[])" + re.escape(n) + r"(?![\w\]])", text)]


# -- the suite -------------------------------------------------------------------------------------------


def parse_direction(expected: str) -> tuple[str, str]:
    """'p_positive_not_up' -> ('positive', 'up'): the sentiment whose probability must not move that way."""
    m = _DIRECTION.match(expected)
    if not m or m.group("label") not in SENTIMENTS:
        raise ValueError(f"DIR expectation {expected!r} is not p_<{'|'.join(SENTIMENTS)}>_not_<up|down>")
    return m.group("label"), m.group("way")


def validate_suite(suite: pd.DataFrame, where: str = "suite") -> pd.DataFrame:
    """Check the cases' fields; raise ValueError naming fields and line numbers (1-based), never texts."""
    missing = [f for f in REQUIRED_FIELDS if f not in suite.columns]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    suite = suite.reset_index(drop=True)
    if "original" not in suite.columns:
        suite["original"] = None

    def lines(mask: pd.Series) -> list[int]:
        return [int(i) + 1 for i in suite.index[mask][:5]]

    for field in REQUIRED_FIELDS:
        bad = suite[field].map(lambda v: not isinstance(v, str) or not v.strip())
        if bad.any():
            raise ValueError(f"{where}: empty or non-text {field!r} on line(s) {lines(bad)}")
    dup = suite["id"].duplicated()
    if dup.any():
        raise ValueError(f"{where}: duplicate id on line(s) {lines(dup)}")
    bad_type = ~suite["type"].isin(TEST_TYPES)
    if bad_type.any():
        raise ValueError(f"{where}: type must be one of {list(TEST_TYPES)} (line(s) {lines(bad_type)})")
    mft = suite["type"] == "MFT"
    bad = mft & ~suite["expected"].isin(SENTIMENTS)
    if bad.any():
        raise ValueError(f"{where}: MFT expected must be one of {list(SENTIMENTS)} (line(s) {lines(bad)})")
    paired = ~mft
    no_original = paired & suite["original"].map(lambda v: not isinstance(v, str) or not v.strip())
    if no_original.any():
        raise ValueError(f"{where}: INV/DIR case without 'original' on line(s) {lines(no_original)}")
    bad = (suite["type"] == "INV") & (suite["expected"] != INVARIANT)
    if bad.any():
        raise ValueError(f"{where}: INV expected must be {INVARIANT!r} (line(s) {lines(bad)})")
    for i in suite.index[suite["type"] == "DIR"]:
        try:
            parse_direction(suite.at[i, "expected"])
        except ValueError as err:
            raise ValueError(f"{where}: line {i + 1}: {err}") from None
    mixed = suite.groupby("test")[["type", "capability"]].nunique().max(axis=1) > 1
    if mixed.any():
        raise ValueError(f"{where}: test(s) {sorted(mixed.index[mixed])} mix several types or capabilities")
    return suite


def load_suite(path: Path | str = BEHAVIOUR_SUITE) -> pd.DataFrame:
    """The suite's cases as a frame (one row per case), validated."""
    rows = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: line {lineno} is not valid JSON ({err.msg})") from None
    if not rows:
        raise ValueError(f"{path}: no cases")
    return validate_suite(pd.DataFrame(rows), where=str(path))


def suite_texts(suite: pd.DataFrame) -> list[str]:
    """Every distinct text the suite needs predictions for (cases and their originals), in first-seen order."""
    originals = suite["original"].dropna().tolist() if "original" in suite else []
    return list(dict.fromkeys(suite["text"].tolist() + originals))


def check_predictions(predictions: pd.DataFrame, n: int) -> None:
    """A predictor's output must have one row per text and the sentiment columns."""
    missing = [c for c in PREDICTION_COLUMNS if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictor output lacks column(s) {missing}; expected {list(PREDICTION_COLUMNS)}")
    if len(predictions) != n:
        raise ValueError(f"predictor returned {len(predictions)} rows for {n} texts")


def score_cases(suite: pd.DataFrame, predictions: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE) -> pd.DataFrame:
    """One row per case with what was predicted and whether the case failed.

    predictions: indexed by text (every text in ``suite_texts(suite)``), with PREDICTION_COLUMNS.
    Adds ``predicted``, ``predicted_original`` (INV/DIR), ``delta`` (DIR: change of the watched probability)
    and ``failed``.
    """
    if not predictions.index.is_unique:
        raise ValueError("predictions must be indexed by distinct texts")
    missing = [t for t in suite_texts(suite) if t not in predictions.index]
    if missing:
        raise ValueError(f"no prediction for {len(missing)} of the suite's texts")
    out = suite.copy()
    out["predicted"] = predictions.loc[out["text"], "sentiment"].to_numpy()
    paired = out["type"] != "MFT"
    out["predicted_original"] = None
    out.loc[paired, "predicted_original"] = predictions.loc[out.loc[paired, "original"], "sentiment"].to_numpy()
    out["delta"] = float("nan")
    failed = pd.Series(False, index=out.index)
    mft = out["type"] == "MFT"
    failed[mft] = out.loc[mft, "predicted"] != out.loc[mft, "expected"]
    inv = out["type"] == "INV"
    failed[inv] = out.loc[inv, "predicted"] != out.loc[inv, "predicted_original"]
    for i in out.index[out["type"] == "DIR"]:
        label, way = parse_direction(out.at[i, "expected"])
        column = prob_column(label)
        delta = float(predictions.at[out.at[i, "text"], column] - predictions.at[out.at[i, "original"], column])
        out.at[i, "delta"] = delta
        failed[i] = delta > tolerance if way == "up" else delta < -tolerance
    out["failed"] = failed.astype(bool)
    return out


def failure_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Failure rate per test: MFT error rate, INV share whose sentiment changes, DIR share moving the wrong way;
    ``seed_misread``: of an INV/DIR test's failures, how many start from a seed whose own prediction is not its
    label (a perturbation that agrees with the label can only "fail" by correcting such a seed; 0 for MFT)."""
    misread = pd.Series(False, index=scored.index)
    if "original_sentiment" in scored:
        known = (scored["type"] != "MFT") & scored["original_sentiment"].notna()
        misread = known & (scored["predicted_original"] != scored["original_sentiment"])
    scored = scored.assign(seed_misread=scored["failed"] & misread)
    grouped = scored.groupby(["test", "type", "capability"], sort=False)
    table = grouped.agg(n=("failed", "size"), failures=("failed", "sum"),
                        seed_misread=("seed_misread", "sum")).reset_index()
    table[["failures", "seed_misread"]] = table[["failures", "seed_misread"]].astype(int)
    table["failure_rate"] = table["failures"] / table["n"]
    order = {t: i for i, t in enumerate(TEST_TYPES)}
    table = table.sort_values(["type", "test"], key=lambda c: c.map(order) if c.name == "type" else c)
    return table[TABLE_COLUMNS].reset_index(drop=True)


def predict_texts(predict: Predictor, texts: Sequence[str], batch_size: int = 256) -> pd.DataFrame:
    """Run a predictor over texts in batches; the result is indexed by text."""
    texts = list(texts)
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        out = predict(batch)
        check_predictions(out, len(batch))
        parts.append(out[list(PREDICTION_COLUMNS)].reset_index(drop=True))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(PREDICTION_COLUMNS))
    frame.index = pd.Index(texts, name="text")
    return frame


def run_suite(predict: Predictor, suite: pd.DataFrame | None = None, tolerance: float = DEFAULT_TOLERANCE,
              batch_size: int = 256) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score a predictor on the suite (default: the shipped suite): (failure table, per-case results)."""
    suite = load_suite() if suite is None else validate_suite(suite)
    scored = score_cases(suite, predict_texts(predict, suite_texts(suite), batch_size), tolerance)
    return failure_table(scored), scored


def markdown_table(table: pd.DataFrame) -> str:
    """The failure table as Markdown (for the model card)."""
    lines = ["| test | type | capability | cases | failures | failure rate | of the failures, seed misread |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in table.itertuples(index=False):
        seed = getattr(r, "seed_misread", None)
        seed = "-" if r.type == "MFT" or seed is None or pd.isna(seed) else int(seed)
        lines.append(f"| {r.test} | {r.type} | {r.capability} | {r.n} | {r.failures} | {r.failure_rate:.1%} | {seed} |")
    return "\n".join(lines)

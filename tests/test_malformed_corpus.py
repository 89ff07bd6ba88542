"""Issue 12's acceptance suite: every file of the generated malformed corpus (tests/malformed_corpus.py) is landed
with ``land_bytes`` and ingested with ``ingest_batch`` into a fresh warehouse, and the outcome is compared with the
manifest. Targets: 0 crashes, 0 valid rows lost silently, 0 stored texts altered, 0 dates stored wrong, every
rejected row or batch with a specific reason, no planted personal data outside redacted text.

All problems are collected first; each test then reports every case that misses its target at once, and
``test_corpus_meets_every_target`` prints the whole summary table (``pytest -s`` shows it on success too).
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from malformed_corpus import ANY, build_corpus

GENERIC_CODES = {"error", "errors", "invalid", "invalid_row", "bad_row", "bad", "unknown", "other", "failed",
                 "failure", "exception", "internal_error", "rejected", "row_error", "parse_error", "problem"}
"""Reason codes that say nothing about what is wrong."""

TARGETS = {  # target -> problem categories that miss it
    "crashes": ("crash",),
    "outcome as expected (ingested / failed / refused / one batch)": ("outcome",),
    "valid rows lost silently": ("lost", "wrongly quarantined", "unexpected stored", "accounting"),
    "stored texts altered": ("text altered",),
    "dates stored wrong": ("date wrong",),
    "rejections as expected": ("quarantine", "failure reason"),
    "row numbers": ("row numbers",),
    "specific reasons": ("unspecific reason",),
    "personal data / cell values outside redacted text": ("personal data",),
}


@dataclass
class Observed:
    """What happened to one corpus file."""

    receipt: object | None = None
    landing_error: str | None = None
    crash: str | None = None
    seconds: float = 0.0
    batch: dict | None = None
    comments: list[dict] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)


@dataclass
class Run:
    manifest: dict
    observed: dict[str, Observed]
    problems: list[tuple[str, str, str]]  # (file, category, detail)
    seconds: float

    def by_category(self, *categories: str) -> list[str]:
        return [f"{file}: [{cat}] {detail}" for file, cat, detail in self.problems if cat in categories]


# -- running the corpus through the real path ------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> Run:
    from synpunkt.ingest import ingest_batch, pending_batches
    from synpunkt.landing import land_bytes
    from synpunkt.redact import Redactor
    from synpunkt.warehouse import connect

    started = time.perf_counter()
    root = tmp_path_factory.mktemp("malformed-corpus")
    manifest = build_corpus(root / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNPUNKT_HOME", str(root / "home"))
        for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_SOURCES"):
            mp.delenv(var, raising=False)
        mp.setenv("SYNPUNKT_MAX_ROWS_PER_BATCH", str(manifest["max_rows_per_batch"]))
        observed = {case["file"]: Observed() for case in manifest["cases"]}
        for case in manifest["cases"]:
            obs = observed[case["file"]]
            data = (root / "corpus" / case["file"]).read_bytes()
            try:
                obs.receipt = land_bytes(data, case["code"], case["name"], origin="cli")
            except Exception as err:  # noqa: BLE001 - any exception is an outcome to report
                obs.landing_error = f"{type(err).__name__}: {err}"

        con = connect(root / "home" / "warehouse" / "synpunkt.duckdb")
        redactor = Redactor(use_model=False)  # rules only: fast and deterministic (as tests/test_redact.py)
        pending = {r.batch_id for r in pending_batches(con)}
        for case in manifest["cases"]:  # manifest order: re-sent rows come after the rows they re-send
            obs = observed[case["file"]]
            if obs.receipt is None or obs.receipt.duplicate or obs.receipt.batch_id not in pending:
                continue
            t0 = time.perf_counter()
            try:
                ingest_batch(con, obs.receipt, redactor)
            except Exception as err:  # noqa: BLE001
                obs.crash = f"{type(err).__name__}: {str(err)[:300]}"
                try:
                    con.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - no transaction open
                    pass
            obs.seconds = time.perf_counter() - t0
        left = [r.batch_id for r in pending_batches(con)]
        _collect(con, manifest, observed)
        problems = _check(con, manifest, observed, left)
        con.close()
    run = Run(manifest, observed, problems, time.perf_counter() - started)
    print(summary(run))
    return run


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _collect(con, manifest: dict, observed: dict[str, Observed]) -> None:
    for case in manifest["cases"]:
        obs = observed[case["file"]]
        if obs.receipt is None:
            continue
        bid = obs.receipt.batch_id
        found = _rows(con, "SELECT * FROM batches WHERE batch_id = ?", [bid])
        obs.batch = found[0] if found else None
        obs.comments = _rows(con, "SELECT row_number, text, CAST(contact_date AS VARCHAR) AS contact_date, metadata "
                                  "FROM comments WHERE batch_id = ? ORDER BY row_number", [bid])
        obs.quarantine = _rows(con, "SELECT row_number, reason_code, reason, CAST(row_redacted AS VARCHAR) AS "
                                    "row_redacted FROM quarantine WHERE batch_id = ? ORDER BY row_number", [bid])


# -- checks ------------------------------------------------------------------------------------------------------


def code_matches(pattern: str, code: str) -> bool:
    return is_specific(code) if pattern == ANY else re.fullmatch(pattern, code or "") is not None


def is_specific(code: str | None) -> bool:
    return bool(code) and re.fullmatch(r"[a-z][a-z0-9_]{2,}", code) is not None and code not in GENERIC_CODES


def show(text: str, limit: int = 70) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def text_diff(expected: str, got: str) -> str:
    """Where two texts first differ, shown briefly (corpus texts are synthetic)."""
    i = next((k for k, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    lo = max(0, i - 20)
    return (f"expected {show(expected[lo:i + 30])} got {show(got[lo:i + 30])} "
            f"(at char {i}; lengths {len(expected)} / {len(got)})")


def check_ingested(alt: dict, obs: Observed) -> list[tuple[str, str]]:
    batch = obs.batch
    if batch["status"] != "ingested":
        return [("outcome", f"expected ingested, got {batch['status']} ({batch.get('error')})")]
    problems: list[tuple[str, str]] = []
    by_rows = alt["row_numbers"]
    expected = [(r, t, d) for r, t, d in alt["stored"]]
    expected_q = [(r, c) for r, c in alt["quarantined"]]
    actual = list(obs.comments)
    actual_q = list(obs.quarantine)

    # quarantine: by row number, falling back to the codes alone (then only the numbering differs)
    def match_quarantine(use_rows: bool) -> tuple[list, list, list]:
        left, missing, wrong = list(actual_q), [], []
        for r, pattern in expected_q:
            hit = next((q for q in left if q["row_number"] == r), None) if use_rows else \
                next((q for q in left if code_matches(pattern, q["reason_code"])), None)
            if hit is None:
                missing.append((r, pattern))
                continue
            left.remove(hit)
            if not code_matches(pattern, hit["reason_code"]):
                wrong.append((r, pattern, hit["reason_code"]))
        return left, missing, wrong

    extra_q, missing_q, wrong_q = match_quarantine(by_rows)
    if by_rows and (missing_q or wrong_q):
        e2, m2, w2 = match_quarantine(False)
        if not m2 and not w2:
            problems.append(("row numbers", f"quarantined rows {[q['row_number'] for q in actual_q]}, expected "
                                            f"{[r for r, _ in expected_q]}"))
            extra_q, missing_q, wrong_q = e2, [], []
    for r, pattern, code in wrong_q:
        problems.append(("quarantine", f"row {r} quarantined as {code!r}, expected {pattern!r}"))

    # stored rows: by exact text first, then by row number or similarity (an altered text)
    left = list(actual)
    pairs, lost = [], []
    for e in expected:
        hit = next((a for a in left if a["text"] == e[1] and a["row_number"] == e[0]), None) or \
            next((a for a in left if a["text"] == e[1]), None)
        if hit:
            left.remove(hit)
            pairs.append((e, hit))
        else:
            lost.append(e)
    for e in list(lost):
        hit = next((a for a in left if a["row_number"] == e[0]), None) if by_rows else None
        if hit is None and left:
            best = max(left, key=lambda a: difflib.SequenceMatcher(None, e[1], a["text"]).ratio())
            hit = best if difflib.SequenceMatcher(None, e[1], best["text"]).ratio() >= 0.6 else None
        if hit is not None:
            left.remove(hit)
            lost.remove(e)
            pairs.append((e, hit))
            problems.append(("text altered", f"row {e[0]}: {text_diff(e[1], hit['text'])}"))
    for e in lost:
        q = next((q for q in extra_q if q["row_number"] == e[0]), None) or (extra_q[0] if extra_q and not by_rows
                                                                           else None)
        if q is not None:
            extra_q.remove(q)
            problems.append(("wrongly quarantined", f"row {e[0]} ({show(e[1], 40)}) quarantined as "
                                                    f"{q['reason_code']!r}: {q['reason']}"))
        else:
            problems.append(("lost", f"row {e[0]} ({show(e[1], 40)}, {e[2]}) neither stored nor quarantined"))
    for a in left:
        problems.append(("unexpected stored", f"row {a['row_number']} stored but not expected: {show(a['text'])}"))
    for q in extra_q:
        problems.append(("quarantine", f"row {q['row_number']} quarantined as {q['reason_code']!r} unexpectedly "
                                       f"({q['reason']})"))
    stored_rows = {a["row_number"] for a in actual}
    for r, pattern in missing_q:
        where = "stored instead" if by_rows and r in stored_rows else "missing"
        problems.append(("quarantine", f"row {r} should be quarantined ({pattern}), {where}"))
    for e, a in pairs:
        if a["contact_date"] != e[2]:
            problems.append(("date wrong", f"row {e[0]}: stored {a['contact_date']}, expected {e[2]}"))
    moved = [(e[0], a["row_number"]) for e, a in pairs if e[0] != a["row_number"]]
    if by_rows and moved:
        more = " …" if len(moved) > 6 else ""
        problems.append(("row numbers", f"expected -> stored row numbers {moved[:6]}{more}"))

    received, accepted, quarantined = batch["rows_received"], batch["rows_accepted"], batch["rows_quarantined"]
    if received != accepted + quarantined:
        problems.append(("accounting", f"rows_received {received} != accepted {accepted} + quarantined {quarantined}"))
    if accepted != len(actual) or quarantined != len(actual_q):
        problems.append(("accounting", f"counts {accepted}/{quarantined} but {len(actual)} comments and "
                                       f"{len(actual_q)} quarantine rows stored"))
    if received < len(expected) + len(expected_q):
        problems.append(("accounting", f"rows_received {received}, the file has {len(expected) + len(expected_q)} "
                                       f"rows"))
    return problems


def check_alternative(alt: dict, obs: Observed, receipts: dict[str, object]) -> list[tuple[str, str]]:
    status = alt["status"]
    if status == "refused":
        if obs.landing_error is None:
            return [("outcome", "expected the landing to refuse the file, it was landed")]
        if not re.search(alt["error"], obs.landing_error, re.I):
            return [("failure reason", f"refused with {obs.landing_error!r}, expected /{alt['error']}/")]
        return []
    if obs.landing_error is not None:
        return [("crash", f"landing raised {obs.landing_error}")]
    if status == "duplicate_of":
        first = receipts.get(alt["file"])
        if not obs.receipt.duplicate or first is None or obs.receipt.batch_id != first.batch_id:
            return [("outcome", f"expected the same batch as {alt['file']}, got a new batch {obs.receipt.batch_id}")]
        return []
    if obs.crash:
        return [("crash", f"ingest_batch raised {obs.crash}")]
    if obs.batch is None:
        return [("crash", "the batch was never recorded in `batches`")]
    if obs.batch["status"] not in ("ingested", "failed"):
        return [("crash", f"batch status {obs.batch['status']!r}, expected ingested or failed")]
    if status == "failed":
        if obs.batch["status"] != "failed":
            return [("outcome", f"expected failed (/{alt['error']}/), got ingested with "
                                f"{obs.batch['rows_accepted']} stored, {obs.batch['rows_quarantined']} quarantined")]
        problems = []
        if not re.search(alt["error"], obs.batch["error"] or "", re.I):
            problems.append(("failure reason", f"reason {obs.batch['error']!r} does not match /{alt['error']}/"))
        if obs.comments:
            problems.append(("outcome", f"failed batch has {len(obs.comments)} stored comments"))
        return problems
    return check_ingested(alt, obs)


def _check(con, manifest: dict, observed: dict[str, Observed], left_pending: list[str]) -> list[tuple[str, str, str]]:
    problems: list[tuple[str, str, str]] = []
    receipts = {f: o.receipt for f, o in observed.items()}
    file_of = {o.receipt.batch_id: f for f, o in observed.items() if o.receipt and not o.receipt.duplicate}
    for case in manifest["cases"]:
        obs = observed[case["file"]]
        tries = [check_alternative(alt, obs, receipts) for alt in case["expect"]]
        if all(tries):
            best = min(tries, key=len)
            problems += [(case["file"], cat, detail) for cat, detail in best]
        texts = [obs.batch.get("error") or ""] if obs.batch else []
        texts += [q["reason"] or "" for q in obs.quarantine]
        for value in case["forbidden"]:
            if any(value in t for t in texts):
                problems.append((case["file"], "personal data", f"a cell value of the file appears in an error or "
                                                                f"reason: {value!r}"))
    crashed = {f for f, o in observed.items() if o.crash}
    for bid in left_pending:
        if file_of.get(bid) not in crashed:
            problems.append((file_of.get(bid, bid), "crash", "still pending after the run (never recorded)"))

    # every rejection says specifically why
    for q in _rows(con, "SELECT batch_id, row_number, reason_code, reason, row_redacted IS NULL AS no_content "
                        "FROM quarantine"):
        where = file_of.get(q["batch_id"], q["batch_id"])
        if not is_specific(q["reason_code"]):
            problems.append((where, "unspecific reason", f"row {q['row_number']}: reason code {q['reason_code']!r}"))
        if len((q["reason"] or "").strip()) < 10:
            problems.append((where, "unspecific reason", f"row {q['row_number']}: reason {q['reason']!r}"))
        if (q["reason_code"] or "").startswith("duplicate") and not re.search(r"\brows? \d+", q["reason"] or ""):
            problems.append((where, "unspecific reason", f"row {q['row_number']}: a duplicate whose reason does not "
                                                         f"name the row it duplicates ({q['reason']!r})"))
        if q["no_content"]:
            problems.append((where, "quarantine", f"row {q['row_number']} ({q['reason_code']}) keeps no content "
                                                  f"(row_redacted is NULL): it is lost once the raw copy is purged"))
    for b in _rows(con, "SELECT batch_id, error FROM batches WHERE status = 'failed'"):
        error = (b["error"] or "").strip()
        if len(error) < 10 or "Traceback" in error:
            problems.append((file_of.get(b["batch_id"], b["batch_id"]), "unspecific reason",
                             f"failed with {b['error']!r}"))

    # planted personal data only ever in the raw copy
    columns = {"batches": ("original_name", "error"), "quarantine": ("reason", "row_redacted"),
               "comments": ("text", "metadata", "external_id", "channel")}
    for table, cols in columns.items():
        for col in cols:
            for sentinel in manifest["sentinels"]:
                for (bid,) in con.execute(f"SELECT DISTINCT batch_id FROM {table} WHERE CAST({col} AS VARCHAR) "
                                          f"LIKE ?", [f"%{sentinel}%"]).fetchall():
                    problems.append((file_of.get(bid, bid), "personal data", f"{sentinel!r} in {table}.{col}"))
    return problems


# -- the report ----------------------------------------------------------------------------------------------------


def outcome_of(obs: Observed) -> str:
    if obs.landing_error:
        return "refused"
    if obs.receipt is not None and obs.receipt.duplicate:
        return "same batch"
    if obs.crash:
        return "CRASH"
    if obs.batch is None:
        return "not recorded"
    b = obs.batch
    if b["status"] == "failed":
        return "failed"
    return f"{b['status']} {b['rows_received']}={b['rows_accepted']}+{b['rows_quarantined']}"


def summary(run: Run) -> str:
    """The per-file table and the totals per target."""
    per_file = Counter(file for file, _, _ in run.problems)
    cats: dict[str, set[str]] = {}
    for file, cat, _ in run.problems:
        cats.setdefault(file, set()).add(cat)
    slowest = max(run.observed, key=lambda f: run.observed[f].seconds)
    lines = [f"malformed corpus: {len(run.manifest['cases'])} files in {run.seconds:.1f} s (slowest ingest: "
             f"{slowest}, {run.observed[slowest].seconds:.2f} s)",
             f"{'file':<42} {'code':<5} {'expected':<14} {'got':<22} problems"]
    for case in run.manifest["cases"]:
        obs = run.observed[case["file"]]
        expected = "/".join(dict.fromkeys(a["status"] for a in case["expect"]))
        verdict = "ok" if not per_file[case["file"]] else ", ".join(sorted(cats[case["file"]]))
        lines.append(f"{case['file'][:42]:<42} {case['code']:<5} {expected:<14} {outcome_of(obs)[:22]:<22} {verdict}")
    lines.append("")
    lines.append(f"{'target':<55} {'problems':>8} {'files':>6}")
    for target, categories in TARGETS.items():
        hits = [p for p in run.problems if p[1] in categories]
        lines.append(f"{target:<55} {len(hits):>8} {len({p[0] for p in hits}):>6}")
    return "\n".join(lines)


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)


# -- the tests -------------------------------------------------------------------------------------------------------


def test_corpus_covers_the_issue(tmp_path):
    manifest = build_corpus(tmp_path)
    cases = manifest["cases"]
    assert len(cases) >= 60
    suffixes = {Path(c["file"]).suffix for c in cases}
    assert {".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet"} <= suffixes
    statuses = Counter(alt["status"] for c in cases for alt in c["expect"][:1])
    assert statuses["ingested"] >= 50 and statuses["failed"] >= 10 and statuses["duplicate_of"] >= 1
    assert len({c["file"] for c in cases}) == len(cases)
    on_disk = {p.name for p in tmp_path.iterdir()} - {"manifest.json"}
    assert on_disk == {c["file"] for c in cases}
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8")) == manifest


def test_corpus_texts_are_left_unchanged_by_redaction(tmp_path):
    """Expected texts hold no personal data (else a redaction would look like an altered text)."""
    from synpunkt.redact import Redactor

    texts = {t for c in build_corpus(tmp_path)["cases"] for alt in c["expect"] if alt["status"] == "ingested"
             for _, t, _ in alt["stored"] if "[" not in t and "\x00" not in t}
    redacted = Redactor(use_model=False).redact_many(sorted(texts))
    changed = [(t, r.text) for t, r in zip(sorted(texts), redacted) if r.text != t]
    assert not changed, changed


def test_no_crashes_and_no_batch_stops_the_others(corpus_run):
    problems = corpus_run.by_category("crash")
    assert not problems, report(problems)


def test_every_file_gets_its_outcome(corpus_run):
    problems = corpus_run.by_category("outcome")
    assert not problems, report(problems)


def test_no_valid_row_lost_silently(corpus_run):
    problems = corpus_run.by_category(*TARGETS["valid rows lost silently"])
    assert not problems, report(problems)


def test_no_stored_text_altered(corpus_run):
    problems = corpus_run.by_category("text altered")
    assert not problems, report(problems)


def test_no_date_stored_wrong(corpus_run):
    problems = corpus_run.by_category("date wrong")
    assert not problems, report(problems)


def test_rejected_rows_and_batches_as_expected(corpus_run):
    problems = corpus_run.by_category("quarantine", "failure reason")
    assert not problems, report(problems)


def test_row_numbers_are_data_row_positions(corpus_run):
    problems = corpus_run.by_category("row numbers")
    assert not problems, report(problems)


def test_every_rejection_has_a_specific_reason(corpus_run):
    problems = corpus_run.by_category("unspecific reason")
    assert not problems, report(problems)


def test_no_personal_data_or_cell_values_outside_redacted_text(corpus_run):
    problems = corpus_run.by_category("personal data")
    assert not problems, report(problems)


def test_corpus_meets_every_target(corpus_run):
    """The acceptance check of issue 12 for the corpus: the summary table, then every problem."""
    problems = [f"{file}: [{cat}] {detail}" for file, cat, detail in corpus_run.problems]
    assert not problems, summary(corpus_run) + "\n\n" + report(problems)

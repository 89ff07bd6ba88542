"""A pipeline run's summary for the operator: a Markdown artifact in Prefect (key ``pipeline-run-summary``).

    run_summary_markdown(result)   pure: the pipeline's result dict -> Markdown (counts, tables)
    publish_run_artifact(result)   inside the pipeline flow: the Markdown as a Prefect artifact of the run

The summary lists each batch's counts (received, accepted, quarantined, status, error), the quarantine reasons by
reason code, the comments classified, the sources pulled and the alerts raised, when the result has them. It
holds counts, codes and error messages only (which name columns and rows, never cell values): no comment text.
Missing keys are tolerated, so the summary keeps working while the result grows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)

ARTIFACT_KEY = "pipeline-run-summary"
"""Prefect artifact key (lowercase letters, digits, dashes): the UI lists every run's summary under it."""
BATCH_COLUMNS = ("batch", "municipality", "status", "received", "accepted", "quarantined", "error")
ALERT_TEXT_KEYS = {"text", "comment", "comment_text", "redacted_text", "row_redacted"}
"""Fields of an alert that may hold (redacted) comment text: never shown in the summary."""


def _cell(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped, empty for None."""
    if value is None:
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def batch_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's batches (``result["ingest"]["batches"]``) with the failed ones not already among them."""
    ingest = result.get("ingest") or {}
    batches = [dict(b) for b in ingest.get("batches") or []]
    seen = {b.get("batch_id") for b in batches}
    for failed in [*(ingest.get("failed") or []), *(result.get("failed_batches") or [])]:
        if failed.get("batch_id") not in seen:
            batches.append({"status": "failed", **failed})
            seen.add(failed.get("batch_id"))
    return batches


def quarantine_counts(result: Mapping[str, Any]) -> dict[str, int]:
    """Quarantined rows per reason code, from ``result["ingest"]["quarantine_reasons"]`` or the batches' own
    ``quarantine_reasons`` (each a mapping reason code -> rows); empty when the result has neither."""
    ingest = result.get("ingest") or {}
    totals: Counter[str] = Counter()
    if isinstance(ingest.get("quarantine_reasons"), Mapping):
        totals.update({str(k): _int(v) for k, v in ingest["quarantine_reasons"].items()})
    else:
        for batch in ingest.get("batches") or []:
            reasons = batch.get("quarantine_reasons")
            if isinstance(reasons, Mapping):
                totals.update({str(k): _int(v) for k, v in reasons.items()})
    return dict(totals)


def alert_counts(alerts: Any) -> list[tuple[str, str, int]]:
    """(category, municipality, count) rows from the result's alerts, whatever their shape: a count, a mapping
    category -> count, or a list of alert records (their text fields are never read)."""
    if alerts is None or alerts == []:
        return []
    if isinstance(alerts, bool):
        return []
    if isinstance(alerts, int):
        return [("all", "", alerts)]
    if isinstance(alerts, Mapping):
        return [(str(k), "", _int(v)) for k, v in alerts.items()]
    counts: Counter[tuple[str, str]] = Counter()
    for alert in alerts:
        if isinstance(alert, Mapping):
            counts[(str(alert.get("category") or alert.get("kind") or "alert"),
                    str(alert.get("municipality_code") or ""))] += 1
        else:
            counts[(str(alert), "")] += 1
    return [(category, code, n) for (category, code), n in sorted(counts.items())]


def run_summary_markdown(result: Mapping[str, Any], quarantine_reasons: Mapping[str, int] | None = None) -> str:
    """The Markdown summary of one pipeline run (see the module docstring). ``quarantine_reasons`` (reason code
    -> rows) overrides what the result says."""
    ingest = result.get("ingest") or {}
    classify = result.get("classify") or {}
    batches = batch_rows(result)
    failed = [b for b in batches if b.get("status") == "failed"]
    received, accepted, quarantined = (sum(_int(b.get(k)) for b in batches)
                                       for k in ("rows_received", "rows_accepted", "rows_quarantined"))
    lines = ["# Pipeline run", ""]
    lines.append(f"- **{len(batches)} batch(es)** processed: {received} rows received = {accepted} accepted + "
                 f"{quarantined} quarantined; **{len(failed)} failed**")
    if "landed" in ingest:
        lines.append(f"- {_int(ingest['landed'])} new batch(es) landed from the inbox and the sources")
    not_landed = ingest.get("not_landed") or []
    if not_landed:
        lines.append(f"- **{len(not_landed)} inbox file(s) not landed** (they stay in the inbox; names redacted):")
        lines += [f"  - {line}" for line in not_landed]
    if classify:
        model = f" with {classify['model_version']}" if classify.get("model_version") else ""
        lines.append(f"- {_int(classify.get('classified'))} comment(s) classified{model}")
    if "trend_rows" in (result.get("trends") or {}):
        lines.append(f"- {_int(result['trends']['trend_rows'])} trend row(s) recomputed")
    if "raw_purged" in ingest:
        lines.append(f"- {_int(ingest['raw_purged'])} raw file(s) purged after the retention period")
    if result.get("published"):
        lines.append(f"- analysts' copy published: `{result['published']}`")
    if failed:
        lines += ["", "Failed batches keep their raw copy: fix the cause, then `synpunkt run --retry-failed`."]
    if batches:
        rows = [(b.get("batch_id"), b.get("municipality_code"), b.get("status"), b.get("rows_received"),
                 b.get("rows_accepted"), b.get("rows_quarantined"), b.get("error"))
                for b in sorted(batches, key=lambda b: (b.get("status") != "failed", str(b.get("batch_id"))))]
        lines += ["", "## Batches", "", *_table(BATCH_COLUMNS, rows)]
    reasons = dict(quarantine_reasons) if quarantine_reasons is not None else quarantine_counts(result)
    if reasons:
        ordered = sorted(reasons.items(), key=lambda kv: (-_int(kv[1]), kv[0]))
        lines += ["", "## Quarantine reasons", "", *_table(("reason code", "rows"), ordered)]
    sources = ingest.get("sources") or result.get("sources")
    if sources:
        rows = [(s.get("municipality") or s.get("municipality_code"), s.get("status"), s.get("error"))
                for s in sources if isinstance(s, Mapping)]
        lines += ["", "## Sources", "", *_table(("municipality", "status", "error"), rows)]
    alerts = alert_counts(result.get("alerts", ingest.get("alerts")))
    if alerts:
        lines += ["", "## Alerts", "", *_table(("category", "municipality", "alerts"), alerts)]
    return "\n".join(lines) + "\n"


def read_quarantine_reasons(published: Path | str, batch_ids: Iterable[str]) -> dict[str, int]:
    """Quarantined rows per reason code for the given batches, from the published (read-only) copy."""
    from synpunkt.publish import open_published

    ids = sorted({str(b) for b in batch_ids if b})
    if not ids:
        return {}
    con = open_published(Path(published))
    try:
        rows = con.execute("SELECT reason_code, count(*) FROM quarantine WHERE list_contains(?, batch_id) "
                           "GROUP BY reason_code", [ids]).fetchall()
    finally:
        con.close()
    return {code: int(n) for code, n in rows}


def publish_run_artifact(result: Mapping[str, Any], key: str = ARTIFACT_KEY) -> UUID | None:
    """Create the run's summary as a Prefect Markdown artifact (call it inside the pipeline flow, so that the
    artifact belongs to the run). Quarantine reasons missing from the result are read from the published copy.
    Returns the artifact's id, or None (with a warning) when Prefect could not store it: the run's data is
    published either way."""
    from prefect.artifacts import create_markdown_artifact

    reasons = None
    if not quarantine_counts(result) and result.get("published"):
        batch_ids = [b.get("batch_id") for b in batch_rows(result) if _int(b.get("rows_quarantined"))]
        try:
            reasons = read_quarantine_reasons(result["published"], batch_ids)
        except Exception as err:  # a summary without reasons beats no summary
            log.warning("run summary without quarantine reasons: cannot read %s: %s", result["published"],
                        type(err).__name__)
    batches = batch_rows(result)
    failed = sum(b.get("status") == "failed" for b in batches)
    description = f"{len(batches)} batch(es), {failed} failed"
    try:
        return create_markdown_artifact(run_summary_markdown(result, reasons), key=key, description=description)
    except Exception as err:
        log.warning("the run summary artifact was not stored: %s: %s", type(err).__name__, err)
        return None

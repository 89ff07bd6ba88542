"""A pipeline run's summary for the operator: a Markdown artifact in Prefect (key ``pipeline-run-summary``).

    run_summary_markdown(result)   pure: the pipeline's result dict -> Markdown (counts, tables)
    publish_run_artifact(result)   inside the pipeline flow: the Markdown as a Prefect artifact of the run

The summary lists each batch's counts (received, accepted, quarantined, status, error), the quarantine reasons by
reason code, the comments classified, the sources pulled and the alerts raised, when the result has them, and
what the run could not do: inbox files not landed, sources not pulled after their retries (by municipality and host
only, as synpunkt.sources.source_name names them: never a URL's path, query or credentials) and alerts not
delivered through every channel (a count). It holds counts, codes and error messages only (which name columns and
rows, never cell values): no comment text. Missing keys are tolerated, so the summary keeps working while the
result grows.
"""

from __future__ import annotations

import logging
import re
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


URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def _host_only(url: str) -> str:
    """A URL cut to its host (and port), as synpunkt.sources.source_name shows it; "?" for an unreadable port."""
    from synpunkt.sources import url_host

    try:
        return url_host(url)
    except ValueError:  # a port that is not a number
        return "?"


def sources_not_pulled(result: Mapping[str, Any]) -> list[str]:
    """The sources the run could not pull after their retries (``result["sources_not_pulled"]``, else
    ``result["ingest"]["not_pulled"]``), each named by municipality and host (synpunkt.sources.source_name). A
    mapping with a municipality and a url is named that way; a URL inside a name is cut to its host: the summary
    never shows a URL's path, query or user info."""
    from synpunkt.sources import source_name

    ingest = result.get("ingest") or {}
    entries = result.get("sources_not_pulled")
    if entries is None:
        entries = ingest.get("not_pulled")
    names = []
    for entry in entries or []:
        if isinstance(entry, Mapping):
            code = str(entry.get("municipality") or entry.get("municipality_code") or "?")
            try:
                names.append(source_name(code, str(entry.get("url") or "")))
            except ValueError:  # a port that is not a number
                names.append(f"{code} (?)")
        else:
            names.append(URL.sub(lambda m: _host_only(m.group()), str(entry)))
    return names


def alerts_not_delivered(result: Mapping[str, Any]) -> int:
    """How many alerts a channel failed to deliver (``result["alerts_not_delivered"]``, else the ingest's): they are
    retried at the next run."""
    ingest = result.get("ingest") or {}
    return _int(result.get("alerts_not_delivered", ingest.get("alerts_not_delivered")))


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
    not_pulled = sources_not_pulled(result)
    if not_pulled:
        lines.append(f"- **{len(not_pulled)} source(s) not pulled** after their retries (the log says why; the next "
                     "run pulls them again):")
        lines += [f"  - {_cell(name)}" for name in not_pulled]
    undelivered = alerts_not_delivered(result)
    if undelivered:
        lines.append(f"- **{undelivered} alert(s) not delivered** through every channel (retried at the next run; "
                     "the log names the channel that failed; `synpunkt alerts` lists them)")
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
    not_pulled, undelivered = len(sources_not_pulled(result)), alerts_not_delivered(result)
    if not_pulled:
        description += f", {not_pulled} source(s) not pulled"
    if undelivered:
        description += f", {undelivered} alert(s) not delivered"
    try:
        return create_markdown_artifact(run_summary_markdown(result, reasons), key=key, description=description)
    except Exception as err:
        log.warning("the run summary artifact was not stored: %s: %s", type(err).__name__, err)
        return None

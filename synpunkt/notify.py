"""Tell people about new urgent-comment alerts as soon as a batch is ingested.

Channels (every configured one gets every new alert):

- **log** (always): one line per alert in the operator's log: alert id, municipality, batch, row, category.
  Never the text.
- **file** (always): a JSON line per alert appended to ``$SYNPUNKT_HOME/alerts/alerts.jsonl`` (mode 0600), with
  the redacted text; an alert already in the file is not written again.
- **webhook** (``SYNPUNKT_ALERT_WEBHOOK``): a JSON POST per alert with httpx, retried with back-off; no text (the
  recipient reads it through the API or the warehouse).
- **Prefect notification block** (``SYNPUNKT_ALERT_BLOCK``, a block document name such as ``slack-webhook/soc``):
  ``block.notify`` per alert; no text.

An alert is marked ``notified_at`` only when every channel delivered it; otherwise it is retried at the next run.

When an operator withdraws a batch (``synpunkt batch withdraw``), its alerts already delivered are withdrawn through
the same channels (``notify_withdrawn``): the municipality learns that they were not its comments; the file,
submitted again for the right municipality, raises them there.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from synpunkt import config
from synpunkt.signals.store import list_alerts, mark_notified

log = logging.getLogger(__name__)

WEBHOOK_ATTEMPTS = 3
WEBHOOK_TIMEOUT_S = 10.0


@dataclass
class NotifyResult:
    new_alerts: int = 0
    notified: int = 0
    failed_channels: list[str] = field(default_factory=list)


SUMMARY_FIELDS = ("alert_id", "municipality_code", "batch_id", "row_number", "external_id", "category", "probability")
"""What the log, webhooks and notification blocks carry of an alert: no text."""


def _summary(alert: dict) -> dict:
    """An alert without its text (for the log, webhooks and notification blocks)."""
    return {k: alert[k] for k in SUMMARY_FIELDS}


def _record(alert: dict) -> dict:
    """An alert for the alerts file: its summary, the redacted text and when it was raised."""
    stamp = alert["created_at"]
    return {**_summary(alert), "text": alert["text"],
            "created_at": stamp.isoformat() if hasattr(stamp, "isoformat") else stamp}


def to_log(alerts: list[dict]) -> None:
    for a in alerts:
        log.warning("URGENT alert %s: municipality %s, batch %s, row %d, category %s", a["alert_id"],
                    a["municipality_code"], a["batch_id"], a["row_number"], a["category"])


def to_file(alerts: list[dict], path: Path | None = None) -> Path:
    """Append alerts not yet in the file (JSON lines, mode 0600 in a 0700 folder)."""
    path = Path(path or config.alerts_file())
    known = set()
    if path.exists():
        known = {json.loads(line)["alert_id"] for line in path.read_text(encoding="utf-8").splitlines() if line}
    return _append([_record(a) for a in alerts if a["alert_id"] not in known], path)


def _append(records: list[dict], path: Path) -> Path:
    """Append records to the alerts file as JSON lines (mode 0600 in a 0700 folder)."""
    config.private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, config.PRIVATE_FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    config.private_file(path)
    return path


def to_webhook(alerts: list[dict], url: str, attempts: int = WEBHOOK_ATTEMPTS, transport=None,
               event: str = "synpunkt.urgent_comment", extra: dict | None = None) -> None:
    """POST each alert (no text) as JSON, as `event` with `extra` fields; raises after `attempts` failures of one
    alert."""
    import httpx

    with httpx.Client(timeout=WEBHOOK_TIMEOUT_S, transport=transport) as client:
        for a in alerts:
            for attempt in range(1, attempts + 1):
                try:
                    client.post(url, json={"event": event, **_summary(a), **(extra or {})}).raise_for_status()
                    break
                except httpx.HTTPError:
                    if attempt == attempts:
                        raise
                    time.sleep(min(2.0 ** attempt, 10.0))


def _raised(s: dict) -> str:
    """A notification block's message for a new alert (its summary `s`: no text)."""
    return (f"Synpunkt: urgent comment ({s['category']}) for municipality {s['municipality_code']}, batch "
            f"{s['batch_id']}, row {s['row_number']}, case {s['external_id'] or '-'}; alert {s['alert_id']}.")


def _withdrawn(s: dict) -> str:
    """A notification block's message for a delivered alert whose batch an operator withdrew."""
    return (f"Synpunkt: urgent alert {s['alert_id']} ({s['category']}) for municipality {s['municipality_code']} is "
            f"withdrawn: its batch {s['batch_id']} was submitted for the wrong municipality.")


def to_block(alerts: list[dict], name: str, message=_raised, subject: str = "Synpunkt urgent comment") -> None:
    """Send each alert (no text: `message` reads its summary) through a Prefect notification block."""
    from prefect.blocks.core import Block

    block = Block.load(name)
    for a in alerts:
        block.notify(message(_summary(a)), subject=subject)


def _deliver(channels: list[tuple[str, Callable[[], object]]], what: str, after: str = "") -> list[str]:
    """Send through each (name, send) channel; the names of those that failed, each logged (a channel down must not
    stop the caller)."""
    failed = []
    for name, send in channels:
        try:
            send()
        except Exception as err:  # noqa: BLE001
            log.warning("%s not delivered to the %s channel (%s)%s", what, name, type(err).__name__, after)
            failed.append(name)
    return failed


def notify_new_alerts(con, webhook: str | None = None, block: str | None = None,
                      alerts_path: Path | None = None) -> NotifyResult:
    """Deliver every alert not yet notified through every channel; mark the delivered ones notified."""
    frame: pd.DataFrame = list_alerts(con, include_acknowledged=True, only_unnotified=True)
    alerts = frame.to_dict("records")
    result = NotifyResult(new_alerts=len(alerts))
    if not alerts:
        return result
    webhook = webhook if webhook is not None else config.alert_webhook()
    block = block if block is not None else config.alert_block()
    to_log(alerts)
    channels = [("file", lambda: to_file(alerts, alerts_path))]
    if webhook:
        channels.append(("webhook", lambda: to_webhook(alerts, webhook)))
    if block:
        channels.append(("prefect block", lambda: to_block(alerts, block)))
    result.failed_channels = _deliver(channels, "alerts", "; retried at the next run")
    if not result.failed_channels:
        mark_notified(con, [a["alert_id"] for a in alerts])
        result.notified = len(alerts)
    return result


WITHDRAWN_EVENT = "synpunkt.urgent_comment_withdrawn"


def notify_withdrawn(alerts: list[dict], withdrawn_at: str, webhook: str | None = None, block: str | None = None,
                     alerts_path: Path | None = None, transport=None) -> list[str]:
    """Tell every channel that these delivered alerts (dicts with _summary's keys) are withdrawn with their batch:
    a log line each, a JSON line each in the alerts file (``"event": "withdrawn"``, no text), a webhook POST (event
    WITHDRAWN_EVENT) and a notification block message. Returns the channels that failed (the caller tells the
    operator to inform the municipality); never raises for a channel."""
    if not alerts:
        return []
    webhook = webhook if webhook is not None else config.alert_webhook()
    block = block if block is not None else config.alert_block()
    for a in alerts:
        log.warning("URGENT alert %s withdrawn: batch %s was not municipality %s's (withdrawn by an operator)",
                    a["alert_id"], a["batch_id"], a["municipality_code"])
    events = [{"event": "withdrawn", **_summary(a), "withdrawn_at": withdrawn_at} for a in alerts]
    channels = [("file", lambda: _append(events, Path(alerts_path or config.alerts_file())))]
    if webhook:
        channels.append(("webhook", lambda: to_webhook(alerts, webhook, event=WITHDRAWN_EVENT,
                                                       extra={"withdrawn_at": withdrawn_at}, transport=transport)))
    if block:
        channels.append(("prefect block", lambda: to_block(alerts, block, _withdrawn,
                                                           "Synpunkt urgent alert withdrawn")))
    return _deliver(channels, "withdrawn alerts")

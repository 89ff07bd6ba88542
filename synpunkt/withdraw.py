"""Withdrawing a batch that should not be in the warehouse (a file submitted for the wrong municipality).

``withdrawal_plan`` says what a withdrawal removes, per table, without changing anything; ``withdraw_batch`` removes
it in one transaction and records it in ``batch_withdrawals`` (batch, municipality, reason, who, when, counts), and
moves the batch's landed folder (receipt and raw copy) out of the landing area into
``$SYNPUNKT_HOME/withdrawn/<code>/<batch_id>-<time>/``, so that its checksum is free: the same file can be
submitted again, for the right municipality. Both run under the pipeline lock (``synpunkt batch withdraw``); the
trends, the comment mart and the published copy are then brought up to date as after a review import
(synpunkt.publish.refresh_and_publish) and rendered reports of the affected years are marked stale
(synpunkt.report.render.mark_stale). Nothing here reads or reports comment text.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from synpunkt.config import landing_dir, private_dir, withdrawn_dir
from synpunkt.landing import RECEIPT, Receipt, batch_dir, read_receipt, replace_original_name
from synpunkt.notify import SUMMARY_FIELDS
from synpunkt.warehouse import now, transaction

BATCH_ID = re.compile(r"^\d{4}-[0-9a-f]{16}$")
"""A batch id: <municipality code>-<16 hex of the file's SHA-256> (synpunkt.landing.make_batch_id)."""
FIND_BATCH_IDS = "`synpunkt status --limit 100` lists the batch ids (first column)"
"""Where an operator finds a batch id: said by every 'no such batch' error."""

COMMENT_TABLES = ("predictions", "comment_signals", "corrections")
"""Tables whose rows hang off a comment (comment_id): removed with the batch's comments."""
BATCH_TABLES = ("alerts", "comments", "quarantine")
"""Tables keyed by batch_id."""
TABLES = ("batches", "comments", "quarantine", *COMMENT_TABLES, "alerts", "source_state")
"""Every table a withdrawal removes rows from, in the order the plan lists them."""
_OF_BATCH = {**{t: "batch_id = $b" for t in ("batches", *BATCH_TABLES)},
             **{t: "comment_id IN (SELECT comment_id FROM comments WHERE batch_id = $b)" for t in COMMENT_TABLES},
             "source_state": "last_checksum = $c"}
"""Each table's rows of the batch ($b: its id, $c: its checksum): counted by the plan, deleted by the withdrawal."""
_DELETE_ORDER = (*COMMENT_TABLES, *BATCH_TABLES, "source_state", "batches")
"""Rows hanging off comments before the comments themselves."""


class UnknownBatch(LookupError):
    """No landed folder and no warehouse row for this batch id (its message says how to find batch ids)."""


@dataclass
class WithdrawalPlan:
    """What withdrawing one batch removes: row counts per table (TABLES), plus what stays and needs telling."""

    batch_id: str
    municipality_code: str
    checksum_sha256: str
    status: str  # ingested | failed | ingesting (interrupted) | landed (not ingested yet)
    folder: Path | None  # its landed folder (receipt and raw copy), None when there is none
    counts: dict[str, int] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)  # contact years of its comments
    delivered: list[dict] = field(default_factory=list)  # its alerts already delivered (summaries, no text)
    alerts_acknowledged: int = 0
    duplicates_elsewhere: int = 0  # rows of other batches quarantined as duplicates of its comments (they stay)

    @property
    def alerts_delivered(self) -> int:
        """How many of its alerts were already delivered to the municipality's channels (told withdrawn)."""
        return len(self.delivered)

    def lines(self, dry_run: bool = True) -> list[str]:
        """The plan for an operator: one line per table, then what stays (counts and ids only)."""
        landed = "its landed folder (receipt and raw copy): moved to the withdrawn folder" if self.folder \
            else "no landed folder (already gone)"
        verb = "would remove" if dry_run else "removes"
        out = [f"withdrawing batch {self.batch_id} ({self.status}, municipality {self.municipality_code}) {verb}:",
               f"  {landed}"]
        out += [f"  {table}: {n} row(s)" for table, n in self.counts.items()]
        if self.years:
            out.append(f"  years affected (trends, shares, reports): {', '.join(map(str, self.years))}")
        if self.alerts_delivered:
            out.append(f"  note: {self.alerts_delivered} of its urgent alert(s) were already delivered to "
                       f"{self.municipality_code}'s channels ({self.alerts_acknowledged} acknowledged): the same "
                       "channels are told they are withdrawn; the resubmitted file raises them for the right "
                       "municipality")
        if self.duplicates_elsewhere:
            out.append(f"  note: {self.duplicates_elsewhere} row(s) of other batches were quarantined as duplicates "
                       "of this batch's comments and stay quarantined")
        return out


def check_batch_id(batch_id: str) -> str:
    """The batch id, stripped, or UnknownBatch for anything that is not shaped like one (never used as a path)."""
    value = batch_id.strip().lower()
    if not BATCH_ID.match(value):
        raise UnknownBatch(f"{batch_id!r} is not a batch id (like 0180-3f2a9c0d1e2b4f56); {FIND_BATCH_IDS}")
    return value


def withdrawal_plan(con, batch_id: str, root: Path | None = None) -> WithdrawalPlan:
    """What withdrawing `batch_id` would remove (reads only; `con` may be None when there is no warehouse yet).
    UnknownBatch when neither the landing area nor the warehouse knows it (naming a past withdrawal)."""
    batch_id = check_batch_id(batch_id)
    folder = batch_dir(batch_id[:4], batch_id, root)
    receipt: Receipt | None = read_receipt(folder) if (folder / RECEIPT).exists() else None
    row = _rows(con, "SELECT municipality_code, checksum_sha256, status FROM batches WHERE batch_id = ?", [batch_id])
    if receipt is None and not row:
        raise UnknownBatch(_unknown(con, batch_id))
    code, checksum, status = row[0] if row else (receipt.municipality_code, receipt.checksum_sha256, "landed")
    plan = WithdrawalPlan(batch_id, code, checksum, status, folder if receipt else None)
    if con is None:
        plan.counts = {t: 0 for t in TABLES}
        return plan
    params = {"b": batch_id, "c": checksum}
    plan.counts = {t: _scalar(con, f"SELECT count(*) FROM {t} WHERE {_OF_BATCH[t]}", params) for t in TABLES}
    plan.years = [r[0] for r in _rows(con, "SELECT DISTINCT year FROM comments WHERE batch_id = $b ORDER BY 1",
                                      {"b": batch_id})]
    plan.delivered = [dict(zip(SUMMARY_FIELDS, row)) for row in _rows(
        con, f"SELECT {', '.join(SUMMARY_FIELDS)} FROM alerts WHERE batch_id = $b AND notified_at IS NOT NULL "
             "ORDER BY alert_id", {"b": batch_id})]
    plan.alerts_acknowledged = _scalar(con, "SELECT count(acknowledged_at) FROM alerts WHERE batch_id = $b",
                                       {"b": batch_id})
    plan.duplicates_elsewhere = _scalar(
        con, "SELECT count(*) FROM quarantine WHERE batch_id <> $b AND reason_code IN ('duplicate_stored', "
             "'possible_duplicate') AND reason LIKE $like", {"b": batch_id, "like": f"% of batch {batch_id}, %"})
    return plan


def withdraw_batch(con, plan: WithdrawalPlan, reason: str, by: str | None = None,
                   when: datetime | None = None) -> dict:
    """Remove the batch's rows (plan.counts' tables) in one transaction, record the withdrawal in
    batch_withdrawals, and move its landed folder to the withdrawn folder (moved back when the transaction fails).
    Run under the pipeline lock. Returns the audit row as a dict."""
    when = when or now()
    moved = _move_folder(plan, when) if plan.folder is not None else None
    record = {"batch_id": plan.batch_id, "municipality_code": plan.municipality_code,
              "checksum_sha256": plan.checksum_sha256, "status": plan.status, "reason": reason,
              "withdrawn_by": by if by is not None else _user(), "withdrawn_at": when, "years": plan.years,
              "removed": json.dumps(plan.counts), "moved_to": str(moved) if moved else None}
    try:
        with transaction(con):
            _delete_rows(con, plan)
            con.execute(f"INSERT INTO batch_withdrawals ({', '.join(record)}) VALUES "
                        f"({', '.join('?' * len(record))})", list(record.values()))
    except BaseException:
        if moved is not None:
            os.rename(moved, plan.folder)
        raise
    return record


def _delete_rows(con, plan: WithdrawalPlan) -> None:
    """Every row of the batch (comments with what hangs off them, quarantine, alerts, the batch record) and the
    pull state that would keep its file from being fetched again; checked against the plan."""
    params = {"b": plan.batch_id, "c": plan.checksum_sha256}
    for table in _DELETE_ORDER:
        removed = _scalar(con, f"DELETE FROM {table} WHERE {_OF_BATCH[table]}", params)
        if removed != plan.counts.get(table, 0):
            raise RuntimeError(f"batch {plan.batch_id}: {table} had {removed} row(s), the plan {plan.counts[table]}; "
                               "nothing was withdrawn, try again")


def _move_folder(plan: WithdrawalPlan, when: datetime) -> Path:
    """Move the landed folder to withdrawn/<code>/<batch_id>-<time>/ (a rename: same file system, atomic)."""
    target = withdrawn_dir() / plan.municipality_code / f"{plan.batch_id}-{when:%Y%m%dT%H%M%S%f}"
    private_dir(target.parent)
    try:
        os.rename(plan.folder, target)
    except OSError:  # another file system (a separately mounted withdrawn/): copy, then remove
        shutil.copytree(plan.folder, target)
        shutil.rmtree(plan.folder)
    return target


PURGED_NAME = "(removed with the raw copy)"
"""A withdrawn batch's receipt keeps this instead of the submitter's file name once its raw copy is purged."""


def purge_withdrawn_raw(con, retention_days: int, now_utc: datetime | None = None) -> int:
    """Delete the raw copies of batches withdrawn more than retention_days ago (their receipts stay, without the
    submitter's file name: PURGED_NAME); returns how many. The raw copy is unredacted: it is kept no longer than a
    processed batch's."""
    current = (now_utc or datetime.now(timezone.utc)).replace(tzinfo=None)
    purged = 0
    rows = con.execute("SELECT batch_id, withdrawn_at, moved_to FROM batch_withdrawals WHERE raw_purged_at IS NULL "
                       "AND moved_to IS NOT NULL AND withdrawn_at <= ?",
                       [current - timedelta(days=retention_days)]).fetchall()
    for batch_id, withdrawn_at, moved_to in rows:
        for raw in Path(moved_to).glob("raw.*"):
            os.chmod(raw, 0o600)
            raw.unlink()
        if (Path(moved_to) / RECEIPT).exists():  # the submitter's file name may hold personal data: gone with the raw
            replace_original_name(Path(moved_to), PURGED_NAME)
        con.execute("UPDATE batch_withdrawals SET raw_purged_at = ? WHERE batch_id = ? AND withdrawn_at = ?",
                    [now(), batch_id, withdrawn_at])
        purged += 1
    return purged


def _unknown(con, batch_id: str) -> str:
    """The 'no such batch' message: a past withdrawal of it when there is one, and where batch ids are listed."""
    past = _rows(con, "SELECT withdrawn_at, municipality_code FROM batch_withdrawals WHERE batch_id = ? "
                      "ORDER BY withdrawn_at DESC LIMIT 1", [batch_id]) if _has_table(con, "batch_withdrawals") else []
    if past:
        return (f"batch {batch_id} was withdrawn at {past[0][0]:%Y-%m-%d %H:%M} UTC (from {past[0][1]}) and has "
                f"not been submitted again; {FIND_BATCH_IDS}")
    return f"no batch {batch_id} in {landing_dir()} or the warehouse; {FIND_BATCH_IDS}"


def _has_table(con, name: str) -> bool:
    return con is not None and bool(_rows(con, "SELECT 1 FROM duckdb_tables() WHERE table_name = ? "
                                               "AND database_name = current_database()", [name]))


def _rows(con, sql: str, params) -> list[tuple]:
    return [] if con is None else con.execute(sql, params).fetchall()


def _scalar(con, sql: str, params: dict) -> int:
    """The first value of a query (a count), its named parameters filtered to those `sql` uses."""
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return int(con.execute(sql, used).fetchall()[0][0])


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None

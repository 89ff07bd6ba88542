"""The operator's batch commands: `synpunkt batch withdraw` (batch ids are listed by `synpunkt status`)."""

from __future__ import annotations

from typing import Annotated

import typer

from synpunkt.cli.common import _check_home, _fail, app

batch_app = typer.Typer(help="Batches already landed: withdraw one submitted for the wrong municipality (`synpunkt "
                             "status` lists batch ids).", no_args_is_help=True)
app.add_typer(batch_app, name="batch")


@batch_app.command("withdraw")
def withdraw(
    batch_id: Annotated[str, typer.Argument(help="The batch id (first column of `synpunkt status`)")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn (kept in the audit table "
                                                         "batch_withdrawals)")],
    yes: Annotated[bool, typer.Option("--yes", help="Withdraw it; without --yes only says what would go")] = False,
) -> None:
    """Withdraw a batch: its comments, predictions, signals, corrections, quarantined rows, alerts and batch record
    go in one transaction, its landed file moves to $SYNPUNKT_HOME/withdrawn/ (the same file can then be submitted
    again, for the right municipality), the withdrawal is recorded in batch_withdrawals, and the trends and the
    published copy are refreshed. Without --yes, a dry run: prints what would be removed and changes nothing."""
    from synpunkt.config import warehouse_path
    from synpunkt.warehouse import busy_message, connect, lock_holder, pipeline_lock
    from synpunkt.withdraw import UnknownBatch, check_batch_id, withdrawal_plan

    reason = " ".join(reason.split())
    if not reason:
        _fail("--reason needs a text: why the batch is withdrawn (for example 'submitted for 0192, meant 0140')")
    try:
        batch_id = check_batch_id(batch_id)
    except UnknownBatch as err:
        _fail(str(err))
    _check_home()  # the pipeline's lock is there
    if (holder := lock_holder()) is not None:  # a run can take hours, and may be ingesting this very batch
        _fail(f"{busy_message(holder)} holds the warehouse; withdraw batch {batch_id} when it finishes "
              "(`synpunkt status` says when)")
    try:
        lock = pipeline_lock(timeout=10, what=f"withdrawing batch {batch_id}" if yes else "checking a withdrawal")
        lock.__enter__()
    except RuntimeError as err:
        _fail(f"{err}; withdraw the batch when it finishes")
    try:
        exists = warehouse_path().exists()
        con = connect(read_only=not yes) if exists or yes else None  # a dry run writes nothing, the schema neither
        try:
            try:
                plan = withdrawal_plan(con, batch_id)
            except UnknownBatch as err:
                _fail(str(err))
            for line in plan.lines(dry_run=not yes):
                typer.echo(line)
            if not yes:
                typer.echo(f"dry run: nothing was removed. To withdraw it: synpunkt batch withdraw {batch_id} "
                           "--reason TEXT --yes")
                return
            done, published, held_back = _withdraw(con, plan, reason)
        finally:
            if con is not None:
                con.close()
    finally:
        lock.__exit__(None, None, None)
    _report(plan, done, published, held_back)


def _withdraw(con, plan, reason: str):
    """Remove the batch and refresh what depends on it (under the lock). Returns (the audit row, the published
    path or None, why it was not published or None)."""
    from synpunkt.publish import refresh_and_publish
    from synpunkt.withdraw import withdraw_batch

    try:
        done = withdraw_batch(con, plan, reason)
    except (OSError, RuntimeError) as err:
        _fail(f"batch {plan.batch_id} was not withdrawn: {err}")
    published, held_back = refresh_and_publish(con) if plan.status != "landed" else (None, None)
    return {**done, "unreached": _withdraw_alerts(plan, done)}, published, held_back


def _withdraw_alerts(plan, done: dict) -> list[str]:
    """Tell the alert channels that the batch's delivered alerts are withdrawn; the channels that failed."""
    from synpunkt.notify import notify_withdrawn

    return notify_withdrawn(plan.delivered, f"{done['withdrawn_at']:%Y-%m-%dT%H:%M:%S}Z")


def _report(plan, done: dict, published, held_back: str | None) -> None:
    """What was done and what the operator does next (counts, paths and ids only)."""
    from pathlib import Path

    from synpunkt.report import mark_stale

    typer.echo(f"withdrawn: batch {plan.batch_id} at {done['withdrawn_at']:%Y-%m-%d %H:%M:%S} UTC, recorded in "
               "the table batch_withdrawals")
    if done["moved_to"]:
        raw = next(Path(done["moved_to"]).glob("raw.*"), None)
        typer.echo(f"its landed file: {raw or done['moved_to']} (purged after SYNPUNKT_RAW_RETENTION_DAYS)")
        if raw is not None:
            typer.echo(f"submit it again for the right municipality: synpunkt submit {raw} --municipality CODE")
    if plan.delivered:
        told = f"{len(plan.delivered)} delivered urgent alert(s) withdrawn through the alert channels"
        typer.echo(told if not done["unreached"] else
                   f"{told}, but not through {', '.join(done['unreached'])}: tell municipality "
                   f"{plan.municipality_code} yourself (alert ids: {', '.join(a['alert_id'] for a in plan.delivered)})")
    if published is not None:
        typer.echo(f"published: {published} (trends, shares and alerts no longer have the batch)")
    elif held_back is not None:
        typer.echo(f"the published copy still has the batch until the next `synpunkt run` ({held_back})")
    stale = mark_stale(plan.years, f"batch {plan.batch_id} ({plan.municipality_code}) withdrawn "
                                   f"{done['withdrawn_at']:%Y-%m-%d %H:%M} UTC")
    for folder in stale:
        typer.echo(f"reports in {folder} are stale (marked): render them again with "
                   f"`synpunkt report --year {folder.name}`")

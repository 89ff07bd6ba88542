"""The operator commands: submit, run, status, serve, token, demo, alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synpunkt.cli.common import (BackendOpt, ModelOpt, _backend, _check_home, _check_settings, _fail, _input_file,
                                  _model_folder, _municipality, _setup_logging, _start_prefect, app)

RUN_WHAT = "a pipeline run"
"""What a pipeline run writes next to the lock it holds (synpunkt.warehouse.pipeline_lock's default)."""
RUN_FAILED_BATCHES_EXIT = 3
"""`synpunkt run` exits with this status when a batch failed, an inbox file was not landed or a source was not
pulled (after every stage has run)."""


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="Comment file (CSV, TSV, XLSX, JSON, JSONL, Parquet)")],
    municipality: Annotated[str, typer.Option(help="SCB municipality code (0180) or name (Stockholm)")],
) -> None:
    """Put a file into a municipality's landing area (processed by the next `synpunkt run`).

    A file already landed for another municipality is refused: one file holds one municipality's comments (a
    batch that went to the wrong one is taken back with `synpunkt batch withdraw`)."""
    from synpunkt.landing import land_file, safe_suffix

    code = _municipality(municipality)
    _input_file(file)
    _check_home()
    try:
        safe_suffix(file.name)
        receipt = land_file(file, code, origin="cli")
    except (ValueError, OSError) as err:  # landing.LandedElsewhere names the batch and how to withdraw it
        _fail(f"{file}: {err}")
    state = "already received (same content)" if receipt.duplicate else "landed"
    typer.echo(f"{state}: batch {receipt.batch_id} for {receipt.municipality_code} "
               f"(sha256 {receipt.checksum_sha256[:16]}..., {receipt.size_bytes} bytes)")


TaskRunnerOpt = Annotated[Optional[str], typer.Option(
    "--task-runner", help="Where the comments are classified: local (this process) or dask (default: "
                          "SYNPUNKT_TASK_RUNNER, else local)")]
DaskAddressOpt = Annotated[Optional[str], typer.Option(
    "--dask-address", help="A running Dask scheduler, tcp://host:8786 (implies --task-runner dask; default: "
                           "SYNPUNKT_DASK_ADDRESS, else a temporary LocalCluster of SYNPUNKT_DASK_WORKERS workers)")]


def _pipeline_settings(runner: str | None = None, address: str | None = None) -> None:
    """Before a command that runs the pipeline does any work: --task-runner and --dask-address onto their settings
    (synpunkt.config), the task runner checked (synpunkt.scaleout.settings), then every other setting,
    SYNPUNKT_HOME, SYNPUNKT_MODEL, the signal heads and the sources file; a mistake is one line and exit status 2."""
    import os

    from synpunkt import scaleout

    if address is not None:
        os.environ["SYNPUNKT_DASK_ADDRESS"] = address
        runner = runner or "dask"
    if runner is not None:
        os.environ["SYNPUNKT_TASK_RUNNER"] = runner
    try:
        scaleout.settings()
    except ValueError as err:
        _fail(str(err))
    _check_settings()
    _check_home()
    _model_setting()
    _signals_folder()
    _sources_file()


def _model_setting() -> None:
    """SYNPUNKT_MODEL, when set, is a Synpunkt model folder, checked before any work as --model is
    (synpunkt.cli.common._model_folder): the classify stage, the ingest's encoder pass and the trends' corrections
    read it, and a wrong one would fail each batch or the run's last stages instead. A hub id is no local folder and
    is refused the same way. A mistake is one line naming SYNPUNKT_MODEL and exit status 2."""
    import os

    if "SYNPUNKT_MODEL" in os.environ:  # unset: the shipped model
        _model_folder(None, "SYNPUNKT_MODEL", "unset it for the shipped model")


def _signals_folder() -> None:
    """SYNPUNKT_SIGNALS_MODEL (or the shipped heads) holds signal heads, before any work: ingest loads them for
    every batch, and a missing folder would fail each batch instead (one line and exit status 2)."""
    from synpunkt.config import signals_dir
    from synpunkt.signals.heads import SETTINGS, WEIGHTS

    folder = signals_dir()
    if not folder.is_dir():
        _fail(f"SYNPUNKT_SIGNALS_MODEL {folder}: no such folder of signal heads (unset it for the shipped ones)")
    missing = [name for name in (SETTINGS, WEIGHTS) if not (folder / name).is_file()]
    if missing:
        _fail(f"SYNPUNKT_SIGNALS_MODEL {folder}: not a folder of signal heads (no {' or '.join(missing)}; "
              "`synpunkt train-signals` writes them)")


def _sources_file() -> None:
    """The sources file (sources.toml) read and checked before any work: a mistake in it is its SourceConfigError's
    one line and exit status 2, not the pull task's tracebacks."""
    from synpunkt.sources import SourceConfigError, load_sources

    try:
        load_sources()
    except (SourceConfigError, OSError) as err:  # OSError: a file that cannot be read (its message names it)
        _fail(str(err))


def _check_scheduler() -> None:
    """A Dask scheduler named by SYNPUNKT_DASK_ADDRESS (or --dask-address) answers, with TLS settings for a tls://
    one (scaleout.check_scheduler, a few seconds at most), before the run starts: otherwise one line and exit
    status 2, and every batch is left as it is."""
    from synpunkt import scaleout

    try:
        _, address, _ = scaleout.settings()
        if address:
            scaleout.check_scheduler(address, scaleout.SCHEDULER_CHECK_S)
    except ValueError as err:
        _fail(str(err))


@app.command()
def run(
    model: ModelOpt = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Also ingest again the batches that failed "
                                               "earlier (those whose raw copy still exists)")] = False,
    backend: BackendOpt = None,
    task_runner: TaskRunnerOpt = None,
    dask_address: DaskAddressOpt = None,
) -> None:
    """Run the pipeline once: ingest -> classify -> trends -> publish. Exits 3 if a batch failed, an inbox file
    could not be landed or a source could not be pulled."""
    _setup_logging()
    if model is not None:
        _model_folder(model)  # before any work: not after ingest, when classify would load it
    if backend:  # as the setting, so that the flows and any worker processes they start use it too
        import os

        os.environ["SYNPUNKT_BACKEND"] = _backend(backend)
    _pipeline_settings(task_runner, dask_address)
    _check_scheduler()
    from flows.pipeline import pipeline_flow

    _wait_for_the_lock()  # before the flow: a run that cannot start is one line, not the flow's tracebacks
    _start_prefect()
    result = pipeline_flow(model_dir=model, retry_failed=retry_failed)
    batches = result["ingest"]["batches"]
    failed = result["failed_batches"]
    typer.echo(f"{len(batches)} batch(es) ingested: {sum(b['rows_accepted'] for b in batches)} comments accepted, "
               f"{sum(b['rows_quarantined'] for b in batches)} quarantined, {len(failed)} failed batch(es); "
               f"{result['classify']['classified']} classified with {result['classify']['model_version']}")
    for b in failed:
        typer.secho(f"  failed: batch {b['batch_id']}: {b['error']}", fg=typer.colors.RED, err=True)
    not_landed = result.get("inbox_not_landed") or []
    for line in not_landed:
        typer.secho(f"  not landed: {line}", fg=typer.colors.RED, err=True)
    not_pulled = result.get("sources_not_pulled") or []
    typer.echo(f"analysts' copy: {result['published']}")
    _failed_advice(failed)
    if not_landed:
        typer.echo(f"{len(not_landed)} inbox file(s) not landed: fix or remove them; the next run collects them "
                   "again", err=True)
    for line in _run_problems(not_pulled, result.get("alerts_not_delivered") or 0):
        typer.secho(line, fg=typer.colors.RED, err=True)
    if failed or not_landed or not_pulled:
        raise typer.Exit(code=RUN_FAILED_BATCHES_EXIT)


def _run_problems(not_pulled: list[str], undelivered: int) -> list[str]:
    """The last lines of a run's summary for what it could not do (pure): sources that failed after their retries
    (named by municipality and host: synpunkt.sources.source_name; they make the run exit 3, as a batch that
    failed does) and alerts not delivered through every channel."""
    lines = []
    if not_pulled:
        lines.append(f"{len(not_pulled)} source(s) not pulled after their retries: {', '.join(not_pulled)}; the log "
                     "says why; the next run pulls them again")
    if undelivered:
        lines.append(f"{undelivered} alert(s) not delivered; they are retried at the next run (the log names the "
                     "channel that failed; `synpunkt alerts` lists them)")
    return lines


RUN_BUSY_EXIT = 4
"""`synpunkt run`'s exit status when another run (or an import, a withdrawal) held the warehouse for the whole wait."""
RUN_LOCK_WAIT_S = 600


def _wait_for_the_lock(timeout: float | None = None) -> None:
    """Wait (saying so once) until no other process holds the pipeline lock, or fail in one line with RUN_BUSY_EXIT.
    The flow takes the lock itself right after; a run that slips in between makes it wait again."""
    import logging

    from synpunkt.warehouse import PipelineBusy, pipeline_lock

    timeout = RUN_LOCK_WAIT_S if timeout is None else timeout
    try:
        with pipeline_lock(timeout=timeout, what="a run about to start", logger=logging.getLogger("synpunkt")):
            pass
    except PipelineBusy as err:
        _fail(f"{err}: this run did not start; run it again when that has finished (`synpunkt status`)",
              code=RUN_BUSY_EXIT)


def _failed_advice(failed: list[dict]) -> None:
    """What to do about failed batches: a cause in the file (a missing column, not a table) is fixed in a new file,
    submitted again (the raw copy never changes); any other, by `--retry-failed` once it is fixed."""
    from synpunkt.ingest import cause_in_file

    in_file = [b["batch_id"] for b in failed if cause_in_file(b["error"])]
    if in_file:
        typer.echo(f"{', '.join(in_file)}: the cause is in the file itself; correct the file and submit it again "
                   "(`synpunkt submit` or the inbox): retrying the same file cannot help", err=True)
    if len(in_file) < len(failed):
        typer.echo("fix the cause, then `synpunkt run --retry-failed` ingests the other failed batches again"
                   if in_file else "fix the cause, then `synpunkt run --retry-failed` ingests the failed batches again",
                   err=True)


@app.command()
def status(limit: Annotated[int, typer.Option(min=1, help="How many recent batches")] = 20) -> None:
    """Recent batches with their accepted, quarantined and failed counts (and those waiting to be ingested).
    Reads the published copy (the live warehouse before anything is published); while a run works, says so and
    shows the batches it has finished from their status files."""
    from synpunkt.batch_status import read_status
    from synpunkt.config import published_path, warehouse_path
    from synpunkt.ingest import cause_in_file
    from synpunkt.landing import batch_dir, landed_batches, stuck_inbox_files
    from synpunkt.municipalities import municipality_name
    from synpunkt.publish import open_published
    from synpunkt.warehouse import busy_message, lock_holder

    _check_home(write=False)  # a folder that cannot be there is an error, not "no batches yet"
    rows, known = [], set()
    holder = lock_holder()
    path = published_path() if published_path().exists() else warehouse_path()
    if holder is not None:
        shown = "as of the last published copy" if path == published_path() else "from the landing area only " \
                "(nothing is published yet)"
        typer.echo(f"{busy_message(holder)} is in progress: batches {shown}; try again when it finishes for the rest")
        if path != published_path():
            path = None  # the live warehouse is the run's while it works
    if path is not None and path.exists():
        try:
            con = open_published(path)
        except Exception as err:  # noqa: BLE001 - the live warehouse, opened by another process
            _fail(_in_use(path, err))
        try:
            rows = con.execute("SELECT batch_id, municipality, status, rows_received, rows_accepted, "
                               "rows_quarantined, coalesce(error, ''), processed_at FROM batch_overview "
                               "ORDER BY processed_at DESC LIMIT ?", [limit]).fetchall()
            known = {r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()}
        finally:
            con.close()
    waiting = [r for r in landed_batches() if r.batch_id not in known]
    typer.echo(f"{'batch':<22} {'municipality':<16} {'status':<9} {'received':>8} {'accepted':>8} "
               f"{'quarant.':>8}  note")
    for r in waiting:
        done = _status_file(read_status, batch_dir(r.municipality_code, r.batch_id))
        name = municipality_name(r.municipality_code)[:16]
        if done is None:
            note = "being ingested or waiting" if holder is not None else "waiting for the next run"
            typer.echo(f"{r.batch_id:<22} {name:<16} {'landed':<9} {'':>8} {'':>8} {'':>8}  {note}")
        else:
            note = "not yet in the published copy" + (f"; {_note(done['error'], 120)}" if done["error"] else "")
            typer.echo(f"{r.batch_id:<22} {name:<16} {done['status']:<9} {done['rows_received'] or 0:>8} "
                       f"{done['rows_accepted'] or 0:>8} {done['rows_quarantined'] or 0:>8}  {note}")
    for batch_id, name, st, received, accepted, quarantined, error, _ in rows:
        note = "interrupted: resumes at the next run" if st == "ingesting" else _note(error)
        typer.echo(f"{batch_id:<22} {str(name)[:16]:<16} {st:<9} {received:>8} {accepted:>8} {quarantined:>8}  "
                   f"{note}")
    failed = [r[6] for r in rows if r[2] == "failed"]
    if any(len(" ".join((e or "").split())) > 160 for e in failed):
        typer.echo("a failed batch's whole reason: SELECT error FROM batches WHERE batch_id = '...' (published copy)")
    if any(cause_in_file(e) for e in failed):
        typer.echo("failed batches whose cause is in the file (a missing column, not a table): correct the file "
                   "and submit it again; retrying the same file cannot help")
    if any(not cause_in_file(e) for e in failed):
        typer.echo("other failed batches: `synpunkt run --retry-failed` ingests them again once the cause is fixed")
    stuck = stuck_inbox_files()
    if stuck:  # by count: their names are only shown redacted, by `synpunkt run`
        typer.echo(f"inbox: {len(stuck)} file(s) cannot be landed and stay in the inbox; `synpunkt run` lists them "
                   "(names redacted) and exits 3 until they are fixed or removed")
    if not rows and not waiting and not stuck:
        typer.echo("no batches yet: submit one with `synpunkt submit FILE --municipality CODE`")


def _status_file(read_status, folder: Path) -> dict | None:
    """A landed batch's status file (written when the pipeline finished it), or None (none, or unreadable)."""
    try:
        return read_status(folder)
    except (OSError, ValueError):
        return None


def _in_use(path: Path, err: Exception) -> str:
    """One line for a warehouse that cannot be opened: another process holds it (DuckDB's own message names
    the binary and is not shown), or the error's type."""
    import re

    text = str(err)
    if "lock" in text.lower():
        pid = re.search(r"PID (\d+)", text)
        return (f"{path} is in use by another process{f' (pid {pid[1]})' if pid else ''}; try again when it "
                "finishes")
    return f"cannot read {path}: {err}"


@app.command()
def serve(
    api: Annotated[bool, typer.Option(help="Also serve the upload API")] = True,
    host: Annotated[str, typer.Option(help="Address the API listens on (set SYNPUNKT_PUBLIC_URL for the URLs it "
                                           "hands out when it is reached through another name)")] = "127.0.0.1",
    port: int = 8000,
    nightly: Annotated[str, typer.Option(help="Cron schedule of the pipeline")] = "0 2 * * *",
) -> None:
    """Serve the Prefect deployments with schedules (nightly pipeline) and the upload API."""
    _setup_logging()
    _pipeline_settings()  # the nightly runs and the API read them: a mistake stops serve now, not each night
    from flows.serve import serve_all
    from synpunkt.api import ApiStartError

    _start_prefect()
    try:
        serve_all(api=api, host=host, port=port, nightly=nightly)
    except ApiStartError as err:
        _fail(str(err))


@app.command()
def token(
    municipality: Annotated[str, typer.Argument(help="Municipality code (0180) or name (Stockholm)")],
    revoke: Annotated[bool, typer.Option(help="Revoke all of the municipality's tokens instead")] = False,
) -> None:
    """Issue an API token for a municipality (shown once; only its hash is stored)."""
    from synpunkt.api import issue_token, revoke_tokens

    code = _municipality(municipality)
    _check_home()
    if revoke:
        typer.echo(f"revoked {revoke_tokens(code)} token(s) of {code}")
    else:
        typer.echo(issue_token(code))


@app.command()
def demo(
    per_year: Annotated[int, typer.Option(help="Comments per municipality and year (about)")] = 120,
    reports: Annotated[bool, typer.Option(help="Render the annual reports at the end")] = True,
) -> None:
    """Sample submissions for eight municipalities over three years, the whole pipeline, and a summary."""
    _setup_logging()
    _pipeline_settings()  # before the sample files are landed
    _check_scheduler()
    from datetime import date

    from flows.pipeline import pipeline_flow
    from synpunkt.config import landing_dir, warehouse_path
    from synpunkt.demo import demo_files, land_files, summary_lines
    from synpunkt.publish import open_published

    last = date.today().year - 1
    years = (last - 2, last - 1, last)
    files = demo_files(years, per_year)
    land_files(files)
    typer.echo(f"landed {len(files)} sample files for {len({f.municipality for f in files})} municipalities "
               f"({years[0]}-{years[-1]}) in {landing_dir()}")
    _start_prefect()
    result = pipeline_flow()
    con = open_published(result["published"])
    for line in summary_lines(con, last):
        typer.echo(line)
    q = con.execute("SELECT sum(rows_received), sum(rows_accepted), sum(rows_quarantined), "
                    "count(*) FILTER (status = 'failed') FROM batches").fetchall()[0]
    con.close()
    typer.echo(f"\n{q[0]} rows received = {q[1]} accepted + {q[2]} quarantined; {q[3]} batch(es) could not be read")
    typer.echo(f"warehouse (written by the pipeline): {warehouse_path()}")
    typer.echo(f"analysts' read-only copy: {result['published']}")
    typer.echo(f"  query it: python -c \"import duckdb; print(duckdb.connect('{result['published']}', read_only=True)"
               f".sql('FROM yearly_shares WHERE year = {last} AND topic = \\'all\\''))\"")
    if reports:
        from flows.report import report_flow

        state = report_flow(year=last, return_state=True)
        if not state.is_completed():  # the log above has each failed report's details
            _fail(state.message or f"the demo's reports for {last} failed", code=1)
        typer.echo(f"reports: {state.result()}")


@app.command()
def alerts(
    municipality: Annotated[Optional[str], typer.Option(help="Only this municipality (code or name)")] = None,
    all: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts")] = False,
    ack: Annotated[Optional[str], typer.Option("--ack", help="Acknowledge this alert id")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who acknowledges (required with --ack)")] = None,
) -> None:
    """Urgent-comment alerts (threat, self-harm, violence in a close relationship): list the open ones, or
    acknowledge one with --ack ID --by NAME. Reads the live warehouse between pipeline runs; during a run, lists
    those of the published copy (and says so) and refuses --ack at once."""
    from synpunkt.config import warehouse_path
    from synpunkt.signals.store import UnknownAlert, acknowledge, list_alerts
    from synpunkt.warehouse import busy_message, connect, lock_holder, pipeline_lock

    code = _municipality(municipality) if municipality else None
    if ack is not None and not ack.strip():
        _fail("--ack needs an alert id (the first column of `synpunkt alerts`)")
    if ack and not (by or "").strip():
        _fail("--ack needs --by NAME (who acknowledges the alert)")
    if by is not None and not ack:
        _fail("--by goes with --ack ID (who acknowledges that alert); without --ack nothing is acknowledged")
    _check_home()  # the pipeline's lock is there
    if not warehouse_path().exists():
        _fail(f"no warehouse at {warehouse_path()}; run `synpunkt run` first")
    holder = lock_holder()
    running = holder is not None and holder["what"] == RUN_WHAT  # hours: waiting for it does not help
    if ack and running:
        _fail(f"{busy_message(holder)} is in progress; acknowledge the alert when it finishes (`synpunkt status`)")
    try:  # the pipeline is the warehouse's one writer: a short wait for another acknowledgement or review import
        lock = pipeline_lock(timeout=0 if running else 60 if ack else 10,
                             what="acknowledging an alert" if ack else "listing alerts")
        lock.__enter__()
    except RuntimeError as err:
        if ack:
            _fail(str(err))
        frame = _published_alerts(list_alerts, code, all, busy_message(lock_holder()))
    else:
        try:
            con = connect()
            try:
                if ack:
                    done = acknowledge(con, ack, " ".join(by.split()), code)
                    state = "already acknowledged" if done["already_acknowledged"] else "acknowledged"
                    typer.echo(f"{state} {done['alert_id']} by {done['acknowledged_by']} at "
                               f"{done['acknowledged_at']}")
                    return
                frame = list_alerts(con, code, include_acknowledged=all)
            finally:
                con.close()
        except UnknownAlert:
            _fail(f"no alert {ack}" + (f" for municipality {code}" if code else ""))
        finally:
            lock.__exit__(None, None, None)
    if frame.empty:
        typer.echo("no open alerts" if not all else "no alerts")
        return
    for a in frame.itertuples():
        state = alert_state(a.acknowledged_by, a.acknowledged_at)
        typer.echo(f"{a.alert_id}  {a.municipality_code}  {a.category:<28} p={a.probability:.2f}  batch "
                   f"{a.batch_id} row {a.row_number}  case {a.external_id or '-'}  {state}")
        typer.echo(f"    {_shortened(a.text) if isinstance(a.text, str) else '(text unavailable: batch failed)'}")


def alert_state(acknowledged_by: object, acknowledged_at: object) -> str:
    """"OPEN", or who acknowledged the alert and when. In a listing with open and acknowledged alerts pandas gives
    the open ones' NULLs as NaN and NaT (both truthy), so only a name counts."""
    if not (isinstance(acknowledged_by, str) and acknowledged_by.strip()):
        return "OPEN"
    import pandas as pd

    when = "" if pd.isna(acknowledged_at) else f" {pd.Timestamp(acknowledged_at):%Y-%m-%d %H:%M}"
    return f"acknowledged{when} by {acknowledged_by}"


def _published_alerts(list_alerts, code: str | None, include_acknowledged: bool, busy: str):
    """The alerts in the published copy, while `busy` (a run) holds the live warehouse; says so first. Fails with
    one line when nothing is published yet."""
    from synpunkt.config import alerts_file, published_path
    from synpunkt.publish import open_published

    where = f"the log and {alerts_file()}"
    if not published_path().exists():
        _fail(f"{busy} is in progress and nothing is published yet; its alerts are in {where}; try again when it "
              "finishes")
    typer.echo(f"{busy} is in progress: alerts as of the last published copy; those it raises are in {where} "
               "until it finishes", err=True)
    con = open_published()
    try:
        return list_alerts(con, code, include_acknowledged=include_acknowledged)
    finally:
        con.close()


ALERT_TEXT_CHARS = 400
"""`synpunkt alerts` shows this much of each (redacted) comment; the view urgent_comments holds all of it."""


def _note(error: str | None, limit: int = 160) -> str:
    """A batch's error for the status table: whole when short, else cut at a word boundary with "…" (the whole
    reason is in the batches table: `synpunkt status` says where)."""
    error = " ".join((error or "").split())
    return error if len(error) <= limit else _cut_at_word(error, limit) + " …"


def _cut_at_word(text: str, limit: int) -> str:
    """`text` cut at the last word boundary before `limit` characters (at `limit` when there is none; pure)."""
    return text[:limit].rsplit(" ", 1)[0] or text[:limit]


def _shortened(text: str, limit: int = ALERT_TEXT_CHARS) -> str:
    """The text cut at a word boundary before `limit` characters, with how much was left out (pure)."""
    if len(text) <= limit:
        return text
    cut = _cut_at_word(text, limit)
    return f"{cut} … ({len(text) - len(cut)} more characters: see the view urgent_comments)"

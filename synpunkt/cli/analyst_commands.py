"""The analyst commands: report, export, and the review loop (review export / import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synpunkt.cli.common import (ModelOpt, _check_home, _fail, _input_file, _municipality, _output_file, _setup_logging,
                                  _start_prefect, app)
from synpunkt.os_errors import plain_reason


review_app = typer.Typer(help="The review loop: export comments for a human look, import the answers.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


@app.command()
def report(
    year: Annotated[Optional[int], typer.Option(help="Report year (default: the latest year with data)")] = None,
    municipality: Annotated[Optional[str], typer.Option(help="Only this municipality (SCB code 0180 or name Stockholm); default: the national report and every municipality's")] = None,
    lang: Annotated[str, typer.Option(help="Report language: sv or en")] = "sv",
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: $SYNPUNKT_HOME/reports/<year>/)")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also print PDFs with headless Chromium")] = True,
    warehouse: Annotated[Optional[Path], typer.Option(help="Published DuckDB file (default: SYNPUNKT_PUBLISHED)")] = None,
    model: ModelOpt = None,
) -> None:
    """Annual reports (HTML and PDF) from the published warehouse: national and per municipality."""
    _setup_logging()
    import duckdb

    from flows.report import report_flow
    from synpunkt import report as R

    if warehouse is not None and warehouse.is_dir():
        _fail(f"--warehouse {warehouse} is a folder; give the published DuckDB file")
    if out is not None and out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; give a folder for the reports")
    if out is not None:
        try:  # before any work: a folder that cannot be made fails here, not after the notebooks ran
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            _fail(f"--out {out}: cannot make the folder ({plain_reason(err)})")
        problem = R.unwritable_reason(out)  # an existing folder the reports cannot be written into
        if problem:
            _fail(f"--out {out}: {problem}")
    code = _municipality(municipality) if municipality is not None else None
    if out is None or warehouse is None:  # the reports are written there, or the published copy read from there
        _check_home(write=out is None)
    try:  # the year, the municipality's data and the language, before any work
        rep = R.open_report(year, code, lang, warehouse, model)
        year = rep.year
        rep.close()
    except (FileNotFoundError, ValueError, duckdb.Error) as err:
        _fail(str(err))
    if out is None and (problem := R.unwritable_reason(R.default_out_dir(year))):  # the default folder, if made
        _fail(f"reports for {year}: {problem}")
    _start_prefect()
    state = report_flow(year=year, municipality=code, lang=lang, out_dir=out, warehouse=warehouse, pdf=pdf,
                        model_dir=model, return_state=True)
    if not state.is_completed():  # the log above has each failed report's details
        _fail(state.message or f"the reports for {year} failed", code=1)
    folder = state.result()
    typer.echo(f"reports for {year}: {folder}")
    typer.echo(f"  open {Path(folder) / 'index.html'}")
    if pdf and not R.find_chromium():
        typer.echo("  " + R.PDF_HINT)


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write: .csv for kolada and csv, .xlsx for excel")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="kolada (KPI rows), excel (a sheet per view) or csv (Swedish Excel)")],
    year: Annotated[Optional[int], typer.Option(help="Only this year (default: every year)")] = None,
    municipality: Annotated[Optional[str], typer.Option(help="Only this municipality: SCB code (0180) or name (Stockholm)")] = None,
    warehouse: Annotated[Optional[Path], typer.Option(help="Published DuckDB file (default: SYNPUNKT_PUBLISHED)")] = None,
) -> None:
    """Export the published figures: Kolada's KPI rows, an Excel workbook, or a CSV for Swedish Excel."""
    from synpunkt.export import ExportError, check_output, check_scope, export as write_export
    from synpunkt.publish import open_published

    if warehouse is None:  # the published copy is read from there
        _check_home(write=False)
    try:
        fmt = fmt.strip().lower()
        check_output(fmt, output)
        con = open_published(warehouse)
        try:
            scope = check_scope(con, year, municipality)
            rows = write_export(con, fmt, output, scope)
        finally:
            con.close()
    except (ExportError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(f"{rows} rows ({fmt}) -> {output}")


@review_app.command("export")
def review_export(
    municipality: Annotated[str, typer.Option(help="Municipality code or name")],
    year: Annotated[int, typer.Option(help="Year of the comments")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Review file (.xlsx or .csv)")],
    n: Annotated[int, typer.Option("-n", min=1, help="Comments: half the least certain, half a random sample")] = 200,
    seed: int = 0,
) -> None:
    """Write the comments most worth a human look (plus a random sample) and a Label Studio import file."""
    from synpunkt.review import SUFFIXES, export_review
    from synpunkt.warehouse import connect

    _output_file(output, SUFFIXES, "--output")
    code = _municipality(municipality)
    _check_home()
    con = connect()
    try:
        ls, rows = export_review(con, code, year, n, output, seed)
    except ValueError as err:
        _fail(str(err))
    finally:
        con.close()
    typer.echo(f"{rows} comments written to {output}; Label Studio import file: {ls}")


@review_app.command("import")
def review_import(file: Annotated[Path, typer.Argument(help="Filled review file (.xlsx, .csv or Label Studio .json)")]) -> None:
    """Load reviewers' answers into the corrections table (idempotent), refresh the trends and publish, so that
    the published copy's views and `synpunkt export` have the corrections at once; rendered reports of the
    corrected comments' years are marked stale until rendered again."""
    from synpunkt.publish import refresh_and_publish
    from synpunkt.report import mark_stale
    from synpunkt.review import ReviewImportError, import_corrections
    from synpunkt.warehouse import busy_message, connect, lock_holder, now, pipeline_lock

    _input_file(file, "review file")
    _check_home()
    published, held_back = None, None
    if (holder := lock_holder()) is not None:
        typer.echo(f"waiting for the run in progress to finish: {busy_message(holder)}; up to 10 minutes", err=True)
    try:
        lock = pipeline_lock(what="a review import")
        lock.__enter__()
    except RuntimeError as err:  # a run held the warehouse for the whole wait
        _fail(f"{err}; import the review file when it finishes")
    try:
        con = connect()
        try:
            try:
                result = import_corrections(con, file)
            except ReviewImportError as err:
                _fail(str(err))
            if result.imported:  # the step a run ends with: the same snapshot, swapped in atomically
                published, held_back = refresh_and_publish(con)
        finally:
            con.close()
    finally:
        lock.__exit__(None, None, None)
    typer.echo(f"{result.imported} corrections imported ({result.already_imported} already there, "
               f"{result.rows_reviewed} reviewed rows in the file)")
    if not result.imported:
        return
    if published is not None:
        typer.echo(f"published: {published} (its views and `synpunkt export` now have the corrections; rendered "
                   "reports do not until rendered again)")
    else:
        typer.echo(f"the corrections reach the published copy, reports and exports at the next `synpunkt run` "
                   f"({held_back}; rendered reports once rendered again after it)")
    stale = mark_stale(list(result.years), f"review corrections imported from {file.name} "
                                           f"{now():%Y-%m-%d %H:%M} UTC")
    for folder in stale:
        typer.echo(f"reports in {folder} are stale (marked): render them again with "
                   f"`synpunkt report --year {folder.name}`")

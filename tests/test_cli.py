"""The `synpunkt` CLI: classify round trips on every input format, evaluate, and clear operator errors (one line,
exit status 2, no traceback, checked before any work)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from synpunkt.cli import app
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt.tables import read_table, write_table

runner = CliRunner()


def _one_line_error(result) -> bool:
    """The command failed with exactly one line, `error: ...`, and no traceback."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    return (isinstance(result.exception, SystemExit) and len(lines) == 1 and lines[0].startswith("error: ")
            and "Traceback" not in result.output)
COMMENTS = pd.DataFrame({
    "id": ["1", "2", "3"],
    "kommentar": ["Handläggaren var trevlig", "Kön var alldeles för lång; jag väntade", "Vi får väl se, säger jag"],
    "kanal": ["telefon", "chatt", "e-post"],
})


def _classify(args):
    result = runner.invoke(app, ["classify", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json", ".jsonl", ".parquet"])
def test_classify_round_trip_each_format(trained, tmp_path, suffix):
    model_dir, _ = trained
    src = tmp_path / f"in{suffix}"
    write_table(COMMENTS, src)
    out = tmp_path / f"out{suffix}"
    result = _classify([src, "-o", out, "--text-column", "kommentar", "--model", model_dir])
    assert "3 comments classified" in result.output
    df = read_table(out)
    assert list(df["kommentar"]) == list(COMMENTS["kommentar"]) and list(df["kanal"]) == list(COMMENTS["kanal"])
    assert df["sentiment"].isin(SENTIMENTS).all()
    for col in [*map(prob_column, SENTIMENTS), *map(prob_column, TOPICS), "topics", "model_version"]:
        assert col in df.columns


def test_classify_keeps_every_input_column_and_renames_the_ones_named_like_predictions(trained, tmp_path):
    """Every input column, in its order, then the predictions under their own names; an input column named like
    one (here sentiment and model_version) is kept as input_<name>, also in an unreadable row's recovered cells."""
    model_dir, _ = trained
    src = tmp_path / "in.csv"
    src.write_text("ärende;kommentar;kön;sentiment;samtalstid;model_version;input_model_version\n"
                   "1;Handläggaren var trevlig;k;nöjd;3,5;v1;a\n"
                   "2;Kön var lång;m;missnöjd;12;v1;b;EXTRA\n"
                   "3;Appen kraschar;;missnöjd;7;v2;c\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = _classify([src, "-o", out, "--model", model_dir])
    df = read_table(out)
    inputs = ["ärende", "kommentar", "kön", "input_sentiment", "samtalstid", "input_input_model_version",
              "input_model_version"]
    predictions = ["sentiment", *map(prob_column, SENTIMENTS), "topics", *map(prob_column, TOPICS), "model_version"]
    assert df.columns.tolist() == inputs + predictions + ["read_error"]
    assert df["ärende"].tolist() == ["1", "2", "3"] and df["kön"].tolist() == ["k", "m", ""]
    assert df["input_sentiment"].tolist() == ["nöjd", "missnöjd", "missnöjd"]
    assert df["samtalstid"].tolist() == ["3,5", "12", "7"] and df["input_model_version"].tolist() == ["a", "b", "c"]
    assert df["input_input_model_version"].tolist() == ["v1", "v1", "v2"]
    sentiment, version = df["sentiment"].tolist(), df["model_version"].tolist()
    assert sentiment[0] in SENTIMENTS and sentiment[2] in SENTIMENTS and sentiment[1] == ""  # row 2 was not read
    assert version[0].startswith("tiny-test@") and "row 2" in result.output
    assert "input_<name>" in runner.invoke(app, ["classify", "--help"]).output


def test_with_predictions_renames_only_clashing_input_columns():
    from synpunkt.cli.model_commands import with_predictions
    from synpunkt.readers.common import BadRow

    df = pd.DataFrame({"text": ["a", "b"], "topics": ["x", "y"], "read_error": ["", "!"]}, index=[1, 3])
    predictions = pd.DataFrame({"sentiment": ["positive", "negative"], "topics": [["handler"], []]})
    bad = [BadRow(2, "malformed_row", "line 3: 4 fields", {"text": "c", "topics": "z", "read_error": "?"})]
    out, renamed = with_predictions(df, predictions, bad)
    assert out.columns.tolist() == ["text", "input_topics", "input_read_error", "sentiment", "topics"]
    assert out.index.tolist() == [1, 3] and out["topics"].tolist() == [["handler"], []]
    assert renamed[0].cells == {"text": "c", "input_topics": "z", "input_read_error": "?"} and bad[0].cells["topics"]
    out, _ = with_predictions(df, predictions, [])  # read_error is only added with unreadable rows
    assert out.columns.tolist() == ["text", "input_topics", "read_error", "sentiment", "topics"]


def test_classify_excel_csv_in_windows_1252_with_semicolons(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "excel.csv"
    src.write_bytes("id;Synpunkt\n1;Bemötandet var väldigt bra\n2;Snöröjningen är dålig\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    _classify([src, "-o", out, "--model", model_dir])  # the text column is found by its Swedish name
    df = read_table(out)
    assert list(df["Synpunkt"]) == ["Bemötandet var väldigt bra", "Snöröjningen är dålig"]
    assert len(df) == 2 and df["sentiment"].isin(SENTIMENTS).all()


def test_classify_keeps_blank_comments_as_null_rows(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"text": t}) for t in ["Bra hjälp", "   ", "Dålig service"]))
    out = tmp_path / "out.parquet"
    result = _classify([src, "-o", out, "--model", model_dir])
    df = pd.read_parquet(out)
    assert len(df) == 3 and df["sentiment"].isna().tolist() == [False, True, False]
    assert "1 blank" in result.output


def test_classify_keeps_unreadable_rows_in_place_and_says_so(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,Bra service\n2,Handläggaren var otrevlig,EXTRA\n3,Appen kraschar\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = _classify([src, "-o", out, "--model", model_dir])
    df = read_table(out)
    assert df["id"].tolist() == ["1", "2", "3"], "one output row per input data row, in order"
    assert df["sentiment"].tolist()[1] == "" and df["sentiment"].tolist()[0] in SENTIMENTS
    assert df["read_error"].tolist()[0] == "" and "line 3" in df["read_error"].tolist()[1]
    assert "1 row could not be read" in result.output and "row 2" in result.output
    assert "otrevlig" not in result.output and "EXTRA" not in result.output  # reasons never quote cells


def test_classify_names_each_rows_sheet_and_warns_about_comments_read_in_part(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "book.xlsx"
    with pd.ExcelWriter(src) as book:
        COMMENTS.to_excel(book, sheet_name="Januari", index=False)
        pd.DataFrame({"id": ["4", "5"], "kommentar": ["Bra", " ".join(["Kön var lång och ingen svarade"] * 80)],
                      "kanal": ["chatt", "brev"]}).to_excel(book, sheet_name="Februari", index=False)
    out = tmp_path / "out.csv"
    result = _classify([src, "-o", out, "--model", model_dir])
    df = read_table(out)
    assert df.columns[0] == "sheet" and df["sheet"].tolist() == ["Januari"] * 3 + ["Februari"] * 2
    assert df["id"].tolist() == ["1", "2", "3", "4", "5"] and "column 'sheet'" in result.output
    assert "warning: 1 comment longer than the model reads" in result.output and "Kön" not in result.output
    one = tmp_path / "one.csv"
    result = _classify([tmp_path / "out.csv", "-o", one, "--model", model_dir])  # one sheet (a CSV): no column added
    assert read_table(one).columns.tolist().count("sheet") == 1 and "column 'sheet'" not in result.output


def test_classify_refuses_to_overwrite_its_input(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "book.xlsx"
    write_table(COMMENTS, src)
    before = src.read_bytes()
    result = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "." / "book.xlsx"),
                                 "--model", str(model_dir)])
    assert result.exit_code == 2 and _one_line_error(result) and "is the input file" in result.output
    assert src.read_bytes() == before


def test_classify_unknown_column_is_a_clear_error(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.csv"
    write_table(COMMENTS, src)
    result = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "o.csv"), "--text-column", "nope",
                                 "--model", str(model_dir)])
    assert result.exit_code == 2 and _one_line_error(result)
    assert "--text-column" in result.output and "'nope' not found" in result.output
    assert "kanal" not in result.output  # the file's other column names (possibly personal data) are not echoed


def test_classify_unsupported_input_is_a_clear_error(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "in.docx"
    src.write_text("x")
    result = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(model_dir)])
    assert result.exit_code == 2 and ".docx" in result.output


def test_evaluate_any_labelled_file(trained, tmp_path):
    model_dir, _ = trained
    labelled = pd.DataFrame({"text": ["Bra bemötande", "Lång kö", "Vi får se", "Toppen"],
                             "label": ["positive", "negative", "skeptical", "positive"],
                             "topics": ["handler", "wait_time", "municipal_services", "experience;handler"]})
    src = tmp_path / "labelled.csv"
    write_table(labelled, src)
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["evaluate", "--data", str(src), "--model", str(model_dir), "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "Confusion matrix" in result.output
    saved = json.loads(report.read_text())["sets"]["labelled"]
    assert saved["sentiment"]["n"] == 4 and "micro_f1" in saved["topics"]


def test_evaluate_behaviour_prints_the_failure_table(trained, tmp_path):
    model_dir, _ = trained
    report = tmp_path / "behaviour.json"
    result = runner.invoke(app, ["evaluate", "--behaviour", "--model", str(model_dir), "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "| inv_upper | INV | casing |" in result.output and "| mft_irony | MFT | irony |" in result.output
    table = json.loads(report.read_text())["behaviour"]
    assert {r["test"] for r in table} >= {"inv_upper", "mft_negation", "dir_add_complaint"}
    assert all(0 <= r["failure_rate"] <= 1 for r in table)


def test_evaluate_rejects_unknown_labels(trained, tmp_path):
    model_dir, _ = trained
    src = tmp_path / "bad.csv"
    write_table(pd.DataFrame({"text": ["a", "b"], "sentiment": ["positive", "happy"]}), src)
    result = runner.invoke(app, ["evaluate", "--data", str(src), "--model", str(model_dir)])
    assert result.exit_code == 2 and "happy" in result.output


def test_submit_lands_a_file_and_status_lists_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "home"))
    for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED"):
        monkeypatch.delenv(var, raising=False)
    src = tmp_path / "export.csv"
    write_table(COMMENTS.assign(datum="2025-01-01"), src)
    first = runner.invoke(app, ["submit", str(src), "--municipality", "180"])
    assert first.exit_code == 0 and "landed: batch 0180-" in first.output
    again = runner.invoke(app, ["submit", str(src), "--municipality", "0180"])
    assert "already received" in again.output
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0 and "waiting for the next run" in status.output and "Stockholm" in status.output
    bad = runner.invoke(app, ["submit", str(src), "--municipality", "9999"])
    assert bad.exit_code == 2 and "unknown municipality code" in bad.output
    stuck = tmp_path / "home" / "inbox" / "0180"
    stuck.mkdir(parents=True)
    (stuck / "Karin Lundqvist.dat").write_text("x")
    (stuck / "tom.csv").write_bytes(b"")
    monkeypatch.setenv("SYNPUNKT_INBOX_SETTLE_SECONDS", "0")  # the empty file has settled
    status = runner.invoke(app, ["status"])
    assert "inbox: 2 file(s) cannot be landed" in status.output and "Lundqvist" not in status.output


# -- operator errors ---------------------------------------------------------------------------------------------
@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "home"))
    for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Four municipalities with classified comments (Gotland only in 2025), from tests/analyst_warehouse.py."""
    from analyst_warehouse import build_published

    return build_published(tmp_path_factory.mktemp("cli-warehouse"))


@pytest.fixture()
def no_model_loading(monkeypatch):
    """Fail the test if a command gets as far as loading the model (the expensive part)."""
    from synpunkt.classifier import Classifier

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(Classifier, "load", refuse)


def test_report_for_a_municipality_without_data_is_one_line(published):
    none_at_all = runner.invoke(app, ["report", "--municipality", "Vallentuna", "--warehouse", str(published)])
    assert none_at_all.exit_code == 2 and _one_line_error(none_at_all)
    assert "Vallentuna (0115) has no classified comments for 2025; its years with data: none" in none_at_all.output
    not_that_year = runner.invoke(app, ["report", "--year", "2024", "--municipality", "980",
                                        "--warehouse", str(published)])
    assert not_that_year.exit_code == 2 and _one_line_error(not_that_year)
    assert "Gotland (0980) has no classified comments for 2024; its years with data: 2025" in not_that_year.output


@pytest.mark.parametrize("name, expected", [
    ("Götebrg", "unknown municipality 'Götebrg'; close matches: Göteborg (1480)"),
    ("Upplands", "close matches: Upplands-Bro (0139), Upplands Väsby (0114)"),
    ("Hâbo", "municipality 'Hâbo' is ambiguous: Håbo (0305), Habo (0643)"),
    ("Atlantis", "unknown municipality 'Atlantis'; give a four-digit SCB code"),
])
def test_unknown_or_ambiguous_municipality_lists_close_matches(published, name, expected):
    result = runner.invoke(app, ["report", "--municipality", name, "--warehouse", str(published)])
    assert result.exit_code == 2 and _one_line_error(result) and expected in result.output


def test_report_paths_of_the_wrong_kind_are_one_line(published, tmp_path):
    folder = runner.invoke(app, ["report", "--warehouse", str(tmp_path)])
    assert folder.exit_code == 2 and _one_line_error(folder) and "is a folder" in folder.output
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("not a database")
    garbage = runner.invoke(app, ["report", "--warehouse", str(not_duckdb)])
    assert garbage.exit_code == 2 and _one_line_error(garbage)
    out_file = tmp_path / "reports.html"
    out_file.write_text("")
    out = runner.invoke(app, ["report", "--out", str(out_file), "--warehouse", str(published)])
    assert out.exit_code == 2 and _one_line_error(out) and "give a folder" in out.output
    under_a_file = runner.invoke(app, ["report", "--out", str(out_file / "2025"), "--warehouse", str(published)])
    assert under_a_file.exit_code == 2 and _one_line_error(under_a_file) and "cannot make" in under_a_file.output


def test_classify_unsupported_output_suffix_is_refused_before_classifying(tmp_path, no_model_loading):
    src = tmp_path / "in.csv"
    write_table(COMMENTS, src)
    result = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "out.xyz")])
    assert result.exit_code == 2 and _one_line_error(result)
    assert "--output" in result.output and "'.xyz'" in result.output and ".parquet" in result.output
    assert not (tmp_path / "out.xyz").exists()


def test_classify_folder_given_as_a_file_is_one_line(tmp_path, no_model_loading):
    src = tmp_path / "in.csv"
    write_table(COMMENTS, src)
    as_input = runner.invoke(app, ["classify", str(tmp_path), "-o", str(tmp_path / "out.csv")])
    assert as_input.exit_code == 2 and _one_line_error(as_input) and "is a folder" in as_input.output
    (tmp_path / "results.csv").mkdir()
    as_output = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "results.csv")])
    assert as_output.exit_code == 2 and _one_line_error(as_output) and "--output" in as_output.output
    missing_model = runner.invoke(app, ["classify", str(src), "-o", str(tmp_path / "o.csv"),
                                        "--model", str(tmp_path / "no-model")])
    assert missing_model.exit_code == 2 and _one_line_error(missing_model) and "--model" in missing_model.output


def test_run_with_a_wrong_model_folder_fails_before_any_work(home, tmp_path):
    for folder, says in ((tmp_path / "no-model", "no such model folder"), (tmp_path, "not a Synpunkt model folder")):
        result = runner.invoke(app, ["run", "--model", str(folder)])
        assert result.exit_code == 2 and _one_line_error(result) and says in result.output
    assert not (home / "warehouse").exists(), "nothing ran"


def test_submit_accepts_names_and_refuses_folders(home, tmp_path):
    src = tmp_path / "export.csv"
    write_table(COMMENTS.assign(datum="2025-01-01"), src)
    for name in ("goteborg", "Göteborg", "GÖTEBORGS KOMMUN"):
        result = runner.invoke(app, ["submit", str(src), "--municipality", name])
        assert result.exit_code == 0 and "batch 1480-" in result.output, result.output
    folder = runner.invoke(app, ["submit", str(tmp_path), "--municipality", "0180"])
    assert folder.exit_code == 2 and _one_line_error(folder) and "is a folder" in folder.output
    unknown = runner.invoke(app, ["submit", str(src), "--municipality", "Goteburg"])
    assert unknown.exit_code == 2 and _one_line_error(unknown) and "Göteborg (1480)" in unknown.output


def test_submit_the_same_file_for_two_municipalities_is_refused(home, tmp_path):
    from synpunkt.landing import landed_batches

    src = tmp_path / "export.csv"
    write_table(COMMENTS.assign(datum="2025-01-01"), src)
    first = runner.invoke(app, ["submit", str(src), "--municipality", "Stockholm"])
    assert first.exit_code == 0, first.output
    batch = first.output.split("batch ")[1].split()[0]
    second = runner.invoke(app, ["submit", str(src), "--municipality", "1480"])
    assert second.exit_code == 2 and _one_line_error(second)
    assert f"already been submitted for another municipality (batch {batch} for 0180)" in second.output
    assert [r.municipality_code for r in landed_batches()] == ["0180"]
    again = runner.invoke(app, ["submit", str(src), "--municipality", "0180"])  # the same municipality: idempotent
    assert again.exit_code == 0 and "already received" in again.output


def test_token_accepts_a_name(home):
    from synpunkt.api import token_municipality

    result = runner.invoke(app, ["token", "Malmö"])
    assert result.exit_code == 0 and token_municipality(result.output.strip()) == "1280"


# -- a quiet log -------------------------------------------------------------------------------------------------
def test_commands_set_quiet_defaults_and_the_users_values_win(home, monkeypatch):
    from synpunkt.runtime import QUIET_DEFAULTS

    for name in QUIET_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRANSFORMERS_VERBOSITY", "info")  # the user's own choice
    result = runner.invoke(app, ["report", "--warehouse", str(home / "none.duckdb")])
    assert result.exit_code == 2
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1" and os.environ["TRANSFORMERS_VERBOSITY"] == "info"


def test_report_kernels_run_without_kernel_warnings(tmp_path):
    """Papermill with the project's kernel settings: no "[IPKernelApp] WARNING | ... without encryption", no
    "ERROR | KeyboardInterrupt caught in kernel" at shutdown."""
    import nbformat

    notebook = tmp_path / "t.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1 + 1)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebook)
    script = ("import papermill\nfrom synpunkt.runtime import kernel_config\nfor _ in range(4):\n"
              f"    papermill.execute_notebook({str(notebook)!r}, {str(tmp_path / 'o.ipynb')!r}, kernel_name='python3',"
              " progress_bar=False, log_output=False, config=kernel_config())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "IPKernelApp" not in done.stderr and "WARNING" not in done.stderr, done.stderr
    assert nbformat.read(tmp_path / "o.ipynb", as_version=4).cells[0].outputs[0]["text"] == "2\n"


def test_alerts_options_that_do_nothing_are_refused_and_long_texts_are_cut(home):
    from synpunkt.cli.pipeline_commands import _shortened

    for args, says in ((["alerts", "--by", "Kim"], "--by goes with --ack"),
                       (["alerts", "--ack", " ", "--by", "Kim"], "--ack needs an alert id")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and _one_line_error(result) and says in result.output
    text = "Ett ord " * 200
    short = _shortened(text)
    assert short.startswith("Ett ord") and len(short) < 480 and "more characters" in short
    assert _shortened("Kort text.") == "Kort text."


def test_alert_state_reads_open_alerts_among_acknowledged_ones():
    """`synpunkt alerts --all` lists open and acknowledged alerts together: pandas gives the open ones' NULLs as NaN
    and NaT, which must read as OPEN (they crashed the listing: "NaTType does not support strftime")."""
    import numpy as np
    import pandas as pd

    from synpunkt.cli.pipeline_commands import alert_state

    assert alert_state(np.nan, pd.NaT) == "OPEN"
    assert alert_state(None, None) == "OPEN"
    assert alert_state("Kim, socialjouren", pd.Timestamp("2026-03-02 14:05", tz="UTC")) == \
        "acknowledged 2026-03-02 14:05 by Kim, socialjouren"
    frame = pd.DataFrame({"acknowledged_by": ["Kim", None], "acknowledged_at": [pd.Timestamp("2026-03-02"), None]})
    assert [alert_state(a.acknowledged_by, a.acknowledged_at) for a in frame.itertuples()] == \
        ["acknowledged 2026-03-02 00:00 by Kim", "OPEN"]


def test_status_notes_are_cut_at_a_word_boundary():
    from synpunkt.cli.pipeline_commands import _note

    long = "the file is not a table: a zip archive that is not an Excel workbook (BadZipFile); " * 3
    assert _note("a short reason") == "a short reason"
    cut = _note(long)
    assert cut.endswith(" …") and len(cut) <= 162 and long.startswith(cut[:-2]) and long[len(cut) - 2] == " "


def test_a_run_that_cannot_get_the_warehouse_fails_in_one_line(home, monkeypatch):
    """Another process holds the pipeline lock for the whole wait: `synpunkt run` says so in one line and exits 4,
    before the flow starts (no tracebacks)."""
    import os
    import subprocess
    import sys
    import time

    from typer.testing import CliRunner

    from synpunkt.cli import app
    from synpunkt.cli import pipeline_commands

    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from synpunkt.warehouse import pipeline_lock\n"
                               "with pipeline_lock(what='a test holding the lock'):\n    print('held', flush=True)\n"
                               "    time.sleep(60)"],
        env={**os.environ, "SYNPUNKT_HOME": str(home)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(pipeline_commands, "RUN_LOCK_WAIT_S", 1)
        started = time.monotonic()
        result = CliRunner().invoke(app, ["run"])
        assert result.exit_code == 4 and time.monotonic() - started < 30
        assert "this run did not start" in result.output and "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()


def test_evaluate_fails_in_one_line_before_any_work(tmp_path, monkeypatch):
    """Red-team findings: a folder that is no model, a bad SYNPUNKT_BACKEND and an --output under a file were
    tracebacks (the last after the whole evaluation)."""
    from typer.testing import CliRunner

    from synpunkt.cli import app

    data = tmp_path / "labelled.csv"
    data.write_text("text,sentiment\nBra service,positive\nDålig service,negative\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    runner = CliRunner()
    for args, says in ((["--model", str(tmp_path / "missing")], "no such model folder"),
                       (["--model", str(tmp_path / "empty")], "not a Synpunkt model folder"),
                       (["-o", str(blocker / "r.json")], "is a file, not a folder")):
        result = runner.invoke(app, ["evaluate", "--data", str(data), *args])
        assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output, args
    monkeypatch.setenv("SYNPUNKT_BACKEND", "nonsense")
    result = runner.invoke(app, ["evaluate", "--data", str(data)])
    assert result.exit_code == 2 and "SYNPUNKT_BACKEND" in result.output


def test_predict_reads_missing_values_as_missing_and_refuses_non_text(shipped_model_dir):
    import numpy as np
    import pandas as pd
    import pytest

    from synpunkt.classifier import Classifier

    shipped = Classifier.load(shipped_model_dir)
    table = shipped.predict([pd.NA, np.float32("nan"), None, "Bra service"])
    assert table["sentiment"].isna().tolist() == [True, True, True, False]
    with pytest.raises(TypeError, match="item 1 is a bytes"):
        shipped.predict(["Bra", b"Bra service"])
    with pytest.raises(ValueError, match="batch_size"):
        shipped.predict(["Bra"], batch_size=-1)


def test_a_hub_base_model_offline_is_one_line_saying_how_to_supply_it(monkeypatch, tmp_path):
    """The hub id a user with access would plug in (KB/bert-base-swedish-cased): offline and not cached, training
    fails before any work with what to do, and loading it raises BaseModelUnavailable (an OSError) saying so."""
    import pytest
    from typer.testing import CliRunner

    from synpunkt.base_model import BaseModelUnavailable, load_base
    from synpunkt.cli import app

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    result = CliRunner().invoke(app, ["train", "--base-model", "KB/bert-base-swedish-cased",
                                      "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2 and "HF_HUB_OFFLINE is set" in result.output
    assert "--local-dir" in result.output and "Traceback" not in result.output
    with pytest.raises(BaseModelUnavailable, match="not in the local Hugging Face cache"):
        load_base("KB/bert-base-swedish-cased")


def test_a_hub_base_model_without_network_is_one_line_whatever_hf_hub_offline_says(monkeypatch, tmp_path):
    """Operator red team: without HF_HUB_OFFLINE, a hub id on a machine without network was the train flow's
    tracebacks and exit 1. The Hub's answer is simulated here (no network call): no connection, then no such model."""
    import huggingface_hub
    import pytest
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError
    from typer.testing import CliRunner

    from synpunkt.base_model import BaseModelUnavailable, check_base_available
    from synpunkt.cli import app

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    calls = []

    def no_network(repo_id, filename, **kwargs):
        calls.append((repo_id, filename))
        raise LocalEntryNotFoundError("An error happened while trying to locate the file on the Hub")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    result = CliRunner().invoke(app, ["train", "--base-model", "KB/bert-base-swedish-cased",
                                      "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2 and _one_line_error(result), result.output
    assert "cannot be reached from here" in result.output and "--local-dir" in result.output
    assert calls == [("KB/bert-base-swedish-cased", "config.json")]
    assert not (tmp_path / "out").exists()

    def no_such_model(repo_id, filename, **kwargs):
        raise RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # as the Hub's 404 (its response not needed)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_such_model)
    with pytest.raises(BaseModelUnavailable, match="has no such model"):
        check_base_available("KB/no-such-model")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("offline: no Hub call"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BaseModelUnavailable, match="HF_HUB_OFFLINE is set"):
        check_base_available("KB/bert-base-swedish-cased")


def test_a_labelled_file_may_name_sentiments_in_swedish(tmp_path):
    """As the review sheet does: "Positiv", "negativ", "SKEPTISK" are the codes positive, negative, skeptical."""
    from synpunkt.data import load_labelled_file

    path = tmp_path / "labelled.csv"
    path.write_text("text,sentiment\nBra,Positiv\nDåligt,negativ\nTja,SKEPTISK\nOk,positive\n", encoding="utf-8")
    assert load_labelled_file(path)["sentiment"].tolist() == ["positive", "negative", "skeptical", "positive"]

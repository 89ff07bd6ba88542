"""Rendering: the report notebook executed headless (papermill), turned into a self-contained HTML page with
the code hidden (nbconvert), printed to PDF (headless Chromium), and the folder's index.html."""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from synpunkt import config
from synpunkt.labels import ALL_TOPICS
from synpunkt.os_errors import plain_reason
from synpunkt.report.context import open_report, page_title
from synpunkt.report.formatting import Formatter, fmt_datetime
from synpunkt.report.pdf import print_pdf
from synpunkt.report.queries import municipalities_with_data, year_shares
from synpunkt.report.templating import render
from synpunkt.report.text import LANGUAGES, strings

log = logging.getLogger(__name__)

NOTEBOOK = config.PROJECT_ROOT / "reports" / "annual_report.ipynb"
"""The parameterised report notebook (parameters: year, municipality, lang, warehouse, model_dir)."""


def show(html) -> None:
    """Display a section (HTML, or a list of HTML fragments) in the notebook."""
    from IPython.display import HTML, display

    display(HTML("\n".join(map(str, html)) if isinstance(html, (list, tuple)) else str(html)))


def page_html(body: str, title: str, lang: str) -> str:
    """A complete, self-contained HTML page (no scripts, no external resources) with the print layout: A4,
    a running header with the title and page numbers in the footer."""
    s = strings(lang)
    return str(render("page.html.j2", body=Markup(body), title=title, lang=lang, page_label=s["page_label"],
                      page_of=s["page_of"])) + "\n"


def notebook_to_html(notebook_path: Path, title: str, lang: str) -> str:
    """Render an executed report notebook to HTML with the code hidden (nbconvert HTMLExporter)."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    nb = nbformat.read(str(notebook_path), as_version=4)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                log.warning("report notebook wrote to stderr (left out of the report): %s",
                            str(out.get("text", ""))[:500])
                continue
            kept.append(out)
        cell["outputs"] = kept
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    exporter = HTMLExporter(config=c, template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True)
    body, _ = exporter.from_notebook_node(nb)
    return page_html(body, title, lang)


def default_out_dir(year: int) -> Path:
    """Where a year's reports go by default: $SYNPUNKT_HOME/reports/<year>/."""
    return config.home() / "reports" / str(year)


def unwritable_reason(out: Path | str) -> str | None:
    """Why the reports cannot be written into the folder `out` (and its notebooks/ subfolder, which the flow
    makes), or None: a temporary file is created and deleted in each that exists. Checked before any work."""
    import tempfile

    out = Path(out)
    for folder in (out, out / "notebooks"):
        if not folder.exists():
            continue  # made by the flow in a folder already checked
        if not folder.is_dir():
            return f"{folder} is not a folder; cannot write the reports there"
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".synpunkt-write-check-"):
                pass
        except OSError as err:
            return f"cannot write into {folder} ({plain_reason(err)})"
    return None


STALE_NOTE = "STALE.txt"
"""In a year's report folder: why its reports no longer match the warehouse (a batch withdrawn since they were
rendered; mark_stale). A full render of the year into the folder removes it (flows/report.py)."""


def mark_stale(years: list[int], why: str) -> list[Path]:
    """Append `why` (one line, no comment text) to STALE_NOTE in each of `years`' default report folders that
    holds rendered reports; returns the folders marked. Re-rendering the year (`synpunkt report --year Y`) clears
    it."""
    marked = []
    for year in sorted(set(years)):
        folder = default_out_dir(year)
        if not (folder / "index.html").exists():
            continue
        note = folder / STALE_NOTE
        with open(note, "a", encoding="utf-8") as f:
            f.write(f"{why}; render again: synpunkt report --year {year}\n")
        config.shared_file(note)
        marked.append(folder)
    return marked


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


def report_stem(year: int, code: str | None, name: str, lang: str) -> str:
    """File name stem: synpunkt-2025-0180-stockholm-sv, synpunkt-2025-national-en."""
    return f"synpunkt-{year}-{code}-{_slug(name)}-{lang}" if code else f"synpunkt-{year}-national-{lang}"


@dataclass
class RenderedReport:
    year: int
    municipality: str | None
    name: str
    lang: str
    html: str
    pdf: str | None
    notebook: str
    n: int
    net_score: float
    net_score_lo: float
    net_score_hi: float
    seconds: float
    generated: str | None = None
    """When the report was rendered (ISO date and time, local), shown in the index."""


def render_report(year: int, municipality: str | None = None, lang: str = "sv", out_dir: Path | str | None = None,
                  warehouse: Path | str | None = None, model_dir: Path | str | None = None, pdf: bool = True,
                  notebook: Path | str = NOTEBOOK, timeout: int = 600) -> RenderedReport:
    """Execute the report notebook headless (papermill), render it to HTML (code hidden) and, if Chromium is
    available and pdf=True, to PDF. Returns where the files are."""
    import papermill

    from synpunkt.runtime import kernel_config

    started = time.monotonic()
    warehouse = Path(warehouse).resolve() if warehouse else config.published_path().resolve()
    rep = open_report(year, municipality, lang, warehouse, model_dir)  # validates before starting a kernel
    try:
        year, code, name, title = rep.year, rep.code, rep.name, page_title(rep)
        shares = year_shares(rep.con, year, code)
        head = shares[shares["topic"] == ALL_TOPICS].iloc[0]
    finally:
        rep.close()
    out = Path(out_dir) if out_dir else default_out_dir(year)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    stem = report_stem(year, code, name, lang)
    executed = out / "notebooks" / f"{stem}.ipynb"
    params = {"year": int(year), "municipality": code, "lang": lang, "warehouse": str(warehouse),
              "model_dir": str(Path(model_dir).resolve()) if model_dir else None}
    papermill.execute_notebook(str(notebook), str(executed), parameters=params, kernel_name="python3",
                               progress_bar=False, log_output=False, cwd=str(out), execution_timeout=timeout,
                               config=kernel_config())
    html_path = out / f"{stem}.html"
    html_path.write_text(notebook_to_html(executed, title, lang), encoding="utf-8")
    pdf_path = None
    if pdf:
        target = out / f"{stem}.pdf"
        if print_pdf(html_path, target):
            pdf_path = str(target)
    return RenderedReport(year=year, municipality=code, name=name, lang=lang, html=str(html_path), pdf=pdf_path,
                          notebook=str(executed), n=int(head["n"]), net_score=float(head["net_score"]),
                          net_score_lo=float(head["net_score_lo"]), net_score_hi=float(head["net_score_hi"]),
                          seconds=round(time.monotonic() - started, 1),
                          generated=datetime.now().isoformat(timespec="seconds"))


def report_targets(warehouse: Path | str | None, year: int) -> list[tuple[str | None, str]]:
    """(code, name) for the national report (None) and every municipality with data in `year`."""
    from synpunkt.publish import open_published

    con = open_published(Path(warehouse) if warehouse else None)
    try:
        munis = municipalities_with_data(con, year)
    finally:
        con.close()
    return [(None, "national")] + list(zip(munis["code"], munis["name"]))


def index_language(entries: list[dict]) -> str:
    """The index's language: that of most of its reports; Swedish on a tie or without reports."""
    counts = Counter(e.get("lang") for e in entries)
    best = max((counts[lang] for lang in LANGUAGES), default=0)
    return next((lang for lang in LANGUAGES if counts[lang] == best), LANGUAGES[0]) if best else LANGUAGES[0]


def write_index(out_dir: Path | str, year: int, reports: list[RenderedReport | dict], lang: str = "sv",
                warehouse: Path | str | None = None) -> Path:
    """index.html linking every report in the folder (merged with earlier runs via index.json), with each
    report's language and the time it was rendered.

    The index is in the language of most of its reports (index_language), not `lang` (the language of the
    run that writes it, accepted for compatibility): one English report does not turn a Swedish index English.
    `warehouse` is accepted for compatibility and not shown: the index is published beside the reports.
    """
    out = Path(out_dir)
    manifest_path = out / "index.json"
    entries: dict[str, dict] = {}
    if manifest_path.exists():
        try:
            entries = {e["html"]: e for e in json.loads(manifest_path.read_text(encoding="utf-8"))}
        except (ValueError, KeyError, TypeError):
            entries = {}
    for r in reports:
        d = asdict(r) if isinstance(r, RenderedReport) else dict(r)
        d["html"] = Path(d["html"]).name
        d["pdf"] = Path(d["pdf"]).name if d.get("pdf") else None
        d["notebook"] = str(Path(d["notebook"]).relative_to(out)) if d.get("notebook") and \
            Path(d["notebook"]).is_relative_to(out) else d.get("notebook")
        entries[d["html"]] = d
    entries = {k: v for k, v in entries.items() if (out / k).exists()}
    for k, e in entries.items():  # reports from before the field: the time their HTML was written
        if not e.get("generated"):
            e["generated"] = datetime.fromtimestamp((out / k).stat().st_mtime).isoformat(timespec="seconds")
    manifest_path.write_text(json.dumps(list(entries.values()), indent=1, ensure_ascii=False), encoding="utf-8")
    lang = index_language(list(entries.values()))
    s = strings(lang)
    ordered = sorted(entries.values(), key=lambda e: (e["municipality"] is not None, e["name"], e["lang"]))
    title = s["index_title"].format(year=year)
    latest = max((e["generated"] for e in ordered), default=None)
    body = render("index.html.j2", s=s, title=title, entries=ordered, fmt=Formatter(lang),
                  generated=fmt_datetime(latest, lang) if latest else None)
    index = out / "index.html"
    index.write_text(page_html(body, title, lang), encoding="utf-8")
    return index

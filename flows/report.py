"""Prefect flow: the annual reports of one year, rendered headless from ``reports/annual_report.ipynb``.

    report_flow(year=2025)                       national report + one per municipality with data, + index.html
    report_flow(year=2025, municipality="0180")  only Stockholm's report (the index is updated)
    report_flow()                                last calendar year's (Swedish time): the yearly deployment's run

Each report is one Prefect task (papermill -> HTML with the code hidden -> PDF with headless Chromium when
installed). Reports only read the published, read-only warehouse, so they can run while the pipeline writes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from synpunkt import config
from synpunkt import report as R


@task(name="render-report", cache_policy=NO_CACHE, task_run_name="report-{year}-{label}-{lang}")
def render_report_task(year: int, municipality: str | None, lang: str, out_dir: Path, warehouse: Path | None,
                       model_dir: Path | None, pdf: bool, label: str) -> R.RenderedReport:
    logger = get_run_logger()
    result = R.render_report(year, municipality, lang=lang, out_dir=out_dir, warehouse=warehouse,
                             model_dir=model_dir, pdf=pdf)
    for path in (result.html, result.pdf, result.notebook):
        if path:
            config.shared_file(path)  # 0640: redacted figures and quotes, readable by the analysts' group
    logger.info("%s: %s%s (%.1f s)", label, result.html, f" + {Path(result.pdf).name}" if result.pdf else "",
                result.seconds)
    return result


def previous_year(now: datetime | None = None) -> int:
    """Last calendar year in Swedish time (config.TIMEZONE): what a January run reports on."""
    return (now or datetime.now(ZoneInfo(config.TIMEZONE))).astimezone(ZoneInfo(config.TIMEZONE)).year - 1


@flow(name="annual-reports")
def report_flow(year: int | None = None, municipality: str | None = None, lang: str = "sv", out_dir: Path | None = None,
                warehouse: Path | None = None, pdf: bool = True, model_dir: Path | None = None) -> str:
    """Render the year's reports into out_dir (default $SYNPUNKT_HOME/reports/<year>/) and write its index.html.

    year=None: the previous calendar year (the yearly deployment runs in January). municipality=None: the
    national report and every municipality's report with data for `year`; otherwise only that municipality's.
    Returns the folder. Raises after rendering the others if any report fails.
    """
    from tqdm.auto import tqdm

    from synpunkt.publish import open_published

    logger = get_run_logger()
    R.strings(lang)  # unsupported language: fail before any work
    year = previous_year() if year is None else year
    out = Path(out_dir) if out_dir else R.default_out_dir(year)
    config.shared_dir(out / "notebooks")  # 0750, whatever the umask (the notebooks folder is created here too)
    if municipality is None:
        targets = R.report_targets(warehouse, year)
        if len(targets) == 1:
            con = open_published(Path(warehouse) if warehouse else None)
            try:
                years = R.report_years(con)
            finally:
                con.close()
            listed = ", ".join(map(str, years)) or "none"
            raise ValueError(f"no classified comments for {year}; years with data: {listed}")
    else:  # an unknown municipality, or one without comments that year: a clear ValueError before any work
        rep = R.open_report(year, municipality, lang, warehouse, model_dir)
        rep.close()
        targets = [(rep.code, rep.name)]
    if pdf and not R.find_chromium():
        logger.warning(R.PDF_HINT)
        pdf = False
    rendered, failed = [], []
    for code, name in tqdm(targets, desc=f"Reports {year}", unit="report"):
        label = code or "national"
        state = render_report_task(year, code, lang, out, warehouse, model_dir, pdf, label, return_state=True)
        if state.is_failed():
            failed.append(f"{name} ({label})")
            logger.error("report %s failed: %s", label, state.message)
        else:
            rendered.append(state.result())
    index = R.write_index(out, year, rendered, lang=lang, warehouse=warehouse)
    for path in (index, out / "index.json"):  # the index and its manifest
        config.shared_file(path)
    logger.info("%d report(s) in %s (index: %s)", len(rendered), out, index.name)
    if failed:
        raise RuntimeError(f"{len(failed)} report(s) failed: {', '.join(failed)}; the others are in {out}")
    if municipality is None:  # every report of the year rendered again: none is stale any more
        (out / R.STALE_NOTE).unlink(missing_ok=True)
    return str(out)

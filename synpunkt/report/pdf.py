"""PDF and screenshots with headless Chromium (Debian's ``chromium`` package).

Page numbers and the running header are CSS ``@page`` margin boxes (``templates/page.html.j2``), which Chromium
prints since version 131; its own header and footer (date, file path) are switched off.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MARGIN_BOXES_SINCE = 131
"""First Chromium version that prints CSS @page margin boxes (page numbers, running header)."""
PDF_HINT = ("PDF not written: headless Chromium was not found. The HTML reports are complete; for PDFs install "
            "Debian's `chromium` package (sudo apt-get install chromium) and run the report again.")


def find_chromium() -> str | None:
    """A headless-capable Chromium or Chrome on PATH (Debian: the `chromium` package)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@functools.lru_cache(maxsize=4)
def chromium_major(exe: str) -> int | None:
    """Chromium's major version (None when `--version` does not say)."""
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+)\.\d+\.\d+", out)
    return int(found.group(1)) if found else None


def chromium_command(exe: str, profile: Path, *args: str) -> list[str]:
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--hide-scrollbars", f"--user-data-dir={profile}", *args]


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 180) -> bool:
    """Print an HTML file to PDF with headless Chromium; False (with a logged reason) when that is not possible."""
    exe = find_chromium()
    if not exe:
        log.warning(PDF_HINT)
        return False
    major = chromium_major(exe)
    if major is not None and major < MARGIN_BOXES_SINCE:
        log.warning("Chromium %s prints no page numbers or running header (they need Chromium %d or newer)",
                    major, MARGIN_BOXES_SINCE)
    pdf_path = Path(pdf_path)
    tmp_pdf = pdf_path.with_name(f".{pdf_path.name}.tmp.pdf")
    tmp_pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="synpunkt-chromium-") as profile:
        cmd = chromium_command(exe, Path(profile), "--no-pdf-header-footer", f"--print-to-pdf={tmp_pdf}",
                               Path(html_path).resolve().as_uri())
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (subprocess.TimeoutExpired, OSError) as err:
            log.warning("PDF not written for %s: Chromium failed (%s)", Path(html_path).name, err)
            tmp_pdf.unlink(missing_ok=True)
            return False
    if not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
        log.warning("PDF not written for %s: Chromium exited with %s: %s", Path(html_path).name, proc.returncode,
                    (proc.stderr or "")[-400:])
        tmp_pdf.unlink(missing_ok=True)
        return False
    tmp_pdf.replace(pdf_path)
    return True


def screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 4000, timeout: float = 120) -> bool:
    """A PNG screenshot of an HTML file with headless Chromium (for documentation)."""
    exe = find_chromium()
    if not exe:
        log.warning(PDF_HINT.replace("PDF", "Screenshot", 1))
        return False
    with tempfile.TemporaryDirectory(prefix="synpunkt-chromium-") as profile:
        cmd = chromium_command(exe, Path(profile), f"--screenshot={Path(png_path).resolve()}",
                               f"--window-size={width},{height}", Path(html_path).resolve().as_uri())
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout)
        except (subprocess.TimeoutExpired, OSError) as err:
            log.warning("screenshot not taken for %s: Chromium failed (%s)", Path(html_path).name, err)
            return False
    return Path(png_path).exists()

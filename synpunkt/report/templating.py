"""The Jinja2 environment of the reports: every page and section is a template in ``templates/``, rendered
with autoescaping (comments, names and metadata values can never add markup)."""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from synpunkt.report.statistics import ALPHA, MIN_RANK_N, MIN_TEST_N, SMALL_MARK

TEMPLATES = Path(__file__).resolve().parent / "templates"


def bold(text, cls: str | None = None) -> Markup:
    """<b>text</b> (escaped), optionally with a class: for the highlighted numbers inside a sentence."""
    if cls:
        return Markup('<b class="{}">{}</b>').format(cls, text)
    return Markup("<b>{}</b>").format(text)


def css_string(text: str) -> Markup:
    """A CSS string literal (for the PDF's running header): quotes, backslashes and '<' escaped."""
    out = "".join(f"\\{ord(c):x} " if c in '"\\<>\n' else c for c in str(text))
    return Markup(f'"{out}"')


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    # the thresholds every table's small-sample marks and legends use (macros.html.j2: small_mark, small_notes)
    env.globals.update(bold=bold, alpha=ALPHA, min_rank_n=MIN_RANK_N, min_test_n=MIN_TEST_N,
                       small_symbol=SMALL_MARK)
    env.filters["css_string"] = css_string
    return env


def render(template: str, /, **context) -> Markup:
    """Render one template (name relative to templates/) to HTML."""
    return Markup(environment().get_template(template).render(**context))

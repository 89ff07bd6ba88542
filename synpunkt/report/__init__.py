"""Annual reports: ``reports/annual_report.ipynb`` puts the sections built here in order; :func:`render_report`
executes it headless and writes HTML (code hidden) and PDF.

One module per job, so that a chart or a sentence can be changed without reading the rest:

* ``queries``: the warehouse queries and a municipality's comparison group (``f(con, year, code) -> DataFrame``);
* ``statistics``: intervals, the z-test for net scores, chi-square and t-tests, rank and gap to the country;
* ``metadata``: the equal-treatment fields found in the comments' metadata;
* ``figures``: matplotlib figures in a colour-blind-safe palette (mathtext off: data is text);
* ``text``: every sentence, one table per language; ``formatting``: numbers and dates with Babel;
* ``lead`` (the first screen), ``sections``, ``appendix``: each section's numbers and figures, filled into
  a Jinja2 template in ``templates/`` (autoescaped: no comment can add markup);
* ``render`` and ``pdf``: notebook -> HTML -> PDF, the folder's index.

Everything is read from the published, read-only warehouse (redacted text only).
"""

from synpunkt.report.appendix import section_method
from synpunkt.report.context import Report, open_report, page_title
from synpunkt.report.figures import (COLORS, SERIES, STYLE, TEXT_COLORS, benchmark_figure, contrast_ratio,
                                     duration_figure, figure_png, group_sentiment_figure, label_color,
                                     net_trend_figure, ranking_figure, share_trend_figure, shares_figure)
from synpunkt.report.formatting import (Formatter, fmt_date, fmt_datetime, fmt_int, fmt_interval, fmt_num,
                                        fmt_p, fmt_pct, fmt_signed, shown_difference)
from synpunkt.report.lead import Standing, section_title, standing
from synpunkt.report.metadata import MIN_GROUP, find_metadata_key, gender_groups, group_label
from synpunkt.report.pdf import PDF_HINT, find_chromium, print_pdf, screenshot
from synpunkt.report.queries import (MIN_PEER_GROUP, Peers, channel_counts, county_peers, current_model_version,
                                     model_evaluation, municipal_shares, municipalities_with_data, municipality_info,
                                     peer_group, pooled_shares, report_years, representative_comments,
                                     resolve_municipality, trend_shares, year_shares)
from synpunkt.report.render import (NOTEBOOK, STALE_NOTE, RenderedReport, default_out_dir, index_language,
                                    mark_stale,
                                    notebook_to_html, page_html, render_report, report_stem, report_targets, show,
                                    unwritable_reason, write_index)
from synpunkt.report.sections import (MIN_QUOTE_GROUP, names_a_role, section_benchmark, section_channels,
                                      section_equal_treatment, section_quotes, section_trends, section_year)
from synpunkt.report.signals import section_signals
from synpunkt.report.statistics import (ALPHA, MIN_RANK_N, MIN_TEST_N, SMALL_MARK, Z95, area_standing, chi_square,
                                        estimate_change_test, mean_ci, net_change_test, net_score, ranked, rest_estimate,
                                        vs_rest, welch_test, wilson, with_shares, year_changes)
from synpunkt.report.text import LANGUAGES, STRINGS, strings

SECTIONS = (section_title, section_year, section_trends, section_benchmark, section_channels,
            section_equal_treatment, section_signals, section_quotes, section_method)
"""The report's sections in the order the notebook shows them."""

__all__ = [name for name in dir() if not name.startswith("_")]

"""The reports' figures: functions that return matplotlib ``Figure`` objects (never pyplot state) in a
colour-blind-safe palette (Okabe-Ito), and :func:`figure_png` to embed one in a page.

Every figure is drawn under :data:`STYLE`, which turns mathtext off: labels come from the data (municipality
names, metadata values) and a value such as ``$\\undefinedmacro{x}$`` must be drawn as text, not parsed.
"""

from __future__ import annotations

import base64
import functools
import io
import math

import numpy as np
import pandas as pd

from synpunkt.labels import SENTIMENTS, TOPICS
from synpunkt.report.formatting import fmt_int, fmt_interval, fmt_pct, fmt_signed
from synpunkt.report.metadata import group_label
from synpunkt.report.text import strings

MINUS = "\u2212"
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space between a number and % inside figures

COLORS = {"positive": "#0072B2", "skeptical": "#E69F00", "negative": "#D55E00"}
TEXT_COLORS = {"positive": "#005A8C", "skeptical": "#8A5A00", "negative": "#A33F00"}  # >= 4.5:1 on white
SERIES = {"self": "#000000", "peers": "#CC79A7", "national": "#6E6E6E", "other": "#6E6E6E"}
MUTED = "#6E6E6E"
GRID = "#E3E3E3"
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 11, "axes.titlesize": 12, "axes.titleweight": "bold",
    "axes.labelsize": 11, "xtick.labelsize": 10.5, "ytick.labelsize": 11, "legend.fontsize": 10.5,
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#444444", "axes.labelcolor": "#222222",
    "xtick.color": "#333333", "ytick.color": "#333333", "text.color": "#222222", "figure.facecolor": "white",
    "axes.titlelocation": "left",
    "text.parse_math": False,  # text from data ("$\\macro$") is shown as written, never parsed as math
}
FIG_WIDTH = 10.5
FIG_DPI = 110


def _styled(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=FIG_DPI)


def _err(value, lo, hi) -> list:
    """Non-negative whisker lengths for errorbar() (rounding can put a bound a hair past the estimate)."""
    value, lo, hi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (value, lo, hi))
    return [np.clip(value - lo, 0, None), np.clip(hi - value, 0, None)]


def _luminance(hex_color: str) -> float:
    rgb = [int(hex_color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def label_color(background: str) -> str:
    """Black or white, whichever reads better on `background`."""
    return "#000000" if contrast_ratio(background, "#000000") >= contrast_ratio(background, "#ffffff") else "#ffffff"


def _pct_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    suffix = NNBSP + "%" if lang == "sv" else "%"
    return FuncFormatter(lambda v, _: f"{v * 100:.0f}{suffix}")


def _signed_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: "0" if round(v) == 0 else (f"+{v:.0f}" if v > 0 else f"{MINUS}{abs(v):.0f}"))


def _net_limits(lows, highs, pad: float = 8.0) -> tuple[float, float]:
    lo = np.nanmin(np.asarray(lows, dtype=float)) if len(lows) else -10
    hi = np.nanmax(np.asarray(highs, dtype=float)) if len(highs) else 10
    lo, hi = min(lo, 0.0) - pad, max(hi, 0.0) + pad
    return max(-100.0, math.floor(lo / 10) * 10), min(100.0, math.ceil(hi / 10) * 10)


@_styled
def shares_figure(df: pd.DataFrame, labels: list[str], lang: str = "sv"):
    """Horizontal stacked bars (positive | skeptical | negative) per row, with n and the net score at the right.

    `df` has n, share_* and net_score(_lo/_hi) columns, one row per bar (top to bottom); `labels` names the rows.
    """
    s = strings(lang)
    rows = len(df)
    bar_h, top_in, bottom_in = 0.58, 0.55, 0.95
    height = rows * bar_h + top_in + bottom_in
    fig = _figure(FIG_WIDTH, height)
    left, right = 0.245, 0.655
    fig.subplots_adjust(left=left, right=right, top=1 - top_in / height, bottom=bottom_in / height)
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    start = np.zeros(rows)
    for sent in SENTIMENTS:
        widths = df[f"share_{sent}"].fillna(0).to_numpy(dtype=float)
        ax.barh(y, widths, left=start, height=0.68, color=COLORS[sent], label=s["sentiments"][sent],
                edgecolor="white", linewidth=0.8)
        for yi, x0, w in zip(y, start, widths):
            if w >= 0.085:
                ax.text(x0 + w / 2, yi, fmt_pct(w, lang).replace(NBSP, NNBSP), ha="center", va="center",
                        fontsize=10, color=label_color(COLORS[sent]), fontweight="bold")
        start = start + widths
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_yticks(y, labels)
    for tick, label in zip(ax.get_yticklabels(), labels):
        if label == s["topics"]["all"]:
            tick.set_fontweight("bold")
    ax.xaxis.set_major_formatter(_pct_formatter(lang))
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(s["share_axis"])
    transform = ax.get_yaxis_transform()
    header_y = rows - 0.4 + 0.15
    ax.text(1.04, header_y, s["col_n"], transform=transform, ha="left", va="bottom", fontsize=10.5,
            fontweight="bold", color="#333333", clip_on=False)
    ax.text(1.2, header_y, s["col_net"], transform=transform, ha="left", va="bottom", fontsize=10.5,
            fontweight="bold", color="#333333", clip_on=False)
    for yi, (_, r) in zip(y, df.iterrows()):
        ax.text(1.04, yi, fmt_int(r["n"], lang), transform=transform, ha="left", va="center", fontsize=10.5,
                clip_on=False)
        interval = fmt_interval(r["net_score_lo"], r["net_score_hi"], lang)
        ax.text(1.2, yi, f"{fmt_signed(r['net_score'], lang)}  ({interval})", transform=transform, ha="left",
                va="center", fontsize=10.5, clip_on=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.56 / (rows * bar_h)), ncol=3, frameon=False,
              handlelength=1.2, columnspacing=1.6)
    return fig


@_styled
def net_trend_figure(trend: pd.DataFrame, lang: str = "sv", changes: pd.DataFrame | None = None):
    """Small multiples: net score per year with 95 % bands and whiskers, one panel per topic ('all' first)."""
    s = strings(lang)
    topics = [t for t in ("all",) + TOPICS if t in set(trend["topic"])]
    ncols = 3
    nrows = math.ceil(len(topics) / ncols)
    fig = _figure(FIG_WIDTH, 2.75 * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    years = sorted(trend["year"].unique())
    lows, highs = trend["net_score_lo"], trend["net_score_hi"]
    ylim = _net_limits(lows, highs, pad=12)
    sig = {} if changes is None or changes.empty else dict(zip(changes["topic"], changes["mark"]))
    for i, ax in enumerate(axes.flat):
        if i >= len(topics):
            ax.set_visible(False)
            continue
        topic = topics[i]
        d = trend[trend["topic"] == topic].sort_values("year")
        x = d["year"].to_numpy()
        ax.fill_between(x, d["net_score_lo"], d["net_score_hi"], color=COLORS["positive"], alpha=0.14, linewidth=0)
        ax.errorbar(x, d["net_score"], yerr=_err(d["net_score"], d["net_score_lo"], d["net_score_hi"]),
                    color=COLORS["positive"], marker="o", markersize=5.5, capsize=3, linewidth=2, elinewidth=1)
        ax.axhline(0, color="#999999", linewidth=0.8, zorder=0)
        ax.set_title(s["topics"][topic], fontsize=11.5)
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_xlim(years[0] - 0.4, years[-1] + 0.4)
        ax.set_ylim(*ylim)
        ax.yaxis.set_major_formatter(_signed_formatter())
        ax.grid(axis="y", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        mark = sig.get(topic)
        if mark in ("▲", "▼") and len(d) and d["year"].iloc[-1] == years[-1]:
            last = d.iloc[-1]
            up = mark == "▲"
            ax.annotate(mark, (last["year"], last["net_score_hi"] if up else last["net_score_lo"]),
                        xytext=(0, 5 if up else -5), textcoords="offset points", ha="center",
                        va="bottom" if up else "top", fontsize=12, fontweight="bold",
                        color=TEXT_COLORS["positive" if up else "negative"])
        if i % ncols == 0:
            ax.set_ylabel(s["net_axis"])
    fig.tight_layout(h_pad=1.6, w_pad=1.2)
    return fig


@_styled
def share_trend_figure(trend_all: pd.DataFrame, lang: str = "sv"):
    """Shares of positive, skeptical and negative (one topic) per year with Wilson bands."""
    s = strings(lang)
    d = trend_all.sort_values("year")
    years = d["year"].to_numpy()
    fig = _figure(FIG_WIDTH, 3.6)
    fig.subplots_adjust(left=0.08, right=0.80, top=0.93, bottom=0.13)
    ax = fig.add_subplot()
    markers = {"positive": "o", "skeptical": "s", "negative": "D"}
    for sent in SENTIMENTS:
        ax.fill_between(years, d[f"share_{sent}_lo"], d[f"share_{sent}_hi"], color=COLORS[sent], alpha=0.18,
                        linewidth=0)
        ax.plot(years, d[f"share_{sent}"], color=COLORS[sent], marker=markers[sent], linewidth=2.2, markersize=6,
                label=s["sentiments"][sent])
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_xlim(years[0] - 0.3, years[-1] + 0.3)
    ax.set_ylim(0, min(1, max(0.5, float(np.nanmax(d[[f"share_{x}_hi" for x in SENTIMENTS]].to_numpy())) + 0.05)))
    ax.yaxis.set_major_formatter(_pct_formatter(lang))
    ax.set_ylabel(s["share_axis"])
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return fig


@_styled
def benchmark_figure(series: list[tuple[str, str, pd.DataFrame]], lang: str = "sv"):
    """Dot-and-whisker net scores per topic for several series: [(label, kind, year_shares frame), ...]."""
    s = strings(lang)
    topics = [t for t in ("all",) + TOPICS if any(t in set(df["topic"]) for _, _, df in series)]
    rows = len(topics)
    height = rows * 0.62 + 1.5
    fig = _figure(FIG_WIDTH, height)
    fig.subplots_adjust(left=0.245, right=0.96, top=1 - 0.2 / height, bottom=1.15 / height)
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    k = len(series)
    offsets = np.linspace(0.22, -0.22, k) if k > 1 else [0.0]
    markers = {"self": "o", "peers": "s", "national": "D"}
    lows, highs = [], []
    for (label, kind, df), off in zip(series, offsets):
        d = df.set_index("topic")
        for yi, topic in zip(y, topics):
            if topic not in d.index:
                continue
            r = d.loc[topic]
            ax.errorbar(r["net_score"], yi + off, xerr=_err(r["net_score"], r["net_score_lo"], r["net_score_hi"]),
                        fmt=markers.get(kind, "o"), color=SERIES[kind], markersize=7 if kind == "self" else 6,
                        capsize=3, elinewidth=1.4, label=label if yi == y[0] or topic == topics[0] else None)
            lows.append(r["net_score_lo"])
            highs.append(r["net_score_hi"])
    ax.axvline(0, color="#999999", linewidth=0.8, zorder=0)
    ax.set_yticks(y, [s["topics"][t] for t in topics])
    for tick, t in zip(ax.get_yticklabels(), topics):
        if t == "all":
            tick.set_fontweight("bold")
    for yi in y[:-1]:
        ax.axhline(yi - 0.5, color=GRID, linewidth=0.8)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_xlim(*_net_limits(lows, highs, pad=5))
    ax.xaxis.set_major_formatter(_signed_formatter())
    ax.set_xlabel(s["net_axis"])
    ax.tick_params(axis="y", length=0)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.4, -0.58 / (rows * 0.62)),
              ncol=len(unique), frameon=False)
    return fig


@_styled
def ranking_figure(df: pd.DataFrame, lang: str = "sv", highlight: str | None = None, peers: tuple = (),
                   national: tuple[float, float, float] | None = None, rank_offset: int = 0):
    """Municipalities ranked by net score (best on top) as dots with 95 % whiskers; `df` has code, name, net_*."""
    s = strings(lang)
    d = df.sort_values(["net_score", "name"], ascending=[False, True]).reset_index(drop=True)
    rows = len(d)
    height = rows * 0.36 + 1.2
    fig = _figure(FIG_WIDTH, height)
    fig.subplots_adjust(left=0.25, right=0.84, top=1 - 0.25 / height, bottom=0.75 / height)
    ax = fig.add_subplot()
    y = np.arange(rows)[::-1]
    all_lo = list(d["net_score_lo"]) + ([national[1]] if national else [])
    all_hi = list(d["net_score_hi"]) + ([national[2]] if national else [])
    if national:
        ax.axvspan(national[1], national[2], color="#DDDDDD", alpha=0.6, linewidth=0, zorder=0)
        ax.axvline(national[0], color="#555555", linestyle="--", linewidth=1.2, zorder=1)
        ax.text(national[0], rows - 0.45, f" {s['national_line']} {fmt_signed(national[0], lang)}", ha="left",
                va="bottom", fontsize=10, color="#333333")
    for yi, (_, r) in zip(y, d.iterrows()):
        kind = "self" if r["code"] == highlight else ("peers" if r["code"] in peers else "other")
        color = SERIES[kind]
        ax.errorbar(r["net_score"], yi, xerr=_err(r["net_score"], r["net_score_lo"], r["net_score_hi"]),
                    fmt="o" if kind != "peers" else "s", color=color, markersize=7 if kind == "self" else 5.5,
                    capsize=2.5, elinewidth=1.6 if kind == "self" else 1.1, zorder=3)
        ax.text(1.02, yi, f"{fmt_signed(r['net_score'], lang)}   n = {fmt_int(r['n'], lang)}",
                transform=ax.get_yaxis_transform(), ha="left", va="center", fontsize=9.5,
                color="#000000" if kind == "self" else "#444444", clip_on=False)
    labels = [f"{rank_offset + i + 1}. {name}" for i, name in enumerate(d["name"])]
    ax.set_yticks(y, labels)
    for tick, (_, r) in zip(ax.get_yticklabels(), d.iterrows()):
        if r["code"] == highlight:
            tick.set_fontweight("bold")
        elif r["code"] in peers:
            tick.set_color("#7A3B63")
    ax.set_ylim(-0.6, rows - 0.1 + (0.5 if national else 0))
    ax.set_xlim(*_net_limits(all_lo, all_hi, pad=5))
    ax.xaxis.set_major_formatter(_signed_formatter())
    ax.set_xlabel(s["net_axis"])
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    return fig


@_styled
def group_sentiment_figure(counts: pd.DataFrame, lang: str = "sv"):
    """One panel per sentiment: each group's share with its Wilson interval."""
    s = strings(lang)
    groups = counts["group"].tolist()
    rows = len(groups)
    height = rows * 0.5 + 1.3
    fig = _figure(FIG_WIDTH, height)
    axes = fig.subplots(1, 3, sharey=True)
    y = np.arange(rows)[::-1]
    for ax, sent in zip(axes, SENTIMENTS):
        share = counts[f"share_{sent}"].to_numpy(dtype=float)
        lo, hi = counts[f"share_{sent}_lo"].to_numpy(dtype=float), counts[f"share_{sent}_hi"].to_numpy(dtype=float)
        ax.errorbar(share, y, xerr=_err(share, lo, hi), fmt="o", color=COLORS[sent], markersize=7, capsize=3,
                    elinewidth=1.5)
        ax.set_title(s["sentiments"][sent], color=TEXT_COLORS[sent], fontsize=11.5)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        ax.xaxis.set_major_formatter(_pct_formatter(lang))
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_ylim(-0.6, rows - 0.4)
        ax.tick_params(axis="y", length=0)
    axes[0].set_yticks(y, [f"{group_label(g, lang)} (n = {fmt_int(n, lang)})" for g, n in zip(groups, counts["n"])])
    fig.tight_layout(w_pad=1.5)
    return fig


@_styled
def duration_figure(panels: list[tuple[str, pd.DataFrame, list[str]]], lang: str = "sv"):
    """Mean call duration with 95 % CI per group; one panel per grouping: [(title, frame, labels), ...]."""
    s = strings(lang)
    rows = max(len(df) for _, df, _ in panels)
    height = rows * 0.5 + 1.5
    fig = _figure(FIG_WIDTH, height)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    hi_all = max(float(np.nanmax(df["hi"].to_numpy(dtype=float))) for _, df, _ in panels)
    for ax, (title, df, labels) in zip(axes, panels):
        y = np.arange(len(df))[::-1]
        colors = [COLORS.get(g, "#333333") for g in df["group"]]
        for yi, (_, r), c in zip(y, df.iterrows(), colors):
            ax.errorbar(r["mean"], yi, xerr=_err(r["mean"], r["lo"], r["hi"]), fmt="o", color=c,
                        markersize=7, capsize=3, elinewidth=1.5)
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, max(len(df), 2) - 0.4)
        ax.set_xlim(0, hi_all * 1.15)
        ax.set_title(title, fontsize=11.5)
        ax.set_xlabel(s["duration_axis"])
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
    fig.tight_layout(w_pad=2.5)
    return fig


def figure_png(fig, dpi: int = FIG_DPI) -> str:
    """A figure as a PNG data URI for an <img> (drawn under STYLE); the figure is cleared afterwards."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.12, facecolor="white",
                    metadata={"Software": None})
    fig.clear()
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

"""The report's section on repeat contacts and urgent comments: the share of comments that describe a repeat
contact per area (with Wilson intervals, figure 'repeat-contacts') and the number of urgent-comment alerts per
category. The texts of urgent comments never appear in a report; only counts do."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from synpunkt.labels import ALL_TOPICS
from synpunkt.report import figures as F
from synpunkt.report.context import Report
from synpunkt.report.templating import render

ALERT_CATEGORIES = ("threat", "self_harm", "violence_close_relationship")
MIN_N = 10
"""Areas with fewer comments than this are left out of the figure (the interval would span most of the axis)."""

STRINGS = {
    "sv": {
        "h_signals": "Återkontakter och brådskande synpunkter",
        "repeat_intro": "{share} av synpunkterna {year} ({n_repeat} av {n}) beskriver att medborgaren har fått "
                        "kontakta kommunen igen i samma ärende, till exempel för att ingen ringde tillbaka "
                        "(95 % konfidensintervall {interval}). Andelen mäter hur ofta ärendet inte löstes vid "
                        "första kontakten, något som väntetidsmått missar.",
        "repeat_none": "Inga synpunkter {year} har återkontaktsmarkering.",
        "repeat_alt": "Liggande staplar: andel synpunkter om återkontakt per område, med 95 % konfidensintervall.",
        "repeat_title": "Andel synpunkter om återkontakt",
        "urgent_intro": "Under {year} flaggades {total} synpunkter som brådskande för uppföljning: {counts}. "
                        "Texterna visas aldrig i rapporten.",
        "urgent_intro_one": "Under {year} flaggades {total} synpunkt som brådskande för uppföljning: {counts}. "
                            "Texten visas aldrig i rapporten.",
        "urgent_none": "Inga synpunkter {year} flaggades som brådskande.",
        "categories": {"threat": "hot", "self_harm": "självskada eller självmordstankar",
                       "violence_close_relationship": "våld i nära relation"},
    },
    "en": {
        "h_signals": "Repeat contacts and urgent comments",
        "repeat_intro": "{share} of the comments in {year} ({n_repeat} of {n}) say that the citizen had to contact "
                        "the municipality again about the same matter, for example because nobody called back "
                        "(95 % confidence interval {interval}). The share measures how often a matter was not "
                        "resolved at the first contact, which waiting-time measures miss.",
        "repeat_none": "No comments in {year} carry a repeat-contact signal.",
        "repeat_alt": "Horizontal bars: share of comments about a repeat contact per area, with 95 % confidence "
                      "intervals.",
        "repeat_title": "Share of comments about a repeat contact",
        "urgent_intro": "In {year}, {total} comments were flagged as urgent for follow-up: {counts}. Their texts "
                        "never appear in the report.",
        "urgent_intro_one": "In {year}, {total} comment was flagged as urgent for follow-up: {counts}. Its text "
                            "never appears in the report.",
        "urgent_none": "No comments in {year} were flagged as urgent.",
        "categories": {"threat": "threats", "self_harm": "self-harm or suicidal thoughts",
                       "violence_close_relationship": "violence in a close relationship"},
    },
}


def repeat_shares(con, year: int, code: str | None) -> pd.DataFrame:
    """topic, n, n_repeat_contact, share and Wilson bounds for one municipality or (None) the country pooled."""
    if code is not None:
        return con.execute("SELECT topic, n, n_repeat_contact, share_repeat_contact AS share, "
                           "share_repeat_contact_lo AS lo, share_repeat_contact_hi AS hi FROM repeat_contact_shares "
                           "WHERE municipality_code = ? AND year = ? ORDER BY topic", [code, year]).df()
    return con.execute("SELECT topic, sum(n) AS n, sum(n_repeat_contact) AS n_repeat_contact, "
                       "sum(n_repeat_contact) / sum(n) AS share, wilson_lo(sum(n_repeat_contact), sum(n)) AS lo, "
                       "wilson_hi(sum(n_repeat_contact), sum(n)) AS hi FROM repeat_contact_shares WHERE year = ? "
                       "GROUP BY topic ORDER BY topic", [year]).df()


def alert_counts(con, year: int, code: str | None) -> dict[str, int]:
    """Alerts per category for comments of `year` (counts only)."""
    rows = con.execute("SELECT a.category, count(*) FROM alerts a JOIN comments c USING (comment_id) "
                       "WHERE c.year = ? AND (? IS NULL OR a.municipality_code = ?) GROUP BY ALL",
                       [year, code, code]).fetchall()
    return {k: int(v) for k, v in rows}


@F._styled
def repeat_figure(df: pd.DataFrame, labels: list[str], title: str, lang: str = "sv"):
    """Horizontal bars of the repeat-contact share per area with Wilson whiskers."""
    fig = F._figure(F.FIG_WIDTH, 1.2 + 0.42 * len(df))
    ax = fig.add_subplot()
    y = list(range(len(df)))[::-1]
    ax.barh(y, df["share"], color=F.COLORS["skeptical"], height=0.6)
    ax.errorbar(df["share"], y, xerr=F._err(df["share"], df["lo"], df["hi"]), fmt="none", ecolor="#333333",
                capsize=3, linewidth=1)
    ax.set_yticks(y, labels)
    ax.xaxis.set_major_formatter(F._pct_formatter(lang))
    ax.set_xlim(0, min(1.0, max(0.1, float(df["hi"].max()) * 1.1)))
    ax.set_title(title)
    ax.grid(axis="x", color=F.GRID)
    fig.tight_layout()
    return fig


def section_signals(rep: Report) -> Markup:
    """Repeat-contact share (paragraph and figure 'repeat-contacts') and urgent-alert counts per category."""
    s = STRINGS.get(rep.lang, STRINGS["en"])
    shares = repeat_shares(rep.con, rep.year, rep.code)
    total = shares[shares["topic"] == ALL_TOPICS]
    repeat_text, fig = s["repeat_none"].format(year=rep.year), None
    if not total.empty and int(total["n"].iloc[0]):
        row = total.iloc[0]
        repeat_text = s["repeat_intro"].format(share=rep.fmt.pct(row["share"]), year=rep.year,
                                               n_repeat=rep.fmt.int(row["n_repeat_contact"]),
                                               n=rep.fmt.int(row["n"]), interval=f"{rep.fmt.pct(row['lo'])}–{rep.fmt.pct(row['hi'])}")
        shown = shares[shares["n"] >= MIN_N].reset_index(drop=True)
        if len(shown):
            fig = F.figure_png(repeat_figure(shown, [rep.topic(t) for t in shown["topic"]], s["repeat_title"],
                                             rep.lang))
    counts = alert_counts(rep.con, rep.year, rep.code)
    total = sum(counts.values())
    # neutral wording: whether an alert reached anyone beyond the operator's log and alerts file (a webhook or a
    # notification block) depends on the deployment's settings at the time, which the warehouse does not record
    intro = s["urgent_intro_one" if total == 1 else "urgent_intro"]
    urgent_text = (intro.format(year=rep.year, total=rep.fmt.int(total),
                                counts=", ".join(f"{s['categories'][c]} {rep.fmt.int(counts.get(c, 0))}"
                                                 for c in ALERT_CATEGORIES))
                   if counts else s["urgent_none"].format(year=rep.year))
    return render("signals.html.j2", rep=rep, title=s["h_signals"], repeat_text=repeat_text, fig=fig,
                  alt=s["repeat_alt"], urgent_text=urgent_text)

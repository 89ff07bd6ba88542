"""The first screen of a report: where the municipality (or the country) stands.

For a municipality: its rank among the municipalities with at least MIN_RANK_N comments (a warning instead
below that), its rank among comparable municipalities, its gap to the rest of the country's net score (every
other municipality) with the z-test of that same gap, and each area's net score, change since last year and gap
to the rest of the country with ▲/▼ where significant (the same z-test as the trends section). For the country:
the spread of the ranked municipalities and each area's change since last year.

Every difference printed beside the figures it compares is the difference of those figures as printed
(formatting.shown_difference), so a reader's own subtraction agrees; the tests use the unrounded values.
Areas resting on fewer than MIN_RANK_N comments carry the small-sample mark (templates/macros.html.j2).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup

from synpunkt.labels import ALL_TOPICS, TOPICS
from synpunkt.report.context import Report, page_title
from synpunkt.report.formatting import shown_difference
from synpunkt.report.queries import (Peers, municipal_shares, municipalities_with_data, peer_group, trend_shares,
                                     year_shares)
from synpunkt.report.statistics import (DOWN, MIN_RANK_N, MIN_TEST_N, SMALL_MARK, UP, area_standing, ranked,
                                        year_changes)
from synpunkt.report.templating import bold, render


@dataclass
class Standing:
    """The facts on a report's first screen (figures in percentage points; marks are ▲, ▼ or '')."""

    shares: pd.DataFrame          # year_shares of the report's scope
    areas: pd.DataFrame           # area_standing (+ change_shown, gap_shown): per topic net, change, gap
    ranking: pd.DataFrame         # every municipality with data, best first, rank NaN when unranked
    rank: int | None = None       # the municipality's rank (None: national report, or too few comments)
    ranked_total: int = 0         # municipalities ranked this year
    peers: Peers | None = None
    peer_rank: int | None = None  # rank among itself and its ranked comparable municipalities
    peer_total: int = 0

    @property
    def all(self) -> pd.Series:
        """The row of all comments in `areas`."""
        return self.areas[self.areas["topic"] == ALL_TOPICS].iloc[0]

    def count(self, mark: str) -> int:
        """How many areas (all comments excluded) are significantly above (▲) or below (▼) the country."""
        return int((self.areas[self.areas["topic"] != ALL_TOPICS]["gap_mark"] == mark).sum())


def standing(rep: Report) -> Standing | None:
    """The first-screen facts of a report; None when the scope has no comments in the year."""
    con, year, code = rep.con, rep.year, rep.code
    shares = year_shares(con, year, code)
    if shares.empty or ALL_TOPICS not in set(shares["topic"]):
        return None
    trend = trend_shares(con, code)
    changes = year_changes(trend[trend["year"] <= year], year)
    national = None if rep.national else year_shares(con, year, None)
    result = Standing(shares=shares, areas=with_shown_differences(area_standing(shares, changes, national)),
                      ranking=ranked(municipal_shares(con, year, ALL_TOPICS), MIN_RANK_N))
    result.ranked_total = int(result.ranking["rank"].notna().sum())
    if rep.national:
        return result
    own = result.ranking[result.ranking["code"] == code]
    if not own.empty and pd.notna(own.iloc[0]["rank"]):
        result.rank = int(own.iloc[0]["rank"])
    result.peers = peer_group(con, year, code)
    if result.rank and result.peers.codes:
        circle = result.ranking[result.ranking["code"].isin([code, *result.peers.codes])
                                & result.ranking["rank"].notna()].reset_index(drop=True)
        if len(circle) >= 2:
            result.peer_rank = int(circle.index[circle["code"] == code][0]) + 1
            result.peer_total = len(circle)
    return result


def with_shown_differences(areas: pd.DataFrame) -> pd.DataFrame:
    """Add change_shown and gap_shown: the change since last year and the gap to the country as a reader gets
    them from the rounded net scores printed (this year's and last year's, the municipality's and the rest of the
    country's: the comparison the test beside it makes)."""
    areas = areas.copy()
    areas["change_shown"] = [shown_difference(a, b) for a, b in zip(areas["net"], areas["net_prev"])]
    areas["gap_shown"] = [shown_difference(a, b) for a, b in zip(areas["net"], areas["rest"])]
    return areas


def peers_label(rep: Report, peers: Peers) -> str:
    """'Storstäder' (the SKR group) or 'Stockholms län' (the county fallback)."""
    return rep.group_name(peers.group) if peers.kind == "group" else rep.county


def _gap_html(rep: Report, row) -> Markup:
    """'14 procentenheter lägre ▼ (statistiskt säkerställd skillnad, p = 0,003)': the gap between the net scores
    as printed (−29 against the rest of the country's −15: 14), the mark and p of the test of that gap."""
    fmt = rep.fmt
    diff = row["gap_shown"]
    if diff == 0:
        words = rep.t("gap_same")
    else:
        words = rep.t("gap_higher" if diff > 0 else "gap_lower", diff=fmt.num(abs(diff)))
    if row["gap_p"] != row["gap_p"]:  # nan: too few to test
        return Markup("{} ({})").format(words, rep.t("not_tested"))
    if row["gap_mark"]:
        return Markup("{} ({}, {})").format(bold(Markup("{} {}").format(words, row["gap_mark"])), rep.t("gap_sig"),
                                          fmt.p(row["gap_p"]))
    return Markup("{} ({}, {})").format(words, rep.t("gap_not_sig"), fmt.p(row["gap_p"]))


def _keyfigures(rep: Report, st: Standing) -> Markup:
    fmt = rep.fmt
    r = st.shares[st.shares["topic"] == ALL_TOPICS].iloc[0]
    text = rep.t("keyfigures", n=bold(fmt.int(r["n"])), year=rep.year,
                 pos=bold(fmt.pct(r["share_positive"]), "sp-pos"), skep=bold(fmt.pct(r["share_skeptical"]), "sp-skep"),
                 neg=bold(fmt.pct(r["share_negative"]), "sp-neg"), net=bold(fmt.signed(r["net_score"])),
                 lo=fmt.signed(r["net_score_lo"]), hi=fmt.signed(r["net_score_hi"]))
    a = st.all
    if a["change"] != a["change"]:  # no comments last year
        return text
    if a["change_mark"]:
        verdict = rep.t("sig_up" if a["change_mark"] == UP else "sig_down")
        cls = "sp-up" if a["change_mark"] == UP else "sp-down"
        mark = Markup(' <b class="{}">{}</b> ({}, {})').format(cls, a["change_mark"], bold(verdict),
                                                               fmt.p(a["change_p"]))
    elif a["change_p"] != a["change_p"]:
        mark = Markup(" ({})").format(rep.t("not_tested"))
    else:
        mark = Markup(" ({}, {})").format(rep.t("not_sig"), fmt.p(a["change_p"]))
    return text + " " + rep.t("keyfigures_change", prev=rep.year - 1, change=fmt.signed(a["change_shown"]),
                              mark=mark)


def section_title(rep: Report) -> Markup:
    """Title, subtitle and the first screen: where the report's scope stands (rank, gap, areas), key figures."""
    st = standing(rep)
    if rep.national:
        k = len(municipalities_with_data(rep.con, rep.year))
        subtitle = rep.tn("subtitle_national", k, year=rep.year, k=k)
    else:
        subtitle = rep.t("subtitle_municipality", year=rep.year, name=rep.name, county=rep.county)
    facts: list[tuple[str, Markup, dict]] = []
    if st is not None:
        facts = _facts(rep, st)
    # areas without a comment this year have no row in the views: listed with a dash, so every table has every area
    empty = [t for t in TOPICS if st is not None and t not in set(st.areas["topic"])]
    return render("lead.html.j2", rep=rep, title=page_title(rep), subtitle=subtitle, st=st, facts=facts,
                  keyfigures=_keyfigures(rep, st) if st else None, prev=rep.year - 1, empty_topics=empty,
                  has_prev=st is not None and bool(st.areas["net_prev"].notna().any()))


def _facts(rep: Report, st: Standing) -> list[tuple[str, Markup, dict]]:
    """The first screen's sentences: (kind, HTML, data attributes for tests and screen readers)."""
    fmt, facts = rep.fmt, []
    if rep.national:
        ranked_rows = st.ranking[st.ranking["rank"].notna()]
        if len(ranked_rows):
            top, bottom = ranked_rows.iloc[0], ranked_rows.iloc[-1]
            facts.append(("spread", rep.tn("lead_national_spread", len(ranked_rows), ranked=len(ranked_rows),
                                           min_n=MIN_RANK_N, top=top["name"], top_net=fmt.signed(top["net_score"]),
                                           bottom=bottom["name"], bottom_net=fmt.signed(bottom["net_score"])),
                          {"total": len(ranked_rows)}))
        else:
            facts.append(("spread", rep.t("rank_none", min_n=MIN_RANK_N, year=rep.year), {"total": 0}))
        unranked = int(st.ranking["rank"].isna().sum())
        if unranked:
            facts.append(("unranked", rep.tn("lead_national_unranked", unranked, k=unranked), {"count": unranked}))
        return facts
    a = st.all
    if st.rank:
        text = rep.t("lead_rank", rank=st.rank, total=st.ranked_total, min_n=MIN_RANK_N)
        if st.peer_rank:
            text += " " + rep.t("lead_rank_peers", rank=st.peer_rank, total=st.peer_total,
                                peers=peers_label(rep, st.peers))
        facts.append(("rank", text, {"rank": st.rank, "total": st.ranked_total}))
    else:
        facts.append(("unranked", rep.tn("lead_unranked", int(a["n"]), name=rep.name, n=fmt.int(a["n"]),
                                         year=rep.year, min_n=MIN_RANK_N), {"n": int(a["n"]), "min": MIN_RANK_N}))
    areas = st.areas[st.areas["topic"] != ALL_TOPICS]
    tested = int(areas["gap_p"].notna().sum())
    small = int((areas["n"] < MIN_RANK_N).sum())
    parts: list[Markup] = []
    if a["rest"] == a["rest"]:
        facts.append(("gap", rep.t("lead_gap", net=fmt.signed(a["net"]), rest=fmt.signed(a["rest"]),
                                   national=fmt.signed(a["national"]), gap=_gap_html(rep, a)),
                      {"gap": f"{a['gap']:.6f}", "mark": a["gap_mark"] or "-"}))
        if tested:
            parts.append(rep.tn("lead_areas_summary", tested, above=st.count(UP), below=st.count(DOWN), total=tested))
            if tested < len(areas):
                untested = len(areas) - tested
                parts.append(rep.tn("lead_areas_untested", untested, k=untested, min_n=MIN_TEST_N))
    if small:
        parts.append(rep.tn("lead_areas_small", small, k=small, min_n=MIN_RANK_N, mark=SMALL_MARK))
    if parts:
        facts.append(("areas", Markup(" ").join(parts),
                      {"above": st.count(UP), "below": st.count(DOWN), "tested": tested, "small": small}))
    return facts

"""The report's sections after the first screen, each a function ``section_*(rep) -> HTML`` that gathers its
numbers (queries, statistics), draws its figures and fills its template in ``templates/``.

The notebook shows them in order: year, trends, benchmark, channels, equal treatment, quotes, then the
appendix (:func:`synpunkt.report.appendix.section_method`).
"""

from __future__ import annotations

import re

import pandas as pd
from markupsafe import Markup

from synpunkt.labels import ALL_TOPICS, SENTIMENTS, TOPICS
from synpunkt.report import figures as F
from synpunkt.report.context import Report
from synpunkt.report.formatting import shown_difference
from synpunkt.report.lead import peers_label, standing
from synpunkt.report.metadata import (MIN_GROUP, duration_groups, duration_value, find_metadata_key, gender_groups,
                                      group_label)
from synpunkt.report.queries import (MIN_PEER_GROUP, QUOTES_PER_GROUP, channel_counts, metadata_rows,
                                     municipal_shares, pooled_shares, representative_comments, trend_shares,
                                     year_shares)
from synpunkt.report.statistics import (ALPHA, MIN_RANK_N, MIN_TEST_N, chi_square, kruskal_test, vs_rest,
                                        welch_test, year_changes)
from synpunkt.report.templating import render

RANKING_CHUNK = 40
"""At most this many municipalities per ranking plot (more are split over several plots)."""
QUOTE_MAX_CHARS = 360
MIN_QUOTE_GROUP = MIN_RANK_N
"""No quotes from a municipality-year with fewer comments than this (the report's small-sample bar, †): with
few comments a quote could point out its writer, even redacted."""
ROLE_AT_PLACE = re.compile(
    r"(?i:\b(?:vice\s+)?(?:ordförande|rektor|\w*chef|kontaktperson|undertecknad|sekreterare|kassör|\w*ledamot|"
    r"föreståndare|kyrkoherde|vd|talesperson|ombud)\w{0,4}\b)"
    r"(?:[\s,]+\S+){0,3}?[\s,]+(?i:i|på|för|vid|hos)\s+[A-ZÅÄÖ]")
"""A role or title next to an organisation or place ("ordförande i PRO Sjöbo", "rektor på Ekskolan"): it can
identify the writer although the name is redacted, so such a comment is never quoted."""


def section_year(rep: Report) -> Markup:
    """The year in one picture: stacked shares per topic with n and net score (figure 'year-shares')."""
    shares = year_shares(rep.con, rep.year, rep.code)
    fig = None
    if not shares.empty:
        fig = F.figure_png(F.shares_figure(shares, [rep.topic(t) for t in shares["topic"]], rep.lang))
    return render("year.html.j2", rep=rep, fig=fig)


def section_trends(rep: Report) -> Markup:
    """Net score per topic over all years (figure 'trend-net'), shares over years ('trend-shares'), change table."""
    trend = trend_shares(rep.con, rep.code)
    trend = trend[trend["year"] <= rep.year]
    years = sorted(trend["year"].unique())
    if len(years) < 2:
        return render("trends.html.j2", rep=rep, years=years, changes=None, net_fig=None, share_fig=None)
    changes = year_changes(trend, rep.year)
    # the change printed is the difference of the two net scores printed beside it (tests use the unrounded one)
    changes["change_shown"] = [shown_difference(a, b) for a, b in zip(changes["net_now"], changes["net_prev"])]
    net_fig = F.figure_png(F.net_trend_figure(trend, rep.lang, changes))
    all_topic = trend[trend["topic"] == ALL_TOPICS]
    share_fig = F.figure_png(F.share_trend_figure(all_topic, rep.lang)) if len(all_topic) >= 2 else None
    return render("trends.html.j2", rep=rep, years=years, changes=changes, net_fig=net_fig, share_fig=share_fig,
                  prev=rep.year - 1, min_test=MIN_TEST_N, ns=[*changes["n_prev"], *changes["n_now"]])


def _rank_chunks(df: pd.DataFrame) -> list[tuple[int, pd.DataFrame]]:
    return [(i, df.iloc[i:i + RANKING_CHUNK]) for i in range(0, len(df), RANKING_CHUNK)]


def section_benchmark(rep: Report) -> Markup:
    """Municipal: vs the country and comparable municipalities (figure 'benchmark', table) and the ranking
    ('ranking'); national: the ranked municipalities ('ranking') and a table of net scores per topic."""
    st = standing(rep)
    if st is None:
        return render("benchmark.html.j2", rep=rep, st=None)
    national = year_shares(rep.con, rep.year, None)
    nat_all = national[national["topic"] == ALL_TOPICS]
    nat = tuple(nat_all.iloc[0][["net_score", "net_score_lo", "net_score_hi"]]) if not nat_all.empty else None
    ranked_rows = st.ranking[st.ranking["rank"].notna()]
    unranked = st.ranking[st.ranking["rank"].isna()]
    if rep.national:
        figs = [F.figure_png(F.ranking_figure(chunk, rep.lang, national=nat, rank_offset=offset))
                for offset, chunk in _rank_chunks(ranked_rows)]
        return render("benchmark.html.j2", rep=rep, st=st, ranking_figs=figs, unranked=unranked,
                      topic_table=_topic_table(rep), min_rank=MIN_RANK_N)
    own, peers = st.shares, st.peers
    series = [(rep.text("bench_self", name=rep.name), "self", own)]
    pooled = pooled_shares(rep.con, rep.year, peers.codes)
    if peers.codes and not pooled.empty:
        label = rep.text("bench_peers_group") if peers.kind == "group" else rep.text("bench_peers_county",
                                                                                    county=rep.county)
        series.append((label, "peers", pooled))
    series.append((rep.text("bench_national"), "national", national))
    bench_fig = F.figure_png(F.benchmark_figure(series, rep.lang))
    rows = _benchmark_rows(own, pooled if len(series) == 3 else pd.DataFrame(), national)
    # the ranking with this municipality highlighted (only its neighbourhood when there are very many)
    d, offset = ranked_rows.reset_index(drop=True), 0
    if len(d) > RANKING_CHUNK:
        pos = int(d.index[d["code"] == rep.code][0]) if st.rank else 0
        keep = set(range(max(0, pos - 10), min(len(d), pos + 11))) | set(d.index[d["code"].isin(peers.codes)])
        offset = min(keep)
        d = d.loc[sorted(keep)]
    rank_fig = None
    if len(d):
        rank_fig = F.figure_png(F.ranking_figure(d, rep.lang, highlight=rep.code, peers=tuple(peers.codes),
                                                 national=nat, rank_offset=offset))
    return render("benchmark.html.j2", rep=rep, st=st, peers=peers, peer_names=", ".join(peers.names),
                  group=rep.group_name(peers.group), peers_label=peers_label(rep, peers), bench_fig=bench_fig,
                  rows=rows, has_peers=len(series) == 3, rank_fig=rank_fig, unranked=unranked,
                  ns=[r[k]["n"] for r in rows for k in ("own", "peers", "national") if r[k] is not None],
                  min_rank=MIN_RANK_N, min_group=MIN_PEER_GROUP)


def _benchmark_rows(own: pd.DataFrame, pooled: pd.DataFrame, national: pd.DataFrame) -> list[dict]:
    """Per topic: own, peers' and the national net score, and own vs the rest of the country (z-test)."""
    nat = national.set_index("topic")
    peer = pooled.set_index("topic") if not pooled.empty else None
    rows = []
    for _, r in own.iterrows():
        t = r["topic"]
        row = {"topic": t, "own": r, "peers": peer.loc[t] if peer is not None and t in peer.index else None,
               "national": nat.loc[t] if t in nat.index else None, "diff": float("nan"), "p": float("nan"),
               "mark": ""}
        if row["national"] is not None:
            row["diff"], row["p"], row["mark"] = vs_rest(r, row["national"])
        rows.append(row)
    return rows


def _topic_table(rep: Report) -> dict | None:
    """National report: net score per topic and municipality (best first by all comments), and every cell's n
    (for the small-sample legend)."""
    df = municipal_shares(rep.con, rep.year, topic=None)
    if df.empty:
        return None
    topics = [t for t in (ALL_TOPICS,) + TOPICS if t in set(df["topic"])]
    order = df[df["topic"] == ALL_TOPICS].sort_values(["net_score", "name"], ascending=[False, True])
    cells = df.set_index(["code", "topic"])
    rows = [(m["name"], [cells.loc[(m["code"], t)] if (m["code"], t) in cells.index else None for t in topics])
            for _, m in order.iterrows()]
    return {"topics": topics, "rows": rows, "ns": [c["n"] for _, cs in rows for c in cs if c is not None]}


def section_channels(rep: Report) -> Markup:
    """Shares per channel (figure 'channels') with a chi-square test, where the data has channels."""
    counts = channel_counts(rep.con, rep.year, rep.code)
    known = counts[counts["channel"].notna()]
    if len(known) < 2:
        only = None
        if len(known) == 1:
            raw = known.iloc[0]["channel"]
            only = rep.s["channels"].get(raw, raw).lower()
        return render("channels.html.j2", rep=rep, fig=None, only=only, test=None, small=None)
    shown = counts[(counts["n"] >= MIN_GROUP) | counts["channel"].isna()]
    shown = shown[shown["n"] > 0].reset_index(drop=True)
    if len(shown) < 2:  # the comments have channels, each too small to show: say so (not that they have none)
        small = ", ".join(f"{rep.s['channels'].get(c, str(c)).lower()} {rep.fmt.int(n)}"
                          for c, n in zip(known["channel"], known["n"]) if n > 0)
        return render("channels.html.j2", rep=rep, fig=None, only=None, test=None, small=small,
                      min_group=MIN_GROUP)
    test = chi_square(known[known["n"] >= MIN_GROUP][[f"n_{s}" for s in SENTIMENTS]].to_numpy())
    labels = [rep.s["channels"].get(c, str(c).capitalize()) for c in shown["channel"]]
    fig = F.figure_png(F.shares_figure(shown, labels, rep.lang))
    return render("channels.html.j2", rep=rep, fig=fig, only=None, test=test, small=None)


def section_equal_treatment(rep: Report) -> Markup:
    """Sentiment by gender (figure 'equal-sentiment', chi-square) and call duration by group ('equal-duration',
    Welch t-test / Kruskal-Wallis), from comment metadata; one sentence when the metadata has neither."""
    rows = metadata_rows(rep.con, rep.year, rep.code)
    gender_key = find_metadata_key(rows, "gender")
    duration_key = find_metadata_key(rows, "duration")
    ctx: dict = {"rep": rep, "gender_key": gender_key, "duration_key": duration_key, "min_group": MIN_GROUP,
                 "gender": None, "duration": None}
    if gender_key:
        counts, left_out = gender_groups(rows, gender_key)
        if len(counts) >= 2:
            ctx["gender"] = {"fig": F.figure_png(F.group_sentiment_figure(counts, rep.lang)), "left_out": left_out,
                             "test": chi_square(counts[[f"n_{s}" for s in SENTIMENTS]].to_numpy())}
    if duration_key:
        ctx["duration"] = _duration(rep, rows, duration_key, gender_key)
    return render("equal.html.j2", **ctx)


def _duration(rep: Report, rows: pd.DataFrame, key: str, gender_key: str | None) -> dict | None:
    """Call duration per gender and per sentiment: the figure and one test per grouping."""
    lang = rep.lang
    by_gender = duration_groups(rows, key, "gender", gender_key) if gender_key else pd.DataFrame()
    by_sentiment = duration_groups(rows, key, "sentiment")
    panels, tests = [], []
    for title, df, labeller in ((rep.text("duration_by_gender"), by_gender, lambda g: group_label(g, lang)),
                                (rep.text("duration_by_sentiment"), by_sentiment, lambda g: rep.s["sentiments"][g])):
        if len(df) < 2:
            continue
        names = [labeller(g) for g in df["group"]]
        panels.append((title, df, [f"{name} (n = {rep.fmt.int(n)})" for name, n in zip(names, df["n"])]))
        if len(df) == 2:
            res = welch_test(df["values"].iloc[0], df["values"].iloc[1])
            text = rep.t("welch", a=names[0], b=names[1], t=rep.fmt.num(res["t"], 2), df=rep.fmt.num(res["df"], 1),
                         p=rep.fmt.p(res["p"]))
        else:
            res = kruskal_test(df["values"].tolist())
            text = rep.t("kruskal", h=rep.fmt.num(res["h"], 2), p=rep.fmt.p(res["p"]))
        tests.append({"title": title, "text": text, "significant": res["p"] < ALPHA})
    if not panels:
        return None
    n_calls = sum(duration_value(m.get(key)) is not None for m in rows["metadata"])
    return {"fig": F.figure_png(F.duration_figure(panels, lang)), "tests": tests, "n": n_calls}


def _truncate(text: str, limit: int = QUOTE_MAX_CHARS) -> str:
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def names_a_role(text: str) -> bool:
    """True when `text` names a role or title next to an organisation or place (ROLE_AT_PLACE)."""
    return bool(ROLE_AT_PLACE.search(str(text)))


def section_quotes(rep: Report) -> Markup:
    """Representative comments per topic and sentiment: redacted text, escaped by the template. None from a
    municipality-year with fewer than MIN_QUOTE_GROUP comments, and none naming a role at a place."""
    own = year_shares(rep.con, rep.year, rep.code)
    own = own[own["topic"] == ALL_TOPICS]
    n = int(own.iloc[0]["n"]) if not own.empty else 0
    if n < MIN_QUOTE_GROUP:
        return render("quotes.html.j2", rep=rep, topics=[], too_few=rep.t("quotes_too_few", name=rep.name,
                      n=rep.fmt.int(n), year=rep.year, min_n=MIN_QUOTE_GROUP))
    # more candidates than shown: some are left out below
    quotes = representative_comments(rep.con, rep.year, rep.code, per_group=QUOTES_PER_GROUP + 4)
    quotes = quotes[~quotes["text"].map(names_a_role)]
    if rep.national:
        sizes = municipal_shares(rep.con, rep.year, ALL_TOPICS)
        small = set(sizes.loc[sizes["n"] < MIN_QUOTE_GROUP, "name"])
        quotes = quotes[~quotes["municipality"].isin(small)]
    quotes = quotes.groupby(["topic", "topic_sentiment"], sort=False).head(QUOTES_PER_GROUP)
    topics = []
    for topic in [t for t in TOPICS if t in set(quotes["topic"])]:
        columns = []
        for sent in SENTIMENTS:
            q = quotes[(quotes["topic"] == topic) & (quotes["topic_sentiment"] == sent)]
            items = []
            for _, r in q.iterrows():
                raw = r["channel"] if isinstance(r["channel"], str) and r["channel"] else None
                channel = rep.s["channels"].get(raw, raw) if raw else None
                if rep.national:
                    source = rep.text("quote_source_national", municipality=r["municipality"],
                                      channel=(channel or rep.s["channels"][None]).lower())
                else:
                    source = channel or ""
                items.append({"text": _truncate(r["text"]), "source": source})
            columns.append((sent, items))
        topics.append((topic, columns))
    return render("quotes.html.j2", rep=rep, topics=topics, too_few=None)

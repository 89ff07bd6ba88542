"""The reports' inputs: queries over the published warehouse's analysts' views (``f(con, year, code) ->
DataFrame``), the comparison group of a municipality, and the model's evaluation file.

Everything read here is redacted; nothing is written. Municipality codes are SCB's four-digit codes; code=None
means the whole country (all municipalities in the warehouse pooled).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from synpunkt import config
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt import municipalities
from synpunkt.municipalities import kommungrupp
from synpunkt.report.statistics import pooled_estimates, with_counts, with_shares

QUOTES_PER_GROUP = 2
MIN_PEER_GROUP = 3
"""Fewest municipalities with data in a municipality group (itself included) for the group to be the
comparison; with fewer, the county is."""

_SHARE_COLUMNS = ("n, share_positive, share_positive_lo, share_positive_hi, share_skeptical, share_skeptical_lo, "
                  "share_skeptical_hi, share_negative, share_negative_lo, share_negative_hi, net_score, "
                  "net_score_lo, net_score_hi, net_score_se")


def report_years(con) -> list[int]:
    """Years with classified comments."""
    return [int(r[0]) for r in con.execute(
        "SELECT DISTINCT year FROM national_shares WHERE topic = 'all' AND n > 0 ORDER BY year").fetchall()]


def current_model_version(con) -> str | None:
    rows = con.execute("SELECT model_version FROM current_model").fetchall()
    return rows[0][0] if rows else None


def municipalities_with_data(con, year: int) -> pd.DataFrame:
    """code, name, county, n for each municipality with classified comments in `year`."""
    return con.execute(
        "SELECT municipality_code AS code, municipality AS name, county, n FROM yearly_shares "
        "WHERE year = ? AND topic = 'all' AND n > 0 ORDER BY municipality", [year]).df()


def municipality_info(con, code: str) -> dict | None:
    rows = con.execute("SELECT code, name, county_code, county FROM municipalities WHERE code = ?", [code]).fetchall()
    return dict(zip(("code", "name", "county_code", "county"), rows[0])) if rows else None


def resolve_municipality(con, municipality: str | None) -> str | None:
    """A municipality code from a code ('0180', '180') or a name ('Stockholm', 'Göteborgs kommun'); None, ''
    or 'national' stay None (the national report). Raises ValueError for an unknown municipality."""
    if municipality is None or str(municipality).strip().lower() in ("", "none", "national", "riket"):
        return None
    code = municipalities.resolve_municipality(municipality)
    if not municipality_info(con, code):
        raise ValueError(f"unknown municipality {municipality!r}: code {code} is not in the warehouse's "
                         "municipalities table")
    return code


def year_shares(con, year: int, code: str | None = None) -> pd.DataFrame:
    """One row per topic ('all' first, then the topics in label order) for a municipality or nationally."""
    if code:
        df = con.execute(f"SELECT topic, {_SHARE_COLUMNS} FROM yearly_shares WHERE year = ? AND municipality_code = ?",
                         [year, code]).df()
    else:
        df = con.execute(f"SELECT topic, {_SHARE_COLUMNS} FROM national_shares WHERE year = ?", [year]).df()
    return order_topics(with_counts(df[df["n"] > 0]))


def correction_methods(con, year: int, code: str | None = None) -> list[str]:
    """The share corrections behind a year's figures (yearly_trends.method: em, pacc, acc or cc), most used first."""
    view, where, params = ("yearly_shares", "AND municipality_code = ?", [year, code]) if code else \
        ("national_shares", "", [year])
    rows = con.execute(f"SELECT method, count(*) AS k FROM {view} WHERE year = ? {where} AND n > 0 "
                       "GROUP BY method ORDER BY k DESC, method", params).fetchall()
    return [m or "cc" for m, _ in rows]


def trend_shares(con, code: str | None = None) -> pd.DataFrame:
    """Every year and topic for a municipality or nationally."""
    if code:
        df = con.execute(f"SELECT year, topic, {_SHARE_COLUMNS} FROM yearly_shares WHERE municipality_code = ?",
                         [code]).df()
    else:
        df = con.execute(f"SELECT year, topic, {_SHARE_COLUMNS} FROM national_shares").df()
    df = with_counts(df[df["n"] > 0])
    return df.sort_values(["year"]).reset_index(drop=True)


def municipal_shares(con, year: int, topic: str | None = "all") -> pd.DataFrame:
    """Every municipality's figures for `year` (one topic, or all topics with topic=None)."""
    sql = (f"SELECT municipality_code AS code, municipality AS name, county, topic, {_SHARE_COLUMNS} "
           "FROM yearly_shares WHERE year = ? AND n > 0")
    params: list = [year]
    if topic is not None:
        sql += " AND topic = ?"
        params.append(topic)
    return with_counts(con.execute(sql, params).df())


@dataclass
class Peers:
    """A municipality's comparison group in a year: kind 'group' (SKR municipality group), 'county' or 'none'."""

    kind: str
    group: str
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def peer_group(con, year: int, code: str) -> Peers:
    """The other municipalities of `code`'s SKR group with data in `year`, when at least MIN_PEER_GROUP of the
    group (itself included) have data; else the other municipalities of its county with data; else none."""
    group = kommungrupp(code)
    with_data = municipalities_with_data(con, year)
    in_group = with_data[with_data["code"].map(kommungrupp) == group]
    if len(in_group) >= MIN_PEER_GROUP:
        others = in_group[in_group["code"] != code]
        return Peers("group", group, others["code"].tolist(), others["name"].tolist())
    county = county_peers(con, year, code)
    if not county.empty:
        return Peers("county", group, county["code"].tolist(), county["name"].tolist())
    return Peers("none", group)


def county_peers(con, year: int, code: str) -> pd.DataFrame:
    """The other municipalities of `code`'s county with data in `year` (code, name)."""
    return con.execute(
        "SELECT DISTINCT y.municipality_code AS code, y.municipality AS name FROM yearly_shares y "
        "JOIN municipalities m ON m.code = ? WHERE y.county = m.county AND y.year = ? AND y.topic = 'all' "
        "AND y.n > 0 AND y.municipality_code <> ? ORDER BY name", [code, year, code]).df()


def pooled_shares(con, year: int, codes: list[str]) -> pd.DataFrame:
    """Several municipalities' corrected figures pooled per topic (statistics.pooled_estimates: the same
    corrected estimates as the other columns, an interval that includes the correction's uncertainty and never
    collapses to a point for a small group)."""
    if not codes:
        return pd.DataFrame()
    df = municipal_shares(con, year, topic=None)
    df = df[df["code"].isin(codes)]
    if df.empty:
        return pd.DataFrame()
    return order_topics(pooled_estimates(df))


def channel_counts(con, year: int, code: str | None = None) -> pd.DataFrame:
    """Counts per channel (None = no channel given) with shares and intervals."""
    where, params = _scope(year, code)
    counts = ", ".join(f"count(*) FILTER (sentiment = '{s}') AS n_{s}" for s in SENTIMENTS)
    df = con.execute(f"SELECT channel, count(*) AS n, {counts} FROM comments_classified WHERE {where} "
                     "GROUP BY channel ORDER BY n DESC", params).df()
    df["channel"] = df["channel"].astype(object).where(df["channel"].notna(), None)
    return with_shares(df)


def metadata_rows(con, year: int, code: str | None = None) -> pd.DataFrame:
    """sentiment, channel and the parsed metadata dict of every comment in scope."""
    where, params = _scope(year, code)
    df = con.execute(f"SELECT sentiment, channel, metadata FROM comments_classified WHERE {where}", params).df()
    df["metadata"] = [parse_json(m) for m in df["metadata"]]
    return df


def representative_comments(con, year: int, code: str | None = None, per_group: int = QUOTES_PER_GROUP
                            ) -> pd.DataFrame:
    """The highest-confidence comments per topic and topic sentiment: redacted text only.

    Confidence = P(topic) x P(sentiment); identical texts are shown once per topic and sentiment.
    """
    where, params = _scope(year, code, prefix="c.")
    p_topic = "CASE topic " + " ".join(f"WHEN '{t}' THEN {prob_column(t)}" for t in TOPICS) + " END"
    p_sent = "CASE topic_sentiment " + " ".join(f"WHEN '{s}' THEN {prob_column(s)}" for s in SENTIMENTS) + " END"
    topic_cols = ", ".join(f"p.{prob_column(t)}" for t in TOPICS)
    sql = f"""
        WITH base AS (
            SELECT c.text, c.channel, c.municipality, c.sentiment, c.topics, c.topic_sentiment AS ts_json,
                   c.p_positive, c.p_skeptical, c.p_negative, {topic_cols}
            FROM comments_classified c
            JOIN predictions p ON p.comment_id = c.comment_id AND p.model_version = c.model_version
            WHERE {where}
        ), per_topic AS (
            SELECT *, unnest(topics) AS topic FROM base
        ), scored AS (
            SELECT *, coalesce(json_extract_string(ts_json, '$.' || topic), sentiment) AS topic_sentiment
            FROM per_topic
        ), ranked AS (
            SELECT topic, topic_sentiment, text, channel, municipality, ({p_topic}) * ({p_sent}) AS confidence
            FROM scored
            QUALIFY row_number() OVER (PARTITION BY topic, topic_sentiment, text ORDER BY confidence DESC) = 1
        )
        SELECT topic, topic_sentiment, text, channel, municipality, confidence FROM (
            SELECT *, row_number() OVER (PARTITION BY topic, topic_sentiment ORDER BY confidence DESC, text) AS rk
            FROM ranked
        ) WHERE rk <= ? ORDER BY topic, topic_sentiment, rk"""
    return con.execute(sql, params + [per_group]).df()


def quality_counts(con, code: str | None = None) -> dict:
    """Submission accounting for the report's scope (all years): batches, rows, quarantine reasons, failures."""
    where, params = ("WHERE municipality_code = ?", [code]) if code else ("", [])
    row = con.execute(
        "SELECT count(*), coalesce(sum(rows_received), 0), coalesce(sum(rows_accepted), 0), "
        "coalesce(sum(rows_quarantined), 0), count(*) FILTER (status = 'failed'), max(processed_at) "
        f"FROM batches {where}", params).fetchall()[0]
    reasons = con.execute(f"SELECT reason_code, count(*) AS rows FROM quarantine {where} GROUP BY reason_code "
                          "ORDER BY rows DESC, reason_code", params).fetchall()
    comments = con.execute(f"SELECT count(*) FROM comments_classified {where}", params).fetchall()[0][0]
    return {"batches": row[0], "rows_received": row[1], "rows_accepted": row[2], "rows_quarantined": row[3],
            "failed_batches": row[4], "data_as_of": row[5], "reasons": reasons, "comments_all_years": comments}


def review_accuracy(con, code: str | None, model_version: str | None) -> dict:
    """Accuracy of the model's sentiment on the randomly sampled, human-reviewed comments (synpunkt review):
    n_reviewed, accuracy and its Wilson 95 % bounds, pooled over the report's scope; n_reviewed 0 when none."""
    where, params = ["model_version = ?"], [model_version]
    if code:
        where.append("municipality_code = ?")
        params.append(code)
    row = con.execute(
        "SELECT coalesce(sum(n_reviewed), 0), sum(accuracy * n_reviewed) FROM review_accuracy "
        f"WHERE {' AND '.join(where)}", params).fetchall()[0]
    n, hits = int(row[0]), row[1]
    if not n:
        return {"n_reviewed": 0}
    lo, hi = con.execute("SELECT wilson_lo(?::DOUBLE, ?::DOUBLE), wilson_hi(?::DOUBLE, ?::DOUBLE)",
                         [hits, n, hits, n]).fetchall()[0]
    return {"n_reviewed": n, "accuracy": hits / n, "accuracy_lo": lo, "accuracy_hi": hi}


def model_evaluation(model_dir: Path | str | None, model_version: str | None) -> dict:
    """The model card's headline figures: sentiment macro-F1 and topic micro-F1 with CIs, each the worse of the two
    in-domain test sets (the first one, and the one written independently of the training data), as the card and
    the README publish them.

    Looks in `model_dir` (default synpunkt.config.model_dir()); when that evaluation is for another version than
    the warehouse's current model, also in a sibling directory named after the version's model name.
    """
    base = Path(model_dir) if model_dir else config.model_dir()
    candidates = [base]
    if model_version and "@" in model_version:
        candidates.append(base.parent / model_version.split("@")[0])
    found: dict | None = None
    for directory in candidates:
        path = directory / "evaluation.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if found is None or data.get("model_version") == model_version:
            found = {"path": str(path), "data": data}
        if data.get("model_version") == model_version:
            break
    if found is None:
        return {"path": str(base / "evaluation.json"), "found": False}
    data = found["data"]
    sets = data.get("sets", {})
    targets = data.get("targets", {})
    out = {"found": True, "path": found["path"], "eval_version": data.get("model_version"), "date": data.get("date")}
    for key, head, metric, target in (("sentiment_macro_f1", "sentiment", "macro_f1", "sentiment_target"),
                                      ("topic_micro_f1", "topics", "micro_f1", "topic_target")):
        name, figures = worse_test_set(sets, head, metric)
        out |= {key: figures.get(metric), f"{key}_ci": figures.get(f"{metric}_ci95"), f"{key}_set": name,
                target: targets.get(f"{name}.{head}.{metric}")}
    out["n"] = sum((sets.get(name, {}).get("sentiment", {}).get("n") or 0) for name in HEADLINE_SETS) or None
    out["n_sets"] = sum(1 for name in HEADLINE_SETS if name in sets)
    return out


HEADLINE_SETS = ("in_domain_test", "in_domain_test_independent")
"""The two in-domain test sets; the published headline of each figure is the worse of them (issue 7)."""


def worse_test_set(sets: dict, head: str, metric: str) -> tuple[str, dict]:
    """(set name, that set's figures for `head`) of the in-domain test set with the lower `metric` (pure); the first
    test set alone where the model was evaluated on it only."""
    found = [(name, sets[name].get(head, {})) for name in HEADLINE_SETS
             if name in sets and sets[name].get(head, {}).get(metric) is not None]
    if not found:
        return HEADLINE_SETS[0], {}
    return min(found, key=lambda item: item[1][metric])


def _scope(year: int, code: str | None, prefix: str = "") -> tuple[str, list]:
    if code:
        return f"{prefix}year = ? AND {prefix}municipality_code = ?", [year, code]
    return f"{prefix}year = ?", [year]


def parse_json(value) -> dict:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def order_topics(df: pd.DataFrame) -> pd.DataFrame:
    order = {t: i for i, t in enumerate(("all",) + TOPICS)}
    if df.empty:
        return df.reset_index(drop=True)
    df = df[df["topic"].isin(order)].copy()
    df["_o"] = df["topic"].map(order)
    return df.sort_values("_o").drop(columns="_o").reset_index(drop=True)

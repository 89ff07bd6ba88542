"""Trends refresh, publishing and every analyst view on a warehouse of N synthetic comments (default 10 million).

Builds a warehouse file with the project's schema (synpunkt.warehouse) in a temporary folder, generated in SQL
(no model): N comments over the 290 municipalities (skewed sizes, the largest cities first) and 5 years, with
32-hex comment ids, redacted-looking texts, channels, metadata; one prediction per comment (1-3 areas and the
sentiment towards each), one comment_signals row per comment, a few alerts, corrections (a review sample),
batches and quarantined rows. Then it times, as the pipeline and the analysts do:

    trends refresh   synpunkt.trends.refresh with a fitted PACC / ACC correction,    target < 30 s
                     the comment-level mart (synpunkt.marts.build_comment_mart) included
    publish          synpunkt.publish.publish (the analysts' read-only copy)
    each view        SELECT count(*) FROM view, and typical queries (the README's five questions among them)
                     on the published copy opened read-only, as an analyst opens it  target < 1 s
    live s           the comment-level views' queries again with the mart marked stale: the views then join the
                     live tables, as they did before the mart (the "before" figures, in the same run), and the
                     rows of both are compared
    incremental      a new batch (1 % of N, one municipality and year) and a review file (N / 2,000 answers, a
                     fifth of them corrections of corrections) arrive: the refresh that updates the mart for the
                     changed comments (synpunkt.comment_mart) against a forced full rebuild in the same run, with
                     the same rows; the comment-level views on the updated mart; the refresh when nothing changed;
                     the update after the batch is removed again (as a failed batch's rows are)

Each query is timed on its first run and as the best of three more, with the CPU seconds of that run (all of
DuckDB's threads: on a shared machine, what the query costs when it has the cores to itself). Figures depend on
the machine: compare ratios within one run.

    python benchmarks/bench_analyst_views.py [--n 10000000] [--keep DIR] [--explain VIEW_QUERY_NAME] [--refresh-only]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from synpunkt import quantification as Q
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column

VERSION = "bench@1"
YEARS = (2021, 2022, 2023, 2024, 2025)
LAST = YEARS[-1]
BIG_CITIES = ("0180", "1480", "1280", "0380")
CHUNK = 2_000_000
TREND_TARGET_S, VIEW_TARGET_S = 30.0, 1.0
MART_VIEWS = ("comments_classified", "comment_topics", "repeat_contact_shares")
"""The views that read comment_mart while it is fresh (timed again with it marked stale)."""

PHRASES = ["Handläggaren var trevlig och hjälpsam.", "Jag väntade en timme i telefonkön.",
           "E-tjänsten krånglade med BankID.", "[NAMN] ringde aldrig tillbaka som utlovat.",
           "Snöröjningen på vår gata fungerar inte.", "Tack för snabb hjälp med bygglovet!",
           "Ring mig på [TELEFON] så förklarar jag.", "Beslutet tog fyra månader, helt oacceptabelt.",
           "Förskolan är fantastisk men kön var lång.", "Vi får väl se om det blir gjort den här gången.",
           "Hemtjänsten kommer alltid för sent till mamma.", "Bra information på webbplatsen.",
           "Ingen svarar på mejl, jag har skrivit tre gånger.", "Personalen på biblioteket är guld värd."]

QUERIES: list[tuple[str, str, str]] = [  # (view, what, SQL): count(*) of every view, then typical queries
    ("comments_classified", "count(*)", "SELECT count(*) FROM comments_classified"),
    ("comments_classified", "README 4: negative share per channel, this year",
     "SELECT coalesce(channel, 'not given') AS channel, count(*) AS n, "
     "round(100 * count(*) FILTER (sentiment = 'negative') / count(*), 1) AS pct_negative, "
     "round(100 * wilson_lo(count(*) FILTER (sentiment = 'negative'), count(*)), 1) AS lo, "
     "round(100 * wilson_hi(count(*) FILTER (sentiment = 'negative'), count(*)), 1) AS hi "
     "FROM comments_classified WHERE year = (SELECT max(year) FROM comments_classified) "
     "GROUP BY ALL ORDER BY pct_negative DESC, channel"),
    ("comments_classified", "one municipality's negative comments in a year, newest 100",
     f"SELECT contact_date, channel, text FROM comments_classified WHERE municipality_code = '1480' "
     f"AND year = {LAST} AND sentiment = 'negative' ORDER BY contact_date DESC, text LIMIT 100"),
    ("comment_topics", "count(*)", "SELECT count(*) FROM comment_topics"),
    ("comment_topics", "README 5: the comments behind a number (Göteborg, wait time, negative, this year)",
     "SELECT contact_date, channel, text FROM comment_topics WHERE municipality = 'Göteborg' "
     "AND topic = 'wait_time' AND topic_sentiment = 'negative' "
     "AND year = (SELECT max(year) FROM comment_topics) ORDER BY contact_date"),
    ("yearly_shares", "count(*)", "SELECT count(*) FROM yearly_shares"),
    ("yearly_shares", "README 2: this year's ranking with intervals",
     "SELECT row_number() OVER (ORDER BY net_score DESC, municipality) AS rank, municipality, n, "
     "round(net_score, 1) AS net, round(net_score_lo, 1) AS lo, round(net_score_hi, 1) AS hi "
     "FROM yearly_shares WHERE topic = 'all' AND n >= 30 AND year = (SELECT max(year) FROM yearly_shares) "
     "ORDER BY rank"),
    ("national_shares", "count(*)", "SELECT count(*) FROM national_shares"),
    ("national_shares", "national trend, all comments",
     "SELECT year, n, net_score, net_score_lo, net_score_hi FROM national_shares WHERE topic = 'all' ORDER BY year"),
    ("yearly_changes", "count(*)", "SELECT count(*) FROM yearly_changes"),
    ("yearly_changes", "README 1: most improved on wait time, significantly",
     "SELECT municipality, previous_year, year, round(net_score_previous, 1) AS net_before, "
     "round(net_score, 1) AS net_now, round(change, 1) AS change, round(change_se, 1) AS se, "
     "round(p_value, 4) AS p FROM yearly_changes WHERE topic = 'wait_time' AND significant AND change > 0 "
     "AND year = (SELECT max(year) FROM yearly_changes) ORDER BY change DESC LIMIT 1"),
    ("national_gaps", "count(*)", "SELECT count(*) FROM national_gaps"),
    ("national_gaps", "README 3: Göteborg's areas below the rest of the country",
     "SELECT l.name_sv AS area, round(g.net_score, 1) AS net, round(g.net_score_rest, 1) AS rest_of_country, "
     "round(g.difference, 1) AS difference, round(g.p_value, 4) AS p FROM national_gaps g "
     "JOIN topic_labels l USING (topic) WHERE g.municipality = 'Göteborg' AND g.significant "
     "AND g.difference < 0 AND g.year = (SELECT max(year) FROM national_gaps) ORDER BY g.difference"),
    ("latest_corrections", "count(*)", "SELECT count(*) FROM latest_corrections"),
    ("review_accuracy", "count(*)", "SELECT count(*) FROM review_accuracy"),
    ("review_accuracy", "one municipality", "SELECT * FROM review_accuracy WHERE municipality_code = '0180'"),
    ("batch_overview", "count(*)", "SELECT count(*) FROM batch_overview"),
    ("batch_overview", "a municipality's batches, newest first",
     "SELECT batch_id, status, rows_received, rows_accepted FROM batch_overview WHERE municipality_code = '0180' "
     "ORDER BY processed_at DESC LIMIT 20"),
    ("quarantine_reasons", "count(*)", "SELECT count(*) FROM quarantine_reasons"),
    ("quarantine_reasons", "reasons of one municipality",
     "SELECT reason_code, sum(rows) FROM quarantine_reasons WHERE municipality_code = '0180' GROUP BY ALL"),
    ("urgent_comments", "count(*)", "SELECT count(*) FROM urgent_comments"),
    ("urgent_comments", "a municipality's open alerts, newest first",
     "SELECT alert_id, category, probability, text FROM urgent_comments WHERE municipality_code = '0180' "
     "AND acknowledged_at IS NULL ORDER BY received_at DESC LIMIT 50"),
    ("repeat_contact_shares", "count(*)", "SELECT count(*) FROM repeat_contact_shares"),
    ("repeat_contact_shares", "one municipality, all comments, by year",
     "SELECT year, n, share_repeat_contact FROM repeat_contact_shares WHERE municipality_code = '0180' "
     "AND topic = 'all' ORDER BY year"),
]


def build(con, n: int) -> None:
    """Fill an empty warehouse (schema and views already created) with n synthetic comments and their rows."""
    build_comments(con, n)
    build_around(con)


def build_comments(con, n: int) -> None:
    """n comments, their predictions and their signals, in chunks."""
    for start in range(0, n, CHUNK):
        end = min(n, start + CHUNK)
        insert_comments(con, start, end)
        insert_predictions(con, start, end)
        insert_signals(con, start, end)


def insert_comments(con, start: int, end: int, batch: str | None = None) -> None:
    """Comments number start to end - 1 (ids md5 of the number), over every municipality and year, or with
    `batch`, all in that batch of Stockholm's last year."""
    codes = [r[0] for r in con.execute("SELECT code FROM municipalities ORDER BY code").fetchall()]
    codes = list(BIG_CITIES) + [c for c in codes if c not in BIG_CITIES]
    k, m = len(codes), len(PHRASES)
    # municipality index skewed towards the first codes (the large cities): about 6 % in Stockholm
    code, year = (f"'{BIG_CITIES[0]}'", str(LAST)) if batch else (
        f"list_extract($codes, 1 + floor({k} * pow(random(), 2.0))::INT)",
        f"{YEARS[0]} + floor(random() * {len(YEARS)})::INT")
    batch_id = f"'{batch}'" if batch else "code || '-' || md5(code || year::VARCHAR)[:16]"
    con.execute(f"""
        INSERT INTO comments
        SELECT md5(i::VARCHAR), {batch_id}, code, 1 + i,
               CASE WHEN u < 0.7 THEN year || '-' || i END, make_date(year, 1, 1) + (d * 364)::INT, year,
               list_extract(['telefon', 'telefon', 'e-post', 'chatt', 'besök', NULL], 1 + floor(c * 6)::INT),
               list_extract($phrases, 1 + floor(p1 * {m})::INT) || ' '
                   || list_extract($phrases, 1 + floor(p2 * {m})::INT) || ' (' || i || ')',
               CASE WHEN u < 0.2 THEN '{{"NAMN": 1}}' END,
               CASE WHEN u > 0.7 THEN '{{"kön": "kvinna", "ärendetyp": "bygglov"}}' END, now()
        FROM (SELECT i, {code} AS code, {year} AS year, random() AS u, random() AS d,
                     random() AS c, random() AS p1, random() AS p2
              FROM range({start}, {end}) t(i))""", {"phrases": PHRASES, **({} if batch else {"codes": codes})})


def insert_predictions(con, start: int, end: int) -> None:
    """The current model's predictions of comments number start to end - 1 (1-3 areas each)."""
    topic_probs = ", ".join(f"CASE WHEN list_contains(topics, '{t}') THEN 0.8 ELSE 0.1 END AS {prob_column(t)}"
                            for t in TOPICS)
    con.execute(f"""
        INSERT INTO predictions
        SELECT id, '{VERSION}', sentiment,
               CASE WHEN sentiment = 'positive' THEN conf ELSE (1 - conf) / 2 END,
               CASE WHEN sentiment = 'skeptical' THEN conf ELSE (1 - conf) / 2 END,
               CASE WHEN sentiment = 'negative' THEN conf ELSE (1 - conf) / 2 END,
               topics, {topic_probs},
               ('{{' || array_to_string(list_transform(topics, lambda x: '"' || x || '": "'
                   || CASE WHEN hash(id || x) % 5 = 0 THEN 'negative' ELSE sentiment END || '"'), ', ')
                   || '}}')::JSON,
               now(), list_transform(topics, lambda x: [conf, (1 - conf) * 0.4, (1 - conf) * 0.6])
        FROM (SELECT md5(i::VARCHAR) AS id,
                     CASE WHEN u < 0.5 THEN 'positive' WHEN u < 0.68 THEN 'skeptical' ELSE 'negative' END
                         AS sentiment,
                     0.4 + 0.6 * random() AS conf,
                     list_distinct([list_extract($topics, 1 + floor(t1 * 5)::INT)]
                                   || CASE WHEN t2 < 0.4 THEN [list_extract($topics, 1 + floor(t3 * 5)::INT)]
                                           ELSE [] END) AS topics
              FROM (SELECT i, random() AS u, random() AS t1, random() AS t2, random() AS t3
                    FROM range({start}, {end}) t(i)))""", {"topics": list(TOPICS)})


def insert_signals(con, start: int, end: int) -> None:
    """comment_signals rows of comments number start to end - 1."""
    con.execute(f"""
        INSERT INTO comment_signals
        SELECT md5(i::VARCHAR), 'signals@bench', CASE WHEN r < 0.001 THEN 'threat' END,
               CASE WHEN r < 0.001 THEN 0.95 ELSE r / 10 END, false, rp, rp > 0.9, now()
        FROM (SELECT i, random() AS r, random() AS rp FROM range({start}, {end}) t(i))""")


def build_around(con) -> None:
    """Alerts, batches, quarantined rows and corrections for the stored comments; the current model."""
    con.execute("""
        INSERT INTO alerts
        SELECT 'al-' || md5(comment_id)[:16], comment_id, municipality_code, batch_id, row_number, external_id,
               'threat', 0.95, 'signals@bench', now(), now(), CASE WHEN random() < 0.5 THEN now() END, NULL
        FROM comments JOIN comment_signals USING (comment_id) WHERE urgent_category IS NOT NULL""")
    con.execute("""
        INSERT INTO batches
        SELECT batch_id, any_value(municipality_code), 'inbox', 'export.csv', 'csv', md5(batch_id), 1000, now(),
               'ingested', count(*), count(*), 0, NULL, now(), NULL, count(*)
        FROM comments GROUP BY batch_id""")
    con.execute("""
        INSERT INTO quarantine
        SELECT batch_id, 1000000 + row_number() OVER (PARTITION BY batch_id), municipality_code,
               'invalid_date', 'invalid date in datum', NULL, now()
        FROM (SELECT batch_id, municipality_code FROM comments USING SAMPLE 0.2 PERCENT (bernoulli))""")
    con.execute(f"""
        INSERT INTO corrections
        SELECT comment_id, CASE WHEN random() < 0.85 THEN sentiment ELSE 'skeptical' END, topics, 'bench', now(),
               model_version, sentiment, CASE WHEN random() < 0.5 THEN 'random' ELSE 'uncertain' END, 'bench',
               row_number() OVER ()
        FROM predictions USING SAMPLE 5000 ROWS""")
    from synpunkt.warehouse import set_current_model

    set_current_model(con, VERSION)
    con.execute("CHECKPOINT")


NEW_BATCH, NEW_REVIEW = f"{BIG_CITIES[0]}-bench-incremental", "bench-incremental"
"""The batch and review file the incremental scenario adds (and removes at its end)."""


def add_new_rows(con, n: int, n_new: int, n_corrections: int) -> None:
    """What arrives between two refreshes: a new batch of n_new comments (Stockholm, the last year) with their
    signals, as ingest writes them, then their predictions, as classification writes them, and a review file of
    n_corrections answers for stored comments, a fifth of them already corrected (corrections of corrections)."""
    insert_comments(con, n, n + n_new, NEW_BATCH)
    insert_signals(con, n, n + n_new)
    insert_predictions(con, n, n + n_new)
    con.execute(f"""
        INSERT INTO corrections
        SELECT comment_id, 'negative', topics, 'bench', now(), model_version, sentiment, 'random', '{NEW_REVIEW}',
               row_number() OVER ()
        FROM (SELECT * FROM (SELECT * FROM predictions WHERE comment_id NOT IN (SELECT comment_id FROM corrections)
                             USING SAMPLE {n_corrections - n_corrections // 5} ROWS)
              UNION ALL
              SELECT * FROM (SELECT p.* FROM predictions p SEMI JOIN corrections c USING (comment_id)
                             USING SAMPLE {n_corrections // 5} ROWS))""")


def remove_new_rows(con) -> None:
    """Undo add_new_rows as the pipeline removes a failed batch (synpunkt.warehouse.discard_batch_rows), and the
    review file's rows: the warehouse is as built again (--keep reuses it)."""
    from synpunkt.warehouse import discard_batch_rows

    discard_batch_rows(con, NEW_BATCH)
    con.execute("DELETE FROM corrections WHERE source_checksum = ?", [NEW_REVIEW])


def mart_fingerprint(con) -> tuple:
    """Row counts and order-independent hash sums of comment_mart's and comment_mart_repeat's rows."""
    return con.execute("SELECT (SELECT (count(*), sum(hash(m))) FROM comment_mart m), "
                       "(SELECT (count(*), sum(hash(r))) FROM comment_mart_repeat r)").fetchall()[0]


def incremental_scenario(con, n: int, quant: Q.Quantification) -> None:
    """After a full build: add a new batch (1 % of the rows) and a review file, then time the refresh that updates
    the mart against a forced full rebuild in the same run, check that both give the same rows, and time the
    comment-level views on the updated mart; then remove the batch and the review file again (the presence
    comparison) and time that update, whose rows must equal the full build's before the batch."""
    from synpunkt.comment_mart import update_comment_mart
    from synpunkt.trends import refresh

    n_new, n_corr = max(n // 100, 1), max(n // 2000, 5)
    before = mart_fingerprint(con)
    _, add_s, _ = timed(lambda: add_new_rows(con, n, n_new, n_corr))
    print(f"\nincremental refresh: a new batch of {n_new:,} comments (Stockholm {LAST}) with signals and predictions "
          f"and {n_corr:,} corrections ({n_corr // 5:,} of corrected comments) added in {add_s:.1f} s")
    update, mart_s, mart_cpu = timed(lambda: update_comment_mart(con, VERSION))
    updated = mart_fingerprint(con)
    _, stats_s, stats_cpu = timed(lambda: refresh(con, VERSION, quant))
    print(f"  incremental: mart {update.kind} ({update.changed:,} comments changed) {mart_s:.1f} s "
          f"({mart_cpu:.1f} CPU s), trends {stats_s:.1f} s ({stats_cpu:.1f} CPU s): trends refresh "
          f"{mart_s + stats_s:.1f} s, {mart_cpu + stats_cpu:.1f} CPU s (target < {TREND_TARGET_S:.0f} s: "
          f"{'met' if mart_s + stats_s < TREND_TARGET_S else 'MISSED'})")
    views = [sql for view, _, sql in QUERIES if view in MART_VIEWS]
    slowest = max(time_query(con, sql)[1] for sql in views)
    _, same_s, _ = timed(lambda: refresh(con, VERSION, quant))
    print(f"  nothing changed since: trends refresh {same_s:.1f} s")
    _, full_s, full_cpu = timed(lambda: update_comment_mart(con, VERSION, full=True))
    rebuilt = mart_fingerprint(con)
    _, stats2_s, stats2_cpu = timed(lambda: refresh(con, VERSION, quant))
    print(f"  forced full rebuild: mart {full_s:.1f} s ({full_cpu:.1f} CPU s), trends {stats2_s:.1f} s: trends "
          f"refresh {full_s + stats2_s:.1f} s, {full_cpu + stats2_cpu:.1f} CPU s; mart update "
          f"{full_s / max(mart_s, 1e-9):.1f}x faster; same rows: {'yes' if updated == rebuilt else 'NO'}")
    print(f"  comment-level views ({len(views)} queries), slowest best of 3: {slowest:.3f} s on the updated mart, "
          f"{max(time_query(con, sql)[1] for sql in views):.3f} s on the rebuilt one (target < {VIEW_TARGET_S:.0f} s)")
    remove_new_rows(con)
    removed, rm_s, rm_cpu = timed(lambda: update_comment_mart(con, VERSION))
    print(f"  the batch removed again (a failed batch's rows discarded): mart {removed.kind} "
          f"({removed.changed:,} comments changed) {rm_s:.1f} s ({rm_cpu:.1f} CPU s)")
    print(f"  same rows as the full build before the batch: {'yes' if mart_fingerprint(con) == before else 'NO'}")


def quantification() -> Q.Quantification:
    """A fitted PACC correction for the overall sentiment and ACC for the areas' (as bench_trends.py)."""
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), 2000)
    y = p.argmax(1)
    return Q.Quantification({"sentiment": Q.fit_correction("pacc", p, y, list(SENTIMENTS)),
                             "topic_sentiment": Q.fit_correction("acc", p, y, list(SENTIMENTS))}, "bench")


def time_query(con, sql: str, repeats: int = 3) -> tuple[float, float, float, list]:
    """(first run s, best of `repeats` more s, CPU s of that best run (every thread), result rows)."""
    t = time.perf_counter()
    rows = con.execute(sql).fetchall()
    first = time.perf_counter() - t
    best, best_cpu = float("inf"), 0.0
    for _ in range(repeats):
        t, cpu = time.perf_counter(), time.process_time()
        con.execute(sql).fetchall()
        if time.perf_counter() - t < best:
            best, best_cpu = time.perf_counter() - t, time.process_time() - cpu
    return first, best, best_cpu, rows


def run_queries(path: Path, queries: list[tuple[str, str, str]], explain: str | None
                ) -> dict[tuple[str, str], tuple[float, float, float, list]]:
    """time_query of each query on the published copy at `path`, opened read-only as an analyst opens it."""
    import duckdb

    out = {}
    with duckdb.connect(str(path), read_only=True) as ro:
        for view, what, sql in queries:
            out[(view, what)] = time_query(ro, sql)
            if explain and (explain in view or explain in what):
                print(ro.execute("EXPLAIN ANALYZE " + sql).fetchall()[0][1])
    return out


def timed(step):
    """(result, wall s, CPU s of this process) of step()."""
    t, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - t, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="build the warehouse in this folder and keep it")
    parser.add_argument("--explain", help="print EXPLAIN ANALYZE of the queries whose view or description "
                                          "contains this text")
    parser.add_argument("--refresh-only", action="store_true",
                        help="time the trends refreshes only (full, then incremental), without publishing and the "
                             "views")
    args = parser.parse_args()

    import duckdb

    from synpunkt.marts import build_comment_mart
    from synpunkt.publish import publish
    from synpunkt.trends import refresh
    from synpunkt.warehouse import connect

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-views-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        warehouse, published = folder / "warehouse.duckdb", folder / "published.duckdb"
        con = connect(warehouse)
        t0 = time.perf_counter()
        built = con.execute("SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM model_versions)"
                            ).fetchall()[0]
        if built[0] != args.n:
            con.close()
            warehouse.unlink()
            con = connect(warehouse)
            build(con, args.n)
        elif not built[1]:  # interrupted after the comments
            for table in ("alerts", "batches", "quarantine", "corrections"):
                con.execute(f"DELETE FROM {table}")
            build_around(con)
        print(f"warehouse of {args.n:,} comments ready in {time.perf_counter() - t0:.1f} s "
              f"({warehouse.stat().st_size / 1e9:.2f} GB; DuckDB {duckdb.__version__}, "
              f"{con.execute('SELECT current_setting(' + repr('threads') + ')').fetchall()[0][0]} threads)")
        # a refresh after new data: the comment mart is rebuilt (refresh skips it when nothing changed), then the
        # trends are computed from it; timed apart, together they are what refresh() does
        con.execute("DELETE FROM comment_mart_state")
        mart_rows, mart_s, mart_cpu = timed(lambda: build_comment_mart(con, VERSION))
        rows, stats_s, stats_cpu = timed(lambda: refresh(con, VERSION, quantification()))
        trends_s, trends_cpu = mart_s + stats_s, mart_cpu + stats_cpu
        print(f"trends refresh: {rows:,} yearly_trends rows in {trends_s:.1f} s, {trends_cpu:.1f} CPU s (target "
              f"< {TREND_TARGET_S:.0f} s: {'met' if trends_s < TREND_TARGET_S else 'MISSED'}): comment mart of "
              f"{mart_rows:,} rows {mart_s:.1f} s ({mart_cpu:.1f} CPU s), trends {stats_s:.1f} s "
              f"({stats_cpu:.1f} CPU s)")
        if args.refresh_only:
            incremental_scenario(con, args.n, quantification())
            con.close()
            return
        _, publish_s, publish_cpu = timed(lambda: publish(con, published))
        print(f"publish (copy for the analysts): {publish_s:.1f} s, {publish_cpu:.1f} CPU s "
              f"({published.stat().st_size / 1e9:.2f} GB)")
        con.close()

        fresh = run_queries(published, QUERIES, args.explain)
        # the same queries with the mart marked stale: the views' live branch, i.e. the views before the mart
        with duckdb.connect(str(published)) as rw:
            rw.execute("DELETE FROM comment_mart_state")
        live = run_queries(published, [q for q in QUERIES if q[0] in MART_VIEWS], None)
        print(f"\n{'view':<22} {'query':<60} {'rows':>6} {'first s':>8} {'best s':>7} {'CPU s':>6} "
              f"{'live s':>7} {'same':>5}")
        missed = []
        for view, what, _ in QUERIES:
            first, best, cpu, result = fresh[(view, what)]
            if best >= VIEW_TARGET_S:
                missed.append(f"{view}: {what}")
            before = live.get((view, what))
            same = "" if before is None else ("yes" if sorted(map(repr, before[3])) == sorted(map(repr, result))
                                              else "NO")
            live_s = "" if before is None else f"{before[1]:.3f}"
            print(f"{view:<22} {what[:60]:<60} {len(result):>6,} {first:>8.3f} {best:>7.3f} {cpu:>6.2f} "
                  f"{live_s:>7} {same:>5}{'  > 1 s' if best >= VIEW_TARGET_S else ''}")
        slowest = max(v[1] for v in fresh.values())
        print(f"\n{len(QUERIES) - len(missed)} of {len(QUERIES)} queries under {VIEW_TARGET_S:.0f} s (best of 3)"
              + (": over it: " + "; ".join(missed) if missed else "") + f"; slowest {slowest:.3f} s."
              "\nlive s: the same query with the mart marked stale (the views join the live tables, as before the "
              "mart); same: identical rows.")
        con = connect(warehouse)
        incremental_scenario(con, args.n, quantification())
        con.close()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

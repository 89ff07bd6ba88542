"""The analysts' SQL: counts in yearly_shares, the z-test views (the reports' test, same p-values), COMMENT ON for
every view and column, topic_labels from labels.py, and the published copy opened by the released duckdb-cli (1.x)
running every query in the README's analyst section."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from analyst_warehouse import SPEC, VERSION, counts

from synpunkt.labels import ALL_TOPICS, ALL_TOPICS_LABEL_SV, SENTIMENTS, TOPIC_LABELS_EN, TOPIC_LABELS_SV, TOPICS
from synpunkt.publish import PUBLISHED_STORAGE_VERSION
from synpunkt.report.statistics import ALPHA, MIN_RANK_N, MIN_TEST_N, estimate_change_test, net_change_test

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    from analyst_warehouse import build_published

    return build_published(tmp_path_factory.mktemp("analyst-warehouse"))


@pytest.fixture()
def con(published):
    c = duckdb.connect(str(published), read_only=True)
    yield c
    c.close()


def _close(a: float | None, b: float, rel: float = 1e-6) -> bool:
    """SQL NULL matches Python's nan; otherwise equal within `rel` (the SQL erfc is accurate to 1.2e-7)."""
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# -- the views ---------------------------------------------------------------------------------------------------
def test_yearly_shares_carry_the_counts(con):
    rows = con.execute("SELECT municipality_code, year, topic, n, n_positive, n_skeptical, n_negative, net_score "
                       "FROM yearly_shares").fetchall()
    assert len(rows) == len(SPEC) * (len(TOPICS) + 1)
    for code, year, topic, n, pos, skep, neg, net in rows:
        expected = ([sum(x) for x in zip(*(counts(code, year, t) for t in TOPICS))] if topic == ALL_TOPICS
                    else list(counts(code, year, topic)))
        assert [pos, skep, neg] == expected, (code, year, topic)
        assert n == sum(expected) and net == pytest.approx(100 * (pos - neg) / n)
    national = dict(con.execute("SELECT topic, n_positive FROM national_shares WHERE year = 2025").fetchall())
    assert national["wait_time"] == sum(counts(c, y, "wait_time")[0] for c, y in SPEC if y == 2025)


def test_topic_labels_come_from_labels_py(con):
    rows = con.execute("SELECT topic, name_sv, name_en FROM topic_labels ORDER BY sort_order").fetchall()
    assert rows[0] == (ALL_TOPICS, ALL_TOPICS_LABEL_SV, "All comments")
    assert rows[1:] == [(t, TOPIC_LABELS_SV[t], TOPIC_LABELS_EN[t]) for t in TOPICS]


def test_yearly_changes_use_the_reports_z_test(con):
    shares = {(c, y, t): (net, se, n) for c, y, t, net, se, n in con.execute(
        "SELECT municipality_code, year, topic, net_score, net_score_se, n FROM yearly_shares").fetchall()}
    rows = con.execute("SELECT municipality_code, topic, year, previous_year, change, change_se, z, p_value, "
                       "significant FROM yearly_changes").fetchall()
    expected_keys = {(c, t, y) for c, y, t in shares if (c, y - 1, t) in shares}
    assert {(r[0], r[1], r[2]) for r in rows} == expected_keys
    for code, topic, year, prev, change, se, z, p, significant in rows:
        assert prev == year - 1
        diff, z_py, p_py = estimate_change_test(*shares[(code, prev, topic)], *shares[(code, year, topic)])
        assert change == pytest.approx(diff)
        assert _close(z, z_py) and _close(p, p_py), (code, topic, year, p, p_py)
        assert significant == (not math.isnan(p_py) and p_py < ALPHA)
        if not math.isnan(z_py) and z_py:
            assert se == pytest.approx(change / z)
    malmo = [r for r in rows if r[0] == "1280" and r[1] == "wait_time"][0]
    assert malmo[4] > 50 and malmo[8] is True


def test_national_gaps_use_the_reports_benchmark_test(con):
    """Corrected net scores on both sides (the report's vs_rest), the classify-and-count difference beside them."""
    from synpunkt.report.statistics import rest_estimate

    nat = {(y, t): (net, se, n, p, q) for y, t, net, se, n, p, q in con.execute(
        "SELECT year, topic, net_score, net_score_se, n, n_positive, n_negative FROM national_shares").fetchall()}
    rows = con.execute("SELECT g.municipality_code, g.year, g.topic, s.net_score, s.net_score_se, s.n, g.difference, "
                       "g.p_value, g.significant, g.n_rest, g.net_score_rest, s.n_positive, s.n_negative, "
                       "g.cc_difference FROM national_gaps g JOIN yearly_shares s "
                       "USING (municipality_code, year, topic)").fetchall()
    assert len(rows) == len(SPEC) * (len(TOPICS) + 1)
    for code, year, topic, net, se, n, difference, p, significant, n_rest, rest, pos, neg, cc in rows:
        nat_net, nat_se, nn, npos, nneg = nat[(year, topic)]
        assert n_rest == nn - n
        rest_py, rest_se = rest_estimate(nat_net, nat_se, nn, net, n)
        assert rest == pytest.approx(rest_py) and difference == pytest.approx(net - rest_py)
        _, _, p_py = estimate_change_test(rest_py, rest_se, nn - n, net, se, n)
        assert _close(p, p_py) and significant == (not math.isnan(p_py) and p_py < ALPHA)
        assert cc == pytest.approx(net_change_test(npos - pos, nneg - neg, nn - n, pos, neg, n)[0])


@pytest.mark.parametrize("a, b", [
    ((3, 2, 20), (20, 2, 3)), ((12, 4, 4), (14, 3, 3)), ((5, 5, 10), (2, 3, 25)), ((0, 10, 0), (0, 12, 0)),
    ((10, 0, 0), (10, 0, 0)), ((9, 0, 0), (0, 0, 9)), ((300, 100, 600), (420, 90, 490)),
    ((5000, 2000, 3000), (5200, 1900, 2900)), ((1, 1, 8), (8, 1, 1)), ((40, 0, 0), (0, 0, 40)),
])
def test_net_diff_macros_give_the_reports_p_values(con, a, b):
    """The SQL test (macros in marts.sql) and synpunkt.report.statistics.net_change_test agree, also at the edges:
    too few to test, no variance, very small p."""
    (p1, s1, q1), (p2, s2, q2) = a, b
    n1, n2 = p1 + s1 + q1, p2 + s2 + q2
    args = [p1, q1, n1, p2, q2, n2]
    diff, z, p = con.execute("SELECT net_diff(?, ?, ?, ?, ?, ?), net_diff_z(?, ?, ?, ?, ?, ?), "
                             "net_diff_p(?, ?, ?, ?, ?, ?)", args * 3).fetchone()
    diff_py, z_py, p_py = net_change_test(*args)
    assert diff == pytest.approx(diff_py)
    assert _close(z, z_py) and _close(p, p_py), (p, p_py)


def test_net_diff_p_tests_from_the_reports_minimum_sample(con):
    untested, tested = (con.execute("SELECT net_diff_p(?, 0, ?, 0, ?, ?)", [n // 2, n, n, n]).fetchone()[0]
                        for n in (MIN_TEST_N - 1, MIN_TEST_N))
    assert untested is None and tested is not None and tested < ALPHA


def test_every_view_and_column_is_documented(con):
    views = con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal "
                        "AND schema_name = 'main'").fetchall()
    assert {"yearly_shares", "yearly_changes", "national_gaps", "comment_topics"} <= {v for v, _ in views}
    assert [v for v, comment in views if not comment] == []
    undocumented = con.execute(
        "SELECT c.table_name || '.' || c.column_name FROM duckdb_columns() c JOIN duckdb_views() v "
        "ON v.view_name = c.table_name AND v.schema_name = c.schema_name "
        "WHERE NOT v.internal AND c.schema_name = 'main' AND (c.comment IS NULL OR c.comment = '') "
        "UNION ALL SELECT 'topic_labels.' || column_name FROM duckdb_columns() "
        "WHERE table_name = 'topic_labels' AND (comment IS NULL OR comment = '')").fetchall()
    assert undocumented == []


# -- the released command-line tool --------------------------------------------------------------------------
def duckdb_cli() -> str:
    """The `duckdb` binary of the duckdb-cli package (the [test] extra installs it beside this Python)."""
    found = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if not found:
        pytest.fail("the DuckDB command-line tool is missing: pip install -e '.[test]' installs duckdb-cli")
    return found


def cli_query(path: Path, sql: str) -> list[dict]:
    proc = subprocess.run([duckdb_cli(), "-readonly", "-json", str(path), "-c", sql], capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, f"duckdb-cli failed on:\n{sql}\n{proc.stderr.strip()}"
    out = proc.stdout.strip()
    return json.loads(out) if out else []


def readme_queries() -> list[tuple[str, str]]:
    """(leading comment, statement) for every SQL statement in the README's analyst section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## How an analyst queries"):]
    section = section[:section.index("\n## ", 5)]
    queries = []
    for block in re.findall(r"```sql\n(.*?)```", section, flags=re.S):
        comment, lines = "", []
        for line in block.splitlines():
            if line.startswith("--") and not lines:
                comment = line.lstrip("- ").strip()
            elif line.strip():
                lines.append(line)
            if lines and line.rstrip().endswith(";"):
                queries.append((comment, "\n".join(lines)))
                comment, lines = "", []
    return queries


def test_published_copy_opens_in_the_released_duckdb_cli(published):
    version = subprocess.run([duckdb_cli(), "--version"], capture_output=True, text=True).stdout
    assert version.startswith("v1."), f"expected a 1.x duckdb-cli (the release analysts have), got {version}"
    with duckdb.connect(str(published), read_only=True) as c:
        tags = c.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    assert PUBLISHED_STORAGE_VERSION.startswith("v1.") and tags["storage_version"].startswith("v1.")
    rows = cli_query(published, "SELECT count(*) AS n FROM yearly_shares WHERE model_version = "
                                f"'{VERSION}'")
    assert rows == [{"n": len(SPEC) * (len(TOPICS) + 1)}]
    docs = cli_query(published, "SELECT comment FROM duckdb_columns() WHERE table_name = 'yearly_changes' "
                                "AND column_name = 'p_value'")
    assert docs[0]["comment"].startswith("Two-sided p-value")


def test_readme_queries_run_in_duckdb_cli_and_answer_the_five_questions(published, con):
    queries = readme_queries()
    assert len(queries) >= 10  # the two dictionary queries, the five questions, more examples
    results = {}
    for comment, sql in queries:
        rows = cli_query(published, sql)
        if re.match(r"\d\.", comment):
            results[int(comment[0])] = rows
    assert sorted(results) == [1, 2, 3, 4, 5], "the README's five numbered questions"
    year = 2025
    # 1. Malmö improved most on wait time, significantly
    assert [r["municipality"] for r in results[1]] == ["Malmö"]
    diff, _, p = net_change_test(*_pqn(1280, year - 1, "wait_time"), *_pqn(1280, year, "wait_time"))
    assert results[1][0]["change"] == round(diff, 1) and results[1][0]["p"] == pytest.approx(p, abs=1e-4)
    # 2. every municipality of this year, best first, with intervals around the net score
    ranking = results[2]
    assert len(ranking) == sum(1 for c, y in SPEC if y == year and _pqn(c, y, ALL_TOPICS)[2] >= MIN_RANK_N)
    assert [r["net"] for r in ranking] == sorted((r["net"] for r in ranking), reverse=True)
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1))
    assert all(r["lo"] <= r["net"] <= r["hi"] for r in ranking)
    # 3. Göteborg's areas significantly below the rest of the country (the reports' benchmark test)
    below = set()
    for topic in (ALL_TOPICS,) + TOPICS:
        pos, neg, n = _pqn(1480, year, topic)
        npos, nneg, nn = (sum(_pqn(c, year, topic)[i] for c, y in SPEC if y == year) for i in range(3))
        d, _, p = net_change_test(npos - pos, nneg - neg, nn - n, pos, neg, n)
        if d < 0 and p < ALPHA:
            below.add(ALL_TOPICS_LABEL_SV if topic == ALL_TOPICS else TOPIC_LABELS_SV[topic])
    assert {r["area"] for r in results[3]} == below and "Väntetid" in below
    # 4. share negative per channel, as counted from the comments
    expected = con.execute("SELECT coalesce(channel, 'not given') AS ch, count(*), "
                           "count(*) FILTER (sentiment = 'negative') FROM comments_classified WHERE year = ? "
                           "GROUP BY ch", [year]).fetchall()
    assert {r["channel"]: (r["n"], r["pct_negative"]) for r in results[4]} == {
        ch: (n, round(100 * k / n, 1)) for ch, n, k in expected}
    assert all(r["lo"] <= r["pct_negative"] <= r["hi"] for r in results[4])
    # 5. the comments behind Göteborg's negative wait-time share, redacted text with Swedish characters intact
    assert len(results[5]) == counts("1480", year, "wait_time")[2]
    assert all("förvaltningen, Västerås" in r["text"] and "wait_time: negative" in r["text"] for r in results[5])


def _pqn(code: int | str, year: int, topic: str) -> tuple[int, int, int]:
    """(positive, negative, n) as built, for 'all' or one area."""
    code = str(code).zfill(4)
    if (code, year) not in SPEC:
        return (0, 0, 0)
    parts = [counts(code, year, t) for t in (TOPICS if topic == ALL_TOPICS else (topic,))]
    return (sum(p[0] for p in parts), sum(p[2] for p in parts), sum(sum(p) for p in parts))


def test_sentiment_columns_follow_labels(con):
    """Counts and shares exist for exactly the sentiments in labels.py."""
    columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = "
                                         "'yearly_shares'").fetchall()}
    for s in SENTIMENTS:
        assert {f"n_{s}", f"share_{s}", f"share_{s}_lo", f"share_{s}_hi"} <= columns

"""Published statistics that must not move when the data does not: a trends refresh on unchanged comments gives
the same intervals, p-values and significance, also when DuckDB's parallel aggregate hands the groups over in
another order, and a group's interval does not depend on which other groups are computed with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_trends_em import _corrections, _quant, warehouse  # noqa: F401 (the fixture)
from test_trends_topic_pacc import VERSION

from synpunkt import quantification as Q
from synpunkt import trends

KEYS = trends.GROUP_KEYS


def _rows(con, stats: pd.DataFrame, quant: Q.Quantification) -> pd.DataFrame:
    """yearly_trends rows for the groups in stats (in stats' order), sorted by their keys."""
    stats = stats.reset_index(drop=True)
    em = trends.em_groups(stats, quant)
    cells = trends.trend_cells(con, VERSION, stats.iloc[em]) if len(em) else None
    rows = trends.trend_rows(stats, quant, 0, cells)
    return rows.sort_values(KEYS, na_position="first").reset_index(drop=True)


def test_two_refreshes_on_the_same_comments_publish_the_same_numbers(warehouse):  # noqa: F811
    from synpunkt.warehouse import refresh_trends

    con, _, _ = warehouse
    quant = _quant(_corrections())
    query = "SELECT * EXCLUDE (computed_at) FROM yearly_trends ORDER BY scope, municipality_code, year, topic"
    refresh_trends(con, VERSION, quant)
    first = con.execute(query).df()
    refresh_trends(con, VERSION, quant)
    second = con.execute(query).df()
    assert len(first) > 0 and first.equals(second)
    assert set(first["method"]) == {"em", "acc"}  # both kinds of draws (EM's and the bootstrap's) are covered


def test_a_groups_interval_does_not_depend_on_the_order_or_company_of_the_groups(warehouse):  # noqa: F811
    from synpunkt.marts import build_comment_mart

    con, _, _ = warehouse
    quant = _quant(_corrections())
    build_comment_mart(con, VERSION)
    stats = trends.trend_stats(con, VERSION)
    assert stats[KEYS].equals(trends.trend_stats(con, VERSION)[KEYS])  # the statistics come in a fixed order
    base = _rows(con, stats, quant)
    for state in (1, 2, 3):  # the rows as a parallel hash aggregate may return them
        assert _rows(con, stats.sample(frac=1, random_state=state), quant).equals(base)
    # without one municipality's groups (and the nation's, which it is part of) the others' numbers stay
    others = stats[(stats["municipality_code"] != "0180") & (stats["scope"] == "municipality")]
    fewer = _rows(con, others, quant)
    same = base.merge(fewer[KEYS], on=KEYS)
    numbers = [c for c in base.columns if c.startswith(("share", "net_score"))]
    assert len(same) == len(fewer) and np.allclose(same[numbers], fewer[numbers], rtol=0, atol=1e-6)


def test_group_seeds_depend_on_the_key_alone():
    keys = [("municipality", "0180", 2025, "all"), ("national", None, 2025, "all")]
    seeds = Q.group_keys_seeds(keys, 0)
    assert list(Q.group_keys_seeds(keys[::-1], 0)) == list(seeds[::-1])
    assert Q.group_keys_seeds([("municipality", "0180", 2025.0, "all")], 0)[0] == seeds[0]  # dtype-independent
    assert Q.group_keys_seeds([("national", np.nan, np.int64(2025), "all")], 0)[0] == seeds[1]
    assert Q.group_keys_seeds(keys, 1)[0] != seeds[0] and seeds[0] != seeds[1]

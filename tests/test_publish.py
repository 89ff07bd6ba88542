"""Publishing the analysts' copy: a path with a quote in it, and snapshot files a killed publish left behind."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb

from synpunkt.publish import publish, remove_orphaned_snapshots
from synpunkt.sql_literals import sql_string


def test_publish_to_a_path_with_a_quote(tmp_path):
    folder = tmp_path / "o'brien; DROP TABLE x --"
    folder.mkdir()
    con = duckdb.connect(str(folder / "live.duckdb"))
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    dest = publish(con, folder / "published.duckdb")
    con.close()
    with duckdb.connect(str(dest), read_only=True) as copy:
        assert copy.execute("SELECT answer FROM t").fetchall() == [(42,)]
    assert sql_string("a'b") == "'a''b'"


def test_publish_and_the_views_documentation_quote_with_one_helper(tmp_path):
    """One SQL string-literal helper (synpunkt.sql_literals), used by publish (ATTACH's path) and by marts (COMMENT
    ON texts), for text and paths alike."""
    from synpunkt import marts, publish as publishing, sql_literals

    assert publishing.sql_string is sql_literals.sql_string and marts.sql_string is sql_literals.sql_string
    assert sql_string.__module__ == "synpunkt.sql_literals" and not hasattr(marts, "_quote")
    assert sql_string(tmp_path / "o'brien") == "'" + str(tmp_path / "o''brien") + "'"
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    docs = {"t": ("o'brien's table'); DROP TABLE t; --", {"x": "it's x"})}
    con.execute(";\n".join(marts.comment_statements(con, docs)))
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 't'").fetchall() == [(docs["t"][0],)]
    assert con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 't'").fetchall() == [("it's x",)]


def test_a_killed_publish_leaves_no_snapshot_behind_the_next(tmp_path):
    dest = tmp_path / "synpunkt.duckdb"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a pid that has exited
    orphan = tmp_path / f".synpunkt.duckdb.{dead}.tmp"
    orphan.write_bytes(b"half a snapshot")
    mine = tmp_path / f".synpunkt.duckdb.{os.getpid()}.tmp"  # this process's own: kept
    mine.write_bytes(b"in progress")
    other = tmp_path / ".other.duckdb.1.tmp"  # another file's: kept
    other.write_bytes(b"x")
    assert remove_orphaned_snapshots(dest) == [orphan]
    assert not orphan.exists() and mine.exists() and other.exists()

"""Publish a consistent, read-only copy of the warehouse for analysts.

DuckDB allows one writing process per file, and a reader that opens the live file would block the pipeline (or
be blocked by it). So the pipeline copies its database into a new file (``COPY FROM DATABASE``) and atomically
renames it over the published path. Analysts open the published file read-only; a reader that has it open
keeps reading the snapshot it opened while the next pipeline run writes and publishes.

The copy is written in an explicit, older storage format (:data:`PUBLISHED_STORAGE_VERSION`), not the writing
library's newest one, so that the DuckDB tools analysts have (the 1.x command-line tool, ODBC and JDBC drivers,
Python 1.x and 2.x) all open it; tests/test_analyst_sql.py opens it with the released duckdb-cli.
"""

from __future__ import annotations

import os
from pathlib import Path

from synpunkt.config import published_path, shared_dir, shared_file
from synpunkt.sql_literals import sql_string

PUBLISHED_STORAGE_VERSION = "v1.1.0"
"""Storage format of the published copy (format 64): read by DuckDB 1.1 and every later release, 1.x and 2.x.
DuckDB 2.0 writes format 69 by default, which no 1.x release can read. (1.0 reads format 64 too, but not the
primary-key indexes that 2.x writes into it.)"""


def remove_orphaned_snapshots(dest: Path) -> list[Path]:
    """Delete snapshot files a killed publish left beside `dest` (".<name>.<pid>.tmp" whose process is gone); each
    is as large as the warehouse, and no later run would reuse its name. Returns what was removed."""
    removed = []
    for tmp in dest.parent.glob(f".{dest.name}.*.tmp"):
        pid = tmp.name[len(dest.name) + 2:-len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: not ours to judge
    return True


def publish(con, dest: Path | None = None) -> Path:
    """Snapshot the warehouse behind `con` to dest (default: the configured published path)."""
    dest = Path(dest or published_path())
    shared_dir(dest.parent)
    remove_orphaned_snapshots(dest)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    # ATTACH takes no parameters, and an operator's SYNPUNKT_HOME may hold a quote ("/srv/o'brien")
    con.execute(f"ATTACH {sql_string(tmp)} AS snapshot (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')")
    try:
        con.execute(f"COPY FROM DATABASE \"{source.replace(chr(34), chr(34) * 2)}\" TO snapshot")
    finally:
        con.execute("DETACH snapshot")
    shared_file(tmp)  # 0640: redacted data only, readable by the analysts' group, whatever the umask
    os.replace(tmp, dest)  # atomic on POSIX: readers see the old or the new snapshot, never half of one
    return dest


def open_published(path: Path | None = None):
    """A read-only connection to the published copy (what analysts and reports use)."""
    import duckdb

    path = Path(path or published_path())
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}; run `synpunkt run` or `synpunkt demo` first")
    return duckdb.connect(str(path), read_only=True)


def not_publishable(con, version: str) -> str | None:
    """Why the live warehouse is not published outside a run (a batch half ingested, comments not yet classified:
    a run would finish them first), or None."""
    from synpunkt.warehouse import count_unclassified

    if con.execute("SELECT count(*) FROM batches WHERE status = 'ingesting'").fetchall()[0][0]:
        return "a batch was interrupted while it was ingested"
    if count_unclassified(con, version):
        return "some comments are not classified yet"
    return None


def refresh_and_publish(con, dest: Path | None = None) -> tuple[Path | None, str | None]:
    """After a change made outside a run (a review import, a batch withdrawal), under the pipeline lock: the current
    model's trends and comment mart recomputed, then the warehouse published as a run ends. Returns (the published
    path, None), or (None, why it was not published: the next `synpunkt run` publishes it)."""
    from synpunkt.warehouse import refresh_trends

    version = con.execute("SELECT model_version FROM current_model").fetchall()
    if not version:
        return None, "no model has classified the comments yet"
    refresh_trends(con, version[0][0])
    held_back = not_publishable(con, version[0][0])
    if held_back is not None:
        return None, held_back
    return publish(con, dest), None

"""Publish a consistent, read-only copy of the warehouse for analysts.

DuckDB allows one writing process per file, and a reader that opens the live file would block the pipeline (or
be blocked by it). So the pipeline copies its database into a new file (``COPY FROM DATABASE``) and atomically
renames it over the published path. Analysts open the published file read-only; a reader that has it open
keeps reading the snapshot it opened while the next pipeline run writes and publishes.
"""

from __future__ import annotations

import os
from pathlib import Path

from synpunkt.config import published_path


def publish(con, dest: Path | None = None) -> Path:
    """Snapshot the warehouse behind `con` to dest (default: the configured published path)."""
    dest = Path(dest or published_path())
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(f"ATTACH '{tmp}' AS snapshot")
    try:
        con.execute(f"COPY FROM DATABASE \"{source}\" TO snapshot")
    finally:
        con.execute("DETACH snapshot")
    os.chmod(tmp, 0o644)  # redacted data only: readable by analysts
    os.replace(tmp, dest)  # atomic on POSIX: readers see the old or the new snapshot, never half of one
    return dest


def open_published(path: Path | None = None):
    """A read-only connection to the published copy (what analysts and reports use)."""
    import duckdb

    path = Path(path or published_path())
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}; run `synpunkt run` or `synpunkt demo` first")
    return duckdb.connect(str(path), read_only=True)

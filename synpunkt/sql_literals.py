"""SQL string literals for the statements DuckDB takes no parameters in (ATTACH's path, COMMENT ON's text).

The one quoting helper: synpunkt.publish (the snapshot's path) and synpunkt.marts (the views' documentation) both
use it. It imports nothing from the package, so any layer may use it.
"""

from __future__ import annotations

import os


def sql_string(text: str | os.PathLike) -> str:
    """`text` (a path too) as a SQL string literal: in single quotes, each quote inside doubled ("/srv/o'brien" ->
    '/srv/o''brien'). Use a bound parameter wherever the statement takes one."""
    return "'" + str(text).replace("'", "''") + "'"

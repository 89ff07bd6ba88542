"""Exports of the published warehouse for people who work outside SQL (``synpunkt export``).

* ``kolada``: one row per KPI, municipality, year and gender in Kolada's shape,
  ``kpi;municipality_id;period;gender;value;count``, with Synpunkt's own KPI codes (:func:`kpi_code`): the net
  score and the share of each sentiment, over every comment and per area. Gender is T (everyone) and, where the
  comments' metadata has the citizen's gender (a ``kön`` / ``gender`` column), K and M as well (groups of at least
  :data:`MIN_GENDER_GROUP` comments). T is the views' prevalence-corrected figure; K and M are put on T's
  corrected level (:func:`on_totals_level`: T plus the gender's difference from the gendered comments' mean as
  classified, the three shares shrunk together towards T where one would leave 0..100 %, so that they add up to
  100 %), so K <= T <= M (or M <= T <= K) on one scale. The whole country is municipality ``0000``, as in
  Kolada. Values use a decimal point (percentage points for the net score, per cent for the shares); count is the number of comments
  behind the value.
* ``excel``: an XLSX workbook with one sheet per main view and a sheet documenting every column.
* ``csv``: ``yearly_shares`` as Swedish Excel opens it: semicolons, decimal comma, UTF-8 with BOM.

Every check (format, file suffix, a directory given as the file, the municipality and year) happens before any
file is written; failures raise :class:`ExportError` with a one-line message.
"""

from __future__ import annotations

import contextlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.labels import ALL_TOPICS, SENTIMENTS, TOPICS
from synpunkt.municipalities import UnknownMunicipality, municipality_name, resolve_municipality
from synpunkt.os_errors import plain_reason
from synpunkt.tables import keep_formulas_as_text, neutralise_formula

SUFFIXES: dict[str, tuple[str, ...]] = {"kolada": (".csv", ".txt"), "excel": (".xlsx",), "csv": (".csv",)}
"""Export formats and the file suffixes each may be written to."""

KPI_PREFIX = "SYNP"
MEASURES: dict[str, str] = {"NET": "net_score", "POS": "share_positive", "SKE": "share_skeptical",
                            "NEG": "share_negative"}
"""Kolada measure code -> the yearly_shares column it exports (shares are written in per cent)."""
KOLADA_COLUMNS = ("kpi", "municipality_id", "period", "gender", "value", "count")
NATIONAL_ID = "0000"
"""Kolada's id for the whole country (Riket)."""
GENDER_KEYS = ("kön", "kon", "gender", "sex", "medborgarens_kön", "citizen_gender")
"""Metadata columns holding the citizen's gender (not the case handler's)."""
GENDER_CODES: dict[str, str] = {"kvinna": "K", "kvinnor": "K", "k": "K", "kvinnlig": "K", "woman": "K",
                                "female": "K", "f": "K", "man": "M", "män": "M", "m": "M", "manlig": "M",
                                "male": "M"}
MIN_GENDER_GROUP = 5
"""K and M rows with fewer comments are left out (as the reports do), so that no tiny group stands out."""
EXCEL_SHEETS = ("yearly_shares", "yearly_changes", "national_gaps", "national_shares", "topic_labels")
CSV_VIEW = "yearly_shares"


class ExportError(ValueError):
    """An export that cannot be made; the message is one line for the operator."""


@dataclass(frozen=True)
class Scope:
    """What to export: a year (None = every year) and a municipality code (None = every municipality)."""

    year: int | None = None
    code: str | None = None


def kpi_code(measure: str, topic: str) -> str:
    """Synpunkt's KPI code, e.g. SYNP_NET_ALL (net score, every comment) or SYNP_NEG_WAIT_TIME."""
    return f"{KPI_PREFIX}_{measure}_{topic.upper()}"


def kpi_catalogue() -> pd.DataFrame:
    """Every KPI code with its measure and area (what the README documents)."""
    return pd.DataFrame([{"kpi": kpi_code(m, t), "measure": col, "topic": t}
                         for t in (ALL_TOPICS,) + TOPICS for m, col in MEASURES.items()])


# -- checks (before any work) -----------------------------------------------------------------------------------
def check_output(fmt: str, output: Path) -> None:
    """Format, suffix and target checks that need no database."""
    if fmt not in SUFFIXES:
        raise ExportError(f"unsupported format {fmt!r}; choose one of {', '.join(SUFFIXES)}")
    output = Path(output)
    if output.is_dir():
        raise ExportError(f"{output} is a directory; give a file name, e.g. {output / ('synpunkt' + SUFFIXES[fmt][0])}")
    if output.suffix.lower() not in SUFFIXES[fmt]:
        raise ExportError(f"unsupported file suffix {output.suffix or '(none)'!r} for --format {fmt}; "
                          f"use {' or '.join(SUFFIXES[fmt])}")
    parent = next((p for p in output.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ExportError(f"{parent} is a file, so {output} cannot be written")


def check_scope(con, year: int | None, municipality: str | None) -> Scope:
    """Resolve the municipality (code or name) and check that the published warehouse has data for the scope."""
    code = None
    if municipality is not None:
        try:
            code = resolve_municipality(municipality)
        except UnknownMunicipality as err:
            raise ExportError(str(err)) from None
    sql = "SELECT DISTINCT year FROM yearly_shares WHERE topic = ? AND n > 0"
    params: list = [ALL_TOPICS]
    if code:
        sql += " AND municipality_code = ?"
        params.append(code)
    years = sorted(int(r[0]) for r in con.execute(sql, params).fetchall())
    where = f"{municipality_name(code)} ({code})" if code else "any municipality"
    if not years:
        raise ExportError(f"the published warehouse has no classified comments for {where}")
    if year is not None and year not in years:
        raise ExportError(f"no classified comments for {where} in {year}; years with data: "
                          f"{', '.join(map(str, years))}")
    return Scope(year=year, code=code)


# -- the data -----------------------------------------------------------------------------------------------------
def _where(scope: Scope, municipal: bool = True) -> tuple[str, list]:
    clauses, params = ["true"], []
    if scope.year is not None:
        clauses.append("year = ?")
        params.append(scope.year)
    if municipal and scope.code is not None:
        clauses.append("municipality_code = ?")
        params.append(scope.code)
    return " AND ".join(clauses), params


def view_frame(con, view: str, scope: Scope) -> pd.DataFrame:
    """A view's rows in scope (views without year or municipality columns are not filtered on them)."""
    columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
                                         [view]).fetchall()}
    where, params = _where(Scope(scope.year if "year" in columns else None,
                                 scope.code if "municipality_code" in columns else None))
    order = [c for c in ("municipality_code", "year", "sort_order") if c in columns]
    order_sql = f" ORDER BY {', '.join(order)}" if order else ""
    return con.execute(f"SELECT * FROM {view} WHERE {where}{order_sql}", params).df()


def _norm(text: object) -> str:
    return "_".join(unicodedata.normalize("NFC", str(text)).casefold().replace("-", " ").split())


def gender_of(metadata: str | dict | None) -> str | None:
    """K or M from a comment's metadata (the citizen's gender), None when absent or another value."""
    if not metadata:
        return None
    meta = json.loads(metadata) if isinstance(metadata, str) else metadata
    if not isinstance(meta, dict):
        return None
    keys = {_norm(k) for k in GENDER_KEYS}
    for key, value in meta.items():
        if _norm(key) in keys and value is not None:
            return GENDER_CODES.get(_norm(value))
    return None


def gender_counts(con, scope: Scope) -> pd.DataFrame:
    """Counts per municipality, year, area and gender (K/M) for comments whose metadata gives the gender."""
    where, params = _where(scope)
    rows = con.execute(f"SELECT comment_id, metadata FROM comments_classified WHERE metadata IS NOT NULL AND {where}",
                       params).fetchall()
    genders = pd.DataFrame([(cid, g) for cid, meta in rows if (g := gender_of(meta))],
                           columns=["comment_id", "gender"], dtype=object)
    columns = ["municipality_code", "year", "topic", "gender", "n"] + [f"n_{s}" for s in SENTIMENTS]
    if genders.empty:
        return pd.DataFrame(columns=columns)
    con.register("export_gender", genders)
    try:
        counts = ", ".join(f"count(*) FILTER (sentiment = '{s}') AS n_{s}" for s in SENTIMENTS)
        return con.execute(f"""
            WITH per_topic AS (
                SELECT c.municipality_code, c.year, '{ALL_TOPICS}' AS topic, c.sentiment, g.gender
                FROM comments_classified c JOIN export_gender g USING (comment_id)
                UNION ALL
                SELECT t.municipality_code, t.year, t.topic, t.topic_sentiment AS sentiment, g.gender
                FROM comment_topics t JOIN export_gender g USING (comment_id))
            SELECT municipality_code, year, topic, gender, count(*) AS n, {counts}
            FROM per_topic GROUP BY ALL""").df()[columns]
    finally:
        con.unregister("export_gender")


def _with_measures(counts: pd.DataFrame) -> pd.DataFrame:
    """net_score (percentage points) and share_* (0-1) from n and n_* counts."""
    df = counts.copy()
    n = df["n"].astype(float)
    df["net_score"] = 100.0 * (df["n_positive"] - df["n_negative"]) / n
    for s in SENTIMENTS:
        df[f"share_{s}"] = df[f"n_{s}"] / n
    return df


def shrink_factor(total: np.ndarray, diff: np.ndarray) -> np.ndarray:
    """Per row, the largest f in [0, 1] with 0 <= total + f * diff <= 1 in every column (total: shares in [0, 1],
    one row per group and a column per sentiment); NaN columns are ignored."""
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(diff > 0, (1.0 - total) / diff, np.where(diff < 0, total / -diff, np.inf))
    return np.clip(np.fmin.reduce(room, axis=1, initial=1.0), 0.0, 1.0)


def on_totals_level(by_gender: pd.DataFrame, total: pd.DataFrame) -> pd.DataFrame:
    """K and M rows (_with_measures of the classified labels) moved to the corrected level of their T row: each
    measure is T's corrected value plus the gender's difference from the K and M comments' count-weighted mean as
    classified. The difference between women and men is the one classified; their weighted mean is T's corrected
    value, so T lies between K and M, on the same scale as T.

    The net score is clipped to -100..100 on its own. The three shares move together: where T plus a gender's
    differences would put a share outside 0..1, that gender's three differences are shrunk by one factor
    (shrink_factor) until the share reaches the bound, so its shares still add up to T's (100 %) and each stays
    on its side of T (clipping each share alone added up to 109.5 %)."""
    keys = ["municipality_code", "year", "topic"]
    if by_gender.empty or total.empty:
        return by_gender.iloc[0:0]
    df = by_gender.merge(total[keys + list(MEASURES.values())], on=keys, suffixes=("", "_t"))
    n = df["n"].astype(float)
    groups = [df[k] for k in keys]
    diff = {c: df[c] - (df[c] * n).groupby(groups).transform("sum") / n.groupby(groups).transform("sum")
            for c in MEASURES.values()}
    df["net_score"] = (df["net_score_t"].astype(float) + diff["net_score"]).clip(-100.0, 100.0)
    shares = [c for c in MEASURES.values() if c != "net_score"]
    t = df[[f"{c}_t" for c in shares]].to_numpy(float)
    d = np.column_stack([diff[c].to_numpy(float) for c in shares])
    moved = np.clip(t + shrink_factor(t, d)[:, None] * d, 0.0, 1.0)
    for i, c in enumerate(shares):
        df[c] = moved[:, i]
    return df.drop(columns=[f"{c}_t" for c in MEASURES.values()])


def kolada_frame(con, scope: Scope) -> pd.DataFrame:
    """The Kolada rows (kpi, municipality_id, period, gender, value, count), sorted. T is the views' corrected
    figure; K and M are on its level (on_totals_level), so that all three are on one scale."""
    keep = ["municipality_code", "year", "topic", "gender", "n", *MEASURES.values()]
    by_gender = gender_counts(con, scope)
    total = view_frame(con, "yearly_shares", scope).assign(gender="T")
    parts = [total, on_totals_level(_with_measures(by_gender), total)]
    if scope.code is None:
        national = view_frame(con, "national_shares", scope).assign(gender="T", municipality_code=NATIONAL_ID)
        summed = by_gender.groupby(["year", "topic", "gender"], as_index=False)[
            ["n"] + [f"n_{s}" for s in SENTIMENTS]].sum()
        parts += [national, on_totals_level(_with_measures(summed).assign(municipality_code=NATIONAL_ID), national)]
    wide = pd.concat([p[keep] for p in parts if not p.empty], ignore_index=True)
    wide = wide[(wide["n"] > 0) & ((wide["gender"] == "T") | (wide["n"] >= MIN_GENDER_GROUP))]
    rows = []
    for measure, column in MEASURES.items():
        scale = 1.0 if column == "net_score" else 100.0
        rows.append(pd.DataFrame({
            "kpi": [kpi_code(measure, t) for t in wide["topic"]], "municipality_id": wide["municipality_code"],
            "period": wide["year"].astype(int), "gender": wide["gender"],
            "value": (wide[column].astype(float) * scale).round(1) + 0.0, "count": wide["n"].astype(int)}))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=KOLADA_COLUMNS)
    out["gender_order"] = out["gender"].map({"T": 0, "K": 1, "M": 2})
    out = out.sort_values(["kpi", "municipality_id", "period", "gender_order"]).drop(columns="gender_order")
    return out[list(KOLADA_COLUMNS)].reset_index(drop=True)


def column_docs(con, views: tuple[str, ...]) -> pd.DataFrame:
    """sheet, column, description of every exported column (the COMMENT ON texts in the warehouse)."""
    frames = [con.execute("SELECT table_name AS sheet, column_name AS column, comment AS description "
                          "FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [v]).df() for v in views]
    return pd.concat(frames, ignore_index=True)


# -- writers -------------------------------------------------------------------------------------------------------
def _atomic(output: Path, write) -> None:
    """Write through a temporary file beside `output`, then rename it over (no half-written export). A folder
    that cannot be made or a file that cannot be written raises ExportError (one line); the temporary file is
    removed when it can be (a failure to remove it never hides the first error)."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(f"{output.parent}: cannot make the folder ({plain_reason(err)})") from None
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp{output.suffix}")
    try:
        write(tmp)
        os.replace(tmp, output)
    except OSError as err:
        raise ExportError(f"{output}: cannot write the file ({plain_reason(err)})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_kolada(df: pd.DataFrame, output: Path) -> None:
    _atomic(output, lambda p: df.to_csv(p, sep=";", index=False, encoding="utf-8", lineterminator="\n"))


def write_swedish_csv(df: pd.DataFrame, output: Path) -> None:
    """Semicolons, decimal comma, UTF-8 with BOM, CRLF: what Excel with Swedish settings opens correctly. Text that
    would run as a formula is prefixed with ' (tables.neutralise_formula)."""
    _atomic(output, lambda p: df.round(6).map(neutralise_formula).to_csv(
        p, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\r\n"))


def write_excel(sheets: dict[str, pd.DataFrame], output: Path) -> None:
    """One sheet per frame, header row frozen, columns wide enough for their header."""
    def write(path: Path) -> None:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, df in sheets.items():
                df.to_excel(writer, sheet_name=name, index=False)
                sheet = writer.sheets[name]
                keep_formulas_as_text(sheet)
                sheet.freeze_panes = "A2"
                for cells in sheet.iter_cols(min_row=1, max_row=1):
                    width = max(len(str(cells[0].value)), 10) if name != "columns" else 60
                    sheet.column_dimensions[cells[0].column_letter].width = min(width + 2, 80)
    _atomic(output, write)


def export(con, fmt: str, output: Path, scope: Scope) -> int:
    """Write the export; returns the number of data rows written (all sheets together for excel)."""
    output = Path(output)
    check_output(fmt, output)
    if fmt == "kolada":
        df = kolada_frame(con, scope)
        write_kolada(df, output)
        return len(df)
    if fmt == "csv":
        df = view_frame(con, CSV_VIEW, scope)
        write_swedish_csv(df, output)
        return len(df)
    sheets = {view: view_frame(con, view, scope) for view in EXCEL_SHEETS}
    sheets["columns"] = column_docs(con, EXCEL_SHEETS)
    write_excel(sheets, output)
    return sum(len(df) for name, df in sheets.items() if name != "columns")

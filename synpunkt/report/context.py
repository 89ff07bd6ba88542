"""One report's context: a year, a municipality (None = the whole country) and a language, over the published,
read-only warehouse; and :func:`open_report`, which checks that such a report can be made before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from synpunkt import config
from synpunkt.report.formatting import Formatter
from synpunkt.report.queries import municipality_info, report_years, resolve_municipality, year_shares
from synpunkt.report.text import strings


@dataclass
class Report:
    """One annual report: a year, a municipality (None = national) and a language, over the published warehouse."""

    con: object
    year: int
    code: str | None
    lang: str
    warehouse: Path
    model_dir: Path | None = None
    name: str = ""
    county: str = ""
    years: list[int] = field(default_factory=list)

    @property
    def national(self) -> bool:
        return self.code is None

    @property
    def s(self) -> dict:
        """The language's string table (text.STRINGS[lang])."""
        return strings(self.lang)

    @property
    def fmt(self) -> Formatter:
        return Formatter(self.lang)

    def t(self, name: str, /, **kw) -> Markup:
        """A string of the report's language as HTML; the arguments are escaped unless they are Markup."""
        text = Markup(self.s[name])
        return text.format(**kw) if kw else text

    def tn(self, name: str, count: int, /, **kw) -> Markup:
        """Like :meth:`t` for a sentence about `count` things: the key's singular variant ``<name>_one`` when
        count is 1 ("1 kommun har ...", not "1 kommuner har ...")."""
        return self.t(f"{name}_one" if count == 1 and f"{name}_one" in self.s else name, **kw)

    def text(self, name: str, /, **kw) -> str:
        """A string of the report's language as plain text (figures, alt text)."""
        text = self.s[name]
        return text.format(**kw) if kw else text

    def topic(self, topic: str) -> str:
        return self.s["topics"].get(topic, topic)

    def group_name(self, group: str) -> str:
        """The name of an SKR municipality group (A1..C9) in the report's language."""
        return self.s["kommungrupper"].get(group, group)

    def close(self) -> None:
        self.con.close()


def open_report(year: int | None = None, municipality: str | None = None, lang: str = "sv",
                warehouse: Path | str | None = None, model_dir: Path | str | None = None) -> Report:
    """Open the published warehouse read-only and check that the report can be made (year with data, ...)."""
    from synpunkt.publish import open_published

    strings(lang)
    path = Path(warehouse) if warehouse else config.published_path()
    con = open_published(path)
    try:
        years = report_years(con)
        if not years:
            raise ValueError(f"the warehouse {path} has no classified comments yet; run `synpunkt run` first")
        year = int(year) if year is not None else years[-1]
        code = resolve_municipality(con, municipality)
        if year not in years:
            raise ValueError(f"no classified comments for {year} in {path}; years with data: "
                             f"{', '.join(map(str, years))}")
        rep = Report(con=con, year=year, code=code, lang=lang, warehouse=path,
                     model_dir=Path(model_dir) if model_dir else None, years=years)
        if code:
            info = municipality_info(con, code)
            rep.name, rep.county = info["name"], info["county"]
            if year_shares(con, year, code).empty:
                with_data = [y for y in years if not year_shares(con, y, code).empty]
                listed = ", ".join(map(str, with_data)) or "none"
                raise ValueError(f"{rep.name} ({code}) has no classified comments for {year}; its years with "
                                 f"data: {listed}")
        else:
            rep.name = rep.text("national_name")
        return rep
    except BaseException:
        con.close()
        raise


def page_title(rep: Report) -> str:
    """The report's title (plain text): 'Synpunkter 2025: Stockholm'."""
    if rep.national:
        return rep.text("title_national", year=rep.year)
    return rep.text("title_municipality", year=rep.year, name=rep.name)

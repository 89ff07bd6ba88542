"""`synpunkt export`: Kolada rows equal to yearly_shares (T) with K/M from the metadata's gender, an Excel workbook
with Swedish characters intact, a CSV for Swedish Excel, and one-line errors before any work."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from analyst_warehouse import GENDERS, SPEC, frames
from typer.testing import CliRunner

from synpunkt.cli import app
from synpunkt.export import (EXCEL_SHEETS, KOLADA_COLUMNS, MEASURES, MIN_GENDER_GROUP, gender_of, kpi_catalogue,
                             kpi_code)
from synpunkt.labels import ALL_TOPICS, TOPICS

runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    from analyst_warehouse import build_published

    return build_published(tmp_path_factory.mktemp("export-warehouse"))


def shares(published: Path, view: str = "yearly_shares") -> pd.DataFrame:
    with duckdb.connect(str(published), read_only=True) as con:
        return con.execute(f"SELECT * FROM {view}").df()


def run_export(published: Path, *args) -> tuple[int, str]:
    result = runner.invoke(app, ["export", *map(str, args), "--warehouse", str(published)])
    return result.exit_code, result.output


def read_kolada(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype={"municipality_id": str, "gender": str})


def test_kolada_net_score_and_shares_equal_yearly_shares(published, tmp_path):
    out = tmp_path / "kolada.csv"
    code, output = run_export(published, "--format", "kolada", "-o", out)
    assert code == 0, output
    assert out.read_text(encoding="utf-8").splitlines()[0] == ";".join(KOLADA_COLUMNS)
    kolada = read_kolada(out)
    assert set(kolada["kpi"]) == set(kpi_catalogue()["kpi"]) and len(kpi_catalogue()) == 4 * (len(TOPICS) + 1)
    total = kolada[kolada["gender"] == "T"].set_index(["kpi", "municipality_id", "period"])
    view = shares(published)
    for r in view.itertuples():
        for measure, column in MEASURES.items():
            row = total.loc[(kpi_code(measure, r.topic), r.municipality_code, r.year)]
            scale = 1 if measure == "NET" else 100
            assert row["value"] == round(getattr(r, column) * scale, 1) and row["count"] == r.n
    assert len(total) == 4 * (len(view) + len(shares(published, "national_shares")))
    national = shares(published, "national_shares").set_index(["topic", "year"])
    net_all = total.loc[(kpi_code("NET", ALL_TOPICS), "0000", 2025)]
    assert net_all["value"] == round(national.loc[(ALL_TOPICS, 2025), "net_score"], 1)


def test_kolada_gender_rows_where_the_metadata_has_it(published, tmp_path):
    out = tmp_path / "stockholm.csv"
    code, output = run_export(published, "--format", "kolada", "-o", out, "--municipality", "Stockholm",
                              "--year", "2025")
    assert code == 0, output
    kolada = read_kolada(out)
    assert set(kolada["municipality_id"]) == {"0180"} and set(kolada["period"]) == {2025}
    assert set(kolada["gender"]) == {"T", "K", "M"}
    comments, predictions = frames()
    rows = comments.merge(predictions, on="comment_id")
    rows = rows[(rows["municipality_code"] == "0180") & (rows["year"] == 2025)]
    genders = rows["metadata"].map(lambda m: json.loads(m)["kön"])
    nets, sizes = {}, {}
    for label, gender in (("kvinna", "K"), ("man", "M")):
        group = rows[genders == label]
        nets[gender] = 100 * ((group["sentiment"] == "positive").sum()
                              - (group["sentiment"] == "negative").sum()) / len(group)
        sizes[gender] = len(group)
        row = kolada[(kolada["kpi"] == "SYNP_NET_ALL") & (kolada["gender"] == gender)].iloc[0]
        assert row["count"] == len(group)
    # K and M on T's corrected level: their weighted mean is T, their difference the classified one
    value = kolada[kolada["kpi"] == "SYNP_NET_ALL"].set_index("gender")["value"]
    assert value["K"] - value["M"] == pytest.approx(nets["K"] - nets["M"], abs=0.11)
    mean = (value["K"] * sizes["K"] + value["M"] * sizes["M"]) / (sizes["K"] + sizes["M"])
    assert mean == pytest.approx(value["T"], abs=0.11)
    t_count = kolada[(kolada["kpi"] == "SYNP_NET_ALL") & (kolada["gender"] == "T")]["count"].iloc[0]
    assert t_count == len(rows) > kolada[(kolada["kpi"] == "SYNP_NET_ALL") & (kolada["gender"] != "T")]["count"].sum()
    assert "okänt" in GENDERS  # comments with an unknown gender count in T only
    malmo = tmp_path / "malmo.csv"
    assert run_export(published, "--format", "kolada", "-o", malmo, "--municipality", "1280")[0] == 0
    assert set(read_kolada(malmo)["gender"]) == {"T"}  # no metadata: total only
    gotland = tmp_path / "gotland.csv"
    assert run_export(published, "--format", "kolada", "-o", gotland, "--municipality", "Gotland")[0] == 0
    kolada = read_kolada(gotland)
    by_gender = kolada[kolada["gender"] != "T"]
    assert set(by_gender["gender"]) == {"K", "M"} and (by_gender["count"] >= MIN_GENDER_GROUP).all()
    assert "SYNP_NET_ALL" in set(by_gender["kpi"])
    assert "SYNP_NET_WAIT_TIME" not in set(by_gender["kpi"])  # 6 comments on wait time: groups of 2 left out


def test_kolada_total_lies_between_women_and_men_on_one_scale(published, tmp_path):
    """Finding 15: T is the corrected figure; K and M must be on the same scale, never both above or below T."""
    out = tmp_path / "kolada.csv"
    assert run_export(published, "--format", "kolada", "-o", out)[0] == 0
    wide = read_kolada(out).pivot_table(index=["kpi", "municipality_id", "period"], columns="gender", values="value")
    both = wide.dropna(subset=["K", "M", "T"])
    assert len(both) > 0
    low, high = both[["K", "M"]].min(axis=1), both[["K", "M"]].max(axis=1)
    assert ((low <= both["T"]) & (both["T"] <= high)).all(), both[(both["T"] < low) | (both["T"] > high)]


def test_gender_rows_on_the_totals_level_keep_the_order_when_clipped():
    from synpunkt.export import on_totals_level

    keys = {"municipality_code": "0180", "year": 2025, "topic": "all"}
    by_gender = pd.DataFrame([{**keys, "gender": "K", "n": 10, "net_score": 100.0, "share_positive": 1.0,
                               "share_skeptical": 0.0, "share_negative": 0.0},
                              {**keys, "gender": "M", "n": 10, "net_score": 20.0, "share_positive": 0.4,
                               "share_skeptical": 0.4, "share_negative": 0.2}])
    total = pd.DataFrame([{**keys, "net_score": 90.0, "share_positive": 0.92, "share_skeptical": 0.06,
                           "share_negative": 0.02}])
    out = on_totals_level(by_gender, total).set_index("gender")
    assert out.loc["K", "net_score"] == 100.0 and out.loc["M", "net_score"] == 50.0  # 90 + 40 clipped; 90 - 40
    for column in ("net_score", "share_positive", "share_skeptical", "share_negative"):
        low, high = sorted(out[column])
        assert low <= total[column].iloc[0] <= high, column


def test_gender_of_reads_the_citizens_gender():
    assert gender_of('{"Kön": " Kvinna "}') == "K" and gender_of({"gender": "male"}) == "M"
    assert gender_of('{"kön": "okänt"}') is None and gender_of(None) is None
    assert gender_of('{"handläggare_kön": "man"}') is None  # the case handler's gender is not the citizen's


def test_excel_workbook_opens_with_openpyxl_with_swedish_characters(published, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "synpunkt.xlsx"
    code, output = run_export(published, "--format", "excel", "-o", out, "--year", "2025")
    assert code == 0, output
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == [*EXCEL_SHEETS, "columns"]
    sheet = list(wb["yearly_shares"].values)
    header, body = list(sheet[0]), sheet[1:]
    view = shares(published)
    view = view[view["year"] == 2025]
    assert header == list(view.columns) and len(body) == len(view)
    names = {row[header.index("municipality")] for row in body}
    counties = {row[header.index("county")] for row in body}
    assert {"Göteborg", "Malmö"} <= names and "Västra Götalands län" in counties
    got = {(r[header.index("municipality_code")], r[header.index("topic")]): r[header.index("net_score")]
           for r in body}
    for r in view.itertuples():
        assert got[(r.municipality_code, r.topic)] == pytest.approx(r.net_score)
    labels = [row for row in wb["topic_labels"].values]
    assert ("wait_time", "Väntetid", "Wait time") in [tuple(r[:3]) for r in labels]
    docs = list(wb["columns"].values)[1:]
    assert all(description for _, _, description in docs)
    changes = list(wb["yearly_changes"].values)
    assert "p_value" in changes[0] and len(changes) > 1


def test_csv_for_swedish_excel(published, tmp_path):
    out = tmp_path / "göteborg.csv"
    code, output = run_export(published, "--format", "csv", "-o", out, "--municipality", "göteborg")
    assert code == 0, output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads å, ä, ö right
    lines = raw.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[:3] == ["municipality_code", "municipality", "county"]
    cells = dict(zip(header, lines[1].split(";")))
    assert cells["municipality"] == "Göteborg" and cells["county"] == "Västra Götalands län"
    assert "," in cells["net_score"] and "." not in cells["net_score"]
    back = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig", dtype={"municipality_code": str})
    view = shares(published)
    view = view[view["municipality_code"] == "1480"].sort_values(["year", "topic"]).reset_index(drop=True)
    back = back.sort_values(["year", "topic"]).reset_index(drop=True)
    assert list(back["n"]) == list(view["n"])
    assert list(back["net_score"]) == pytest.approx(list(view["net_score"]), abs=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf", "-o", "{tmp}/x.pdf"], "unsupported format 'pdf'"),
    (["--format", "excel", "-o", "{tmp}/x.csv"], "unsupported file suffix '.csv' for --format excel"),
    (["--format", "kolada", "-o", "{tmp}/x"], "unsupported file suffix '(none)'"),
    (["--format", "csv", "-o", "{tmp}"], "is a directory"),
])
def test_bad_output_fails_in_one_line_before_opening_the_warehouse(tmp_path, args, message):
    """Checked before anything else: even with no warehouse at all, the output error is the one shown."""
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, ["export", *args, "--warehouse", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--municipality", "Kiruna"], "no classified comments for Kiruna"),
    (["--municipality", "Atlantis"], "unknown municipality 'Atlantis'"),
    (["--year", "2019"], "years with data: 2024, 2025"),
    (["--municipality", "Gotland", "--year", "2024"], "years with data: 2025"),
])
def test_scope_without_data_fails_in_one_line(published, tmp_path, args, message):
    out = tmp_path / "x.csv"
    code, output = run_export(published, "--format", "csv", "-o", out, *args)
    lines = output.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], output
    assert not out.exists()

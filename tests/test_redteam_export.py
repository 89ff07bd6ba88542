"""Red-team findings on `synpunkt export`: the K and M shares add up to 100 % (T still between them), and an
output that cannot be written is one line and a non-zero exit status in every format, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synpunkt.cli import app
from synpunkt.export import ExportError, _atomic, on_totals_level, shrink_factor, write_kolada

runner = CliRunner()
SHARES = ["share_positive", "share_skeptical", "share_negative"]
KEYS = {"municipality_code": "0180", "year": 2025, "topic": "all"}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    from analyst_warehouse import build_published

    return build_published(tmp_path_factory.mktemp("redteam-export"))


def _gender_rows(k: tuple[float, float, float], m: tuple[float, float, float], n_k: int, n_m: int) -> pd.DataFrame:
    rows = []
    for gender, shares, n in (("K", k, n_k), ("M", m, n_m)):
        rows.append({**KEYS, "gender": gender, "n": n, "net_score": 100.0 * (shares[0] - shares[2]),
                     **dict(zip(SHARES, shares))})
    return pd.DataFrame(rows)


def _total(t: tuple[float, float, float]) -> pd.DataFrame:
    return pd.DataFrame([{**KEYS, "net_score": 100.0 * (t[0] - t[2]), **dict(zip(SHARES, t))}])


def _check(out: pd.DataFrame, t: tuple[float, float, float]) -> None:
    assert np.allclose(out[SHARES].sum(axis=1), 1.0, atol=1e-12), out
    assert ((out[SHARES] >= 0) & (out[SHARES] <= 1)).all().all(), out
    for column, value in zip(SHARES, t):  # T between K and M
        low, high = sorted(out[column])
        assert low - 1e-12 <= value <= high + 1e-12, (column, out)


def test_clipped_gender_shares_add_up_to_one_and_keep_t_between():
    """The tester's case: T near the edge, women's classified shares far from the mean."""
    t = (0.92, 0.06, 0.02)
    out = on_totals_level(_gender_rows((1.0, 0.0, 0.0), (0.4, 0.4, 0.2), 10, 10), _total(t)).set_index("gender")
    _check(out, t)
    assert out.loc["K", SHARES].tolist() == pytest.approx([0.98, 0.02, 0.0])  # shrunk towards T until 0
    assert out.loc["M", SHARES].tolist() == pytest.approx([0.62, 0.26, 0.12])  # in range: T + the classified gap
    assert out.loc["K", "net_score"] == 100.0 and out.loc["M", "net_score"] == 50.0  # the net score as before


def test_unclipped_gender_shares_keep_the_classified_gap():
    t = (0.5, 0.2, 0.3)
    out = on_totals_level(_gender_rows((0.6, 0.2, 0.2), (0.4, 0.2, 0.4), 30, 10), _total(t)).set_index("gender")
    _check(out, t)
    gap = out.loc["K", SHARES].to_numpy() - out.loc["M", SHARES].to_numpy()
    assert gap == pytest.approx([0.2, 0.0, -0.2])


def test_random_gender_shares_always_add_up_and_keep_t_between():
    rng = np.random.default_rng(7)
    for _ in range(300):
        t, k, m = (tuple(rng.dirichlet(np.full(3, 0.5))) for _ in range(3))
        n_k, n_m = (int(x) for x in rng.integers(5, 200, 2))
        _check(on_totals_level(_gender_rows(k, m, n_k, n_m), _total(t)), t)


def test_shrink_factor():
    total = np.array([[0.9, 0.05, 0.05], [0.3, 0.3, 0.4], [np.nan, np.nan, np.nan]])
    diff = np.array([[0.2, -0.1, -0.1], [0.1, 0.0, -0.1], [0.1, 0.0, -0.1]])
    assert shrink_factor(total, diff).tolist() == pytest.approx([0.5, 1.0, 1.0])


def test_kolada_gender_shares_add_up_to_100(published, tmp_path):
    out = tmp_path / "kolada.csv"
    done = runner.invoke(app, ["export", "--format", "kolada", "-o", str(out), "--warehouse", str(published)])
    assert done.exit_code == 0, done.output
    k = pd.read_csv(out, sep=";", dtype={"municipality_id": str})
    k["measure"] = k["kpi"].str.split("_").str[1]
    k["area"] = k["kpi"].str.split("_", n=2).str[2]
    wide = k[k["measure"] != "NET"].pivot_table(index=["municipality_id", "period", "gender", "area"],
                                                 columns="measure", values="value")
    assert {"K", "M"} <= set(wide.index.get_level_values("gender"))
    total = wide.sum(axis=1)
    assert ((total - 100).abs() <= 0.15 + 1e-9).all(), wide[(total - 100).abs() > 0.15]  # three values to 0.1


# -- an output that cannot be written ------------------------------------------------------------------------------
def _one_line_error(result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("fmt, name", [("kolada", "x.csv"), ("csv", "x.csv"), ("excel", "x.xlsx")])
def test_unwritable_output_is_one_line_in_every_format(published, tmp_path, fmt, name):
    """The temporary file's name is taken by a non-empty folder: writing it fails, and removing it fails too
    (that second error must not hide the first). Works as root, unlike a read-only folder."""
    out = tmp_path / name
    taken = out.with_name(f".{out.name}.{os.getpid()}.tmp{out.suffix}")
    taken.mkdir()
    (taken / "keep").write_text("x")
    done = runner.invoke(app, ["export", "--format", fmt, "-o", str(out), "--warehouse", str(published)])
    line = _one_line_error(done)
    assert f"{out}: cannot write the file (" in line
    assert not out.exists() and (taken / "keep").exists()


def test_output_inside_a_file_is_one_line(published, tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    done = runner.invoke(app, ["export", "--format", "kolada", "-o", str(tmp_path / "a file" / "sub" / "x.csv"),
                               "--warehouse", str(published)])
    assert "is a file" in _one_line_error(done)


def test_atomic_write_errors_become_export_errors(tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(ExportError, match="cannot make the folder"):
        write_kolada(pd.DataFrame({"a": [1]}), tmp_path / "a file" / "x.csv")

    def refused(path: Path) -> None:
        path.write_text("half")
        raise PermissionError(13, "Permission denied", str(path))

    with pytest.raises(ExportError, match=r"x.csv: cannot write the file \(Permission denied\)"):
        _atomic(tmp_path / "x.csv", refused)
    assert list(tmp_path.iterdir()) == [tmp_path / "a file"]  # the temporary file removed, nothing written

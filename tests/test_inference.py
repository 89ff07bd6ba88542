"""Inference backends (synpunkt.inference): ONNX export equals torch, the export cache, backend resolution, the
Classifier on each backend, and compare-backends' record."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import torch

from synpunkt.config import cache_dir
from synpunkt.inference import BACKENDS, BackendError, GraphRunner, make_runner, resolve_backend

USER_CACHE = cache_dir()
"""The user's cache folder (converted base, exports), before the fixture below points the tests elsewhere."""

TEXTS = [
    "Handläggaren var trevlig och hjälpsam",
    "Jag väntade en timme i telefonkön, helt oacceptabelt",
    "E-tjänsten krånglade med BankID",
    "Tack för snabb hjälp",
    "Vi får väl se om det blir gjort",
    "Förskolan är fantastisk men kön var lång",
    "Snöröjningen på vår gata fungerar inte alls och ingen svarar när jag ringer",
    "Bra",
]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Exports go to a fresh cache folder; no backend setting from the environment."""
    monkeypatch.setenv("SYNPUNKT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SYNPUNKT_BACKEND", raising=False)
    return tmp_path / "cache"


class EncoderGraph(torch.nn.Module):
    """A graph as another stage would write one: token features and their mean, as a tuple."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return hidden, (hidden * mask).sum(1) / mask.sum(1)


@pytest.fixture(scope="module")
def encoder_graph(tiny_base):
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    return EncoderGraph(AutoModel.from_pretrained(tiny_base).eval()), AutoTokenizer.from_pretrained(tiny_base)


def _batch(tokenizer, texts=TEXTS):
    enc = tokenizer(list(texts), padding=True, return_tensors="np")
    return enc["input_ids"], enc["attention_mask"]


def test_onnx_outputs_equal_torch(encoder_graph):
    graph, tok = encoder_graph
    ref = make_runner(graph, "torch", cache_key="enc-v1", output_names=["hidden", "pooled"], precision="fp32")
    onnx = make_runner(graph, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"])
    assert isinstance(onnx, GraphRunner) and onnx.backend == "onnx"
    for texts in (TEXTS, TEXTS[:3], TEXTS[-1:]):  # other batch sizes and sequence lengths than the export's
        ids, mask = _batch(tok, texts)
        expected, got = ref.run(ids, mask), onnx.run(ids, mask)
        assert [g.dtype for g in got] == [np.float32, np.float32]
        for e, g in zip(expected, got):
            assert e.shape == g.shape
            np.testing.assert_allclose(g, e, atol=1e-4)


def test_onnx_reads_shared_weights_from_the_given_arrays(encoder_graph):
    """shared_weights: the session reads the embedding table from the torch weight's memory (no copy of its own),
    with the same outputs; changing the array changes what the session computes, so it is really read there."""
    graph, tok = encoder_graph
    ids, mask = _batch(tok)
    table = graph.encoder.embeddings.word_embeddings.weight
    name = "encoder.embeddings.word_embeddings.weight"
    plain = make_runner(graph, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"])
    shared = make_runner(graph, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"],
                         shared_weights={name: table.detach().numpy()})
    np.testing.assert_allclose(shared.run(ids, mask)[1], plain.run(ids, mask)[1], atol=1e-6)
    original = table.detach().clone()
    try:
        with torch.no_grad():
            table.mul_(2.0)  # in place: the session's initializer is this memory
        assert not np.allclose(shared.run(ids, mask)[1], plain.run(ids, mask)[1], atol=1e-3)
    finally:
        with torch.no_grad():
            table.copy_(original)


def test_a_runner_on_another_device_leaves_the_callers_graph_where_it_was(encoder_graph):
    """A device runner works on a copy: ingest's base encoder is shared by several graphs and by ONNX sessions that
    read its CPU weights as numpy views (moving it in place broke ingest on a GPU machine). The meta device stands
    in for a GPU here; a graph already on the runner's device is used as it is."""
    from synpunkt.inference.torch_runner import TorchRunner

    graph, _ = encoder_graph
    runner = TorchRunner(graph, ("states", "pooled"), device="meta")
    assert {p.device.type for p in runner.graph.parameters()} == {"meta"}
    assert {p.device.type for p in graph.parameters()} == {"cpu"}
    graph.encoder.embeddings.word_embeddings.weight.detach().numpy()  # still readable as numpy
    assert TorchRunner(graph, ("states", "pooled"), device="cpu").graph is graph


def test_onnx_int8_runs_and_mostly_agrees(encoder_graph):
    graph, tok = encoder_graph
    ids, mask = _batch(tok)
    pooled = make_runner(graph, "torch", cache_key="enc-v1", output_names=["hidden", "pooled"],
                         precision="fp32").run(ids, mask)[1]
    int8 = make_runner(graph, "onnx-int8", cache_key="enc-v1", output_names=["hidden", "pooled"])
    assert int8.backend == "onnx-int8" and int8.path.name.endswith(".int8.onnx")
    got = int8.run(ids, mask)[1]
    assert got.shape == pooled.shape
    cosine = (got * pooled).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(pooled, axis=1)
    assert cosine.min() > 0.98


def test_export_is_cached_and_reused(encoder_graph, cache):
    graph, _ = encoder_graph
    first = make_runner(graph, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"])
    stamp = first.path.stat().st_ino
    second = make_runner(graph, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"])
    assert second.path == first.path and second.path.stat().st_ino == stamp  # not exported again (a new file)
    assert first.path.parent == cache / "onnx" and first.path.name.startswith("enc-v1-")
    assert not [p for p in first.path.parent.iterdir() if ".tmp" in p.name]  # no temporary file left behind


def test_a_new_key_or_new_weights_mean_a_new_export(encoder_graph):
    import copy

    graph, tok = encoder_graph
    old = make_runner(graph, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"])
    renamed = make_runner(graph, "onnx", cache_key="enc-v2", output_names=["hidden", "pooled"])
    assert renamed.path != old.path and renamed.path.name.startswith("enc-v2-")
    changed = copy.deepcopy(graph)
    with torch.no_grad():
        changed.encoder.encoder.layer[0].output.dense.bias.add_(0.5)
    retrained = make_runner(changed, "onnx", cache_key="enc-v1", output_names=["hidden", "pooled"])
    assert retrained.path != old.path  # the same key with other weights is never the stale file
    ids, mask = _batch(tok)
    expected = make_runner(changed, "torch", cache_key="x", output_names=["hidden", "pooled"], precision="fp32")
    np.testing.assert_allclose(retrained.run(ids, mask)[1], expected.run(ids, mask)[1], atol=1e-4)


def test_one_export_at_a_time(tmp_path):
    """Two builders of the same cache file: the second waits for the lock and takes the first one's file."""
    from synpunkt.inference.onnx_export import _cached

    builds = []

    def build(out):
        builds.append(out)
        time.sleep(0.3)
        out.write_bytes(b"model")

    target = tmp_path / "onnx" / "m-1.onnx"
    threads = [threading.Thread(target=_cached, args=(target, build)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and target.read_bytes() == b"model"


def test_the_cache_keeps_the_recently_used_exports_within_its_limit(tmp_path, monkeypatch):
    """Every retrained or recalibrated model exports again (hundreds of MB each): after an export, the least recently
    used files beyond SYNPUNKT_ONNX_CACHE_GB go; a file used since is kept, and so is the one just built."""
    import os

    from synpunkt.inference.onnx_export import _cached

    folder = tmp_path / "onnx"
    folder.mkdir()
    for age, name in enumerate(["new.onnx", "used.onnx", "old.onnx", "older.int8.onnx"]):
        (folder / name).write_bytes(b"x" * 400)
        os.utime(folder / name, (1e9 - age * 100, 1e9 - age * 100))
    assert _cached(folder / "used.onnx", lambda out: pytest.fail("a cached file is not built again")).is_file()
    monkeypatch.setenv("SYNPUNKT_ONNX_CACHE_GB", str(1300 / 1e9))  # room for three files of 400 bytes
    _cached(folder / "built.onnx", lambda out: out.write_bytes(b"y" * 400))
    assert sorted(p.name for p in folder.glob("*.onnx")) == ["built.onnx", "new.onnx", "used.onnx"]
    monkeypatch.setenv("SYNPUNKT_ONNX_CACHE_GB", str(100 / 1e9))  # smaller than one file: the new one still stays
    _cached(folder / "big.onnx", lambda out: out.write_bytes(b"z" * 400))
    assert [p.name for p in folder.glob("*.onnx")] == ["big.onnx"]


def test_resolve_backend_precedence(trained, monkeypatch):
    from synpunkt.inference import BACKENDS_FILE
    from synpunkt.model import model_version

    model_dir, _ = trained
    assert resolve_backend(None, None) == "torch"  # nothing recorded, nothing set
    assert resolve_backend(None, model_dir) == "torch"
    (model_dir / BACKENDS_FILE).write_text(json.dumps(
        {"model_version": model_version(model_dir), "default": "onnx", "cpu_default": "onnx", "backends": []}))
    try:
        if not torch.cuda.is_available():
            assert resolve_backend(None, model_dir) == "onnx"  # the recorded default
            assert resolve_backend("auto", model_dir) == "onnx"
        monkeypatch.setenv("SYNPUNKT_BACKEND", "onnx-int8")
        assert resolve_backend(None, model_dir) == "onnx-int8"  # the setting beats the record
        assert resolve_backend("torch", model_dir) == "torch"  # the argument beats the setting
        monkeypatch.setenv("SYNPUNKT_BACKEND", "auto")
        if not torch.cuda.is_available():
            assert resolve_backend(None, model_dir) == "onnx"
        monkeypatch.delenv("SYNPUNKT_BACKEND")
        (model_dir / BACKENDS_FILE).write_text(json.dumps(
            {"model_version": "another-model@0", "default": "onnx", "backends": []}))
        assert resolve_backend(None, model_dir) == "torch"  # recorded for another model version: ignored
    finally:
        (model_dir / BACKENDS_FILE).unlink()


def test_a_backend_record_outlives_a_change_of_calibration_but_not_of_the_network(trained, tmp_path, monkeypatch):
    """Recalibration or a new input normalisation makes a new model version on the same network: backends.json still
    holds (what it measured runs unchanged), and a re-measurement keeps other CPUs' entries with the version they
    were measured for. New weights make it stale."""
    import shutil

    import synpunkt.inference.backends as backends
    from synpunkt.inference import BACKENDS_FILE, read_backends
    from synpunkt.inference.backends import with_machines
    from synpunkt.model import WEIGHTS_FILE, ModelSettings, model_version, network_digest

    monkeypatch.setattr(backends, "cuda_available", lambda: False)
    model_dir = shutil.copytree(trained[0], tmp_path / "model")
    before, network = model_version(model_dir), network_digest(model_dir)
    record = {"model_version": before, "network": network, "default": "onnx", "cpu_default": "onnx",
              "date": "2026-11-29", "machine": {"cpu": "AMD EPYC", "key": "AMD EPYC"},
              "backends": [{"backend": "onnx", "comments_per_s": 80.0, "qualifies": True}]}
    (model_dir / BACKENDS_FILE).write_text(json.dumps(with_machines(record, None)))

    settings = ModelSettings.load(model_dir)
    settings.sentiment_temperature, settings.respell = 1.7, not settings.respell  # a settings-only change
    settings.save(model_dir)
    assert model_version(model_dir) != before and network_digest(model_dir) == network
    assert read_backends(model_dir)["default"] == "onnx" and resolve_backend(None, model_dir) == "onnx"

    xeon = {**record, "model_version": model_version(model_dir), "date": "2026-11-30",
            "machine": {"cpu": "Intel Xeon", "key": "Intel Xeon"}}
    merged = with_machines(xeon, read_backends(model_dir))["machines"]
    assert merged["AMD EPYC"]["model_version"] == before  # kept, with the version it was measured for
    assert "model_version" not in merged["Intel Xeon"]

    weights = model_dir / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")  # other weights: another network
    assert network_digest(model_dir) != network and read_backends(model_dir) is None
    assert resolve_backend(None, model_dir) == "torch"


def test_auto_takes_the_default_measured_on_this_cpu(monkeypatch):
    """backends.json keeps a default per CPU; auto reads this CPU's entry, else one with its model name, else the
    latest measurement's; a new measurement replaces its own CPU's entry and keeps the others'."""
    import synpunkt.inference.backends as backends
    from synpunkt.inference.backends import with_machines
    from synpunkt.inference.compare import machines_table

    monkeypatch.setattr(backends, "cuda_available", lambda: False)

    def report(cpu, flags, default, day):
        key = backends.cpu_key(cpu, tuple(flags))
        return {"date": day, "machine": {"cpu": cpu, "key": key}, "default": default, "cpu_default": default,
                "backends": [{"backend": "torch", "comments_per_s": 50.0, "qualifies": True},
                             {"backend": default, "comments_per_s": 80.0, "qualifies": True}]}

    legacy = report("AMD EPYC", [], "torch", "2026-11-29")  # a file from before per-CPU entries
    del legacy["machine"]["key"]
    xeon = with_machines(report("Intel Xeon", ["avx512f", "avx512_bf16"], "onnx", "2026-11-30"), legacy)
    assert list(xeon["machines"]) == ["AMD EPYC", "Intel Xeon [avx512f avx512_bf16]"]
    assert "**onnx 80**" in machines_table(xeon)
    kept = {**xeon, "model_version": "m@new", "machines": {**xeon["machines"], "AMD EPYC": {
        **xeon["machines"]["AMD EPYC"], "model_version": "m@old"}}}  # kept across a settings-only change
    assert "| AMD EPYC | 2026-11-29 (for `m@old`) |" in machines_table(kept)
    assert "| Intel Xeon [avx512f avx512_bf16] | 2026-11-30 |" in machines_table(kept)
    remeasured = with_machines(report("Intel Xeon", ["avx512f", "avx512_bf16"], "onnx-int8", "2026-12-01"), xeon)
    assert len(remeasured["machines"]) == 2
    assert remeasured["machines"]["Intel Xeon [avx512f avx512_bf16]"]["cpu_default"] == "onnx-int8"

    def on(cpu, flags):
        monkeypatch.setattr(backends, "cpu_name", lambda: cpu)
        monkeypatch.setattr(backends, "cpu_flags", lambda: tuple(flags))
        monkeypatch.setattr(backends, "read_backends", lambda model_dir: xeon)
        return backends.recorded_default(None)

    assert on("Intel Xeon", ["avx512f", "avx512_bf16"]) == "onnx"  # its own entry
    assert on("AMD EPYC", ["avx2"]) == "torch"  # the entry of the same model name
    assert on("Intel Xeon", ["avx2"]) == "onnx"  # the same name: flags differ, still the nearest measurement
    assert on("Ampere Altra", []) == "onnx"  # never measured: the latest measurement's default (xeon's report)
    legacy_only = with_machines(legacy, None)
    monkeypatch.setattr(backends, "read_backends", lambda model_dir: legacy_only)
    assert backends.recorded_default(None) == "torch"


def test_resolve_backend_errors(monkeypatch):
    with pytest.raises(ValueError) as err:
        resolve_backend("tensorrt")
    assert all(name in str(err.value) for name in BACKENDS)
    monkeypatch.setenv("SYNPUNKT_BACKEND", "onnx-fp8")
    with pytest.raises(BackendError, match="onnx-int8"):
        resolve_backend()
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="GPU"):
            resolve_backend("cuda")
        with pytest.raises(BackendError, match="GPU"):
            make_runner(torch.nn.Identity(), "cuda", cache_key="x", output_names=["y"])


def test_classifier_on_onnx_predicts_what_torch_predicts(trained):
    from synpunkt.classifier import Classifier

    model_dir, _ = trained
    texts = TEXTS + ["", "   "] + [t.upper() for t in TEXTS]
    reference = Classifier.load(model_dir, backend="torch", precision="fp32")
    onnx = Classifier.load(model_dir, backend="onnx")
    assert (reference.backend, onnx.backend) == ("torch", "onnx") and onnx.version == reference.version
    expected = reference.predict(texts, topic_sentiment=True)
    got = onnx.predict(texts, topic_sentiment=True)
    assert list(got.columns) == list(expected.columns)
    numeric = [c for c in expected.columns if c.startswith("p_")]
    np.testing.assert_allclose(got[numeric].to_numpy(float), expected[numeric].to_numpy(float), atol=1e-4)
    for column in ("sentiment", "topics", "topic_sentiment", "model_version"):
        assert got[column].tolist() == expected[column].tolist()
    int8 = Classifier.load(model_dir, backend="onnx-int8").predict(texts)  # int8 changes answers: its own version
    assert int8["sentiment"].isna().sum() == 2 and int8["model_version"].eq(reference.version + "+onnx-int8").all()


def test_compare_backends_records_the_default(trained, monkeypatch):
    from synpunkt.classifier import Classifier
    from synpunkt.data import load_in_domain
    from synpunkt.inference import BACKENDS_FILE, read_backends
    from synpunkt.inference.compare import compare_backends, write_backends

    monkeypatch.setenv("SYNPUNKT_PRECISION", "fp32")  # a reference onnx reproduces to 1e-4
    model_dir, report = trained
    labelled = load_in_domain(report["training"]["config"]["in_domain"])
    frames = {"in_domain_test": labelled[labelled.split == "test"].reset_index(drop=True)}
    result = compare_backends(model_dir, backends=("torch", "onnx"), frames=frames, texts=TEXTS)
    rows = {r["backend"]: r for r in result["backends"]}
    assert set(rows) == {"torch", "onnx"} and result["texts"] == len(set(TEXTS) | set(frames["in_domain_test"].text))
    assert rows["torch"]["sentiment_agreement"] == 1.0 and rows["torch"]["qualifies"]
    assert rows["onnx"]["sentiment_agreement"] == 1.0 and rows["onnx"]["within_intervals"]
    assert "sentiment_macro_f1_ci95" in rows["onnx"]["sets"]["in_domain_test"]
    assert result["default"] == max((r for r in rows.values() if r["qualifies"]),
                                    key=lambda r: r["comments_per_s"])["backend"]
    try:
        write_backends(model_dir, result)
        assert read_backends(model_dir)["default"] == result["default"]
        assert "## Inference backends" in (model_dir / "README.md").read_text()
        if not torch.cuda.is_available():
            assert Classifier.load(model_dir).backend == result["default"]
    finally:
        (model_dir / BACKENDS_FILE).unlink(missing_ok=True)


def test_cli_backend_option(trained, tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from synpunkt.cli import app
    from synpunkt.tables import read_table

    model_dir, _ = trained
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(src, index=False)
    result = CliRunner().invoke(app, ["classify", str(src), "-o", str(out), "--model", str(model_dir),
                                      "--backend", "onnx"])
    assert result.exit_code == 0, result.output
    assert "(onnx)" in result.output and len(read_table(out)) == len(TEXTS)
    result = CliRunner().invoke(app, ["classify", str(src), "-o", str(out), "--model", str(model_dir),
                                      "--backend", "tpu"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: --backend")
    assert "onnx-int8" in lines[0]


@pytest.mark.slow
def test_shipped_model_default_backend_agrees_with_torch(shipped_model_dir, monkeypatch):
    """The shipped model on its recorded default backend: the same sentiments as torch on a handful of comments
    (the export is cached in the user's cache folder, so only the first run pays for it)."""
    from synpunkt.classifier import Classifier
    from synpunkt.inference import read_backends
    from synpunkt.inference.backends import for_this_cpu

    monkeypatch.setenv("SYNPUNKT_CACHE", str(USER_CACHE))
    recorded = read_backends(shipped_model_dir)
    assert recorded is not None, "models/synpunkt-sv-e5small/backends.json is missing or stale"
    default = Classifier.load(shipped_model_dir)
    measured_here = for_this_cpu(recorded)  # this CPU's entry, else the latest measurement
    assert default.backend == measured_here["cpu_default"] or torch.cuda.is_available()
    reference = Classifier(default.model, default.tokenizer, default.settings, default.version, backend="torch")
    texts = TEXTS + ["Det var ok, inget speciellt", "Ingen har hört av sig på tre veckor trots löfte",
                     "Mycket bra bemötande i receptionen", "Appen kraschar varje gång jag loggar in"] * 3
    assert (default.predict(texts)["sentiment"] == reference.predict(texts)["sentiment"]).mean() >= 0.95


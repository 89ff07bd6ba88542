"""Training end to end on a tiny encoder, then the Classifier interface on the trained model."""

from __future__ import annotations

import numpy as np
import pytest

from synpunkt.classifier import Classifier
from synpunkt.labels import SENTIMENTS, TOPICS, prob_column
from synpunkt.model import SETTINGS_FILE, WEIGHTS_FILE

def test_training_writes_model_dir_with_card_and_evaluation(trained):
    model_dir, report = trained
    for name in (SETTINGS_FILE, WEIGHTS_FILE, "README.md", "evaluation.json"):
        assert (model_dir / name).exists(), name
    card = (model_dir / "README.md").read_text()
    assert "Training data and licences" in card and "in_domain_test" in card
    sets = report["sets"]["in_domain_test"]
    assert 0.0 <= sets["sentiment"]["macro_f1"] <= 1.0
    lo, hi = sets["sentiment"]["macro_f1_ci95"]
    assert lo <= sets["sentiment"]["macro_f1"] <= hi
    assert set(sets["topics"]["per_topic"]) == set(TOPICS)
    assert report["training"]["epoch_losses"], "loss history recorded"


def test_saved_model_stores_only_trained_weights(trained, tiny_base):
    from safetensors.torch import load_file

    model_dir, _ = trained
    names = list(load_file(str(model_dir / WEIGHTS_FILE)))
    assert any("lora_" in n for n in names) and any(n.startswith("sentiment_head") for n in names)
    assert not any("word_embeddings" in n for n in names), "frozen base weights must not be saved"


def test_predict_rows_and_probabilities(trained):
    model_dir, _ = trained
    clf = Classifier.load(model_dir)
    texts = ["Handläggaren var trevlig", "   ", None, "Kön var lång", ""]
    out = clf.predict(texts, batch_size=2)
    assert len(out) == len(texts)
    expected = ["sentiment", *map(prob_column, SENTIMENTS), "topics", *map(prob_column, TOPICS), "model_version"]
    assert list(out.columns) == expected
    real = out.iloc[[0, 3]]
    assert np.allclose(real[[prob_column(s) for s in SENTIMENTS]].sum(axis=1), 1.0, atol=1e-6)
    assert real["sentiment"].isin(SENTIMENTS).all()
    assert ((real[[prob_column(t) for t in TOPICS]] >= 0) & (real[[prob_column(t) for t in TOPICS]] <= 1)).all().all()
    blanks = out.iloc[[1, 2, 4]]
    assert blanks["sentiment"].isna().all() and blanks["p_positive"].isna().all()
    assert all(t == [] for t in blanks["topics"])
    assert out["model_version"].str.startswith("tiny-test@").all()


def test_predict_is_order_independent(trained):
    """Length-sorted batching must return rows in input order."""
    model_dir, _ = trained
    clf = Classifier.load(model_dir)
    texts = ["kort", "en mycket längre kommentar om väntetiden i kön", "mellan lång text"]
    a = clf.predict(texts, batch_size=1)
    b = clf.predict(texts[::-1], batch_size=3).iloc[::-1].reset_index(drop=True)
    # Rows out of order would differ by about 0.07 here; batches of different shapes may differ by ~1e-4
    # (bf16 autocast where the CPU has it, and padding), so the tolerance sits between the two.
    assert np.allclose(a["p_positive"], b["p_positive"], atol=1e-3)


def test_predict_rejects_a_bare_string(trained):
    model_dir, _ = trained
    with pytest.raises(TypeError, match="list of texts"):
        Classifier.load(model_dir).predict("en text")


def test_predict_topic_sentiment_covers_predicted_topics(trained):
    model_dir, _ = trained
    out = Classifier.load(model_dir).predict(["Trevlig handläggare men lång kö", " "], topic_sentiment=True)
    first = out.iloc[0]
    assert set(first["topic_sentiment"]) == set(first["topics"])
    assert set(first["topic_sentiment"].values()) <= set(SENTIMENTS)
    assert out.iloc[1]["topic_sentiment"] == {}
    # the per-topic head's probabilities, aligned with topics; their argmax is the topic's sentiment
    p = np.asarray(first["topic_sentiment_p"], float).reshape(len(first["topics"]), len(SENTIMENTS))
    assert np.allclose(p.sum(1), 1) and [SENTIMENTS[j] for j in p.argmax(1)] == \
        [first["topic_sentiment"][t] for t in first["topics"]]
    assert out.iloc[1]["topic_sentiment_p"] == []


def test_evaluation_reports_topic_sentiment_and_targets(trained):
    _, report = trained
    res = report["sets"]["in_domain_test"]
    assert res["topic_sentiment"]["pairs"] > 0
    assert "in_domain_test.sentiment.macro_f1" in report["targets"]


def test_precision_settings(trained):
    from synpunkt.classifier import resolve_precision

    model_dir, _ = trained
    assert resolve_precision("fp32") == "fp32" and resolve_precision("auto") in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp8")
    texts = ["Handläggaren var trevlig", "Kön var lång"]
    full = Classifier.load(model_dir, precision="fp32").predict(texts)
    half = Classifier.load(model_dir, precision="bf16").predict(texts)
    assert np.allclose(full["p_positive"], half["p_positive"], atol=0.05)


def test_a_temperature_that_cannot_be_fitted_means_no_scaling():
    """Degenerate validation data (NaN logits here) must not give NaN probabilities downstream."""
    from synpunkt.calibration import fit_binary_temperature

    logits = np.array([[np.nan, 1.0], [0.5, np.nan]])
    assert fit_binary_temperature(logits, np.array([[1.0, 0.0], [0.0, 1.0]])) == 1.0


def test_the_model_version_covers_the_normalisation_code(trained, tmp_path, monkeypatch):
    """A model that respells or unshouts gets a new version when synpunkt.textnorm's NORMALISATION_VERSION changes
    (its predictions may change with the same weights); one that does not normalise keeps its version."""
    import shutil

    import synpunkt.textnorm as textnorm
    from synpunkt.model import ModelSettings, model_version

    plain = shutil.copytree(trained[0], tmp_path / "plain")
    settings = ModelSettings.load(plain)
    settings.unshout = settings.respell = False
    settings.save(plain)
    normalising = shutil.copytree(plain, tmp_path / "normalising")
    settings.respell = True
    settings.save(normalising)
    versions = model_version(plain), model_version(normalising)
    monkeypatch.setattr(textnorm, "NORMALISATION_VERSION", textnorm.NORMALISATION_VERSION + "-next")
    assert model_version(plain) == versions[0]
    assert model_version(normalising) != versions[1]

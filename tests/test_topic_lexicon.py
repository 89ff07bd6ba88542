"""The lexical topic model blended with the topic head (synpunkt.topic_lexicon): stored without pickle, loaded into a
scorer equal to the fitted scikit-learn pipeline, blended in Classifier.probabilities with the weight that
`synpunkt recalibrate` chooses (tiny model built on the fly, tests/conftest.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from synpunkt.labels import TOPICS, prob_column, topic_vector
from synpunkt.model import SETTINGS_FILE, WEIGHTS_FILE
from synpunkt.topic_lexicon import (BLEND_WEIGHTS, LEXICON_FILE, LEXICON_KEY, TopicLexicon, blend, fit_blend,
                                    fit_lexicon, fit_pipeline, lexicon_rows, pipeline_proba)

PROBES = ["Handläggaren var otrevlig", "Jag väntade i tre veckor på svar", "E-tjänsten loggade ut mig",
          "Snöröjningen fungerar inte alls", "Tack för allt!", "x", "Ärendet, ärendet och ÄRENDET"]


@pytest.fixture()
def comments(trained):
    from synpunkt.data import load_in_domain

    return trained[0].parent / "comments.jsonl", load_in_domain(trained[0].parent / "comments.jsonl")


@pytest.fixture()
def model_copy(trained, tmp_path):
    """A copy of the tiny trained model (no lexicon)."""
    return shutil.copytree(trained[0], tmp_path / "model")


def test_saved_lexicon_scores_as_the_fitted_pipeline(comments, tmp_path):
    _, frame = comments
    train = lexicon_rows(frame)
    lexicon = fit_lexicon(train)
    assert lexicon.info["train_rows"] == len(train) == 18 and lexicon.info["C"] in (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
    assert len(lexicon.info["cv_logloss"]) == 6
    path = lexicon.save(tmp_path)
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert z["coef"].dtype == np.float32 and z["coef"].shape == (len(TOPICS), lexicon.info["features"])
        assert z["intercept"].dtype == np.float32 and z["idf_word"].dtype == np.float32
    loaded = TopicLexicon.load(tmp_path)
    assert loaded.topics == TOPICS and loaded.info == lexicon.info
    assert np.array_equal(loaded.predict_proba(PROBES), lexicon.predict_proba(PROBES))

    texts = train["text"].tolist()
    vec, models = fit_pipeline(texts, np.array([topic_vector(t) for t in train["topics"]]), lexicon.info["C"])
    reference = pipeline_proba(vec, models, PROBES + texts)
    assert loaded.predict_proba(PROBES + texts) == pytest.approx(reference, abs=1e-6)
    assert loaded.predict_proba([]).shape == (0, len(TOPICS))
    assert TopicLexicon.load(tmp_path / "elsewhere") is None


def test_a_topic_with_one_class_gets_a_constant_probability():
    texts = ["kön var lång", "handläggaren var snäll", "e-tjänsten krånglade", "tack så mycket"] * 3
    Y = np.zeros((len(texts), len(TOPICS)))
    Y[::4, 1] = 1  # wait_time only; handler all 0
    Y[:, 4] = 1  # experience all 1
    vec, models = fit_pipeline(texts, Y, 1.0)
    lexicon = TopicLexicon.from_pipeline(vec, models)
    p = lexicon.predict_proba(texts + ["något helt annat"])
    assert p == pytest.approx(pipeline_proba(vec, models, texts + ["något helt annat"]), abs=1e-6)
    assert p[:, 0].max() < 1e-9 and p[:, 4].min() > 1 - 1e-9
    assert p[0, 1] > 0.5 > p[1, 1]


def test_fit_blend_prefers_the_smaller_weight_on_ties():
    rng = np.random.default_rng(0)
    Y = (rng.random((60, len(TOPICS))) < 0.3).astype(float)
    p = np.clip(Y * 0.6 + rng.random(Y.shape) * 0.4, 0, 1)
    w, thresholds, f1 = fit_blend(p, p, Y)  # every w gives the same probabilities
    assert w == 0.0 and len(thresholds) == len(TOPICS) and 0 < f1 <= 1
    assert blend(p, 1 - p, 0.0) is p
    w, _, f1_blend = fit_blend(np.full_like(p, 0.5), Y, Y)  # the lexicon knows the answer: every w > 0 separates,
    assert w == 0.1 and f1_blend == 1.0  # the smallest of them wins


def test_without_a_lexicon_the_classifier_is_unchanged_and_weight_zero_equals_it(model_copy, comments):
    from synpunkt.classifier import Classifier, sigmoid
    from synpunkt.model import ModelSettings, model_version
    from synpunkt.topic_lexicon import fit_topic_lexicon

    data, _ = comments
    version = model_version(model_copy)
    plain = Classifier.load(model_copy, backend="torch")
    assert plain.lexicon is None and plain.version == version
    logits = plain.logits(PROBES, progress=False)
    assert LEXICON_KEY not in logits
    before = plain.predict(PROBES + [""], progress=False)
    topic_columns = [prob_column(t) for t in TOPICS]
    assert before[topic_columns].to_numpy()[:-1] == pytest.approx(
        sigmoid(logits["topics"] / plain.settings.topic_temperature), abs=1e-12)

    record = fit_topic_lexicon(model_copy, data)
    assert (model_copy / LEXICON_FILE).exists() and record["bytes"] > 0
    assert ModelSettings.load(model_copy).topic_lexicon_weight == 0.0
    zero = Classifier.load(model_copy, backend="torch")
    assert zero.lexicon is not None and zero.version != version  # the lexicon is part of the version
    after = zero.predict(PROBES + [""], progress=False)
    assert after.drop(columns="model_version").equals(before.drop(columns="model_version"))  # w = 0: exactly as before

    settings = ModelSettings.load(model_copy)
    settings.topic_lexicon_weight = 0.5
    settings.save(model_copy)
    half = Classifier.load(model_copy, backend="torch")
    blended = half.predict(PROBES, progress=False)
    expected = 0.5 * before[topic_columns].to_numpy()[:-1] + 0.5 * half.lexicon.predict_proba(PROBES)
    assert blended[topic_columns].to_numpy() == pytest.approx(expected, abs=1e-12)
    assert blended["sentiment"].tolist() == before["sentiment"].tolist()[:-1]
    assert blended[[prob_column(s) for s in half.settings.sentiments]].equals(
        before[[prob_column(s) for s in half.settings.sentiments]].iloc[:-1])

    (model_copy / LEXICON_FILE).unlink()  # weight recorded but no lexicon: the topic head alone
    assert Classifier.load(model_copy, backend="torch").predict(PROBES, progress=False)[topic_columns].equals(
        before[topic_columns].iloc[:-1])


def test_cli_fits_the_lexicon_and_recalibrate_chooses_its_weight(model_copy, comments):
    from typer.testing import CliRunner

    from synpunkt.classifier import Classifier, sigmoid
    from synpunkt.cli import app

    data, frame = comments
    weights = (model_copy / WEIGHTS_FILE).read_bytes()
    result = CliRunner().invoke(app, ["fit-topic-lexicon", "--model", str(model_copy), "--in-domain", str(data)])
    assert result.exit_code == 0, result.output
    assert "fitted on 18 train rows" in result.output and (model_copy / LEXICON_FILE).exists()

    result = CliRunner().invoke(app, ["recalibrate", "--model", str(model_copy), "--in-domain", str(data),
                                      "--backend", "torch"])
    assert result.exit_code == 0, result.output
    assert "topic lexicon weight: 0.0 ->" in result.output
    settings = json.loads((model_copy / SETTINGS_FILE).read_text())
    record = json.loads((model_copy / "evaluation.json").read_text())["calibration"]
    assert record["after"]["topic_lexicon_weight"] == settings["topic_lexicon_weight"] in BLEND_WEIGHTS
    assert (model_copy / WEIGHTS_FILE).read_bytes() == weights

    clf = Classifier.load(model_copy, backend="torch")  # the same choice, by hand, on the validation rows
    validation = frame[frame.split == "validation"].reset_index(drop=True)
    logits = clf.logits(validation["text"].tolist(), progress=False)
    Y = np.array([topic_vector(t) for t in validation["topics"]])
    w, thresholds, _ = fit_blend(sigmoid(logits["topics"] / settings["topic_temperature"]), logits[LEXICON_KEY], Y)
    assert settings["topic_lexicon_weight"] == w
    assert settings["topic_thresholds"] == pytest.approx(dict(zip(TOPICS, thresholds)))


def test_cli_without_train_rows_is_one_line(model_copy, comments, tmp_path):
    from typer.testing import CliRunner

    from synpunkt.cli import app

    data, _ = comments
    no_train = tmp_path / "comments.jsonl"
    no_train.write_text("".join(line + "\n" for line in data.read_text(encoding="utf-8").splitlines()
                                if '"train"' not in line), encoding="utf-8")
    result = CliRunner().invoke(app, ["fit-topic-lexicon", "--model", str(model_copy), "--in-domain", str(no_train)])
    assert result.exit_code == 2 and result.output.strip().startswith("error:")
    assert len(result.output.strip().splitlines()) == 1 and not (model_copy / LEXICON_FILE).exists()


def test_training_fits_the_lexicon_and_chooses_its_weight(tiny_base, comments, tmp_path):
    from synpunkt.classifier import Classifier
    from synpunkt.model import model_version
    from synpunkt.train import TrainConfig, run_training

    data, _ = comments
    cfg = TrainConfig(output_dir=tmp_path / "model", base_model=str(tiny_base), in_domain=data, public_sources=(),
                      epochs=1, batch_size=4, evaluate_public=False, name="tiny-lexicon", topic_lexicon=True)
    report = run_training(cfg)
    settings = json.loads((cfg.output_dir / SETTINGS_FILE).read_text())
    assert (cfg.output_dir / LEXICON_FILE).exists() and settings["topic_lexicon_weight"] in BLEND_WEIGHTS
    assert report["model_version"] == model_version(cfg.output_dir)  # the version covers the lexicon
    clf = Classifier.load(cfg.output_dir, backend="torch")
    assert clf.lexicon is not None and clf.settings.topic_lexicon_weight == settings["topic_lexicon_weight"]
    card = (cfg.output_dir / "README.md").read_text(encoding="utf-8")
    assert ("`topic_lexicon.npz`" in card) == (settings["topic_lexicon_weight"] > 0)


def test_every_backend_blends_the_same_lexicon(model_copy, comments, tmp_path, monkeypatch):
    from synpunkt.classifier import Classifier, sigmoid
    from synpunkt.model import ModelSettings
    from synpunkt.topic_lexicon import fit_topic_lexicon

    fit_topic_lexicon(model_copy, comments[0])
    settings = ModelSettings.load(model_copy)
    settings.topic_lexicon_weight = 0.3
    settings.save(model_copy)
    monkeypatch.setenv("SYNPUNKT_CACHE", str(tmp_path / "cache"))  # the tiny model's export stays out of the user's
    for backend in ("torch", "onnx"):
        clf = Classifier.load(model_copy, backend=backend)
        assert clf.backend == backend and clf.lexicon is not None
        logits = clf.logits(PROBES, progress=False)
        expected = 0.7 * sigmoid(logits["topics"] / settings.topic_temperature) + 0.3 * clf.lexicon.predict_proba(PROBES)
        got = clf.predict(PROBES, progress=False)[[prob_column(t) for t in TOPICS]].to_numpy()
        assert got == pytest.approx(expected, abs=1e-12)


EDGE_TEXTS = ["", "   ", "a", "Å ä Ö", "ok\tbra\n\nmycket  bra!!!", "😀 emoji 😡😡", "ab cd ef", "HANDLÄGGAREN VAR OTREVLIG!!!",
              "e-tjänsten www.kommun.se/x?y=1", "väntade väntade väntade", "[NAMN] ringde 08-123 45 67", "x y"]


@pytest.mark.slow
def test_stored_tfidf_gives_scikit_learns_matrix_number_for_number():
    """The shipped model's lexicon: StoredTfidf's matrices equal scikit-learn's TfidfVectorizer with the same stored
    vocabulary and idf, exactly, on the in-domain comments and on edge cases (empty, whitespace runs, short words,
    capitals, emoji, repeats), for both feature sets; a second call (words cached) gives the same again."""
    from synpunkt.config import DEFAULT_MODEL_DIR
    from synpunkt.data import load_in_domain
    from synpunkt.topic_lexicon import ANALYZERS, StoredTfidf, sklearn_tfidf

    lexicon = TopicLexicon.load(DEFAULT_MODEL_DIR)
    texts = load_in_domain()["text"].tolist()[:1500] + EDGE_TEXTS
    for (analyzer, ngrams), vocabulary, idf in zip(ANALYZERS, lexicon.vocabularies, lexicon.idf):
        expected = sklearn_tfidf(analyzer, ngrams, vocabulary, idf).transform(texts)
        expected.sort_indices()
        stored = StoredTfidf(analyzer, vocabulary, idf, ngrams)
        for _ in range(2):
            got = stored.transform(texts)
            assert got.shape == expected.shape and expected.nnz > 0
            assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
            assert np.array_equal(got.data, expected.data)
    assert stored.transform([]).shape == (0, len(lexicon.idf[-1]))
    with pytest.raises(ValueError, match="char_wb"):
        StoredTfidf("char", lexicon.vocabularies[1], lexicon.idf[1], (3, 5))

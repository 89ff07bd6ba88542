"""The classifier's encoder as ingest's base model (synpunkt.classifier_encoder): settings, digests, the layers it
shares with its base, and the records that name it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from conftest import heads_on_classifier_encoder  # noqa: E402
from synpunkt import classifier_encoder as ce  # noqa: E402
from synpunkt.config import DEFAULT_BASE_MODEL, DEFAULT_MODEL_DIR  # noqa: E402


def test_specs_round_trip(tmp_path):
    assert ce.is_spec("classifier:encoder") and not ce.is_spec(DEFAULT_BASE_MODEL) and not ce.is_spec(None)
    absolute = ce.absolute_spec("classifier:encoder", tmp_path)
    assert absolute == f"classifier:{(tmp_path / 'encoder').resolve()}"
    assert ce.relative_spec(absolute, tmp_path) == "classifier:encoder"
    assert ce.absolute_spec(DEFAULT_BASE_MODEL, tmp_path) == DEFAULT_BASE_MODEL
    assert ce.relative_spec("classifier:/elsewhere/enc", tmp_path) == "classifier:/elsewhere/enc"
    with pytest.raises(ValueError):
        ce.directory(DEFAULT_BASE_MODEL)


def test_digest_follows_weights_not_calibration(tmp_path):
    copy = ce.copy_encoder(DEFAULT_MODEL_DIR, tmp_path / "enc")
    assert sorted(p.name for p in copy.iterdir()) == sorted(ce.ENCODER_FILES)
    digest = ce.weights_digest(copy)
    assert digest == ce.weights_digest(DEFAULT_MODEL_DIR)
    settings = json.loads((copy / "synpunkt_model.json").read_text())
    settings["sentiment_temperature"] = 2.0  # calibration: the same encoder
    (copy / "synpunkt_model.json").write_text(json.dumps(settings))
    assert ce.weights_digest(copy) == digest
    settings["lora_r"] = 8  # the network's shape: another encoder
    (copy / "synpunkt_model.json").write_text(json.dumps(settings))
    assert ce.weights_digest(copy) != digest
    assert ce.identity(ce.spec(copy)) == f"classifier-{ce.weights_digest(copy)}"
    assert ce.identity(DEFAULT_BASE_MODEL) == DEFAULT_BASE_MODEL


def test_shared_layers():
    shipped = ce.spec(DEFAULT_MODEL_DIR)
    settings = json.loads((Path(DEFAULT_MODEL_DIR) / "synpunkt_model.json").read_text())
    kept = 12 - settings["trainable_layers"]
    assert ce.shared_layers(shipped, DEFAULT_BASE_MODEL) == kept == ce.shared_layers(DEFAULT_BASE_MODEL, shipped)
    assert ce.shared_layers(shipped, shipped) > 12
    assert ce.shared_layers(DEFAULT_BASE_MODEL, "some/other-model") == 0


def test_classifier_encoder_keeps_the_base_layers_bit_for_bit():
    """The name model reads layer 6: the classifier's encoder must give exactly the base encoder's states there (and
    different ones above, where it is adapted)."""
    import torch

    from synpunkt.base_model import load_base

    spec = ce.spec(DEFAULT_MODEL_DIR)
    _, kept = ce.base_layers(DEFAULT_MODEL_DIR)
    base, tokenizer, _ = load_base(DEFAULT_BASE_MODEL)
    merged, merged_tokenizer, info = load_base(spec)
    assert info["text_prefix"] == "query: "
    enc = tokenizer(["query: Handläggaren Anna Svensson var trevlig men jag väntade en timme."], return_tensors="pt")
    assert merged_tokenizer(["query: Handläggaren Anna Svensson var trevlig men jag väntade en timme."],
                            return_tensors="pt")["input_ids"].tolist() == enc["input_ids"].tolist()
    with torch.inference_mode():
        a = base(**enc, output_hidden_states=True).hidden_states
        b = merged(**enc, output_hidden_states=True).hidden_states
    for layer in range(kept + 1):
        assert torch.equal(a[layer], b[layer]), layer
    assert not torch.allclose(a[-1], b[-1])


def test_name_model_aligned_to_the_classifier_encoder_redacts_the_same():
    from synpunkt.ingest_compute import align_name_model
    from synpunkt.redaction import Redactor
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.features import FeatureEncoder
    from synpunkt.signals.heads import SignalHeads
    from synpunkt.config import signals_dir

    texts = ["Jag pratade med Lisa Berg och sedan med Omar på kontoret.",
             "Kristina på bygglov var hjälpsam, men Sandberg svarade aldrig.",
             "Ring mig, Eva-Lena Håkansson, så fort ni kan."]
    reference = [r.text for r in Redactor().redact_many(texts)]
    redactor = Redactor()
    heads = SignalHeads.load(signals_dir())
    detector = Detector(heads, FeatureEncoder(base_model=ce.spec(DEFAULT_MODEL_DIR), layers=heads.encoded_layers))
    align_name_model(redactor, detector)
    assert redactor.name_model.base_model == ce.spec(DEFAULT_MODEL_DIR)
    assert [r.text for r in redactor.redact_many(texts)] == reference
    other = Redactor()
    align_name_model(other, Detector(heads, FeatureEncoder(base_model="some/other-model")))
    assert other.name_model.base_model in (None, DEFAULT_BASE_MODEL)  # nothing shared: left alone


def test_backend_record_names_the_encoder_relatively(tmp_path):
    from synpunkt.ingest_encoders import BACKEND_FILE, read_record

    enc = ce.copy_encoder(DEFAULT_MODEL_DIR, tmp_path / "encoder")
    (tmp_path / BACKEND_FILE).write_text(json.dumps({"default": "onnx", "base_model": "classifier:encoder"}))
    assert read_record(tmp_path, ce.spec(enc.resolve()))["default"] == "onnx"
    assert read_record(tmp_path, ce.spec(DEFAULT_MODEL_DIR))["default"] == "onnx"  # same weights, other folder
    assert read_record(tmp_path, DEFAULT_BASE_MODEL) is None


def test_heads_resolve_their_encoder_folder(tmp_path):
    from synpunkt.config import signals_dir
    from synpunkt.signals.heads import SignalHeads

    folder = heads_on_classifier_encoder(tmp_path / "signals")
    heads = SignalHeads.load(folder)
    assert heads.base_model == f"classifier:{(tmp_path / 'signals' / 'encoder').resolve()}"
    np.testing.assert_array_equal(heads.urgent.coef, SignalHeads.load(signals_dir()).urgent.coef)

"""One training run for every head (`synpunkt train --signal-heads`): the classifier's heads plus auxiliary urgent and
repeat-contact heads, each loss only where its label exists; the heads' encoder then calibrates on validation only."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from synpunkt.labels import SENTIMENTS, TOPICS
from synpunkt.model import URGENT_CLASSES, ModelSettings, build_model, load_model
from synpunkt.signals.data import URGENT_CATEGORIES
from synpunkt.train import IGNORE, collate, encode_labels, multitask_loss, signal_rows

from conftest import labelled_comments


def test_auxiliary_head_size_matches_the_urgent_categories():
    assert URGENT_CLASSES == len(URGENT_CATEGORIES)


def test_labels_missing_per_row_are_ignored_not_guessed():
    frame = pd.DataFrame([
        {"text": "Handläggaren var trevlig", "sentiment": "positive", "topics": ["handler"],
         "topic_sentiment": {"handler": "positive"}, "urgent": "none", "repeat_contact": False},
        {"text": "Jag kommer med kniven", "sentiment": None, "topics": None, "topic_sentiment": None,
         "urgent": "threat", "repeat_contact": None},
        {"text": "Tredje gången jag ringer", "sentiment": None, "topics": None, "topic_sentiment": None,
         "urgent": None, "repeat_contact": True},
    ])
    enc = encode_labels(frame)
    assert enc["sentiment_id"].tolist() == [SENTIMENTS.index("positive"), IGNORE, IGNORE]
    assert enc["topic_mask"].tolist() == [1.0, 0.0, 0.0]
    assert enc["urgent_id"].tolist() == [0, URGENT_CATEGORIES.index("threat"), IGNORE]
    assert enc["repeat_mask"].tolist() == [1.0, 0.0, 1.0] and enc["repeat_target"].tolist() == [0.0, 0.0, 1.0]
    # a classifier frame without the auxiliary columns: no urgent or repeat targets at all
    plain = encode_labels(frame.drop(columns=["urgent", "repeat_contact"]).iloc[:1])
    assert plain["urgent_id"].tolist() == [IGNORE] and plain["repeat_mask"].tolist() == [0.0]


def test_a_row_without_sentiment_gives_the_sentiment_head_no_gradient(tiny_base):
    from transformers import AutoTokenizer

    model, _ = build_model(ModelSettings(base_model=str(tiny_base), signal_heads=True))
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    frame = pd.DataFrame([{"text": "Tredje gången jag ringer", "sentiment": None, "topics": None,
                           "topic_sentiment": None, "urgent": "threat", "repeat_contact": True}])
    enc = encode_labels(frame)
    row = {**enc.iloc[0].to_dict(), "input_ids": tokenizer(enc.iloc[0]["text"])["input_ids"]}
    batch = collate([row], tokenizer.pad_token_id)
    loss = multitask_loss(model(batch["input_ids"], batch["attention_mask"]), batch, topic_weight=2.0)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert model.sentiment_head.weight.grad is None or not model.sentiment_head.weight.grad.any()
    assert model.topic_head.weight.grad is None or not model.topic_head.weight.grad.any()
    assert model.urgent_head.weight.grad.abs().sum() > 0 and model.repeat_head.weight.grad.abs().sum() > 0


def test_signal_rows_label_ordinary_comments_none_and_add_the_train_rows():
    from synpunkt.data import load_in_domain

    train = load_in_domain()
    train = train[train.split == "train"]
    in_domain, extra = signal_rows(train)
    assert (in_domain["urgent"] == "none").all() and len(in_domain) == len(train)
    assert in_domain["repeat_contact"].notna().any(), "the in-domain comments' repeat labels are joined"
    assert set(extra["source"]) == {"urgent", "repeat_contact"}
    assert extra["sentiment"].isna().all() and extra["topics"].isna().all()
    assert set(extra.loc[extra.source == "urgent", "urgent"]) == set(URGENT_CATEGORIES)


@pytest.fixture(scope="module")
def joint(tiny_base, tmp_path_factory):
    """A tiny classifier trained with --signal-heads (in-domain rows written here, the urgent and repeat-contact
    rows of the repository sampled down)."""
    from synpunkt.train import TrainConfig, run_training

    tmp = tmp_path_factory.mktemp("joint")
    data = labelled_comments(tmp / "comments.jsonl", 24, prefix="j")
    cfg = TrainConfig(output_dir=tmp / "model", base_model=str(tiny_base), in_domain=data, public_sources=(),
                      epochs=1, batch_size=8, evaluate_public=False, name="tiny-joint", max_train_examples=48,
                      signal_heads=True, max_length=60, train_max_length=60)  # the tiny base reads 64 tokens
    run_training(cfg)
    return cfg.output_dir


def test_joint_model_saves_and_reloads_every_head_and_classifies_as_before(joint):
    from synpunkt.classifier import Classifier

    model, tokenizer, settings = load_model(joint)
    assert settings.signal_heads
    enc = tokenizer(["Handläggaren var trevlig"], return_tensors="pt")
    out = model(enc["input_ids"], enc["attention_mask"])
    assert out["urgent"].shape == (1, URGENT_CLASSES) and out["repeat_contact"].shape == (1,)
    predicted = Classifier.load(joint).predict(["Handläggaren var trevlig", "Kön var lång"])
    assert predicted["sentiment"].isin(SENTIMENTS).all()
    assert {f"p_{t}" for t in TOPICS} <= set(predicted.columns)


def test_heads_on_a_jointly_trained_encoder_calibrate_on_validation_only(joint, tmp_path):
    from synpunkt.signals.training import CALIBRATION_POOL, SignalsConfig, calibration_pool

    assert calibration_pool(SignalsConfig(output_dir=tmp_path, classifier=joint)) == "validation"
    assert calibration_pool(SignalsConfig(output_dir=tmp_path)) == CALIBRATION_POOL
    assert calibration_pool(SignalsConfig(output_dir=tmp_path, classifier=joint, calibration_pool="first_pass")) \
        == "first_pass"


def test_the_joint_models_encoder_is_exported_for_signal_heads_as_trained(joint, home):
    """train-signals --encoder classifier copies the joint model's weights beside the heads and reads the merged
    encoder exported from them: the same hidden states as the trained model's own encoder."""
    from synpunkt.base_model import load_base
    from synpunkt.classifier_encoder import copy_encoder, resolve, spec

    encoder_dir = copy_encoder(joint, home / "heads" / "encoder")
    exported, tokenizer, _ = load_base(resolve(spec(encoder_dir)))
    model, _, _ = load_model(joint)
    enc = tokenizer(["Handläggaren var trevlig", "Jag väntade en timme i telefonkön"], padding=True,
                    return_tensors="pt")
    with torch.no_grad():
        a = exported(**enc).last_hidden_state
        b = model.encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    assert torch.allclose(a, b, atol=1e-5)

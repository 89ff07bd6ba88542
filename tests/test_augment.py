"""Training-time augmentation (synpunkt.augment) and input normalisation (synpunkt.textnorm)."""

from __future__ import annotations

import pandas as pd
import pytest

from synpunkt.augment import (EMOJI_BY_SENTIMENT, PERTURBATIONS, WEIGHTS, augment_frame, augment_text, parse_weights,
                              weights_from_flip_rates)
from synpunkt.textnorm import unshout


def test_augmentation_is_deterministic_and_keeps_placeholders():
    text = "[NAMN] på kundtjänst var otrevlig och svarade aldrig."
    outs = [augment_text(text, "negative", seed) for seed in range(40)]
    assert outs == [augment_text(text, "negative", seed) for seed in range(40)]
    assert all("[NAMN]" in o for o in outs)
    assert len(set(outs)) > 10, "the perturbations vary"
    assert any(o.isupper() or o.endswith("!!") for o in outs)


def test_emoji_never_contradict_the_label():
    wrong = set(EMOJI_BY_SENTIMENT["positive"])
    outs = [augment_text("Ingen svarade.", "negative", seed) for seed in range(200)]
    assert not any(e in o for o in outs for e in wrong)


def test_augment_frame_changes_about_the_requested_share():
    df = pd.DataFrame({"text": [f"Handläggaren var trevlig nummer {i}." for i in range(400)],
                       "sentiment": "positive"})
    out = augment_frame(df, 0.5, seed=1)
    changed = (out["text"] != df["text"]).mean()
    assert 0.35 < changed < 0.6 and (out["sentiment"] == df["sentiment"]).all()
    assert augment_frame(df, 0.0).equals(df)


def test_draw_weights_choose_the_perturbations():
    text = "Handläggaren, som var trevlig, ringde tillbaka."
    only_punctuation = {name: 0.0 for name in PERTURBATIONS} | {"punctuation": 1.0}
    outs = {augment_text(text, "positive", seed, only_punctuation) for seed in range(30)}
    assert outs == {"Handläggaren som var trevlig ringde tillbaka"}
    df = pd.DataFrame({"text": [text] * 50, "sentiment": "positive"})
    assert augment_frame(df, 1.0, seed=3, weights=only_punctuation)["text"].eq(next(iter(outs))).all()
    assert augment_frame(df, 0.5, seed=3).equals(augment_frame(df, 0.5, seed=3, weights=WEIGHTS))


def test_parse_weights_overrides_named_perturbations_and_names_bad_items():
    weights = parse_weights("punctuation=7.6, emoji=4.5")
    assert weights["punctuation"] == 7.6 and weights["emoji"] == 4.5 and weights["typos"] == WEIGHTS["typos"]
    assert parse_weights("") == WEIGHTS
    for spec, message in (("shouting=2", "one of"), ("emoji", "NAME=WEIGHT"), ("emoji=lots", "not a number"),
                          ("emoji=-1", "negative"), (",".join(f"{name}=0" for name in WEIGHTS), "above 0")):
        with pytest.raises(ValueError, match=message):
            parse_weights(spec)


def test_weights_follow_validation_flip_rates_with_a_floor():
    assert weights_from_flip_rates({"punctuation": 0.0763, "typos": 0.001}) == {"punctuation": 7.63, "typos": 0.5}


def test_unshout_rewrites_whole_text_capitals_only():
    assert unshout("HANDLÄGGAREN VAR OTREVLIG!!!") == "Handläggaren var otrevlig!!!"
    assert unshout("[NAMN] VAR JÄTTEBRA") == "[NAMN] var jättebra"
    assert unshout("ALDRIG fått svar!!!") == "ALDRIG fått svar!!!"
    assert unshout("LSS") == "LSS" and unshout("Bra 👍") == "Bra 👍"

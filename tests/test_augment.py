"""Training-time augmentation (synpunkt.augment) and input normalisation (synpunkt.textnorm)."""

from __future__ import annotations

import pandas as pd

from synpunkt.augment import EMOJI_BY_SENTIMENT, augment_frame, augment_text
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


def test_unshout_rewrites_whole_text_capitals_only():
    assert unshout("HANDLÄGGAREN VAR OTREVLIG!!!") == "Handläggaren var otrevlig!!!"
    assert unshout("[NAMN] VAR JÄTTEBRA") == "[NAMN] var jättebra"
    assert unshout("ALDRIG fått svar!!!") == "ALDRIG fått svar!!!"
    assert unshout("LSS") == "LSS" and unshout("Bra 👍") == "Bra 👍"

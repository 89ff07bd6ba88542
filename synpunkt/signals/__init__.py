"""Signals detected on each comment during ingest (issue 9): urgent comments (threat, self_harm,
violence_close_relationship) and repeat contacts.

- ``features``: frozen-encoder features (token means of chosen layers of multilingual-E5-small);
- ``spans``, ``span_head``, ``mil``: sentence-span means from the same encoder pass and the head that scores them;
- ``windows``, ``dilution``: re-encoded sentence windows (not shipped) and the dilution diagnostic;
- ``rules`` and ``repeat_cues``: unmistakable phrases and repeat-contact cue phrases;
- ``heads``: the logistic-regression heads stored in models/signals/;
- ``detect``: ``detect(texts)`` / ``Detector`` (category, probability, rule, repeat_p, repeat_contact);
- ``store``: comment_signals and alerts rows, listing and acknowledging alerts;
- ``training``, ``data``, ``card``: ``synpunkt train-signals``.
"""

from synpunkt.signals.detect import Detector, default_detector, detect

__all__ = ["Detector", "default_detector", "detect"]

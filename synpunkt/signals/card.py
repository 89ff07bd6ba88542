"""The model card of the signal heads (models/signals/README.md), written by `synpunkt train-signals`."""

from __future__ import annotations

from pathlib import Path

from synpunkt.signals.data import ALERT_CATEGORIES


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def card_text(settings: dict, evaluation: dict) -> str:
    """Markdown: what the heads are, what they were trained on, and their validation and test figures."""
    t = settings["thresholds"]
    lines = [
        f"# Synpunkt signal heads ({settings['version']})", "",
        "Two logistic-regression heads on the frozen base encoder (multilingual-E5-small; token means of layers "
        f"{', '.join(map(str, settings['layers']))}, concatenated): **urgent** (none, threat, self_harm, "
        "violence_close_relationship; see data/urgent/GUIDE.md) and **repeat_contact** (binary; see "
        "data/repeat_contact/GUIDE.md). They run during ingest on the full, unredacted text in memory; nothing "
        "but their outputs is stored. Rules for unmistakable phrases (synpunkt/signals/rules.py) flag a comment "
        "whatever the head says.", "",
        "## Training data", "",
        *(f"- {k}: {v}" for k, v in settings["training_data"].items()), "",
        f"Seed {settings['seed']}; regularisation {settings['regularisation']}. A comment is urgent when "
        f"1 - p(none) >= {t['urgent']:.2f} (the lowest threshold flagging at most 5 % of the held-out non-urgent "
        "negative comments: the validation split and out-of-fold predictions for the train split; layers and C "
        "chosen the same way, for recall) or a rule fires; a repeat contact when p >= "
        f"{t['repeat_contact']:.2f} (best F1 on the validation splits; the head also sees cue phrases, "
        "synpunkt/signals/repeat_cues.py).", "",
        "## Held-out test split (never used for training or tuning)", "",
        "| category | n | recall (flagged) | recall (right category) |", "|---|---|---|---|",
    ]
    test = evaluation["urgent_test"]
    for c in ALERT_CATEGORIES:
        m = test["categories"][c]
        lines.append(f"| {c} | {m['n']} | {_pct(m['recall'])} | {_pct(m['recall_exact_category'])} |")
    none = test["none"]
    lines += ["", f"Non-urgent comments flagged: {_pct(none['flag_rate'])} of {none['n']}; non-urgent **negative** "
              f"comments flagged: {_pct(none['negative_flag_rate'])} of {none['n_negative']}. By kind: "
              + ", ".join(f"{k} {_pct(v)}" for k, v in none["flag_rate_by_kind"].items()) + ".", "",
              "| repeat contact (test) | n | positives | precision | recall | F1 |", "|---|---|---|---|---|---|"]
    for source, name in (("written", "repeat_contact.jsonl"), ("comments", "comments (in-domain)"),
                         ("both", "both")):
        m = evaluation[f"repeat_test_{source}"]
        lines.append(f"| {name} | {m['n']} | {m['positives']} | {m['precision']:.3f} | {m['recall']:.3f} | "
                     f"{m['f1']:.3f} |")
    lines += ["", "Validation figures and the per-kind false flags are in evaluation.json. Reproduce with "
              "`synpunkt train-signals` (a minute or two on CPU once the encoder features are cached).", "",
              "## Limits", "",
              "- The urgent data are project-written (about 1,600 comments); real comments will differ. Keep the "
              "alert channel's acknowledgements under review and add missed cases to data/urgent.",
              "- The detector never decides alone what happens next: every alert goes to a person.", ""]
    return "\n".join(lines)


def write_card(directory: Path, settings: dict, evaluation: dict) -> Path:
    path = Path(directory) / "README.md"
    path.write_text(card_text(settings, evaluation), encoding="utf-8")
    return path

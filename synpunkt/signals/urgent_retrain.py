"""Judge retrained signal heads against the shipped ones on a fresh blind batch of urgent data (issue 9).

A candidate is a folder written by ``synpunkt train-signals``. On the base encoder only its urgent head, span head
and their thresholds can replace the shipped ones; the repeat-contact head, its threshold and layers stay the
shipped ones (``replace_urgent_heads``). Heads on another encoder (``--encoder classifier``) are judged whole, their
repeat head too (rule (e)). Two versions of a candidate are judged: as trained ("1"), and with its whole-text and
span thresholds recalibrated on the held-out splits that earlier decisions have already read ("2",
``recalibrate``). The rule, fixed before the blind batch existed (``rule_verdict``), compares each with the shipped
heads on the blind split only. The test split is read only with ``--test``, after that decision. Nothing is
written: a winner is installed with ``chosen_heads`` (and, for heads on another encoder, their encoder copy).

    python -m synpunkt.signals.urgent_retrain --candidate DIR --blind validation_blind5 [--rule confirm] [--test]
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from synpunkt.signals.data import ALERT_CATEGORIES, BLIND_SPLITS, STYLES
from synpunkt.signals.heads import SIGNALS_DIR, SignalHeads, union_layers

CALIBRATION_RATE = 0.04
"""Recalibrated thresholds flag at most this share of the worn splits' non-urgent negative comments (train-signals'
margin)."""
THRESHOLD_GRID = np.round(np.arange(0.30, 0.99501, 0.005), 3)
THREAT_GAIN = 0.05
"""(a) the candidate's threat recall on the blind batch must reach the shipped heads' + this (3 of 60)..."""
OTHER_LOSS = 0.034
"""(b) ...self_harm and violence recall may fall at most this (one of 30)..."""
NEGATIVE_SLACK = 0.02
"""(c) ...non-urgent negative comments flagged at most max(ISSUE_NEGATIVE_RATE, the shipped heads') + this..."""
ISSUE_NEGATIVE_RATE = 0.05
COMMENTS_SLACK = 0.01
"""(d) ...and in-domain validation comments flagged at most the shipped heads' share + this..."""
REPEAT_LOSS = {"comments": 0.01, "written": 0.02}
THREAT_GAIN_90 = round(4 / 90, 4)
"""Rule "blind7" (fixed before validation_blind7, 90 threats), path R: at least four more threats found..."""
FEWER_ALARMS = 0.03
"""...or path F: no threat fewer and at least this much less of the negative comments flagged."""
"""(e) ...and, for heads with a repeat head of their own, repeat F1 on each validation source at most this lower."""
REGISTER_STYLES = STYLES[1:]
"""Rule "registers" (fixed before validation_blind11): the writing styles whose ordinary comments were flagged..."""
STYLE_FEWER, STYLE_SHARE, STYLE_COMMENTS_SLACK = 2, 0.7, 0.0025
"""...at least 2 fewer of them and at most 70 % as many flagged; in-domain comments flagged at most 0.25 point more."""


@dataclass
class UrgentScores:
    """Per text: the whole text's p(urgent), its most urgent sentence span's by the span head (0 without one), and
    whether a rule decided it."""

    whole: np.ndarray
    span: np.ndarray
    rules: np.ndarray
    repeat: np.ndarray  # the repeat-contact decision

    def subset(self, mask: np.ndarray) -> "UrgentScores":
        return UrgentScores(self.whole[mask], self.span[mask], self.rules[mask], self.repeat[mask])


def urgent_scores(heads: SignalHeads, texts: Sequence[str], rules: dict | None = None) -> UrgentScores:
    """UrgentScores of texts under heads and `rules` (default: synpunkt.signals.rules.RULES; one encoder pass;
    texts are never stored or logged)."""
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.repeat_cues import cue_features
    from synpunkt.signals.rules import rule_category
    from synpunkt.signals.windows import MAX_WINDOW_WORDS

    texts = list(texts)
    detector = Detector(heads)
    none = heads.urgent.classes.index("none")
    whole, spans, rows = detector.encoder.encode_spans(texts, heads.settings.get("max_window_words", MAX_WINDOW_WORDS))
    p_whole = 1 - detector.urgent_probabilities(whole)[:, none]
    p_span = (1 - detector.span_probabilities(len(texts), spans, rows)[:, none]
              if heads.urgent_span is not None and detector.spanned else np.zeros(len(texts)))
    repeat_p = heads.repeat.probabilities(np.hstack([heads.head_features(whole, "repeat"), cue_features(texts)]))[:, 1]
    return UrgentScores(p_whole, p_span, np.array([rule_category(t, rules) is not None for t in texts]),
                        repeat_p >= heads.thresholds["repeat_contact"])


def flagged(scores: UrgentScores, threshold: float, span_threshold: float | None) -> np.ndarray:
    """Whether each text is flagged: a rule, the whole text at its threshold, or a span at the span threshold
    (Detector's decision; pure)."""
    out = scores.rules | (scores.whole >= threshold)
    return out | (scores.span >= span_threshold) if span_threshold is not None else out


def recalibrate(scores: UrgentScores, urgent: np.ndarray, negative: np.ndarray, has_span: bool,
                rate: float = CALIBRATION_RATE, grid: np.ndarray = THRESHOLD_GRID) -> dict:
    """Recalibrated thresholds (pure): over the grid, the (whole, span) pair flagging at most `rate` of the
    `negative` rows with the highest recall on the `urgent` rows; ties: the lower flag rate, then the higher
    thresholds."""
    best = None
    for t in grid:
        for ts in (grid if has_span else [None]):
            f = flagged(scores, t, ts)
            neg_rate = float(f[negative].mean())
            if neg_rate > rate + 1e-12:
                continue
            key = (float(f[urgent].mean()), -neg_rate, t, -1 if ts is None else ts)
            if best is None or key > best[0]:
                best = (key, t, ts)
    if best is None:
        raise ValueError("no threshold pair keeps the calibration rate")
    (recall, neg, _, _), t, ts = best
    return {"urgent": float(t), **({"urgent_span": float(ts)} if ts is not None else {}),
            "held_out_recall": round(recall, 4), "held_out_negative_flag_rate": round(-neg, 4),
            "n_urgent": int(urgent.sum()), "n_negative": int(negative.sum())}


def blind_figures(frame: pd.DataFrame, flags: np.ndarray) -> dict:
    """Recall per category (flagged at all), the share of non-urgent negative and of all non-urgent rows flagged
    (pure)."""
    from synpunkt.signals.metrics import share

    cat = frame["category"].to_numpy()
    none = cat == "none"
    negative = none & (frame["negative_tone"] == True).to_numpy()  # noqa: E712
    out = {c: {"n": int((cat == c).sum()), "recall": share(flags[cat == c])} for c in ALERT_CATEGORIES}
    out["negative"] = {"n": int(negative.sum()), "flag_rate": share(flags[negative])}
    out["none"] = {"n": int(none.sum()), "flag_rate": share(flags[none])}
    out["urgent_recall"] = share(flags[~none])
    if "style" in frame:  # rows written in a named style (data/urgent/GUIDE.md, "Writing styles")
        style = frame["style"].fillna("").to_numpy()
        plain = none & ~np.isin(style, REGISTER_STYLES)
        out["none_styled"] = {"n": int((none & ~plain).sum()), "flag_rate": share(flags[none & ~plain]),
                              "flagged": int(flags[none & ~plain].sum())}
        out["negative_standard"] = {"n": int((negative & plain).sum()), "flag_rate": share(flags[negative & plain])}
    return out


def _check(name: str, value: float, op: str, bar: float) -> tuple[bool, str]:
    """(met?, reason) of one comparison (pure)."""
    met = value >= bar if op == ">=" else value <= bar
    return met, f"{name} {value:.4f} {op if met else ('<' if op == '>=' else '>')} {bar}"


def _shared_checks(candidate: dict, shipped: dict) -> list[tuple[bool, str]]:
    """Rules (b), (d) and (e), common to both rules (pure)."""
    cb, sb = candidate["blind"], shipped["blind"]
    checks = [_check("self_harm recall", cb["self_harm"]["recall"], ">=",
                     round(sb["self_harm"]["recall"] - OTHER_LOSS, 4)),
              _check("violence recall", cb["violence_close_relationship"]["recall"], ">=",
                     round(sb["violence_close_relationship"]["recall"] - OTHER_LOSS, 4)),
              _check("in-domain validation comments flagged", candidate["comments_flag_rate"], "<=",
                     round(shipped["comments_flag_rate"] + COMMENTS_SLACK, 4))]
    if "repeat_f1" in candidate:
        checks += [_check(f"repeat F1, validation {source}", candidate["repeat_f1"][source], ">=",
                          round(shipped["repeat_f1"][source] - loss, 4)) for source, loss in REPEAT_LOSS.items()]
    return checks


def qualifies(candidate: dict, shipped: dict) -> tuple[bool, list[str]]:
    """(passes?, reasons) of one candidate against the shipped heads by the rule fixed before validation_blind4
    (pure): more threats found (a), at most one of 30 self_harm or violence rows fewer (b), at most NEGATIVE_SLACK
    more negative comments flagged than max(ISSUE_NEGATIVE_RATE, the shipped heads') (c), (d) and, for heads with a
    repeat head of their own, (e). Each dict holds "blind" (blind_figures), "comments_flag_rate" and, for such heads,
    "repeat_f1" ({"comments": F1, "written": F1} on the validation splits)."""
    cb, sb = candidate["blind"], shipped["blind"]
    checks = [_check("threat recall", cb["threat"]["recall"], ">=", round(sb["threat"]["recall"] + THREAT_GAIN, 4)),
              _check("negative comments flagged", cb["negative"]["flag_rate"], "<=",
                     round(max(ISSUE_NEGATIVE_RATE, sb["negative"]["flag_rate"]) + NEGATIVE_SLACK, 4)),
              *_shared_checks(candidate, shipped)]
    return all(met for met, _ in checks), [reason for _, reason in checks]


def confirms(candidate: dict, shipped: dict) -> tuple[bool, list[str]]:
    """(passes?, reasons) by the confirmatory rule fixed before validation_blind6 (pure): as many threats found as
    the shipped heads (a'), fewer false alarms: negative comments flagged no more than the shipped heads' and either
    within ISSUE_NEGATIVE_RATE or NEGATIVE_SLACK below theirs (c'), and (b), (d), (e) as `qualifies`."""
    cb, sb = candidate["blind"], shipped["blind"]
    neg, s_neg = cb["negative"]["flag_rate"], sb["negative"]["flag_rate"]
    fewer = neg <= s_neg and (neg <= ISSUE_NEGATIVE_RATE or neg <= round(s_neg - NEGATIVE_SLACK, 4))
    checks = [_check("threat recall", cb["threat"]["recall"], ">=", sb["threat"]["recall"]),
              (fewer, f"negative comments flagged {neg:.4f} {'meets' if fewer else 'misses'} <= {s_neg} and "
                      f"(<= {ISSUE_NEGATIVE_RATE} or <= {round(s_neg - NEGATIVE_SLACK, 4)})"),
              *_shared_checks(candidate, shipped)]
    return all(met for met, _ in checks), [reason for _, reason in checks]


def worn_trained(candidate: dict, shipped: dict) -> tuple[bool, list[str]]:
    """(passes?, reasons) by the rule fixed before validation_blind7 for heads trained on the worn blind batches
    (pure): (b) and (d) as `qualifies`, and either path R, more threats found (THREAT_GAIN_90) with at most
    NEGATIVE_SLACK more negative comments flagged than max(ISSUE_NEGATIVE_RATE, the shipped heads'), or path F, no
    threat fewer with FEWER_ALARMS less of the negative comments flagged."""
    cb, sb = candidate["blind"], shipped["blind"]
    threat, s_threat = cb["threat"]["recall"], sb["threat"]["recall"]
    neg, s_neg = cb["negative"]["flag_rate"], sb["negative"]["flag_rate"]
    path_r = [_check("R: threat recall", threat, ">=", round(s_threat + THREAT_GAIN_90, 4)),
              _check("R: negative comments flagged", neg, "<=",
                     round(max(ISSUE_NEGATIVE_RATE, s_neg) + NEGATIVE_SLACK, 4))]
    path_f = [_check("F: threat recall", threat, ">=", s_threat),
              _check("F: negative comments flagged", neg, "<=", round(s_neg - FEWER_ALARMS, 4))]
    shared = _shared_checks(candidate, shipped)
    ok = all(m for m, _ in shared) and (all(m for m, _ in path_r) or all(m for m, _ in path_f))
    return ok, [reason for _, reason in path_r + path_f + shared]


def fewer_style_alarms(candidate: dict, shipped: dict) -> tuple[bool, list[str]]:
    """(passes?, reasons) by the rule fixed before validation_blind11 (pure): (r) of the non-urgent rows written in
    dialect, second-language Swedish, SMS style or with identity numbers, at least STYLE_FEWER fewer flagged and at
    most STYLE_SHARE of the shipped heads' count; (b') no urgent category more than one row lower; (c') non-urgent
    negative comments flagged at most one row's share more; (d') in-domain validation comments flagged at most
    STYLE_COMMENTS_SLACK more."""
    cb, sb = candidate["blind"], shipped["blind"]
    flagged_c, flagged_s = cb["none_styled"]["flagged"], sb["none_styled"]["flagged"]
    bar = min(flagged_s - STYLE_FEWER, int(STYLE_SHARE * flagged_s))
    checks = [(flagged_c <= bar, f"styled non-urgent rows flagged {flagged_c} {'<=' if flagged_c <= bar else '>'} "
                                 f"{bar} (shipped {flagged_s} of {sb['none_styled']['n']})")]
    checks += [_check(f"{c} recall", cb[c]["recall"], ">=", round(sb[c]["recall"] - 1 / cb[c]["n"], 4))
               for c in ALERT_CATEGORIES]
    checks += [_check("negative comments flagged", cb["negative"]["flag_rate"], "<=",
                      round(sb["negative"]["flag_rate"] + 1 / cb["negative"]["n"], 4)),
               _check("in-domain validation comments flagged", candidate["comments_flag_rate"], "<=",
                      round(shipped["comments_flag_rate"] + STYLE_COMMENTS_SLACK, 4))]
    return all(met for met, _ in checks), [reason for _, reason in checks]


def dominates(candidate: dict, shipped: dict) -> tuple[bool, list[str]]:
    """(passes?, reasons) by the confirmatory rule fixed before validation_blind13 (pure): (a) recall over every
    urgent row at least the shipped heads'; (b) no urgent category more than one row lower; (c) non-urgent rows
    flagged no more than the shipped heads'; (d) non-urgent negative comments flagged at most one row's share more;
    (e) in-domain validation comments flagged at most STYLE_COMMENTS_SLACK more; (f) strictly better on (a) or (c).
    A candidate passes when it is no worse on finding urgent comments nor on false alarms, and better on one."""
    cb, sb = candidate["blind"], shipped["blind"]
    recall, s_recall = cb["urgent_recall"], sb["urgent_recall"]
    alarms, s_alarms = cb["none"]["flag_rate"], sb["none"]["flag_rate"]
    row = 1e-6  # bars one row away come from counts: without this slack a rounded bar refuses exactly one row
    checks = [_check("urgent recall (all urgent rows)", recall, ">=", s_recall)]
    checks += [_check(f"{c} recall", cb[c]["recall"], ">=", round(sb[c]["recall"] - 1 / cb[c]["n"] - row, 6))
               for c in ALERT_CATEGORIES]
    checks += [_check("non-urgent rows flagged", alarms, "<=", s_alarms),
               _check("negative comments flagged", cb["negative"]["flag_rate"], "<=",
                      round(sb["negative"]["flag_rate"] + 1 / cb["negative"]["n"] + row, 6)),
               _check("in-domain validation comments flagged", candidate["comments_flag_rate"], "<=",
                      round(shipped["comments_flag_rate"] + STYLE_COMMENTS_SLACK, 4))]
    better = recall > s_recall or alarms < s_alarms
    checks.append((better, f"strictly better on urgent recall or non-urgent rows flagged: {'yes' if better else 'no'}"))
    return all(met for met, _ in checks), [reason for _, reason in checks]


RULES = {"blind4": qualifies, "confirm": confirms, "blind7": worn_trained, "registers": fewer_style_alarms,
         "dominates": dominates}
"""The rules by name: "blind4" (fixed before validation_blind4, judged it and validation_blind5), "confirm" (fixed
before validation_blind6, for the procedure "2" on heads with their own encoder), "blind7" (fixed before
validation_blind7, for heads trained on the worn blind batches: version "1" only, as their recalibration would
read their own training rows), "registers" (fixed before validation_blind11: fewer false alarms on comments written
in dialect, second-language Swedish, SMS style or with identity numbers; version "1" only), "dominates" (fixed
before validation_blind13, confirmatory: no worse at finding urgent comments nor at false alarms, better at one;
version "1" only)."""


def rule_verdict(candidates: dict[str, dict], shipped: dict, rule: str = "blind4"
                 ) -> tuple[str | None, dict[str, list[str]]]:
    """(the winning candidate's name or None, reasons per candidate) (pure): of those that pass `rule` (RULES), the
    higher total urgent recall on the blind batch, then the lower negative flag rate."""
    reasons, passing = {}, []
    for name, figures in candidates.items():
        ok, reasons[name] = RULES[rule](figures, shipped)
        if ok:
            passing.append((figures["blind"]["urgent_recall"], -figures["blind"]["negative"]["flag_rate"], name))
    return (max(passing)[2] if passing else None), reasons


def replace_urgent_heads(shipped: SignalHeads, candidate: SignalHeads, thresholds: dict, note: dict) -> SignalHeads:
    """The shipped heads with the candidate's urgent head, span head, their layers, C and `thresholds` (pure); the
    repeat head, its threshold, C and layers and every other shipped setting stay."""
    settings = copy.deepcopy(shipped.settings)
    cand = candidate.settings
    urgent_layers = tuple(candidate.head_layers["urgent"])
    repeat_layers = tuple(shipped.head_layers["repeat"])
    settings["layers"] = list(union_layers(urgent_layers, repeat_layers))
    settings["head_layers"] = {"urgent": list(urgent_layers), "repeat": list(repeat_layers)}
    settings["version"] = f"{shipped.version.split('+')[0]}+urgent-{note['date'].replace('-', '')}"
    settings["thresholds"] = {"urgent": thresholds["urgent"], "repeat_contact": shipped.thresholds["repeat_contact"],
                              **({"urgent_span": thresholds["urgent_span"]} if "urgent_span" in thresholds else {})}
    for key in ("urgent_scoring", "urgent_training", "calibration_pool", "calibration_flag_rate",
                "urgent_span_held_out", "window_sentences", "max_window_words", "train_on"):
        if key in cand:
            settings[key] = cand[key]
        else:
            settings.pop(key, None)
    settings["regularisation"] = {**{k: v for k, v in settings.get("regularisation", {}).items()
                                     if not k.startswith("urgent")},
                                  **{k: v for k, v in cand.get("regularisation", {}).items() if k.startswith("urgent")}}
    for key in ("urgent", "thresholds"):  # the urgent head's data and how its thresholds were set
        settings.setdefault("training_data", {})[key] = cand.get("training_data", {}).get(key)
    settings["urgent_retrain"] = note
    settings.pop("urgent_span_classes", None)  # written again by save() where the candidate has a span head
    return SignalHeads(candidate.urgent, shipped.repeat, settings, candidate.urgent_span)


def worn_splits(blind_split: str) -> tuple[str, ...]:
    """The held-out splits read before `blind_split` was written: `validation` and the earlier blind batches."""
    if blind_split not in BLIND_SPLITS:
        raise ValueError(f"unknown blind split {blind_split!r}: expected one of {BLIND_SPLITS}")
    return ("validation", *BLIND_SPLITS[:BLIND_SPLITS.index(blind_split)])


def same_encoder(a: SignalHeads, b: SignalHeads) -> bool:
    """Whether both heads read the same encoder (then only the urgent heads are swapped)."""
    from synpunkt.classifier_encoder import identity

    return identity(a.base_model) == identity(b.base_model)


def judge(shipped_dir: Path, candidate_dir: Path, blind_split: str, rule: str = "blind4") -> dict:
    """Figures of the shipped heads and the candidate as trained ("1") and recalibrated on the worn splits ("2") on
    the blind batch, the in-domain validation comments and (for whole-head candidates) the validation repeat rows;
    the verdict by `rule` (RULES; "confirm" judges the recalibrated version alone; nothing written)."""
    from sklearn.metrics import f1_score

    from synpunkt.signals.data import repeat_data, urgent_data

    urgent, repeat = urgent_data(), repeat_data()
    blind = (urgent["split"] == blind_split).to_numpy()
    if not blind.any():
        raise ValueError(f"no {blind_split} rows in data/urgent/urgent.jsonl")
    worn = urgent["split"].isin(worn_splits(blind_split)).to_numpy()
    shipped, candidate = SignalHeads.load(shipped_dir), SignalHeads.load(candidate_dir)
    whole_heads = not same_encoder(shipped, candidate)
    held = (repeat["split"] == "validation").to_numpy()
    frame, rep = urgent[blind | worn].reset_index(drop=True), repeat[held].reset_index(drop=True)
    texts = frame["text"].tolist() + rep["text"].tolist()
    n = len(frame)
    in_blind = (frame["split"] == blind_split).to_numpy()
    comments = (rep["source"] == "comments").to_numpy()
    y_repeat = rep["repeat_contact"].astype(bool).to_numpy()

    def figures(scores: UrgentScores, t: float, ts: float | None, own_repeat: bool) -> dict:
        f = flagged(scores, t, ts)
        out = {"thresholds": {"urgent": t, "urgent_span": ts},
               "blind": blind_figures(frame[in_blind], f[:n][in_blind]),
               "comments_flag_rate": round(float(f[n:][comments].mean()), 4)}
        if own_repeat:
            out["repeat_f1"] = {source: round(float(f1_score(y_repeat[m], scores.repeat[n:][m], zero_division=0)), 4)
                                for source, m in (("comments", comments), ("written", ~comments))}
        return out

    name = "J" if whole_heads else "K"
    s_scores, c_scores = urgent_scores(shipped, texts), urgent_scores(candidate, texts)
    out = {"blind_split": blind_split, "worn_splits": list(worn_splits(blind_split)), "whole_heads": whole_heads,
           "shipped": figures(s_scores, shipped.thresholds["urgent"], shipped.thresholds.get("urgent_span"),
                              whole_heads),
           f"{name}1": figures(c_scores, candidate.thresholds["urgent"], candidate.thresholds.get("urgent_span"),
                               whole_heads)}
    cat = frame["category"].to_numpy()
    negative = (cat == "none") & (frame["negative_tone"] == True).to_numpy()  # noqa: E712
    on_worn = np.r_[~in_blind, np.zeros(len(rep), bool)]
    if not candidate.settings.get("train_on"):  # heads trained on the worn splits: recalibrating there is in-sample
        recalibrated = recalibrate(c_scores.subset(on_worn), (cat != "none")[~in_blind], negative[~in_blind],
                                   candidate.urgent_span is not None)
        out[f"{name}2"] = figures(c_scores, recalibrated["urgent"], recalibrated.get("urgent_span"), whole_heads)
        out[f"{name}2"]["calibration"] = recalibrated
    judged = {"confirm": (f"{name}2",), "blind7": (f"{name}1",), "registers": (f"{name}1",),
              "dominates": (f"{name}1",)}.get(
        rule, (f"{name}1", f"{name}2"))
    winner, reasons = rule_verdict({k: out[k] for k in judged}, out["shipped"], rule)
    out["rule"], out["verdict"], out["reasons"] = rule, winner, reasons
    return out


def test_figures(heads: SignalHeads) -> dict:
    """urgent_metrics of heads on the test split (read only after the decision)."""
    from synpunkt.signals.data import urgent_data
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.metrics import urgent_metrics

    urgent = urgent_data()
    test = urgent[urgent["split"] == "test"].reset_index(drop=True)
    return urgent_metrics(test, Detector(heads).detect(test["text"].tolist()))


def chosen_heads(result: dict, name: str, shipped: SignalHeads, candidate: SignalHeads, note: dict) -> SignalHeads:
    """The heads candidate `name` of a judge() result stands for (pure): the candidate's urgent heads swapped into
    the shipped ones, or, for whole-head candidates, the candidate itself; with that version's thresholds."""
    t = result[name]["thresholds"]
    thresholds = {"urgent": t["urgent"], **({"urgent_span": t["urgent_span"]} if t["urgent_span"] is not None else {})}
    if not result["whole_heads"]:
        return replace_urgent_heads(shipped, candidate, thresholds, note)
    settings = copy.deepcopy(candidate.settings)
    settings["thresholds"] = {**settings["thresholds"], **thresholds}
    settings["urgent_retrain"] = note
    return SignalHeads(candidate.urgent, candidate.repeat, settings, candidate.urgent_span)


def installed_evaluation(candidate: dict, shipped: dict, heads: SignalHeads, keep_repeat: bool = True) -> dict:
    """evaluation.json of heads installed by `install` (pure): the candidate's entries (its urgent head and
    thresholds are the installed ones), with `keep_repeat` the shipped heads' repeat entries (their repeat head
    stays), and version, thresholds and the note from `heads`."""
    out = copy.deepcopy(candidate)
    if keep_repeat:
        out.update({k: copy.deepcopy(v) for k, v in shipped.items() if k.startswith("repeat_")})
        out["summary"] = {**candidate["summary"],
                          **{k: v for k, v in shipped["summary"].items() if k.startswith("repeat_")}}
    out["version"], out["thresholds"] = heads.version, dict(heads.thresholds)
    out["urgent_retrain"] = heads.settings["urgent_retrain"]
    return out


def same_repeat_head(a: SignalHeads, b: SignalHeads) -> bool:
    """Whether both heads have the same repeat head (arrays, threshold and layers)."""
    arrays = ("mean", "scale", "coef", "intercept")
    return (all(np.array_equal(getattr(a.repeat, k), getattr(b.repeat, k)) for k in arrays)
            and a.thresholds["repeat_contact"] == b.thresholds["repeat_contact"]
            and list(a.head_layers["repeat"]) == list(b.head_layers["repeat"]))


def _evaluation(directory: Path) -> dict:
    return json.loads((Path(directory) / "evaluation.json").read_text(encoding="utf-8"))


def install(result: dict, name: str, candidate_dir: Path, shipped_dir: Path = SIGNALS_DIR) -> SignalHeads:
    """Install the winner `name` of a judge() result into shipped_dir: the heads (chosen_heads), evaluation.json
    (installed_evaluation) and the card (hand-written sections kept). Refuses a candidate that did not win, and
    checks that the written repeat head is the shipped one."""
    from synpunkt.signals.card import write_card

    if result["verdict"] != name:
        raise ValueError(f"{name} did not win on {result['blind_split']} (verdict: {result['verdict']}); nothing "
                         "written")
    shipped, candidate = SignalHeads.load(shipped_dir), SignalHeads.load(candidate_dir)
    note = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "blind_split": result["blind_split"],
            "rule": result["rule"], "candidate": name, "candidate_version": candidate.version,
            "blind": {k: result[k]["blind"] for k in ("shipped", name)},
            "command": " ".join(["synpunkt train-signals --output-dir DIR",
                                 *([f"--calibration-pool {candidate.settings['calibration_pool']}"]
                                   if candidate.settings.get("calibration_pool") else []),
                                 *(f"--train-on {split}" for split in candidate.settings.get("train_on", [])),
                                 f"--seed {candidate.settings.get('seed', 42)}"])
                       + f" && python -m synpunkt.signals.urgent_retrain --candidate DIR --blind {result['blind_split']} "
                         f"--rule {result['rule']} --install {name}"}
    heads = chosen_heads(result, name, shipped, candidate, note)
    evaluation = installed_evaluation(_evaluation(candidate_dir), _evaluation(shipped_dir), heads,
                                      keep_repeat=not result["whole_heads"])
    heads.settings["test_summary"] = evaluation["summary"]
    old_card = (Path(shipped_dir) / "README.md").read_text(encoding="utf-8")
    heads.save(Path(shipped_dir))
    if not result["whole_heads"] and not same_repeat_head(SignalHeads.load(shipped_dir), shipped):
        raise RuntimeError("the written repeat head differs from the shipped one")
    (Path(shipped_dir) / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n", encoding="utf-8")
    write_card(Path(shipped_dir), heads.settings, evaluation, keep_from=old_card)
    return heads


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidate", type=Path, required=True, help="a folder written by synpunkt train-signals")
    parser.add_argument("--blind", required=True, choices=BLIND_SPLITS, help="the fresh batch that decides")
    parser.add_argument("--rule", choices=tuple(RULES), default="blind4", help="the fixed rule that decides")
    parser.add_argument("--shipped-dir", type=Path, default=SIGNALS_DIR)
    parser.add_argument("--test", action="store_true", help="also the test split (only after the decision)")
    parser.add_argument("--install", metavar="NAME", help="write the winner NAME (K1, K2, J1, J2) into --shipped-dir")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    result = judge(args.shipped_dir, args.candidate, args.blind, args.rule)
    if args.test:
        shipped, candidate = SignalHeads.load(args.shipped_dir), SignalHeads.load(args.candidate)
        result["test"] = {"shipped": test_figures(shipped)}
        for name in [k for k in result if k[0] in "JK" and k[1:] in ("1", "2")]:
            note = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}
            result["test"][name] = test_figures(chosen_heads(result, name, shipped, candidate, note))
    print(json.dumps(result, indent=1))
    if args.install:
        heads = install(result, args.install, args.candidate, args.shipped_dir)
        print(f"installed {args.install} into {args.shipped_dir} as {heads.version}")


if __name__ == "__main__":
    main()

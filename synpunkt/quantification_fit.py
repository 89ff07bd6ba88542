"""The ``synpunkt fit-shares`` command (also ``synpunkt evaluate --quantification``): held-out predictions of a
model in, its share corrections (quantification.json) and the model card's section on corrected shares out. The
choosing, fitting and checking is synpunkt.quantification_eval; this module is its I/O edge and its text."""

from __future__ import annotations

from pathlib import Path

from synpunkt import quantification as Q
from synpunkt import quantification_em as EM
from synpunkt.labels import SENTIMENTS
from synpunkt.quantification_eval import (COVERAGE_REPS, CROSS_FIT_REPEATS, HEADS, MIN_SOURCE_CLASS_ROWS,
                                          MIN_SOURCE_ROWS, MIN_SOURCES, NAMED_MIXES, fit_heads, predict_heldout)


def fit_shares(model_dir: Path | None = None, in_domain: Path | None = None, independent: Path | None = None,
               seed: int = 0) -> dict:
    """Fit and evaluate the share corrections for a model; write quantification.json and the card section."""
    from synpunkt.classifier import Classifier
    from synpunkt.config import IN_DOMAIN_DATA, INDEPENDENT_TEST_DATA, model_dir as default_model_dir
    from synpunkt.data import load_in_domain
    from synpunkt.model_card import write_card_section

    model_dir = Path(model_dir or default_model_dir())
    clf = Classifier.load(model_dir)
    data = load_in_domain(in_domain or IN_DOMAIN_DATA)
    frames = {"validation": data[data.split == "validation"], "in_domain_test": data[data.split == "test"]}
    indep = Path(independent or INDEPENDENT_TEST_DATA)
    if indep.exists():
        frames["independent_test"] = load_in_domain(indep)
    arrays = {name: predict_heldout(clf, f.reset_index(drop=True)) for name, f in frames.items()}
    heads, evaluation = fit_heads(arrays, clf.version, seed)
    Q.save(model_dir / Q.QUANTIFICATION_FILE, clf.version, heads, evaluation)
    write_card_section(model_dir, "quantification", card_section(evaluation))
    return evaluation


def _binning_text(ev: dict) -> str:
    """How far the warehouse's binned EM is from EM on every comment, per head using EM."""
    errors = [f"{ev[h]['binning_max_error_pp']:.4f} ({h})" for h in HEADS if "binning_max_error_pp" in ev.get(h, {})]
    return (f"; on the test sets' samples it differs from EM on every comment by at most {', '.join(errors)} "
            "percentage points") if errors else ""


_SELECTION_TEXT = ("A validation-only comparison by nested cross-fitting (`synpunkt/quantification_select.py`: each "
                   "calibration fitted on one part of validation, the coverage of batches drawn from the other part, "
                   "40 random halves and the largest pass against the rest, both ways round) puts random halves "
                   "nearest 95 % (93.5-95.4 %, grouped 97-99 %)")
_SCHEME_TEXT = {
    "random_halves": "The stored factors are the **random halves'**: " + _SELECTION_TEXT + ".",
    "source_grouped": ("The stored factors are the **source-grouped** ones. " + _SELECTION_TEXT + ", but on the "
                       "independently written test set the random halves' intervals were too narrow (the table "
                       "below: under 90 % at 400 and 1,500 comments), so the grouped factors, which over-cover, are "
                       "kept: a too-narrow interval reports changes that are the classifier's (the model's NOTES.md)."),
    "source_grouped_pool_adjusted": "The stored factors are the **pool-adjusted** ones. " + _SELECTION_TEXT + "."}


def _factors_text(n, shares, net) -> str:
    return ", ".join(f"{a}: {b:.3f} / {c:.3f}" for a, b, c in zip(n, shares, net))


def _rows_text(sources: dict) -> str:
    rows = sorted(s["rows"] for s in sources.values())
    return f"{rows[0]} to {rows[-2]} rows, the largest {rows[-1]}" if len(rows) > 2 else f"{rows[0]} to {rows[-1]} rows"


def _calibration_text(cal: dict, vc: dict) -> str:
    """The card's paragraph on one head's interval calibration and its check on validation."""
    grouped = "grouped" in cal  # the sources allowed grouping: every calibration was computed
    scheme = {"random_halves": "random 2-fold halves of validation", "source_grouped": "source-grouped cross-fitting",
              "source_grouped_pool_adjusted": "source-grouped cross-fitting, pool-adjusted"}[cal.get("scheme",
                                                                                                "random_halves")]
    scheme += "" if grouped else " (too few sources for grouping)"
    text = (f"Interval widening calibrated by {scheme} (batch size: shares / net score): "
            + _factors_text(cal["n"], cal["shares"], cal["net_score"])
            + ("; held-out sources' coverage before widening: " if grouped else "; coverage before widening: ")
            + ", ".join(f"{n}: {c:.1%}" for n, c in zip(cal["n"], cal["shares_uncalibrated_coverage"])) + ".")
    if grouped:
        rh = cal["random_halves"]
        text += (" Held-out sources (rows; shares' 95 % stretch at " + " / ".join(map(str, cal["n"])) + "): "
                 + "; ".join(f"{name} ({s['rows']}; " + " / ".join(f"{v['stretch_q95']:.2f}"
                                                                   for v in s["shares"].values()) + ")"
                             for name, s in cal["sources"].items())
                 + ". Random halves give " + _factors_text(cal["n"], rh["shares"],
                                                                                          rh["net_score"])
                 + ". Random validation pools of the same sizes, held out the same way, need a 95 % stretch of "
                 + " / ".join(f"{v:.2f}" for v in cal["size_matched_random"]["shares_raw"])
                 + " (shares): " + ("held-out sources need no more than that, so the grouped factors mostly allow "
                                    f"for the held-out pools' small size ({_rows_text(cal['sources'])}), which "
                                    "over-covers a larger pool" if all(g <= m * 1.05 for g, m in zip(
                                        cal["grouped"]["shares"], cal["size_matched_random"]["shares_raw"]))
                                    else "the excess over that is the sources' own difference")
                 + "; with the pool size taken out (sqrt(halves^2 + grouped^2 - size-matched^2), pool_adjusted) "
                 + _factors_text(cal["n"], cal["pool_adjusted"]["shares"], cal["pool_adjusted"]["net_score"])
                 + "; the plain source-grouped factors " + _factors_text(cal["n"], cal["grouped"]["shares"],
                                                                       cal["grouped"]["net_score"]) + ".")
    spread = "; ".join(f"{n}: {c['mean']:.1%} ({c['p10']:.0%} / {c['median']:.0%} / {c['p90']:.0%}; "
                       f"{c['pools_in_93_97']:.0%})" for n, c in vc["sizes"].items())
    if vc["scheme"] == "source_grouped":
        loo = "; ".join(f"{n}: {c['mean']:.1%}" for n, c in vc["leave_one_out"].items())
        return (text + "\n\nCheck on validation with fresh batches from each held-out source (one source = one "
                "pool; the stored widening's calibration saw these rows, so this is in-sample): coverage of "
                "the shares, mean over sources (10th percentile / median / 90th percentile; share of sources within "
                f"93-97 %): {spread}. With each source's widening calibrated by the grouped rule on the other sources "
                f"only (leave one source out): {loo}. A test set is one pool: at large batches its coverage is "
                "that of one draw from this spread."
                + (" Under the random halves' widening these single passes (" + _rows_text(cal["sources"]) + ") "
                   "are covered less: a pool smaller than the fitting set deviates more than the intervals allow "
                   "for; held out as halves of validation (pools of the fitting part's size) its coverage is the "
                   "one the choice used (NOTES.md)." if cal.get("scheme") == "random_halves" else ""))
    return (text + "\n\nCheck on fresh 2-fold splits of validation (not the calibration's; one held-out half = one "
            "pool of comments): coverage of the shares, mean over halves (10th percentile / median / 90th "
            f"percentile; share of halves within 93-97 %): {spread}. A test set is one pool: at large batches its "
            "coverage is that of one draw from this spread.")


def card_section(ev: dict) -> str:
    """The model card's section on corrected shares (how they are made; tables of MAE and coverage)."""
    lines = ["## Corrected shares (quantification)", "",
             "Published shares are corrected for the classifier's errors (`synpunkt/quantification.py`), with the "
             "labelled in-domain validation split as the only fitting data (the public sentiment sets were tried "
             "as extra fitting data and rejected: their confusion rates are another domain's, and fitted on them "
             "the corrections' cross-fitted error on in-domain validation was 3 to 6 times larger).", "",
             f"- **Choice of method**, on validation only: {ev.get('cross_fit_repeats', CROSS_FIT_REPEATS)} random "
             f"2-fold splits, each half resampled to {ev['mixes']} class mixes with the correction fitted on the "
             "other half. Each method's error is split into bias (mean signed error per mix and class) and "
             "variance; the method with the lowest MAE predicted for a correction fitted on the whole split and "
             "applied to an independent set of that size (bias kept, variance halved) is chosen among classify-and-"
             "count (CC), adjusted CC (ACC: the confusion matrix inverted), probabilistic ACC (PACC: the same with "
             "the probabilities) and EM. Plain classify-and-count has a bias that does not shrink with more "
             "labelled data; the corrections have little.",
             "- **EM** (Saerens, Latinne and Decaestecker 2002) re-weights each comment's probabilities from the "
             "fitting set's class mix to the batch's until the mix is a fixed point (the maximum-likelihood mix). "
             "It assumes calibrated probabilities: temperature scaling alone leaves per-class miscalibration that "
             "EM turns into bias, so EM runs on probabilities recalibrated with bias-corrected temperature scaling "
             "(BCTS, Alexandari, Kundaje and Shrikumar 2020: softmax(a log p + b), a and the per-class b fitted by "
             "maximum likelihood on the validation rows; `synpunkt/quantification_em.py`). The warehouse computes it "
             "from counts and mean log-probability ratios per group and cell of width "
             f"{EM.CELL_WIDTH:g} in those ratios (an SQL GROUP BY)" + _binning_text(ev) + ".",
             "- **Intervals** (CC, ACC, PACC): 95 % percentile intervals of a bootstrap with three parts: the "
             "batch's comments (sampling error), the correction refitted on a bootstrap resample of the validation "
             "split (its fit uncertainty), and the batch's own error rates, which may differ from the fitting set's "
             "as much as an independent labelled set of the same size (a second bootstrap matrix moves the batch's "
             "predicted shares: the correction's error on other comments). **EM's** intervals have the same three "
             "parts, linearised: the estimate's sampling covariance from the likelihood's observed information, and "
             "its derivatives in the calibration and the fitting mix times the spread of their bootstrap replicates "
             "(one replicate for the fit, an independent one for the batch's own calibration). Each side is then "
             "widened by a factor per batch size (interpolated in log size) so that 95 % of held-out validation "
             "batches' intervals contain the true share. The validation rows come from several separately written "
             f"passes (the id prefix). Three calibrations are computed: **random halves** (the correction fitted on "
             "a random half of the rows, batches drawn from the other half), **source-grouped** (each pass with at "
             f"least {MIN_SOURCE_ROWS} rows and {MIN_SOURCE_CLASS_ROWS} of every class, smaller ones merged, held "
             "out in turn, the correction fitted on the others, every pass weighing the same) and **pool-adjusted** "
             "(the grouped factors with the part due to the held-out passes' small size taken out, measured on "
             "random pools of the same sizes: sqrt(halves^2 + grouped^2 - size-matched^2)). A held-out pass of 70 "
             "rows is a small pool whose own deviation from the fitting rows all its batches share, so the grouped "
             "factors grow with the batch size although the passes differ no more than random pools of their size "
             f"do. {_SCHEME_TEXT.get(ev.get('widening_scheme', ''), '')} With fewer than {MIN_SOURCES} passes the "
             "random halves are used. The method is chosen on random halves.",
             f"- **Measured** on the test sets resampled to the same mixes ({ev['reps']} samples of {ev['sample_n']} "
             "per mix; MAE in percentage points), and coverage: the share of simulated batches (multinomial at "
             f"each mix, {COVERAGE_REPS} per mix and size) whose interval contains the true share. Neither test set "
             "is used to fit or choose anything. A test set is one pool of comments: batches drawn from it share "
             "its own deviation from the fitting set, which the intervals allow for as for a set of the fitting "
             "set's size; a smaller pool deviates more, so at large batches its coverage can fall below 95 %.", "",
             f"Fitted for model version `{ev['model_version']}`; a file fitted for another version is ignored "
             "(the warehouse then falls back to classify-and-count). Reproduce with `synpunkt fit-shares`.", ""]
    for head in [h for head in HEADS for h in (head, head + Q.LABELS_SUFFIX) if h in ev]:
        h = ev[head]
        cf, cal = h["validation_cross_fit"], h["interval_calibration"]
        note = (f" for the groups whose per-topic predictions were stored without probabilities (before they were "
                f"kept); the others use {ev[head[:-len(Q.LABELS_SUFFIX)]]['method'].upper()}"
                if head.endswith(Q.LABELS_SUFFIX) else "")
        bcts = (f"BCTS on the validation rows: a = {h['calibration'][0]:.3f}, b = ("
                + ", ".join(f"{b:.3f}" for b in h["calibration"][1:]) + ") for classes "
                + ", ".join(SENTIMENTS[1:]) + " against positive." if h.get("calibration") else "")
        lines += [f"### {head}: {h['method'].upper()} (fitted on {h['n_fit']} validation rows){note}", "",
                  *([bcts, ""] if bcts else []),
                  "| set | " + " | ".join(m.upper() for m in Q.METHODS) + " | 79/4/17 CC -> chosen | 30/20/50 CC -> chosen |",
                  "|---" * (len(Q.METHODS) + 3) + "|",
                  "| validation, 2-fold cross-fitted | " + " | ".join(f"{cf[m]['mae_pp']:.2f}" for m in Q.METHODS) + " | | |",
                  "| validation, bias (mean abs) | " + " | ".join(f"{cf[m]['bias_pp']:.2f}" for m in Q.METHODS) + " | | |",
                  "| validation, predicted (selection) | " + " | ".join(f"{cf[m]['predicted_mae_pp']:.2f}"
                                                                     for m in Q.METHODS) + " | | |"]
        for name, t in h["test"].items():
            named = [f"{t['cc'].get(f'mae_pp.{k}', float('nan')):.2f} -> {t[h['method']].get(f'mae_pp.{k}', float('nan')):.2f}"
                     for k in NAMED_MIXES]
            lines.append(f"| {name} | " + " | ".join(f"{t[m]['mae_pp']:.2f}" for m in Q.METHODS) + " | "
                         + " | ".join(named) + " |")
        topics = [(name, topic, r) for name, t in h["test"].items() for topic, r in t.get("per_topic", {}).items()
                  if not head.endswith(Q.LABELS_SUFFIX)]  # the same table as the head's own
        if topics:
            lines += ["", "Per topic (test MAE in percentage points, 10 samples per mix; topics with 20 or more rows):",
                      "", "| set | topic | " + " | ".join(m.upper() for m in Q.METHODS) + " |",
                      "|---" * (len(Q.METHODS) + 2) + "|"]
            lines += [f"| {name} | {topic} | " + " | ".join(f"{r[m]['mae_pp']:.2f}" for m in Q.METHODS) + " |"
                      for name, topic, r in topics]
        lines += ["", _calibration_text(cal, h["validation_coverage"]), "",
                  "| set | batch size | coverage, shares | positive | skeptical | negative | net score | "
                  "before widening (shares / net) | mean width (pp) |", "|---|---|---|---|---|---|---|---|---|"]
        for name, cov in h["coverage"].items():
            for n, c in cov.items():
                lines.append(f"| {name} | {n} | {c['shares']:.1%} | {c['positive']:.1%} | {c['skeptical']:.1%} | "
                             f"{c['negative']:.1%} | {c['net_score']:.1%} | {c['shares_unwidened']:.1%} / "
                             f"{c['net_score_unwidened']:.1%} | {c['mean_width_pp']:.1f} |")
        alt = [(name, n, c["alternatives"]) for name, cov in h["coverage"].items() for n, c in cov.items()
               if c.get("alternatives")]
        if alt:
            names = list(alt[0][2])
            lines += ["", "The same batches under each calibration's widening (coverage of the shares / net score, "
                      "mean width of the shares' intervals in pp):", "",
                      "| set | batch size | " + " | ".join(n.replace("_", " ") for n in names) + " |",
                      "|---" * (len(names) + 2) + "|"]
            lines += [f"| {name} | {n} | " + " | ".join(f"{a[k]['shares']:.1%} / {a[k]['net_score']:.1%} / "
                                                         f"{a[k]['mean_width_pp']:.1f}" for k in names) + " |"
                      for name, n, a in alt]
        lines.append("")
    return "\n".join(lines)

"""The report's appendix, "About the figures": how comments are classified and tested, how municipalities are
ranked and compared, the model's measured accuracy and the submission figures, in plain language.

Nothing here names a server path, a file or a command line: the report is for the public. Operators find how
a report was made in the run's log and in the folder's index.json.
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup

from synpunkt.labels import ALL_TOPICS
from synpunkt.report.context import Report
from synpunkt.report.queries import (MIN_PEER_GROUP, correction_methods, current_model_version, model_evaluation,
                                     quality_counts, review_accuracy, year_shares)
from synpunkt.report.statistics import MIN_RANK_N, MIN_TEST_N
from synpunkt.report.templating import bold, render


def _f1(rep: Report, value, ci, target) -> Markup:
    """0,91 (95 % KI 0,88–0,94); mål 0,85: uppnått."""
    fmt = rep.fmt
    if value is None:
        return Markup(fmt.num(None))
    text = bold(fmt.num(value, 2))
    if ci:
        text += Markup(" ({} {}–{})").format(rep.t("ci_short"), fmt.num(ci[0], 2), fmt.num(ci[1], 2))
    if target:
        met = rep.t("m_met") if target.get("met") else rep.t("m_not_met")
        text += Markup("; ") + rep.t("m_target", target=fmt.num(target["target"], 2), met=met)
    return text


def section_method(rep: Report) -> Markup:
    """The appendix: method in plain language, the model's evaluation and the submission figures."""
    fmt = rep.fmt
    version = current_model_version(rep.con)
    ev = model_evaluation(rep.model_dir, version)
    facts: list[tuple[Markup, Markup | str]] = [(rep.t("m_model"), Markup("<code>{}</code>").format(version or "–"))]
    notes: list[Markup] = []
    if ev.get("found"):
        facts.append((rep.t("m_sentiment_f1"), _f1(rep, ev["sentiment_macro_f1"], ev["sentiment_macro_f1_ci"],
                                                   ev.get("sentiment_target"))))
        facts.append((rep.t("m_topic_f1"), _f1(rep, ev["topic_micro_f1"], ev["topic_micro_f1_ci"],
                                               ev.get("topic_target"))))
        notes.append(rep.t("m_eval_note_two" if ev.get("n_sets", 1) > 1 else "m_eval_note", n=fmt.int(ev.get("n")),
                           date=fmt.date(ev.get("date"))))
        if ev.get("topic_micro_f1") is not None and ev.get("sentiment_macro_f1") is not None and \
                ev["topic_micro_f1"] < ev["sentiment_macro_f1"]:
            notes.append(rep.t("m_topic_caveat"))
        if version and ev.get("eval_version") and ev["eval_version"] != version:
            notes.append(rep.t("m_eval_other", eval_version=ev["eval_version"], version=version))
    else:
        notes.append(rep.t("m_no_eval"))
    reviewed = review_accuracy(rep.con, rep.code, version)
    if reviewed["n_reviewed"]:
        facts.append((rep.t("m_review"), rep.t("m_review_value", acc=fmt.pct(reviewed["accuracy"]),
                                               lo=fmt.pct(reviewed["accuracy_lo"]), hi=fmt.pct(reviewed["accuracy_hi"]),
                                               n=fmt.int(reviewed["n_reviewed"]))))
    else:
        facts.append((rep.t("m_review"), rep.t("m_review_none")))
    methods = correction_methods(rep.con, rep.year, rep.code)
    if methods:
        facts.append((rep.t("m_correction"), "; ".join(rep.s["correction_methods"].get(m, m) for m in methods)))
    shares = year_shares(rep.con, rep.year, rep.code)
    n_year = int(shares[shares["topic"] == ALL_TOPICS]["n"].sum()) if not shares.empty else 0
    q = quality_counts(rep.con, rep.code)
    reasons = ", ".join(f"{rep.s['reasons'].get(code, code)} {fmt.int(n)}" for code, n in q["reasons"])
    facts += [
        (rep.t("m_comments", year=rep.year), fmt.int(n_year)),
        (rep.t("m_comments_all"), fmt.int(q["comments_all_years"])),
        (rep.t("m_batches"), fmt.int(q["batches"])),
        (rep.t("m_rows"), f"{fmt.int(q['rows_received'])} / {fmt.int(q['rows_accepted'])} / "
                          f"{fmt.int(q['rows_quarantined'])}"),
        (rep.t("m_reasons"), reasons or rep.text("m_none")),
        (rep.t("m_failed"), fmt.int(q["failed_batches"])),
        (rep.t("m_data_as_of"), fmt.datetime(q["data_as_of"])),
        (rep.t("m_generated"), fmt.datetime(datetime.now())),
    ]
    return render("appendix.html.j2", rep=rep, facts=facts, notes=notes, min_rank=MIN_RANK_N, min_test=MIN_TEST_N,
                  min_group=MIN_PEER_GROUP)

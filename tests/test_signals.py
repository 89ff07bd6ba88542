"""Urgent comments and repeat contacts (issue 9): rules, the shipped heads, storage, notification, the alerts
API and CLI, and the marts, through a real pipeline run."""

from __future__ import annotations

import json
import logging
import stat

import duckdb
import numpy as np
import pandas as pd
import pytest

from synpunkt.signals.detect import decide
from synpunkt.signals.rules import rule_category
from synpunkt.signals.store import alert_id, signal_rows

# Clear cases written for these tests (not from data/urgent). The first of each category is caught by a rule;
# the second has no rule phrase, so only the shipped head can catch it.
CLEAR = {
    "threat": ["Om ni inte betalar ut pengarna på fredag kommer jag till kontoret och skjuter er allihop.",
               "Jag har köpt ett vapen nu. Resten får ni räkna ut själva när ni stänger mitt ärende igen."],
    "self_harm": ["Om ni tar ifrån mig lägenheten vill jag inte leva längre. Jag har inget kvar.",
                  "Jag har sparat ihop tabletter i flera veckor och skrivit brev till min syster. Ingen kommer att "
                  "sakna mig när det är gjort."],
    "violence_close_relationship": ["Min sambo slår mig när han har druckit och jag vågar inte gå hem i kväll.",
                                    "Grannens pojke på fem år är ensam hemma varje natt, han har blåmärken på "
                                    "armarna och säger att mamma blir arg och låser in honom i garderoben."],
}
ANGRY_NOT_URGENT = [
    "Ni är totalt inkompetenta. Jävla byråkrater, skäms på er!",
    "Det här bygglovet tar livet av mig. Fem kompletteringar och fortfarande inget beslut.",
    "Jag skjuter upp ansökan till nästa år eftersom ingen på förvaltningen kan svara på en enkel fråga.",
    "Om ni inte svarar inom en vecka anmäler jag er till JO och går till tidningen.",
    "Det slår mig att ingen på kontoret bryr sig. Jag orkar inte mer med er byråkrati.",
    "Ni har skjutit er själva i foten med den nya parkeringsavgiften, fy fan vad dåligt.",
]


def test_rules_catch_unmistakable_phrases_and_ignore_idioms():
    assert rule_category(CLEAR["threat"][0]) == "threat"
    assert rule_category(CLEAR["self_harm"][0]) == "self_harm"
    assert rule_category(CLEAR["violence_close_relationship"][0]) == "violence_close_relationship"
    assert rule_category("Jag ska ta livet av mig om ni vräker mig.") == "self_harm"
    assert rule_category("Min exman har sagt att han ska döda mig om jag söker vårdnaden.") == \
        "violence_close_relationship"  # a threat by someone close is violence in a close relationship
    for text in ANGRY_NOT_URGENT + ["Jag ska slå ihjäl lite tid på biblioteket.",
                                    "När jag var 20 hade jag självmordstankar, nu är jag 45 och frisk."]:
        assert rule_category(text) is None, text


# Written for these tests (not from data/urgent): unmistakable phrases the rules catch, and look-alikes they leave
# to the head (idioms, lawful pressure, danger that is over, weapons in a harmless context).
RULE_HITS = {
    "threat": ["Om ni inte ringer i dag kommer jag ner till kontoret med kniven.",
               "Nästa gång står jag i receptionen med bössan, ni är varnade.",
               "Bygglovshandläggaren ska få en kula i huvudet.",
               "Det kommer att bli ett blodbad på nämndsmötet om ni lägger ner skolan.",
               "Jag kommer dit och stryper den som skrev beslutet.",
               "If my money is not paid I will kill the social worker."],
    "self_harm": ["Ja orkar int leva längre, ingen bryr sig.",
                  "Min son har börjat rispa sig på armarna igen.",
                  "Mamma har sagt att hon vill dö och slutat äta.",
                  "Jag har köpt rep och skrivit ett brev.",
                  "I keep cutting myself since my benefits stopped."],
    "violence_close_relationship": ["Pappan har skrikit att han ska slå ihjäl ungarna, vi hör dem gråta."],
}
RULE_LOOK_ALIKES = [
    "Det var ett blodbad på föräldramötet när schemat kom.",
    "Jag var beredd att strypa försäljaren som sålde elcykeln, men det är inte ert ansvar.",
    "Kommer ni med kniv och gaffel till julbordet på fritidsgården? Vi bjuder på mat.",
    "Vi kommer med pistolen till skjutbanan på söndag, är banan öppen?",
    "Om ni inte svarar kommer jag till nämndens möte med tjugo grannar och plakat.",
    "Jag försökte ta mitt liv när jag var nitton, i dag är jag frisk och vill bli kontaktperson.",
    "Min pappa drack och slog oss när vi var små. Han har varit död i femton år.",
    "Jag höll på att slå ihjäl mig på den isiga trappan vid biblioteket.",
    "Orkar inte leta mer efter blanketten, var finns den?",
]


@pytest.mark.parametrize("category", sorted(RULE_HITS))
def test_rules_catch_weapons_wounds_and_death_wishes(category):
    for text in RULE_HITS[category]:
        assert rule_category(text) == category, text


def test_rules_leave_idioms_lawful_pressure_and_past_danger_to_the_head():
    for text in RULE_LOOK_ALIKES:
        assert rule_category(text) is None, text


def test_repeat_cues_mark_repeat_phrases_and_not_a_single_wait():
    from synpunkt.signals.repeat_cues import CUES, cue_features

    names = list(CUES)
    cases = {"no_return": "Har ringt om bygglovet men ingen har återkommit.",
             "still_waiting": "Väntar fortfarande på svar sen mars.",
             "my_contacts": "Ingen svarar på mina mejl om fakturan.",
             "every_time": "Samma standardsvar varje gång jag ringer.",
             "time_passed": "Lovade beslut före sommaren. Nu är det november.",
             "ordinal_time": "Det är tredje gången jag hör av mig om gatlyset."}
    for cue, text in cases.items():
        assert cue_features([text])[0, names.index(cue)] == 1.0, cue
    single = cue_features(["Jag ansökte om bygglov i maj och har fått ett beslut i dag."])[0]
    assert not single[[names.index(c) for c in cases]].any()


def test_model_card_names_the_issue_targets_the_test_figures_miss():
    from synpunkt.signals.card import missed_targets

    summary = {"recall_threat": 0.9, "recall_self_harm": 0.97, "recall_violence_close_relationship": 0.95,
               "negative_none_flag_rate": 0.06, "repeat_f1_written": 0.86, "repeat_f1_comments": 0.85}
    assert [m.split()[0] for m in missed_targets(summary)] == ["recall_threat", "negative_none_flag_rate"]


def test_decide_flags_above_threshold_and_lets_rules_override():
    classes = ["none", "self_harm", "threat", "violence_close_relationship"]
    p = np.array([[0.9, 0.04, 0.03, 0.03], [0.2, 0.1, 0.6, 0.1], [0.95, 0.02, 0.02, 0.01]])
    out = decide(p, classes, 0.5, [None, None, "self_harm"])
    assert out["category"].tolist() == [None, "threat", "self_harm"]
    assert out["probability"].tolist() == pytest.approx([0.1, 0.8, 0.9])
    assert out["rule"].tolist() == [False, False, True]


def test_alert_rows_are_one_per_comment_and_category_with_stable_ids():
    comments = pd.DataFrame({"comment_id": ["c1", "c2"], "municipality_code": "0180", "batch_id": "b",
                             "row_number": [1, 2], "external_id": ["Ä-1", None]})
    detected = pd.DataFrame({"category": [None, "threat"], "probability": [0.1, 0.95], "rule": [False, True],
                             "repeat_p": [0.8, 0.1], "repeat_contact": [True, False]})
    signals, alerts = signal_rows(comments, detected, "v")
    assert len(signals) == 2 and signals["repeat_contact"].tolist() == [True, False]
    assert alerts["alert_id"].tolist() == [alert_id("c2", "threat")] and alerts["row_number"].tolist() == [2]
    assert alert_id("c2", "threat") == alert_id("c2", "threat") != alert_id("c2", "self_harm")


@pytest.fixture(scope="module")
def detector():
    from synpunkt.signals.detect import Detector

    return Detector.load()  # the shipped heads in models/signals


def test_shipped_heads_detect_each_category_and_leave_angry_comments_alone(detector):
    texts = [t for c in CLEAR for t in CLEAR[c]] + ANGRY_NOT_URGENT
    out = detector.detect(texts)
    expected = [c for c in CLEAR for _ in CLEAR[c]] + [None] * len(ANGRY_NOT_URGENT)
    assert out["category"].tolist() == expected
    assert not out.loc[[1, 3, 5], "rule"].any()  # the model alone caught the cases without a rule phrase


def test_shipped_heads_detect_repeat_contacts(detector):
    out = detector.detect(["Det här är fjärde gången jag ringer om samma faktura och ingen ringer tillbaka.",
                           "Jag har mejlat tre gånger om bygglovet utan att få svar.",
                           "Jag ringde och fick svar direkt, tack!",
                           "Sopbilen har missat oss igen, tredje gången i år."])
    assert out["repeat_contact"].tolist() == [True, True, False, False]


def test_shipped_heads_evaluation_keeps_the_alert_channel_quiet_and_recall_high():
    """The figures `synpunkt train-signals` recorded on the held-out test split: at most 5 % of non-urgent negative
    comments flagged (issue 9's target) and recall floors below which the heads must not fall (issue 9 asks for
    0.95 / 0.95 / 0.90; models/signals/README.md has the current figures)."""
    from synpunkt.config import DEFAULT_SIGNALS_DIR

    summary = json.loads((DEFAULT_SIGNALS_DIR / "evaluation.json").read_text())["summary"]
    assert summary["negative_none_flag_rate"] <= 0.05  # issue 9's target (2.4 % of 210; 4.8 % before 2026-11-30)
    assert summary["ordinary_comments_flag_rate"] <= 0.02  # 5 of 254 (5 before too, with the span head)
    # Threat and self_harm recall miss issue 9's 0.95: 0.881 and 0.938 on test for the urgent head installed on
    # 2026-11-30 (chosen on a fresh blind batch; 0.821 and 0.985 before). The floors guard against a further fall,
    # not the target (models/signals/README.md); the self_harm floor was 0.95 before that decision.
    assert summary["recall_threat"] >= 0.85 and summary["recall_self_harm"] >= 0.93
    assert summary["recall_violence_close_relationship"] >= 0.90
    assert summary["repeat_f1_written"] >= 0.85 and summary["repeat_f1_comments"] >= 0.70


# -- through the pipeline ----------------------------------------------------------------------------------------
URGENT_TEXT = CLEAR["threat"][0]
REPEAT_TEXT = "Fjärde gången jag ringer om fakturan och ingen ringer tillbaka fast ni lovade."
STHLM, GBG = "0180", "1480"


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _csv() -> bytes:
    df = pd.DataFrame({"ärendenummer": ["KS-2025-101", "KS-2025-102", "KS-2025-103", "KS-2025-104"],
                       "datum": ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"],
                       "kommentar": [URGENT_TEXT, REPEAT_TEXT, "Tack för snabb hjälp med bygglovet.",
                                     "Ni är totalt inkompetenta, skäms på er!"]})
    return df.to_csv(index=False).encode()


def _published(home, sql: str, params=None):
    con = duckdb.connect(str(home / "published" / "synpunkt.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


class _Collect(logging.Handler):
    """Every message logged under `synpunkt` (Prefect's logging setup replaces pytest's capture handler)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def text(self) -> str:
        return "\n".join(self.lines)


def test_urgent_comment_from_the_api_is_alerted_once_routed_and_acknowledged(home, prefect_harness):
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from flows.pipeline import pipeline_flow
    from synpunkt.api import create_app, issue_token
    from synpunkt.cli import app as cli

    client = TestClient(create_app())
    sthlm, gbg = issue_token(STHLM), issue_token(GBG)
    r = client.post(f"/v1/municipalities/{STHLM}/batches", headers={"Authorization": f"Bearer {sthlm}"},
                    files={"file": ("svar.csv", _csv())})
    assert r.status_code == 201
    logged = _Collect()
    logger = logging.getLogger("synpunkt")
    logger.addHandler(logged)
    try:
        pipeline_flow()
    finally:
        logger.removeHandler(logged)
    assert logged.lines, "the pipeline logs its progress"
    assert URGENT_TEXT not in logged.text() and REPEAT_TEXT not in logged.text()

    # one pipeline run: in urgent_comments (published copy) with the case id, and written by the notifier
    rows = _published(home, "SELECT alert_id, municipality_code, row_number, external_id, category, text, "
                            "received_at, acknowledged_at FROM urgent_comments")
    assert len(rows) == 1
    alert, code, row, case, category, text, received, acked = rows[0]
    assert (code, row, case, category, acked) == (STHLM, 1, "KS-2025-101", "threat", None)
    assert text and received is not None
    lines = (home / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(x)["alert_id"] for x in lines] == [alert]
    assert stat.S_IMODE((home / "alerts" / "alerts.jsonl").stat().st_mode) == 0o600
    assert any(alert in line and "threat" in line and STHLM in line for line in logged.lines)  # operator's log

    # repeat contacts: stored per comment and counted in the marts with intervals
    (n, k, share, lo, hi), = _published(home, "SELECT n, n_repeat_contact, share_repeat_contact, "
                                              "share_repeat_contact_lo, share_repeat_contact_hi FROM "
                                              "repeat_contact_shares WHERE municipality_code = ? AND topic = 'all'",
                                        [STHLM])
    assert n == 4 and k >= 1 and lo <= share <= hi
    assert _published(home, "SELECT count(*) FROM comment_signals WHERE repeat_contact")[0][0] == k

    # a re-run (and the same file again) never alerts twice
    client.post(f"/v1/municipalities/{STHLM}/batches", headers={"Authorization": f"Bearer {sthlm}"},
                files={"file": ("svar.csv", _csv())})
    pipeline_flow()
    assert len((home / "alerts" / "alerts.jsonl").read_text().splitlines()) == 1
    assert _published(home, "SELECT count(*) FROM alerts")[0][0] == 1

    # the API: the municipality's own token only
    assert client.get(f"/v1/municipalities/{STHLM}/alerts", headers={"Authorization": f"Bearer {gbg}"}
                      ).status_code == 403
    assert client.post(f"/v1/municipalities/{STHLM}/alerts/{alert}/ack",
                       headers={"Authorization": f"Bearer {gbg}"}).status_code == 403
    assert client.get(f"/v1/municipalities/{GBG}/alerts", headers={"Authorization": f"Bearer {gbg}"}
                      ).json()["alerts"] == []
    assert client.get(f"/v1/municipalities/{STHLM}/alerts").status_code == 401
    listed = client.get(f"/v1/municipalities/{STHLM}/alerts", headers={"Authorization": f"Bearer {sthlm}"}).json()
    assert [a["alert_id"] for a in listed["alerts"]] == [alert] and listed["alerts"][0]["external_id"] == "KS-2025-101"

    # the CLI lists it; acknowledging through the API closes it, the CLI then shows it only with --all
    assert alert in CliRunner().invoke(cli, ["alerts", "--municipality", STHLM]).output
    r = client.post(f"/v1/municipalities/{STHLM}/alerts/{alert}/ack?by=Kim", headers={"Authorization": f"Bearer {sthlm}"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == f"Kim (API, {STHLM})"
    assert r.json()["acknowledged_at"].endswith("+00:00"), "stored as UTC and said so, like received_at"
    again = client.post(f"/v1/municipalities/{STHLM}/alerts/{alert}/ack?by=Bo",
                        headers={"Authorization": f"Bearer {sthlm}"}).json()
    assert again["already_acknowledged"] and again["acknowledged_by"] == f"Kim (API, {STHLM})"
    assert client.get(f"/v1/municipalities/{STHLM}/alerts", headers={"Authorization": f"Bearer {sthlm}"}
                      ).json()["alerts"] == []
    assert alert not in CliRunner().invoke(cli, ["alerts"]).output
    assert alert in CliRunner().invoke(cli, ["alerts", "--all"]).output
    assert client.post(f"/v1/municipalities/{STHLM}/alerts/al-0000000000000000/ack",
                       headers={"Authorization": f"Bearer {sthlm}"}).status_code == 404


def test_cli_acknowledges_an_alert_and_refuses_an_unknown_one(home, prefect_harness):
    from typer.testing import CliRunner

    from flows.pipeline import pipeline_flow
    from synpunkt.cli import app as cli
    from synpunkt.landing import land_bytes

    land_bytes(_csv(), STHLM, "svar.csv", "cli")
    pipeline_flow()
    con = duckdb.connect(str(home / "warehouse" / "synpunkt.duckdb"))
    (alert,), = con.execute("SELECT alert_id FROM alerts").fetchall()
    con.close()
    runner = CliRunner()
    assert runner.invoke(cli, ["alerts", "--ack", alert]).exit_code == 2  # --by is required
    result = runner.invoke(cli, ["alerts", "--ack", alert, "--by", "Operatör Kim"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"acknowledged {alert} by Operatör Kim")
    again = runner.invoke(cli, ["alerts", "--ack", alert, "--by", "Someone Else"])
    assert again.exit_code == 0 and again.output.startswith(f"already acknowledged {alert} by Operatör Kim")
    assert runner.invoke(cli, ["alerts", "--ack", alert, "--by", "X", "--municipality", GBG]).exit_code == 2
    con = duckdb.connect(str(home / "warehouse" / "synpunkt.duckdb"), read_only=True)
    assert con.execute("SELECT acknowledged_by FROM alerts").fetchall() == [("Operatör Kim",)]
    con.close()


def test_webhook_failure_leaves_alerts_for_the_next_run(home, monkeypatch):
    import httpx

    from synpunkt.notify import notify_new_alerts, to_webhook
    from synpunkt.warehouse import connect

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200)

    alert = {"alert_id": "al-1", "municipality_code": STHLM, "batch_id": "b", "row_number": 3, "external_id": None,
             "category": "self_harm", "probability": 0.97, "text": "hemligt", "created_at": "2025-01-01"}
    to_webhook([alert], "http://hook.invalid/x", transport=httpx.MockTransport(handler))
    assert seen[0]["alert_id"] == "al-1" and "text" not in seen[0]  # webhooks never carry the text

    con = connect(home / "w.duckdb")
    con.execute("INSERT INTO alerts (alert_id, comment_id, municipality_code, batch_id, row_number, category, "
                "probability, signals_version, created_at) VALUES ('al-2', 'c', ?, 'b', 1, 'threat', 0.9, 'v', now())",
                [STHLM])
    monkeypatch.setattr("synpunkt.notify.to_webhook", lambda alerts, url: (_ for _ in ()).throw(httpx.ConnectError("x")))
    result = notify_new_alerts(con, webhook="http://hook.invalid/x")
    assert result.failed_channels == ["webhook"] and result.notified == 0
    assert con.execute("SELECT notified_at FROM alerts").fetchall() == [(None,)]
    assert notify_new_alerts(con, webhook="").notified == 1  # the file channel alone delivers it
    assert len((home / "alerts" / "alerts.jsonl").read_text().splitlines()) == 1  # not written twice
    con.close()


def test_report_section_shows_repeat_shares_and_alert_counts_never_texts(home):
    from datetime import date, datetime

    from synpunkt.report.context import Report
    from synpunkt.report.signals import repeat_shares, section_signals
    from synpunkt.warehouse import connect

    con = connect(home / "w.duckdb")
    secret = "Hemlig text som aldrig får synas i rapporten"
    for i in range(20):
        cid = f"c{i}"
        con.execute("INSERT INTO comments (comment_id, batch_id, municipality_code, row_number, contact_date, year, "
                    "text, ingested_at) VALUES (?, 'b', ?, ?, ?, 2025, ?, ?)",
                    [cid, STHLM, i + 1, date(2025, 3, 1), secret, datetime(2025, 3, 2)])
        con.execute("INSERT INTO comment_signals VALUES (?, 'v', NULL, 0.1, false, ?, ?, ?)",
                    [cid, 0.9 if i < 5 else 0.1, i < 5, datetime(2025, 3, 2)])
    for i, category in enumerate(("threat", "threat", "self_harm")):
        con.execute("INSERT INTO alerts (alert_id, comment_id, municipality_code, batch_id, row_number, category, "
                    "probability, signals_version, created_at) VALUES (?, ?, ?, 'b', ?, ?, 0.9, 'v', now())",
                    [alert_id(f"c{i}", category), f"c{i}", STHLM, i + 1, category])
    shares = repeat_shares(con, 2025, STHLM)
    (n, k, share, lo, hi), = shares[shares["topic"] == "all"][["n", "n_repeat_contact", "share", "lo", "hi"]].values
    assert (n, k, share) == (20, 5, 0.25) and lo < 0.25 < hi
    for lang, words in (("sv", ("hot 2", "självskada eller självmordstankar 1", "25")),
                        ("en", ("threats 2", "self-harm or suicidal thoughts 1", "25"))):
        html = str(section_signals(Report(con, 2025, STHLM, lang, home / "w.duckdb")))
        assert all(w in html for w in words), html
        assert secret not in html and 'data-fig="repeat-contacts"' in html
    con.close()


def test_a_retried_chunk_keeps_the_first_alert(home):
    """A failed batch's rows are discarded but its alerts stay; the retry finds them and adds no second one."""
    from synpunkt.warehouse import connect, discard_batch_rows, write_chunk

    con = connect(home / "w.duckdb")
    con.execute("INSERT INTO batches (batch_id, municipality_code, origin, checksum_sha256, received_at, status, "
                "processed_at) VALUES ('b', ?, 'cli', 'x', now(), 'ingesting', now())", [STHLM])
    comments = pd.DataFrame({"comment_id": ["c1"], "municipality_code": [STHLM], "batch_id": ["b"],
                             "row_number": [1], "external_id": [None]})
    detected = pd.DataFrame({"category": ["threat"], "probability": [0.9], "rule": [True], "repeat_p": [0.1],
                             "repeat_contact": [False]})
    _, alerts = signal_rows(comments, detected, "v")
    write_chunk(con, "b", pd.DataFrame(), pd.DataFrame(), 0, 1, None, alerts)
    con.execute("UPDATE alerts SET notified_at = now()")
    discard_batch_rows(con, "b")
    write_chunk(con, "b", pd.DataFrame(), pd.DataFrame(), 0, 1, None, alerts)
    assert con.execute("SELECT count(*), count(notified_at) FROM alerts").fetchall() == [(1, 1)]
    con.close()


def test_windows_are_the_sentences_of_a_longer_text_and_none_for_one_sentence():
    from synpunkt.signals.windows import sentences, window_table, windows

    assert windows("Ni är totalt inkompetenta!") == []
    assert windows("Hej. Jag har köpt ett vapen. Tack!") == ["Hej.", "Jag har köpt ett vapen.", "Tack!"]
    assert windows("Ett. Två.", sizes=(1, 2)) == ["Ett.", "Två."]  # the pair is the whole text, scored anyway
    assert [len(s.split()) for s in sentences(" ".join(["ord"] * 100), max_words=48)] == [48, 48, 4]
    flat, rows = window_table(["En mening.", "Ett. Två.", "A. B. C."])
    assert flat == ["Ett.", "Två.", "A.", "B.", "C."] and rows.tolist() == [1, 1, 2, 2, 2]


def test_max_window_scoring_takes_the_most_urgent_window_and_leaves_single_windows_alone():
    from synpunkt.signals.windows import max_window_probabilities

    whole = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1]])
    per_window = np.array([[0.95, 0.03, 0.02], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4]])
    out = max_window_probabilities(whole, per_window, np.array([1, 1, 1]), none_index=0)
    assert out[0].tolist() == whole[0].tolist()  # no windows: the whole text's probabilities
    assert out[1].tolist() == per_window[1].tolist()  # the window with the lowest p(none), its category too


def test_dilution_diagnostic_embeds_a_passage_at_start_middle_and_end():
    from synpunkt.signals.dilution import embed

    host = "Första. Andra. Tredje. Fjärde."
    assert embed(host, "X.", "start").startswith("X.") and embed(host, "X.", "end").endswith("X.")
    assert embed(host, "X.", "middle") == "Första. Andra. X. Tredje. Fjärde."


def test_window_scoring_recovers_a_threat_diluted_in_a_long_ordinary_letter(detector):
    """Mean pooling over a long letter dilutes a one-sentence threat; max_window scoring keeps its sentence's score
    (the urgent_scoring setting switches the same shipped head between whole-text and window scoring)."""
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.heads import SignalHeads

    letter = ("Jag skriver angående beslutet om bostadsanpassning som kom förra veckan. Vi ansökte i mars om att få "
              "ta bort tröskeln till badrummet och sätta in en dusch i stället för badkaret, eftersom min man sitter "
              "i rullstol sedan stroken. Handläggaren har varit vänlig men beslutet säger att åtgärden inte är "
              "nödvändig. Jag förstår inte hur ni har räknat, och jag har bifogat intyg från arbetsterapeuten två "
              "gånger. {} Jag vill att någon ringer mig och förklarar hur man överklagar.")
    threat = CLEAR["threat"][1]  # no rule phrase: only the head can catch it
    heads = detector.heads
    windowed, whole_text = (Detector(SignalHeads(heads.urgent, heads.repeat, {**heads.settings, "urgent_scoring": s}),
                                     encoder=detector.encoder) for s in ("max_window", "whole"))
    texts = [threat, letter.format(threat)]
    whole, windows = whole_text.detect(texts), windowed.detect(texts)
    assert windowed.windowed and not whole_text.windowed and not windows["rule"].any()
    assert whole["probability"][1] < whole["probability"][0]  # diluted by the letter
    # the urgent heads installed since 2026-11-30 (trained on blind batches with urgent sentences inside long
    # complaints) are diluted less: 0.88 whole-text against 0.97 windowed (2026-11-30), 0.96 against 0.99
    # (2026-12-01; the margin was over 0.1 before): the window keeps the sentence's score whatever the letter
    assert windows["category"][1] == "threat" and windows["probability"][1] > whole["probability"][1]
    assert windows["probability"][1] >= windows["probability"][0] - 0.01


def _random_head(classes: list[str], dim: int, rng: np.random.Generator):
    from synpunkt.signals.heads import LinearHead

    k = 1 if len(classes) == 2 else len(classes)
    return LinearHead(classes, rng.normal(size=dim).astype(np.float32), np.ones(dim, dtype=np.float32),
                      rng.normal(size=(k, dim)).astype(np.float32), rng.normal(size=k).astype(np.float32))


def test_each_head_reads_its_own_layers_from_the_union_the_detector_encodes(tmp_path):
    """The urgent head may use other layers than the repeat head (whose layers its own training chose); the detector
    encodes the union once and gives each head its columns; heads.json records each head's layers."""
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.features import select_layers
    from synpunkt.signals.heads import SignalHeads, union_layers
    from synpunkt.signals.repeat_cues import cue_features

    rng = np.random.default_rng(0)
    hidden, texts = 4, ["Hej.", "Tack för hjälpen.", "Tredje gången jag ringer."]
    all_layers = rng.normal(size=(len(texts), 13, hidden)).astype(np.float32)
    urgent_layers, repeat_layers = (6, 9, 12), (8, 12)
    encoded = union_layers(urgent_layers, repeat_layers)
    assert encoded == (6, 8, 9, 12)
    urgent = _random_head(["none", "self_harm", "threat", "violence_close_relationship"], 3 * hidden, rng)
    repeat = _random_head(["no", "yes"], 2 * hidden + cue_features(texts).shape[1], rng)
    settings = {"version": "v", "layers": list(encoded), "thresholds": {"urgent": 0.5, "repeat_contact": 0.5},
                "head_layers": {"urgent": list(urgent_layers), "repeat": list(repeat_layers)}}
    loaded = SignalHeads.load(SignalHeads(urgent, repeat, settings).save(tmp_path))
    assert loaded.head_layers == {"urgent": urgent_layers, "repeat": repeat_layers} and loaded.encoded_layers == encoded
    out = Detector(loaded).detect_features(select_layers(all_layers, encoded), texts)
    p_urgent = 1 - urgent.probabilities(select_layers(all_layers, urgent_layers))[:, 0]
    p_repeat = repeat.probabilities(np.hstack([select_layers(all_layers, repeat_layers), cue_features(texts)]))[:, 1]
    assert out["probability"].to_numpy() == pytest.approx(p_urgent, abs=1e-3)  # weights stored as float16
    assert out["repeat_p"].to_numpy() == pytest.approx(p_repeat, abs=1e-3)


def test_heads_json_with_one_layer_list_gives_both_heads_those_layers(tmp_path):
    """heads.json written before each head had its own layers (one "layers" list) still loads and detects."""
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.heads import SignalHeads, head_layers
    from synpunkt.signals.repeat_cues import cue_features

    assert head_layers({"layers": [8, 12]}) == {"urgent": (8, 12), "repeat": (8, 12)}
    rng = np.random.default_rng(1)
    texts = ["Hej.", "Fjärde gången jag ringer."]
    urgent = _random_head(["none", "self_harm", "threat", "violence_close_relationship"], 8, rng)
    repeat = _random_head(["no", "yes"], 8 + cue_features(texts).shape[1], rng)
    loaded = SignalHeads.load(SignalHeads(urgent, repeat, {"version": "v", "layers": [8, 12], "thresholds": {
        "urgent": 0.5, "repeat_contact": 0.5}}).save(tmp_path))
    assert "head_layers" not in json.loads((tmp_path / "heads.json").read_text())
    assert loaded.head_layers == {"urgent": (8, 12), "repeat": (8, 12)} and loaded.encoded_layers == (8, 12)
    x = rng.normal(size=(len(texts), 8)).astype(np.float32)
    assert loaded.head_features(x, "urgent") is x
    out = Detector(loaded).detect_features(x, texts)
    assert out["probability"].to_numpy() == pytest.approx(1 - urgent.probabilities(x)[:, 0], abs=1e-3)


def test_sentence_spans_map_to_the_tokens_of_one_encoder_pass():
    """token_spans: the ids are the text's own (as the encoder reads it) and each sentence's span covers exactly
    that sentence's tokens; one sentence gives no spans; spans past the truncation are cut or dropped."""
    from synpunkt.base_model import shared_base
    from synpunkt.fast_tokenize import fast_tokenizer
    from synpunkt.signals.spans import token_spans

    fast = fast_tokenizer(shared_base()[1])
    texts = ["Hej. Jag har köpt ett vapen.\nTack!", "Ni är totalt inkompetenta!", "Ett. " + "ord " * 600 + ". Slut."]
    ids, spans = token_spans(fast, texts, "query: ", 512)
    assert ids == fast.encode(["query: " + t for t in texts], 512)
    first = spans[0]
    assert len(first) == 3 and first[0][1] == first[1][0] and first[-1][1] == len(ids[0]) - len(fast.suffix)
    body = lambda s: fast.encode([s], 512)[0][len(fast.prefix):len(fast.encode([s], 512)[0]) - len(fast.suffix)]
    assert [ids[0][a:b] for a, b in first] == [body("Hej."), body("Jag har köpt ett vapen."), body("Tack!")]
    assert spans[1] == []
    assert max(b for _, b in spans[2]) <= 512 - len(fast.suffix) and len(ids[2]) == 512  # the end is cut off


def test_span_pooling_is_one_matmul_over_the_same_states():
    from synpunkt.signals.spans import flatten, pool

    rng = np.random.default_rng(0)
    states = rng.normal(size=(2, 6, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    whole, parts = pool(states, mask, [[(1, 3), (3, 5)], []])
    np.testing.assert_allclose(whole[0], states[0].mean(0), rtol=1e-6)
    np.testing.assert_allclose(whole[1], states[1, :3].mean(0), rtol=1e-6)  # padding excluded
    np.testing.assert_allclose(parts[0], [states[0, 1:3].mean(0), states[0, 3:5].mean(0)], rtol=1e-6)
    assert parts[1].shape == (0, 3)
    flat, rows = flatten(parts)
    assert flat.shape == (2, 3) and rows.tolist() == [0, 0]


def test_span_head_training_takes_the_most_urgent_span_of_urgent_texts_and_every_span_of_the_others():
    from synpunkt.signals.heads import LinearHead
    from synpunkt.signals.span_head import max_span_urgency, span_threshold, span_training_set

    classes = ["none", "threat"]
    selector = LinearHead(classes, np.zeros(1, np.float32), np.ones(1, np.float32),
                          np.array([[1.0]], np.float32), np.zeros(1, np.float32))  # p(threat) rises with x
    y, w = np.array(["threat", "none"], dtype=object), np.array([1.0, 0.5])
    span_x = np.array([[0.1], [2.0], [-1.0], [3.0], [0.0]], np.float32)
    rows = np.array([0, 0, 0, 1, 1])
    x, ys, ws = span_training_set(y, w, span_x, rows, selector)
    assert x[:, 0].tolist() == [2.0, 3.0, 0.0] and ys.tolist() == ["threat", "none", "none"]
    assert ws.tolist() == [1.0, 0.5, 0.5]
    assert max_span_urgency(selector, span_x, rows, 3)[2] == 0.0  # a text without spans
    p_whole, p_span = np.array([0.2, 0.9, 0.1, 0.1]), np.array([0.97, 0.0, 0.96, 0.2])
    negative = np.array([True, True, True, False])
    # the whole head flags one negative of three already: the span threshold must pass both negative spans
    assert span_threshold(p_whole, p_span, 0.5, negative, np.zeros(4, bool), 0.34) == 0.975
    assert span_threshold(p_whole, p_span, 0.5, negative, np.zeros(4, bool), 0.2) is None  # the whole head alone


def test_span_decision_keeps_the_whole_text_threshold_and_adds_the_span_heads():
    from synpunkt.signals.detect import span_decision

    whole = np.array([[0.3, 0.7], [0.9, 0.1], [0.9, 0.1]])
    span = np.array([[0.5, 0.5], [0.01, 0.99], [0.2, 0.8]])
    p, t = span_decision(whole, span, 0, threshold=0.63, span_threshold=0.95)
    assert p.tolist() == [whole[0].tolist(), span[1].tolist(), whole[2].tolist()]
    assert t.tolist() == [0.63, 0.95, 0.63]
    out = decide(np.hstack([p, np.zeros((3, 2))]), ["none", "threat", "self_harm", "violence_close_relationship"],
                 t, [None, None, None])
    assert out["category"].tolist() == ["threat", "threat", None]


def test_heads_with_a_span_head_save_load_and_flag_by_either_head(tmp_path):
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.heads import SignalHeads
    from synpunkt.signals.repeat_cues import cue_features

    rng = np.random.default_rng(2)
    texts = ["Hej.", "Tack. Jag kommer med kniven."]
    classes = ["none", "self_harm", "threat", "violence_close_relationship"]
    urgent, span = _random_head(classes, 8, rng), _random_head(classes, 8, rng)
    repeat = _random_head(["no", "yes"], 8 + cue_features(texts).shape[1], rng)
    settings = {"version": "v", "layers": [8, 12], "urgent_scoring": "max_span",
                "thresholds": {"urgent": 1.01, "repeat_contact": 0.5, "urgent_span": 0.0}}
    loaded = SignalHeads.load(SignalHeads(urgent, repeat, settings, span).save(tmp_path))
    assert loaded.urgent_span is not None and loaded.urgent_span.classes == classes
    assert SignalHeads.load(SignalHeads(urgent, repeat, settings).save(tmp_path / "no_span")).urgent_span is None
    x, spans = rng.normal(size=(2, 8)).astype(np.float32), rng.normal(size=(2, 8)).astype(np.float32)
    detector = Detector(loaded)
    assert detector.spanned and not detector.windowed
    out = detector.detect_features(x, texts, spans, np.array([1, 1]))
    assert out["category"].isna().tolist() == [True, False]  # only the text with spans, by the span head



def test_withdrawn_alerts_are_told_through_every_channel_and_a_failing_one_is_named(home, monkeypatch):
    import httpx

    from synpunkt.notify import WITHDRAWN_EVENT, notify_withdrawn

    alert = {"alert_id": "al-9", "municipality_code": STHLM, "batch_id": "0180-abc", "row_number": 4,
             "external_id": "KS-1", "category": "threat", "probability": 0.93}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200)

    assert notify_withdrawn([alert], "2026-12-01T10:00:00Z", webhook="http://hook.invalid/x", block="",
                            transport=httpx.MockTransport(handler)) == []
    assert seen == [{"event": WITHDRAWN_EVENT, **alert, "withdrawn_at": "2026-12-01T10:00:00Z"}]
    line = json.loads((home / "alerts" / "alerts.jsonl").read_text().splitlines()[-1])
    assert line["event"] == "withdrawn" and line["alert_id"] == "al-9" and "text" not in line

    monkeypatch.setattr("synpunkt.notify.time.sleep", lambda s: None)  # the webhook's back-off
    failed = notify_withdrawn([alert], "2026-12-01T10:00:00Z", webhook="http://hook.invalid/x", block="",
                              transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    assert failed == ["webhook"]  # the caller tells the operator to inform the municipality
    assert len((home / "alerts" / "alerts.jsonl").read_text().splitlines()) == 2  # the file channel still told
    assert notify_withdrawn([], "2026-12-01T10:00:00Z") == []

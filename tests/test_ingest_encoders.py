"""Ingest's encoder reads (synpunkt.ingest_encoders): the same ids, features and redactions as before, faster.

The fast tokenisation gives the tokenizer's ids; the signal features on each backend equal the torch fp32
reference that the heads were trained on (``all_layers``); the name model's states on ONNX equal torch's; skipping
the name model where the rules decided every word it could mark leaves every redaction as it was; the backend is
chosen as documented. Uses the shipped base encoder and name model (ONNX exports cached under SYNPUNKT_CACHE).
All names and sentences are made up.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from synpunkt.base_model import shared_base
from synpunkt.fast_tokenize import FastTokenizer
from synpunkt.redaction import Redactor
from synpunkt.redaction.names import for_names, is_wordlike, tokenize

LONG = " ".join(["Överförmyndarnämndsförvaltningens handläggning tog tid"] * 60)
TEXTS = [
    "Ring Anna Svensson på 070-123 45 67.",
    "KONTAKTA PETTERSSON ELISABET",
    "Bra 😀 service, tack…",
    "Tab\toch\u00a0hårt  mellanslag,   flera\n\nrader ﬁ ½ Ⅻ ｆｕｌｌ",
    "Kontrolltecken\x01\x1f och \u200b nollbredd",
    "",
    "Handläggaren Qorsho Wiberg ringde aldrig tillbaka om bygglovet.",
    LONG,
    LONG + " Till sist pratade jag med Zainab Oyelaran som hjälpte mig.",
]


@pytest.fixture(scope="module")
def tokenizer():
    return shared_base()[1]


@pytest.fixture(scope="module")
def fast(tokenizer) -> FastTokenizer:
    return FastTokenizer(tokenizer)


def test_fast_normalisation_is_the_tokenizers(fast, tokenizer):
    """Every code point the normaliser replaces, in one string, and spaces around them: the same result."""
    assert fast.fast
    every = "x".join(chr(c) for c in sorted(fast.table)) + "   slut  "
    normalizer = tokenizer.backend_tokenizer.normalizer
    assert fast.normalize(every) == normalizer.normalize_str(every)
    for text in TEXTS:
        assert fast.normalize(text) == normalizer.normalize_str(text)


def test_fast_ids_are_the_tokenizers(fast, tokenizer):
    texts = ["query: " + t for t in TEXTS]
    expected = tokenizer(texts, truncation=True, max_length=512)["input_ids"]
    assert fast.encode(texts, 512) == expected and max(len(x) for x in expected) == 512
    words = list(dict.fromkeys(w for t in TEXTS for w in tokenize(for_names(t))[0]))
    single = tokenizer.backend_tokenizer.encode_batch([[w] for w in words], is_pretokenized=True,
                                                      add_special_tokens=False)
    assert fast.encode_words(words) == [e.ids for e in single]


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_signal_features_equal_the_training_features(backend):
    """encode() (the chosen layers pooled in the graph) equals select_layers(all_layers()) (torch, what the heads
    are trained on) within float tolerance, whatever the batch composition."""
    from synpunkt.signals.features import FEATURE_LAYERS, FeatureEncoder, select_layers

    reference = FeatureEncoder(backend="torch")
    expected = select_layers(reference.all_layers(TEXTS), FEATURE_LAYERS)
    got = FeatureEncoder(backend=backend, batch_size=3).encode(TEXTS)
    assert got.shape == expected.shape == (len(TEXTS), 384 * len(FEATURE_LAYERS))
    np.testing.assert_allclose(got, expected, atol=1e-4 if backend == "onnx" else 1e-5)


@pytest.fixture(scope="module")
def redactors() -> dict[str, Redactor]:
    out = {}
    for backend in ("torch", "onnx"):
        out[backend] = Redactor()
        out[backend].name_model.backend = backend
    return out


def test_name_states_on_onnx_equal_torch_and_unneeded_texts_stay_zero(redactors):
    texts = [for_names(t) for t in TEXTS]
    offsets = [tokenize(t)[1] for t in texts]
    torch_states = redactors["torch"].name_model.word_states(texts, offsets)
    onnx_states = redactors["onnx"].name_model.word_states(texts, offsets)
    for a, b in zip(torch_states, onnx_states):
        np.testing.assert_allclose(b, a, atol=1e-4)
    needed = [np.zeros(len(o), dtype=bool) for o in offsets]
    needed[-1][-3] = True  # a word of the last text only, past its first 512 tokens
    part = redactors["torch"].name_model.word_states(texts, offsets, needed)
    assert not any(p.any() for p in part[:-1])
    # the same reads of the last text (up to float rounding: other batches, other padding)
    np.testing.assert_allclose(part[-1], torch_states[-1], atol=1e-5)


@pytest.fixture
def every_text_encoded(monkeypatch):
    """The redactor as it was: every text with a word goes through the name model, every chunk encoded."""
    import synpunkt.redaction.redactor as redactor_module

    monkeypatch.setattr(redactor_module, "model_may_add",
                        lambda words, flags: np.array([is_wordlike(w) for w in words], dtype=bool))


SKIP_TEXTS = TEXTS + [
    "Jag pratade med Anna Berg och Karin Lund.",  # the rules decide every candidate: no encoder
    "Bra service!",
    "tack för hjälpen",
    "Kontakt: Soran",
    "Hälsningar Mirela Quispe, Storgatan 4",
    "Tack till personalen på Äldreboendet Björken och till Olof.",
    "Vi ringde 08-123 45 67 men ingen svarade. Hemsidan fungerar inte.",
]


def test_skipping_the_name_model_changes_no_redaction(redactors, every_text_encoded, monkeypatch):
    """With the model run on every text (the fixture) and with the skip: the same redactions, while the skip
    encodes fewer texts."""
    import synpunkt.redaction.redactor as redactor_module
    from synpunkt.redaction.names import model_may_add

    redactor = redactors["onnx"]
    calls: list[int] = []
    word_states = redactor.name_model.word_states

    def counted(texts, offsets, needed=None, *args, **kwargs):
        calls.append(len(texts) if needed is None else sum(bool(np.any(n)) for n in needed))
        return word_states(texts, offsets, needed, *args, **kwargs)

    monkeypatch.setattr(redactor.name_model, "word_states", counted)
    before = [r.text for r in redactor.redact_many(SKIP_TEXTS)]
    all_calls = sum(calls)
    monkeypatch.setattr(redactor_module, "model_may_add", model_may_add)
    calls.clear()
    after = [r.text for r in redactor.redact_many(SKIP_TEXTS)]
    assert after == before
    assert sum(calls) < all_calls
    assert "[NAMN]" in after[6] and after[SKIP_TEXTS.index("Bra service!")] == "Bra service!"


def test_the_backend_is_the_recorded_one_unless_set(tmp_path, monkeypatch):
    from synpunkt.config import DEFAULT_BASE_MODEL
    from synpunkt.inference import BackendError, cuda_available
    from synpunkt.ingest_encoders import BACKEND_FILE, ingest_backend

    monkeypatch.setenv("SYNPUNKT_SIGNALS_MODEL", str(tmp_path))
    monkeypatch.delenv("SYNPUNKT_BACKEND", raising=False)
    gpu = cuda_available()
    assert ingest_backend() == ("cuda" if gpu else "torch")  # nothing recorded: the reference
    (tmp_path / BACKEND_FILE).write_text(json.dumps({"default": "onnx", "base_model": DEFAULT_BASE_MODEL}))
    assert ingest_backend() == ("cuda" if gpu else "onnx")
    from synpunkt.inference.backends import cpu_key, cpu_name, with_machines

    here = {"cpu": cpu_name(), "default": "onnx-int8"}
    elsewhere = {"cpu": "Another CPU", "default": "torch"}
    (tmp_path / BACKEND_FILE).write_text(json.dumps({"default": "onnx", "base_model": DEFAULT_BASE_MODEL,
                                                     "machines": {cpu_key(): here, "Another CPU": elsewhere}}))
    assert ingest_backend() == ("cuda" if gpu else "onnx-int8")  # this CPU's entry, not the latest measurement's
    (tmp_path / BACKEND_FILE).write_text(json.dumps({"default": "onnx", "base_model": DEFAULT_BASE_MODEL,
                                                     "machines": {"Another CPU": elsewhere}}))
    assert ingest_backend() == ("cuda" if gpu else "onnx")  # this CPU never measured: the latest measurement's
    legacy = {"default": "onnx", "machine": {"cpu": "AMD EPYC"}, "date": "2026-11-29",
              "measured": {"torch": {"qualifies": True, "speed_vs_torch": 1.0},
                           "onnx": {"qualifies": True, "speed_vs_torch": 6.2}}}
    mine = {**legacy, "default": "torch", "machine": {"cpu": "Mine", "key": "Mine [avx2]"}, "date": "2026-11-30"}
    merged = with_machines(mine, legacy)["machines"]  # a file from before per-CPU entries keeps its measurement
    assert merged["AMD EPYC"]["default"] == "onnx" and merged["AMD EPYC"]["speed_vs_torch"]["onnx"] == 6.2
    assert merged["Mine [avx2]"]["default"] == "torch"
    (tmp_path / BACKEND_FILE).write_text(json.dumps({"default": "onnx", "base_model": "another/model"}))
    assert ingest_backend() == ("cuda" if gpu else "torch")  # measured on another encoder: ignored
    monkeypatch.setenv("SYNPUNKT_BACKEND", "onnx-int8")
    assert ingest_backend() == "onnx-int8" and ingest_backend("torch") == "torch"
    monkeypatch.setenv("SYNPUNKT_BACKEND", "tpu")
    with pytest.raises(BackendError, match="torch"):
        ingest_backend()


def test_the_shipped_record_qualifies_its_default():
    """models/signals/backend.json: the default was measured against torch and met the rule."""
    from synpunkt.ingest_encoders import backend_file

    path = backend_file()
    if not path.is_file():
        pytest.skip("no backend.json recorded (python benchmarks/bench_encoder_backends.py --write)")
    record = json.loads(path.read_text(encoding="utf-8"))
    chosen = record["measured"][record["default"]]
    assert chosen["qualifies"] and chosen["alert_differences"] == 0 and chosen["features_max_abs_diff"] <= 1e-3
    assert all(v == 1.0 for v in chosen["identical_redactions"].values())


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_span_features_come_from_one_pass_and_equal_the_training_features(backend):
    """encode_spans() (token states of the chosen layers, pooled over the whole text and each sentence outside the
    graph) equals all_layer_spans() (torch, what the span head is trained on) and its whole-text part equals
    encode()'s, whatever the batch composition."""
    from synpunkt.signals.features import FEATURE_LAYERS, FeatureEncoder, select_layers

    texts = [*TEXTS, "Hej. Jag har köpt ett vapen nu.\nResten får ni räkna ut själva!"]
    whole_ref, spans_ref, rows_ref = FeatureEncoder(backend="torch").all_layer_spans(texts)
    encoder = FeatureEncoder(backend=backend, batch_size=3)
    whole, spans, rows = encoder.encode_spans(texts)
    tolerance = 1e-4 if backend == "onnx" else 1e-5
    assert rows.tolist() == rows_ref.tolist() and rows.max() == len(texts) - 1 and len(set(rows)) >= 3
    np.testing.assert_allclose(whole, select_layers(whole_ref, FEATURE_LAYERS), atol=tolerance)
    np.testing.assert_allclose(spans, select_layers(spans_ref, FEATURE_LAYERS), atol=tolerance)
    np.testing.assert_allclose(whole, encoder.encode(texts), atol=tolerance)


@pytest.mark.parametrize("backend", ["onnx", "cuda"])
def test_encoder_calls_are_sorted_by_length_and_bounded(backend):
    """encoder_batches: every text once, in length order (stable), at most the batch size and CALL_LIMITS per call;
    a text too long for the limits alone is a call of its own; long texts do not drag short ones to their width."""
    from synpunkt.ingest_encoders import CALL_LIMITS, batch_size_for, encoder_batches

    rng = np.random.default_rng(3)
    lengths = [*rng.integers(3, 120, 300).tolist(), 512, 512, 400, 300, 250, 7, 7]
    calls = encoder_batches(lengths, backend, 16)
    order = np.concatenate(calls)
    assert order.tolist() == np.argsort(lengths, kind="stable").tolist()
    tokens, attention = CALL_LIMITS["cuda" if backend == "cuda" else "cpu"]
    for idx in calls:
        width = max(lengths[i] for i in idx)
        assert len(idx) == 1 or (len(idx) <= batch_size_for(backend, 16) and len(idx) * width <= tokens
                                 and len(idx) * width ** 2 <= attention)
    if backend == "onnx":
        assert [len(c) for c in calls if max(lengths[i] for i in c) == 512] == [1, 1]
        assert max(len(c) for c in calls) == 16 and sum(map(len, calls)) == len(lengths)
    else:
        assert len(calls) == 2  # a GPU takes 256 texts a call, limits permitting
    assert encoder_batches([], backend, 16) == []


def test_forgotten_models_load_again_with_the_same_features():
    """forget_models (the pipeline, between ingest and classification) drops the runners and the shared encoder; the
    next encode builds them again and reads the same features."""
    from synpunkt import base_model
    from synpunkt.ingest_encoders import _RUNNERS, forget_models
    from synpunkt.signals.features import FeatureEncoder

    texts = TEXTS[:3]
    before = FeatureEncoder().encode(texts)
    forget_models()
    assert not _RUNNERS and not base_model._SHARED
    np.testing.assert_array_equal(FeatureEncoder().encode(texts), before)


def test_training_feature_cache_gives_a_first_run_what_later_runs_read(tmp_path, monkeypatch):
    """The signal heads' training features are cached in float16: the run that fills the cache must train on the
    same values as every run that reads it, or a retrain's verdict depends on whether the cache was warm."""
    from synpunkt.signals.features import FeatureEncoder, cached_all_layer_spans, cached_all_layers

    monkeypatch.setenv("SYNPUNKT_CACHE", str(tmp_path))
    encoder = FeatureEncoder(backend="torch")
    texts = TEXTS[:3]
    first = cached_all_layers(encoder, texts, "cache-test")
    again = cached_all_layers(encoder, texts, "cache-test")
    assert first.dtype == again.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, encoder.all_layers(texts))  # the float16 rounding is really there
    spans_first = cached_all_layer_spans(encoder, texts, "cache-test")
    spans_again = cached_all_layer_spans(encoder, texts, "cache-test")
    for x, y in zip(spans_first, spans_again):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)

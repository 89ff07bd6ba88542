"""Shared fixtures: a tiny transformers encoder built on the fly, and paths to optional shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json  # noqa: E402

from synpunkt.config import DEFAULT_MODEL_DIR, shared_datasets  # noqa: E402

TINY_CORPUS = [
    "Handläggaren var trevlig och hjälpsam",
    "Jag väntade en timme i telefonkön",
    "E-tjänsten för bygglov krånglade med BankID",
    "Snöröjningen på vår gata fungerar inte",
    "Tack för snabb hjälp med fakturan",
    "Bemötandet var dåligt och ingen ringde tillbaka",
    "Vi får väl se om det blir gjort",
    "Förskolan är fantastisk men kön var lång",
]


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A tiny BERT and a unigram tokenizer trained on a few sentences, saved as a local transformers dir."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("tiny-base")
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(TINY_CORPUS * 5, trainers.UnigramTrainer(vocab_size=200, special_tokens=specials,
                                                                      unk_token="<unk>"))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", mask_token="<mask>", model_max_length=64)
    fast.save_pretrained(out)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=1)
    BertModel(config, add_pooling_layer=False).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_datasets()
    if not (path / "sentiment").is_dir():
        pytest.skip(f"shared development datasets not found at {path} (they exist on developer machines and in CI)")
    return path


@pytest.fixture(scope="session")
def shipped_model_dir() -> Path:
    if not (DEFAULT_MODEL_DIR / "trained_weights.safetensors").exists():
        pytest.fail(f"the shipped default model is missing from {DEFAULT_MODEL_DIR}")
    return DEFAULT_MODEL_DIR


ROWS = [
    ("Handläggaren var trevlig och hjälpsam", "positive", {"handler": "positive"}),
    ("Jag väntade en timme i telefonkön, helt oacceptabelt", "negative", {"wait_time": "negative"}),
    ("E-tjänsten krånglade med BankID", "negative", {"digital_services": "negative"}),
    ("Tack för snabb hjälp", "positive", {"experience": "positive", "wait_time": "positive"}),
    ("Vi får väl se om det blir gjort", "skeptical", {"municipal_services": "skeptical"}),
    ("Förskolan är fantastisk men kön var lång", "skeptical", {"municipal_services": "positive", "wait_time": "negative"}),
]


def load_file_module(relative_path: str):
    """A script beside the package (scripts/, data/.../build.py) as a module, by its path from the project root."""
    import importlib.util

    from synpunkt.config import PROJECT_ROOT

    path = PROJECT_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def labelled_comments(path: Path, n: int, prefix: str = "t") -> Path:
    """A tiny in-domain JSONL of `n` labelled comments cycling through ROWS (splits train, train, validation, test)."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            text, sent, ts = ROWS[i % len(ROWS)]
            split = ["train", "train", "validation", "test"][i % 4]
            f.write(json.dumps({"id": f"{prefix}{i}", "text": f"{text} ({i})", "sentiment": sent, "topics": list(ts),
                                "topic_sentiment": ts, "split": split}, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="session")
def trained(tiny_base, tmp_path_factory):
    """A tiny classifier trained end to end (tiny base, a few labelled rows): (model_dir, report)."""
    from synpunkt.train import TrainConfig, run_training

    tmp = tmp_path_factory.mktemp("train")
    data = labelled_comments(tmp / "comments.jsonl", 36)
    cfg = TrainConfig(output_dir=tmp / "model", base_model=str(tiny_base), in_domain=data, public_sources=(),
                      epochs=2, batch_size=4, evaluate_public=False, name="tiny-test")
    report = run_training(cfg)
    return cfg.output_dir, report


@pytest.fixture()
def con(tmp_path):
    """A warehouse with the analyst fixture's comments and predictions (tests/analyst_warehouse.py)."""
    from analyst_warehouse import VERSION, frames
    from synpunkt.warehouse import connect, insert_frame, set_current_model

    con = connect(tmp_path / "w.duckdb")
    comments, predictions = frames()
    insert_frame(con, "comments", comments)
    insert_frame(con, "predictions", predictions)
    set_current_model(con, VERSION)
    yield con
    con.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty SYNPUNKT_HOME for a pipeline run: no settle time for the inbox (the tests' files are complete
    when dropped) and none of the user's path, chunk or alert settings."""
    monkeypatch.setenv("SYNPUNKT_HOME", str(tmp_path))
    monkeypatch.setenv("SYNPUNKT_INBOX_SETTLE_SECONDS", "0")
    for var in ("SYNPUNKT_WAREHOUSE", "SYNPUNKT_PUBLISHED", "SYNPUNKT_SOURCES", "SYNPUNKT_INGEST_CHUNK_ROWS",
                "SYNPUNKT_ALERT_WEBHOOK", "SYNPUNKT_ALERT_BLOCK", "SYNPUNKT_SIGNALS_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def heads_on_classifier_encoder(folder: Path, model_dir: Path = DEFAULT_MODEL_DIR) -> Path:
    """The shipped signal heads copied into `folder` and recorded as reading the encoder of the classifier in
    `model_dir` (copied to folder/encoder), laid out as `synpunkt train-signals --encoder classifier` writes them.
    Their signals mean little there (fitted on the base model's states); the layout and the pass are the product's."""
    import shutil

    from synpunkt.classifier_encoder import copy_encoder
    from synpunkt.config import signals_dir

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("heads.json", "heads.npz"):
        shutil.copyfile(signals_dir() / name, folder / name)
    settings = json.loads((folder / "heads.json").read_text(encoding="utf-8"))
    (folder / "heads.json").write_text(json.dumps({**settings, "base_model": "classifier:encoder"}), encoding="utf-8")
    copy_encoder(model_dir, folder / "encoder")
    return folder

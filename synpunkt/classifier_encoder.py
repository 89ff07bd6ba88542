"""The classifier's encoder as ingest's base model: one encoder pass per comment for names, signals and classes.

The classifier adapts only its top ``trainable_layers`` layers (LoRA adapters and LayerNorms, merged for inference);
its embeddings and the layers below are the base model's, bit for bit. So ingest can read every comment once with
the classifier's merged encoder: the name model reads layer 6 (below the adapted layers: the very states of the
base encoder), the signal heads read the layers they were trained on (8 and 12 of this encoder), and for a
comment whose stored text is the text as read, the classifier's own outputs come from the same pass (its mean of
the last layer is the classifier's pooled vector), so the classify stage has nothing left to do for it.

A base-model setting ``classifier:DIR`` names such an encoder: DIR holds a classifier's settings and trained
weights (synpunkt_model.json, trained_weights.safetensors; the signal heads keep a copy in models/signals/encoder,
so that retraining the classifier never changes what they read). A relative DIR is relative to the folder of the
heads that name it (``absolute_spec``). ``resolve`` exports the merged encoder once as a transformers folder in
the cache, keyed by the weights' digest, so every reader (synpunkt.base_model.load_base) loads it like any other
base model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import lru_cache
from pathlib import Path

from synpunkt.config import cache_dir

PREFIX = "classifier:"
ENCODER_FILES = ("synpunkt_model.json", "trained_weights.safetensors")
"""What a classifier:DIR folder holds (the classifier's settings and weights; no lexicon or calibration needed)."""


def is_spec(base_model: str | None) -> bool:
    return bool(base_model) and str(base_model).startswith(PREFIX)


def spec(directory: str | Path) -> str:
    """The base-model setting for the classifier encoder in `directory`."""
    return PREFIX + str(directory)


def directory(base_model: str) -> Path:
    """The folder a classifier:DIR setting names."""
    if not is_spec(base_model):
        raise ValueError(f"not a {PREFIX} base-model setting")
    return Path(base_model[len(PREFIX):])


def absolute_spec(base_model: str, relative_to: Path) -> str:
    """`base_model` with a relative classifier:DIR made absolute against `relative_to` (other settings unchanged)."""
    if not is_spec(base_model) or directory(base_model).is_absolute():
        return base_model
    return spec((Path(relative_to) / directory(base_model)).resolve())


def relative_spec(base_model: str, relative_to: Path) -> str:
    """absolute_spec's inverse for a classifier:DIR inside `relative_to` (what files next to the heads record)."""
    if not is_spec(base_model):
        return base_model
    try:
        return spec(directory(base_model).resolve().relative_to(Path(relative_to).resolve()))
    except ValueError:
        return base_model


def identity(base_model: str) -> str:
    """What caches and records of an encoder are keyed by: the setting, or for a classifier's encoder its weights'
    digest (a folder's name says nothing about the weights in it)."""
    return f"classifier-{weights_digest(directory(base_model))}" if is_spec(base_model) else base_model


def weights_digest(model_dir: str | Path) -> str:
    """What fixes a classifier's encoder and heads: its trained weights and the settings that shape the network
    (base model, adapters, adapted layers); 16 hex digits. Calibration, thresholds and the lexicon do not count.
    Computed once per version of the two files (ingest asks for every chunk)."""
    from synpunkt.model import SETTINGS_FILE, WEIGHTS_FILE

    model_dir = Path(model_dir).resolve()
    stamps = tuple((f.stat().st_size, f.stat().st_mtime_ns)
                   for f in (model_dir / SETTINGS_FILE, model_dir / WEIGHTS_FILE))
    return _digest(model_dir, stamps)


@lru_cache(maxsize=32)
def _digest(model_dir: Path, stamps: tuple) -> str:
    """weights_digest of `model_dir` whose files have these (size, mtime) `stamps` (the cache key)."""
    from synpunkt.model import SETTINGS_FILE, WEIGHTS_FILE

    settings = json.loads((model_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    shape = {k: settings.get(k) for k in ("base_model", "lora_r", "lora_alpha", "lora_targets", "trainable_layers",
                                          "sentiments", "topics")}
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode())
    digest.update((model_dir / WEIGHTS_FILE).read_bytes())
    return digest.hexdigest()[:16]


def base_layers(model_dir: str | Path) -> tuple[str, int]:
    """(the classifier's base model, how many bottom layers it left as the base's: all but the adapted ones)."""
    from synpunkt.model import ModelSettings

    settings = ModelSettings.load(Path(model_dir))
    total = _layer_count(settings.base_model)
    adapted = settings.trainable_layers if 0 < settings.trainable_layers < total else total
    return settings.base_model, total - adapted


def shared_layers(a: str, b: str) -> int:
    """How many bottom layers (embeddings included) two base-model settings compute alike: all of them (a large
    number) for the same setting or two classifier encoders with the same weights; for a classifier encoder and
    its own base model, the layers below the adapted ones; else 0."""
    if a == b:
        return 1 << 30
    if is_spec(a) and is_spec(b):
        return 1 << 30 if weights_digest(directory(a)) == weights_digest(directory(b)) else 0
    if is_spec(b):
        a, b = b, a
    if is_spec(a):
        base, kept = base_layers(directory(a))
        return kept if base == b else 0
    return 0


def copy_encoder(model_dir: str | Path, into: Path) -> Path:
    """Copy a classifier's ENCODER_FILES into `into` (what signal heads trained on its encoder keep)."""
    into.mkdir(parents=True, exist_ok=True)
    for name in ENCODER_FILES:
        shutil.copyfile(Path(model_dir) / name, into / name)
    return into


def resolve(base_model: str) -> str:
    """The cached transformers folder of the merged encoder that `base_model` (classifier:DIR) names, exported on
    first use (about 0.5 GB in fp32, once per weights digest)."""
    source = directory(base_model)
    out = cache_dir() / "base" / f"classifier-{weights_digest(source)}"
    if (out / "config.json").exists() and (out / "synpunkt_base.json").exists():
        return str(out)
    from synpunkt.model import load_model

    model, tokenizer, settings = load_model(source)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.encoder.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / "synpunkt_base.json").write_text(json.dumps(
        {"source": f"merged encoder of the classifier {settings.name} ({weights_digest(source)})",
         "text_prefix": settings.text_prefix, "pooling": "mean"}), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return str(out)


def _layer_count(base_model: str) -> int:
    from synpunkt.base_model import resolve_base_model

    config = json.loads((Path(resolve_base_model(base_model)) / "config.json").read_text(encoding="utf-8"))
    return int(config["num_hidden_layers"])

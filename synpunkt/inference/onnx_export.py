"""Export a torch graph to ONNX once, quantise it to int8, and cache the files.

    cached_onnx(graph, backend, cache_key=..., output_names=...)  the model file for 'onnx' or 'onnx-int8'

Files live in ``config.cache_dir()/onnx`` as ``<cache_key>-<hash>.onnx`` (fp32) and ``<cache_key>-<hash>.int8.onnx``.
The hash covers every weight and buffer of the graph, its structure, the output names, the export and quantisation
settings and the torch and onnxruntime versions, so a changed model (or toolchain) never reuses a stale file; the
cache key (which callers make from the model version) keeps the names readable. Each file is written under a
temporary name and renamed into place, under a file lock so that two processes (Dask workers, say) export once.

Measured on the shipped model (README, "Backends"): ONNX Runtime's offline BERT fusion (optimize_model: Attention,
EmbedLayerNormalization...) ran about 10 % slower than the plain export, which ONNX Runtime optimises itself at
session start, so it is not used. Dynamic int8 quantisation agrees with the reference on about 97-98 % of sentiments
(excluding the FFN output projections, where the activations have the heaviest tails: 99.1-99.2 % at a third of the
speed-up; 8-bit block-wise MatMulNBits: 99.7 %, no faster than fp32); no faster int8 setting reached 99.5 %, so
onnx-int8 is offered for speed and is not the default. Measured again on an Intel Xeon with VNNI (2026-11-30, the
3,585 train and validation comments, agreement with the torch reference; fp32 onnx 99.9 % at 90 comments/s):
these settings 96.3 % at 161/s; per-channel weights 98.1 % (156/s); without the FFN output projections 99.2 %
(132/s), per-channel too 99.2 % (145/s), and also without the attention output projections 99.4 % (127/s);
SmoothQuant-style smoothing (per-channel scales moved from the activations into the weights, alpha 0.5) with
per-channel weights 97.2 %. The attention-score MatMuls (both inputs activations) are not quantised by these
settings. Activation outliers are modest (largest channel 2.5-9 times the median), so the error is int8's
rounding spread over twelve layers, not a few outlier channels.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch

from synpunkt.config import cache_dir, onnx_cache_limit_gb

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"
"""Bump when the export, fusion or quantisation below changes: every cached file is then rebuilt."""
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask")
INT8_SETTINGS = {"op_types_to_quantize": ["MatMul"], "per_channel": False, "reduce_range": False}
"""Dynamic int8 quantisation (onnxruntime.quantization.quantize_dynamic): the weights of the MatMuls only, so the
embedding table (a Gather) and the heads (Gemm) stay float32; the fastest of the settings measured (module doc)."""
LOCK_TIMEOUT_S = 900


def onnx_dir() -> Path:
    """The cache folder for exported models (under SYNPUNKT_CACHE)."""
    return cache_dir() / "onnx"


def cached_onnx(graph: torch.nn.Module, backend: str, *, cache_key: str, output_names: Sequence[str]) -> Path:
    """The ONNX file for `backend` ('onnx' or 'onnx-int8'), exported (and quantised) on first use."""
    if backend not in ("onnx", "onnx-int8"):
        raise ValueError(f"no ONNX file for backend {backend!r}")
    digest = graph_digest(graph, cache_key, output_names)
    name = re.sub(r"[^\w.@-]+", "_", cache_key)
    fp32 = _cached(onnx_dir() / f"{name}-{digest[:16]}.onnx",
                   lambda out: export_fp32(graph, out, output_names))
    if backend == "onnx":
        return fp32
    int8_digest = hashlib.sha256(f"{digest}|int8|{sorted(INT8_SETTINGS.items())}".encode()).hexdigest()
    return _cached(onnx_dir() / f"{name}-{int8_digest[:16]}.int8.onnx", lambda out: quantize_int8(fp32, out))


def graph_digest(graph: torch.nn.Module, cache_key: str, output_names: Sequence[str]) -> str:
    """SHA-256 over the graph's weights, buffers and structure, the names and the toolchain's versions."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    for part in (EXPORT_VERSION, str(OPSET), cache_key, ",".join(output_names), torch.__version__,
                 version("onnxruntime"), version("onnx"), type(graph).__qualname__, repr(graph)):
        digest.update(part.encode() + b"\0")
    for name, tensor in sorted(graph.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().data if tensor.numel() else b"")
    return digest.hexdigest()


def _cached(path: Path, build: Callable[[Path], None]) -> Path:
    """`path`, built by `build(tmp)` and renamed into place unless it exists; one build at a time per cache folder
    (a file lock, so across processes too). Using a file marks it recently used; after a build, the least recently
    used files beyond onnx_cache_limit_gb() are removed (``prune_cache``)."""
    if path.is_file():
        _mark_used(path)
        return path
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent / ".export.lock"), timeout=LOCK_TIMEOUT_S):
        if path.is_file():  # another process built it while this one waited
            return path
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        started = time.perf_counter()
        try:
            build(tmp)
            os.replace(tmp, path)  # atomic: a reader sees the whole file or none
        finally:
            tmp.unlink(missing_ok=True)
        log.info("wrote %s in %.1f s (once; later loads reuse it)", path.name, time.perf_counter() - started)
        prune_cache(path.parent, int(onnx_cache_limit_gb() * 1e9), keep=path)
    return path


def _mark_used(path: Path) -> None:
    """Set the file's modification time to now (the cache's record of use; access times are often not kept)."""
    try:
        os.utime(path)
    except OSError:  # a read-only cache still serves its files
        pass


def prune_cache(folder: Path, limit_bytes: int, keep: Path) -> list[Path]:
    """Remove the least recently used exports in `folder` until the rest fit in `limit_bytes` (`keep`, the file
    just built, always stays); the files removed. A removed file is exported again when it is next needed."""
    files = sorted(folder.glob("*.onnx"), key=lambda f: f.stat().st_mtime, reverse=True)
    total, removed = 0, []
    for f in files:
        total += f.stat().st_size
        if total > limit_bytes and f != keep:
            try:
                f.unlink()
            except OSError:  # in use elsewhere (Windows) or already gone: try again after the next export
                continue
            removed.append(f)
    if removed:
        log.info("ONNX cache over %.1f GB: removed %d least recently used export(s), %s", limit_bytes / 1e9,
                 len(removed), ", ".join(f.name for f in removed))
    return removed


def export_fp32(graph: torch.nn.Module, out: Path, output_names: Sequence[str]) -> None:
    """torch.onnx.export with the TorchScript exporter, opset 17, dynamic batch and sequence axes."""
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 10, 2], [0, 5, 6, 2, 1, 1, 1, 1]], dtype=torch.long)
    mask = (ids != 1).long()  # one padded row, so the traced graph keeps the padding path
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    axes.update({name: {0: "batch"} for name in output_names})  # other axes: inferred (a sequence axis stays one)
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches (static here)
        torch.onnx.export(graph.eval(), (ids, mask), str(out), dynamo=False, opset_version=OPSET,
                          input_names=list(INPUT_NAMES), output_names=list(output_names), dynamic_axes=axes,
                          do_constant_folding=True)


def quantize_int8(src: Path, out: Path) -> None:
    """Dynamic int8 quantisation of `src` into `out` with INT8_SETTINGS."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet("onnxruntime.quantization"), _quiet("root"):
        quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, **INT8_SETTINGS)


@contextmanager
def _quiet(logger_name: str, level: int = logging.ERROR):
    """Silence a chatty library logger (the quantiser warns for every tensor it leaves alone)."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)

"""One place for inference: run any torch "graph" on the backend chosen for this machine.

A graph is an ``nn.Module`` whose ``forward(input_ids, attention_mask)`` returns a tuple of tensors (the classifier's
sentiment, topics and topic_sentiment logits; an encoder's features). ``make_runner`` wraps it for a backend:

    torch       the reference: torch on the CPU, fp32 or bf16 autocast (SYNPUNKT_PRECISION)
    onnx        ONNX Runtime on the CPU, fp32, from a cached, fused export
    onnx-int8   the same with dynamically quantised int8 MatMul weights
    cuda        torch on a CUDA GPU in bf16 (fp16 on older GPUs) autocast

``resolve_backend`` picks one: an explicit choice (--backend) > SYNPUNKT_BACKEND > the default recorded for the
model by ``synpunkt compare-backends --write`` (backends.json) > torch. Predictions made on onnx-int8, whose answers
are not the reference's, carry the model version with a suffix (``stored_version``: "name@hash+onnx-int8"). A runner holds its own session or module
and is built where it is used (every Dask worker builds its own); nothing in it needs to be pickled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from synpunkt.inference.backends import (AUTO, BACKENDS, BACKENDS_FILE, MIN_AGREEMENT, REFERENCE, VERSION_SUFFIXES,
                                         BackendError, available_backends, check_backend, cuda_available,
                                         predictions_version, read_backends, reference_version, resolve_backend,
                                         stored_version)

__all__ = ["AUTO", "BACKENDS", "BACKENDS_FILE", "MIN_AGREEMENT", "REFERENCE", "VERSION_SUFFIXES", "BackendError",
           "GraphRunner", "available_backends", "cuda_available", "make_runner", "predictions_version",
           "read_backends", "reference_version", "resolve_backend", "stored_version"]


@runtime_checkable
class GraphRunner(Protocol):
    """Runs one graph on one backend: int64 ids and mask in, float32 arrays out, in the graph's output order."""

    backend: str

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]: ...


def make_runner(graph: torch.nn.Module, backend: str, *, cache_key: str, output_names: Sequence[str],
                precision: str | None = None, threads: int | None = None,
                shared_weights: Mapping[str, np.ndarray] | None = None, memory_arena: bool = True) -> GraphRunner:
    """A runner for `graph` on `backend` (one of BACKENDS; resolve "auto" with resolve_backend first).

    cache_key names the exported file for the ONNX backends and must change with the model (put its version in
    it); the file's hash covers the weights as well. precision: the torch backend's 'auto', 'fp32' or 'bf16'.
    threads: ONNX Runtime's intra-op threads (default SYNPUNKT_INFERENCE_THREADS, else the usable cores).
    shared_weights: for the fp32 'onnx' backend, initializers the session reads from these arrays (by their name in
    the export) instead of a copy of its own: pass the graph's own weights (e.g. an embedding table shared by
    several graphs) so that one copy serves them all. The export's digest still covers them.
    memory_arena: False frees ONNX Runtime's activations after each run (else its arena keeps the largest batch's).
    """
    backend = check_backend(backend)
    names = tuple(output_names)
    if backend in ("torch", "cuda"):
        from synpunkt.inference.torch_runner import TorchRunner

        return TorchRunner(graph, names, device="cuda" if backend == "cuda" else "cpu", precision=precision)
    from synpunkt.inference.onnx_export import cached_onnx
    from synpunkt.inference.onnx_runner import OnnxRunner

    path = cached_onnx(graph, backend, cache_key=cache_key, output_names=names)
    return OnnxRunner(path, backend, names, threads=threads,
                      shared_weights=shared_weights if backend == "onnx" else None, memory_arena=memory_arena)

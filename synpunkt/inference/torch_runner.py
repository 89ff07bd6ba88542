"""The torch backends: the CPU reference (fp32, or bf16 autocast where the CPU computes bf16 natively) and cuda."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from synpunkt import config


def bf16_supported() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 / AMX), so autocast is faster, not slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str | None = None) -> str:
    """'fp32' or 'bf16' from a setting of 'auto', 'fp32' or 'bf16' (default: SYNPUNKT_PRECISION, config.precision)."""
    precision = (precision or config.precision()).lower()
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, not {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_supported() else "fp32"
    return precision


def cuda_dtype() -> torch.dtype:
    """bfloat16 where the GPU supports it (Ampere and later), else float16."""
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _on_device(graph: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """`graph` itself when its weights are already on `device`, else a copy there: moving a module moves its
    parameters in place, and the caller's graph often shares them with other users (ingest's base encoder serves
    several graphs and ONNX sessions that read its CPU weights as numpy views)."""
    tensors = [*graph.parameters(), *graph.buffers()]
    if all(t.device.type == device.type and device.index in (None, t.device.index) for t in tensors):
        return graph
    return copy.deepcopy(graph).to(device)


class TorchRunner:
    """Runs a graph with torch: on the CPU (backend 'torch', the reference) or on a CUDA GPU (backend 'cuda').

    The graph is moved to the device once; inputs are int64 numpy arrays, outputs float32 numpy arrays.
    """

    def __init__(self, graph: torch.nn.Module, output_names: Sequence[str], device: str = "cpu",
                 precision: str | None = None):
        self.device = torch.device(device)
        self.backend = "cuda" if self.device.type == "cuda" else "torch"
        self.output_names = tuple(output_names)
        if self.device.type == "cuda":
            self.dtype: torch.dtype | None = cuda_dtype()
            self.precision = "bf16" if self.dtype == torch.bfloat16 else "fp16"
        else:
            self.precision = resolve_precision(precision)
            self.dtype = torch.bfloat16 if self.precision == "bf16" else None
        self.graph = _on_device(graph, self.device).eval()

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        ids = torch.from_numpy(np.ascontiguousarray(input_ids, dtype=np.int64)).to(self.device, non_blocking=True)
        mask = torch.from_numpy(np.ascontiguousarray(attention_mask, dtype=np.int64)).to(self.device, non_blocking=True)
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=self.dtype or torch.float32,
                                                    enabled=self.dtype is not None):
            outputs = self.graph(ids, mask)
        if not isinstance(outputs, tuple) or len(outputs) != len(self.output_names):
            raise TypeError(f"the graph must return a tuple of {len(self.output_names)} tensors "
                            f"({', '.join(self.output_names)}), not {type(outputs).__name__}")
        return [out.float().cpu().numpy() for out in outputs]

"""The ONNX Runtime backends ('onnx', 'onnx-int8'): one CPU inference session over a cached exported model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from synpunkt.config import inference_threads


def session_options(threads: int | None = None):
    """Every graph optimisation, one intra-op thread per usable core (SYNPUNKT_INFERENCE_THREADS to change), which
    sleep between runs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or inference_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: no warnings about initialisers or unused nodes
    # no spinning: a session's threads sleep between runs instead of busy-waiting for the next one. Ingest runs two
    # sessions and its own Python work between their runs, which the spinning threads slowed (benchmarks/README.md,
    # "ONNX Runtime's threads": ingest 1.04-1.10x, 11-14 % less CPU, the same outputs)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxRunner:
    """Runs an exported graph with ONNX Runtime on the CPU; outputs in `output_names` order."""

    def __init__(self, path: Path, backend: str, output_names: Sequence[str], threads: int | None = None,
                 shared_weights: Mapping[str, np.ndarray] | None = None, memory_arena: bool = True):
        """shared_weights: initializers (by name in the exported graph) the session reads from these float32
        arrays instead of holding its own copy (e.g. the torch encoder's embedding table, ~384 MB).
        memory_arena False: activations are freed after each run instead of kept in ONNX Runtime's arena, which
        otherwise stays at the largest batch's size (1.7 GB more after a batch of 512-token texts, measured)."""
        import onnxruntime as ort

        self.backend = backend
        self.precision = "int8" if backend == "onnx-int8" else "fp32"
        self.path = Path(path)
        self.output_names = list(output_names)
        options = session_options(threads)
        options.enable_cpu_mem_arena = memory_arena
        self._shared = {name: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array, dtype=np.float32))
                        for name, array in (shared_weights or {}).items()}  # kept alive with the session
        for name, value in self._shared.items():
            options.add_initializer(name, value)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        known = {o.name for o in self.session.get_outputs()}
        missing = [n for n in self.output_names if n not in known]
        if missing:
            raise ValueError(f"{self.path.name} has no output(s) {missing}; it has {sorted(known)}")

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        feed = {"input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
                "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64)}
        return [np.asarray(out, dtype=np.float32) for out in self.session.run(self.output_names, feed)]

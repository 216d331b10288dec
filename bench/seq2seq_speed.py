"""Seq2seq summaries at ViT5-base size: torch fp32 vs CTranslate2 int8, one run.

    .venv/bin/python bench/seq2seq_speed.py                   # 4 requests of each kind
    .venv/bin/python bench/seq2seq_speed.py --requests 2      # fewer (a shared machine)

Builds, once, a checkpoint of ViT5-base's exact shape (T5: d_model 768, d_ff 3072,
12+12 layers, 12 heads, vocabulary 36,096; random weights) with a SentencePiece
tokenizer trained on ``../shared/data/vietnews-dev2k.jsonl`` (8,000 learned pieces,
padded to ViT5's 36,000 with unused symbols, plus T5's 96 sentinels: the dev articles
do not support more). It is written into ``<work>/models/`` under a ViT5-like name and
selected with ``VNQA_SUMMARIZER_MODEL=<name>``, the way ``vnqa models import`` installs a
real one. ``--articles`` dev articles are ingested once.

Then, for each configuration (``torch``: today's path, transformers fp32 with
split-then-combine for long articles; ``ctranslate2``: int8 with the lead and central
sentences and the decoding shortlist; ``ctranslate2-full``: the same without the
shortlist), ``vnqa models prepare`` runs (it converts the checkpoint for CTranslate2),
``vnqa serve`` starts with the summary cache off and the same beam width, and over
HTTP it measures: ``/v1/ask`` (titles as questions) p50/p95, the time to the first
streamed content token of ``/v1/chat/completions``, ``/v1/summarize`` of stored dev
articles p50/p95, and the server's peak RSS (VmHWM). One warm-up request of each kind
is not counted. Finally both backends generate greedily from the same inputs in this
process and the token agreement of int8 against fp32 is printed.

A random model always generates up to its token budget (a real one stops sooner); the
encoder work is the same. ``--lengths budget,fixed,reference`` times each configuration
once a length in the same run: with that checkpoint (``budget``: every generation decodes
its whole budget, a worst case), with that checkpoint asked for each article's reference
length (``fixed``: each ask and summary request carries ``max_words`` = the syllables of
its article's reference summary, so the budget is that length in tokens, or the input's
length where an answer's input is shorter; the random checkpoint decodes all of it and the
beams end together, as a trained model's tend to), and with a copy that stops like a
trained model (``reference``, installed as
``vit5-base-shape-stopping-vietnews-summarization``). The copy differs in one row: the end
token's row of the tied embedding / output projection is multiplied by a scale ``s``,
which widens the spread of that token's logit so that it wins a step now and then. ``s``
is calibrated once, in this process, by bisection on a log scale (each trial converted to
CTranslate2 int8 and decoded at the bench's ``--beams`` with an 80-word summary's budget,
``--calibration-inputs`` dev articles after the ingested ones, fitted to the window; see
:func:`build_stopping_checkpoint`) until the median number of tokens generated (end token
excluded) matches the median length of the 2,000 dev references in tokens (the bench's
tokenizer, no special tokens); the scale and the lengths reached are kept in
``vnqa_bench_stopping.json`` beside the weights. Every timed response's text is tokenized
again, and the distribution of lengths produced is printed per configuration (summaries
are trimmed to 80 words after generation, so a whole-budget summary shows as its trimmed
length). Timings are wall clock on a machine other work shares: compare figures within one
run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.load import as_article, percentile, start_server  # noqa: E402
from models.vietnamese import count_syllables  # noqa: E402

DATA = REPO_ROOT.parent / "shared" / "data" / "vietnews-dev2k.jsonl"
MODEL_NAME = "vit5-base-shape-vietnews-summarization"  # the ViT5 prompt convention applies
STOPPING_NAME = "vit5-base-shape-stopping-vietnews-summarization"
STOPPING_FILE = "vnqa_bench_stopping.json"
SHAPE = {
    "vocab_size": 36096,
    "d_model": 768,
    "d_ff": 3072,
    "d_kv": 64,
    "num_layers": 12,
    "num_decoder_layers": 12,
    "num_heads": 12,
}
#: --configs: backend, long-input handling, decoding shortlist (CTranslate2 only).
CONFIGS = {
    "torch": ("torch", "split", False),
    "ctranslate2": ("ctranslate2", "select", True),
    "ctranslate2-full": ("ctranslate2", "select", False),  # every token may be emitted
}
LEARNED_PIECES = 8000
SPM_PIECES = 36000  # + 96 sentinels = 36,096


def _rows(limit: int | None = None) -> list[dict]:
    rows = []
    with DATA.open(encoding="utf-8") as lines:
        for line in lines:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def timed_decode(
    translator, tokenizer, ids: list[int], n_in: int, steps: int, beams: int, **options
) -> tuple[float, int]:
    """Seconds and tokens of one CTranslate2 beam search over the first ``n_in`` of ``ids``
    (the last one replaced by the end token), at most ``steps`` new tokens."""
    source = tokenizer.convert_ids_to_tokens([*ids[: n_in - 1], tokenizer.eos_token_id])
    started = time.perf_counter()
    result = translator.translate_batch(
        [source],
        beam_size=beams,
        max_decoding_length=steps,
        min_decoding_length=min(4, steps),
        no_repeat_ngram_size=3,
        max_input_length=0,
        **options,
    )
    return time.perf_counter() - started, len(result[0].hypotheses[0])


def build_checkpoint(folder: Path) -> None:
    """A random-weight T5 of ViT5-base's shape and a tokenizer trained on the dev articles."""
    if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():
        return
    import sentencepiece as spm
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    started = time.perf_counter()
    work = folder.with_name(folder.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    def sentences():
        for row in _rows():
            for block in (row.get("title") or "", row.get("body") or ""):
                yield from (s for s in block.split("\n") if s.strip())

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=sentences(),
        model_writer=model,
        vocab_size=SPM_PIECES,
        model_type="unigram",
        character_coverage=0.9995,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=2,
        input_sentence_size=300_000,
        shuffle_input_sentence=True,
        minloglevel=2,
        user_defined_symbols=[f"<unused_{i}>" for i in range(SPM_PIECES - LEARNED_PIECES)],
    )
    (work / "spiece.model").write_bytes(model.getvalue())
    (work / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "T5Tokenizer", "extra_ids": 96, "model_max_length": 1024}),
        encoding="utf-8",
    )
    tokenizer = AutoTokenizer.from_pretrained(work)
    assert len(tokenizer) == SHAPE["vocab_size"], len(tokenizer)
    tokenizer.save_pretrained(work)
    torch.manual_seed(0)
    config = T5Config(**SHAPE, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(work)
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    print(f"built {folder} in {time.perf_counter() - started:.0f}s", flush=True)


def reference_median_tokens(folder: Path) -> float:
    """The median length in tokens of the dev references (no special tokens)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    lengths = [
        len(ids)
        for ids in tokenizer([r["summary"] for r in _rows()], add_special_tokens=False)["input_ids"]
    ]
    return statistics.median(lengths)


def build_stopping_checkpoint(
    base: Path,
    folder: Path,
    *,
    beams: int,
    inputs: int,
    steps: int = 4,
    scale: float | None = None,
) -> dict:
    """A copy of ``base`` whose end-token row is scaled to stop at the references' median.

    The scale ``s`` is signed: random decoder states share a direction, so the end token's
    logit has the same sign at almost every step and only one sign of ``s`` makes it win.
    Each trial scales the row of the loaded checkpoint in memory, converts it to
    CTranslate2 int8 (as ``vnqa models prepare`` does) and decodes ``inputs`` dev articles
    (rows 40 onwards: not among the timed ones; the ViT5 prompt, cut to the window) with
    ``beams`` beams, an 80-word summary's budget and the service's other options; the
    median generated length (end token excluded) is compared with the references'
    median. ``s`` = ±4 first picks the sign that stops sooner, then ``steps`` bisections on
    log2 |s| between -1 and 3. (Each trial saves the scaled checkpoint and converts that:
    the converter reads the weights from the files, not from a loaded model.) Made once:
    a folder with its build file is reused. ``scale`` skips the search: that scale, one
    trial (``--stopping-scale``).
    """
    build = folder / STOPPING_FILE
    if build.is_file() and (folder / "model.safetensors").is_file():
        return json.loads(build.read_text(encoding="utf-8"))
    import tempfile

    import ctranslate2
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    from models.summarization.seq2seq import max_new_tokens_for

    started = time.perf_counter()
    target = reference_median_tokens(base)
    tokenizer = AutoTokenizer.from_pretrained(base)
    network = T5ForConditionalGeneration.from_pretrained(base)
    eos = tokenizer.eos_token_id
    weight = network.get_input_embeddings().weight
    original = weight[eos].detach().clone()
    budget = max_new_tokens_for(80)
    rows = _rows(40 + inputs)[40:]
    sources = [
        tokenizer.convert_ids_to_tokens(ids)
        for ids in tokenizer(
            [f"vietnews: {r['title']}\n{r['body']} </s>" for r in rows],
            truncation=True,
            max_length=1024,
        )["input_ids"]
    ]

    def lengths_at(scale: float) -> list[int]:
        with torch.no_grad():
            weight[eos] = original * scale
        with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
            network.save_pretrained(Path(scratch) / "checkpoint")  # the converter reads files
            tokenizer.save_pretrained(Path(scratch) / "checkpoint")
            out = Path(scratch) / "model"
            TransformersConverter(str(Path(scratch) / "checkpoint")).convert(
                str(out), quantization="int8"
            )
            translator = ctranslate2.Translator(str(out), compute_type="int8")
            results = translator.translate_batch(
                sources,
                beam_size=beams,
                max_decoding_length=budget,
                min_decoding_length=4,
                no_repeat_ngram_size=3,
                max_input_length=0,
            )
            del translator
        return [len(r.hypotheses[0]) for r in results]

    trials = []

    def trial(scale: float) -> float:
        lengths = lengths_at(scale)
        median = statistics.median(lengths)
        trials.append({"scale": round(scale, 4), "median": median, "lengths": lengths})
        print(f"calibration: scale {scale:.3f} -> median {median} {lengths}", flush=True)
        return median

    if scale is not None:
        trial(scale)
        steps = 0
    else:
        sign = 1.0 if trial(4.0) <= trial(-4.0) else -1.0
        low, high = -1.0, 2.0  # log2 |s|: 4 was just tried
    for _ in range(steps):
        mid = (low + high) / 2
        if trial(sign * 2**mid) > target:  # a larger |s| stops sooner
            low = mid
        else:
            high = mid
    best = min(trials, key=lambda t: (abs(t["median"] - target), abs(t["scale"])))
    with torch.no_grad():
        weight[eos] = original * best["scale"]
    work = folder.with_name(folder.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    network.save_pretrained(work)
    tokenizer.save_pretrained(work)
    record = {
        "base": base.name,
        "eos_row_scale": best["scale"],
        "target_median_tokens": target,
        "calibrated_median_tokens": best["median"],
        "calibration_lengths": best["lengths"],
        "beams": beams,
        "budget": budget,
        "trials": trials,
    }
    (work / STOPPING_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    print(f"built {folder} in {time.perf_counter() - started:.0f}s", flush=True)
    return record


def token_lengths(folder: Path, texts: list[str]) -> list[int]:
    """Tokens of each text for the bench's tokenizer (no special tokens)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def describe_lengths(lengths: list[int]) -> str:
    """min / p10 / median / p90 / max of a list of lengths."""
    if not lengths:
        return "none"
    ordered = sorted(lengths)
    p10, p90 = ordered[int(0.1 * (len(ordered) - 1))], ordered[int(0.9 * (len(ordered) - 1))]
    median = statistics.median(ordered)
    low, high, n = ordered[0], ordered[-1], len(ordered)
    return f"min {low} / p10 {p10} / median {median} / p90 {p90} / max {high} (n {n})"


def link_embedder(models_dir: Path) -> None:
    """The embedder folders of ``.models`` linked in, so nothing is rebuilt there."""
    models_dir.mkdir(parents=True, exist_ok=True)
    for source in (REPO_ROOT / ".models").iterdir():
        link = models_dir / source.name
        if not source.name.startswith("multilingual-e5") or link.exists():
            continue
        if link.is_symlink():  # dangling: its target moved
            link.unlink()
        link.symlink_to(source.resolve())


def ingest(work: Path, rows: list[dict], env: dict) -> None:
    articles = work / "articles.jsonl"
    articles.write_text(
        "".join(json.dumps(as_article(row, row["id"]), ensure_ascii=False) + "\n" for row in rows),
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "service.cli", "ingest", str(articles)],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def vm_hwm_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def first_token_s(client: httpx.Client, question: str) -> float:
    """Seconds to the first content chunk; the stream is read to its end."""
    body = {"model": "vnqa", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first = float("nan")
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first == first or not line.startswith("data: ") or line == "data: [DONE]":
                continue  # (first == first: already timed)
            choices = json.loads(line[6:]).get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                first = time.perf_counter() - started
    return first


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(
    config: str,
    work: Path,
    rows: list[dict],
    n: int,
    beams: int,
    warmup: int,
    model_name: str = MODEL_NAME,
    fixed: bool = False,
) -> dict:
    """Time one server configuration; with ``fixed``, every ask and summary asks for as
    many words as its article's reference summary has (its token budget follows)."""
    backend, long_input, shortlist = CONFIGS[config]
    os.environ.update(
        {
            "VNQA_SUMMARIZER": "seq2seq",
            "VNQA_SUMMARIZER_MODEL": model_name,
            "VNQA_SUMMARIZER_BACKEND": backend,
            "VNQA_SUMMARIZER_LONG_INPUT": long_input,
            "VNQA_SUMMARIZER_BEAMS": str(beams),
            "VNQA_SUMMARIZER_SHORTLIST": str(shortlist).lower(),
            "VNQA_SUMMARY_CACHE_ENTRIES": "0",
            # The on-arrival worker would hold the model between the timed requests.
            "VNQA_AUTO_SUMMARIES": "false",
            "VNQA_MODELS_DIR": str(work / "models"),
            "VNQA_DATA_DIR": str(work / "data"),
        }
    )
    prepare = timed(
        lambda: subprocess.run(
            [sys.executable, "-m", "service.cli", "models", "prepare"],
            cwd=REPO_ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            check=True,
            capture_output=True,
        )
    )
    process, url = start_server(work / "data", work / f"server-{config}.log")
    lengths = "reference" if model_name == STOPPING_NAME else "fixed" if fixed else "budget"
    result: dict = {
        "config": f"{config} ({long_input}, {lengths})",
        "prepare_s": prepare,
    }
    texts: dict[str, list[str]] = {"ask": [], "summarize": []}

    def words(row: dict) -> dict:
        return {"max_words": max(5, count_syllables(row["summary"]))} if fixed else {}

    def post(kind: str, path: str, body: dict) -> None:
        response = client.post(path, json=body)
        response.raise_for_status()
        texts[kind].append(response.json()["summary"]["text"])

    try:
        with httpx.Client(base_url=url, timeout=3600) as client:
            health = client.get("/healthz").json()["models"]["summarizer"]
            result["backend"] = health.get("backend")
            asked = rows[: n + warmup]
            ask = [
                timed(lambda r=r: post("ask", "/v1/ask", {"question": r["title"], **words(r)}))
                for r in asked
            ]
            first = [first_token_s(client, r["title"]) for r in asked]
            summarize = [
                timed(
                    lambda r=r: post(
                        "summarize", "/v1/summarize", {"article_id": r["id"], **words(r)}
                    )
                )
                for r in rows[-(n + warmup) :]
            ]
        for name, values in (
            ("ask", ask[warmup:]),
            ("first_token", first[warmup:]),
            ("summarize", summarize[warmup:]),
        ):  # (lengths are recorded for every request, warm-ups included)
            result[f"{name}_p50"] = statistics.median(values)
            result[f"{name}_p95"] = percentile(values, 0.95)
        result["rss_gb"] = vm_hwm_bytes(process.pid) / 1024**3
        for kind, produced in texts.items():
            result[f"{kind}_tokens"] = token_lengths(work / "models" / model_name, produced)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return result


def agreement(work: Path, rows: list[dict], n: int) -> tuple[float, float, float]:
    """Greedy int8 vs fp32 from the same 512-token inputs, 64 new tokens each: the share
    of identical sequences, of identical tokens position by position, and the mean
    share of each sequence before the first difference."""
    from models.summarization.factory import load_seq2seq
    from models.summarization.generation import DecodeOptions

    folder = work / "models" / MODEL_NAME
    fp32 = load_seq2seq(str(folder), backend="torch")
    int8 = load_seq2seq(str(folder), backend="ctranslate2", models_dir=work / "models")
    options = DecodeOptions(max_new_tokens=64, num_beams=1, min_new_tokens=64)
    inputs = fp32._encode([row["body"] for row in rows[:n]])
    same = positions = agree = prefix = 0.0
    for ids in inputs:
        a = [t for t in fp32.generator.generate([ids], options)[0] if t != 0]
        b = [t for t in int8.generator.generate([ids], options)[0] if t != 0]
        same += a == b
        length = max(len(a), len(b))
        matches = [x == y for x, y in zip(a, b, strict=False)]
        positions += length
        agree += sum(matches)
        first_diff = matches.index(False) if False in matches else min(len(a), len(b))
        prefix += first_diff / length
    return same / len(inputs), agree / positions, prefix / len(inputs)


def direct(work: Path, rows: list[dict], beams: int) -> list[tuple[str, float, float]]:
    """In-process generation, no HTTP or retrieval: one 512-token input, 64 new tokens
    (forced), greedy and ``beams`` beams, per backend; seconds (best of two)."""
    from models.summarization.factory import load_seq2seq
    from models.summarization.generation import DecodeOptions

    folder = work / "models" / MODEL_NAME
    out = []
    for backend in ("torch", "ctranslate2"):
        model = load_seq2seq(str(folder), backend=backend, models_dir=work / "models")
        text = " ".join(row["body"] for row in rows[:3])
        ids = model.tokenizer(text, truncation=True, max_length=512)["input_ids"]
        times = []
        for n in (1, beams):
            options = DecodeOptions(max_new_tokens=64, num_beams=n, min_new_tokens=64)
            call = partial(model.generator.generate, [ids], options)
            times.append(min(timed(call) for _ in range(2)))
        out.append((model.variant, times[0], times[1]))
    return out


def coverage(work: Path, rows: list[dict], n: int) -> dict[str, float]:
    """What the model reads of articles longer than its window, against the reference.

    For the first ``n`` dev articles over the window: the share of the reference
    summary's syllables (types, case-folded) found in the model's input when it is the
    lead plus central sentences (``select``), the first window's worth (truncation),
    and the whole article (what ``split`` reads, in parts). A proxy for summary quality
    that needs no trained weights.
    """
    from models.summarization.factory import load_seq2seq
    from models.vietnamese import syllables

    model = load_seq2seq(
        str(work / "models" / MODEL_NAME), backend="ctranslate2", models_dir=work / "models"
    )
    room = model._room()
    recall = {"select": [], "truncate": [], "whole": []}

    def share(reference: set[str], text: str) -> float:
        return len(reference & {s.lower() for s in syllables(text)}) / max(1, len(reference))

    for row in rows:
        text = f"{row['title']}\n{row['body']}"
        if model._count(text) <= room:
            continue
        reference = {s.lower() for s in syllables(row["summary"])}
        blocks = [b for b in text.split("\n\n") if b.strip()]
        recall["select"].append(share(reference, model._final_input(blocks, 128, None)))
        recall["truncate"].append(share(reference, model._pack(blocks, room)[0]))
        recall["whole"].append(share(reference, text))
        if len(recall["whole"]) >= n:
            break
    return {k: statistics.mean(v) for k, v in recall.items() if v} | {"n": len(recall["whole"])}


def print_results(results: list[dict], args: argparse.Namespace) -> None:
    print(
        f"\n{args.requests} timed requests of each kind after {args.warmup} warm-up, "
        f"{args.beams} beams, summary cache off, {args.articles} articles stored"
    )
    header = (
        "config",
        "backend",
        "prepare s",
        "ask p50",
        "ask p95",
        "1st token p50",
        "1st token p95",
        "summarize p50",
        "summarize p95",
        "peak RSS GB",
    )
    print(" | ".join(header))
    for r in results:
        print(
            " | ".join(
                [r["config"], str(r["backend"]), f"{r['prepare_s']:.1f}"]
                + [
                    f"{r[k]:.2f}"
                    for k in (
                        "ask_p50",
                        "ask_p95",
                        "first_token_p50",
                        "first_token_p95",
                        "summarize_p50",
                        "summarize_p95",
                        "rss_gb",
                    )
                ]
            )
        )
    for r in results:
        for kind in ("ask", "summarize"):
            print(f"{r['config']}: {kind} output tokens {describe_lengths(r[f'{kind}_tokens'])}")
    for lengths in ("budget", "reference", "fixed"):
        by_config = {r["config"].split()[0]: r for r in results if lengths in r["config"]}
        if {"torch", "ctranslate2"} <= set(by_config):
            base, new = by_config["torch"], by_config["ctranslate2"]
            print(
                "speed-up at {} lengths (p50): ask {:.1f}x, first token {:.1f}x, "
                "summarize {:.1f}x".format(
                    lengths,
                    base["ask_p50"] / new["ask_p50"],
                    base["first_token_p50"] / new["first_token_p50"],
                    base["summarize_p50"] / new["summarize_p50"],
                ),
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4, help="Timed requests of each kind.")
    parser.add_argument("--articles", type=int, default=40, help="Dev articles ingested.")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed requests of each kind.")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--agreement", type=int, default=4, help="Inputs compared greedily.")
    parser.add_argument(
        "--coverage", type=int, default=200, help="Long dev articles for the input coverage figure."
    )
    parser.add_argument(
        "--configs",
        default="torch,ctranslate2",
        help="Server configurations to time, comma-separated ('' for none).",
    )
    parser.add_argument(
        "--direct", action="store_true", help="Also time generation in process (512 -> 64 tokens)."
    )
    parser.add_argument(
        "--lengths",
        default="budget",
        help="Output lengths to time, comma-separated: 'budget' (the random checkpoint "
        "decodes its whole budget), 'reference' (a copy calibrated to stop at the dev "
        "references' median length), 'fixed' (the random checkpoint, each request asking "
        "for as many words as its article's reference summary: every beam decodes that "
        "length, the issue's fixed-output-length method at the references' lengths).",
    )
    parser.add_argument(
        "--calibration-inputs", type=int, default=8, help="Dev articles the scale is fitted on."
    )
    parser.add_argument(
        "--stopping-scale",
        type=float,
        default=None,
        help="Build the stopping copy with this end-token row scale instead of searching.",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/vnqa-seq2seq-bench"))
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"{DATA} is missing")
    work = args.work
    build_checkpoint(work / "models" / MODEL_NAME)
    link_embedder(work / "models")
    rows = _rows(args.articles)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VNQA_DATA_DIR": str(work / "data"),
        "VNQA_MODELS_DIR": str(work / "models"),
        "VNQA_SUMMARIZER": "extractive",
    }
    if not (work / "data" / "index").exists():
        ingest(work, rows, env)
    if args.direct:
        for variant, greedy, beamed in direct(work, rows, args.beams):
            print(
                f"direct 512 -> 64 tokens, {variant}: greedy {greedy:.2f} s, "
                f"{args.beams} beams {beamed:.2f} s",
                flush=True,
            )
    configs = [c for c in args.configs.split(",") if c]
    if args.coverage:
        cover = coverage(work, _rows(), args.coverage)
        print(
            f"{cover.pop('n')} dev articles over the window, reference syllables found in "
            "what the model reads: " + ", ".join(f"{k} {v:.1%}" for k, v in cover.items()),
            flush=True,
        )
    names = {"budget": MODEL_NAME, "reference": STOPPING_NAME, "fixed": MODEL_NAME}
    lengths = [x for x in args.lengths.split(",") if x]
    if unknown := set(lengths) - set(names):
        sys.exit(f"unknown --lengths {sorted(unknown)}; expected budget, reference or fixed")
    if "reference" in lengths:
        record = build_stopping_checkpoint(
            work / "models" / MODEL_NAME,
            work / "models" / STOPPING_NAME,
            beams=args.beams,
            inputs=args.calibration_inputs,
            scale=args.stopping_scale,
        )
        print(
            "stopping checkpoint: end-token row x{eos_row_scale}, median {calibrated_median_tokens}"
            " tokens on the calibration inputs (references' median {target_median_tokens})".format(
                **record
            ),
            flush=True,
        )
    results = []
    for config in configs:
        for length in lengths:
            results.append(
                measure(
                    config,
                    work,
                    rows,
                    args.requests,
                    args.beams,
                    args.warmup,
                    names[length],
                    fixed=length == "fixed",
                )
            )
            print(json.dumps(results[-1]), flush=True)
    if results:
        print_results(results, args)
    if args.agreement:
        same, tokens, prefix = agreement(work, rows, args.agreement)
        print(
            f"int8 vs fp32 greedy, {args.agreement} inputs x 64 tokens: identical sequences "
            f"{same:.0%}, tokens agreeing {tokens:.0%}, mean share before first difference "
            f"{prefix:.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

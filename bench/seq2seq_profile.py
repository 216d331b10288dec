"""Where one ``/v1/ask`` and one ``/v1/summarize`` spend their time with a seq2seq model.

    .venv/bin/python bench/seq2seq_profile.py [--requests 2] [--beams 4] [--backend ctranslate2]

In process, over what ``bench/seq2seq_speed.py`` built in ``--work`` (the ViT5-base-shaped
checkpoint, its CTranslate2 copy, the 40 ingested dev articles): the server's runtime
(:func:`service.runtime.build_runtime`; summary cache and summaries on arrival off) answers
the first ``--requests`` dev titles and summarizes the last ``--requests`` stored articles,
as the speed bench does over HTTP. Each request is split into retrieval + composer
(``Answerer.draft``, asks only), input fitting (sentence selection, token counts,
encoding: the write step minus its generations), and each generation: input tokens,
token budget, beams, tokens generated, seconds, and the encoder's share (the same input
decoded for one token, greedy, timed afterwards). A random-weight model decodes up to its
budget, so ``decode`` is the budget's cost, not a trained model's.

``--decode`` instead times the converted model alone (``ctranslate2.Translator``,
``--threads`` intra-op threads): one summarize input (453 tokens) and one answer-sized input
(100 tokens), for several token budgets and beam widths, best of two alternated runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.seq2seq_speed import DATA, MODEL_NAME, STOPPING_NAME, _rows, timed_decode  # noqa: E402
from models.summarization.generation import DecodeOptions, Generator  # noqa: E402


@dataclass
class Call:
    """One generation: its input, options, output and seconds."""

    inputs: list[list[int]]
    options: DecodeOptions
    generated: list[int]
    seconds: float


@dataclass
class Recorder:
    """A generator that remembers each call (streams are timed to their last token)."""

    inner: Generator
    calls: list[Call] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.inner.backend

    @property
    def variant(self) -> str:
        return self.inner.variant

    def generate(self, inputs: Sequence[Sequence[int]], options: DecodeOptions) -> list[list[int]]:
        started = time.perf_counter()
        out = self.inner.generate(inputs, options)
        self.calls.append(
            Call(
                [list(i) for i in inputs],
                options,
                [len(o) for o in out],
                time.perf_counter() - started,
            )
        )
        return out

    def stream(self, input_ids: Sequence[int], options: DecodeOptions) -> Iterator[int]:
        started = time.perf_counter()
        n = 0
        for token in self.inner.stream(input_ids, options):
            n += 1
            yield token
        self.calls.append(Call([list(input_ids)], options, [n], time.perf_counter() - started))


def encoder_seconds(generator: Generator, call: Call) -> float:
    """The same inputs decoded for one token (greedy): the encoder plus one step."""
    options = DecodeOptions(max_new_tokens=1, num_beams=1, min_new_tokens=1)
    started = time.perf_counter()
    generator.generate(call.inputs, options)
    return time.perf_counter() - started


def profile(kind: str, run, recorder: Recorder) -> dict:  # noqa: ANN001
    """Time ``run`` (returns draft seconds or 0) and break its generations down."""
    recorder.calls.clear()
    started = time.perf_counter()
    draft_s = run()
    total = time.perf_counter() - started
    calls = list(recorder.calls)
    generate_s = sum(c.seconds for c in calls)
    encoder_s = sum(encoder_seconds(recorder.inner, c) for c in calls)
    return {
        "kind": kind,
        "total_s": round(total, 3),
        "draft_s": round(draft_s, 3),
        "fitting_s": round(total - draft_s - generate_s, 3),
        "generations": len(calls),
        "generate_s": round(generate_s, 3),
        "encoder_plus_1_step_s": round(encoder_s, 3),
        "decode_s": round(generate_s - encoder_s, 3),
        "input_tokens": [len(i) for c in calls for i in c.inputs],
        "budget": [c.options.max_new_tokens for c in calls],
        "beams": [c.options.num_beams for c in calls],
        "generated": [g for c in calls for g in c.generated],
    }


DECODE_CASES = (
    (453, 1, 1),
    (453, 128, 4),
    (453, 104, 4),
    (453, 128, 2),
    (453, 104, 2),
    (453, 104, 1),
    (100, 1, 1),
    (100, 96, 4),
    (100, 96, 2),
    (100, 96, 1),
)


def decode_table(work: Path, threads: int) -> None:
    """Seconds per (input tokens, new tokens, beams) on the CTranslate2 copy alone."""
    import ctranslate2
    from transformers import AutoTokenizer

    folder = work / "models" / MODEL_NAME
    converted = next((work / "models" / "ct2").glob(f"{MODEL_NAME}-*-int8"))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    row = _rows(40)[38]  # the summarize article the speed bench times first
    ids = tokenizer(f"vietnews: {row['title']}\n{row['body']} </s>")["input_ids"][:1024]
    translator = ctranslate2.Translator(
        str(converted), compute_type="int8", inter_threads=1, intra_threads=threads
    )

    def run(n_in: int, steps: int, beams: int) -> float:
        return timed_decode(translator, tokenizer, ids, n_in, steps, beams)[0]

    run(64, 2, 1)
    times: dict[tuple[int, int, int], list[float]] = {case: [] for case in DECODE_CASES}
    for _ in range(2):
        for case in DECODE_CASES:
            times[case].append(run(*case))
    print(f"CTranslate2 int8, intra_threads {threads}")
    for (n_in, steps, beams), values in times.items():
        print(f"input {n_in} tokens, {steps} new, {beams} beams: best {min(values):.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2, help="Asks and summaries profiled.")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed requests of each kind.")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--backend", default="ctranslate2", choices=("ctranslate2", "torch"))
    parser.add_argument("--articles", type=int, default=40, help="As ingested by the speed bench.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/vnqa-seq2seq-bench"))
    parser.add_argument("--decode", action="store_true", help="Time the converted model alone.")
    parser.add_argument("--threads", type=int, default=2, help="intra_threads with --decode.")
    parser.add_argument(
        "--model",
        default=MODEL_NAME,
        help=f"Checkpoint in <work>/models (e.g. {STOPPING_NAME}, built by "
        "seq2seq_speed.py --lengths reference).",
    )
    args = parser.parse_args()
    if not (args.work / "data" / "index").exists() or not DATA.is_file():
        sys.exit(f"run bench/seq2seq_speed.py first (nothing built in {args.work})")
    if args.decode:
        decode_table(args.work, args.threads)
        return 0
    from service.core.config import Settings
    from service.runtime import build_runtime

    settings = Settings(
        data_dir=args.work / "data",
        models_dir=args.work / "models",
        summarizer="seq2seq",
        summarizer_model=args.model,
        summarizer_backend=args.backend,
        summarizer_beams=args.beams,
        summary_cache_entries=0,
        auto_summaries=False,
    )
    runtime = build_runtime(settings)
    try:
        model = runtime.summarizer_choice.summarizer
        recorder = Recorder(model.generator)  # type: ignore[attr-defined]
        model.generator = recorder  # type: ignore[attr-defined]
        answerer = runtime.answerer
        rows = _rows(args.articles)
        n = args.requests + args.warmup
        results = []

        def ask(question: str) -> float:
            started = time.perf_counter()
            draft = answerer.draft(question)
            draft_s = time.perf_counter() - started
            answerer.write(draft)
            return draft_s

        def summarize(article_id: str) -> float:
            answerer.summarize_article(article_id)
            return 0.0

        for i, row in enumerate(rows[:n]):
            result = profile("ask", lambda q=row["title"]: ask(q), recorder)
            if i >= args.warmup:
                results.append(result)
        for i, row in enumerate(rows[-n:]):
            result = profile("summarize", lambda a=row["id"]: summarize(a), recorder)
            if i >= args.warmup:
                results.append(result)
        window = model.max_input_tokens  # type: ignore[attr-defined]
        print(f"{args.model}: {model.variant}, {args.beams} beams, {window}-token window")
        for r in results:
            print(json.dumps(r), flush=True)
        for kind in ("ask", "summarize"):
            mine = [r for r in results if r["kind"] == kind]
            if mine:
                summary = {
                    k: round(statistics.median(r[k] for r in mine), 3)
                    for k in (
                        "total_s",
                        "draft_s",
                        "fitting_s",
                        "encoder_plus_1_step_s",
                        "decode_s",
                    )
                }
                print(f"{kind} medians: " + json.dumps(summary), flush=True)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

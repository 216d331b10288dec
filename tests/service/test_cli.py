"""The ``vnqa`` CLI in-process: real models, a temporary data folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "nghean-cong-an-2025-11-27.txt"
QUESTION = "Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?"

EXTRA = [
    {
        "id": "gia-xang",
        "title": "Giá xăng giảm",
        "text": "Giá xăng RON95 giảm 300 đồng mỗi lít từ 15 giờ chiều nay. "
        "Liên Bộ Công Thương - Tài chính điều hành giá theo kỳ.",
        "date": "2025-11-20",
        "source": "vnexpress.net",
    },
    {
        "id": "bong-da",
        "text": "Đội tuyển Việt Nam thắng Lào 2-0 trên sân Mỹ Đình. Hai bàn thắng đến trong "
        "hiệp hai.",
        "date": "2025-11-21",
        "source": "thethao.vn",
    },
]


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, embedder):
    """Environment for in-process ``vnqa`` runs, and a folder of articles to ingest.

    Depends on the session ``embedder`` so the model folder under ``.models`` exists
    before the CLI resolves the same model on its own.
    """
    data = tmp_path_factory.mktemp("cli-data")
    articles = tmp_path_factory.mktemp("cli-articles")
    shutil.copy(SEED, articles / SEED.name)
    (articles / "more.jsonl").write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in EXTRA) + "\n", encoding="utf-8"
    )
    env = {
        "VNQA_DATA_DIR": str(data),
        "VNQA_MODELS_DIR": str(REPO / ".models"),
        "VNQA_SUMMARIZER": "extractive",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "COLUMNS": "200",
    }
    return env, articles


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def ingested(runner, cli_env):
    env, articles = cli_env
    result = runner.invoke(app, ["ingest", str(articles)], env=env)
    assert result.exit_code == 0, result.output
    return result


def test_ingest_prints_summary(ingested):
    out = ingested.stdout
    assert "articles added" in out and "chunks" in out and "seconds" in out
    row = next(line for line in out.splitlines() if "articles added" in line)
    assert re.search(r"articles added\W+3(?!\d)", row), row


def test_ingest_again_replaces(runner, cli_env, ingested):
    env, articles = cli_env
    result = runner.invoke(app, ["ingest", str(articles / "more.jsonl")], env=env)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "articles replaced" in line)
    assert re.search(r"articles replaced\W+2(?!\d)", row), row


def test_stats(runner, cli_env, ingested):
    env, _ = cli_env
    result = runner.invoke(app, ["stats"], env=env)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "articles" in line)
    assert re.search(r"\barticles\W+3(?!\d)", row), row
    assert "embedding model" in result.stdout


def test_ask_json_matches_api_shape(runner, cli_env, ingested):
    env, _ = cli_env
    result = runner.invoke(app, ["ask", QUESTION, "--json", "--top-k", "3"], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"question", "summary", "answer_sentences", "passages"}
    assert body["summary"]["method"] == "extractive"
    assert 1 <= len(body["passages"]) <= 3
    assert body["answer_sentences"]
    assert all(0 <= s["passage"] < len(body["passages"]) for s in body["answer_sentences"])
    top = body["passages"][0]
    assert "Bí thư Tỉnh ủy yêu cầu" in top["text"]
    assert top["source"] == "nghean.gov.vn" and top["date"] == "2025-11-27"
    lo, hi = top["highlight"]
    assert top["start"] <= lo < hi <= top["end"]


def test_ask_readable(runner, cli_env, ingested):
    env, _ = cli_env
    result = runner.invoke(app, ["ask", "Giá xăng giảm bao nhiêu?", "-k", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "extractive" in result.stdout
    assert "[1]" in result.stdout and "Giá xăng giảm" in result.stdout


def test_summarize_file(runner, cli_env):
    env, _ = cli_env
    result = runner.invoke(app, ["summarize", "--file", str(SEED), "--max-words", "40"], env=env)
    assert result.exit_code == 0, result.output
    assert "extractive" in result.stdout
    assert "Tỉnh ủy" in result.stdout


def test_summarize_stored_article(runner, cli_env, ingested):
    env, _ = cli_env
    result = runner.invoke(app, ["summarize", "--article-id", "gia-xang"], env=env)
    assert result.exit_code == 0, result.output
    assert "Giá xăng" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/khong/co/thu/muc"], "no such file"),
        (["summarize"], "exactly one"),
        (["summarize", "--article-id", "khong-co"], "khong-co"),
        (["summarize", "--article-id", "x\udcff"], "lone surrogate"),  # undecodable argv byte
        (["ask", "   "], "empty"),
    ],
)
def test_expected_errors_are_one_line(runner, cli_env, ingested, args, message):
    env, _ = cli_env
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bad_article_file(runner, cli_env, tmp_path):
    env, _ = cli_env
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "title": "không có nội dung"}\n', encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(bad)], env=env)
    assert result.exit_code == 1
    assert "bad.jsonl" in result.output and "text" in result.output
    assert "Traceback" not in result.output


def test_models_prepare_explains_the_summarizer(runner, cli_env):
    env, _ = cli_env
    result = runner.invoke(
        app,
        ["models", "prepare"],
        env={**env, "VNQA_SUMMARIZER": "auto", "VNQA_SUMMARIZER_MODEL": "khong-co/mo-hinh"},
    )
    assert result.exit_code == 0, result.output
    assert "Embeddings:" in result.stdout and "dimension 384" in result.stdout
    assert "extractive" in result.stdout and "because" in result.stdout


def test_model_mismatch_then_reindex(runner, cli_env, tmp_path):
    from index.store import ArticleStore

    env, _ = cli_env
    env = {**env, "VNQA_DATA_DIR": str(tmp_path / "data")}
    articles = tmp_path / "one.jsonl"
    articles.write_text(json.dumps(EXTRA[0], ensure_ascii=False) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(articles)], env=env).exit_code == 0

    store = ArticleStore(tmp_path / "data" / "index" / "store.sqlite3")
    store.set_meta({"embedding_fingerprint": "mo-hinh-khac"})  # as if another model built it
    store.close()

    mismatch = runner.invoke(app, ["stats"], env=env)
    assert mismatch.exit_code == 1
    assert "vnqa reindex" in mismatch.output and "Traceback" not in mismatch.output

    fixed = runner.invoke(app, ["reindex"], env=env)
    assert fixed.exit_code == 0, fixed.output
    assert "Re-embedded" in fixed.stdout
    assert runner.invoke(app, ["stats"], env=env).exit_code == 0


def test_models_import_installs_converts_and_names_the_setting(
    runner, cli_env, tiny_seq2seq_dir, tmp_path
):
    import tarfile

    env, _ = cli_env
    env = {**env, "VNQA_MODELS_DIR": str(tmp_path / "models")}
    archive = tmp_path / "tiny.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(tiny_seq2seq_dir, arcname="vit5-tiny")
    result = runner.invoke(app, ["models", "import", str(archive)], env=env)
    assert result.exit_code == 0, result.output
    assert "VNQA_SUMMARIZER_MODEL=vit5-tiny" in result.stdout
    assert "Converted:" in result.stdout
    assert (tmp_path / "models" / "vit5-tiny" / "config.json").is_file()
    assert len(list((tmp_path / "models" / "ct2").iterdir())) == 1

    again = runner.invoke(app, ["models", "import", str(archive)], env=env)
    assert again.exit_code == 1 and "--replace" in again.output

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "t5"}', encoding="utf-8")
    missing = runner.invoke(app, ["models", "import", str(broken)], env=env)
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert "weights" in missing.output and "tokenizer" in missing.output


def _panel_text(output: str) -> str:
    """The words of a rich panel's body, box characters and wrapping removed."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def test_summarize_article_id_puts_the_title_first_like_the_api(
    runner, cli_env, ingested, embedder
):
    # The title leads the text that is summarized, as in POST /v1/summarize and MCP; at 30
    # words the seed's summary differs with and without it, so this fails if it is dropped.
    from index.article_files import load_articles
    from service.core.config import Settings
    from service.runtime import build_runtime

    env, _ = cli_env
    seed = next(iter(load_articles(SEED)))
    result = runner.invoke(
        app, ["summarize", "--article-id", seed.id, "--max-words", "30"], env=env
    )
    assert result.exit_code == 0, result.output
    settings = Settings(
        data_dir=Path(env["VNQA_DATA_DIR"]),
        models_dir=Path(env["VNQA_MODELS_DIR"]),
        summarizer="extractive",
    )
    runtime = build_runtime(settings, embedder=embedder)
    try:
        with_title = runtime.answerer.summarize_article(seed.id, 30).text
        body_only = runtime.answerer.summarize_text(seed.text, 30).text
    finally:
        runtime.close()
    assert with_title != body_only
    assert " ".join(with_title.split()) in _panel_text(result.stdout)


def test_limits_are_the_apis(runner, cli_env, ingested):
    # service/limits.py: VNQA_MAX_SUMMARY_WORDS caps the CLI too; a usage error, exit 2.
    env, _ = cli_env
    result = runner.invoke(app, ["ask", QUESTION, "--max-words", "1000"], env=env)
    assert result.exit_code == 2
    assert "VNQA_MAX_SUMMARY_WORDS" in result.output and "Traceback" not in result.output


def test_python_dash_m_has_every_command():
    """``python -m service.cli`` (what the benches, the durability tests and operators
    without the ``vnqa`` script run) defines every command before it starts the app."""
    import os
    import subprocess
    import sys

    from typer.main import get_command

    shown = subprocess.run(
        [sys.executable, "-m", "service.cli", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    # rich draws its panels with "│", or with "|" where the output is not UTF-8.
    listed = set(re.findall(r"^[│|] (\w[\w-]*)\s", shown, flags=re.MULTILINE))
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert {"ingest", "resummarize", "fetch", "watch"} <= commands
    assert commands <= listed, sorted(commands - listed)

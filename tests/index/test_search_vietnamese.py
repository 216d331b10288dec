"""Questions typed without diacritics, or in NFD, search like accented NFC ones."""

import unicodedata
from pathlib import Path

import pytest

from index.documents import Article
from index.engine import ArticleIndex
from models.vietnamese import strip_diacritics

ARTICLES = [
    Article(
        id="an-ninh",
        title="Công an tỉnh",
        text="Bí thư Tỉnh ủy yêu cầu Công an tỉnh chủ động nắm chắc tình hình. "
        "Công an cần đấu tranh làm thất bại mọi âm mưu chống phá trên không gian mạng.",
    ),
    Article(
        id="thoi-tiet",
        title="Thời tiết",
        text="Miền Bắc đón đợt không khí lạnh mạnh. Nhiệt độ thấp nhất 12 độ C ở vùng núi.",
    ),
    Article(
        id="bong-da",
        title="Bóng đá",
        text="Đội tuyển Việt Nam thắng 2-0 trên sân Mỹ Đình. Hai bàn thắng đến trong hiệp hai.",
    ),
    Article(
        id="giao-duc",
        title="Giáo dục",
        text="Bộ Giáo dục công bố phương án thi tốt nghiệp. Thí sinh thi bốn môn.",
    ),
]
QUESTIONS = [
    ("Bí thư Tỉnh ủy yêu cầu Công an tỉnh làm gì?", "an-ninh"),
    ("Nhiệt độ thấp nhất ở vùng núi là bao nhiêu?", "thoi-tiet"),
    ("Đội tuyển Việt Nam thắng mấy bàn?", "bong-da"),
    ("Thí sinh thi mấy môn tốt nghiệp?", "giao-duc"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    folder: Path = tmp_path_factory.mktemp("vi-search")
    with ArticleIndex.open(folder, embedder) as idx:
        idx.add_articles(ARTICLES)
        yield idx


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_unaccented_questions_find_the_same_article(index, mode):
    for question, gold in QUESTIONS:
        plain = strip_diacritics(question)
        assert index.search(plain, top_k=1, mode=mode)[0].article_id == gold, plain


def test_nfd_questions_rank_exactly_like_nfc(index):
    for question, _ in QUESTIONS:
        nfc = index.search(question, top_k=4)
        nfd = index.search(unicodedata.normalize("NFD", question), top_k=4)
        assert [(h.chunk_id, h.score) for h in nfd] == [(h.chunk_id, h.score) for h in nfc]


def test_dense_only_unaccented_search_uses_the_restored_question(index):
    question = "bi thu tinh uy yeu cau cong an tinh lam gi"
    restored = index.search(question, top_k=1, mode="dense")[0]
    accented = index.search("bí thư tỉnh ủy yêu cầu công an tỉnh làm gì", top_k=1, mode="dense")[0]
    assert restored.chunk_id == accented.chunk_id
    assert restored.score == pytest.approx(accented.score, abs=0.02)


def test_rrf_fusion_also_serves_unaccented_questions(tmp_path, embedder):
    with ArticleIndex.open(tmp_path / "rrf", embedder, fusion="rrf") as idx:
        idx.add_articles(ARTICLES)
        for question, gold in QUESTIONS:
            assert idx.search(strip_diacritics(question), top_k=1)[0].article_id == gold

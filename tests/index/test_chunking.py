"""Tests for index.chunking: exact offsets, sizes, overlap, long sentences, coverage."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.article_files import parse_seed
from index.chunking import Chunk, chunk_article, chunk_units
from index.documents import Article, make_article
from models.vietnamese import count_syllables, split_sentences

SEED = Path(__file__).resolve().parents[2] / "seeds" / "nghean-cong-an-2025-11-27.txt"

_VOCAB = (
    "an ninh trật tự công tác tỉnh ủy bí thư đồng chí lực lượng nhân dân phát triển kinh tế "
    "xã hội địa bàn nhiệm vụ thời gian tới đảm bảo chủ động phòng chống tội phạm ma túy "
    "biên giới năm 2025 Nghệ An Vinh hỗ trợ doanh nghiệp dữ liệu"
).split()


@pytest.fixture(scope="module")
def seed() -> Article:
    return parse_seed(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_chunks(seed: Article) -> list[Chunk]:
    return chunk_article(seed)


def syl(text: str) -> int:
    return count_syllables(text)


def assert_well_formed(article: Article, chunks: list[Chunk], max_syllables: int) -> None:
    """Offsets exact, positions 0..n-1, sizes respected, chunks advance, text covered."""
    text = article.text
    assert [c.position for c in chunks] == list(range(len(chunks)))
    covered = [False] * len(text)
    for chunk in chunks:
        assert chunk.article_id == article.id
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip()
        assert syl(chunk.text) <= max_syllables
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert prev.start < nxt.start and prev.end < nxt.end  # progress, no duplicates
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    sentences = split_sentences(text)
    for sentence in sentences:  # every sentence that fits lands whole in some chunk
        if syl(sentence.of(text)) <= max_syllables:
            assert any(c.start <= sentence.start and sentence.end <= c.end for c in chunks)


def short_sentences(n: int, rng: random.Random, lo: int = 6, hi: int = 18) -> list[str]:
    out = []
    for _ in range(n):
        words = [rng.choice(_VOCAB) for _ in range(rng.randint(lo, hi))]
        out.append(" ".join(words).capitalize() + ".")
    return out


# ----------------------------------------------------------------------------- the seed


def test_seed_chunks_are_exact_and_sized(seed: Article, seed_chunks: list[Chunk]) -> None:
    assert len(seed_chunks) > 5
    assert_well_formed(seed, seed_chunks, 120)
    sizes = [syl(c.text) for c in seed_chunks]
    assert min(sizes) >= 40  # captions are glued to their paragraph, no tiny fragments


def test_seed_chunks_overlap_by_at_most_one_unit(seed: Article, seed_chunks: list[Chunk]) -> None:
    units = chunk_units(seed.text, 120)
    starts = {u.start for u in units}
    ends = {u.end for u in units}
    overlapping = 0
    for prev, nxt in zip(seed_chunks, seed_chunks[1:], strict=False):
        assert nxt.start in starts and prev.end in ends
        if nxt.start < prev.end:
            overlapping += 1
            shared = [u for u in units if nxt.start <= u.start and u.end <= prev.end]
            assert len(shared) == 1
            assert prev.text.endswith(shared[0].of(seed.text))
            assert nxt.text.startswith(shared[0].of(seed.text))
    assert overlapping >= len(seed_chunks) // 2


def test_seed_closing_requests_land_in_chunks_intact(
    seed: Article, seed_chunks: list[Chunk]
) -> None:
    requests = [
        "Bí thư Tỉnh ủy yêu cầu lực lượng Công an luôn chủ động đi trước một bước, nhận diện và "
        "phát hiện kịp thời các nguy cơ, các yếu tố tiềm ẩn tác động đến an ninh chính trị, trật "
        "tự an toàn xã hội, đặc biệt là các vấn đề liên quan đến tôn giáo, dân tộc và an ninh "
        "kinh tế.",
        "Cần chủ động đấu tranh, ngăn chặn, làm thất bại mọi âm mưu chống phá của các thế lực "
        "thù địch, nhất là trên không gian mạng.",
        "Cùng với đó, chủ động nhận diện các vấn đề dịch bệnh, thiên tai, hỏa hoạn để có phương "
        "án phòng chống, hỗ trợ kịp thời.",
        "Công tác đấu tranh phòng, chống tham nhũng, tiêu cực phải được tiến hành kiên quyết, "
        "kiên trì, thường xuyên và hiệu quả.",
        "Bí thư Tỉnh ủy cũng lưu ý trong thực hiện nhiệm vụ, Công an phải hỗ trợ, tạo điều kiện "
        "để doanh nghiệp phát triển.",
        "Nhấn mạnh về tầm quan trọng của cơ sở dữ liệu, Bí thư Tỉnh ủy yêu cầu Công an tỉnh cần "
        "xây dựng chiến lược dữ liệu và áp dụng công nghệ khoa học để quản lý; phải đảm bảo đồng "
        "bộ, thống nhất, liên thông, chia sẻ dữ liệu giữa các cơ sở dữ liệu để phục vụ công việc.",
        "Bí thư Tỉnh ủy tin tưởng với truyền thống, kinh nghiệm, bản lĩnh, quyết tâm, nỗ lực, lực "
        "lượng Công an tỉnh sẽ tiếp tục hoàn thành xuất sắc nhiệm vụ, giữ vững ổn định tình hình "
        "an ninh trật tự trên địa bàn để tạo điều kiện tốt hơn trong phát triển kinh tế - xã hội "
        "tỉnh nhà trong thời gian tới.",
    ]
    for sentence in requests:
        assert sentence in seed.text
        assert any(sentence in c.text for c in seed_chunks), sentence[:60]
    # The short closing paragraphs fit whole, together with their neighbours.
    assert any(requests[1] in c.text and requests[2] in c.text for c in seed_chunks)
    assert seed_chunks[-1].text.endswith(requests[-1])


def test_seed_captions_stay_with_following_text(seed: Article, seed_chunks: list[Chunk]) -> None:
    caption = "Bí thư Tỉnh ủy Nguyễn Khắc Thận phát biểu"
    holders = [c for c in seed_chunks if caption in c.text]
    assert holders
    assert all("Phát biểu kết luận buổi làm việc" in c.text for c in holders)


def test_seed_chunking_is_deterministic(seed: Article, seed_chunks: list[Chunk]) -> None:
    assert chunk_article(seed) == seed_chunks


# ----------------------------------------------------------------------------- synthetic


def test_consecutive_chunks_share_exactly_one_sentence() -> None:
    rng = random.Random(7)
    paragraphs = [" ".join(short_sentences(4, rng)) for _ in range(6)]
    article = make_article(id="syn", text="\n\n".join(paragraphs))
    chunks = chunk_article(article, max_syllables=60)
    assert len(chunks) >= 4
    assert_well_formed(article, chunks, 60)
    sentences = [s.of(article.text) for s in split_sentences(article.text)]
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        shared = article.text[nxt.start : prev.end]
        assert shared in sentences
        assert prev.text.endswith(shared) and nxt.text.startswith(shared)


def test_no_overlap_when_disabled() -> None:
    rng = random.Random(8)
    article = make_article(id="syn", text=" ".join(short_sentences(30, rng)))
    chunks = chunk_article(article, max_syllables=50, overlap_sentences=0)
    assert_well_formed(article, chunks, 50)
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert prev.end < nxt.start
        assert article.text[prev.end : nxt.start].isspace()


def test_overlap_of_two_sentences() -> None:
    rng = random.Random(9)
    article = make_article(id="syn", text=" ".join(short_sentences(30, rng, 4, 8)))
    chunks = chunk_article(article, max_syllables=60, overlap_sentences=2)
    assert_well_formed(article, chunks, 60)
    sentences = split_sentences(article.text)
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        shared = [s for s in sentences if nxt.start <= s.start and s.end <= prev.end]
        assert len(shared) == 2


def test_one_short_sentence_gives_one_chunk() -> None:
    article = make_article(id="one", text="Nghệ An đón mưa lớn.")
    assert chunk_article(article) == [Chunk("one", 0, 0, len(article.text), article.text)]


def test_empty_text_gives_no_chunks() -> None:
    assert chunk_article(Article(id="e", text="  ")) == []


def test_long_sentence_is_split_at_clauses() -> None:
    clauses = [" ".join(["an ninh trật tự"] * 5) for _ in range(12)]  # 20 syllables each
    text = "Mở đầu ngắn. " + ", ".join(clauses).capitalize() + ". Kết thúc ngắn."
    article = make_article(id="long", text=text)
    chunks = chunk_article(article, max_syllables=50)
    assert_well_formed(article, chunks, 50)
    assert len(chunks) >= 5
    for chunk in chunks[1:-1]:  # pieces of the long sentence end after a comma or the period
        assert chunk.text.endswith((",", "."))


def test_long_sentence_without_punctuation_is_split_at_words() -> None:
    text = " ".join(["phát triển"] * 100) + "."
    article = make_article(id="words", text=text)
    chunks = chunk_article(article, max_syllables=30, overlap_sentences=0)
    assert_well_formed(article, chunks, 30)
    assert [syl(c.text) for c in chunks] == [30] * 6 + [20]
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert article.text[prev.end : nxt.start] == " "


def test_giant_token_is_split_between_syllables() -> None:
    text = "Đường dẫn " + ".".join(["vnexpress"] * 40) + " rất dài."
    article = make_article(id="url", text=text)
    chunks = chunk_article(article, max_syllables=8)
    assert_well_formed(article, chunks, 8)


def test_long_caption_block_is_split_at_line_breaks() -> None:
    caption = "Quang cảnh buổi làm việc tại trụ sở Công an tỉnh"  # no closing punctuation
    body = " ".join(short_sentences(1, random.Random(3), 30, 30))
    text = "\n\n".join([caption] * 3 + [body, "Câu sau."])
    article = make_article(id="cap", text=text)
    chunks = chunk_article(article, max_syllables=45)
    assert_well_formed(article, chunks, 45)
    assert any(c.text.startswith(caption) and body in c.text for c in chunks)


@pytest.mark.parametrize(("max_syllables", "overlap"), [(0, 1), (10, -1)])
def test_invalid_parameters(max_syllables: int, overlap: int) -> None:
    article = make_article(id="x", text="Câu.")
    with pytest.raises(ValueError):
        chunk_article(article, max_syllables=max_syllables, overlap_sentences=overlap)


# ----------------------------------------------------------------------------- property test


def random_text(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 6)):
        sentences = []
        for _ in range(rng.randint(1, 6)):
            n = rng.choice([1, 3, 8, 15, 25, 40, 90, 200])
            words = [rng.choice(_VOCAB) for _ in range(rng.randint(1, n))]
            for i in range(1, len(words)):
                if rng.random() < 0.08:
                    words[i - 1] += rng.choice([",", ";", ":"])
            sentence = " ".join(words).capitalize()
            sentences.append(sentence + rng.choice([".", ".", "?", "!", "…", ""]))
        sep = rng.choice([" ", "  ", "\n"])
        paragraphs.append(sep.join(sentences))
    return rng.choice(["\n\n", "\n\n\n", "\n"]).join(paragraphs)


def test_random_texts_offsets_and_coverage() -> None:
    rng = random.Random(20251127)
    for case in range(150):
        article = make_article(id=f"r{case}", text=random_text(rng))
        max_syllables = rng.choice([5, 20, 60, 120, 200])
        overlap = rng.choice([0, 1, 1, 2])
        chunks = chunk_article(article, max_syllables=max_syllables, overlap_sentences=overlap)
        assert chunks, article.text
        assert_well_formed(article, chunks, max_syllables)

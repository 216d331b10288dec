"""The answer composer on the founding article, with the real embedder and index."""

from __future__ import annotations

import numpy as np
import pytest

from index.article_files import load_articles
from models.vietnamese import syllables
from service.answer_composer import (
    DEFAULT_WEIGHTS,
    Candidate,
    Weights,
    candidates_of,
    compose,
    is_list_question,
)
from service.answer_features import FEATURES, SCORER_WEIGHTS, features
from service.chat import answer_pieces
from service.schemas import SEED_QUESTION, AskResponse
from tests.conftest import SEED_ARTICLE

# The Secretary's distinct requests, from the article's closing section, each with the
# words that name it. A one-sentence answer can name two of them at most.
SECRETARY_REQUESTS = {
    "stay a step ahead of threats": ("đi trước một bước",),
    "fight hostile forces, above all online": ("thế lực thù địch", "không gian mạng"),
    "a data strategy with shared, linked databases": ("chiến lược dữ liệu",),
    "network and information security of the databases": ("an ninh mạng",),
    "support businesses": ("doanh nghiệp phát triển",),
    "grassroots security in remote areas": ("vùng sâu, vùng xa",),
    "grasp the situation firmly": ("nắm chắc tình hình",),
    "fight corruption and negativity": ("tham nhũng",),
    "natural disasters, epidemics, fires": ("thiên tai",),
    "link security and socio-economic development": ("phát triển kinh tế",),
    "study the current context and situation": ("nghiên cứu về bối cảnh",),
}


@pytest.fixture(scope="module")
def seeded(make_runtime):
    runtime = make_runtime()
    runtime.index.add_articles(list(load_articles(SEED_ARTICLE)))
    return runtime


def _named(text: str) -> list[str]:
    folded = text.casefold()
    return [
        request
        for request, words in SECRETARY_REQUESTS.items()
        if any(w.casefold() in folded for w in words)
    ]


def test_one_sentence_cannot_pass_the_founding_check() -> None:
    # The check below must fail for the old one-sentence summary.
    old = (
        "Về nhiệm vụ trong thời gian tới, Bí thư Tỉnh ủy Nguyễn Khắc Thận yêu cầu Công an "
        "tỉnh cần nghiên cứu về bối cảnh, tình hình trong giai đoạn hiện nay và thời gian tới."
    )
    assert len(_named(old)) == 1


def test_founding_question_names_at_least_four_requests_with_sources(seeded) -> None:
    answer = seeded.answerer.answer(SEED_QUESTION)
    named = _named(answer.summary.text)
    assert len(named) >= 4, (named, answer.summary.text)
    assert is_list_question(SEED_QUESTION)
    article = seeded.index.get_article(answer.passages[0].article_id)
    # Every sentence is cited: its passage holds it, its offsets point at it.
    for sentence in answer.sentences:
        passage = answer.passages[sentence.passage]
        assert passage.article_id == sentence.article_id
        assert passage.start <= sentence.start < sentence.end <= passage.end
        source = " ".join(article.text[sentence.start : sentence.end].split())
        # A long list point is cut after a clause and ends in "…".
        assert source == sentence.text.removesuffix("…")
    # The answer is its sentences, best first, and no sentence twice.
    assert len(answer.sentences) >= 4
    assert answer.summary.text == " ".join(s.text for s in answer.sentences)
    assert len({s.text for s in answer.sentences}) == len(answer.sentences)
    # Each passage's highlight is its best sentence; the first answer sentence is one
    # (whole, where the point is cut after a clause).
    first = answer.sentences[0]
    low, high = answer.passages[first.passage].highlight
    assert low == first.start and high >= first.end


def test_a_factoid_gets_one_or_two_sentences(seeded) -> None:
    question = "Tỷ lệ điều tra, khám phá án hình sự của Công an tỉnh năm 2025 là bao nhiêu?"
    assert not is_list_question(question)
    answer = seeded.answerer.answer(question)
    assert 1 <= len(answer.sentences) <= 2
    assert "%" in answer.sentences[0].text


class _CountingEmbedder:
    """The real embedder, remembering which sentences it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.sentences: list[str] = []

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts, **kwargs):
        self.sentences.extend(texts)
        return self.inner.embed_passages(texts, **kwargs)


def test_a_factoid_embeds_only_its_likeliest_sentences(seeded) -> None:
    question = "Tỷ lệ điều tra, khám phá án hình sự của Công an tỉnh năm 2025 là bao nhiêu?"
    hits = seeded.index.search(question, top_k=5)
    candidates = candidates_of(hits)
    top = DEFAULT_WEIGHTS.embed_top
    assert top is not None and len(candidates) > top
    counting = _CountingEmbedder(seeded.embedder)
    pruned = compose(question, hits, counting, max_words=80)
    assert len(counting.sentences) == top
    assert pruned.candidates[pruned.sentences[0]].text in counting.sentences
    assert "%" in pruned.candidates[pruned.sentences[0]].text
    # Without the cut every sentence is embedded, and the answer opens the same way.
    counting.sentences.clear()
    full = compose(question, hits, counting, max_words=80, weights=Weights(embed_top=None))
    assert len(counting.sentences) == len(candidates)
    assert full.sentences[0] == pruned.sentences[0]
    # A list question always embeds every sentence: its points may be anywhere.
    counting.sentences.clear()
    compose(SEED_QUESTION, seeded.index.search(SEED_QUESTION, top_k=5), counting, max_words=160)
    assert len(counting.sentences) == len(
        candidates_of(seeded.index.search(SEED_QUESTION, top_k=5))
    )


def test_max_words_caps_a_list_answer(seeded) -> None:
    answer = seeded.answerer.answer(SEED_QUESTION, max_words=60)
    # At least one sentence always; the others fit in the budget.
    rest = sum(len(s.text.split()) for s in answer.sentences[1:])
    assert len(answer.sentences) == 1 or rest <= 60


def test_chat_markers_and_the_response_come_from_the_same_sentences(seeded) -> None:
    answer = seeded.answerer.answer(SEED_QUESTION)
    text = "".join(answer_pieces(iter([answer.summary.text]), answer.passages, answer.sentences))
    body = text.partition("\n\nNguồn:")[0]
    for sentence in answer.sentences:
        assert f"{sentence.text} [{sentence.passage + 1}]" in body
    response = AskResponse.from_answer(answer)
    assert [s.passage for s in response.answer_sentences] == [s.passage for s in answer.sentences]


def test_streamed_answer_equals_the_written_one(seeded) -> None:
    draft = seeded.answerer.draft(SEED_QUESTION)
    assert "".join(seeded.answerer.stream(draft)) == seeded.answerer.write(draft).summary.text


@pytest.mark.parametrize(
    ("question", "listy"),
    [
        ("Bí thư Tỉnh ủy yêu cầu gì?", True),
        ("Những biện pháp nào được đề ra?", True),
        ("Vì sao dự án bị chậm?", True),
        ("Ai là Bí thư Tỉnh ủy Nghệ An?", False),
        ("Năm 2025 thu ngân sách bao nhiêu?", False),
    ],
)
def test_list_questions_are_recognized(question: str, listy: bool) -> None:
    assert is_list_question(question) is listy


def test_a_seq2seq_model_reads_the_chosen_sentences_not_the_passages(
    make_runtime, tiny_seq2seq_dir
) -> None:
    runtime = make_runtime(summarizer="seq2seq", summarizer_model=str(tiny_seq2seq_dir))
    runtime.index.add_articles(list(load_articles(SEED_ARTICLE)))
    draft = runtime.answerer.draft(SEED_QUESTION, max_words=30)
    answer = runtime.answerer.write(draft)
    assert answer.summary.method == "abstractive"
    # The response names the sentences the model read: the composer's choice.
    assert answer.sentences == draft.sentences and answer.sentences
    model = runtime.summarizer
    fed = model.summarize_passages([s.text for s in draft.sentences], max_words=30)
    whole = model.summarize_passages([p.text for p in draft.passages], max_words=30)
    assert answer.summary.text == fed.text
    assert fed.text != whole.text


def _candidate(text: str) -> Candidate:
    return Candidate(0, "a", 0, len(text), text, tuple(syllables(text)))


def _column(question: str, sentences: list[Candidate], name: str) -> list[float]:
    cosines = np.zeros(len(sentences))
    return features(question, syllables(question), sentences, cosines)[
        :, FEATURES.index(name)
    ].tolist()


def test_answer_type_features_want_what_the_question_asks_and_lacks() -> None:
    sentences = [
        _candidate("Trường được thành lập năm 1908 tại Hà Nội."),
        _candidate("Trường được thành lập từ rất lâu."),
    ]
    when = "Trường được thành lập năm nào?"
    assert _column(when, sentences, "time_match") == [1.0, 0.0]
    where = "Trường được thành lập ở đâu?"
    assert _column(where, sentences, "place_match") == [1.0, 0.0]
    assert _column(where, sentences, "time_match") == [0.0, 0.0]
    who = "Ai thành lập trường?"
    assert _column(who, sentences, "person_match") == [1.0, 0.0]
    # Neither a number nor a name is asked for: no answer-type feature fires.
    why = "Trường được thành lập để làm gì?"
    for name in ("number_match", "time_match", "person_match", "place_match"):
        assert _column(why, sentences, name) == [0.0, 0.0]
    # A number the question already holds is not an answer.
    given = "Năm 1908 trường được thành lập bao nhiêu khoa?"
    assert _column(given, sentences[:1], "number_match") == [0.0]


def test_lexical_features_reward_the_question_words_and_the_sentence_after_them() -> None:
    sentences = [
        _candidate("Một số công ty Hàn Quốc đã mở văn phòng tại Mông Cổ."),
        _candidate("Những công ty này tập trung vào phát triển phần mềm."),
        _candidate("Thời tiết ở Mông Cổ rất lạnh vào mùa đông."),
    ]
    question = "Công ty Hàn Quốc mở văn phòng ở đâu?"
    assert _column(question, sentences, "best_lexical") == [1.0, 0.0, 0.0]
    assert _column(question, sentences, "after_best_lexical") == [0.0, 1.0, 0.0]
    coverage = _column(question, sentences, "coverage")
    assert coverage[0] > coverage[1] > coverage[2] > 0.0
    assert _column(question, sentences, "first_in_passage") == [1.0, 0.0, 0.0]


def test_the_shipped_scorer_has_one_weight_per_feature() -> None:
    assert SCORER_WEIGHTS.shape == (len(FEATURES),)
    assert np.isfinite(SCORER_WEIGHTS).all()

"""service/limits.py on its own: each check, the one error type and what it carries (the
interfaces' renderings are tested in test_limits.py, test_openai_chat.py, test_mcp.py and
test_cli.py)."""

from __future__ import annotations

import pytest

from service import limits
from service.core.config import Settings
from service.limits import RequestRejected


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(
        max_question_chars=20,
        max_top_k=7,
        default_top_k=5,
        max_summary_words=50,
        max_batch_articles=3,
        max_text_chars=100,
    )


def _rejected(call) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        call()
    return caught.value


def test_question_is_normalized_and_bounded(settings):
    assert limits.check_question("  Cu\u0309a ai?\x00 ", settings, "q") == "Của ai?"
    too_long = _rejected(lambda: limits.check_question("x" * 21, settings, "question"))
    assert too_long.code == "limit_exceeded"
    assert too_long.limit == {"setting": "VNQA_MAX_QUESTION_CHARS", "value": 20}
    assert too_long.message.startswith("question: 21 characters")
    empty = _rejected(lambda: limits.check_question(" \x00 ", settings, "query"))
    assert empty.code == "validation_error" and empty.limit is None


@pytest.mark.parametrize(
    ("call", "setting", "value"),
    [
        (lambda s: limits.check_top_k(8, s), "VNQA_MAX_TOP_K", 7),
        (lambda s: limits.check_max_words(51, s), "VNQA_MAX_SUMMARY_WORDS", 50),
        (lambda s: limits.check_batch_size(4, s, "articles"), "VNQA_MAX_BATCH_ARTICLES", 3),
        (lambda s: limits.check_text_size(101, s, "text", "Split."), "VNQA_MAX_TEXT_CHARS", 100),
        (lambda s: limits.check_text("y" * 101, s, "text", "Split."), "VNQA_MAX_TEXT_CHARS", 100),
    ],
)
def test_each_limit_names_its_setting(settings, call, setting, value):
    exc = _rejected(lambda: call(settings))
    assert exc.code == "limit_exceeded"
    assert exc.limit == {"setting": setting, "value": value}
    assert setting in exc.message


def test_values_within_the_limits_pass(settings):
    assert limits.check_top_k(None, settings) == 5
    assert limits.check_top_k(7, settings) == 7
    assert limits.check_max_words(None, settings) is None
    assert limits.check_max_words(50, settings) == 50
    limits.check_batch_size(3, settings, "articles")
    assert limits.check_text(" Bài báo. ", settings, "text", "Split.") == "Bài báo."

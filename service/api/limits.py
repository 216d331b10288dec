"""The article limits every ingest route checks, each in one place: how many articles
one request may carry (``VNQA_MAX_BATCH_ARTICLES``) and how long a text may be
(``VNQA_MAX_TEXT_CHARS``). Breaking one is a 422 ``limit_exceeded`` whose ``limit``
object names the setting and its value, whichever route was called."""

from __future__ import annotations

from service.api.errors import LimitExceededError
from service.core.config import Settings


def check_batch_size(count: int, settings: Settings, where: str, *, more: bool = False) -> None:
    """422 when ``count`` articles are over ``settings.max_batch_articles``; ``more``
    says the count stopped early (there are at least that many)."""
    limit = settings.max_batch_articles
    if count > limit:
        how_many = f"more than {limit}" if more else str(count)
        raise LimitExceededError(
            f"{where}: {how_many} articles in one request; the limit is {limit} "
            "(VNQA_MAX_BATCH_ARTICLES). Split them into several requests.",
            "VNQA_MAX_BATCH_ARTICLES",
            limit,
        )


def check_text_size(length: int, settings: Settings, where: str, fix: str) -> None:
    """422 when a text of ``length`` characters is over ``settings.max_text_chars``;
    ``fix`` tells the client what to do (e.g. "Split the article.")."""
    limit = settings.max_text_chars
    if length > limit:
        raise LimitExceededError(
            f"{where}: {length} characters; the limit is {limit} (VNQA_MAX_TEXT_CHARS). {fix}",
            "VNQA_MAX_TEXT_CHARS",
            limit,
        )

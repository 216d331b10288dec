"""``POST /v1/articles/upload``: ingest a ``.txt``, ``.md``, ``.json`` or ``.jsonl`` file.

The file is parsed exactly as ``vnqa ingest`` parses files (:func:`index.article_files.parse_file`),
so the seed format's date header and ``Tác giả:`` / ``Nguồn tin:`` lines work too.
Parsing runs in the write lane's worker thread, never on the event loop, and stops at
the first article over ``VNQA_MAX_BATCH_ARTICLES``; every article is checked before
any is stored.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from index.article_files import SUPPORTED_SUFFIXES, parse_file
from index.documents import Article, ArticleFormatError
from models.vietnamese import normalize
from service.api.deps import IndexDep, SettingsDep, WriteOffloadDep
from service.api.errors import InvalidRequestError
from service.core.config import Settings
from service.limits import check_batch_size, check_text_size
from service.schemas import IngestedArticle, IngestResponse

router = APIRouter(prefix="/v1/articles", tags=["articles"])


def parse_upload(data: bytes, filename: str, settings: Settings) -> list[Article]:
    """The articles in an uploaded file, parsed by its suffix and checked against the
    limits; errors name ``filename``. Blocking: run it in a worker thread."""
    if Path(filename).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InvalidRequestError(
            f"file: {filename!r} is not one of {', '.join(SUPPORTED_SUFFIXES)}",
            code="unsupported_file_type",
        )
    limit = settings.max_batch_articles
    try:
        # One article past the limit is enough to refuse the file: the rest is not parsed.
        articles = list(itertools.islice(parse_file(data, filename), limit + 1))
    except ArticleFormatError as exc:
        raise InvalidRequestError(f"file: {exc}", code="invalid_article") from None
    if not articles:
        raise InvalidRequestError("file: no article found in it", code="invalid_article")
    check_batch_size(len(articles), settings, "file", more=True)
    for i, article in enumerate(articles):
        check_text_size(len(article.text), settings, f"file: article {i + 1}", "Split the article.")
    return articles


@router.post(
    "/upload",
    status_code=201,
    response_model=IngestResponse,
    summary="Nạp bài báo từ tệp (.txt, .md, .json, .jsonl)",
    description="Mọi bài trong tệp được kiểm tra trước khi lưu; một bài lỗi thì không bài nào "
    "được lưu.",
)
async def upload_articles(
    file: Annotated[UploadFile, File(description="Tệp bài báo: .txt, .md, .json hoặc .jsonl.")],
    settings: SettingsDep,
    index: IndexDep,
    offload: WriteOffloadDep,
) -> IngestResponse:
    """Parse the file like ``vnqa ingest`` does, check the limits, then index every article."""
    data = await file.read()
    # The name is echoed in errors: cleaned like text (no control characters, surrogates).
    filename = normalize(file.filename or "").strip() or "upload.txt"
    articles = await offload(parse_upload, data, filename, settings)
    results = await offload(index.add_articles, articles)
    return IngestResponse(
        articles=[IngestedArticle(id=r.id, chunks=r.chunks, replaced=r.replaced) for r in results]
    )

"""``POST /v1/articles/upload``: ingest a ``.txt``, ``.md``, ``.json`` or ``.jsonl`` file.

The file is parsed exactly as ``vnqa ingest`` parses files (``index.documents``), so
the seed format's date header and ``Tác giả:`` / ``Nguồn tin:`` lines work too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from index.documents import SUPPORTED_SUFFIXES, Article, ArticleFormatError, load_articles
from service.api.deps import IndexDep, SettingsDep, WriteOffloadDep
from service.api.errors import InvalidRequestError
from service.api.schemas import IngestedArticle, IngestResponse

router = APIRouter(prefix="/v1/articles", tags=["articles"])


def parse_upload(data: bytes, filename: str) -> list[Article]:
    """The articles in an uploaded file, parsed by its suffix; errors name ``filename``."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidRequestError(
            f"file: {filename!r} is not one of {', '.join(SUPPORTED_SUFFIXES)}",
            code="unsupported_file_type",
        )
    with tempfile.TemporaryDirectory(prefix="vnqa-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return list(load_articles(path))
        except ArticleFormatError as exc:
            message = str(exc).replace(str(path), filename)
            raise InvalidRequestError(f"file: {message}", code="invalid_article") from None


@router.post(
    "/upload",
    status_code=201,
    response_model=IngestResponse,
    summary="Nạp bài báo từ tệp (.txt, .md, .json, .jsonl)",
)
async def upload_articles(
    file: Annotated[UploadFile, File(description="Tệp bài báo: .txt, .md, .json hoặc .jsonl.")],
    settings: SettingsDep,
    index: IndexDep,
    offload: WriteOffloadDep,
) -> IngestResponse:
    """Parse the file like ``vnqa ingest`` does, check the limits, then index every article."""
    articles = parse_upload(await file.read(), file.filename or "upload.txt")
    if not articles:
        raise InvalidRequestError("file: no article found in it", code="invalid_article")
    if len(articles) > settings.max_batch_articles:
        raise InvalidRequestError(
            f"file: {len(articles)} articles; the limit is {settings.max_batch_articles} "
            "(VNQA_MAX_BATCH_ARTICLES). Split the file."
        )
    for i, article in enumerate(articles):
        if len(article.text) > settings.max_text_chars:
            raise InvalidRequestError(
                f"file: article {i + 1} has {len(article.text)} characters; the limit is "
                f"{settings.max_text_chars} (VNQA_MAX_TEXT_CHARS)."
            )
    results = await offload(index.add_articles, articles)
    return IngestResponse(
        articles=[IngestedArticle(id=r.id, chunks=r.chunks, replaced=r.replaced) for r in results]
    )

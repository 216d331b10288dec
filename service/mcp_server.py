"""vnqa as an MCP server (official ``mcp`` SDK): tools ``ask``, ``search``,
``summarize``, ``add_article`` and ``list_articles`` over the stored articles.

``vnqa mcp`` serves it over stdio for desktop hosts; the HTTP app mounts the
streamable-HTTP transport at ``/mcp`` (see :func:`mount_mcp`). Tools run the
CPU-bound work in worker threads and report bad input as tool errors whose text
says what to fix.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from index.documents import ArticleFormatError, lookup_article_id, make_article
from service import limits
from service.answering import ArticleNotFoundError
from service.chat import answer_pieces
from service.core.config import Settings
from service.runtime import Runtime
from service.schemas import (
    AnswerSentenceOut,
    ArticleMeta,
    FiltersIn,
    PassageOut,
    SearchResult,
    SummaryOut,
)

T = TypeVar("T")
#: Runs a blocking call off the event loop: ``await run(func, *args, **kwargs)``.
RunSync = Callable[..., Awaitable[Any]]

INSTRUCTIONS = (
    "vnqa trả lời câu hỏi tiếng Việt từ các bài báo đã lưu, kèm trích dẫn. "
    "Dùng `ask` để hỏi (tóm tắt + đoạn trích dẫn), `search` để tìm đoạn văn, "
    "`summarize` để tóm tắt văn bản hoặc một bài đã lưu, `add_article` để lưu bài mới, "
    "`list_articles` để xem các bài đã lưu. Viết câu hỏi bằng tiếng Việt có dấu."
)


class ToolInputError(ToolError):
    """Input a tool refuses; the SDK returns the message to the model as an error result."""


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    """Render a :class:`~service.limits.RequestRejected` as a tool error."""
    try:
        yield
    except limits.RequestRejected as exc:
        raise ToolInputError(exc.message) from None


class AskResult(BaseModel):
    """The answer to a question."""

    question: str
    answer: str = Field(description="Tóm tắt có đánh số trích dẫn [n] và danh sách nguồn.")
    summary: SummaryOut
    answer_sentences: list[AnswerSentenceOut] = Field(
        description="Các câu của câu trả lời, mỗi câu kèm chỉ số đoạn văn nguồn (từ 0)."
    )
    passages: list[PassageOut] = Field(description="Đoạn văn được trích dẫn, [1] là đoạn đầu.")


class SearchResults(BaseModel):
    """Retrieved passages, best first."""

    results: list[SearchResult]


class AddedArticle(BaseModel):
    """An article stored by ``add_article``."""

    id: str
    title: str | None
    chunks: int = Field(description="Số đoạn đã lập chỉ mục.")
    replaced: bool = Field(description="Đã thay một bài cùng mã.")


class ArticlePage(BaseModel):
    """One page of stored articles."""

    articles: list[ArticleMeta]
    total: int
    offset: int
    limit: int


def _default_run_sync() -> RunSync:
    async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))

    return run


def build_mcp_server(
    runtime: Callable[[], Runtime],
    settings: Settings,
    run_sync: RunSync | None = None,
    run_write: RunSync | None = None,
) -> MCPServer:
    """The MCP server over the runtime that ``runtime()`` returns when a tool runs.

    ``run_sync`` runs blocking reads off the event loop, ``run_write`` index writes
    (the HTTP app passes its bounded offloaders; stdio uses plain worker threads).
    """
    run = run_sync or _default_run_sync()
    run_w = run_write or run
    server = MCPServer(
        name="vnqa",
        title="vnqa — hỏi đáp tin tức tiếng Việt",
        instructions=INSTRUCTIONS,
        version="0.1.0",
    )

    # The limits are the HTTP API's (service/limits.py); a refusal is a tool error.
    def question_in(value: str, field: str) -> str:
        with _refused():
            return limits.check_question(value, settings, field)

    def top_k_in(top_k: int) -> int:
        with _refused():
            return limits.check_top_k(top_k, settings)

    def max_words_in(max_words: int | None) -> int | None:
        with _refused():
            return limits.check_max_words(max_words, settings)

    def text_in(value: str, fix: str) -> str:
        with _refused():
            return limits.check_text(value, settings, "text", fix)

    @server.tool(
        title="Hỏi đáp",
        description=(
            "Trả lời một câu hỏi tiếng Việt từ các bài báo đã lưu: tóm tắt tiếng Việt có "
            "trích dẫn [n], danh sách nguồn (tiêu đề, ngày, nguồn tin) và các đoạn văn với "
            "câu khớp nhất (highlight, vị trí ký tự trong bài). Answers a Vietnamese question "
            "from the stored news articles, with citations."
        ),
    )
    async def ask(
        question: Annotated[
            str, Field(description="Câu hỏi tiếng Việt, ví dụ: 'Bí thư Tỉnh ủy yêu cầu gì?'")
        ],
        top_k: Annotated[int, Field(ge=1, description="Số đoạn văn dùng để trả lời.")] = 5,
        max_words: Annotated[
            int | None, Field(ge=5, description="Độ dài tối đa của tóm tắt (tiếng).")
        ] = None,
    ) -> AskResult:
        question = question_in(question, "question")
        k, words = top_k_in(top_k), max_words_in(max_words)
        answerer = runtime().answerer

        def work() -> AskResult:
            answer = answerer.answer(question, top_k=k, max_words=words)
            pieces = answer_pieces(iter([answer.summary.text]), answer.passages, answer.sentences)
            return AskResult(
                question=answer.question,
                answer="".join(pieces),
                summary=SummaryOut.from_summary(answer.summary),
                answer_sentences=[AnswerSentenceOut.from_sentence(s) for s in answer.sentences],
                passages=[PassageOut.from_passage(p) for p in answer.passages],
            )

        return await run(work)

    @server.tool(
        title="Tìm đoạn văn",
        description=(
            "Tìm các đoạn văn liên quan trong bài báo đã lưu (kết hợp tìm ngữ nghĩa và từ "
            "khoá, hiểu tiếng Việt có dấu); lọc theo nguồn tin và khoảng ngày. Hybrid "
            "semantic + keyword passage search over the stored Vietnamese articles."
        ),
    )
    async def search(
        query: Annotated[str, Field(description="Câu hoặc từ khoá tiếng Việt cần tìm.")],
        top_k: Annotated[int, Field(ge=1, description="Số đoạn trả về.")] = 5,
        sources: Annotated[
            list[str] | None, Field(description="Chỉ tìm trong các nguồn tin này.")
        ] = None,
        date_from: Annotated[
            str | None, Field(description="Từ ngày, dạng YYYY-MM-DD (tính cả ngày này).")
        ] = None,
        date_to: Annotated[
            str | None, Field(description="Đến ngày, dạng YYYY-MM-DD (tính cả ngày này).")
        ] = None,
    ) -> SearchResults:
        query = question_in(query, "query")
        k = top_k_in(top_k)
        try:
            filters = FiltersIn(sources=sources, date_from=date_from, date_to=date_to)
        except ValueError as exc:
            raise ToolInputError(str(exc)) from None
        hits = await run(runtime().index.search, query, top_k=k, filters=filters.to_filters())
        return SearchResults(results=[SearchResult.from_hit(h) for h in hits])

    @server.tool(
        title="Tóm tắt",
        description=(
            "Tóm tắt tiếng Việt một văn bản (text) hoặc một bài đã lưu (article_id); đưa "
            "đúng một trong hai. Summarizes Vietnamese text or a stored article; the result "
            "says whether it is abstractive or extractive."
        ),
    )
    async def summarize(
        text: Annotated[str | None, Field(description="Văn bản cần tóm tắt.")] = None,
        article_id: Annotated[str | None, Field(description="Mã một bài đã lưu.")] = None,
        max_words: Annotated[int | None, Field(ge=5, description="Độ dài tối đa (tiếng).")] = None,
    ) -> SummaryOut:
        if (text is None) == (article_id is None):
            raise ToolInputError("give exactly one of `text` and `article_id`")
        words = max_words_in(max_words)
        answerer = runtime().answerer
        if text is not None:
            text = text_in(text, "Send a shorter text.")
            summary = await run(answerer.summarize_text, text, words)
        else:
            try:
                wanted = lookup_article_id(str(article_id))
                summary = await run(answerer.summarize_article, wanted, words)
            except (ArticleFormatError, ArticleNotFoundError) as exc:
                raise ToolInputError(str(exc)) from None
        return SummaryOut.from_summary(summary)

    @server.tool(
        title="Lưu bài báo",
        description=(
            "Lưu một bài báo tiếng Việt vào chỉ mục để hỏi đáp và tìm kiếm; cùng `id` thì "
            "thay bài cũ, không có `id` thì mã được suy ra từ nội dung. Stores an article."
        ),
    )
    async def add_article(
        text: Annotated[str, Field(description="Nội dung bài báo.")],
        title: Annotated[str | None, Field(description="Tiêu đề.")] = None,
        date: Annotated[
            str | None, Field(description="Ngày đăng, YYYY-MM-DD hoặc DD/MM/YYYY.")
        ] = None,
        source: Annotated[str | None, Field(description="Nguồn tin, ví dụ nghean.gov.vn.")] = None,
        url: Annotated[str | None, Field(description="Đường dẫn bài gốc.")] = None,
        id: Annotated[str | None, Field(description="Mã bài (tuỳ chọn).")] = None,
    ) -> AddedArticle:
        text_in(text, "Split the article.")
        try:
            article = make_article(text=text, id=id, title=title, date=date, source=source, url=url)
        except ArticleFormatError as exc:
            raise ToolInputError(str(exc)) from None
        (result,) = await run_w(runtime().index.add_articles, [article])
        return AddedArticle(
            id=result.id, title=article.title, chunks=result.chunks, replaced=result.replaced
        )

    @server.tool(
        title="Danh sách bài báo",
        description="Liệt kê các bài báo đã lưu (mã, tiêu đề, ngày, nguồn), theo trang.",
    )
    async def list_articles(
        offset: Annotated[int, Field(ge=0, description="Bỏ qua bao nhiêu bài.")] = 0,
        limit: Annotated[int, Field(ge=1, le=500, description="Số bài mỗi trang.")] = 20,
    ) -> ArticlePage:
        page, total = await run(runtime().index.list_articles, offset=offset, limit=limit)
        return ArticlePage(
            articles=[ArticleMeta.from_stored(a) for a in page],
            total=total,
            offset=offset,
            limit=limit,
        )

    return server


def serve_stdio(settings: Settings, runtime: Runtime) -> None:
    """Serve MCP over stdin/stdout with ``runtime`` until the host disconnects."""
    server = build_mcp_server(lambda: runtime, settings)
    anyio.run(server.run_stdio_async)


class McpHttpEndpoint:
    """The ASGI endpoint at ``/mcp``: MCP's streamable-HTTP transport, while it runs.

    The SDK's session manager runs once per instance, and the app's lifespan may run
    more than once (tests); :meth:`running` builds a fresh transport each time.
    """

    def __init__(self, server: MCPServer, host: str) -> None:
        self.server = server
        self.host = host
        self._app: Any = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the transport's session manager; requests are served inside this."""
        from starlette.routing import Route

        inner = self.server.streamable_http_app(streamable_http_path="/mcp", host=self.host)
        routes = [r for r in inner.routes if isinstance(r, Route) and r.path == "/mcp"]
        if not routes:  # pragma: no cover - the SDK always builds this route
            raise RuntimeError("the MCP SDK did not build a /mcp route")
        async with self.server.session_manager.run():
            self._app = routes[0].app
            try:
                yield
            finally:
                self._app = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Hand the request to the transport (503 outside the app's lifespan)."""
        if self._app is None:
            from starlette.responses import JSONResponse

            body = {"error": {"code": "not_ready", "message": "MCP is not running yet."}}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        await self._app(scope, receive, send)


def mount_mcp(app: Any, settings: Settings) -> McpHttpEndpoint:
    """Serve MCP's streamable-HTTP transport at ``/mcp`` on the FastAPI ``app``.

    The route goes on the app's own router, so the app's middleware (body limit,
    auth) covers it. The app's lifespan must run ``endpoint.running()``: the
    transport's sessions live in that task group.
    """
    from starlette.routing import Route

    def current_runtime() -> Runtime:
        runtime = getattr(app.state, "runtime", None)
        if runtime is None:
            raise ToolInputError("the service is still starting; retry in a few seconds")
        return runtime

    fallback = _default_run_sync()

    def lane(name: str) -> RunSync:
        async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
            offload = getattr(app.state, name, None)  # the app's bounded worker pools
            if offload is None:
                return await fallback(func, *args, **kwargs)
            return await offload(func, *args, **kwargs)

        return run

    server = build_mcp_server(current_runtime, settings, lane("offload"), lane("write_offload"))
    endpoint = McpHttpEndpoint(server, settings.host)
    app.router.routes.append(Route("/mcp", endpoint=endpoint))
    return endpoint

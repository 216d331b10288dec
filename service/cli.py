"""``vnqa``: ingest, ask, summarize, serve and maintain the index from a terminal.

Configuration comes from ``VNQA_*`` environment variables (see
``service.core.config.Settings``). Expected failures — a missing file, a bad
article, an index built with another model — print one clear message and exit
with a non-zero status, without a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from index.article_files import load_articles
from index.documents import Article, ArticleFormatError, lookup_article_id
from index.errors import (
    DiskFullError,
    IndexLockedError,
    IndexMismatchError,
    IndexReadOnlyError,
    StoreDamagedError,
)
from models.errors import ModelNotAvailableError
from service import limits
from service.answering import Answer, ArticleNotFoundError
from service.core.config import Settings
from service.limits import RequestRejected

app = typer.Typer(
    name="vnqa",
    help="Vietnamese news Q&A and summaries on local models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Prepare and inspect the models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

console = Console()
err_console = Console(stderr=True)
logger = logging.getLogger("vnqa")

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An expected failure: printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


_EXPECTED = (
    CliError,
    IndexMismatchError,
    IndexLockedError,
    StoreDamagedError,
    DiskFullError,
    IndexReadOnlyError,
    ModelNotAvailableError,
    ArticleFormatError,
    ArticleNotFoundError,
    OSError,
    ValidationError,
)


@contextmanager
def _expected_errors() -> Iterator[None]:
    """Turn expected exceptions into a red one-line message and a non-zero exit."""
    try:
        yield
    except KeyboardInterrupt:
        err_console.print("[yellow]Interrupted.[/]")
        raise typer.Exit(130) from None
    except RequestRejected as exc:  # a limit of service/limits.py: a usage error
        err_console.print(f"[bold red]Error:[/] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    except _EXPECTED as exc:
        code = exc.code if isinstance(exc, CliError) else EXIT_ERROR
        message = str(exc)
        if isinstance(exc, ValidationError):
            message = f"invalid VNQA_* setting: {exc}"
        elif isinstance(exc, FileNotFoundError) and exc.filename:
            message = f"no such file or folder: {exc.filename}"
        # One line however narrow the terminal: scripts and logs grep for it.
        err_console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(code) from None


def _settings() -> Settings:
    """Fresh settings from the environment (not cached: tests change it)."""
    return Settings()


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what is loaded and from where.")
    ] = False,
) -> None:
    """Vietnamese news Q&A and summaries on local models."""
    level = logging.INFO if verbose else logging.WARNING
    # The handler's own level also silences libraries that lower their loggers' level.
    handler = RichHandler(console=err_console, show_path=False, level=level)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    if not verbose:  # our own progress bars are enough; hide the model loaders' ones
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()


# -- ingest -------------------------------------------------------------------------


def _read_articles(paths: list[Path]) -> list[Article]:
    """Parse every path (file or folder); fail on the first missing or malformed one."""
    articles: list[Article] = []
    for path in paths:
        if not path.exists():
            raise CliError(f"no such file or folder: {path}", EXIT_USAGE)
        try:
            found = list(load_articles(path))
        except ArticleFormatError as exc:
            raise CliError(f"{path}: {exc}") from exc
        if not found:
            raise CliError(
                f"no articles found in {path} (expected .txt, .md, .json or .jsonl files)"
            )
        articles.extend(found)
    return articles


def _progress(*, transient: bool = False) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Article files (.txt, .md, .json, .jsonl) or folders of them."),
    ],
) -> None:
    """Add articles to the index; an article with a stored id replaces it."""
    from service.runtime import load_embedder_from, open_index

    with _expected_errors():
        settings = _settings()
        articles = _read_articles(paths)
        embedder = load_embedder_from(settings)
        index = open_index(settings, embedder)
        started = time.perf_counter()
        try:
            with _progress() as progress:
                task = progress.add_task("Indexing articles", total=len(articles))
                results = index.add_articles(articles, progress=lambda n: progress.advance(task, n))
                progress.update(task, completed=len(articles))
            summarized = (
                _summarize_pending(settings, index, embedder) if settings.auto_summaries else 0
            )
        finally:
            index.close()
        elapsed = time.perf_counter() - started

    replaced = sum(1 for r in results if r.replaced)
    table = Table(title="Ingest", show_header=False)
    table.add_row("articles added", str(len(results) - replaced))
    table.add_row("articles replaced", str(replaced))
    table.add_row("chunks", str(sum(r.chunks for r in results)))
    table.add_row("summaries made", str(summarized))
    table.add_row("seconds", f"{elapsed:.1f}")
    table.add_row("index", str(settings.index_dir))
    console.print(table)


# -- ask ----------------------------------------------------------------------------


def _render_answer(answer: Answer) -> None:
    """Readable output: the answer with ``[n]`` citations, then the numbered passages
    with the best sentence marked."""
    from service.chat import answer_pieces

    summary = answer.summary
    cited = "".join(answer_pieces(iter([summary.text]), answer.passages, answer.sentences))
    console.print(
        Panel(
            Text(cited.partition("\n\nNguồn:")[0]),
            title=Text(answer.question, style="bold"),
            subtitle=f"{summary.method} · {summary.model}",
            border_style="green" if answer.passages else "yellow",
        )
    )
    for number, passage in enumerate(answer.passages, start=1):
        meta = " · ".join(
            part
            for part in (passage.title or passage.article_id, passage.date, passage.source)
            if part
        )
        console.print(Text.assemble((f"[{number}] ", "bold cyan"), (meta, "bold")))
        lo = passage.highlight[0] - passage.start
        hi = passage.highlight[1] - passage.start
        if console.color_system is None:  # no styles on this output: mark the sentence
            body = Text(f"{passage.text[:lo]}«{passage.text[lo:hi]}»{passage.text[hi:]}")
        else:
            body = Text(passage.text)
            body.stylize("bold yellow", lo, hi)
        console.print(body)
        console.print(
            Text(
                f"article {passage.article_id} · chars {passage.start}-{passage.end}"
                f" · score {passage.score:.4f}" + (f" · {passage.url}" if passage.url else ""),
                style="dim",
            )
        )
        console.print()


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Vietnamese.")],
    top_k: Annotated[
        int | None, typer.Option("--top-k", "-k", min=1, help="Passages to retrieve.")
    ] = None,
    max_words: Annotated[
        int | None, typer.Option("--max-words", min=5, help="Longest summary, in words.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the same JSON as POST /v1/ask.")
    ] = False,
) -> None:
    """Answer a question from the stored articles: a summary and the cited passages."""
    from service.runtime import build_runtime
    from service.schemas import AskResponse

    with _expected_errors():
        settings = _settings()
        question = limits.check_question(question, settings, "the question")
        k = limits.check_top_k(top_k, settings)
        words = limits.check_max_words(max_words, settings)
        runtime = build_runtime(settings)
        try:
            answer = runtime.answerer.answer(question, top_k=k, max_words=words)
        finally:
            runtime.close()
    if as_json:
        typer.echo(AskResponse.from_answer(answer).model_dump_json(indent=2))
    else:
        _render_answer(answer)


# -- summarize ----------------------------------------------------------------------


@app.command()
def summarize(
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="An article file to summarize.")
    ] = None,
    article_id: Annotated[
        str | None, typer.Option("--article-id", help="A stored article to summarize.")
    ] = None,
    max_words: Annotated[
        int | None, typer.Option("--max-words", min=5, help="Longest summary, in words.")
    ] = None,
) -> None:
    """Summarize an article file or a stored article (give exactly one)."""
    from service.runtime import build_runtime, build_summarizer_from, load_embedder_from

    with _expected_errors():
        if (file is None) == (article_id is None):
            raise CliError("give exactly one of --file and --article-id", EXIT_USAGE)
        settings = _settings()
        words = limits.check_max_words(max_words, settings) or settings.summary_max_words
        if file is not None:
            articles = _read_articles([file])
            embedder = load_embedder_from(settings)  # sharpens extractive sentence ranking
            summarizer = build_summarizer_from(settings, embedder).summarizer
            results = [(a.title, summarizer.summarize(a.text, max_words=words)) for a in articles]
        else:
            assert article_id is not None
            wanted = lookup_article_id(article_id, "--article-id")  # before loading models
            runtime = build_runtime(settings)
            try:
                article = runtime.index.get_article(wanted)
                if article is None:
                    raise ArticleNotFoundError(wanted)
                # As the API and MCP do: the title leads the text (summarize_article).
                results = [(article.title, runtime.answerer.summarize_article(wanted, words))]
            finally:
                runtime.close()
    for title, summary in results:
        console.print(
            Panel(
                Text(summary.text),
                title=Text(title or "", style="bold"),
                subtitle=f"{summary.method} · {summary.model}",
            )
        )


# -- serve, reindex, stats -----------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (VNQA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (VNQA_PORT).")] = None,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from service.api.app import create_app
    from service.runtime import build_runtime

    with _expected_errors():
        settings = _settings()
        if settings.log_format == "json":  # one JSON line per request and per event
            from service.api.observability import configure_json_logging

            configure_json_logging()
        runtime = build_runtime(settings)  # fails here, readably, on a model mismatch
    try:
        bind_host, bind_port = host or settings.host, port or settings.port
        console.print(f"Serving on http://{bind_host}:{bind_port} (docs at /docs)")
        # SIGTERM/Ctrl-C: uvicorn stops accepting, waits for in-flight requests, then the
        # lifespan waits for running index writes and closes (checkpoints) the index.
        own_logs = settings.log_format == "json"
        # Our JSON logs: no uvicorn logging config, no access log (observability logs it).
        uvicorn.run(
            create_app(settings, runtime, close_runtime=True),
            host=bind_host,
            port=bind_port,
            log_config=None if own_logs else uvicorn.config.LOGGING_CONFIG,
            access_log=not own_logs,
        )
    finally:
        runtime.close()


@app.command()
def mcp() -> None:
    """Serve the MCP tools (ask, search, summarize, add_article, list_articles) over stdio.

    For MCP hosts that launch a command; the HTTP server also serves MCP at /mcp.
    """
    import contextlib
    import sys

    from service.mcp_server import serve_stdio

    with _expected_errors():
        settings = _settings()
        # stdout carries the protocol: anything a library prints goes to stderr instead.
        with contextlib.redirect_stdout(sys.stderr):
            from service.runtime import build_runtime

            runtime = build_runtime(settings)
    try:
        serve_stdio(settings, runtime)
    finally:
        runtime.close()


@app.command()
def reindex() -> None:
    """Re-chunk and re-embed every article with the configured model.

    The fix when the index was built with another embedding model.
    """
    from service.runtime import load_embedder_from, open_index

    with _expected_errors():
        settings = _settings()
        embedder = load_embedder_from(settings)
        index = open_index(settings, embedder, allow_model_change=True)
        started = time.perf_counter()
        try:
            total = index.stats().articles
            with _progress(transient=True) as progress:
                task = progress.add_task("Re-embedding articles", total=total)
                chunks = index.reindex(progress=lambda n: progress.advance(task, n))
            stats = index.stats()
        finally:
            index.close()
    console.print(
        f"Re-embedded {chunks} chunks of {stats.articles} articles with {embedder.name} "
        f"in {time.perf_counter() - started:.1f}s."
    )


@app.command()
def repair() -> None:
    """Back up the index's files, then make the index consistent again.

    For a store that lost commits (the server then serves read-only and says so) or
    cannot be read: every file is first copied into index/backup-<time>/.
    """
    from index.repair import repair_index
    from service.runtime import index_options, load_embedder_from

    with _expected_errors():
        settings = _settings()
        embedder = load_embedder_from(settings)
        with console.status("Backing up and repairing the index..."):
            report = repair_index(settings.index_dir, embedder, **index_options(settings))
    table = Table(title="Repair", show_header=False)
    table.add_row("backup of the damaged files", str(report.backup))
    table.add_row("articles kept", str(report.articles))
    table.add_row("chunks", str(report.chunks))
    table.add_row("chunks re-embedded", str(report.chunks_embedded))
    if report.store_rebuilt:
        table.add_row(
            "store",
            f"unreadable: rebuilt from {report.articles_salvaged} articles that could be read",
        )
    lost = report.lost
    table.add_row("vectors of lost chunks dropped", str(report.vectors_dropped))
    console.print(table)
    if lost is not None and lost.vectors:
        since = f" stored after {lost.newest_article}" if lost.newest_article else ""
        console.print(
            f"[yellow]{lost.vectors} chunks (ids {lost.first_id}-{lost.last_id}) were lost "
            f"from the store; send again the articles acknowledged{since}.[/]",
            highlight=False,
        )
    elif report.store_rebuilt:
        console.print("[yellow]Send again any article missing from `vnqa stats`' count.[/]")
    else:
        console.print("Nothing was lost.")


@app.command()
def stats() -> None:
    """How many articles and chunks are stored, and with which model."""
    from service.runtime import load_embedder_from, open_index

    with _expected_errors():
        settings = _settings()
        embedder = load_embedder_from(settings)
        index = open_index(settings, embedder)
        try:
            info = index.stats()
        finally:
            index.close()
    table = Table(title="Index", show_header=False)
    table.add_row("articles", str(info.articles))
    table.add_row("chunks", str(info.chunks))
    table.add_row("embedding model", info.embedding_model)
    table.add_row("dimension", str(info.dimension))
    table.add_row("fingerprint", info.fingerprint)
    table.add_row("location", str(settings.index_dir))
    console.print(table)


# -- models -------------------------------------------------------------------------


@models_app.command("prepare")
def models_prepare() -> None:
    """Resolve (or build) the embedder and try the summarizer; say where each came from."""
    from models.summarization.seq2seq import Seq2SeqSummarizer
    from service.runtime import build_summarizer_from, load_embedder_from

    with _expected_errors():
        settings = _settings()
        with console.status("Preparing the embedding model..."):
            embedder = load_embedder_from(settings)
            embedder.embed_queries(["warm-up"])  # the first request then pays no lazy set-up
        console.print(
            f"[bold]Embeddings:[/] {embedder.name} (dimension {embedder.dimension}) "
            f"from {embedder.source}",
            highlight=False,
        )
        with console.status("Trying the summarizer..."):
            choice = build_summarizer_from(settings, embedder)
    summarizer = choice.summarizer
    console.print(
        f"[bold]Summarizer:[/] {summarizer.model_name} (requested: {choice.requested})",
        highlight=False,
    )
    if isinstance(summarizer, Seq2SeqSummarizer):
        console.print(
            f"Summaries will be [green]abstractive[/] (seq2seq on {summarizer.variant}).",
            highlight=False,
        )
    else:
        reason = choice.fallback_reason or f"VNQA_SUMMARIZER={settings.summarizer}"
        console.print(f"Summaries will be [yellow]extractive[/] because {reason}.", highlight=False)


@models_app.command("import")
def models_import(
    path: Annotated[
        Path, typer.Argument(help="A checkpoint folder, or a .tar, .tar.gz or .zip of one.")
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Install over a model of the same name.")
    ] = False,
) -> None:
    """Install a seq2seq checkpoint brought from elsewhere (no network needed) and convert it.

    The checkpoint is checked (config, weights, tokenizer), installed as
    VNQA_MODELS_DIR/<folder name> and converted to CTranslate2 int8 unless
    VNQA_SUMMARIZER_BACKEND=torch; VNQA_SUMMARIZER_MODEL=<folder name> then selects it.
    """
    from models.summarization.checkpoint import import_checkpoint
    from models.summarization.factory import prepare_ctranslate2

    with _expected_errors():
        settings = _settings()
        with console.status(f"Checking and installing {path}..."):
            info = import_checkpoint(path, settings.models_dir, replace=replace)
        console.print(
            f"[bold]Installed:[/] {info.model_type} checkpoint at {info.folder}", highlight=False
        )
        if settings.summarizer_backend != "torch":
            try:
                with console.status("Converting to CTranslate2 int8..."):
                    converted = prepare_ctranslate2(info.folder, settings.models_dir)
                console.print(f"[bold]Converted:[/] {converted}", highlight=False)
            except ModelNotAvailableError as exc:
                if settings.summarizer_backend == "ctranslate2":
                    raise
                console.print(f"[yellow]Runs on torch:[/] {exc}", highlight=False)
    console.print(f"Select it with [bold]VNQA_SUMMARIZER_MODEL={info.name}[/]", highlight=False)


# -- summaries, fetching, feeds -------------------------------------------------------


def _summarize_pending(settings: Settings, index: Any, embedder: Any) -> int:
    """Summarize every queued article in-line, with a progress bar; returns how many."""
    from index.summary_store import summary_store_for
    from service.auto_summaries import AutoSummaries
    from service.runtime import build_summarizer_from

    store = summary_store_for(getattr(index, "store", None), lease_s=settings.summary_lease_s)
    if store is None:
        return 0
    pending = store.status_counts().get("pending", 0)
    if not pending:
        return 0
    choice = build_summarizer_from(settings, embedder)
    worker = AutoSummaries(
        store, choice.summarizer, max_words=settings.summary_max_words, batch=settings.summary_batch
    )
    store.mark_stale(worker.key)
    with _progress() as progress:
        task = progress.add_task("Summarizing articles", total=pending)
        return worker.drain(progress=lambda n: progress.advance(task, n))


@app.command()
def resummarize(
    which: Annotated[
        str, typer.Option(help="stale (made by another summarizer), failed, or all.")
    ] = "stale",
) -> None:
    """Redo stored summaries with the configured summarizer (stale ones by default)."""
    from index.summary_store import summary_store_for
    from service.auto_summaries import summarizer_key
    from service.runtime import build_summarizer_from, load_embedder_from, open_index

    if which not in ("stale", "failed", "all"):
        raise typer.BadParameter("choose stale, failed or all", param_hint="--which")
    with _expected_errors():
        settings = _settings()
        embedder = load_embedder_from(settings)
        index = open_index(settings, embedder)
        try:
            store = summary_store_for(
                getattr(index, "store", None), lease_s=settings.summary_lease_s
            )
            if store is None:
                raise typer.BadParameter("this index backend keeps no stored summaries")
            choice = build_summarizer_from(settings, embedder)
            store.mark_stale(summarizer_key(choice.summarizer))
            queued = store.requeue(which)  # type: ignore[arg-type]
            made = _summarize_pending(settings, index, embedder)
            counts = store.status_counts()
        finally:
            index.close()
    console.print(
        f"Queued {queued} summaries again, made {made}; now "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + "."
    )


def _store_fetched(settings: Settings, fetch: Callable[[Any], list[Article]]) -> list[str]:
    """Open the index, store what ``fetch(index)`` returns, summarize it; its ids."""
    from service.runtime import load_embedder_from, open_index

    embedder = load_embedder_from(settings)
    index = open_index(settings, embedder)
    try:
        articles = fetch(index)
        if articles:
            index.add_articles(articles)
        if settings.auto_summaries:
            _summarize_pending(settings, index, embedder)
    finally:
        index.close()
    return [a.id for a in articles]


@app.command()
def fetch(url: Annotated[str, typer.Argument(help="An http(s) news page.")]) -> None:
    """Download a news page, extract its article (trafilatura) and store it."""
    from service.fetching import FetchError, FetchLimits, fetch_article

    with _expected_errors():
        settings = _settings()
        try:
            article = fetch_article(url, FetchLimits.from_settings(settings))
        except FetchError as exc:
            raise CliError(str(exc)) from None
        _store_fetched(settings, lambda index: [article])
    console.print(f"Stored {article.id}: {article.title} ({len(article.text)} characters).")


@app.command()
def watch(
    feeds: Annotated[list[str], typer.Argument(help="RSS or Atom feed URLs.")],
    interval: Annotated[
        float | None, typer.Option(min=1, help="Seconds between polls (VNQA_FEED_INTERVAL_S).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Poll once and exit.")] = False,
) -> None:
    """Poll feeds, store their new items' articles and summarize them; remembers its place.

    Holds the index while it runs, like the server (which polls VNQA_FEEDS itself).
    """
    from index.feed_state import feed_state_for
    from service.feeds import FEED_STATE_FILE, FeedWatcher
    from service.fetching import FetchLimits
    from service.runtime import load_embedder_from, open_index

    with _expected_errors():
        settings = _settings()
        embedder = load_embedder_from(settings)
        index = open_index(settings, embedder)
        state = feed_state_for(
            getattr(index, "store", None),
            settings.data_dir / FEED_STATE_FILE,
            lease_s=settings.feed_lease_s,
        )
        watcher = FeedWatcher(
            feeds,
            state,
            index.add_articles,
            FetchLimits.from_settings(settings),
            interval_s=interval or settings.feed_interval_s,
        )
        try:
            while True:
                report = watcher.poll_once()
                if settings.auto_summaries:
                    _summarize_pending(settings, index, embedder)
                for link, why in report.skipped + report.errors:
                    err_console.print(f"[yellow]{link}[/]: {why}", highlight=False)
                console.print(f"{len(report.added)} new articles from {len(feeds)} feeds.")
                if once:
                    break
                time.sleep(watcher.interval_s)
        finally:
            state.close()
            index.close()


if __name__ == "__main__":  # pragma: no cover
    app()

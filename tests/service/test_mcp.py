"""The MCP server, driven by the MCP SDK's own client: over stdio (``vnqa mcp`` as a
subprocess, its own data folder) and over streamable HTTP at ``/mcp`` of a live server."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from service.schemas import SEED_QUESTION
from tests.conftest import MODELS_DIR, REPO_ROOT, SEED_ARTICLE
from tests.service.live import live_server  # noqa: F401  (session fixture)

TOOLS = {"ask", "search", "summarize", "add_article", "list_articles"}


def _structured(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def _stdio_params(data_dir: Path) -> StdioServerParameters:
    env = {
        "VNQA_DATA_DIR": str(data_dir),
        "VNQA_MODELS_DIR": str(MODELS_DIR),
        "VNQA_SUMMARIZER": "extractive",
        "HF_HUB_OFFLINE": "1",
        "PATH": os.environ.get("PATH", ""),
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "service.cli", "mcp"], env=env, cwd=str(REPO_ROOT)
    )


def test_stdio_tools_list_add_ask_search_summarize(tmp_path: Path) -> None:
    seed_text = SEED_ARTICLE.read_text(encoding="utf-8")

    async def session() -> None:
        async with Client(_stdio_params(tmp_path / "data"), read_timeout_seconds=300) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == TOOLS
            ask_schema = tools["ask"].input_schema
            assert ask_schema["required"] == ["question"]
            assert ask_schema["properties"]["top_k"]["type"] == "integer"
            assert "tiếng Việt" in tools["ask"].description

            added = _structured(
                await client.call_tool(
                    "add_article",
                    {
                        "text": seed_text,
                        "id": "seed",
                        "source": "nghean.gov.vn",
                        "date": "2025-11-27",
                    },
                )
            )
            assert added["id"] == "seed" and added["chunks"] > 3 and not added["replaced"]

            listed = _structured(await client.call_tool("list_articles", {}))
            assert listed["total"] == 1 and listed["articles"][0]["id"] == "seed"

            answer = _structured(await client.call_tool("ask", {"question": SEED_QUESTION}))
            assert "Nguồn:" in answer["answer"] and answer["passages"]
            marked = [
                p["text"][p["highlight"][0] - p["start"] : p["highlight"][1] - p["start"]]
                for p in answer["passages"]
            ]
            assert any("yêu cầu Công an tỉnh" in m for m in marked)

            found = _structured(
                await client.call_tool(
                    "search", {"query": "an ninh mạng", "top_k": 2, "sources": ["nghean.gov.vn"]}
                )
            )
            assert len(found["results"]) == 2
            none = _structured(
                await client.call_tool("search", {"query": "an ninh mạng", "sources": ["x.vn"]})
            )
            assert none["results"] == []

            summary = _structured(
                await client.call_tool("summarize", {"article_id": "seed", "max_words": 40})
            )
            assert summary["method"] == "extractive" and summary["text"]

            both = await client.call_tool("summarize", {"text": "a", "article_id": "seed"})
            assert both.is_error and "exactly one" in both.content[0].text
            bad_k = await client.call_tool("ask", {"question": SEED_QUESTION, "top_k": 0})
            assert bad_k.is_error

    anyio.run(session)


def test_http_transport_at_mcp(live_server) -> None:  # noqa: F811
    async def session() -> None:
        async with Client(f"{live_server.url}/mcp", read_timeout_seconds=120) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            answer = _structured(
                await client.call_tool("ask", {"question": SEED_QUESTION, "top_k": 3})
            )
            assert len(answer["passages"]) == 3 and answer["summary"]["text"]
            # The limits are the HTTP API's (service/limits.py): VNQA_MAX_SUMMARY_WORDS.
            too_long = await client.call_tool("summarize", {"article_id": "x", "max_words": 1000})
            assert too_long.is_error and "VNQA_MAX_SUMMARY_WORDS" in too_long.content[0].text

    anyio.run(session)


@pytest.mark.parametrize("path", ["/mcp"])
def test_mcp_is_not_in_the_openapi_schema(live_server, path: str) -> None:  # noqa: F811
    import httpx

    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    assert path not in schema["paths"] and "/v1/chat/completions" in schema["paths"]

"""News in from the web, against a real HTTP server on 127.0.0.1 (tests/service/news_site.py)."""

from __future__ import annotations

import json

import pytest

from service.fetching import (
    FetchError,
    FetchLimits,
    check_url,
    download,
    extract_article,
    fetch_article,
    url_article_id,
)
from tests.service.news_site import ARTICLE_PAGES, FIXTURES, serving_news

ALLOW = FetchLimits(allow_private=True, max_bytes=100_000, timeout_s=2.0, max_redirects=3)
TRUTH = json.loads((FIXTURES / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site():
    with serving_news() as served:
        yield served


@pytest.mark.parametrize("page", ARTICLE_PAGES)
def test_the_article_is_extracted_without_navigation_ads_or_comments(site, page: str) -> None:
    article = fetch_article(site.url(f"news/{page}"), ALLOW)
    truth = TRUTH[page]
    assert all(paragraph in article.text for paragraph in truth["body"])
    leaked = [noise for noise in truth["noise"] if noise in article.text]
    assert leaked == []
    assert article.title and article.title in (FIXTURES / page).read_text(encoding="utf-8")
    assert article.date and article.date.startswith("2025-11-2")
    assert article.author and article.source
    assert article.url == site.url(f"news/{page}")
    assert article.id == url_article_id(site.url(f"news/{page}"))


def test_a_page_without_an_article_is_a_clear_error(site) -> None:
    with pytest.raises(FetchError) as caught:
        fetch_article(site.url("news/trang-chu.html"), ALLOW)
    assert caught.value.code == "no_article_text" and caught.value.status == 422
    assert "article" in str(caught.value)


def test_private_and_loopback_addresses_are_refused_unless_allowed(site) -> None:
    for url in (
        site.url("news/cao-toc-bac-nam.html"),
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
    ):
        with pytest.raises(FetchError) as caught:
            check_url(url, allow_private=False)
        assert caught.value.code == "url_not_allowed"
        assert "VNQA_FETCH_ALLOW_PRIVATE" in str(caught.value)
    check_url(site.url("news/cao-toc-bac-nam.html"), allow_private=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.vn/a", "gopher://x/"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(url, allow_private=True)
    assert caught.value.code == "url_not_allowed"


def test_every_redirect_is_checked_again(site) -> None:
    site.redirects["/go-file"] = "file:///etc/passwd"
    site.redirects["/go-page"] = "/news/gia-lua-dong-thap.html"
    with pytest.raises(FetchError) as caught:
        download(site.url("go-file"), ALLOW)
    assert caught.value.code == "url_not_allowed"
    page = download(site.url("go-page"), ALLOW)
    assert page.final_url.endswith("/news/gia-lua-dong-thap.html")
    site.redirects["/loop"] = "/loop"
    with pytest.raises(FetchError, match="redirected more than 3 times"):
        download(site.url("loop"), ALLOW)


def test_size_and_time_limits(site) -> None:
    with pytest.raises(FetchError) as big:
        download(site.url("big"), ALLOW)
    assert big.value.status == 413 and "VNQA_FETCH_MAX_BYTES" in str(big.value)
    with pytest.raises(FetchError) as slow:
        download(site.url("slow"), FetchLimits(allow_private=True, timeout_s=0.5))
    assert slow.value.status == 504


def test_extraction_needs_no_network() -> None:
    html = (FIXTURES / "gia-lua-dong-thap.html").read_bytes()
    article = extract_article(html, "https://nongnghiepmoi.vn/gia-lua")
    assert article.title == "Giá lúa tăng, nông dân Đồng Tháp phấn khởi"
    assert article.text.startswith("Những ngày này, giá lúa tươi")

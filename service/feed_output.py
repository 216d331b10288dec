"""RSS 2.0 documents of the digest and of the newest articles, for feed readers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from index.store import ArticleRow
from index.summary_store import StoredSummary
from service.digest import Digest

RSS_MEDIA_TYPE = "application/rss+xml; charset=utf-8"


def _rfc822(day_or_time: str | None) -> str | None:
    """An ISO day or time as RSS wants it (RFC 822), or None."""
    if not day_or_time:
        return None
    try:
        when = datetime.fromisoformat(day_or_time)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_datetime(when)


def _channel(title: str, link: str, description: str) -> tuple[ET.Element, ET.Element]:
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = link
    ET.SubElement(channel, "description").text = description
    ET.SubElement(channel, "language").text = "vi"
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(datetime.now(UTC))
    return rss, channel


def _item(
    channel: ET.Element,
    *,
    title: str,
    link: str,
    guid: str,
    description: str,
    date: str | None,
    sources: Sequence[str] = (),
) -> None:
    item = ET.SubElement(channel, "item")
    ET.SubElement(item, "title").text = title
    ET.SubElement(item, "link").text = link
    ET.SubElement(item, "guid", isPermaLink="false").text = guid
    ET.SubElement(item, "description").text = description
    for source in sources:
        ET.SubElement(item, "category").text = source
    if (when := _rfc822(date)) is not None:
        ET.SubElement(item, "pubDate").text = when


def _serialize(rss: ET.Element) -> bytes:
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def _article_link(article: ArticleRow, base_url: str) -> str:
    return article.url or f"{base_url.rstrip('/')}/v1/articles/{article.id}"


def digest_rss(digest: Digest, self_url: str, base_url: str) -> bytes:
    """One item per story: the headline, the story's summary, then its articles."""
    rss, channel = _channel(
        f"vnqa — tin theo sự kiện {digest.date_from} → {digest.date_to}",
        self_url,
        "Các bài báo được nhóm theo sự kiện, kèm tóm tắt.",
    )
    for story in digest.stories:
        lines = [story.summary.text] if story.summary else []
        lines += [
            f"• {a.article.title or a.article.id} ({a.article.source or 'không rõ nguồn'}, "
            f"{a.day}) {_article_link(a.article, base_url)}"
            for a in story.articles
        ]
        sources = sorted({a.article.source for a in story.articles if a.article.source})
        _item(
            channel,
            title=f"{story.headline} ({len(story.articles)} bài)",
            link=_article_link(story.articles[0].article, base_url),
            guid=story.id,
            description="\n".join(lines),
            date=story.newest,
            sources=sources,
        )
    return _serialize(rss)


def articles_rss(
    rows: Sequence[tuple[ArticleRow, StoredSummary | None]], self_url: str, base_url: str
) -> bytes:
    """One item per article, newest first, its stored summary as the description."""
    rss, channel = _channel("vnqa — bài mới", self_url, "Bài báo mới nhất kèm tóm tắt.")
    for article, summary in rows:
        if summary is not None and summary.text and summary.status in ("ready", "stale"):
            text = summary.text
        else:
            text = f"(tóm tắt: {summary.status if summary else 'chưa có'})"
        _item(
            channel,
            title=article.title or article.id,
            link=_article_link(article, base_url),
            guid=article.id,
            description=text or "",
            date=article.date or article.created_at,
            sources=[article.source] if article.source else [],
        )
    return _serialize(rss)

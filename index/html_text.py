"""Text out of HTML: newsroom CMS exports and pasted web pages arrive as HTML.

vnqa accepts an article body that is HTML by keeping its text: block elements
(``<p>``, ``<div>``, ``<li>``, headings, ``<br>``…) become line or paragraph breaks,
``<script>``, ``<style>`` and similar non-content elements are dropped, entities
are decoded. Detection is deliberately narrow (a real tag, comment or doctype), so
prose such as "nhiệt độ < 12 độ C" stays as it is. Built on the standard library's
``html.parser``, which never raises on malformed markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_KNOWN_TAGS = (
    "a|abbr|article|aside|b|blockquote|body|br|caption|center|code|dd|div|dl|dt|em|"
    "figcaption|figure|font|footer|h[1-6]|head|header|hr|html|i|iframe|img|li|link|main|"
    "meta|nav|noscript|ol|p|pre|q|s|script|section|small|span|strong|style|sub|sup|svg|"
    "table|tbody|td|template|tfoot|th|thead|title|tr|u|ul"
)
_HTML_RE = re.compile(rf"<\s*/?\s*(?:{_KNOWN_TAGS})\b[^<>]*>|<!--|<!doctype\s+html", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd div dl dt figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section table tbody td "
    "tfoot th thead tr ul".split()
)
_PARAGRAPH_TAGS = frozenset("p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol figure".split())
_SKIPPED_TAGS = frozenset("script style noscript template head iframe svg object".split())
# Break markers while parsing; a run of them becomes one line or paragraph break.
_LINE, _PARAGRAPH = "\x00", "\x01"
_BREAK_RUN_RE = re.compile(r"[ \t]*[\x00\x01][\x00\x01\s]*")


def looks_like_html(text: str) -> bool:
    """True when ``text`` contains an HTML tag, comment or doctype."""
    return _HTML_RE.search(text) is not None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "br":
            self.parts.append(_LINE)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARAGRAPH if tag in _PARAGRAPH_TAGS else _LINE)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in _BLOCK_TAGS:
            self.parts.append(_LINE)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARAGRAPH if tag in _PARAGRAPH_TAGS else _LINE)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            # Source line breaks inside a paragraph are layout, not content.
            self.parts.append(re.sub(r"\s+", " ", data.replace(_LINE, "").replace(_PARAGRAPH, "")))


def html_to_text(markup: str) -> str:
    """The visible text of ``markup``: paragraphs separated by blank lines, entities
    decoded, scripts and styles dropped. Whitespace is tidied but not normalized
    further (callers run their own cleaning)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = _BREAK_RUN_RE.sub(
        lambda m: "\n\n" if _PARAGRAPH in m.group() else "\n", "".join(parser.parts)
    )
    return "\n".join(line.strip() for line in text.split("\n")).strip()

"""The article: its fields, their cleaning and validation, and how an id and a title are
derived. Every input ends in :func:`make_article` (or :func:`article_from_mapping` for a
JSON object), which normalizes and validates the fields; an article without an id gets
one derived from its content, so ingesting the same input twice is idempotent. The file
formats articles are read from live in :mod:`index.article_files`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.html_text import html_to_text, looks_like_html
from index.lead import title_from_lead
from models.vietnamese import normalize

MAX_ID_LENGTH = 200
TITLE_MAX_SYLLABLES = 15

_BLANK_RUN_RE = re.compile(r"\n{3,}")
_SPACE_RUN_RE = re.compile(r"\s+")
# ISO date, optionally followed by a time that must itself be ISO (checked on parsing).
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ](?P<time>\S+))?")
_DMY_DATE_RE = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
# Unicode categories an id may not hold: controls, format characters (bidi controls,
# zero-width characters), lone surrogates, line and paragraph separators.
_ID_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Ids that are path segments of their own: /v1/articles/. and /v1/articles/.. .
_ID_RESERVED = frozenset({".", ".."})

_TEXT_FIELDS = ("text", "body", "content")
_OPTIONAL_FIELDS = ("title", "date", "source", "url", "author")


class ArticleFormatError(ValueError):
    """An input that cannot become an :class:`Article`; the message says what to fix.

    ``where`` names the input (``file``, ``file:line`` or ``file[index]``) when known,
    ``field`` the offending field when there is one.
    """

    def __init__(self, message: str, *, where: str | None = None, field: str | None = None):
        self.message = message
        self.where = where
        self.field = field
        super().__init__(f"{where}: {message}" if where else message)

    def located(self, where: str) -> ArticleFormatError:
        """This error with ``where`` attached, unless it already names a location."""
        if self.where:
            return self
        return ArticleFormatError(self.message, where=where, field=self.field)


@dataclass
class Article:
    """One news article. ``text`` is NFC-normalized, ``\\n``-separated and trimmed;
    paragraphs are separated by a blank line. ``date`` is ISO ``YYYY-MM-DD``.

    Build articles with :func:`make_article`, which validates and derives the id and
    title; constructing one directly only re-normalizes the text (idempotently).
    """

    id: str
    text: str
    title: str | None = None
    date: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None

    def __post_init__(self) -> None:
        self.text = clean_text(self.text)


# --------------------------------------------------------------------------- fields


def clean_text(text: str) -> str:
    """Normalize article text: NFC, no control characters, ``\\n`` line endings,
    no trailing spaces, at most one blank line between paragraphs, trimmed."""
    text = normalize(text).replace("\ufeff", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUN_RE.sub("\n\n", "\n".join(lines)).strip()


def clean_article_text(text: str) -> str:
    """An article body as stored: HTML reduced to its text (see :mod:`index.html_text`),
    then :func:`clean_text`. Raises :class:`ArticleFormatError` (field ``text``) when
    nothing is left."""
    was_html = looks_like_html(text)
    body = clean_text(html_to_text(text) if was_html else text)
    if not body:
        what = "once HTML markup is removed" if was_html else "after cleaning"
        raise ArticleFormatError(
            f"field 'text' is empty {what}; the article needs a body", field="text"
        )
    return body


def clean_line(value: str) -> str | None:
    """Normalize a one-line field (title, source, author…): NFC, no control characters,
    single spaces, ``None`` when empty. Filters on such a field clean their values with
    this too, so they match what is stored."""
    value = _SPACE_RUN_RE.sub(" ", normalize(value).replace("\ufeff", "")).strip()
    return value or None


def parse_date(value: str, field: str = "date", *, day_first: bool = True) -> str:
    """Parse a date to ISO ``YYYY-MM-DD``: ``YYYY-MM-DD``, optionally followed by an ISO
    time (``T08:30:00+07:00``, which is dropped), or, when ``day_first``, ``DD/MM/YYYY``.

    Nothing else may follow: ``2025-11-27junk`` is refused. Raises
    :class:`ArticleFormatError` naming ``field`` when the value is not such a date.
    """
    raw = value.strip()
    accepted = "YYYY-MM-DD or DD/MM/YYYY" if day_first else "YYYY-MM-DD, e.g. 2025-11-27"
    if match := _ISO_DATE_RE.fullmatch(raw):
        year, month, day = (int(g) for g in match.groups()[:3])
        if (time := match.group("time")) is not None:
            try:
                dt.time.fromisoformat(time)
            except ValueError:
                raise ArticleFormatError(
                    f"field {field!r}: {value!r} has {time!r} after the date, which is not "
                    f"an ISO time; send {accepted}",
                    field=field,
                ) from None
    elif day_first and (match := _DMY_DATE_RE.fullmatch(raw)):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ArticleFormatError(
            f"field {field!r}: {value!r} is not a date; use {accepted}", field=field
        )
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError as exc:
        raise ArticleFormatError(
            f"field {field!r}: {value!r} is not a valid calendar date ({exc})", field=field
        ) from None


def _character_problem(value: str) -> str | None:
    """What makes ``value`` unfit for an id, naming the first bad character, or None."""
    for char in value:
        category = unicodedata.category(char)
        if category in _ID_FORBIDDEN_CATEGORIES:
            name = unicodedata.name(char, "")
            kind = {
                "Cc": "a control character",
                "Cf": "a format character (bidi control or zero-width)",
                "Cs": "a lone surrogate (invalid Unicode)",
            }.get(category, "a line or paragraph separator")
            return f"U+{ord(char):04X}{f' {name}' if name else ''}, {kind}"
    return None


def clean_article_id(value: str, field: str = "id") -> str | None:
    """The id a new article is stored under: NFC, stripped; ``None`` when blank (the
    caller derives one from the content).

    Refused (:class:`ArticleFormatError` naming ``field``): more than
    :data:`MAX_ID_LENGTH` characters, ``/``, the ids ``.`` and ``..``, and control,
    format (bidi, zero-width), surrogate and line-separator characters. Every
    interface (HTTP, upload, MCP, CLI) stores ids through this function.
    """
    cleaned = unicodedata.normalize("NFC", value).strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_ID_LENGTH:
        raise ArticleFormatError(
            f"field {field!r}: {len(cleaned)} characters long, at most {MAX_ID_LENGTH} allowed",
            field=field,
        )
    if cleaned in _ID_RESERVED:
        raise ArticleFormatError(
            f"field {field!r}: {cleaned!r} is reserved (a path segment); choose another id",
            field=field,
        )
    problem = "'/'" if "/" in cleaned else _character_problem(cleaned)
    if problem:
        raise ArticleFormatError(
            f"field {field!r}: {_preview(cleaned)} contains {problem}; remove it", field=field
        )
    return cleaned


def lookup_article_id(value: str, field: str = "article_id") -> str:
    """An id to look an article up by, cleaned as stored ids are (NFC, stripped).

    Raises :class:`ArticleFormatError` naming ``field`` when it is blank or holds a
    lone surrogate, which no stored id can hold (and SQLite cannot encode). Ids that
    :func:`clean_article_id` would refuse otherwise are merely not found, so articles
    stored before a rule was added stay reachable.
    """
    cleaned = unicodedata.normalize("NFC", value).strip()
    if not cleaned:
        raise ArticleFormatError(f"field {field!r}: is empty; send an article id", field=field)
    if any(unicodedata.category(c) == "Cs" for c in cleaned):
        raise ArticleFormatError(
            f"field {field!r}: {_preview(cleaned)} contains a lone surrogate (invalid "
            "Unicode), which no article id holds; send valid UTF-8 text",
            field=field,
        )
    return cleaned


def derive_article_id(text: str, title: str | None) -> str:
    """A stable content id: the first 16 hex digits of SHA-256 over NFC title and text.

    The same title and text always give the same id, so re-ingesting a file is
    idempotent; any change in either gives a different id.
    """
    title_nfc = unicodedata.normalize("NFC", title or "")
    text_nfc = unicodedata.normalize("NFC", text)
    digest = hashlib.sha256(f"{title_nfc}\x1f{text_nfc}".encode())
    return digest.hexdigest()[:16]


def derive_title(text: str, max_syllables: int = TITLE_MAX_SYLLABLES) -> str | None:
    """A title made from the article's lead (:mod:`index.lead`): its first prose
    paragraph that is no caption or roster, cut at a word boundary with "…" when it
    has more than ``max_syllables`` syllables."""
    return title_from_lead(text, max_syllables)


def make_article(
    *,
    text: str,
    id: str | None = None,
    title: str | None = None,
    date: str | None = None,
    source: str | None = None,
    url: str | None = None,
    author: str | None = None,
) -> Article:
    """Validate and normalize fields into an :class:`Article`.

    ``text`` must be non-empty after normalization; ``date`` is checked by
    :func:`parse_date` and stored as ISO; ``id`` by :func:`clean_article_id`, and
    derived from title and text when absent (from the title given here, not the
    derived one). A missing title is derived from the first sentence. Raises
    :class:`ArticleFormatError` naming the field at fault.
    """
    body = clean_article_text(text)
    if title is not None and looks_like_html(title):
        title = html_to_text(title)
    given_title = clean_line(title) if title is not None else None
    article_id = clean_article_id(id) if id is not None else None
    return Article(
        id=article_id or derive_article_id(body, given_title),
        text=body,
        title=given_title or derive_title(body),
        date=parse_date(date) if date is not None and date.strip() else None,
        source=clean_line(source) if source is not None else None,
        url=clean_line(url) if url is not None else None,
        author=clean_line(author) if author is not None else None,
    )


# --------------------------------------------------------------------------- JSON objects


def _string_field(obj: Mapping[str, Any], name: str) -> str | None:
    """The string value of ``obj[name]`` (``None`` when absent or null)."""
    value = obj.get(name)
    if value is None:
        return None
    if name == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ArticleFormatError(
            f"field {name!r} must be a string, got {kind} {_preview(value)}", field=name
        )
    return value


def _preview(value: Any) -> str:
    """``value`` as JSON, cut to 40 characters, with invisible and invalid characters
    (bidi controls, lone surrogates…) escaped so the message prints and encodes."""
    text = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in _ID_FORBIDDEN_CATEGORIES else c
        for c in json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= 40 else text[:37] + "..."


def article_from_mapping(obj: Mapping[str, Any], *, where: str) -> Article:
    """Build an article from a JSON object with ``id``, ``title``, ``text`` (or ``body``
    or ``content``), ``date``, ``source``, ``url`` and ``author``; other keys are ignored.

    Raises :class:`ArticleFormatError` located at ``where`` for a missing text or a field
    of the wrong type.
    """
    try:
        if not isinstance(obj, Mapping):
            raise ArticleFormatError(
                f"expected a JSON object with a 'text' field, got {type(obj).__name__}"
            )
        text: str | None = None
        for name in _TEXT_FIELDS:
            value = _string_field(obj, name)
            if value is not None and value.strip():
                text = value
                break
        if text is None:
            raise ArticleFormatError(
                "missing field 'text' (also accepted: 'body', 'content'); "
                "each article needs its body text",
                field="text",
            )
        fields = {name: _string_field(obj, name) for name in _OPTIONAL_FIELDS}
        return make_article(text=text, id=_string_field(obj, "id"), **fields)
    except ArticleFormatError as exc:
        raise exc.located(where) from None

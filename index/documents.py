"""Articles and the file formats they are loaded from.

Supported inputs: the seed format (`` date YYYY-MM-DD`` header, body, ``Tác giả:`` /
``Nguồn tin:`` trailer), JSON (an object, a list, or ``{"articles": [...]}``), JSONL
(one object a line), plain ``.txt`` and ``.md``. Every parser ends in
:func:`make_article`, which normalizes and validates the fields; an article without
an id gets one derived from its content, so ingesting the same file twice is
idempotent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.html_text import html_to_text, looks_like_html
from index.lead import title_from_lead
from models.vietnamese import count_syllables, normalize, strip_diacritics

MAX_ID_LENGTH = 200
TITLE_MAX_SYLLABLES = 15
# A first line of a .txt file at most this long, without closing punctuation, is a title.
_TXT_TITLE_MAX_SYLLABLES = 30
_TXT_TITLE_MAX_CHARS = 200

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".txt", ".md")

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
# Python refuses to convert longer digit strings to int (CVE-2020-10735).
MAX_JSON_INT_DIGITS = 4300
_CLOSING_PUNCTUATION = tuple(".!?…;:,")

# Seed format: " date 2025-11-27 <first body text>" and trailing "Tác giả: …" lines.
_SEED_HEADER_RE = re.compile(
    r"\A\s*date\s*[:=]?\s*(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})(?![\w/-])[ \t]*",
    re.IGNORECASE,
)
# Matched against the line with diacritics stripped and lower-cased.
_TRAILER_RE = re.compile(
    r"^(?P<label>tac gia|nguon tin|nguon|author|source|url|link|date)\s*:(?P<value>.*)$"
)
_TRAILER_FIELDS = {
    "tac gia": "author",
    "author": "author",
    "nguon tin": "source",
    "nguon": "source",
    "source": "source",
    "url": "url",
    "link": "url",
    "date": "date",
}

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


# --------------------------------------------------------------------------- seed format


def _trailer_field(line: str) -> tuple[str, str | None] | None:
    """``("author", "Phan Quỳnh")`` for a ``Tác giả: Phan Quỳnh`` line, else ``None``."""
    folded = strip_diacritics(line.strip()).lower()
    match = _TRAILER_RE.match(folded)
    if match is None:
        return None
    value = line.split(":", 1)[1].strip() if ":" in line else ""
    return _TRAILER_FIELDS[match.group("label")], value or None


def _split_trailer(text: str) -> tuple[str, dict[str, str]]:
    """Remove trailing ``Tác giả:`` / ``Nguồn tin:`` (and similar) lines, any order."""
    lines = text.split("\n")
    fields: dict[str, str] = {}
    end = len(lines)
    while end > 0:
        line = lines[end - 1]
        if not line.strip():
            end -= 1
            continue
        found = _trailer_field(line)
        if found is None:
            break
        name, value = found
        if value is not None:
            fields.setdefault(name, value)  # scanning upwards: the last line wins
        end -= 1
    return "\n".join(lines[:end]), fields


def looks_like_seed(raw: str) -> bool:
    """True when ``raw`` has the seed ``date`` header or a ``Tác giả:``/``Nguồn tin:`` trailer."""
    text = clean_text(raw)
    if _SEED_HEADER_RE.match(text):
        return True
    return bool(_split_trailer(text)[1])


def parse_seed(raw: str, *, fallback_title: str | None = None) -> Article:
    """Parse the seed format: `` date YYYY-MM-DD`` then the body (the header may share
    its line with the first body text or stand alone), then ``Tác giả: X`` and
    ``Nguồn tin: Y`` lines in any order. Header and trailer are removed from the text.

    The title is ``fallback_title`` when given, otherwise derived from the first sentence.
    """
    text = clean_text(raw)
    date: str | None = None
    if header := _SEED_HEADER_RE.match(text):
        date = header.group("date")
        text = text[header.end() :]
    body, fields = _split_trailer(text)
    if date is None:
        date = fields.get("date")
    return make_article(
        text=body,
        title=fallback_title,
        date=date,
        source=fields.get("source"),
        url=fields.get("url"),
        author=fields.get("author"),
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


# --------------------------------------------------------------------------- files


def _decode(data: bytes, where: str) -> str:
    """Decode UTF-8 (a BOM is accepted); otherwise raise naming the file and line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArticleFormatError(
            f"not valid UTF-8 (line {line}, byte offset {exc.start}: {exc.reason}); "
            "re-save the file as UTF-8",
            where=where,
        ) from None


def _plain_text_article(raw: str) -> Article:
    """A ``.txt`` article: a short first line without closing punctuation is the title."""
    text = clean_text(raw)
    first, sep, rest = text.partition("\n")
    first = first.strip()
    if (
        sep
        and rest.strip()
        and len(first) <= _TXT_TITLE_MAX_CHARS
        and count_syllables(first) <= _TXT_TITLE_MAX_SYLLABLES
        and not first.endswith(_CLOSING_PUNCTUATION)
    ):
        return make_article(text=rest, title=first)
    return make_article(text=text)


_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_LINE_RE = re.compile(r"^(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>.*?)\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_H1_RE = re.compile(r"^#[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<text>.*?)[ \t]*#*[ \t]*$")
_RULE_RE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$")
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK_RE = re.compile(r"<(https?://[^>\s]+)>")
_STRONG_RE = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR_RE = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_EM_UNDERSCORE_RE = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_BLOCKQUOTE_RE = re.compile(r"^[ \t]*>[ \t]?")


def _strip_inline_markdown(line: str) -> str:
    line = _IMAGE_RE.sub("", line)
    line = _LINK_RE.sub(r"\1", line)
    line = _AUTOLINK_RE.sub(r"\1", line)
    line = _STRONG_RE.sub(r"\2", line)
    line = _EM_STAR_RE.sub(r"\1", line)
    return _EM_UNDERSCORE_RE.sub(r"\1", line)


def _markdown_article(raw: str) -> Article:
    """A ``.md`` article: title from the first ``# heading`` (or front matter), basic
    markdown stripped; the content of code fences is kept verbatim."""
    text = normalize(raw).replace("\ufeff", "")
    meta: dict[str, str] = {}
    if front := _FRONT_MATTER_RE.match(text):
        for line in front.group("body").split("\n"):
            if m := _FRONT_MATTER_LINE_RE.match(line):
                meta[m.group("key").lower()] = m.group("value").strip("'\"")
        text = text[front.end() :]

    title = meta.get("title")
    out: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line)
            continue
        if title is None and (h1 := _H1_RE.match(line)):
            title = _strip_inline_markdown(h1.group("title"))
            continue
        if _RULE_RE.match(line):
            out.append("")
            continue
        if heading := _HEADING_RE.match(line):
            line = heading.group("text")
        line = _BLOCKQUOTE_RE.sub("", line)
        out.append(_strip_inline_markdown(line))
    return make_article(
        text="\n".join(out),
        id=meta.get("id"),
        title=title,
        date=meta.get("date"),
        source=meta.get("source"),
        url=meta.get("url"),
        author=meta.get("author"),
    )


def _json_int(digits: str) -> int:
    """``int(digits)``, refusing what Python would refuse with an unhelpful message."""
    if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ArticleFormatError(
            f"a number of {len(digits.lstrip('-'))} digits; numbers may have at most "
            f"{MAX_JSON_INT_DIGITS} (send long ids as strings)"
        )
    return int(digits)


def load_json(raw: str, where: str, *, line: bool = False) -> Any:
    """``json.loads(raw)``, every failure an :class:`ArticleFormatError` located at
    ``where``: a syntax error (with its line and column), nesting deeper than the
    parser's recursion limit, a number with more than :data:`MAX_JSON_INT_DIGITS`
    digits. ``line`` says ``raw`` is one line of a JSON Lines file."""
    try:
        return json.loads(raw, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        at = f"column {exc.colno}" if line else f"line {exc.lineno}, column {exc.colno}"
        hint = "; each line must hold one complete JSON object" if line else ""
        raise ArticleFormatError(f"invalid JSON at {at}: {exc.msg}{hint}", where=where) from None
    except ArticleFormatError as exc:
        raise exc.located(where) from None
    except RecursionError:
        raise ArticleFormatError(
            "JSON nested too deeply to read; an article is an object of strings, "
            'in a list or in {"articles": [...]}',
            where=where,
        ) from None


def _json_articles(raw: str, where: str) -> Iterator[Article]:
    data = load_json(raw, where)
    if isinstance(data, Mapping) and "articles" in data:
        data = data["articles"]
        if not isinstance(data, list):
            raise ArticleFormatError("'articles' must be a list of objects", where=where)
        for index, item in enumerate(data):
            yield article_from_mapping(item, where=f"{where}: articles[{index}]")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield article_from_mapping(item, where=f"{where}[{index}]")
    elif isinstance(data, Mapping):
        yield article_from_mapping(data, where=where)
    else:
        raise ArticleFormatError(
            'expected an object, a list of objects or {"articles": [...]}', where=where
        )


def _jsonl_articles(raw: str, where: str) -> Iterator[Article]:
    for number, line in enumerate(raw.split("\n"), start=1):
        if not line.strip():
            continue
        at = f"{where}:{number}"
        yield article_from_mapping(load_json(line, at, line=True), where=at)


def parse_file(data: bytes, name: str) -> Iterator[Article]:
    """Yield the articles in the bytes of a file called ``name``, parsed by its suffix
    (``.jsonl``, ``.json``, ``.txt`` or ``.md``); errors name ``name`` (and the line
    for JSONL). Articles come one at a time, so a caller can stop early (a count
    limit) without parsing the rest."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleFormatError(
            f"unsupported file type {suffix or '(none)'!r}; use one of "
            + ", ".join(SUPPORTED_SUFFIXES),
            where=name,
        )
    raw = _decode(data, name)
    if suffix == ".jsonl":
        yield from _jsonl_articles(raw, name)
    elif suffix == ".json":
        yield from _json_articles(raw, name)
    else:
        try:
            if suffix == ".md":
                yield _markdown_article(raw)
            elif looks_like_seed(raw):
                yield parse_seed(raw)
            else:
                yield _plain_text_article(raw)
        except ArticleFormatError as exc:
            raise exc.located(name) from None


def _file_articles(path: Path) -> Iterator[Article]:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:  # before reading an unknown file
        yield from parse_file(b"", str(path))
        return
    yield from parse_file(path.read_bytes(), str(path))


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def iter_article_files(path: Path) -> list[Path]:
    """The files :func:`load_articles` reads under ``path``: the file itself, or a
    folder's supported, non-hidden files, recursively, in sorted order."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        return [path]
    files = [
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not _is_hidden(p, path)
    ]
    return sorted(files, key=lambda p: p.relative_to(path).as_posix())


def load_articles(path: Path) -> Iterator[Article]:
    """Yield the articles in a file or, recursively, a folder (sorted; hidden files and
    unknown extensions skipped). Raises :class:`ArticleFormatError` naming the file
    (and the line for JSONL) when an input cannot be read as articles."""
    for file in iter_article_files(path):
        yield from _file_articles(file)

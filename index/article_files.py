"""The file formats articles are read from, from bytes or from disk.

Supported inputs: the seed format (`` date YYYY-MM-DD`` header, body, ``Tác giả:`` /
``Nguồn tin:`` trailer), JSON (an object, a list, or ``{"articles": [...]}``), JSONL
(one object a line), plain ``.txt`` and ``.md``. Every parser ends in
:func:`index.documents.make_article`; errors are :class:`~index.documents.ArticleFormatError`
naming the file (and the line for JSONL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from index.documents import (
    Article,
    ArticleFormatError,
    article_from_mapping,
    clean_text,
    make_article,
)
from models.vietnamese import count_syllables, normalize, strip_diacritics

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".txt", ".md")

# A first line of a .txt file at most this long, without closing punctuation, is a title.
_TXT_TITLE_MAX_SYLLABLES = 30
_TXT_TITLE_MAX_CHARS = 200
_CLOSING_PUNCTUATION = tuple(".!?…;:,")
# Python refuses to convert longer digit strings to int (CVE-2020-10735).
MAX_JSON_INT_DIGITS = 4300

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

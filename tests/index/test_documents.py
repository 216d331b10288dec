"""Tests for index.documents: the seed format, JSON/JSONL/.txt/.md loading, validation."""

from __future__ import annotations

import json
import re
import unicodedata
from itertools import islice
from pathlib import Path

import pytest

from index.article_files import load_articles, parse_file, parse_seed
from index.documents import (
    Article,
    ArticleFormatError,
    article_from_mapping,
    clean_article_id,
    derive_article_id,
    lookup_article_id,
    make_article,
    parse_date,
)
from models.vietnamese import count_syllables

SEED = Path(__file__).resolve().parents[2] / "seeds" / "nghean-cong-an-2025-11-27.txt"


@pytest.fixture(scope="module")
def seed_article() -> Article:
    return parse_seed(SEED.read_text(encoding="utf-8"))


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- seed format


def test_seed_fields(seed_article: Article) -> None:
    assert seed_article.date == "2025-11-27"
    assert seed_article.author == "Phan Quỳnh"
    assert seed_article.source == "nghean.gov.vn"
    assert seed_article.url is None


def test_seed_text_has_no_header_or_trailer(seed_article: Article) -> None:
    text = seed_article.text
    assert text.startswith("Các đồng chí:")
    assert "Tác giả" not in text
    assert "Nguồn tin" not in text
    assert "date 2025" not in text
    assert text.endswith("trong thời gian tới.")
    assert "\n\n" in text  # paragraphs kept
    assert "\n\n\n" not in text
    assert text == unicodedata.normalize("NFC", text)


def test_seed_title_is_derived_and_short(seed_article: Article) -> None:
    title = seed_article.title
    assert title is not None
    # Made from the lead, not from the photo caption listing the attendees.
    assert not title.startswith("Các đồng chí")
    assert title.startswith("Trong 11 tháng đầu năm 2025, Công an tỉnh đạt được")
    assert title.endswith("…")
    assert count_syllables(title) <= 15
    assert title[:-1] in seed_article.text  # cut at a word boundary


def test_seed_id_is_stable(seed_article: Article) -> None:
    again = parse_seed(SEED.read_text(encoding="utf-8"))
    assert again.id == seed_article.id
    assert re.fullmatch(r"[0-9a-f]{16}", seed_article.id)
    assert [a.id for a in load_articles(SEED)] == [seed_article.id]


def test_seed_fallback_title() -> None:
    article = parse_seed(" date 2025-01-02 Nội dung bài viết.", fallback_title="  Tiêu đề  ")
    assert article.title == "Tiêu đề"
    assert article.text == "Nội dung bài viết."
    assert article.date == "2025-01-02"


def test_seed_is_lenient() -> None:
    raw = (
        "\r\n  date   02/01/2025  \r\n\r\nCông an tỉnh họp báo.  \r\n\r\n\r\n\r\n"
        "Nguồn tin :  baonghean.vn \r\n\r\n   Tác giả:   Nguyễn  Văn A  \r\n"
    )
    article = parse_seed(raw)
    assert article.date == "2025-01-02"
    assert article.text == "Công an tỉnh họp báo."
    assert article.source == "baonghean.vn"
    assert article.author == "Nguyễn Văn A"


def test_seed_trailer_without_diacritics_and_without_header() -> None:
    article = parse_seed("Bài viết ngắn.\nTac gia: Le B\nNguon tin: vnexpress.net")
    assert (article.date, article.author, article.source) == (None, "Le B", "vnexpress.net")
    assert article.text == "Bài viết ngắn."


def test_seed_nfd_input_is_normalized() -> None:
    raw = unicodedata.normalize(
        "NFD", " date 2025-11-27 Bí thư Tỉnh ủy phát biểu.\n\nTác giả: Quỳnh"
    )
    article = parse_seed(raw)
    assert article.author == "Quỳnh"
    assert article.text == "Bí thư Tỉnh ủy phát biểu."


def test_seed_bad_date_names_field() -> None:
    with pytest.raises(ArticleFormatError, match="date") as info:
        parse_seed(" date 2025-13-40 Nội dung.")
    assert info.value.field == "date"


# ----------------------------------------------------------------------------- make_article


def test_make_article_normalizes_text() -> None:
    raw = "\ufeff  Dòng một\x07.  \r\nDòng hai.\r\n\r\n\r\n\r\nĐoạn  hai.\t\n\n"
    article = make_article(text=unicodedata.normalize("NFD", raw))
    assert article.text == "Dòng một.\nDòng hai.\n\nĐoạn  hai."
    assert article.text == unicodedata.normalize("NFC", article.text)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t", "\x00\x01"])
def test_make_article_rejects_empty_text(text: str) -> None:
    with pytest.raises(ArticleFormatError, match="text") as info:
        make_article(text=text)
    assert info.value.field == "text"


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2025-11-27", "2025-11-27"),
        ("2025-1-2", "2025-01-02"),
        ("2025-11-27T08:30:00+07:00", "2025-11-27"),
        ("27/11/2025", "2025-11-27"),
        ("2/1/2025", "2025-01-02"),
        (" 27-11-2025 ", "2025-11-27"),
    ],
)
def test_make_article_dates(value: str, iso: str) -> None:
    assert make_article(text="Nội dung.", date=value).date == iso


@pytest.mark.parametrize("value", ["31/02/2025", "2025-02-30", "hôm qua", "11/2025", "2025"])
def test_make_article_rejects_bad_dates(value: str) -> None:
    with pytest.raises(ArticleFormatError, match="'date'.*YYYY-MM-DD|'date'.*valid") as info:
        make_article(text="Nội dung.", date=value)
    assert info.value.field == "date"


def test_make_article_blank_date_is_none() -> None:
    assert make_article(text="Nội dung.", date="  ").date is None


def test_make_article_id_rules() -> None:
    assert make_article(text="x.", id="  bai-1  ").id == "bai-1"
    assert make_article(text="x.", id="a" * 200).id == "a" * 200
    for bad in ("a/b", "a\x01b", "a" * 201):
        with pytest.raises(ArticleFormatError, match="'id'") as info:
            make_article(text="x.", id=bad)
        assert info.value.field == "id"
    blank = make_article(text="x.", id="   ")
    assert blank.id == derive_article_id("x.", None)


def test_make_article_derives_title() -> None:
    short = make_article(text="Nghệ An đón mưa lớn. Nhiều nơi ngập sâu.")
    assert short.title == "Nghệ An đón mưa lớn"
    long_text = (
        "Sáng nay tại thành phố Vinh tỉnh Nghệ An đã diễn ra hội nghị tổng kết công tác "
        "năm hai nghìn hai mươi lăm của lực lượng Công an tỉnh."
    )
    title = make_article(text=long_text).title
    assert title == "Sáng nay tại thành phố Vinh tỉnh Nghệ An đã diễn ra hội nghị tổng…"
    assert count_syllables(title) == 15
    assert make_article(text=long_text, title="Tiêu đề").title == "Tiêu đề"


def test_make_article_optional_fields_are_cleaned() -> None:
    article = make_article(
        text="x.", source="  nghean.gov.vn ", author=" Phan\n Quỳnh ", url=" ", title=" "
    )
    assert article.source == "nghean.gov.vn"
    assert article.author == "Phan Quỳnh"
    assert article.url is None
    assert article.title == "x"


# ----------------------------------------------------------------------------- ids


def test_derive_article_id_is_stable_and_content_sensitive() -> None:
    base = derive_article_id("Nội dung bài viết.", "Tiêu đề")
    assert re.fullmatch(r"[0-9a-f]{16}", base)
    assert derive_article_id("Nội dung bài viết.", "Tiêu đề") == base
    nfd = derive_article_id(
        unicodedata.normalize("NFD", "Nội dung bài viết."), unicodedata.normalize("NFD", "Tiêu đề")
    )
    assert nfd == base
    assert derive_article_id("Nội dung bài viết!", "Tiêu đề") != base
    assert derive_article_id("Nội dung bài viết.", "Tiêu đề khác") != base
    assert derive_article_id("Nội dung bài viết.", None) != base
    assert derive_article_id("Tiêu đềNội dung bài viết.", None) != derive_article_id(
        "Nội dung bài viết.", "Tiêu đề"
    )


# ----------------------------------------------------------------------------- mappings


def test_article_from_mapping_fields() -> None:
    article = article_from_mapping(
        {
            "id": "a1",
            "title": "Tiêu đề",
            "text": "Nội dung.",
            "date": "27/11/2025",
            "source": "nghean.gov.vn",
            "url": "https://nghean.gov.vn/a1",
            "author": "Phan Quỳnh",
            "tags": ["x"],
            "views": 3,
        },
        where="mem",
    )
    assert article == Article(
        id="a1",
        text="Nội dung.",
        title="Tiêu đề",
        date="2025-11-27",
        source="nghean.gov.vn",
        url="https://nghean.gov.vn/a1",
        author="Phan Quỳnh",
    )


@pytest.mark.parametrize("field", ["body", "content"])
def test_article_from_mapping_text_aliases(field: str) -> None:
    assert article_from_mapping({field: "Nội dung."}, where="mem").text == "Nội dung."


def test_article_from_mapping_integer_id() -> None:
    assert article_from_mapping({"id": 42, "text": "x."}, where="mem").id == "42"


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"text": 5}, "text"),
        ({"text": "x.", "title": ["a"]}, "title"),
        ({"text": "x.", "date": 20251127}, "date"),
        ({"text": "x.", "id": True}, "id"),
        ({"text": "x.", "author": {"name": "A"}}, "author"),
        ({"title": "Chỉ có tiêu đề"}, "text"),
        ({"text": "  "}, "text"),
    ],
)
def test_article_from_mapping_errors_name_field_and_place(obj: dict, field: str) -> None:
    with pytest.raises(ArticleFormatError) as info:
        article_from_mapping(obj, where="data.json[3]")
    assert info.value.field == field
    assert str(info.value).startswith("data.json[3]: ")
    assert f"'{field}'" in str(info.value)


def test_article_from_mapping_rejects_non_objects() -> None:
    with pytest.raises(ArticleFormatError, match=r"^x\.jsonl:2: expected a JSON object"):
        article_from_mapping(["text"], where="x.jsonl:2")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- files


def test_load_jsonl(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "title": "A", "text": "Bài A."}, ensure_ascii=False),
        "",
        "   ",
        json.dumps({"text": "Bài B.", "date": "01/02/2025"}, ensure_ascii=False),
    ]
    path = write(tmp_path / "news.jsonl", "\n".join(lines) + "\n")
    articles = list(load_articles(path))
    assert [a.text for a in articles] == ["Bài A.", "Bài B."]
    assert articles[0].id == "a"
    assert articles[1].id == derive_article_id("Bài B.", None)
    assert articles[1].date == "2025-02-01"


def test_load_jsonl_bad_line_names_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"text": "Bài A."})
    path = write(tmp_path / "news.jsonl", f"{good}\n\n{{'text': 'single quotes'}}\n{good}\n")
    with pytest.raises(ArticleFormatError, match=r"news\.jsonl:3: invalid JSON"):
        list(load_articles(path))


def test_load_jsonl_bad_field_names_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "news.jsonl", '{"text": "ok."}\n{"text": "ok.", "date": "hôm nay"}\n')
    with pytest.raises(ArticleFormatError, match=r"news\.jsonl:2: field 'date'") as info:
        list(load_articles(path))
    assert info.value.field == "date"


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "Bài A."},
        [{"text": "Bài A."}],
        {"articles": [{"text": "Bài A."}]},
    ],
)
def test_load_json_shapes(tmp_path: Path, payload: object) -> None:
    path = write(tmp_path / "a.json", json.dumps(payload, ensure_ascii=False))
    assert [a.text for a in load_articles(path)] == ["Bài A."]


def test_load_json_errors(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.json", '{"text": "x",\n}')
    with pytest.raises(ArticleFormatError, match=r"broken\.json: invalid JSON at line 2"):
        list(load_articles(broken))
    item = write(tmp_path / "list.json", json.dumps([{"text": "x."}, {"body": 1}]))
    with pytest.raises(ArticleFormatError, match=r"list\.json\[1\]: field 'body'"):
        list(load_articles(item))
    scalar = write(tmp_path / "scalar.json", "3")
    with pytest.raises(ArticleFormatError, match=r"scalar\.json: expected an object"):
        list(load_articles(scalar))


def test_load_markdown(tmp_path: Path) -> None:
    md = (
        "# Nghệ An **tổng kết** năm 2025\n\n"
        "Đoạn _một_ có [liên kết](https://example.com) và ![ảnh](a.png) ảnh.\n\n"
        "## Mục hai\n\n"
        "> Trích dẫn *quan trọng*.\n\n"
        "```\n# không phải tiêu đề **giữ nguyên**\n```\n\n"
        "---\n\n"
        "Tên_biến_snake vẫn giữ.\n"
    )
    article = next(load_articles(write(tmp_path / "bai.md", md)))
    assert article.title == "Nghệ An tổng kết năm 2025"
    assert article.text == (
        "Đoạn một có liên kết và  ảnh.\n\n"
        "Mục hai\n\n"
        "Trích dẫn quan trọng.\n\n"
        "# không phải tiêu đề **giữ nguyên**\n\n"
        "Tên_biến_snake vẫn giữ."
    )


def test_load_markdown_front_matter(tmp_path: Path) -> None:
    md = '---\ntitle: "Tiêu đề"\ndate: 27/11/2025\nauthor: Phan Quỳnh\n---\nNội dung.\n'
    article = next(load_articles(write(tmp_path / "fm.md", md)))
    assert (article.title, article.date, article.author, article.text) == (
        "Tiêu đề",
        "2025-11-27",
        "Phan Quỳnh",
        "Nội dung.",
    )


def test_load_txt_with_title_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Mưa lớn ở Nghệ An\n\nNhiều nơi ngập sâu. Người dân sơ tán.\n")
    article = next(load_articles(path))
    assert article.title == "Mưa lớn ở Nghệ An"
    assert article.text == "Nhiều nơi ngập sâu. Người dân sơ tán."


def test_load_txt_without_title_line(tmp_path: Path) -> None:
    path = write(tmp_path / "b.txt", "Nhiều nơi ngập sâu.\nNgười dân sơ tán.\n")
    article = next(load_articles(path))
    assert article.title == "Nhiều nơi ngập sâu"
    assert article.text == "Nhiều nơi ngập sâu.\nNgười dân sơ tán."
    single = next(load_articles(write(tmp_path / "c.txt", "Chỉ một dòng không dấu chấm")))
    assert single.text == "Chỉ một dòng không dấu chấm"


def test_load_txt_in_seed_format(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.txt", " date 2025-03-04 Nội dung.\n\nTác giả: A\n\nNguồn tin: b.vn\n"
    )
    article = next(load_articles(path))
    assert (article.date, article.author, article.source, article.text) == (
        "2025-03-04",
        "A",
        "b.vn",
        "Nội dung.",
    )


def test_load_folder_recursive_sorted_skipping_hidden_and_unknown(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "Bài B.")
    write(tmp_path / "a" / "z.md", "# Z\n\nBài Z.")
    write(tmp_path / "a" / "y.json", json.dumps({"text": "Bài Y."}))
    write(tmp_path / ".hidden.txt", "Ẩn.")
    write(tmp_path / ".git" / "x.txt", "Ẩn.")
    write(tmp_path / "notes.csv", "x,y")
    write(tmp_path / "image.png", b"\x89PNG\r\n\x1a\n\xff")
    assert [a.text for a in load_articles(tmp_path)] == ["Bài Y.", "Bài Z.", "Bài B."]


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Tiêu đề\n\nNội dung.")
    write(tmp_path / "b.jsonl", '{"text": "Bài một."}\n{"text": "Bài hai."}\n')
    first = [a.id for a in load_articles(tmp_path)]
    second = [a.id for a in load_articles(tmp_path)]
    assert first == second
    assert len(set(first)) == 3


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.jsonl", "\ufeff" + json.dumps({"text": "Có BOM."}) + "\n")
    assert [a.text for a in load_articles(path)] == ["Có BOM."]
    txt = write(tmp_path / "bom.txt", "\ufeff date 2025-11-27 Có BOM.".encode())
    assert next(load_articles(txt)).date == "2025-11-27"


def test_invalid_utf8_is_rejected_naming_file(tmp_path: Path) -> None:
    path = write(tmp_path / "cp1258.txt", "Dòng một.\n".encode() + b"Ng\xe0y h\xf4m qua.\n")
    with pytest.raises(ArticleFormatError, match=r"cp1258\.txt: not valid UTF-8 \(line 2") as e:
        list(load_articles(path))
    assert "UTF-8" in str(e.value) and "re-save" in str(e.value)


def test_empty_file_is_rejected_naming_file(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.txt", "  \n\n")
    with pytest.raises(ArticleFormatError, match=r"empty\.txt: field 'text' is empty"):
        list(load_articles(path))


def test_unsupported_or_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(ArticleFormatError, match=r"unsupported file type '\.csv'"):
        list(load_articles(write(tmp_path / "x.csv", "a,b")))
    with pytest.raises(FileNotFoundError):
        list(load_articles(tmp_path / "missing"))


# ----------------------------------------------------------------- ids, dates, JSON limits


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (".", "reserved"),
        ("..", "reserved"),
        ("a/b", "'/'"),
        ("a\ud800b", "lone surrogate"),
        ("a\u202eb", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u061cb", "U+061C"),  # Arabic letter mark, a bidi control
        ("a\u200db", "U+200D"),  # zero-width joiner
        ("a\u2029b", "U+2029"),
        ("a\x85b", "U+0085"),
        ("x" * 201, "at most 200"),
    ],
)
def test_clean_article_id_refuses(value: str, needle: str) -> None:
    with pytest.raises(ArticleFormatError, match=re.escape(needle)) as info:
        clean_article_id(value)
    assert info.value.field == "id"
    str(info.value).encode("utf-8")  # the message itself is valid UTF-8


@pytest.mark.parametrize(
    ("value", "cleaned"), [(" bài-1 ", "bài-1"), ("...", "..."), ("a.b", "a.b"), ("  ", None)]
)
def test_clean_article_id_accepts(value: str, cleaned: str | None) -> None:
    assert clean_article_id(value) == cleaned


def test_lookup_article_id_cleans_like_stored_ids_and_refuses_surrogates() -> None:
    assert lookup_article_id(" Ha\u0300-No\u0323\u0302i ") == "Hà-Nội"
    assert lookup_article_id("..") == ".."  # not found, rather than refused
    for value in ("\ud800", "  "):
        with pytest.raises(ArticleFormatError, match="'article_ids\\[2\\]'"):
            lookup_article_id(value, "article_ids[2]")


@pytest.mark.parametrize(
    "value",
    [
        "2025-11-27junk",
        "2025-11-27T08:30:00 x",
        "2025-11-27Tx",
        "2025-11-27 8h",
        "2025-11-27T08:30:00+07:00junk",
        "٢٠٢٥-١١-٢٧",
        "20251127",
    ],
)
def test_dates_refuse_anything_after_the_date_but_an_iso_time(value: str) -> None:
    with pytest.raises(ArticleFormatError, match="'date'"):
        parse_date(value)


def test_iso_filter_dates_refuse_day_first() -> None:
    assert parse_date("2025-11-27T08:30Z", "date_from", day_first=False) == "2025-11-27"
    with pytest.raises(ArticleFormatError, match="'date_from'.*YYYY-MM-DD"):
        parse_date("27/11/2025", "date_from", day_first=False)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'{"text": "x.", "id": ' + b"1" * 4301 + b"}", "4301 digits"),
        (b'{"text": "x.", "n": -' + b"1" * 9000 + b"}", "9000 digits"),
    ],
)
def test_json_that_python_cannot_read_is_a_format_error(data: bytes, needle: str) -> None:
    for name, body in (("a.json", data), ("a.jsonl", data + b"\n")):
        with pytest.raises(ArticleFormatError, match=needle) as info:
            list(parse_file(body, name))
        assert name in str(info.value)


def test_long_integer_ids_within_python_limits_still_work() -> None:
    (article,) = parse_file(b'{"text": "x.", "id": 12345}', "a.json")
    assert article.id == "12345"


def test_parse_file_yields_lazily_so_callers_can_stop_early() -> None:
    data = b'{"text": "a."}\n{"text": "b."}\n{not json\n'
    assert [a.text for a in islice(parse_file(data, "x.jsonl"), 2)] == ["a.", "b."]
    with pytest.raises(ArticleFormatError, match="x.jsonl:3"):
        list(parse_file(data, "x.jsonl"))

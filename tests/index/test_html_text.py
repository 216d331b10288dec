"""HTML articles reduced to their text; prose with angle brackets left alone."""

from __future__ import annotations

import pytest

from index.documents import ArticleFormatError, make_article
from index.html_text import html_to_text, looks_like_html


@pytest.mark.parametrize(
    ("text", "is_html"),
    [
        ("<p>Tin mới</p>", True),
        ("Dòng một<br>Dòng hai", True),
        ("<!-- ghi chú --> Tin", True),
        ("<!DOCTYPE html><title>x</title>", True),
        ("Nhiệt độ < 12 độ C và > 5 độ C", False),
        ("Chỉ số <VN-Index> tăng", False),
        ("x<y và z>w", False),
    ],
)
def test_detection_is_narrow(text, is_html):
    assert looks_like_html(text) is is_html


def test_blocks_become_breaks_and_scripts_vanish():
    markup = (
        "<div><h2>Tiêu đề</h2><p>Đoạn <b>một</b>\n  tiếp tục.</p><ul><li>ý 1</li><li>ý 2</li>"
        "</ul><script>var x = '<p>';</script><style>p {}</style><p>Giá 5&nbsp;000&amp;đ</p></div>"
    )
    assert html_to_text(markup) == "Tiêu đề\n\nĐoạn một tiếp tục.\n\ný 1\ný 2\n\nGiá 5 000&đ"


def test_malformed_markup_does_not_raise():
    assert html_to_text("<p>Chưa đóng <b>thẻ <i>nào") == "Chưa đóng thẻ nào"


def test_make_article_keeps_text_and_rejects_empty_html():
    article = make_article(text="<p>Hà Nội</p><p>mưa rào.</p>", title="<b>Thời tiết</b>")
    assert article.text == "Hà Nội\n\nmưa rào." and article.title == "Thời tiết"
    with pytest.raises(ArticleFormatError, match="once HTML markup is removed"):
        make_article(text="<p><script>x()</script></p>")

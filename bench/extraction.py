"""Main-text extraction (trafilatura, as ``service.fetching`` calls it) on saved news pages.

    .venv/bin/python bench/extraction.py [--pages 200]

Pages: the hand-written saved pages of ``tests/fixtures/news`` (truth in ``truth.json``),
and ``--pages`` VietNews dev articles rendered into four page layouts seen on Vietnamese
news sites (``<article>`` with ``<p>``; a content ``div`` with a lead in ``<strong>``;
one ``<div>`` per paragraph; an old table layout of a provincial portal), each with a
menu, ads, "Tin liên quan" links, "Đọc nhiều", comments and a footer. The comments and
links are sentences and titles of *other* VietNews articles, so leaked text reads like
news and cannot be told apart by its language.

A page matches when the extracted text holds at least 95% of the body's sentences
(whitespace-normalized) and none of its navigation, ad, link or comment texts. Printed:
the share of pages that match, mean sentence recall, and pages with any leak.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from quality_data import VIETNEWS_2K, load_vietnews, require_data  # noqa: E402

from models.vietnamese import normalize, split_sentences  # noqa: E402
from service.fetching import FetchError, extract_article  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "news"
NEED = 0.95


def _sentences(text: str) -> list[str]:
    text = normalize(text)
    return [" ".join(s.of(text).split()) for s in split_sentences(text) if s.of(text).strip()]


def _chrome(rng: random.Random, others: list[dict]) -> dict[str, list[str]]:
    """Menus, ads, related titles and comments (texts that must not be extracted)."""
    picks = rng.sample(others, 6)
    return {
        "menu": [
            "Thời sự",
            "Thế giới",
            "Kinh doanh",
            "Giải trí",
            "Thể thao",
            "Pháp luật",
            "Đăng nhập tài khoản bạn đọc",
        ],
        "ads": [
            "Quảng cáo: Vay tiêu dùng lãi suất ưu đãi, giải ngân trong 15 phút tại ngân hàng",
            "Khuyến mãi cuối năm: giảm 50% khi mua bảo hiểm sức khỏe trực tuyến",
        ],
        "related": [p["title"] for p in picks[:3]],
        "comments": [_sentences(p["body"])[0] for p in picks[3:] if _sentences(p["body"])],
    }


def _page(row: dict, layout: int, chrome: dict[str, list[str]]) -> str:
    e = html.escape
    sentences = _sentences(row["body"])
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    menu = "".join(f'<li><a href="/m{i}">{e(m)}</a></li>' for i, m in enumerate(chrome["menu"]))
    ads = "".join(f'<div class="ads-box"><a href="/qc">{e(a)}</a></div>' for a in chrome["ads"])
    related = "".join(
        f'<li><a href="/r{i}">{e(t)}</a></li>' for i, t in enumerate(chrome["related"])
    )
    comments = "".join(
        f'<div class="comment-item"><b>Bạn đọc {i}</b><p>{e(c)}</p></div>'
        for i, c in enumerate(chrome["comments"])
    )
    head = (
        f'<head><meta charset="utf-8"><title>{e(row["title"])} - Báo Mẫu</title>'
        f'<meta property="og:title" content="{e(row["title"])}">'
        '<meta property="article:published_time" content="2025-11-20T07:00:00+07:00">'
        "</head>"
    )
    nav = f'<header><div class="logo">Báo Mẫu</div><nav><ul>{menu}</ul></nav></header>'
    aside = (
        f'<aside class="related"><h3>Tin liên quan</h3><ul>{related}</ul></aside>'
        f'<div class="most-read"><h4>Đọc nhiều</h4><ol>{related}</ol></div>'
    )
    comment_box = f'<section class="comments"><h3>Bình luận</h3>{comments}</section>'
    footer = "<footer>© 2025 Báo Mẫu. Giấy phép số 99/GP-BTTTT. Liên hệ quảng cáo.</footer>"
    if layout == 0:
        body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
        main = f"<article><h1>{e(row['title'])}</h1>{body}</article>"
    elif layout == 1:
        lead, rest = paragraphs[0], paragraphs[1:]
        body = f"<p><strong>{e(lead)}</strong></p>" + "".join(f"<p>{e(p)}</p>" for p in rest)
        main = (
            f'<div class="detail"><h1 class="title-detail">{e(row["title"])}</h1>'
            f'<span class="date">Thứ năm, 20/11/2025</span>'
            f'<div class="fck_detail">{body}</div></div>'
        )
    elif layout == 2:
        body = "".join(f'<div class="paragraph">{e(p)}</div>' for p in paragraphs)
        main = (
            f'<div id="main-detail"><h1>{e(row["title"])}</h1>'
            f'<div class="content-detail">{body}</div></div>'
        )
    else:
        body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
        main = (
            f'<table width="100%"><tr><td class="left">{ads}</td><td class="content">'
            f"<h2>{e(row['title'])}</h2>{body}</td></tr></table>"
        )
        ads = ""
    return (
        f'<!DOCTYPE html><html lang="vi">{head}<body>{nav}{ads}<main>{main}{aside}'
        f"{comment_box}</main>{footer}</body></html>"
    )


def judge(text: str, body: list[str], noise: list[str]) -> tuple[float, list[str]]:
    """Sentence recall of ``body`` in ``text`` and the noise texts that leaked into it."""
    flat = " ".join(text.split())
    found = sum(1 for s in body if s in flat) / len(body) if body else 1.0
    return found, [n for n in noise if len(n) >= 12 and " ".join(n.split()) in flat]


def main() -> None:
    """Extract every page and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    cases: list[tuple[str, str, list[str], list[str]]] = []
    truth = json.loads((FIXTURES / "truth.json").read_text(encoding="utf-8"))
    for name, t in truth.items():
        body = [s for p in t["body"] for s in _sentences(p)]
        cases.append(
            (f"fixture {name}", (FIXTURES / name).read_text(encoding="utf-8"), body, t["noise"])
        )
    require_data(VIETNEWS_2K)
    rows = [r for r in load_vietnews(None, VIETNEWS_2K) if len(_sentences(r["body"])) >= 3]
    rng = random.Random(0)
    for i, row in enumerate(rows[: args.pages]):
        chrome = _chrome(rng, rows[args.pages :])
        noise = [n for values in chrome.values() for n in values]
        cases.append(
            (
                f"vietnews {row['id']} layout {i % 4}",
                _page(row, i % 4, chrome),
                _sentences(row["body"]),
                noise,
            )
        )
    matched, recalls, leaks, failures = 0, [], 0, []
    per_layout: dict[str, list[int]] = {}
    for name, page, body, noise in cases:
        try:
            text = extract_article(page, "https://bao-mau.vn/bai").text
        except FetchError:
            text = ""
        recall, leaked = judge(text, body, noise)
        ok = recall >= NEED and not leaked
        matched += ok
        recalls.append(recall)
        leaks += bool(leaked)
        kind = name.split(" layout ")[-1] if "layout" in name else "fixtures"
        per_layout.setdefault(kind, []).append(ok)
        if not ok and len(failures) < 5:
            failures.append(f"{name}: recall {recall:.2f}, leaked {leaked[:2]}")
    n = len(cases)
    print(
        f"{n} pages: {matched} match ({matched / n:.1%}); mean sentence recall "
        f"{sum(recalls) / n:.3f}; pages with leaked nav/ad/comment text: {leaks}"
    )
    for kind, oks in sorted(per_layout.items()):
        print(f"  {kind:>8}: {sum(oks)}/{len(oks)} match")
    for line in failures:
        print("  e.g.", line)


if __name__ == "__main__":
    main()

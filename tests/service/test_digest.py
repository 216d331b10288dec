"""GET /v1/digest (JSON), /v1/digest.rss and /v1/articles.rss: the news grouped by story."""

from __future__ import annotations

import time

import feedparser
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app

FLOOD = [
    (
        "lu-1",
        "tinmientrung.vn",
        "2025-11-20",
        "Mưa lũ gây ngập sâu nhiều xã ở Quảng Trị",
        "Mưa lớn kéo dài khiến nước sông Thạch Hãn dâng cao, nhiều xã ven sông của tỉnh Quảng Trị "
        "bị ngập sâu từ một đến hai mét. Hơn 3.200 ngôi nhà bị ngập, 1.500 hộ dân được sơ tán.",
    ),
    (
        "lu-2",
        "baoquangtri.vn",
        "2025-11-20",
        "Quảng Trị sơ tán hơn 1.500 hộ dân vì lũ",
        "Nước sông Thạch Hãn lên nhanh trong đêm, tỉnh Quảng Trị đã sơ tán hơn 1.500 hộ dân vùng "
        "trũng thấp, hơn 3.000 ngôi nhà bị ngập sâu do mưa lũ.",
    ),
    (
        "lu-3",
        "vtv.vn",
        "2025-11-21",
        "Lũ trên sông Thạch Hãn, nhiều xã Quảng Trị bị cô lập",
        "Do mưa lũ, nhiều xã ven sông Thạch Hãn ở Quảng Trị bị ngập sâu và cô lập, chính quyền "
        "dùng ca nô tiếp tế lương thực cho người dân vùng lũ.",
    ),
]
ROAD = [
    (
        "cao-toc-1",
        "giaothong.vn",
        "2025-11-21",
        "Thông xe kỹ thuật cao tốc Vũng Áng – Bùng",
        "Sáng 21/11, Bộ Xây dựng thông xe kỹ thuật cao tốc Vũng Áng – Bùng dài gần 56 km qua Hà "
        "Tĩnh và Quảng Bình, sớm hơn kế hoạch ba tháng.",
    ),
    (
        "cao-toc-2",
        "vnexpress.net",
        "2025-11-21",
        "Cao tốc Vũng Áng – Bùng thông xe sớm ba tháng",
        "Tuyến cao tốc Vũng Áng – Bùng dài 56 km nối Hà Tĩnh với Quảng Bình được thông xe kỹ thuật "
        "sáng 21/11, về đích sớm ba tháng so với kế hoạch.",
    ),
]
SINGLES = [
    (
        "lua-1",
        "nongnghiep.vn",
        "2025-11-22",
        "Giá lúa tăng, nông dân Đồng Tháp phấn khởi",
        "Giá lúa tươi tại Đồng Tháp tăng thêm 300 đến 500 đồng mỗi kilôgam, nông dân lãi 25 đến 30 "
        "triệu đồng mỗi héc ta trong vụ thu đông.",
    ),
    (
        "bong-da-1",
        "thethao.vn",
        "2025-11-22",
        "Đội tuyển nữ Việt Nam giành vé dự vòng chung kết",
        "Đội tuyển bóng đá nữ Việt Nam thắng Myanmar 3-0 ở lượt trận cuối, giành vé dự vòng chung "
        "kết Cúp bóng đá nữ châu Á.",
    ),
    (
        "cu-1",
        "tinmientrung.vn",
        "2025-10-01",
        "Tin tháng trước",
        "Một bài báo của tháng trước không thuộc khoảng thời gian của bản tin hôm nay.",
    ),
]


@pytest.fixture(scope="module")
def client(make_runtime):
    with TestClient(create_app(runtime=make_runtime())) as client:
        articles = [
            {"id": i, "source": s, "date": d, "title": t, "text": x}
            for i, s, d, t, x in FLOOD + ROAD + SINGLES
        ]
        assert client.post("/v1/articles", json={"articles": articles}).status_code == 201
        assert client.app.state.runtime.auto_summaries.wait_idle(60)
        yield client


def test_the_digest_groups_articles_by_story(client) -> None:
    digest = client.get("/v1/digest?date_from=2025-11-20&date_to=2025-11-22").json()
    assert digest["articles"] == 7 and not digest["truncated"]
    groups = [sorted(a["id"] for a in story["articles"]) for story in digest["stories"]]
    assert groups[0] == ["lu-1", "lu-2", "lu-3"]  # the biggest story first
    assert groups[1] == ["cao-toc-1", "cao-toc-2"]
    assert sorted(groups[2:]) == [["bong-da-1"], ["lua-1"]]
    flood = digest["stories"][0]
    assert flood["sources"] == ["baoquangtri.vn", "tinmientrung.vn", "vtv.vn"]
    assert flood["newest"] == "2025-11-21" and flood["size"] == 3
    assert "Thạch Hãn" in flood["summary"]["text"] or "Quảng Trị" in flood["summary"]["text"]
    assert all(a["summary_status"] == "ready" for a in flood["articles"])
    # the single stories: newest first among equals in size, each with its own summary
    single = digest["stories"][2]
    assert single["summary"]["text"]


def test_sources_and_dates_filter_the_digest(client) -> None:
    only = client.get(
        "/v1/digest?date_from=2025-11-20&date_to=2025-11-22&source=vtv.vn&source=giaothong.vn"
    ).json()
    assert sorted(a["id"] for s in only["stories"] for a in s["articles"]) == ["cao-toc-1", "lu-3"]
    october = client.get("/v1/digest?date_from=2025-10-01&date_to=2025-10-31").json()
    assert [a["id"] for s in october["stories"] for a in s["articles"]] == ["cu-1"]
    bad = client.get("/v1/digest?date_from=2025-11-30&date_to=2025-11-01")
    assert bad.status_code == 422
    assert client.get("/v1/digest?date_from=ngày-mai").status_code == 422


def test_the_digest_as_an_rss_feed(client) -> None:
    answer = client.get("/v1/digest.rss?date_from=2025-11-20&date_to=2025-11-22")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo and feed.version == "rss20"
    assert len(feed.entries) == 4
    assert feed.entries[0].title.endswith("(3 bài)")
    assert "Thạch Hãn" in feed.entries[0].summary or "Quảng Trị" in feed.entries[0].summary


def test_the_newest_articles_as_an_rss_feed(client) -> None:
    feed = feedparser.parse(client.get("/v1/articles.rss?limit=3").content)
    assert not feed.bozo and len(feed.entries) == 3
    stored = client.get(f"/v1/articles/{feed.entries[0].id}").json()
    assert feed.entries[0].summary == stored["summary"]["text"]
    assert time.strptime(feed.entries[0].published, "%a, %d %b %Y %H:%M:%S %z")

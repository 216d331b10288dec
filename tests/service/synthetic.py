"""Short synthetic Vietnamese news articles for load, concurrency and crash tests.

Deterministic; each article carries a unique tag syllable (``kx0042``) in its text, so
a BM25 search for the tag finds exactly that article. The ``tag`` key is extra: the
API ignores unknown fields.
"""

from __future__ import annotations

PLACES = ["Hà Nội", "Nghệ An", "Đà Nẵng", "Cần Thơ", "Huế", "Quảng Ninh", "Lâm Đồng", "Cà Mau"]
TOPICS = [
    ("phòng chống ma túy", "tăng cường tuần tra và xử lý nghiêm các đường dây buôn bán"),
    ("an ninh mạng", "nâng cao năng lực phát hiện tấn công và bảo vệ dữ liệu người dân"),
    ("chuyển đổi số", "đẩy mạnh dịch vụ công trực tuyến và làm sạch dữ liệu dân cư"),
    ("phòng chống thiên tai", "chuẩn bị phương án sơ tán và dự trữ lương thực"),
    ("an toàn giao thông", "kiểm tra nồng độ cồn và xử lý xe quá tải"),
    ("giáo dục", "sửa chữa trường lớp và bồi dưỡng giáo viên vùng khó khăn"),
]
PEOPLE = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Quốc Dũng", "Hoàng Thu Hà"]


def synthetic_articles(count: int, start: int = 0) -> list[dict]:
    """``count`` article dicts (``id``, ``title``, ``text``, ``date``, ``source``, ``tag``)."""
    articles = []
    for i in range(start, start + count):
        place = PLACES[i % len(PLACES)]
        topic, task = TOPICS[i % len(TOPICS)]
        person = PEOPLE[i % len(PEOPLE)]
        tag = f"kx{i:04d}"
        text = (
            f"Sáng nay, tại {place}, hội nghị về {topic} đã diễn ra với sự tham dự của "
            f"nhiều sở, ngành. Ông {person} phát biểu yêu cầu các đơn vị {task}. "
            f"Hội nghị thống nhất giao chỉ tiêu cụ thể cho từng địa phương trong năm tới. "
            f"Mã hồ sơ của bài viết là {tag}."
        )
        articles.append(
            {
                "id": f"syn-{i:04d}",
                "title": f"Hội nghị {topic} tại {place} (số {i})",
                "text": text,
                "date": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "source": "tin-tong-hop.vn",
                "tag": tag,
            }
        )
    return articles

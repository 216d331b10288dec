"""The lead paragraph and the title made from it (index/lead.py)."""

from __future__ import annotations

from index.documents import make_article
from index.lead import headline_sentence, is_roster_or_caption, lead_paragraph, title_from_lead

ROSTER = (
    "Các đồng chí: Nguyễn Văn A – Bí thư Tỉnh ủy; Trần Văn B – Chủ tịch UBND tỉnh "
    "cùng chủ trì buổi làm việc."
)
LEAD = (
    "Sáng 5/12, Sở Giao thông vận tải tỉnh Nghệ An khởi công dự án mở rộng quốc lộ 1A "
    "đoạn qua thị xã Hoàng Mai với tổng vốn hơn 900 tỷ đồng."
)


def test_rosters_and_captions_are_not_the_lead() -> None:
    text = "\n\n".join(
        [
            ROSTER,
            "Quang cảnh lễ khởi công",
            "Về phía tỉnh có đồng chí Lê Văn C - Phó Chủ tịch UBND tỉnh.",
            LEAD,
            "Đoạn sau.",
        ]
    )
    assert is_roster_or_caption(ROSTER)
    assert not is_roster_or_caption(LEAD)
    assert lead_paragraph(text) == LEAD
    title = title_from_lead(text, 15)
    assert title == "Sáng 5/12, Sở Giao thông vận tải tỉnh Nghệ An khởi công dự án…"


def test_attribution_before_a_colon_is_dropped() -> None:
    paragraph = (
        "Báo cáo tại hội nghị, ông Nguyễn Văn D - Giám đốc Sở Y tế cho biết: Trong năm "
        "nay toàn tỉnh tiêm chủng đầy đủ cho 98% trẻ em."
    )
    assert headline_sentence(paragraph).startswith("Trong năm nay toàn tỉnh tiêm chủng")
    # "kinh tế - xã hội" is no name–role dash: this paragraph is prose, not a roster
    assert not is_roster_or_caption("Ông E - Chủ tịch tỉnh cho biết kinh tế - xã hội phát triển.")


def test_given_title_wins_and_short_texts_still_get_one() -> None:
    assert make_article(text=LEAD, title="Khởi công quốc lộ").title == "Khởi công quốc lộ"
    assert make_article(text="Mưa lớn.").title == "Mưa lớn"

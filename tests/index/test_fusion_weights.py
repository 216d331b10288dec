"""The dense weight of hybrid fusion lands on the dense ranking, for both fusions.

With ``dense_weight=1`` a hybrid search must rank exactly as the dense search does,
and with ``0`` as BM25 does; a swap of the two weights inside the engine's call turns
each into the other, which the queries below are chosen to tell apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import Article
from index.engine import ArticleIndex

ARTICLES = [
    Article(
        id="an-ninh",
        text="Bí thư Tỉnh ủy yêu cầu Công an tỉnh chủ động nắm chắc tình "
        "hình. Công an cần đấu tranh làm thất bại mọi âm mưu chống phá trên không gian mạng.",
    ),
    Article(
        id="thoi-tiet",
        text="Miền Bắc đón đợt không khí lạnh mạnh. Nhiệt độ thấp nhất "
        "12 độ C ở vùng núi, người dân cần giữ ấm.",
    ),
    Article(
        id="bong-da",
        text="Đội tuyển Việt Nam thắng 2-0 trên sân Mỹ Đình. Hai bàn thắng "
        "đến trong hiệp hai, người hâm mộ ăn mừng.",
    ),
    Article(
        id="kinh-te",
        text="Giá vàng trong nước tăng mạnh. Người dân xếp hàng mua vàng "
        "miếng, ngân hàng nhà nước tăng cường kiểm tra thị trường.",
    ),
]
# Each names one article's words while meaning another's, so BM25 and e5 disagree.
QUERIES = ["người dân rét buốt cần làm gì", "an ninh mạng trên sân", "thị trường vàng miếng"]


def order(hits) -> list[int]:
    return [h.chunk_id for h in hits]


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_hybrid_follows_the_side_given_all_the_weight(tmp_path: Path, embedder, fusion):
    disagreements = 0
    for weight, side in ((1.0, "dense"), (0.0, "bm25")):
        folder = tmp_path / f"{fusion}-{weight}"
        with ArticleIndex.open(folder, embedder, fusion=fusion, dense_weight=weight) as index:
            index.add_articles(ARTICLES)
            for query in QUERIES:
                dense = order(index.search(query, top_k=10, mode="dense"))
                bm25 = order(index.search(query, top_k=10, mode="bm25"))
                hybrid = order(index.search(query, top_k=10, mode="hybrid"))
                # Min-max scaling gives a list's last item 0, tied with absent ids.
                expected = (dense if side == "dense" else bm25)[:-1]
                assert hybrid[: len(expected)] == expected, (fusion, weight, query)
                disagreements += dense[: len(expected)] != bm25[: len(expected)]
    assert disagreements >= 2  # the check above can tell the two rankings apart

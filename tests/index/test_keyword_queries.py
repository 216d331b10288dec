"""How a keyword query is built: long queries leave out their common terms."""

from __future__ import annotations

from pathlib import Path

from index.keywords import KeywordIndex

# "người dân" is in every chunk (a common term); the rest are in one chunk each.
TEXTS = [
    "Người dân đón đợt không khí lạnh mạnh ở miền Bắc.",
    "Người dân xếp hàng mua vé tàu về quê ăn Tết.",
    "Người dân trồng lúa gạo ở đồng bằng sông Cửu Long.",
    "Người dân xem bóng đá trên sân Mỹ Đình.",
    "Người dân góp ý dự thảo luật đất đai sửa đổi.",
    "Người dân đi bộ quanh hồ Gươm sáng chủ nhật.",
]
LONG = "không khí lạnh tràn xuống miền Bắc khiến người dân co ro"  # 11 syllables, 21 terms


def _index(path: Path, **options) -> KeywordIndex:
    index = KeywordIndex(path, **options)
    index.write([], list(enumerate(TEXTS, start=1)), generation=1)
    return index


def test_a_long_query_leaves_out_terms_found_in_most_chunks(tmp_path):
    index = _index(tmp_path / "kw", long_query_terms=10, long_query_max_df=0.5)
    hits = index.search(LONG, 10)
    assert [i for i, _ in hits] == [1]  # "người dân" alone no longer matches the others
    whole = KeywordIndex(
        tmp_path / "kw", long_query_terms=0, long_query_max_df=0.5, read_only=True
    ).search(LONG, 10)
    assert [i for i, _ in whole][0] == 1 and len(whole) == len(TEXTS)
    assert hits[0][1] < whole[0][1]  # the common terms' small share of the score is gone


def test_a_short_question_keeps_every_term(tmp_path):
    index = _index(tmp_path / "kw", long_query_terms=10, long_query_max_df=0.5)
    hits = index.search("người dân ăn Tết", 10)  # 7 terms: not long
    assert [i for i, _ in hits][0] == 2 and len(hits) == len(TEXTS)


def test_a_long_query_of_common_terms_only_is_kept_whole(tmp_path):
    index = _index(tmp_path / "kw", long_query_terms=2, long_query_max_df=0.5)
    assert len(index.search("người dân", 10)) == len(TEXTS)  # 3 terms, all common


def test_the_unaccented_field_is_trimmed_by_its_own_counts(tmp_path):
    index = _index(tmp_path / "kw", long_query_terms=10, long_query_max_df=0.5)
    folded = "khong khi lanh tran xuong mien Bac khien nguoi dan co ro"
    assert [i for i, _ in index.search(folded, 10, folded=True)] == [1]

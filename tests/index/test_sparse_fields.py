"""BM25 fields: syllable pairs, the diacritics-free field, convex fusion."""

import pytest

from index.fusion import convex_fusion
from index.sparse import SparseIndex, with_bigrams

TEXTS = [
    "Bí thư Tỉnh ủy yêu cầu Công an tỉnh chủ động nắm chắc tình hình.",
    "Thư gửi bí mật của tỉnh được công bố.",
    "Miền Bắc đón đợt không khí lạnh mạnh.",
]


def test_with_bigrams_appends_adjacent_pairs():
    assert with_bigrams(["bí", "thư", "tỉnh"]) == ["bí", "thư", "tỉnh", "bí thư", "thư tỉnh"]


def test_pairs_rank_the_phrase_above_scattered_syllables():
    index = SparseIndex()
    index.rebuild([1, 2, 3], TEXTS)
    assert [i for i, _ in index.search("bí thư tỉnh", 3)][0] == 1
    plain = SparseIndex(bigrams=False)
    plain.rebuild([1, 2, 3], TEXTS)
    with_pairs = dict(index.search("bí thư tỉnh", 3))
    without = dict(plain.search("bí thư tỉnh", 3))
    assert with_pairs[1] - with_pairs[2] > without[1] - without[2]


def test_folded_field_matches_unaccented_queries():
    index = SparseIndex()
    index.rebuild([1, 2, 3], TEXTS)
    assert index.search("khong khi lanh", 3) == []  # the accented field sees other words
    assert [i for i, _ in index.search("khong khi lanh", 3, folded=True)] == [3]
    assert index.restore_diacritics("khong khi lanh") == "không khí lạnh"


def test_without_folded_field_folded_search_uses_the_main_field():
    index = SparseIndex(folded=False)
    index.rebuild([1, 2, 3], TEXTS)
    assert index.search("khong khi lanh", 3, folded=True) == []
    assert [i for i, _ in index.search("không khí lạnh", 3, folded=True)] == [3]


def test_convex_fusion_normalizes_each_list():
    fused = convex_fusion([[("a", 0.9), ("b", 0.8), ("c", 0.1)], [("b", 30.0), ("d", 10.0)]])
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1.0) and scores["d"] == pytest.approx(0.0)
    assert scores["b"] == pytest.approx(0.875 + 1.0)
    assert [item for item, _ in fused][:2] == ["b", "a"]
    assert dict(convex_fusion([[("x", 2.0)], []], weights=[0.3, 0.7])) == {"x": 0.3}
    with pytest.raises(ValueError):
        convex_fusion([[("x", 1.0)]], weights=[1.0, 1.0])

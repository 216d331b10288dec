import numpy as np

from index.dense import DenseIndex
from index.sparse import SparseIndex


def _unit(rows: list[list[float]]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_dense_add_search_remove_and_persist(tmp_path):
    index = DenseIndex(3)
    index.add([10, 20, 30], _unit([[1, 0, 0], [0, 1, 0], [1, 1, 0]]))
    hits = index.search(_unit([[1, 0.1, 0]])[0], 2)
    assert [h[0] for h in hits] == [10, 30]
    assert index.remove([10]) == 1
    assert sorted(index.ids().tolist()) == [20, 30]
    index.save(tmp_path / "d.faiss")
    again = DenseIndex.load(tmp_path / "d.faiss", 3)
    assert sorted(again.ids().tolist()) == [20, 30]
    assert [h[0] for h in again.search(_unit([[1, 0, 0]])[0], 1)] == [30]


def test_dense_search_respects_allowed_ids():
    index = DenseIndex(2)
    index.add([1, 2], _unit([[1, 0], [0, 1]]))
    assert [h[0] for h in index.search(_unit([[1, 0]])[0], 2, allowed=[2])] == [2]
    assert index.search(_unit([[1, 0]])[0], 2, allowed=[]) == []


def test_sparse_matches_syllables_case_and_normalization_insensitively():
    index = SparseIndex()
    index.rebuild([5, 6], ["Bí thư Tỉnh ủy yêu cầu Công an", "Thời tiết hôm nay đẹp"])
    nfd = "bí thư tỉnh ủy".encode().decode()
    import unicodedata

    hits = index.search(unicodedata.normalize("NFD", nfd), 5)
    assert [h[0] for h in hits] == [5]
    assert index.search("không có từ nào khớp xyz", 5) == []
    assert [h[0] for h in index.search("thời tiết", 5, allowed=[6])] == [6]
    assert index.search("thời tiết", 5, allowed=[5]) == []

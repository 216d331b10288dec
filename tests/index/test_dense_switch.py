"""The exact → approximate (IVF) switch of ``DenseIndex``, with a small threshold."""

from __future__ import annotations

import threading

import faiss
import numpy as np
import pytest

from index.dense import DenseIndex, ivf_lists
from index.documents import Article
from index.engine import ArticleIndex


def _vectors(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _exact_top(vectors: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    scores = vectors @ q
    return [int(ids[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def test_switches_to_ivf_past_the_threshold_and_keeps_every_vector():
    vectors, ids = _vectors(600), np.arange(1000, 1600)
    index = DenseIndex(16, exact_max=300, nprobe=4096, codec="flat")
    index.add(ids[:300].tolist(), vectors[:300])
    assert index.is_exact
    index.add(ids[300:].tolist(), vectors[300:])
    assert not index.is_exact
    assert len(index) == 600
    assert sorted(index.ids().tolist()) == ids.tolist()
    np.testing.assert_allclose(index.vectors([1000, 1599]), vectors[[0, 599]], atol=1e-6)
    # nprobe >= lists: IVF scans every list, so results equal exact search.
    for q in _vectors(5, seed=1):
        got = [i for i, _ in index.search(q, 10)]
        assert got == _exact_top(vectors, ids, q, 10)


def test_ivf_recall_with_few_lists_probed_is_reported_not_perfect():
    vectors, ids = _vectors(2000, d=32), np.arange(2000)
    index = DenseIndex(32, exact_max=100, nprobe=1)
    index.add(ids.tolist(), vectors)
    assert index._index.nlist == ivf_lists(2000)
    queries = _vectors(20, d=32, seed=2)
    recall = np.mean(
        [
            len({i for i, _ in index.search(q, 10)} & set(_exact_top(vectors, ids, q, 10))) / 10
            for q in queries
        ]
    )
    assert 0 < recall < 1  # one list of ~180 sees only part of the true neighbours


def test_ivf_remove_filter_and_persist(tmp_path):
    vectors, ids = _vectors(500), np.arange(500)
    index = DenseIndex(16, exact_max=100, nprobe=8, codec="flat")
    index.add(ids.tolist(), vectors)
    assert index.remove([0, 1, 2, 999]) == 3
    assert len(index) == 497 and 0 not in set(index.ids().tolist())
    q = vectors[0]
    assert all(i not in (0, 1, 2) for i, _ in index.search(q, 20))
    # A filtered search is exact from the stored vectors, whatever lists are probed.
    allowed = [0, 3, 250, 499, 12345]
    got = index.search(q, 3, allowed=allowed)
    assert [i for i, _ in got] == _exact_top(vectors[[3, 250, 499]], np.array([3, 250, 499]), q, 3)
    assert got[0][1] == pytest.approx(float(vectors[got[0][0]] @ q), abs=1e-5)
    assert index.search(q, 3, allowed=[0, 1]) == []

    index.add([7000], vectors[:1])
    index.save(tmp_path / "d.faiss")
    again = DenseIndex.load(tmp_path / "d.faiss", 16, exact_max=100, nprobe=8)
    assert not again.is_exact and sorted(again.ids().tolist()) == sorted(index.ids().tolist())
    assert again.search(q, 1)[0][0] == 7000
    # A larger threshold turns it back into the exact index on load.
    exact = DenseIndex.load(tmp_path / "d.faiss", 16, exact_max=10_000)
    assert exact.is_exact and len(exact) == 498
    held = exact.ids()
    assert [i for i, _ in exact.search(q, 5)] == _exact_top(exact.vectors(held), held, q, 5)
    assert exact.search(q, 1)[0][0] == 7000


def test_sq8_lists_keep_vectors_within_their_quantization_error():
    vectors, ids = _vectors(12_000, d=32), np.arange(12_000)
    index = DenseIndex(32, exact_max=100, nprobe=4096)
    index.add(ids.tolist(), vectors)
    assert isinstance(index._index, faiss.IndexIVFScalarQuantizer)
    assert np.abs(index.vectors([5, 11_999]) - vectors[[5, 11_999]]).max() < 0.02
    assert index.remove([5]) == 1 and 5 not in set(index.ids().tolist())
    q = vectors[7]
    assert index.search(q, 1)[0][0] == 7


def test_article_index_works_across_the_switch(tmp_path, embedder):
    articles = [
        Article(
            id=f"a{i}",
            title=f"Bài {i}",
            text=f"Tỉnh số {i} tổ chức hội nghị về chủ đề {topic}. "
            f"Lãnh đạo tỉnh {i} yêu cầu các sở ngành thực hiện {topic}.",
        )
        for i, topic in enumerate(
            [
                "an ninh mạng",
                "giáo dục",
                "y tế",
                "giao thông",
                "nông nghiệp",
                "du lịch",
                "môi trường",
                "thể thao",
            ]
        )
    ]
    with ArticleIndex.open(tmp_path, embedder, dense_exact_max=4, dense_nprobe=64) as index:
        index.add_articles(articles)
        index.settle()  # the move to IVF runs in the background
        assert not index._dense.is_exact
        hits = index.search("hội nghị về du lịch", top_k=3, mode="dense")
        assert hits[0].article_id == "a5"
        assert index.delete_article("a5")
        assert all(h.article_id != "a5" for h in index.search("du lịch", top_k=8, mode="dense"))
    with ArticleIndex.open(tmp_path, embedder, dense_exact_max=4, dense_nprobe=64) as index:
        assert not index._dense.is_exact
        assert index.stats().chunks == len(index._dense)
        assert index.search("y tế", top_k=1, mode="dense")[0].article_id == "a2"


def test_the_move_to_ivf_runs_beside_searches_and_writes(tmp_path, embedder, monkeypatch):
    """While IVF is trained in the background, searches are answered and writes go on;
    the writes made meanwhile (an add and a delete) are in the new structure."""
    import threading

    from index.dense import DenseIndex

    started, release = threading.Event(), threading.Event()
    original = DenseIndex.empty_structure

    def slow(self, total, sample):
        started.set()
        assert release.wait(30), "the test never released the refit"
        return original(self, total, sample)

    monkeypatch.setattr(DenseIndex, "empty_structure", slow)
    articles = [
        Article(id=f"a{i}", text=f"Tin số {i} về giá lúa gạo tăng {i} đồng.") for i in range(8)
    ]
    with ArticleIndex.open(tmp_path, embedder, dense_exact_max=4, dense_nprobe=64) as index:
        index.add_articles(articles)
        assert started.wait(30)
        assert index._dense.is_exact
        assert index.search("giá lúa gạo", top_k=3, mode="dense")
        index.add_articles([Article(id="late", text="Miền Bắc đón đợt không khí lạnh mạnh.")])
        assert index.delete_article("a1")
        release.set()
        index.settle()
        assert not index._dense.is_exact
        stored = {c.id for c in index._store.all_chunks()}
        assert set(index._dense.ids().tolist()) == stored
        assert index.search("không khí lạnh", top_k=1, mode="dense")[0].article_id == "late"


def test_fp16_lists_keep_vectors_to_half_precision_and_search_like_float32(tmp_path):
    vectors, ids = _vectors(600), np.arange(600)
    index = DenseIndex(16, exact_max=100, nprobe=4096, codec="fp16")
    index.add(ids.tolist(), vectors)
    assert not index.is_exact
    assert isinstance(faiss.downcast_index(index._index), faiss.IndexIVFScalarQuantizer)
    np.testing.assert_allclose(index.vectors([5, 599]), vectors[[5, 599]], atol=1e-3)
    assert index.remove([5]) == 1 and 5 not in set(index.ids().tolist())
    held = index.ids()
    for q in _vectors(5, seed=3):  # every list probed: the exact ranking, to fp16 rounding
        got = [i for i, _ in index.search(q, 5)]
        assert got == _exact_top(index.vectors(held), held, q, 5)
    index.save(tmp_path / "d.faiss")
    again = DenseIndex.load(tmp_path / "d.faiss", 16, exact_max=100, codec="fp16")
    assert sorted(again.ids().tolist()) == sorted(held.tolist())


def test_an_unknown_codec_is_refused():
    with pytest.raises(ValueError, match="codec"):
        DenseIndex(16, codec="pq")


def test_the_periodic_save_past_the_exact_regime_is_written_beside_the_write(
    tmp_path, embedder, monkeypatch
):
    """Past the exact regime the write that finds the save due copies the index and
    returns; the file is written on a background thread (the previous file stays until
    the new one lands), searches and writes go on meanwhile, and nothing is lost."""
    started, release = threading.Event(), threading.Event()
    original = DenseIndex.write

    def slow(self, path, image, generation):
        started.set()
        assert release.wait(30), "the test never released the save"
        return original(self, path, image, generation)

    articles = [
        Article(id=f"a{i}", text=f"Tin số {i} về giá lúa gạo tăng {i} đồng.") for i in range(8)
    ]
    options = {"dense_exact_max": 4, "dense_nprobe": 64, "dense_save_interval_s": 0}
    with ArticleIndex.open(tmp_path, embedder, **options) as index:
        index.add_articles(articles)
        index.settle()  # the move to IVF and its save
        assert not index._dense.is_exact
        on_disk = index._dense.saved_generation
        monkeypatch.setattr(DenseIndex, "write", slow)
        index.add_articles([Article(id="late", text="Miền Bắc đón đợt không khí lạnh mạnh.")])
        assert started.wait(30)
        assert index._dense.saved_generation == on_disk  # held up: the old file stands
        due = index._store.generation()
        assert index.search("không khí lạnh", top_k=1)[0].article_id == "late"
        index.add_articles([Article(id="later", text="Giá xăng giảm nhẹ từ chiều nay.")])
        release.set()
        index.settle()
        assert index._dense.saved_generation == due  # the save in flight took no second
        assert not index.problems()
    with ArticleIndex.open(tmp_path, embedder, **options) as index:  # close saved the rest
        assert index.last_reconcile.chunks_embedded == 0
        assert index.stats().chunks == len(index._dense)
        assert index.search("giá xăng giảm", top_k=1)[0].article_id == "later"


def test_the_write_that_finds_the_save_due_does_not_wait_for_the_copy(
    tmp_path, embedder, monkeypatch
):
    """The copy of the vectors for a periodic save is taken by the saver thread, not by
    the write that finds the save due: that write returns while the copy is held up,
    and searches go on beside the copy; the save lands with the write's generation."""
    copying, release = threading.Event(), threading.Event()
    original = DenseIndex.copy_for_save

    def slow(self):
        copying.set()
        assert release.wait(30), "the test never released the copy"
        return original(self)

    options = {"dense_exact_max": 4, "dense_nprobe": 64, "dense_save_interval_s": 0}
    articles = [
        Article(id=f"a{i}", text=f"Tin số {i} về giá lúa gạo tăng {i} đồng.") for i in range(8)
    ]
    with ArticleIndex.open(tmp_path, embedder, **options) as index:
        index.add_articles(articles)
        index.settle()  # the move to IVF and its save
        assert not index._dense.is_exact
        monkeypatch.setattr(DenseIndex, "copy_for_save", slow)
        done = threading.Event()
        writer = threading.Thread(
            target=lambda: (
                index.add_articles([Article(id="late", text="Miền Bắc đón đợt không khí lạnh.")]),
                done.set(),
            ),
            daemon=True,
        )
        writer.start()
        try:
            assert copying.wait(30)
            assert done.wait(30), "the write waited for the copy of the vectors"
            due = index._store.generation()
            assert index.search("không khí lạnh", top_k=1)[0].article_id == "late"
        finally:
            release.set()
        writer.join(30)
        index.settle()
        assert index._dense.saved_generation == due
        assert not index.problems()


def test_a_save_waiting_for_its_copy_steps_aside_for_a_caller_holding_the_write_lock(
    tmp_path, embedder
):
    """A caller holding the write lock that saves (close, a refit's swap, a reconcile)
    is not deadlocked by a periodic save still waiting for its read hold: that save
    gives up and the caller's own save writes the newer state."""
    options = {"dense_exact_max": 4, "dense_nprobe": 64, "dense_save_interval_s": 3600}
    articles = [
        Article(id=f"a{i}", text=f"Tin số {i} về giá lúa gạo tăng {i} đồng.") for i in range(8)
    ]
    with ArticleIndex.open(tmp_path, embedder, **options) as index:
        index.add_articles(articles)
        index.settle()
        index.add_articles([Article(id="late", text="Miền Bắc đón đợt không khí lạnh.")])
        generation = index._store.generation()
        assert index._dense.saved_generation != generation  # not due for an hour
        finished = threading.Event()

        def hold_the_write_lock_and_save() -> None:
            with index._rw.write():
                index._save_dense_beside()  # its thread now waits for a read hold
                assert index._save_dense()
            finished.set()

        threading.Thread(target=hold_the_write_lock_and_save, daemon=True).start()
        assert finished.wait(30), "the save in the write lock waited for the pending save"
        index.settle()
        assert index._dense.saved_generation == generation

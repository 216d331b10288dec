"""Damage the index's files, or fill its disk, and check what the index promises.

Lost commits never destroy evidence (read-only + ``repair_index``); a full disk never
half-writes (the store commits or not, FAISS catches up); a failed atomic write
leaves no temp file.
"""

from __future__ import annotations

import errno

import pytest

from index.atomic import atomic_write_bytes
from index.documents import Article
from index.engine import ArticleIndex
from index.errors import DiskFullError, IndexReadOnlyError
from index.records import SearchFilters
from index.repair import repair_index
from tests.service.synthetic import synthetic_articles
from tests.small_disk import fill, free_up, small_disk


def _articles(count: int, start: int = 0) -> list[Article]:
    out = []
    for fields in synthetic_articles(count, start=start):
        fields.pop("tag")
        out.append(Article(**fields))
    return out


def _consistent(index: ArticleIndex) -> set[int]:
    stored = {c.id for c in index._store.all_chunks()}
    assert set(index._dense.ids().tolist()) == stored
    assert set(index._keywords.ids().tolist()) == stored
    return stored


def test_lost_commits_open_read_only_keep_evidence_and_repair(tmp_path, embedder):
    """The store falls back to an older state (as after a damaged log) while FAISS holds
    later commits: the index opens read-only, changes no file, keeps the evidence and
    names `vnqa repair`; the repair backs up, drops only the unaccountable vectors and
    reports them."""
    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(3))
    old_store = (path / "store.sqlite3").read_bytes()
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(2, start=10))
        later_chunks = sum(
            a.chunks for a in index.list_articles(limit=50)[0] if a.id.startswith("syn-001")
        )
    vectors = (path / "dense.faiss").read_bytes()
    (path / "store.sqlite3").write_bytes(old_store)  # the store lost the second commit

    with ArticleIndex.open(path, embedder) as index:
        assert index.read_only is not None and "vnqa repair" in index.read_only
        assert f"{later_chunks} vectors" in index.read_only
        assert index.problems() and "lost commits" in index.problems()[0]
        with pytest.raises(IndexReadOnlyError, match="vnqa repair"):
            index.add_articles(_articles(1, start=20))
        with pytest.raises(IndexReadOnlyError):
            index.delete_article("syn-0000")
        # Reads go on, over what the store kept.
        assert {h.article_id for h in index.search("hội nghị", top_k=50, mode="dense")} == {
            "syn-0000",
            "syn-0001",
            "syn-0002",
        }
    assert (path / "dense.faiss").read_bytes() == vectors  # the evidence is untouched
    evidence = list(path.glob("evidence-*"))
    assert evidence and (evidence[0] / "dense.faiss").read_bytes() == vectors

    report = repair_index(path, embedder)
    assert (report.backup / "dense.faiss").read_bytes() == vectors
    assert report.vectors_dropped == later_chunks and report.lost is not None
    assert report.articles == 3 and not report.store_rebuilt
    with ArticleIndex.open(path, embedder) as index:
        assert index.read_only is None and not index.problems()
        index.add_articles(_articles(1, start=20))
        _consistent(index)


def test_stale_vectors_of_committed_deletes_are_still_repaired(tmp_path, embedder):
    """Not every extra vector is evidence: a delete committed before a crash left its
    vectors in an older FAISS file, and those are dropped as before."""
    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(2))
        stale = (path / "dense.faiss").read_bytes()
        index.delete_article("syn-0000")
    (path / "dense.faiss").write_bytes(stale)
    with ArticleIndex.open(path, embedder) as index:
        assert index.read_only is None
        assert index.last_reconcile.vectors_dropped > 0
        _consistent(index)


def test_repair_rebuilds_an_unreadable_store(tmp_path, embedder):
    path = tmp_path / "idx"
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(2))
    garbage = b"this is not a database" * 300
    (path / "store.sqlite3").write_bytes(garbage)
    report = repair_index(path, embedder)
    assert report.store_rebuilt and report.articles_salvaged == 0
    assert (report.backup / "store.sqlite3").read_bytes() == garbage
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(1, start=5))
        assert _consistent(index)


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "small") as folder:
        yield folder


def test_failed_atomic_write_leaves_no_temp_file_and_the_old_file(disk):
    target = disk / "dense.faiss"
    target.write_bytes(b"old contents")
    fill(disk, leave=8 * 1024)
    with pytest.raises(OSError) as raised:
        atomic_write_bytes(target, b"x" * (256 * 1024))
    assert raised.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old contents"
    assert not list(disk.glob(".*.tmp"))


def test_full_disk_refuses_a_write_whole_and_writes_resume(disk, embedder):
    """SQLite cannot commit: DiskFullError, nothing stored, problems reported; once
    space returns the same write succeeds."""
    path = disk / "idx"
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(4))
        fill(disk)
        # The log's slack may still take a small commit or two (answered, and stored);
        # then a commit is refused whole.
        stored, batch = 4, []
        for start in range(100, 1100, 8):
            batch = _articles(8, start=start)
            try:
                index.add_articles(batch)
            except DiskFullError as exc:
                assert "full" in str(exc) and "nothing of this write was stored" in str(exc)
                break
            stored += len(batch)
        else:
            pytest.fail("the full disk never refused a write")
        assert index.stats().articles == stored
        assert all(index.get_article(a.id) is None for a in batch)
        assert any("full" in p for p in index.problems())
        # The vectors are in step in memory; the keyword index may lag (it says so).
        assert set(index._dense.ids().tolist()) == {c.id for c in index._store.all_chunks()}
        if set(index._keywords.ids().tolist()) != {c.id for c in index._store.all_chunks()}:
            assert any("keyword index lags" in p for p in index.problems())
        free_up(disk)
        index.add_articles(batch)
        assert index.stats().articles == stored + len(batch) and not index.problems()
        _consistent(index)


def test_faiss_save_failing_after_the_commit_loses_nothing(disk, embedder):
    """The commit lands but the vector file cannot be rewritten: the write stands (the
    caller is told it succeeded, and it did), the three parts agree in memory, the
    problem is reported, and the next open rebuilds what the file lacks."""
    path = disk / "idx"
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(60))
        size = (path / "dense.faiss").stat().st_size
        # Room for the SQLite commit of one article, not for a second copy of FAISS.
        fill(disk, leave=size // 2)
        results = index.add_articles(_articles(1, start=500))
        assert results[0].id == "syn-0500"
        assert index.get_article("syn-0500") is not None
        assert any("dense.faiss could not be saved" in p for p in index.problems())
        _consistent(index)
        assert index.search("kx0500", top_k=1, mode="bm25")[0].article_id == "syn-0500"
        assert not list(path.glob(".*.tmp"))
    # Closed while still full: the file stays behind the store; reopen with space back.
    free_up(disk)
    with ArticleIndex.open(path, embedder) as index:
        assert index.read_only is None
        assert index.last_reconcile.chunks_embedded >= 1
        only = SearchFilters(article_ids=["syn-0500"])
        hits = index.search("kx0500", top_k=5, mode="dense", filters=only)
        assert len(hits) == results[0].chunks  # its vectors were rebuilt from the store
        assert _consistent(index)
        assert not index.problems()


def test_open_on_a_full_disk_serves_reads(disk, embedder):
    path = disk / "idx"
    with ArticleIndex.open(path, embedder) as index:
        index.add_articles(_articles(4))
    fill(disk)
    with ArticleIndex.open(path, embedder) as index:  # no -shm to create, nothing to save
        assert index.get_article("syn-0001") is not None
        assert index.search("hội nghị", top_k=2)
        assert index.problems()  # not even room for the next save of the vectors
        with pytest.raises(DiskFullError):
            index.add_articles(_articles(2, start=40))
    free_up(disk)

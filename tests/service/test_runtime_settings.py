"""Every index setting read from ``VNQA_*`` reaches the index the runtime builds."""

from __future__ import annotations

from index.documents import Article

# Settings field -> (IndexOptions field, a value other than the default).
INDEX_SETTINGS = {
    "chunk_max_syllables": ("chunk_max_syllables", 77),
    "chunk_overlap_sentences": ("chunk_overlap_sentences", 2),
    "rrf_k": ("rrf_k", 17),
    "embedding_batch_size": ("embed_batch_size", 7),
    "exact_search_max": ("dense_exact_max", 1234),
    "ivf_nprobe": ("dense_nprobe", 3),
    "fusion": ("fusion", "rrf"),
    "fusion_dense_weight": ("dense_weight", 0.9),
    "bm25_bigrams": ("bm25_bigrams", False),
    "bm25_folded": ("bm25_folded", False),
}


def test_each_index_setting_reaches_the_index(make_runtime):
    from index.records import IndexOptions
    from service.core.config import Settings

    defaults = IndexOptions()
    for setting, (option, value) in INDEX_SETTINGS.items():
        assert getattr(defaults, option) != value, option  # else the check proves nothing
        assert Settings.model_fields[setting].default == getattr(defaults, option), setting
    runtime = make_runtime(**{s: v for s, (_, v) in INDEX_SETTINGS.items()})
    got = runtime.index.options
    assert {o: getattr(got, o) for o, _ in INDEX_SETTINGS.values()} == {
        o: v for o, v in INDEX_SETTINGS.values()
    }


def test_the_dense_weight_setting_changes_the_ranking(make_runtime):
    """From the environment's value to the ranking: all weight on dense ranks as dense."""
    runtime = make_runtime(fusion_dense_weight=1.0)
    runtime.index.add_articles(
        [
            Article(id="lanh", text="Miền Bắc đón đợt không khí lạnh mạnh. Người dân giữ ấm."),
            Article(id="vang", text="Giá vàng tăng mạnh. Người dân xếp hàng mua vàng miếng."),
            Article(id="mua", text="Mưa lớn gây ngập nhiều tuyến phố. Người dân đi lại khó."),
        ]
    )
    query = "người dân rét buốt cần làm gì"
    dense = [h.chunk_id for h in runtime.index.search(query, top_k=5, mode="dense")]
    hybrid = [h.chunk_id for h in runtime.index.search(query, top_k=5)]
    assert hybrid[:-1] == dense[:-1]

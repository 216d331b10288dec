from index.fusion import reciprocal_rank_fusion


def test_rrf_scores_follow_the_formula():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["b"] == 1 / 62 + 1 / 61
    assert fused["a"] == 1 / 61
    assert fused["d"] == 1 / 62
    assert fused["c"] == 1 / 63


def test_rrf_ranks_items_found_by_both_lists_first():
    ranked = [item for item, _ in reciprocal_rank_fusion([["a", "b"], ["b", "a", "c"]])]
    assert ranked[0] in {"a", "b"}
    assert ranked[-1] == "c"
    assert ranked.index("b") < ranked.index("c")


def test_rrf_breaks_ties_by_first_appearance():
    ranked = [item for item, _ in reciprocal_rank_fusion([["x"], ["y"]])]
    assert ranked == ["x", "y"]


def test_rrf_weights_shift_the_order():
    ranked = [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])]
    assert ranked == ["b", "a"]


def test_rrf_empty_input():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []

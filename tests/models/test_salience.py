"""The learned salience scorer: fitting finds a planted signal, weights round-trip, shipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.summarization.extractive import ExtractiveSummarizer
from models.summarization.salience import (
    HASH_DIM,
    SHIPPED_WEIGHTS,
    STRUCTURAL,
    SalienceModel,
    fit_salience,
    shipped_model,
    word_features,
)

_FILLER = [
    "Người dân trong xã vẫn sinh hoạt bình thường vào buổi sáng.",
    "Nhiều hộ gia đình đã chuẩn bị lương thực cho những ngày tới.",
    "Chính quyền địa phương tiếp tục theo dõi diễn biến thời tiết.",
    "Các trường học vẫn mở cửa và học sinh đến lớp đầy đủ.",
    "Giá rau củ ở chợ huyện tăng nhẹ so với tuần trước.",
]
_KEY = "Ủy ban tỉnh ban hành lệnh sơ tán khẩn cấp toàn bộ dân cư vùng ven biển."


def _article(key_at: int) -> str:
    sentences = list(_FILLER)
    sentences.insert(key_at, _KEY)
    return " ".join(sentences)


def _training_data() -> tuple[list, list, list]:
    """Articles whose one salient sentence (the evacuation order) sits anywhere."""
    summarizer = ExtractiveSummarizer(salience=False)
    words, structural, targets = [], [], []
    for key_at in range(len(_FILLER) + 1):
        sentences, w, s = summarizer.salience_inputs(_article(key_at))
        words.append(w)
        structural.append(s)
        targets.append(np.array([1.0 if t == _KEY else 0.0 for t in sentences]))
    return words, structural, targets


def test_fit_learns_which_sentence_matters_wherever_it_stands() -> None:
    model = fit_salience(*_training_data(), alpha=0.1)
    # The hand-weighted scorer prefers the lead; the learned one finds the order.
    text = _article(key_at=4)
    hand = ExtractiveSummarizer(salience=False).summarize(text, max_words=20).text
    learned = ExtractiveSummarizer(salience=model).summarize(text, max_words=20).text
    assert learned == _KEY
    assert hand != _KEY


def test_weights_round_trip_and_refuse_another_layout(tmp_path: Path) -> None:
    model = fit_salience(*_training_data(), alpha=1.0)
    path = tmp_path / "weights.npz"
    model.save(path)
    loaded = SalienceModel.load(path)
    words = word_features([("khẩn", "cấp"), ("bình", "thường")])
    structural = np.ones((2, len(STRUCTURAL)))
    np.testing.assert_allclose(
        loaded.score(words, structural), model.score(words, structural), atol=1e-3
    )
    np.savez(
        tmp_path / "other.npz", hash_dim=np.array(HASH_DIM // 2), structural=np.array(STRUCTURAL)
    )
    with pytest.raises(ValueError, match="another feature layout"):
        SalienceModel.load(tmp_path / "other.npz")


def test_word_features_are_unit_rows_and_case_blind() -> None:
    rows = word_features([("Chiều", "nay", "tỉnh"), ("chiều", "nay", "tỉnh"), ()])
    dense = rows.toarray()
    np.testing.assert_allclose(dense[0], dense[1])
    assert np.linalg.norm(dense[0]) == pytest.approx(1.0)
    assert not dense[2].any()


def test_shipped_weights_load_and_serve_by_default() -> None:
    assert SHIPPED_WEIGHTS.exists()
    model = shipped_model()
    assert model is not None and model.word_weights.shape == (HASH_DIM,)
    assert np.abs(model.word_weights).max() > 0
    assert ExtractiveSummarizer().salience is model
    assert ExtractiveSummarizer(salience=False).salience is None


def test_a_headline_pulls_its_sentence_up_under_the_learned_scorer() -> None:
    neutral = SalienceModel(
        word_weights=np.zeros(HASH_DIM, dtype=np.float32),
        structural_weights=np.zeros(len(STRUCTURAL)),
        structural_mean=np.zeros(len(STRUCTURAL)),
        structural_std=np.ones(len(STRUCTURAL)),
    )
    text = "Sơ tán khẩn cấp dân cư ven biển\n" + _article(key_at=3)
    summary = ExtractiveSummarizer(salience=neutral).summarize(text, max_words=20).text
    assert summary == _KEY


def test_a_text_that_fits_the_budget_keeps_every_sentence() -> None:
    # The learned scores are an order only: the weakest sentence is not dropped by a ratio.
    text = (
        "Miền Bắc đón đợt không khí lạnh mạnh từ đêm nay. Nhiệt độ vùng núi xuống 8 độ. "
        "Người dân được khuyến cáo giữ ấm."
    )
    summary = ExtractiveSummarizer().summarize(text, max_words=80).text
    assert summary == text
    # A question that matches nothing falls back to the learned order, with the same rule.
    unmatched = ExtractiveSummarizer().summarize(text, question="xyz qwv?", max_words=80)
    assert unmatched.text == text

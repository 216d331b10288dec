"""Diacritics restoration from syllable statistics."""

from models.diacritics import DiacriticRestorer, counts_from_texts
from models.vietnamese import has_diacritics, strip_diacritics

CORPUS = [
    "Bí thư Tỉnh ủy yêu cầu Công an tỉnh nắm chắc tình hình.",
    "Bí thư Tỉnh ủy làm việc với Công an tỉnh về an ninh mạng.",
    "Thời tiết hôm nay đẹp, trời không mưa.",
    "Tỉnh đã đầu tư vào cầu đường.",
]


def test_restores_a_question_typed_without_accents():
    restorer = DiacriticRestorer(*counts_from_texts(CORPUS))
    assert restorer.restore("bi thu tinh uy yeu cau gi?") == "bí thư tỉnh ủy yêu cầu gì?"


def test_keeps_case_punctuation_marked_and_unknown_syllables():
    restorer = DiacriticRestorer(*counts_from_texts(CORPUS))
    assert restorer.restore("Cong an tinh, xyz!") == "Công an tỉnh, xyz!"
    # A syllable typed with its marks is never changed.
    assert restorer.restore("tính hình") == "tính hình"


def test_has_diacritics():
    assert has_diacritics("Bí thư") and has_diacritics("đi")
    assert not has_diacritics("bi thu tinh uy") and not has_diacritics(strip_diacritics("Đà Nẵng"))

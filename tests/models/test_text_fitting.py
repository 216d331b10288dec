"""Two small rules that decide what a reader sees: trimming generated text to a word
budget, and mapping the sentence splitter's strings back to exact offsets."""

from __future__ import annotations

from models.summarization.seq2seq import _fit_words
from models.vietnamese import _locate, count_syllables


def test_fit_words_keeps_whole_sentences_within_the_budget():
    text = "Mưa lớn kéo dài ở miền Trung. Nhiều tuyến đường bị ngập sâu. Học sinh được nghỉ."
    assert _fit_words(text, 100) == text  # within budget: untouched
    first_two = "Mưa lớn kéo dài ở miền Trung. Nhiều tuyến đường bị ngập sâu."
    assert _fit_words(text, count_syllables(first_two)) == first_two
    assert _fit_words(text, count_syllables(first_two) + 2) == first_two  # no half sentence


def test_fit_words_cuts_a_first_sentence_longer_than_the_budget():
    text = "Mưa lớn kéo dài nhiều ngày liền ở các tỉnh miền Trung và Tây Nguyên."
    out = _fit_words(text, 5)
    assert 0 < count_syllables(out) <= 5
    assert text.startswith(out.rstrip(" .…"))


def test_locate_maps_pieces_whose_whitespace_the_tokenizer_changed():
    text = "Xin  chào\nbạn đọc. Tạm   biệt."
    spans = _locate(text, ["Xin chào bạn đọc.", "Tạm biệt."], base=100)
    assert [(s.start, s.end) for s in spans] == [(100, 118), (119, 130)]
    assert text[spans[0].start - 100 : spans[0].end - 100] == "Xin  chào\nbạn đọc."
    assert text[spans[1].start - 100 : spans[1].end - 100] == "Tạm   biệt."


def test_locate_skips_a_piece_it_cannot_find_and_keeps_going():
    text = "Câu một. Câu hai."
    spans = _locate(text, ["Câu một.", "Không có ở đây.", "Câu hai."], base=0)
    assert [text[s.start : s.end] for s in spans] == ["Câu một.", "Câu hai."]

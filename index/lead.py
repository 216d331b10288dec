"""An article's lead: the first paragraph of news prose, and a title made from it.

Pages copied from news sites often open with a photo caption, a list of the people
present ("Các đồng chí: Nguyễn Khắc Thận – Bí thư Tỉnh ủy; …"), or a subheading;
none of them says what happened. The lead is the first paragraph that is prose:
it ends like a sentence, is long enough to report something, and is not a roster
or a caption. A title made from it reads like a headline, not like a caption.
"""

from __future__ import annotations

import re

from models.vietnamese import count_syllables, strip_diacritics

#: Fewest syllables of a paragraph that reports something (a caption is shorter).
LEAD_MIN_SYLLABLES = 12
#: Fewest syllables after an attribution colon ("X cho biết: …") worth keeping alone.
_AFTER_COLON_MIN_SYLLABLES = 8

_SENTENCE_END = (".", "!", "?", "…", "”", '"', "»", ")")
_FIRST_SENTENCE_RE = re.compile(r".+?[.!?…](?=\s|$)")
# A short label and a colon opening a paragraph: "Các đồng chí:", "Ảnh:", "Tham dự:".
_LABEL_RE = re.compile(r"^[^:.!?]{1,30}:\s")
# Name – role separators (a dash before a capitalized role): a roster lists several.
_ROLE_DASH_RE = re.compile(r"\s[–—-]\s(\w)")
# Openings of attendance lists and credits (compared without diacritics, lower case).
_ROSTER_OPENINGS = (
    "ve phia",
    "tham du",
    "du buoi",
    "cung du",
    "cung tham du",
    "anh:",
    "anh minh hoa",
    "nguon:",
    "video:",
    "clip:",
)
# Attribution before a colon: what follows it is the news.
_REPORTING_RE = re.compile(
    r"\b(cho biet|khang dinh|nhan manh|thong tin|cho hay|noi|phat bieu|bao cao|yeu cau)\s*$"
)


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _first_sentence(paragraph: str) -> str:
    match = _FIRST_SENTENCE_RE.match(paragraph)
    return match.group() if match else paragraph


def is_roster_or_caption(paragraph: str) -> bool:
    """Whether ``paragraph`` lists people or credits rather than reporting news."""
    folded = strip_diacritics(paragraph).lower()
    if folded.startswith(_ROSTER_OPENINGS):
        return True
    first = _first_sentence(paragraph)
    if _LABEL_RE.match(first) and not _REPORTING_RE.search(
        strip_diacritics(first.split(":", 1)[0]).lower()
    ):
        return True
    return sum(1 for letter in _ROLE_DASH_RE.findall(first) if letter.isupper()) >= 2


def is_prose(paragraph: str) -> bool:
    """Whether ``paragraph`` ends like a sentence and is long enough to report news."""
    return paragraph.endswith(_SENTENCE_END) and count_syllables(paragraph) >= LEAD_MIN_SYLLABLES


def lead_paragraph(text: str) -> str | None:
    """The first prose paragraph that is no roster or caption (else the first one)."""
    paragraphs = _paragraphs(text)
    for paragraph in paragraphs:
        if is_prose(paragraph) and not is_roster_or_caption(paragraph):
            return paragraph
    return paragraphs[0] if paragraphs else None


def headline_sentence(paragraph: str) -> str:
    """The lead's first sentence, without an attribution ("X cho biết: ") before a colon."""
    sentence = _first_sentence(paragraph)
    head, sep, rest = sentence.partition(": ")
    if (
        sep
        and _REPORTING_RE.search(strip_diacritics(head).lower())
        and count_syllables(rest) >= _AFTER_COLON_MIN_SYLLABLES
    ):
        sentence = rest[:1].upper() + rest[1:]
    return sentence


def title_from_lead(text: str, max_syllables: int) -> str | None:
    """A title from the lead's headline sentence, cut at a word with "…" when too long."""
    lead = lead_paragraph(text)
    if not lead:
        return None
    words = headline_sentence(lead).split()
    kept: list[str] = []
    total = 0
    for word in words:
        syllables = count_syllables(word)
        if kept and total + syllables > max_syllables:
            break
        kept.append(word)
        total += syllables
    title = " ".join(kept)
    if len(kept) < len(words):
        return title.rstrip(" ,;:.–—-") + "…"
    return title.rstrip(" .") or title

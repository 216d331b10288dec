"""Defaults named once (chunk shape, IVF search): the settings, the chunker and the index
use these. (No project imports: the settings read it at start-up.)"""

from typing import Literal

# About 160-190 XLM-R tokens of Vietnamese, far below e5-small's 512 (see index/chunking.py).
DEFAULT_MAX_SYLLABLES = 120
DEFAULT_OVERLAP_SENTENCES = 1
# IVF past the exact threshold: lists probed per query and how lists hold vectors
# (half precision: float32's recall at half its memory; measured in docs/benchmarks.md).
DEFAULT_NPROBE = 256
DEFAULT_CODEC: Literal["fp16", "sq8", "flat"] = "fp16"
# A keyword query of more distinct terms than this (a pasted paragraph, not a question)
# leaves out its terms found in more than this share of the chunks: they weigh little in
# BM25 and their posting lists are the longest (measured in docs/benchmarks.md).
DEFAULT_LONG_QUERY_TERMS = 48
DEFAULT_LONG_QUERY_MAX_DF = 0.1

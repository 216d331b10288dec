"""Default chunk shape, named once: the settings, the chunker and the index use these.
(No imports: the settings read it at start-up.)"""

# About 160-190 XLM-R tokens of Vietnamese, far below e5-small's 512 (see index/chunking.py).
DEFAULT_MAX_SYLLABLES = 120
DEFAULT_OVERLAP_SENTENCES = 1

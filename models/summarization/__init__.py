"""Summaries of articles and retrieved passages: abstractive (seq2seq) or extractive."""

from models.summarization.base import GenerativeSummarizer, Summarizer, Summary
from models.summarization.extractive import ExtractiveSummarizer
from models.summarization.factory import SummarizerChoice, build_summarizer, load_seq2seq
from models.summarization.seq2seq import Seq2SeqSummarizer

__all__ = [
    "ExtractiveSummarizer",
    "Seq2SeqSummarizer",
    "GenerativeSummarizer",
    "Summarizer",
    "SummarizerChoice",
    "Summary",
    "build_summarizer",
    "load_seq2seq",
]

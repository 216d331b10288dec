"""The transformers/torch backend: any ``AutoModelForSeq2SeqLM`` checkpoint, in fp32."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from models.errors import ModelNotAvailableError
from models.summarization.generation import DecodeOptions

_END = object()


class TorchGenerator:
    """Generation with ``model.generate`` (beam search, or greedy when streaming)."""

    backend = "torch"

    def __init__(self, model: Any, pad_token_id: int, device: str = "cpu") -> None:
        """Wrap a loaded ``AutoModelForSeq2SeqLM``; ``pad_token_id`` pads batched inputs."""
        self.model = model
        self.pad_token_id = pad_token_id
        self.device = device
        self.variant = "torch-fp32"

    def generate(self, inputs: Sequence[Sequence[int]], options: DecodeOptions) -> list[list[int]]:
        """Beam search (``options.num_beams``) over a right-padded batch."""
        import torch

        input_ids, attention = self._batch(inputs)
        with torch.inference_mode():
            ids = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=options.max_new_tokens,
                min_new_tokens=min(options.min_new_tokens, options.max_new_tokens),
                num_beams=options.num_beams,
                do_sample=False,
                no_repeat_ngram_size=options.no_repeat_ngram_size,
                early_stopping=options.num_beams > 1,
            )
        return [row.tolist() for row in ids]

    def stream(self, input_ids: Sequence[int], options: DecodeOptions) -> Iterator[int]:
        """Greedy generation in a worker thread, ids handed over as they are chosen."""
        from transformers import StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        ids: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()

        class _Streamer(BaseStreamer):
            prompt_seen = False

            def put(self, value):  # noqa: ANN001
                if not self.prompt_seen:  # the first call carries the decoder start token
                    self.prompt_seen = True
                    return
                for token in value.reshape(-1).tolist():
                    ids.put(token)

            def end(self) -> None:
                ids.put(_END)

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):  # noqa: ANN001, ANN003
                return stop.is_set()

        def run() -> None:
            import torch

            try:
                batch, attention = self._batch([input_ids])
                with torch.inference_mode():
                    self.model.generate(
                        input_ids=batch,
                        attention_mask=attention,
                        max_new_tokens=options.max_new_tokens,
                        min_new_tokens=min(options.min_new_tokens, options.max_new_tokens),
                        num_beams=1,
                        do_sample=False,
                        no_repeat_ngram_size=options.no_repeat_ngram_size,
                        streamer=_Streamer(),
                        stopping_criteria=StoppingCriteriaList([_Stop()]),
                    )
            except BaseException as exc:
                ids.put(exc)
            finally:
                ids.put(_END)

        worker = threading.Thread(target=run, name="seq2seq-torch-stream", daemon=True)
        worker.start()
        try:
            while (item := ids.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()

    def _batch(self, inputs: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        import torch

        width = max(len(row) for row in inputs)
        ids = torch.full((len(inputs), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(inputs), width), dtype=torch.long)
        for i, row in enumerate(inputs):
            ids[i, : len(row)] = torch.tensor(list(row), dtype=torch.long)
            mask[i, : len(row)] = 1
        return ids.to(self.device), mask.to(self.device)


def load_torch_generator(
    source: str, *, pad_token_id: int, device: str = "cpu", local_files_only: bool = True
) -> TorchGenerator:
    """Load ``source`` (a folder or hub id) with transformers, in eval mode on ``device``.

    Raises ``ModelNotAvailableError`` when it cannot be loaded.
    """
    from transformers import AutoModelForSeq2SeqLM

    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(source, local_files_only=local_files_only)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelNotAvailableError(f"cannot load seq2seq model {source!r}: {exc}") from exc
    model.to(device)
    model.eval()
    return TorchGenerator(model, pad_token_id, device)

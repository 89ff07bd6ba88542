"""The classifier's inputs, batch by batch: token ids and the topic lexicon's scores of each length-sorted batch.

On a GPU the network is fast and the CPU side (tokenising, the lexicon's n-grams) is what limits throughput, so
there the batches are prepared by worker processes of a torch DataLoader while the network runs the ones before them
(``prep_workers`` > 0, config.prep_workers). Elsewhere they are prepared in this process, one at a time. The numbers
are the same either way: each batch's ids and lexicon scores depend on its own texts only.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from torch.utils.data import DataLoader, Dataset

PREFETCH_PER_WORKER = 4
"""Batches each worker prepares ahead of the network."""


@dataclass
class PreparedBatch:
    """One batch: the positions of its texts (in the caller's list), their token ids and attention mask, and the
    lexicon's topic probabilities (None without a lexicon)."""

    positions: np.ndarray
    input_ids: np.ndarray
    attention_mask: np.ndarray
    lexical: np.ndarray | None


class BatchInputs(Dataset):
    """Item i is the PreparedBatch of ``batches[i]`` (positions into ``texts``, the normalised texts).

    ``encode`` turns a list of texts, with the model's prefix, into (input_ids, attention_mask); ``lexicon`` (or
    None) turns normalised texts into topic probabilities.
    """

    def __init__(self, texts: Sequence[str], batches: Sequence[np.ndarray], prefix: str,
                 encode: Callable[[list[str]], tuple[np.ndarray, np.ndarray]],
                 lexicon: Callable[[list[str]], np.ndarray] | None):
        self.texts, self.batches, self.prefix = texts, batches, prefix
        self.encode, self.lexicon = encode, lexicon

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> PreparedBatch:
        positions = self.batches[i]
        chosen = [self.texts[j] for j in positions]
        input_ids, attention_mask = self.encode([self.prefix + t for t in chosen])
        lexical = self.lexicon(chosen) if self.lexicon is not None else None
        return PreparedBatch(positions, input_ids, attention_mask, lexical)


def usable_workers(requested: int, n_batches: int) -> int:
    """Worker processes worth starting: none for fewer than two batches per worker (starting them costs more than
    it saves), where processes cannot be forked (the workers share the loaded tokenizer and lexicon by fork, so
    nothing large is pickled), or in a daemonic process (a Dask worker's: it may not have children); at most one
    per batch pair."""
    if requested <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if multiprocessing.current_process().daemon:
        return 0
    return min(requested, n_batches // 2)


def prepared_batches(inputs: BatchInputs, workers: int) -> Iterator[PreparedBatch]:
    """The batches of ``inputs`` in order, prepared by ``workers`` processes (usable_workers) or in this one."""
    workers = usable_workers(workers, len(inputs))
    if workers == 0:
        for i in range(len(inputs)):
            yield inputs[i]
        return
    loader = DataLoader(inputs, batch_size=None, num_workers=workers, collate_fn=_as_is,
                        prefetch_factor=PREFETCH_PER_WORKER, multiprocessing_context="fork")
    yield from loader


def _as_is(item: PreparedBatch) -> PreparedBatch:
    """DataLoader's collate step: the batch as the worker made it (numpy arrays, no tensors)."""
    return item

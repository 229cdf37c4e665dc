"""Token windows from the shard stage's folder, for training and validation.

A window is context + 1 consecutive tokens of one shard (inputs and, shifted by one, targets); a shard
of n tokens holds (n - 1) // context of them, side by side, so each token is predicted once per epoch.
The training stream is a shuffled sequence of all windows: for epoch e, the shards come in an order
drawn from (seed, e) and the windows within each shard in an order drawn from (seed, e, shard). Window k
of the stream is therefore a pure function of (seed, k): the loader's whole state is one integer, the
number of windows consumed, which the checkpoint stores.

Each optimiser step takes the next micro_batch x accumulation x world windows; micro-step m on rank r
reads the slice starting at (m * world + r) * micro_batch. Ranks read disjoint windows, and a run on
W processes sees the same windows per step as one process accumulating W times as many micro-batches.

Shards are memory-mapped (shard.open_shard); a background thread gathers the next micro-batches into
(pinned, on GPU) int64 tensors while the model computes.
"""

from __future__ import annotations

import glob
import json
import os
import queue
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from shard.reader import ShardError, open_shard

EOT_TEXT = "<|endoftext|>"


@dataclass
class ShardSet:
    """What the trainer needs from the shard stage's folder."""

    folder: str
    train: list[str]
    val: list[str]
    tokenizer: Optional[str] = None  # tokenizer.json, when present
    vocab_size: Optional[int] = None
    eot_id: Optional[int] = None
    manifest: dict = field(default_factory=dict)


def read_shard_folder(folder: str) -> ShardSet:
    """Find the train and val shards, the tokenizer and the vocabulary size of a shard folder.

    The one place that reads manifest.json, and tolerantly: shards are listed under "splits" ({split:
    {"shards": [names]}}, as shard/ writes it), "shards" (a list of {"name"|"path"|"file", "split"}) or
    "train"/"val"; vocab_size and the <|endoftext|> id may sit at the top or under "tokenizer". Whatever the manifest leaves out is taken from the folder itself
    (train_*.bin / val_*.bin, tokenizer.json). A shard the manifest names that is missing is an error.
    """
    if not os.path.isdir(folder):
        raise ShardError(f"{folder}: shard folder not found")
    manifest_path = os.path.join(folder, "manifest.json")
    manifest: dict = {}
    if os.path.isfile(manifest_path):
        try:
            with open(manifest_path, encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            raise ShardError(f"{manifest_path}: unreadable manifest ({e})") from None
        if not isinstance(manifest, dict):
            raise ShardError(f"{manifest_path}: expected a JSON object")

    def resolve(entry) -> Optional[str]:
        name = entry if isinstance(entry, str) else next(
            (entry.get(k) for k in ("path", "name", "file", "filename") if isinstance(entry, dict) and entry.get(k)), None)
        if not name:
            return None
        path = name if os.path.isabs(name) else os.path.join(folder, name)
        if not path.endswith(".bin") and os.path.exists(path + ".bin"):
            path += ".bin"
        return path

    def add(split, entries) -> bool:
        split = {"validation": "val", "valid": "val"}.get(split, split)
        found = False
        for entry in entries if isinstance(entries, list) else []:
            path = resolve(entry)
            name_split = split or (entry.get("split") if isinstance(entry, dict) else None) \
                or os.path.basename(path or "").split("_")[0]
            name_split = {"validation": "val", "valid": "val"}.get(name_split, name_split)
            if path and name_split in splits:
                splits[name_split].append(path)
                found = True
        return found

    # The first layout that names any shard wins: {"splits": {"train": {"shards": [...]}}},
    # {"shards": [{"name", "split"}]}, {"shards": {"train": [...]}}, {"train": [...], "val": [...]}.
    splits: dict[str, list[str]] = {"train": [], "val": []}
    listed = False
    layouts = manifest.get("splits"), manifest.get("shards"), manifest
    if isinstance(layouts[0], dict):
        for split, body in layouts[0].items():
            listed |= add(split, body.get("shards") if isinstance(body, dict) else body)
    if not listed and isinstance(layouts[1], list):
        listed = add(None, layouts[1])
    if not listed and isinstance(layouts[1], dict):
        for split in ("train", "val", "validation"):
            listed |= add(split, layouts[1].get(split))
    if not listed:
        for split in ("train", "val", "validation"):
            listed |= add(split, manifest.get(split))
    if listed:
        for path in splits["train"] + splits["val"]:
            if not os.path.isfile(path):
                raise ShardError(f"{path}: shard listed in {manifest_path} not found")
    else:
        splits = {s: sorted(glob.glob(os.path.join(folder, f"{s}_*.bin"))) for s in ("train", "val")}
    if not splits["train"]:
        raise ShardError(f"{folder}: no training shards (train_*.bin)")

    tok = manifest.get("tokenizer") if isinstance(manifest.get("tokenizer"), dict) else {}

    def first_int(*candidates):
        for c in candidates:
            if isinstance(c, int) and not isinstance(c, bool):
                return c
        return None

    tokenizer = os.path.join(folder, "tokenizer.json")
    tokenizer = tokenizer if os.path.isfile(tokenizer) else None
    vocab = first_int(manifest.get("vocab_size"), tok.get("vocab_size"))
    eot = first_int(manifest.get("eot_id"), manifest.get("eot_token"), manifest.get("eos_token_id"),
                    tok.get("eot_id"), tok.get("eot_token"), tok.get("eos_token_id"))
    if tokenizer and (vocab is None or eot is None):
        info = tokenizer_info(tokenizer)
        vocab = vocab if vocab is not None else info["vocab_size"]
        eot = eot if eot is not None else info["eot_id"]
    return ShardSet(folder=folder, train=splits["train"], val=splits["val"], tokenizer=tokenizer,
                    vocab_size=vocab, eot_id=eot, manifest=manifest)


def tokenizer_info(path: str) -> dict:
    """Vocabulary size and <|endoftext|> id of a tokenizer.json, read as JSON (no tokenizers needed)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ShardError(f"{path}: unreadable tokenizer ({e})") from None
    ids = set()
    vocab = (data.get("model") or {}).get("vocab") or {}
    if isinstance(vocab, dict):
        ids.update(v for v in vocab.values() if isinstance(v, int))
    elif isinstance(vocab, list):  # Unigram: [[piece, score], ...]
        ids.update(range(len(vocab)))
    eot = vocab.get(EOT_TEXT) if isinstance(vocab, dict) else None
    for added in data.get("added_tokens") or []:
        if isinstance(added.get("id"), int):
            ids.add(added["id"])
            if added.get("content") == EOT_TEXT:
                eot = added["id"]
    return {"vocab_size": (max(ids) + 1) if ids else None, "eot_id": eot}


class TokenWindows:
    """All windows of context + 1 tokens in a list of shards, in a seeded order (or file order)."""

    def __init__(self, paths: list[str], context: int, *, seed: int = 0, shuffle: bool = True):
        self.paths = list(paths)
        self.context = context
        self.seed = seed
        self.shuffle = shuffle
        self.tokens = [open_shard(p) for p in self.paths]  # validates every header: errors name the file
        self.counts = np.array([max(0, (len(t) - 1) // context) for t in self.tokens], dtype=np.int64)
        self.total = int(self.counts.sum())
        self.token_count = int(sum(len(t) for t in self.tokens))
        self._orders: OrderedDict = OrderedDict()  # (epoch, shard) -> permutation, a few kept
        self._epoch_cache: Optional[tuple] = None

    def __len__(self) -> int:
        return self.total

    def _epoch(self, epoch: int):
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            if self.shuffle:
                order = np.random.default_rng([self.seed, epoch]).permutation(len(self.paths))
            else:
                order = np.arange(len(self.paths))
            ends = np.cumsum(self.counts[order])
            self._epoch_cache = (epoch, order, ends)
        return self._epoch_cache[1], self._epoch_cache[2]

    def _within(self, epoch: int, shard: int) -> Optional[np.ndarray]:
        if not self.shuffle:
            return None
        key = (epoch, shard)
        perm = self._orders.get(key)
        if perm is None:
            perm = np.random.default_rng([self.seed, epoch, shard, 1]).permutation(int(self.counts[shard]))
            self._orders[key] = perm
            while len(self._orders) > 8:
                self._orders.popitem(last=False)
        return perm

    def locate(self, k: int) -> tuple[int, int]:
        """Window k of the stream (any k >= 0; epochs repeat) -> (shard index, first token)."""
        if self.total == 0:
            raise ShardError(f"{len(self.paths)} shard(s) hold {self.token_count} tokens: no window of "
                             f"context {self.context} + 1 fits; lower train.context")
        epoch, j = divmod(k, self.total)
        order, ends = self._epoch(epoch)
        pos = int(np.searchsorted(ends, j, side="right"))
        shard = int(order[pos])
        i = j - (int(ends[pos - 1]) if pos else 0)
        perm = self._within(epoch, shard)
        if perm is not None:
            i = int(perm[i])
        return shard, i * self.context

    def gather(self, start: int, count: int, vocab_size: Optional[int] = None) -> np.ndarray:
        """Windows start .. start+count-1 of the stream as a (count, context + 1) int64 array."""
        return self.gather_rows(range(start, start + count), vocab_size)

    def gather_rows(self, ks, vocab_size: Optional[int] = None) -> np.ndarray:
        """The given windows of the stream as a (len(ks), context + 1) int64 array; with vocab_size, a token
        outside the vocabulary is an error naming the shard."""
        ks = list(ks)
        out = np.empty((len(ks), self.context + 1), dtype=np.int64)
        for row, k in enumerate(ks):
            shard, first = self.locate(k)
            out[row] = self.tokens[shard][first:first + self.context + 1]
            if vocab_size is not None and out[row].max() >= vocab_size:
                raise ShardError(f"{self.paths[shard]}: token id {int(out[row].max())} near offset {first} is outside "
                                 f"the model's vocabulary of {vocab_size} (shards from another tokenizer?)")
        return out


@dataclass
class Layout:
    """How one optimiser step's windows are shared out: micro_batch per forward, accum micro-steps, world ranks."""

    micro_batch: int
    accum: int
    world: int = 1
    rank: int = 0

    @property
    def windows_per_step(self) -> int:
        return self.micro_batch * self.accum * self.world

    def first_window(self, step_cursor: int, micro: int) -> int:
        return step_cursor + (micro * self.world + self.rank) * self.micro_batch


class BatchLoader:
    """Yields this rank's (inputs, targets) micro-batches from `cursor` on, prepared by a background thread.

    Batches are a pure function of (windows, layout, cursor): stopping and restarting at a step boundary
    with the saved cursor continues the exact same stream.
    """

    def __init__(self, windows: TokenWindows, layout: Layout, cursor: int = 0, *, device: str = "cpu",
                 prefetch: int = 4, vocab_size: Optional[int] = None):
        self.windows = windows
        self.layout = layout
        self.cursor = cursor  # windows consumed by the steps this loader has handed out in full
        self.device = torch.device(device)
        self.pin = self.device.type == "cuda"
        self.vocab_size = vocab_size
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
        self._stop = threading.Event()
        self._handed = 0  # micro-batches handed out
        self._thread = threading.Thread(target=self._produce, name="webtext-batches", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        step_cursor, micro = self.cursor, 0
        try:
            while not self._stop.is_set():
                start = self.layout.first_window(step_cursor, micro)
                block = torch.from_numpy(self.windows.gather(start, self.layout.micro_batch, self.vocab_size))
                item = (block[:, :-1].contiguous(), block[:, 1:].contiguous())
                if self.pin:
                    item = (item[0].pin_memory(), item[1].pin_memory())
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                micro += 1
                if micro == self.layout.accum:
                    step_cursor, micro = step_cursor + self.layout.windows_per_step, 0
        except BaseException as e:  # handed to the consumer, which re-raises it in the training loop
            self._queue.put(e)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        item = self._queue.get()
        if isinstance(item, BaseException):
            self.close()
            raise item
        self._handed += 1
        if self._handed % self.layout.accum == 0:
            self.cursor += self.layout.windows_per_step
        x, y = item
        if self.device.type != "cpu":
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
        return x, y

    def close(self) -> None:
        self._stop.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout=5)


def val_windows(windows: TokenWindows, total: int, world: int, rank: int) -> list[int]:
    """Which of the first `total` validation windows this rank evaluates (rank, rank + world, ...).
    Every rank gets as many as the others (FSDP needs the same number of forward passes on each)."""
    total = min(total, len(windows)) // world * world
    return list(range(rank, total, world))

"""Benchmark decontamination (GPT-3, appendix C) and overlap analysis (GPT-2, table 6), per document.

Benchmarks and documents are normalised alike (text.decontam_words: lower case, punctuation removed,
whitespace split) and cut into n-grams hashed to 64 bits.

- The index (`IndexParts` -> `NgramIndex`) holds every benchmark n-gram of the removal and overlap
  lengths with a bit mask of the benchmarks it occurs in: an exact sorted table, or, above
  `max_exact_ngrams`, one Bloom filter per benchmark and length at a stated false-positive rate.
  Parts are built per chunk of benchmark passages and merged, so building it is a Beam combine.
- `scan(text, index, ...)`: a document's colliding removal n-grams (with character spans) and the
  overlap n-grams it shares with each benchmark.
- `cut(text, spans, ...)`: GPT-3's rule. Each colliding n-gram is removed with `cut_chars` characters
  on each side; the document falls into pieces; a document in more than `max_pieces` pieces is
  contaminated and dropped whole; pieces under `min_piece_chars` are dropped; a document with no
  piece left is dropped. The surviving pieces are kept, in order, as one document joined by blank
  lines (ids stay stable, so every token can still be traced to its URL).
N-grams that occur in more than `max_doc_frequency` documents are common language, not leaks: the
stage counts documents per colliding n-gram and passes the frequent ones to `cut` to ignore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np

from webtext import jsonl
from webtext.detokenize import DETOKENIZERS
from webtext.errors import InputError

from dedupe import text as textlib
from dedupe.bloom import BloomFilter

PASSAGES_PER_CHUNK = 20_000


@dataclass(frozen=True)
class BenchmarkSpec:
    """What a worker needs to read one benchmark (plain data: it travels through Beam)."""

    index: int
    name: str
    path: str
    format: str  # "jsonl" | "text"
    field: str = "text"
    detokenize: Optional[str] = None  # "wikitext" | "ptb": see webtext/detokenize.py


def specs_from_config(benchmarks) -> list[BenchmarkSpec]:
    return [BenchmarkSpec(i, b.name, b.path, b.format, b.field, b.detokenize) for i, b in enumerate(benchmarks)]


def read_passages(spec: BenchmarkSpec) -> Iterator[str]:
    """The benchmark's passages (detokenised if the spec says so)."""
    passages = _raw_passages(spec)
    if spec.detokenize:
        detok = DETOKENIZERS[spec.detokenize]
        passages = (p for p in map(detok, passages) if p)
    return passages


def _raw_passages(spec: BenchmarkSpec) -> Iterator[str]:
    """The `field` of each JSON line, or each non-empty line of text."""
    for lineno, line in jsonl.iter_lines(spec.path):
        if spec.format == "jsonl":
            try:
                record = json.loads(line)
            except ValueError as e:
                raise InputError(f"{spec.path}:{lineno}: benchmark '{spec.name}': not valid JSON ({e})") from None
            value = record.get(spec.field) if isinstance(record, dict) else None
            if not isinstance(value, str):
                raise InputError(f"{spec.path}:{lineno}: benchmark '{spec.name}': no text field '{spec.field}'")
            yield value
        else:
            passage = line.decode("utf-8", "replace").strip()
            if passage:
                yield passage


def ngram_upper_bound(spec: BenchmarkSpec) -> int:
    """At most this many n-grams of any length (one per whitespace token): sizes the Bloom filters."""
    return sum(len(p.split()) for p in read_passages(spec))


def benchmark_chunks(spec: BenchmarkSpec, ns: tuple[int, ...]) -> Iterator[tuple[int, int, np.ndarray]]:
    """(n, benchmark index, unique n-gram hashes) per chunk of passages, for each length n."""
    buf: dict[int, list[np.ndarray]] = {n: [] for n in ns}
    count = 0

    def flush():
        for n in ns:
            if buf[n]:
                yield n, spec.index, textlib.sorted_unique(np.concatenate(buf[n]))
                buf[n] = []

    for passage in read_passages(spec):
        hashes = textlib.decontam_token_hashes(passage)
        for n in ns:
            grams = textlib.ngram_hashes(hashes, n)
            if len(grams):
                buf[n].append(grams)
        count += 1
        if count % PASSAGES_PER_CHUNK == 0:
            yield from flush()
    yield from flush()


# ---------------------------------------------------------------------------------------------
# The index


@dataclass
class IndexPlan:
    """Decided before the pipeline runs, from cheap upper bounds of the benchmarks' sizes."""

    names: list[str]
    ns: tuple[int, ...]
    mode: str  # "exact" | "bloom"
    capacities: dict = field(default_factory=dict)  # bloom: benchmark index -> n-gram upper bound
    fp_rate: float = 1e-6


def plan_index(specs: list[BenchmarkSpec], ns: tuple[int, ...], max_exact_ngrams: int, fp_rate: float) -> IndexPlan:
    if [s.index for s in specs] != list(range(len(specs))):
        raise ValueError("benchmark indices must be 0, 1, 2, ... in order")
    bounds = {s.index: ngram_upper_bound(s) for s in specs}
    total = sum(bounds.values()) * len(ns)
    mode = "exact" if total <= max_exact_ngrams else "bloom"
    return IndexPlan([s.name for s in specs], tuple(ns), mode, bounds, fp_rate)


class IndexParts:
    """A mergeable partial index (a Beam combiner's accumulator)."""

    def __init__(self, plan: IndexPlan):
        self.plan = plan
        self.arrays: dict[tuple[int, int], list[np.ndarray]] = {}
        self.blooms: dict[tuple[int, int], BloomFilter] = {}

    def _bloom(self, key):
        if key not in self.blooms:
            self.blooms[key] = BloomFilter(self.plan.capacities[key[1]], self.plan.fp_rate)
        return self.blooms[key]

    def add(self, n: int, bench: int, hashes: np.ndarray) -> "IndexParts":
        if self.plan.mode == "exact":
            self.arrays.setdefault((n, bench), []).append(hashes)
        else:
            self._bloom((n, bench)).add(hashes)
        return self

    def merge(self, other: "IndexParts") -> "IndexParts":
        for key, arrays in other.arrays.items():
            self.arrays.setdefault(key, []).extend(arrays)
        for key, bloom in other.blooms.items():
            if key in self.blooms:
                self.blooms[key].merge(bloom)
            else:
                self.blooms[key] = bloom
        return self

    def finish(self) -> "NgramIndex":
        plan = self.plan
        index = NgramIndex(plan.names, plan.ns, plan.mode, fp_rate=plan.fp_rate if plan.mode == "bloom" else 0.0)
        for n in plan.ns:
            counts = []
            if plan.mode == "exact":
                all_hashes, all_masks = [], []
                for b in range(len(plan.names)):
                    arrays = self.arrays.get((n, b), [])
                    uniq = textlib.sorted_unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.uint64)
                    counts.append(int(len(uniq)))
                    all_hashes.append(uniq)
                    all_masks.append(np.full(len(uniq), 1 << b, dtype=np.uint64))
                hashes = np.concatenate(all_hashes) if all_hashes else np.empty(0, dtype=np.uint64)
                masks = np.concatenate(all_masks) if all_masks else np.empty(0, dtype=np.uint64)
                order = np.argsort(hashes, kind="stable")
                hashes, masks = hashes[order], masks[order]
                if len(hashes):  # one row per distinct n-gram, its benchmarks' bits OR-ed together
                    first = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
                    hashes, masks = hashes[first], np.bitwise_or.reduceat(masks, first)
                index.tables[n] = (hashes, masks)
            else:
                blooms = []
                for b in range(len(plan.names)):
                    bloom = self.blooms.get((n, b)) or BloomFilter(plan.capacities[b], plan.fp_rate)
                    blooms.append(bloom)
                    counts.append(int(round(bloom.estimated_count())))
                index.blooms[n] = blooms
            index.distinct[n] = counts
        return index


@dataclass
class NgramIndex:
    names: list[str]
    ns: tuple[int, ...]
    mode: str
    fp_rate: float = 0.0
    tables: dict = field(default_factory=dict)  # exact: n -> (sorted hashes, benchmark masks)
    blooms: dict = field(default_factory=dict)  # bloom: n -> [BloomFilter per benchmark]
    distinct: dict = field(default_factory=dict)  # n -> [distinct n-grams per benchmark]

    def lookup(self, n: int, hashes: np.ndarray) -> np.ndarray:
        """The benchmark mask of each hash (0: in no benchmark)."""
        if len(hashes) == 0:
            return np.zeros(0, dtype=np.uint64)
        if self.mode == "exact":
            table, masks = self.tables[n]
            if len(table) == 0:
                return np.zeros(len(hashes), dtype=np.uint64)
            pos = np.minimum(np.searchsorted(table, hashes), len(table) - 1)
            return np.where(table[pos] == hashes, masks[pos], np.uint64(0))
        out = np.zeros(len(hashes), dtype=np.uint64)
        for b, bloom in enumerate(self.blooms[n]):
            out[bloom.contains(hashes)] |= np.uint64(1 << b)
        return out

    def nbytes(self) -> int:
        return (sum(t.nbytes + m.nbytes for t, m in self.tables.values())
                + sum(b.nbytes() for bl in self.blooms.values() for b in bl))


# ---------------------------------------------------------------------------------------------
# Documents


@dataclass
class Scan:
    """What a document shares with the benchmarks."""

    hashes: np.ndarray  # colliding removal n-grams, in text order
    masks: np.ndarray  # their benchmark masks
    starts: np.ndarray  # character span of each in the document
    ends: np.ndarray
    overlap: dict  # benchmark index -> sorted unique overlap n-gram hashes found in the document

    @property
    def empty(self) -> bool:
        return len(self.hashes) == 0 and not self.overlap


def bits(mask: int) -> list[int]:
    return [b for b in range(64) if mask >> b & 1]


def overlap_found(hashes: np.ndarray, masks: np.ndarray) -> dict:
    found = {}
    hit = masks != 0
    if hit.any():
        hashes, masks = hashes[hit], masks[hit]
        for b in bits(int(np.bitwise_or.reduce(masks))):
            found[b] = textlib.sorted_unique(hashes[(masks & np.uint64(1 << b)) != 0])
    return found


def overlap_of(text: str, index: NgramIndex, overlap_n: int) -> dict:
    grams = textlib.decontam_ngram_hashes(text, overlap_n)
    return overlap_found(grams, index.lookup(overlap_n, grams))


def scan(text: str, index: NgramIndex, removal_n: int, overlap_n: int) -> Scan:
    token_hashes, starts, ends = textlib.decontam_tokens(text)
    grams = textlib.ngram_hashes(token_hashes, removal_n)
    masks = index.lookup(removal_n, grams)
    if overlap_n == removal_n:
        found = overlap_found(grams, masks)
    else:
        ograms = textlib.ngram_hashes(token_hashes, overlap_n)
        found = overlap_found(ograms, index.lookup(overlap_n, ograms))
    hit = np.flatnonzero(masks)
    return Scan(grams[hit], masks[hit], starts[hit], ends[hit + removal_n - 1], found)


@dataclass
class CutResult:
    action: str  # "keep" (no collision left), "cut" (pieces kept), "drop" (contaminated)
    text: str
    benchmark: Optional[int] = None  # the benchmark blamed for a drop: most collisions, then first listed
    benchmarks: list = field(default_factory=list)  # every benchmark a counted collision came from
    collisions: int = 0
    pieces: int = 0
    pieces_kept: int = 0
    chars_removed: int = 0
    why: str = ""


def cut(text: str, found: Scan, frequent: frozenset, *, cut_chars: int, min_piece_chars: int,
        max_pieces: int) -> CutResult:
    """GPT-3's removal rule over the document's colliding n-grams that are not frequent."""
    keep = np.array([int(h) not in frequent for h in found.hashes], dtype=bool)
    if not keep.any():
        return CutResult("keep", text)
    masks = found.masks[keep]
    per_bench: dict[int, int] = {}
    for m in masks.tolist():
        for b in bits(m):
            per_bench[b] = per_bench.get(b, 0) + 1
    blamed = min(per_bench, key=lambda b: (-per_bench[b], b))
    result = CutResult("cut", text, blamed, sorted(per_bench), int(keep.sum()))

    windows: list[list[int]] = []
    for s, e in sorted(zip(found.starts[keep].tolist(), found.ends[keep].tolist())):
        lo, hi = max(0, s - cut_chars), min(len(text), e + cut_chars)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    pieces, pos = [], 0
    for lo, hi in windows:
        if lo > pos:
            pieces.append(text[pos:lo])
        pos = hi
    if pos < len(text):
        pieces.append(text[pos:])
    result.pieces = len(pieces)
    if len(pieces) > max_pieces:
        result.action, result.text, result.why = "drop", text, f"cut into {len(pieces)} pieces (> {max_pieces})"
        return result
    kept = [p for p in pieces if len(p) >= min_piece_chars]
    result.pieces_kept = len(kept)
    if not kept:
        result.action, result.text, result.why = "drop", text, f"no piece of {min_piece_chars}+ characters left"
        return result
    result.text = "\n\n".join(p.strip() for p in kept)
    result.chars_removed = len(text) - sum(len(p) for p in kept)
    return result

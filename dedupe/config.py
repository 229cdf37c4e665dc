"""The `dedupe:` block of pipeline.yaml.

Defaults are the recipe: exact duplicates by a hash of normalised text, then near duplicates by
MinHash (128 permutations over word 5-gram shingles) at Jaccard 0.8, then GPT-3's 13-gram
decontamination against the benchmarks named in `decontamination.benchmarks`, with GPT-2's 8-gram
overlap analysis before and after. The benchmark list has no built-in default (paths depend on where
the evaluation sets live); pipeline.yaml names GPT-2's evaluation sets.
"""

from dataclasses import dataclass, field
from typing import Literal, Optional

from webtext.schema import path_field


@dataclass
class Benchmark:
    """One evaluation set whose n-grams must not leak into the training corpus."""

    # Short name used in reasons (`contaminated:<name>`) and in contamination.json.
    name: str
    # The file: JSON lines (one example per line, text under `field`) or plain text (one passage a line).
    path: str = path_field(kind="file")
    format: Literal["jsonl", "text"] = "text"
    # For format jsonl: the key holding the text.
    field: str = "text"
    # Files shipped tokenised ("did n't", "guest @-@ starring"): `wikitext` or `ptb` turns each
    # passage back into ordinary text before indexing (webtext/detokenize.py), as a web page quoting
    # it would write it; otherwise those n-grams never match a copy on the web. null: as written.
    detokenize: Optional[Literal["wikitext", "ptb"]] = None

    def check(self):
        if not self.name or not all(c.isalnum() or c in "_-." for c in self.name):
            yield "name", "must be a non-empty name of letters, digits, '_', '-' or '.'"


@dataclass
class Decontamination:
    """Benchmark n-gram decontamination (GPT-3, appendix C) and overlap analysis (GPT-2, table 6)."""

    # Evaluation sets to decontaminate against; empty = no decontamination (contamination.json says so).
    benchmarks: list[Benchmark] = field(default_factory=list)
    # Removal: a document sharing an n-gram of this length with a benchmark is cut around it (GPT-3: 13).
    removal_ngram: int = 13
    # Overlap analysis: share of each benchmark's n-grams of this length found in the corpus (GPT-2: 8).
    overlap_ngram: int = 8
    # Characters removed on each side of a colliding n-gram (GPT-3: 200).
    cut_chars: int = 200
    # Pieces shorter than this many characters are dropped after cutting (GPT-3: 200).
    min_piece_chars: int = 200
    # A document cut into more pieces than this is removed whole as contaminated (GPT-3: 10).
    max_pieces: int = 10
    # An n-gram found in more than this many (deduplicated) documents is ignored: it is common
    # language, not a leak (GPT-3: 10).
    max_doc_frequency: int = 10
    # Benchmark n-grams (of both lengths, all benchmarks) kept as an exact sorted hash table up to this
    # many (16 bytes each); beyond it, one Bloom filter per benchmark takes its place.
    max_exact_ngrams: int = 50_000_000
    # False-positive rate the Bloom filters are sized for (reported in contamination.json).
    bloom_false_positive_rate: float = 1e-6

    def check(self):
        names = [b.name for b in self.benchmarks]
        for name in sorted({n for n in names if names.count(n) > 1}):
            yield "benchmarks", f"benchmark name '{name}' is used more than once"
        if len(self.benchmarks) > 64:
            yield "benchmarks", "at most 64 benchmarks"
        for key in ("removal_ngram", "overlap_ngram"):
            if getattr(self, key) < 1:
                yield key, "must be at least 1"
        for key in ("cut_chars", "min_piece_chars", "max_pieces", "max_doc_frequency"):
            if getattr(self, key) < 0:
                yield key, "must not be negative"
        if self.max_exact_ngrams < 0:
            yield "max_exact_ngrams", "must not be negative"
        if not 0.0 < self.bloom_false_positive_rate < 0.5:
            yield "bloom_false_positive_rate", "must be between 0 and 0.5"


@dataclass
class Config:
    """Exact and near-duplicate removal, then benchmark decontamination."""

    # Near-duplicate threshold: documents whose word-shingle sets have Jaccard >= this are duplicates.
    threshold: float = 0.8
    # Words per shingle (a "word" is a run of letters/digits; each CJK/Thai/... character is one).
    shingle_size: int = 5
    # MinHash permutations (datasketch); the estimate's standard error is sqrt(J(1-J)/num_perm).
    num_perm: int = 128
    # LSH bands and rows come from datasketch's optimal-parameter search run for this similarity, set
    # below `threshold` so that pairs just above `threshold` become candidates with high probability
    # (b=20, r=6 for the defaults: a pair at Jaccard 0.8 is a candidate with probability 0.998).
    lsh_threshold: float = 0.7
    # Weight of false negatives in that search (false positives weigh 1 - this): recall first, since
    # every candidate is verified.
    lsh_false_negative_weight: float = 0.9
    # Set both to override the search.
    bands: Optional[int] = None
    rows: Optional[int] = None
    # Candidates whose estimated Jaccard is within this many standard errors of `threshold` are
    # decided by the exact Jaccard of their shingle sets; the rest by the estimate.
    exact_check_sigmas: float = 3.0
    # Rounds of large-star/small-star contraction for connected components; whatever is left
    # unconverged after them (usually nothing) is finished by a union-find over the leftover edges.
    component_rounds: int = 4
    # Output files: documents, rejects and clusters are each written as this many shards.
    doc_shards: int = 16
    reject_shards: int = 4
    cluster_shards: int = 2
    decontamination: Decontamination = field(default_factory=Decontamination)

    def check(self):
        if not 0.0 < self.threshold <= 1.0:
            yield "threshold", "must be in (0, 1]"
        if not 0.0 < self.lsh_threshold <= 1.0:
            yield "lsh_threshold", "must be in (0, 1]"
        if not 0.0 < self.lsh_false_negative_weight < 1.0:
            yield "lsh_false_negative_weight", "must be between 0 and 1"
        if self.shingle_size < 1:
            yield "shingle_size", "must be at least 1"
        if not 1 <= self.num_perm <= 4096:
            yield "num_perm", "must be between 1 and 4096"
        if (self.bands is None) != (self.rows is None):
            yield "bands", "set both bands and rows, or neither (datasketch then chooses them)"
        elif self.bands is not None and (self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm):
            yield "bands", f"bands >= 1, rows >= 1 and bands * rows <= num_perm ({self.num_perm})"
        if self.exact_check_sigmas < 0:
            yield "exact_check_sigmas", "must not be negative"
        if self.component_rounds < 0:
            yield "component_rounds", "must not be negative"
        for key in ("doc_shards", "reject_shards", "cluster_shards"):
            if getattr(self, key) < 1:
                yield key, "must be at least 1"
